//! Feature hashing: a text's features counted into 2^bits signed buckets,
//! then weighted (sublinear term frequency, optionally inverse document
//! frequency) and scaled to unit length.
//!
//! A feature's bucket is the top `bits` bits of its finalised hash and its
//! sign the lowest bit ([`crate::hashing::bucket_and_sign`]); a bucket's
//! count is the sum of the signs of the features that fall into it, so
//! colliding features cancel on average rather than add up. The weight of a
//! non-zero count `c` is `sign(c) · (1 + ln |c|)` with sublinear TF (a word
//! said ten times is not ten times the evidence) or `c` without, times the
//! bucket's IDF when the model learnt one; the vector is then divided by its
//! Euclidean length so that long and short texts score on one scale.
//!
//! Counting uses a small open-addressing table reused from text to text:
//! its size follows the number of distinct buckets of the text (at most
//! 2^bits), so scoring allocates nothing once warm.

use crate::hashing::bucket_and_sign;
use crate::limits::{CHAR_NGRAM_MAX, HASH_BITS_MAX, HASH_BITS_MIN, TEXT_BYTES_MAX, WORD_NGRAM_MAX};
use crate::text::{FeatureSink, TokenScratch, Tokenizer};
use crate::ClassifierError;

/// Which features a model reads from a text and how they are weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureConfig {
    /// The feature space holds 2^`hash_bits` buckets.
    pub hash_bits: u8,
    /// The longest word n-gram: 1 (words), 2 (and pairs) or 3.
    pub word_ngrams: u8,
    /// Character n-gram lengths `min..=max` within tokens, or `None`.
    pub char_ngrams: Option<(u8, u8)>,
    /// Weigh counts as `1 + ln(count)` rather than `count`.
    pub sublinear_tf: bool,
    /// Learn inverse document frequencies in training and weigh by them.
    pub idf: bool,
    /// Read a leading e-mail header block as fields ([`crate::text`]).
    pub email_headers: bool,
}

impl Default for FeatureConfig {
    /// The configuration chosen on the SpamAssassin and SMS corpora (see
    /// BENCHMARKS.md): 2^18 buckets, words and word pairs, character 2- to
    /// 4-grams, sublinear TF with IDF, e-mail headers as fields.
    fn default() -> Self {
        Self {
            hash_bits: 18,
            word_ngrams: 2,
            char_ngrams: Some((2, 4)),
            sublinear_tf: true,
            idf: true,
            email_headers: true,
        }
    }
}

impl FeatureConfig {
    /// Checks every field against the limits, naming the first at fault.
    pub fn validate(&self) -> Result<(), ClassifierError> {
        if !(HASH_BITS_MIN..=HASH_BITS_MAX).contains(&self.hash_bits) {
            return Err(ClassifierError::invalid(
                "hash_bits",
                format!(
                    "must be from {HASH_BITS_MIN} to {HASH_BITS_MAX}, not {}",
                    self.hash_bits
                ),
            ));
        }
        if !(1..=WORD_NGRAM_MAX).contains(&self.word_ngrams) {
            return Err(ClassifierError::invalid(
                "word_ngrams",
                format!(
                    "must be from 1 to {WORD_NGRAM_MAX}, not {}",
                    self.word_ngrams
                ),
            ));
        }
        if let Some((min, max)) = self.char_ngrams {
            if min < 2 || min > max || max > CHAR_NGRAM_MAX {
                return Err(ClassifierError::invalid(
                    "char_ngrams",
                    format!("must be MIN..=MAX with 2 <= MIN <= MAX <= {CHAR_NGRAM_MAX}, not {min}..={max}"),
                ));
            }
        }
        Ok(())
    }

    /// The number of buckets.
    pub fn buckets(&self) -> usize {
        1usize << self.hash_bits
    }

    pub(crate) fn tokenizer(&self) -> Tokenizer {
        Tokenizer {
            word_ngrams: self.word_ngrams,
            char_ngrams: self.char_ngrams,
            email_headers: self.email_headers,
        }
    }

    /// The weight of a bucket whose signed count is `count` (not zero).
    #[inline(always)]
    pub(crate) fn term_weight(&self, count: f32) -> f32 {
        if self.sublinear_tf && count.abs() != 1.0 {
            // Most counts are ±1, whose weight is themselves: no logarithm.
            count.signum() * (1.0 + count.abs().ln())
        } else {
            count
        }
    }
}

/// Checks that a text is within [`TEXT_BYTES_MAX`].
pub fn check_text(text: &str) -> Result<(), ClassifierError> {
    if text.len() > TEXT_BYTES_MAX {
        return Err(ClassifierError::TextTooLong {
            bytes: text.len(),
            max: TEXT_BYTES_MAX,
        });
    }
    Ok(())
}

