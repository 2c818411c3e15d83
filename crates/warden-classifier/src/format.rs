//! The model's bytes: a versioned, checksummed, compact binary form.
//!
//! ```text
//! magic         8 bytes   "WARDENCL"
//! version       u16       FORMAT_VERSION
//! length        u32       bytes of the payload
//! checksum      u64       finalize(fnv1a_64(payload)), against corruption
//! payload:
//!   kind        u8        0 logistic regression, 1 linear SVM
//!   hash_bits   u8
//!   word_ngrams u8
//!   char min    u8        0 when there are no character n-grams
//!   char max    u8
//!   flags       u8        1 sublinear TF, 2 IDF, 4 e-mail headers
//!   positive    u16 length + UTF-8
//!   negative    u16 length + UTF-8
//!   bias        f32
//!   slope       f64       calibration
//!   intercept   f64
//!   summary     documents u64, positives u64, validation u64, epochs u32,
//!               regularisation f64, seed u64, positive weight f64,
//!               negative weight f64, converged u8
//!   weights     u32 count, then per non-zero weight in increasing bucket
//!               order: the gap from the previous bucket (LEB128) and the
//!               f32
//!   idf         (only with the IDF flag) the default f32 (buckets no
//!               training text touched), u32 count, then the other buckets
//!               as gap + f32
//! ```
//!
//! Numbers are little-endian. Values are stored as their exact bits, so a
//! model read back scores identically. Reading checks everything — magic,
//! version, length, checksum, every field against the limits, buckets in
//! range and increasing, values finite, nothing left over — and refuses
//! with the reason rather than build a model that could misbehave. The
//! checksum detects corruption, not tampering: the store keeps models
//! where only administrators write.

use crate::features::FeatureConfig;
use crate::hashing::{finalize, fnv1a_64};
use crate::limits::{LABEL_BYTES_MAX, MODEL_BYTES_MAX};
use crate::model::{Calibration, Labels, Model, ModelKind, TrainingSummary};
use crate::ClassifierError;

/// The first bytes of every model.
pub const MAGIC: &[u8; 8] = b"WARDENCL";

/// The version of the layout this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;

const HEADER_BYTES: usize = 8 + 2 + 4 + 8;

const FLAG_SUBLINEAR: u8 = 1;
const FLAG_IDF: u8 = 2;
const FLAG_EMAIL_HEADERS: u8 = 4;

