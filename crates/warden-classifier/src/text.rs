//! Text to features: normalisation, tokenisation and e-mail headers.
//!
//! One pass over the characters of a text produces, as hashes:
//! - **words**: maximal runs of alphanumeric characters (Unicode's
//!   definition), lowercased with Unicode's full case mapping, at least two
//!   characters long; then pairs (and, when asked, triples) of consecutive
//!   words;
//! - **character n-grams within word boundaries**: every run of
//!   non-whitespace characters (a "token": `£1000.`, `http://x.example/`),
//!   lowercased and padded with a space on each side, is cut into n-grams of
//!   `min..=max` characters. They catch what words miss: misspellings,
//!   prices, phone-number shapes, punctuation habits. A token longer than
//!   [`CHAR_NGRAM_TOKEN_CHARS_MAX`] gives its first characters only.
//!
//! **E-mail**: a text that begins with an RFC 5322 header block (an
//! optional mbox `From ` line, then at least two `Name: value` fields with
//! their folded continuation lines, ended by an empty line) has that block
//! read as fields rather than prose: each field gives a feature for its
//! presence (`header:x-mailer`) and one for each word of its value prefixed
//! with the field's name (`subject:free`, `received:localhost`). Any text
//! with that shape is read so — no corpus, address or domain is singled
//! out — and a text without it (a chat message, a post) is all body.
//!
//! The hash of a feature includes its kind, so the word `free`, the n-gram
//! `free` and the subject word `free` are three features.

use crate::hashing::{finalize, fnv1a_64, step};
use crate::limits::{CHAR_NGRAM_TOKEN_CHARS_MAX, EMAIL_HEADER_LINES_MAX};

/// What a feature is, for explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FeatureKind {
    /// A word.
    Word,
    /// Two consecutive words.
    WordPair,
    /// Three consecutive words.
    WordTriple,
    /// A character n-gram of a token (spaces mark the token's ends).
    Chars,
    /// An e-mail header field is present.
    HeaderField,
    /// A word in the value of an e-mail header field.
    HeaderWord,
}

impl FeatureKind {
    /// A short name: `word`, `words`, `chars`, `header`, `header-word`.
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureKind::Word => "word",
            FeatureKind::WordPair | FeatureKind::WordTriple => "words",
            FeatureKind::Chars => "chars",
            FeatureKind::HeaderField => "header",
            FeatureKind::HeaderWord => "header-word",
        }
    }
}

const WORD_SEED: u64 = fnv1a_64(b"warden:word");
const PAIR_SEED: u64 = fnv1a_64(b"warden:word-pair");
const TRIPLE_SEED: u64 = fnv1a_64(b"warden:word-triple");
const CHARS_SEED: u64 = fnv1a_64(b"warden:chars");
const HEADER_FIELD_SEED: u64 = fnv1a_64(b"warden:header");
const HEADER_WORD_SEED: u64 = fnv1a_64(b"warden:header-word");

use crate::limits::WORD_CHARS_MIN;

use crate::limits::HEADER_NAME_BYTES_MAX;

/// Receives the features of a text, as unfinalised hashes.
pub(crate) trait FeatureSink {
    /// Whether the sink wants names (explanations); when false no name is
    /// built and the tokeniser allocates nothing.
    const NAMES: bool = false;

    /// One occurrence of the feature with this hash.
    fn feature(&mut self, hash: u64);

    /// The name of the feature just passed to [`FeatureSink::feature`].
    fn name(&mut self, _hash: u64, _kind: FeatureKind, _name: &str) {}
}

/// Which features to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tokenizer {
    /// The longest word n-gram: 1, 2 or 3.
    pub word_ngrams: u8,
    /// Character n-gram lengths, `min..=max`; `None` for none.
    pub char_ngrams: Option<(u8, u8)>,
    /// Read a leading e-mail header block as fields.
    pub email_headers: bool,
}

/// Buffers reused from text to text.
#[derive(Debug, Default)]
pub(crate) struct TokenScratch {
    chunk: Vec<u32>,
    names: WordNames,
}

#[derive(Debug, Default)]
struct WordNames {
    current: String,
    previous: [String; 2],
    chunk: String,
}