/// Counts the features of texts into buckets; reusable from text to text.
#[derive(Debug)]
pub(crate) struct Featurizer {
    config: FeatureConfig,
    tokenizer: Tokenizer,
    table: BucketTable,
    scratch: TokenScratch,
}

impl Featurizer {
    /// A featurizer for a configuration already validated.
    pub(crate) fn new(config: FeatureConfig) -> Self {
        Self {
            config,
            tokenizer: config.tokenizer(),
            table: BucketTable::default(),
            scratch: TokenScratch::default(),
        }
    }

    /// Counts `text` into the table: afterwards [`Featurizer::counts`] holds
    /// each touched bucket with its signed count, in first-seen order.
    pub(crate) fn count(&mut self, text: &str) -> Result<(), ClassifierError> {
        check_text(text)?;
        self.table.clear();
        let mut sink = CountingSink {
            table: &mut self.table,
            bits: self.config.hash_bits,
        };
        self.tokenizer.run(text, &mut sink, &mut self.scratch);
        Ok(())
    }

    /// Counts `text` like [`Featurizer::count`] and passes every feature's
    /// bucket, kind and name to `names`.
    pub(crate) fn count_named(
        &mut self,
        text: &str,
        names: &mut dyn FnMut(u32, crate::FeatureKind, &str),
    ) -> Result<(), ClassifierError> {
        check_text(text)?;
        self.table.clear();
        let mut sink = NamingSink {
            counting: CountingSink {
                table: &mut self.table,
                bits: self.config.hash_bits,
            },
            names,
        };
        self.tokenizer.run(text, &mut sink, &mut self.scratch);
        Ok(())
    }

    /// The buckets the last text touched, with their signed counts.
    pub(crate) fn counts(&self) -> &[(u32, f32)] {
        &self.table.entries
    }
}

struct CountingSink<'a> {
    table: &'a mut BucketTable,
    bits: u8,
}

impl FeatureSink for CountingSink<'_> {
    #[inline(always)]
    fn feature(&mut self, hash: u64) {
        let (bucket, sign) = bucket_and_sign(hash, self.bits);
        self.table.add(bucket, sign);
    }
}

struct NamingSink<'a, 'n> {
    counting: CountingSink<'a>,
    names: &'n mut dyn FnMut(u32, crate::FeatureKind, &str),
}

impl FeatureSink for NamingSink<'_, '_> {
    const NAMES: bool = true;

    fn feature(&mut self, hash: u64) {
        self.counting.feature(hash);
    }

    fn name(&mut self, hash: u64, kind: crate::FeatureKind, name: &str) {
        let (bucket, _) = bucket_and_sign(hash, self.counting.bits);
        (self.names)(bucket, kind, name);
    }
}

/// Open addressing from bucket to its place in `entries`. Slots carry the
/// stamp of the text that filled them, so clearing is one increment.
#[derive(Debug, Default)]
struct BucketTable {
    /// (stamp, index into `entries`); a slot with an old stamp is empty.
    slots: Vec<(u32, u32)>,
    stamp: u32,
    entries: Vec<(u32, f32)>,
}

use crate::limits::TABLE_SLOTS_MIN;