impl Model {
    /// The model's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(64 + self.non_zero_weights() * 6);
        payload.push(match self.kind {
            ModelKind::LogisticRegression => 0,
            ModelKind::LinearSvm => 1,
        });
        let f = &self.features;
        payload.push(f.hash_bits);
        payload.push(f.word_ngrams);
        let (min, max) = f.char_ngrams.unwrap_or((0, 0));
        payload.push(min);
        payload.push(max);
        let mut flags = 0;
        if f.sublinear_tf {
            flags |= FLAG_SUBLINEAR;
        }
        if f.idf {
            flags |= FLAG_IDF;
        }
        if f.email_headers {
            flags |= FLAG_EMAIL_HEADERS;
        }
        payload.push(flags);
        for label in [self.labels.positive(), self.labels.negative()] {
            // Labels are at most LABEL_BYTES_MAX (64) bytes: they fit a u16.
            payload.extend_from_slice(&(label.len() as u16).to_le_bytes());
            payload.extend_from_slice(label.as_bytes());
        }
        payload.extend_from_slice(&self.bias.to_le_bytes());
        payload.extend_from_slice(&self.calibration.slope.to_le_bytes());
        payload.extend_from_slice(&self.calibration.intercept.to_le_bytes());
        let s = &self.summary;
        payload.extend_from_slice(&s.documents.to_le_bytes());
        payload.extend_from_slice(&s.positives.to_le_bytes());
        payload.extend_from_slice(&s.validation_documents.to_le_bytes());
        payload.extend_from_slice(&s.epochs.to_le_bytes());
        payload.extend_from_slice(&s.regularisation.to_le_bytes());
        payload.extend_from_slice(&s.seed.to_le_bytes());
        payload.extend_from_slice(&s.class_weights.0.to_le_bytes());
        payload.extend_from_slice(&s.class_weights.1.to_le_bytes());
        payload.push(u8::from(s.converged));
        let weights: Vec<f32> = self.weights().collect();
        write_sparse(&mut payload, &weights, 0.0);
        if let Some(idf) = self.idf() {
            let idf: Vec<f32> = idf.collect();
            let default = default_idf(&idf);
            payload.extend_from_slice(&default.to_le_bytes());
            write_sparse(&mut payload, &idf, default);
        }
        let mut bytes = Vec::with_capacity(HEADER_BYTES + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        // At most 2^20 weights and 2^20 IDF values of at most 8 bytes each:
        // the payload is far below 4 GiB.
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&checksum(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        bytes
    }

    /// Reads a model from its bytes, checking everything.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ClassifierError> {
        if bytes.len() > MODEL_BYTES_MAX {
            return Err(format_error(format!(
                "is {} bytes, more than the {MODEL_BYTES_MAX} a model may take",
                bytes.len()
            )));
        }
        if bytes.len() < HEADER_BYTES || &bytes[..8] != MAGIC {
            return Err(format_error("is not a Warden classifier model (bad magic)"));
        }
        let mut header = Reader::new(&bytes[8..HEADER_BYTES]);
        let version = header.u16()?;
        if version != FORMAT_VERSION {
            return Err(format_error(format!(
                "has format version {version}; this Warden reads version {FORMAT_VERSION}"
            )));
        }
        let length = header.u32()? as usize;
        let expected = header.u64()?;
        let payload = &bytes[HEADER_BYTES..];
        if payload.len() != length {
            return Err(format_error(format!(
                "is truncated or padded: the header says {length} payload bytes, there are {}",
                payload.len()
            )));
        }
        if checksum(payload) != expected {
            return Err(format_error("checksum mismatch: the bytes are corrupt"));
        }
        read_payload(payload)
    }
}

fn read_payload(payload: &[u8]) -> Result<Model, ClassifierError> {
    let mut r = Reader::new(payload);
    let kind = match r.u8()? {
        0 => ModelKind::LogisticRegression,
        1 => ModelKind::LinearSvm,
        other => return Err(format_error(format!("unknown model kind {other}"))),
    };
    let features = read_features(&mut r)?;
    let positive = r.label()?;
    let negative = r.label()?;
    let labels = Labels::new(&positive, &negative)
        .map_err(|error| format_error(format!("bad labels: {error}")))?;
    let bias = r.finite_f32("bias")?;
    let calibration = Calibration {
        slope: r.finite_f64("calibration slope")?,
        intercept: r.finite_f64("calibration intercept")?,
    };
    let summary = read_summary(&mut r)?;
    let buckets = features.buckets();
    let weights = read_sparse(&mut r, buckets, 0.0, "weights")?;
    let idf = if features.idf {
        let default = r.finite_f32("default idf")?;
        Some(read_sparse(&mut r, buckets, default, "idf")?)
    } else {
        None
    };
    if !r.is_empty() {
        return Err(format_error(format!(
            "{} unexpected bytes after the model",
            r.remaining()
        )));
    }
    Ok(Model::from_parts(
        kind,
        features,
        labels,
        &weights,
        idf.as_deref(),
        bias,
        calibration,
        summary,
    ))
}

/// The feature configuration: hash bits, word n-grams, character n-grams and flags.
fn read_features(r: &mut Reader<'_>) -> Result<FeatureConfig, ClassifierError> {
    let hash_bits = r.u8()?;
    let word_ngrams = r.u8()?;
    let (min, max) = (r.u8()?, r.u8()?);
    let flags = r.u8()?;
    if flags & !(FLAG_SUBLINEAR | FLAG_IDF | FLAG_EMAIL_HEADERS) != 0 {
        return Err(format_error(format!("unknown feature flags {flags:#04x}")));
    }
    let features = FeatureConfig {
        hash_bits,
        word_ngrams,
        char_ngrams: (min != 0 || max != 0).then_some((min, max)),
        sublinear_tf: flags & FLAG_SUBLINEAR != 0,
        idf: flags & FLAG_IDF != 0,
        email_headers: flags & FLAG_EMAIL_HEADERS != 0,
    };
    features
        .validate()
        .map_err(|error| format_error(format!("bad feature configuration: {error}")))?;
    Ok(features)
}