impl Tokenizer {
    /// Passes every feature of `text` to `sink`.
    pub(crate) fn run<S: FeatureSink>(&self, text: &str, sink: &mut S, scratch: &mut TokenScratch) {
        let body = if self.email_headers {
            match split_email(text) {
                Some((headers, body)) => {
                    self.headers(headers, sink, scratch);
                    body
                }
                None => text,
            }
        } else {
            text
        };
        self.body(body, sink, scratch);
    }

    fn body<S: FeatureSink>(&self, text: &str, sink: &mut S, scratch: &mut TokenScratch) {
        let mut state = BodyState {
            tokenizer: self,
            word_hash: WORD_SEED,
            word_chars: 0,
            history: [None; 2],
            chunk_chars: 0,
        };
        scratch.chunk.clear();
        scratch.chunk.push(u32::from(' '));
        if S::NAMES {
            scratch.names.current.clear();
            scratch.names.previous.iter_mut().for_each(String::clear);
        }
        for c in text.chars() {
            if c.is_ascii() {
                // ASCII: a table-free fast path for the common case.
                let byte = c as u8;
                if byte.is_ascii_alphanumeric() {
                    let lower = byte.to_ascii_lowercase();
                    state.push_chunk(u32::from(lower), scratch);
                    state.push_word::<S>(u32::from(lower), scratch);
                } else if byte.is_ascii_whitespace() || byte == 0x0b {
                    state.end_word(sink, scratch);
                    state.end_chunk(sink, scratch);
                } else {
                    state.push_chunk(u32::from(byte), scratch);
                    state.end_word(sink, scratch);
                }
            } else if c.is_whitespace() {
                state.end_word(sink, scratch);
                state.end_chunk(sink, scratch);
            } else {
                for lower in c.to_lowercase() {
                    state.push_chunk(u32::from(lower), scratch);
                    if lower.is_alphanumeric() {
                        state.push_word::<S>(u32::from(lower), scratch);
                    } else {
                        state.end_word(sink, scratch);
                    }
                }
            }
        }
        state.end_word(sink, scratch);
        state.end_chunk(sink, scratch);
    }

    fn headers<S: FeatureSink>(&self, block: &str, sink: &mut S, scratch: &mut TokenScratch) {
        let mut field: Option<(&str, u64)> = None;
        for line in block.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.starts_with([' ', '\t']) {
                // A folded continuation of the field above.
                if let Some((name, seed)) = field {
                    header_words(line, name, seed, sink, scratch);
                }
                continue;
            }
            let Some((name, value)) = header_field(line) else {
                // The mbox "From " line.
                field = None;
                continue;
            };
            let mut name_hash = HEADER_FIELD_SEED;
            let mut word_seed = HEADER_WORD_SEED;
            for byte in name.bytes() {
                let lower = u32::from(byte.to_ascii_lowercase());
                name_hash = step(name_hash, lower);
                word_seed = step(word_seed, lower);
            }
            word_seed = step(word_seed, u32::from(':'));
            sink.feature(name_hash);
            if S::NAMES {
                sink.name(
                    name_hash,
                    FeatureKind::HeaderField,
                    &name.to_ascii_lowercase(),
                );
            }
            header_words(value, name, word_seed, sink, scratch);
            field = Some((name, word_seed));
        }
    }
}

/// The words of a header value, prefixed (in the hash) by the field's name.
fn header_words<S: FeatureSink>(
    value: &str,
    name: &str,
    seed: u64,
    sink: &mut S,
    scratch: &mut TokenScratch,
) {
    let mut hash = seed;
    let mut chars = 0usize;
    if S::NAMES {
        scratch.names.current.clear();
    }
    let mut finish = |hash: &mut u64, chars: &mut usize, scratch: &mut TokenScratch| {
        if *chars >= WORD_CHARS_MIN {
            sink.feature(*hash);
            if S::NAMES {
                let text = format!("{}:{}", name.to_ascii_lowercase(), scratch.names.current);
                sink.name(*hash, FeatureKind::HeaderWord, &text);
            }
        }
        *hash = seed;
        *chars = 0;
        if S::NAMES {
            scratch.names.current.clear();
        }
    };
    for c in value.chars() {
        if c.is_alphanumeric() {
            for lower in c.to_lowercase() {
                hash = step(hash, u32::from(lower));
                chars += 1;
                if S::NAMES {
                    scratch.names.current.push(lower);
                }
            }
        } else {
            finish(&mut hash, &mut chars, scratch);
        }
    }
    finish(&mut hash, &mut chars, scratch);
}