impl BucketTable {
    fn clear(&mut self) {
        self.entries.clear();
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            // After 2^32 texts: forget every stamp.
            self.slots.iter_mut().for_each(|slot| *slot = (0, 0));
            self.stamp = 1;
        }
    }

    #[inline(always)]
    fn add(&mut self, bucket: u32, sign: f32) {
        if (self.entries.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut slot = bucket as usize & mask;
        loop {
            let (stamp, index) = self.slots[slot];
            if stamp != self.stamp {
                self.slots[slot] = (self.stamp, self.entries.len() as u32);
                self.entries.push((bucket, sign));
                return;
            }
            let entry = &mut self.entries[index as usize];
            if entry.0 == bucket {
                entry.1 += sign;
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Doubles the slots (the load stays at most one half) and re-inserts.
    #[cold]
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(TABLE_SLOTS_MIN);
        self.slots = vec![(0, 0); size];
        self.stamp = 1;
        let mask = size - 1;
        for (index, &(bucket, _)) in self.entries.iter().enumerate() {
            let mut slot = bucket as usize & mask;
            while self.slots[slot].0 == self.stamp {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = (self.stamp, index as u32);
        }
    }
}

/// A text's weighted, unit-length feature vector, as training holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SparseVector {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

/// Weighs `counts` (sublinear TF, IDF) and scales them to unit length,
/// appending to `out`. Buckets whose signs cancelled to zero are dropped.
pub(crate) fn weigh(
    config: &FeatureConfig,
    counts: &[(u32, f32)],
    idf: Option<&[f32]>,
    out: &mut SparseVector,
) {
    let start = out.values.len();
    let mut norm = 0.0f64;
    for &(bucket, count) in counts {
        if count == 0.0 {
            continue;
        }
        let mut value = config.term_weight(count);
        if let Some(idf) = idf {
            value *= idf[bucket as usize];
        }
        norm += f64::from(value) * f64::from(value);
        out.indices.push(bucket);
        out.values.push(value);
    }
    if norm > 0.0 {
        let scale = (1.0 / norm.sqrt()) as f32;
        out.values[start..].iter_mut().for_each(|v| *v *= scale);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(config: FeatureConfig, text: &str) -> SparseVector {
        let mut featurizer = Featurizer::new(config);
        featurizer.count(text).unwrap();
        let mut out = SparseVector::default();
        weigh(&config, featurizer.counts(), None, &mut out);
        out
    }

    #[test]
    fn vectors_have_unit_length() {
        let v = vector(
            FeatureConfig::default(),
            "Win a FREE prize, call now! Free free free.",
        );
        let norm: f64 = v.values.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
        assert!((norm - 1.0).abs() < 1e-6, "{norm}");
    }

    #[test]
    fn sublinear_tf_dampens_repeats() {
        let config = FeatureConfig {
            char_ngrams: None,
            word_ngrams: 1,
            idf: false,
            ..FeatureConfig::default()
        };
        let mut featurizer = Featurizer::new(config);
        featurizer.count("free free free free offer").unwrap();
        let counts: Vec<f32> = featurizer.counts().iter().map(|c| c.1.abs()).collect();
        assert_eq!(counts, vec![4.0, 1.0]);
        let v = vector(config, "free free free free offer");
        let ratio = v.values[0].abs() / v.values[1].abs();
        assert!((ratio - (1.0 + 4f32.ln())).abs() < 1e-5, "{ratio}");
        let raw = vector(
            FeatureConfig {
                sublinear_tf: false,
                ..config
            },
            "free free free free offer",
        );
        assert!((raw.values[0].abs() / raw.values[1].abs() - 4.0).abs() < 1e-5);
    }

    #[test]
    fn the_table_grows_and_clears() {
        let config = FeatureConfig {
            hash_bits: 20,
            char_ngrams: None,
            word_ngrams: 1,
            ..FeatureConfig::default()
        };
        let mut featurizer = Featurizer::new(config);
        let text: String = (0..5_000).map(|i| format!("w{i} ")).collect();
        featurizer.count(&text).unwrap();
        let distinct = featurizer.counts().len();
        // 5,000 words in 2^20 buckets: a handful of collisions at most.
        assert!((4_980..=5_000).contains(&distinct), "{distinct}");
        featurizer.count("one two").unwrap();
        assert_eq!(featurizer.counts().len(), 2);
    }

    #[test]
    fn texts_at_the_limit_are_read_and_one_byte_more_is_refused() {
        let mut featurizer = Featurizer::new(FeatureConfig::default());
        let at_limit = "a".repeat(TEXT_BYTES_MAX);
        assert!(featurizer.count(&at_limit).is_ok());
        let over = "a".repeat(TEXT_BYTES_MAX + 1);
        let error = featurizer.count(&over).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "text: is {} bytes, more than the {TEXT_BYTES_MAX} allowed",
                TEXT_BYTES_MAX + 1
            )
        );
    }

    #[test]
    fn configurations_are_checked() {
        assert!(FeatureConfig::default().validate().is_ok());
        let bad = [
            (
                FeatureConfig {
                    hash_bits: HASH_BITS_MIN - 1,
                    ..FeatureConfig::default()
                },
                "hash_bits",
            ),
            (
                FeatureConfig {
                    hash_bits: HASH_BITS_MAX + 1,
                    ..FeatureConfig::default()
                },
                "hash_bits",
            ),
            (
                FeatureConfig {
                    word_ngrams: 0,
                    ..FeatureConfig::default()
                },
                "word_ngrams",
            ),
            (
                FeatureConfig {
                    word_ngrams: WORD_NGRAM_MAX + 1,
                    ..FeatureConfig::default()
                },
                "word_ngrams",
            ),
            (
                FeatureConfig {
                    char_ngrams: Some((1, 3)),
                    ..FeatureConfig::default()
                },
                "char_ngrams",
            ),
            (
                FeatureConfig {
                    char_ngrams: Some((4, 3)),
                    ..FeatureConfig::default()
                },
                "char_ngrams",
            ),
            (
                FeatureConfig {
                    char_ngrams: Some((3, CHAR_NGRAM_MAX + 1)),
                    ..FeatureConfig::default()
                },
                "char_ngrams",
            ),
        ];
        for (config, field) in bad {
            let error = config.validate().unwrap_err().to_string();
            assert!(error.starts_with(&format!("{field}:")), "{error}");
        }
        for bits in [HASH_BITS_MIN, HASH_BITS_MAX] {
            assert!(FeatureConfig {
                hash_bits: bits,
                ..FeatureConfig::default()
            }
            .validate()
            .is_ok());
        }
    }
}