/// How the model was trained.
fn read_summary(r: &mut Reader<'_>) -> Result<TrainingSummary, ClassifierError> {
    Ok(TrainingSummary {
        documents: r.u64()?,
        positives: r.u64()?,
        validation_documents: r.u64()?,
        epochs: r.u32()?,
        regularisation: r.finite_f64("regularisation")?,
        seed: r.u64()?,
        class_weights: (
            r.finite_f64("positive class weight")?,
            r.finite_f64("negative class weight")?,
        ),
        converged: match r.u8()? {
            0 => false,
            1 => true,
            other => return Err(format_error(format!("bad converged flag {other}"))),
        },
    })
}

/// The checksum of a payload.
fn checksum(payload: &[u8]) -> u64 {
    finalize(fnv1a_64(payload))
}

fn format_error(reason: impl Into<String>) -> ClassifierError {
    ClassifierError::ModelFormat(reason.into())
}

/// The most common IDF value: that of buckets no training text touched.
fn default_idf(idf: &[f32]) -> f32 {
    // The untouched buckets share the largest value (df = 0), and they are
    // the majority whenever a model is worth storing sparsely.
    idf.iter().copied().fold(f32::MIN, f32::max)
}

/// Writes the entries of `values` that differ from `default` (by bits).
fn write_sparse(out: &mut Vec<u8>, values: &[f32], default: f32) {
    let entries: Vec<(usize, f32)> = values
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, v)| v.to_bits() != default.to_bits())
        .collect();
    // At most 2^20 entries: fits a u32.
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    let mut previous = 0usize;
    for (i, (index, value)) in entries.into_iter().enumerate() {
        let gap = if i == 0 { index } else { index - previous };
        write_varint(out, gap as u64);
        out.extend_from_slice(&value.to_le_bytes());
        previous = index;
    }
}

fn read_sparse(
    r: &mut Reader<'_>,
    buckets: usize,
    default: f32,
    what: &str,
) -> Result<Vec<f32>, ClassifierError> {
    let count = r.u32()? as usize;
    if count > buckets {
        return Err(format_error(format!(
            "{what}: {count} entries for {buckets} buckets"
        )));
    }
    let mut values = vec![default; buckets];
    let mut index = 0usize;
    for i in 0..count {
        let gap = r.varint()?;
        if i > 0 && gap == 0 {
            return Err(format_error(format!("{what}: buckets are not increasing")));
        }
        index = usize::try_from(gap)
            .ok()
            .and_then(|gap| index.checked_add(gap))
            .filter(|&next| next < buckets)
            .ok_or_else(|| format_error(format!("{what}: a bucket is out of range")))?;
        values[index] = r.finite_f32(what)?;
    }
    Ok(values)
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A bounds-checked cursor over bytes.
struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn new(bytes: &'b [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'b [u8], ClassifierError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| format_error("ends early"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ClassifierError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, ClassifierError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, ClassifierError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, ClassifierError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, ClassifierError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn finite_f32(&mut self, what: &str) -> Result<f32, ClassifierError> {
        let value = f32::from_le_bytes(self.array()?);
        if value.is_finite() {
            Ok(value)
        } else {
            Err(format_error(format!("{what}: a value is not finite")))
        }
    }

    fn finite_f64(&mut self, what: &str) -> Result<f64, ClassifierError> {
        let value = f64::from_le_bytes(self.array()?);
        if value.is_finite() {
            Ok(value)
        } else {
            Err(format_error(format!("{what}: the value is not finite")))
        }
    }

    fn label(&mut self) -> Result<String, ClassifierError> {
        let length = usize::from(self.u16()?);
        if length > LABEL_BYTES_MAX {
            return Err(format_error("a label is too long"));
        }
        let bytes = self.take(length)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| format_error("a label is not UTF-8"))
    }

    fn varint(&mut self) -> Result<u64, ClassifierError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(format_error("a number is too long"))
    }

    fn is_empty(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }
}