/// Splits a text that begins with an e-mail header block into the block and
/// the body; `None` when it does not.
pub(crate) fn split_email(text: &str) -> Option<(&str, &str)> {
    let mut offset = 0usize;
    let mut fields = 0usize;
    let mut lines = 0usize;
    if text.starts_with("From ") {
        offset = text.find('\n').map_or(text.len(), |end| end + 1);
    }
    loop {
        let rest = &text[offset..];
        if rest.is_empty() {
            break;
        }
        let end = rest.find('\n').map_or(rest.len(), |end| end + 1);
        let line = rest[..end].trim_end_matches(['\n', '\r']);
        if line.is_empty() {
            // The empty line ends the block; the body follows it.
            return (fields >= 2).then(|| (&text[..offset], &text[offset + end..]));
        }
        let continuation = line.starts_with([' ', '\t']) && fields > 0;
        if lines >= EMAIL_HEADER_LINES_MAX || !(continuation || header_field(line).is_some()) {
            // Not a header line: the block (if any) ends here.
            break;
        }
        lines += 1;
        if !continuation {
            fields += 1;
        }
        offset += end;
    }
    (fields >= 2).then(|| (&text[..offset], &text[offset..]))
}

/// A header line's field name and value: the name is 1 to 76 printable
/// ASCII characters other than the colon (RFC 5322, section 3.6.8).
fn header_field(line: &str) -> Option<(&str, &str)> {
    let colon = line
        .as_bytes()
        .iter()
        .take(HEADER_NAME_BYTES_MAX + 1)
        .position(|&b| b == b':')?;
    let name = &line[..colon];
    let valid = !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':');
    valid.then(|| (name, &line[colon + 1..]))
}

/// The running state of one pass over a body.
struct BodyState<'t> {
    tokenizer: &'t Tokenizer,
    word_hash: u64,
    word_chars: usize,
    /// The finalised hashes of the previous two words, newest first.
    history: [Option<u64>; 2],
    /// Characters of the current token, counted past the n-gram cap.
    chunk_chars: usize,
}

impl BodyState<'_> {
    #[inline(always)]
    fn push_word<S: FeatureSink>(&mut self, c: u32, scratch: &mut TokenScratch) {
        self.word_hash = step(self.word_hash, c);
        self.word_chars += 1;
        if S::NAMES {
            scratch.names.current.extend(char::from_u32(c));
        }
    }

    #[inline(always)]
    fn push_chunk(&mut self, c: u32, scratch: &mut TokenScratch) {
        self.chunk_chars += 1;
        if self.chunk_chars <= CHAR_NGRAM_TOKEN_CHARS_MAX {
            scratch.chunk.push(c);
        }
    }

    #[inline(always)]
    fn end_word<S: FeatureSink>(&mut self, sink: &mut S, scratch: &mut TokenScratch) {
        if self.word_chars == 0 {
            return;
        }
        if self.word_chars >= WORD_CHARS_MIN {
            let hash = self.word_hash;
            sink.feature(hash);
            if S::NAMES {
                sink.name(hash, FeatureKind::Word, &scratch.names.current);
            }
            let mixed = finalize(hash);
            let ngrams = self.tokenizer.word_ngrams;
            if ngrams >= 2 {
                if let Some(previous) = self.history[0] {
                    let pair = finalize(PAIR_SEED ^ previous) ^ mixed;
                    sink.feature(pair);
                    if S::NAMES {
                        let name =
                            format!("{} {}", scratch.names.previous[0], scratch.names.current);
                        sink.name(pair, FeatureKind::WordPair, &name);
                    }
                    if ngrams >= 3 {
                        if let Some(before) = self.history[1] {
                            let triple = finalize(TRIPLE_SEED ^ before) ^ finalize(pair);
                            sink.feature(triple);
                            if S::NAMES {
                                let names = &scratch.names;
                                let name = format!(
                                    "{} {} {}",
                                    names.previous[1], names.previous[0], names.current
                                );
                                sink.name(triple, FeatureKind::WordTriple, &name);
                            }
                        }
                    }
                }
            }
            self.history = [Some(mixed), self.history[0]];
            if S::NAMES {
                let names = &mut scratch.names;
                names.previous.swap(0, 1);
                std::mem::swap(&mut names.previous[0], &mut names.current);
            }
        }
        self.word_hash = WORD_SEED;
        self.word_chars = 0;
        if S::NAMES {
            scratch.names.current.clear();
        }
    }

    #[inline(always)]
    fn end_chunk<S: FeatureSink>(&mut self, sink: &mut S, scratch: &mut TokenScratch) {
        if self.chunk_chars == 0 {
            return;
        }
        if let Some((min, max)) = self.tokenizer.char_ngrams {
            if self.chunk_chars <= CHAR_NGRAM_TOKEN_CHARS_MAX {
                scratch.chunk.push(u32::from(' '));
            }
            char_ngrams(
                &scratch.chunk,
                usize::from(min),
                usize::from(max),
                sink,
                &mut scratch.names.chunk,
            );
        }
        scratch.chunk.clear();
        scratch.chunk.push(u32::from(' '));
        self.chunk_chars = 0;
    }
}

fn char_ngrams<S: FeatureSink>(
    chunk: &[u32],
    min: usize,
    max: usize,
    sink: &mut S,
    name: &mut String,
) {
    let len = chunk.len();
    for start in 0..len {
        let mut hash = CHARS_SEED;
        let end = (start + max).min(len);
        for (offset, &c) in chunk[start..end].iter().enumerate() {
            hash = step(hash, c);
            if offset + 1 >= min {
                sink.feature(hash);
                if S::NAMES {
                    name.clear();
                    name.extend(
                        chunk[start..=start + offset]
                            .iter()
                            .filter_map(|&c| char::from_u32(c)),
                    );
                    sink.name(hash, FeatureKind::Chars, name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects every feature's kind and name.
    #[derive(Default)]
    struct Names(Vec<(FeatureKind, String)>, usize);

    impl FeatureSink for Names {
        const NAMES: bool = true;
        fn feature(&mut self, _hash: u64) {
            self.1 += 1;
        }
        fn name(&mut self, _hash: u64, kind: FeatureKind, name: &str) {
            self.0.push((kind, name.to_string()));
        }
    }

    /// Counts features without names, as scoring does.
    #[derive(Default)]
    struct Hashes(Vec<u64>);

    impl FeatureSink for Hashes {
        fn feature(&mut self, hash: u64) {
            self.0.push(hash);
        }
    }

    fn tokenizer(char_ngrams: Option<(u8, u8)>) -> Tokenizer {
        Tokenizer {
            word_ngrams: 2,
            char_ngrams,
            email_headers: true,
        }
    }

    fn names(tokenizer: Tokenizer, text: &str, kind: FeatureKind) -> Vec<String> {
        let mut sink = Names::default();
        tokenizer.run(text, &mut sink, &mut TokenScratch::default());
        assert_eq!(sink.0.len(), sink.1, "one name per feature");
        sink.0
            .into_iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n)
            .collect()
    }

    #[test]
    fn words_are_lowercased_with_unicode_rules_and_split_on_punctuation() {
        let t = tokenizer(None);
        assert_eq!(
            names(
                t,
                "ÉCOLE Straße, ÜBER-Preis! don't a 4 42",
                FeatureKind::Word
            ),
            vec!["école", "straße", "über", "preis", "don", "42"]
        );
        assert_eq!(
            names(t, "Ελληνικά ΚΕΊΜΕΝΑ", FeatureKind::Word),
            vec!["ελληνικά", "κείμενα"]
        );
        assert_eq!(
            names(t, "ＦＵＬＬ width", FeatureKind::Word),
            vec!["ｆｕｌｌ", "width"]
        );
    }

    #[test]
    fn pairs_join_consecutive_words_skipping_one_letter_ones() {
        let t = tokenizer(None);
        assert_eq!(
            names(t, "Win a FREE prize", FeatureKind::WordPair),
            vec!["win free", "free prize"]
        );
        let triples = Tokenizer {
            word_ngrams: 3,
            ..t
        };
        assert_eq!(
            names(triples, "click here now", FeatureKind::WordTriple),
            vec!["click here now"]
        );
        let single = Tokenizer {
            word_ngrams: 1,
            ..t
        };
        assert!(names(single, "click here now", FeatureKind::WordPair).is_empty());
    }

    #[test]
    fn character_ngrams_stay_within_tokens_with_space_padding() {
        let t = tokenizer(Some((3, 4)));
        let grams = names(t, "£10. ok", FeatureKind::Chars);
        assert_eq!(
            grams,
            vec![
                " £1", " £10", "£10", "£10.", "10.", "10. ", "0. ", // "£10."
                " ok", " ok ", "ok ", // "ok"
            ]
        );
    }

    #[test]
    fn long_tokens_give_ngrams_of_their_start_only() {
        let t = tokenizer(Some((3, 3)));
        let token = "x".repeat(CHAR_NGRAM_TOKEN_CHARS_MAX + 50);
        let grams = names(t, &token, FeatureKind::Chars);
        // The leading space and the first CHAR_NGRAM_TOKEN_CHARS_MAX
        // characters, no trailing space: 33 characters, 31 trigrams.
        assert_eq!(grams.len(), CHAR_NGRAM_TOKEN_CHARS_MAX - 1);
        assert!(grams.iter().all(|g| !g.ends_with(' ')));
        let at_limit = "x".repeat(CHAR_NGRAM_TOKEN_CHARS_MAX);
        let grams = names(t, &at_limit, FeatureKind::Chars);
        assert_eq!(grams.len(), CHAR_NGRAM_TOKEN_CHARS_MAX);
        assert_eq!(grams.last().map(String::as_str), Some("xx "));
    }

    #[test]
    fn email_header_blocks_are_recognised() {
        let mail = "From bob@example.com  Mon Aug 26 15:17:33 2002\nReturn-Path: <bob@example.com>\nSubject: Win CASH\n  now\nX-Mailer: Bulk 1.0\n\nHello there\nBody: not a header\n";
        let (headers, body) = split_email(mail).unwrap();
        assert!(headers.ends_with("X-Mailer: Bulk 1.0\n"));
        assert_eq!(body, "Hello there\nBody: not a header\n");
        // CRLF.
        let crlf = "To: a@example.com\r\nSubject: hi\r\n\r\nbody";
        assert_eq!(split_email(crlf).unwrap().1, "body");
        // A block without a body.
        assert!(split_email("To: a@example.com\nSubject: hi\n").is_some());
        // Not e-mail: prose with a colon, one field, a space in the name.
        assert!(split_email("Call now: 0800 123 456 to claim").is_none());
        assert!(split_email("Subject: hi\n\nbody").is_none());
        // Two "Name: value" lines do read as headers: the shape decides.
        assert!(split_email("Dear: hello\nand: more\n").is_some());
        assert!(split_email("Dear friend: hello\nand: more\n").is_none());
        assert!(split_email("").is_none());
    }

    #[test]
    fn header_fields_become_named_features_and_the_body_is_prose() {
        let t = tokenizer(None);
        let mail = "Subject: Win CASH\n now\nX-Mailer: Bulk\n\nHello there";
        assert_eq!(
            names(t, mail, FeatureKind::HeaderField),
            vec!["subject", "x-mailer"]
        );
        assert_eq!(
            names(t, mail, FeatureKind::HeaderWord),
            vec![
                "subject:win",
                "subject:cash",
                "subject:now",
                "x-mailer:bulk"
            ]
        );
        assert_eq!(names(t, mail, FeatureKind::Word), vec!["hello", "there"]);
        // Without header handling, the block is prose.
        let plain = Tokenizer {
            email_headers: false,
            ..t
        };
        assert!(names(plain, mail, FeatureKind::HeaderField).is_empty());
        assert_eq!(
            names(plain, mail, FeatureKind::Word),
            vec!["subject", "win", "cash", "now", "mailer", "bulk", "hello", "there"]
        );
    }

    #[test]
    fn kinds_hash_apart_and_hashes_do_not_depend_on_names() {
        let t = tokenizer(Some((4, 4)));
        let mut hashes = Hashes::default();
        t.run("free", &mut hashes, &mut TokenScratch::default());
        // The word "free", then the 4-grams " fre", "free", "ree ".
        assert_eq!(hashes.0.len(), 4);
        assert_ne!(
            hashes.0[0], hashes.0[2],
            "word and n-gram of the same letters"
        );
        // Pinned: the word "free" (a change needs a new model format version).
        assert_eq!(
            hashes.0[0],
            "free".chars().fold(WORD_SEED, |h, c| step(h, c as u32))
        );
        assert_eq!(WORD_SEED, 0xf3c3_fd09_412c_d9be);
        let mut again = Hashes::default();
        t.run("free", &mut again, &mut TokenScratch::default());
        assert_eq!(hashes.0, again.0);
        // A sink without names sees the same hashes as one with names.
        let mut named = Names::default();
        t.run("free", &mut named, &mut TokenScratch::default());
        assert_eq!(named.1, 4);
    }
}
