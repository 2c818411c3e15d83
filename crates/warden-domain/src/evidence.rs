//! Evidence analysts attach to a case: text excerpts, URLs and files,
//! stored content-addressed by SHA-256 and verified on every read.
//!
//! - [`ContentHash`] is a SHA-256 digest, written as 64 lowercase hex
//!   digits. Every item's content — the excerpt's UTF-8 bytes, the URL's
//!   bytes, the file's bytes — is stored under its hash, so the same
//!   content is stored once and any change to it shows: reading an item
//!   hashes its bytes again ([`check_content`]) and names a mismatch
//!   ([`HashMismatch`]) or a missing blob.
//! - [`ContentHasher`] hashes an upload chunk by chunk and refuses it as
//!   soon as it passes the configured size ([`EvidenceLimits`]), so a large
//!   upload is never held whole.
//! - [`parse_evidence`] checks what an analyst sends (every field at
//!   fault), [`plan_evidence`] checks it against the case (items per case,
//!   the same content attached twice) and says which rows to write.
//! - [`FileName::sanitise`] and [`MediaType::sanitise`] make a file's name
//!   and media type safe to store, show and serve: no path, no hidden or
//!   reserved characters, a media type from a closed grammar, and
//!   [`MediaType::is_inline_safe`] for the few types the console may show
//!   inline (never HTML or SVG, which run script).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::ids::{CaseId, UserId};
use crate::limits::{
    EVIDENCE_CAPTION_CHARS_MAX, EVIDENCE_EXCERPT_CHARS_MAX, EVIDENCE_FILE_BYTES_CEILING,
    EVIDENCE_FILE_BYTES_DEFAULT, EVIDENCE_FILE_NAME_BYTES_MAX, EVIDENCE_ITEMS_PER_CASE_MAX,
    EVIDENCE_URL_BYTES_MAX, MIME_BYTES_MAX,
};
use crate::text::{check_free_text, check_name, is_hidden};
use crate::{FieldErrors, Timestamp};

// ---------------------------------------------------------------- hashes

/// A SHA-256 digest of some content: the key it is stored under.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Reads 64 hex digits (either case), as stored or sent.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() != 64 {
            return Err(format!(
                "a SHA-256 is 64 hexadecimal digits, got {} characters",
                text.chars().count()
            ));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| "a SHA-256 is 64 hexadecimal digits (0-9, a-f)".to_string())?;
        Ok(Self(bytes))
    }

    /// The 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `bytes` still hash to this; a mismatch names both hashes.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), HashMismatch> {
        let actual = Self::of(bytes);
        if actual == *self {
            Ok(())
        } else {
            Err(HashMismatch {
                expected: *self,
                actual,
            })
        }
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.to_hex())
    }
}

impl FromStr for ContentHash {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Content that no longer hashes to the hash it was stored under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashMismatch {
    /// The hash recorded when the item was attached.
    pub expected: ContentHash,
    /// The hash of the bytes read now.
    pub actual: ContentHash,
}

impl fmt::Display for HashMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the content no longer matches its SHA-256: recorded {}, read {}",
            self.expected, self.actual
        )
    }
}

impl std::error::Error for HashMismatch {}

/// What reading an item's content found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashCheck {
    /// The bytes hash to the recorded hash.
    Verified,
    /// They do not.
    Mismatch(HashMismatch),
    /// No content is stored under the hash any more.
    Missing,
}

impl HashCheck {
    /// Whether the content is there and unchanged.
    pub fn is_verified(&self) -> bool {
        *self == HashCheck::Verified
    }

    /// The wire name: `verified`, `mismatch` or `missing`.
    pub fn as_str(&self) -> &'static str {
        match self {
            HashCheck::Verified => "verified",
            HashCheck::Mismatch(_) => "mismatch",
            HashCheck::Missing => "missing",
        }
    }
}

impl fmt::Display for HashCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashCheck::Verified => f.write_str("SHA-256 verified"),
            HashCheck::Mismatch(mismatch) => write!(f, "{mismatch}"),
            HashCheck::Missing => f.write_str("no content is stored under its SHA-256 any more"),
        }
    }
}

/// Checks content read back (`None`: nothing is stored under the hash)
/// against the hash it was stored under. The store calls this on every
/// read of an item; the answer is shown with it.
pub fn check_content(expected: &ContentHash, bytes: Option<&[u8]>) -> HashCheck {
    match bytes {
        None => HashCheck::Missing,
        Some(bytes) => match expected.verify(bytes) {
            Ok(()) => HashCheck::Verified,
            Err(mismatch) => HashCheck::Mismatch(mismatch),
        },
    }
}

/// An upload that passed the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// The limit, in bytes.
    pub limit: u64,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "must be at most {} bytes", self.limit)
    }
}

/// Hashes an upload chunk by chunk, refusing it once it passes `limit`.
#[derive(Debug, Clone)]
pub struct ContentHasher {
    sha: Sha256,
    bytes: u64,
    limit: u64,
}

impl ContentHasher {
    /// A hasher for content of at most `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self {
            sha: Sha256::new(),
            bytes: 0,
            limit,
        }
    }

    /// Adds a chunk; refuses as soon as the total passes the limit.
    pub fn update(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        let total = self.bytes.saturating_add(chunk.len() as u64);
        if total > self.limit {
            return Err(TooLarge { limit: self.limit });
        }
        self.bytes = total;
        self.sha.update(chunk);
        Ok(())
    }

    /// The hash and size of everything added.
    pub fn finish(self) -> FileUpload {
        FileUpload {
            hash: ContentHash(self.sha.finalize().into()),
            size_bytes: self.bytes,
        }
    }
}

// ---------------------------------------------------------------- names and types

/// Windows' reserved device names: a file named `CON.txt` cannot be saved
/// there, and an analyst downloads evidence to any machine.
const RESERVED_STEMS: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Characters no file name keeps: path separators and what Windows
/// refuses, which also stop a name from breaking a `Content-Disposition`
/// header's quotes.
const REFUSED_NAME_CHARS: &[char] = &['/', '\\', '<', '>', ':', '"', '|', '?', '*'];

use crate::limits::EXTENSION_BYTES_KEPT_MAX;

/// A file name made safe to store, show and offer for download.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileName(String);

impl FileName {
    /// The name used when nothing of the given one is left.
    pub const FALLBACK: &'static str = "evidence";

    /// Makes `raw` safe: the last path component only; hidden characters,
    /// control characters and `/ \ < > : " | ? *` replaced by `_`; no
    /// leading or trailing dots or spaces; a Windows device name prefixed
    /// with `_`; at most [`EVIDENCE_FILE_NAME_BYTES_MAX`] bytes, keeping a
    /// short extension; `evidence` when nothing is left. Sanitising a
    /// sanitised name changes nothing.
    pub fn sanitise(raw: &str) -> Self {
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let replaced: String = last
            .chars()
            .map(|c| {
                if is_hidden(c) || c.is_control() || REFUSED_NAME_CHARS.contains(&c) {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let mut name = trim_name(&replaced).to_string();
        let stem = name.split('.').next().unwrap_or_default();
        if RESERVED_STEMS
            .iter()
            .any(|reserved| stem.trim_end().eq_ignore_ascii_case(reserved))
        {
            name.insert(0, '_');
        }
        let name = trim_name(&cut_name(&name, EVIDENCE_FILE_NAME_BYTES_MAX)).to_string();
        if name.is_empty() {
            Self(Self::FALLBACK.into())
        } else {
            Self(name)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn trim_name(name: &str) -> &str {
    name.trim_matches(|c: char| c == '.' || c.is_whitespace())
}

/// Cuts `name` to at most `max` bytes on a character boundary, keeping a
/// short extension (`.pdf`) at the end.
fn cut_name(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let extension = name
        .rfind('.')
        .map(|dot| &name[dot..])
        .filter(|ext| ext.len() <= EXTENSION_BYTES_KEPT_MAX && ext.len() < max)
        .unwrap_or("");
    let room = max - extension.len();
    let stem = &name[..name.len() - extension.len()];
    let mut end = room.min(stem.len());
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{extension}", &stem[..end])
}

/// Top-level media types (RFC 6838 §4.2 and the IANA registry).
const TOP_LEVEL_TYPES: &[&str] = &[
    "application",
    "audio",
    "font",
    "image",
    "message",
    "model",
    "multipart",
    "text",
    "video",
];

/// Types the console may show inline: they cannot run script. HTML, SVG,
/// XML and everything else are offered as downloads only.
const INLINE_SAFE_TYPES: &[&str] = &[
    "application/pdf",
    "audio/mpeg",
    "audio/ogg",
    "audio/wav",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/plain",
    "video/mp4",
    "video/webm",
];

/// A media type made safe to store and to send back in `Content-Type`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaType(String);

impl MediaType {
    /// What an unknown or unreadable type becomes.
    pub const OCTET_STREAM: &'static str = "application/octet-stream";

    /// The type of `raw` without its parameters, in lower case, when it is
    /// `top-level/subtype` with a registered top-level type and a subtype
    /// of RFC 6838's restricted-name characters; else
    /// `application/octet-stream`. Nothing given is octet-stream too.
    pub fn sanitise(raw: Option<&str>) -> Self {
        let Some(raw) = raw else {
            return Self(Self::OCTET_STREAM.into());
        };
        let essence = raw.split(';').next().unwrap_or_default().trim();
        let lower = essence.to_ascii_lowercase();
        let readable = lower.len() <= MIME_BYTES_MAX
            && lower.split_once('/').is_some_and(|(top, sub)| {
                TOP_LEVEL_TYPES.contains(&top)
                    && !sub.is_empty()
                    && sub.len() <= 127
                    && sub.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && sub.chars().all(|c| {
                        c.is_ascii_alphanumeric()
                            || matches!(c, '!' | '#' | '$' | '&' | '-' | '^' | '_' | '.' | '+')
                    })
            });
        if readable {
            Self(lower)
        } else {
            Self(Self::OCTET_STREAM.into())
        }
    }

    /// The type, e.g. `image/png`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the console may show content of this type inline.
    pub fn is_inline_safe(&self) -> bool {
        INLINE_SAFE_TYPES.contains(&self.0.as_str())
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------- items

/// What kind of evidence an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvidenceKind {
    /// Quoted text: messages, a profile, a listing.
    TextExcerpt,
    /// A link to where the platform or the web shows it.
    Url,
    /// An uploaded file: a screenshot, a PDF, a recording.
    File,
}

impl EvidenceKind {
    /// Every kind.
    pub const ALL: [EvidenceKind; 3] = [
        EvidenceKind::TextExcerpt,
        EvidenceKind::Url,
        EvidenceKind::File,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::TextExcerpt => "text_excerpt",
            EvidenceKind::Url => "url",
            EvidenceKind::File => "file",
        }
    }
}

impl FromStr for EvidenceKind {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        EvidenceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
            .ok_or_else(|| {
                format!("unknown evidence kind {value:?}; expected text_excerpt, url or file")
            })
    }
}

impl fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An item's content, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceContent {
    /// Quoted text, kept exactly (it is evidence).
    TextExcerpt {
        /// The text.
        text: String,
    },
    /// A link.
    Url {
        /// The URL, http or https.
        url: String,
    },
    /// An uploaded file.
    File {
        /// Its name, sanitised.
        name: FileName,
        /// Its media type, sanitised.
        media_type: MediaType,
    },
}

impl EvidenceContent {
    /// Its kind.
    pub fn kind(&self) -> EvidenceKind {
        match self {
            EvidenceContent::TextExcerpt { .. } => EvidenceKind::TextExcerpt,
            EvidenceContent::Url { .. } => EvidenceKind::Url,
            EvidenceContent::File { .. } => EvidenceKind::File,
        }
    }
}

/// The evidence limits in force: the file size is configurable up to
/// [`EVIDENCE_FILE_BYTES_CEILING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvidenceLimits {
    file_bytes_max: u64,
}

impl Default for EvidenceLimits {
    fn default() -> Self {
        Self {
            file_bytes_max: EVIDENCE_FILE_BYTES_DEFAULT,
        }
    }
}

impl EvidenceLimits {
    /// Limits with files of at most `file_bytes_max` bytes (1 to the ceiling).
    pub fn new(file_bytes_max: u64) -> Result<Self, String> {
        if !(1..=EVIDENCE_FILE_BYTES_CEILING).contains(&file_bytes_max) {
            return Err(format!(
                "the evidence file size limit must be 1 to {EVIDENCE_FILE_BYTES_CEILING} bytes"
            ));
        }
        Ok(Self { file_bytes_max })
    }

    /// The largest file, in bytes.
    pub fn file_bytes_max(&self) -> u64 {
        self.file_bytes_max
    }

    /// A hasher for an upload under these limits.
    pub fn hasher(&self) -> ContentHasher {
        ContentHasher::new(self.file_bytes_max)
    }
}

/// A file's bytes as the upload hashed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileUpload {
    /// Their SHA-256.
    pub hash: ContentHash,
    /// How many.
    pub size_bytes: u64,
}

/// An evidence item as sent, before checking. A file's bytes come beside
/// it as a [`FileUpload`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceInput {
    /// `text_excerpt`, `url` or `file`.
    pub kind: Option<String>,
    /// The excerpt (text_excerpt).
    pub text: Option<String>,
    /// The URL (url).
    pub url: Option<String>,
    /// The file's name as uploaded (file).
    pub file_name: Option<String>,
    /// The file's media type as uploaded (file).
    pub media_type: Option<String>,
    /// What the item shows, in the analyst's words.
    pub caption: Option<String>,
}

/// An evidence item, checked, with the hash and size of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceDraft {
    /// What it is.
    pub content: EvidenceContent,
    /// What it shows (may be empty).
    pub caption: String,
    /// The SHA-256 of its content.
    pub hash: ContentHash,
    /// The content's size in bytes.
    pub size_bytes: u64,
}

/// Checks an item: its kind, the fields that kind needs (and no others),
/// limits, URL syntax, and for a file the upload's size. Every field at
/// fault is reported. Text and URLs are hashed over their UTF-8 bytes.
pub fn parse_evidence(
    input: &EvidenceInput,
    upload: Option<&FileUpload>,
    limits: &EvidenceLimits,
) -> Result<EvidenceDraft, FieldErrors> {
    let mut errors = FieldErrors::default();
    let kind = match input.kind.as_deref() {
        None => {
            errors.push("kind", "is required: text_excerpt, url or file");
            None
        }
        Some(kind) => errors.take("kind", kind.parse::<EvidenceKind>()),
    };
    let caption = input.caption.clone().unwrap_or_default();
    errors.take(
        "caption",
        check_free_text(&caption, EVIDENCE_CAPTION_CHARS_MAX),
    );
    let extra = |errors: &mut FieldErrors, field: &str, given: bool, kind: EvidenceKind| {
        if given {
            errors.push(field, format!("a {kind} item takes no {field}"));
        }
    };
    let content = kind.and_then(|kind| {
        extra(
            &mut errors,
            "text",
            input.text.is_some() && kind != EvidenceKind::TextExcerpt,
            kind,
        );
        extra(
            &mut errors,
            "url",
            input.url.is_some() && kind != EvidenceKind::Url,
            kind,
        );
        let file_fields = input.file_name.is_some() || input.media_type.is_some();
        extra(
            &mut errors,
            "file",
            (file_fields || upload.is_some()) && kind != EvidenceKind::File,
            kind,
        );
        match kind {
            EvidenceKind::TextExcerpt => text_content(&mut errors, input.text.as_deref()),
            EvidenceKind::Url => url_content(&mut errors, input.url.as_deref()),
            EvidenceKind::File => file_content(&mut errors, input, upload, limits),
        }
    });
    match content {
        Some((content, hash, size_bytes)) if errors.is_empty() => Ok(EvidenceDraft {
            content,
            caption,
            hash,
            size_bytes,
        }),
        _ => Err(errors),
    }
}

type Checked = (EvidenceContent, ContentHash, u64);

fn text_content(errors: &mut FieldErrors, text: Option<&str>) -> Option<Checked> {
    let Some(text) = text else {
        errors.push("text", "is required for a text_excerpt item");
        return None;
    };
    if text.trim().is_empty() {
        errors.push("text", "must not be empty");
        return None;
    }
    errors.take("text", check_free_text(text, EVIDENCE_EXCERPT_CHARS_MAX))?;
    Some((
        EvidenceContent::TextExcerpt { text: text.into() },
        ContentHash::of(text.as_bytes()),
        text.len() as u64,
    ))
}

fn url_content(errors: &mut FieldErrors, url: Option<&str>) -> Option<Checked> {
    let Some(url) = url else {
        errors.push("url", "is required for a url item");
        return None;
    };
    errors.take("url", check_name(url, EVIDENCE_URL_BYTES_MAX))?;
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        errors.push("url", "must be an http or https URL");
        return None;
    }
    if !crate::dsa::is_valid_url(url) {
        errors.push("url", "is not a well-formed URL");
        return None;
    }
    Some((
        EvidenceContent::Url { url: url.into() },
        ContentHash::of(url.as_bytes()),
        url.len() as u64,
    ))
}

fn file_content(
    errors: &mut FieldErrors,
    input: &EvidenceInput,
    upload: Option<&FileUpload>,
    limits: &EvidenceLimits,
) -> Option<Checked> {
    let Some(upload) = upload else {
        errors.push("file", "is required for a file item: upload its bytes");
        return None;
    };
    if upload.size_bytes == 0 {
        errors.push("file", "must not be empty");
        return None;
    }
    if upload.size_bytes > limits.file_bytes_max() {
        errors.push(
            "file",
            format!(
                "must be at most {} bytes, got {}",
                limits.file_bytes_max(),
                upload.size_bytes
            ),
        );
        return None;
    }
    let name = FileName::sanitise(input.file_name.as_deref().unwrap_or_default());
    let media_type = MediaType::sanitise(input.media_type.as_deref());
    Some((
        EvidenceContent::File { name, media_type },
        upload.hash,
        upload.size_bytes,
    ))
}

/// What the store loads before attaching an item, in its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFacts {
    /// The case, locked.
    pub case: CaseId,
    /// Items on it now.
    pub items_on_case: usize,
    /// The item of this case already holding the same content, if any.
    pub same_content_on_case: Option<i64>,
    /// Whether content with this hash is stored already (for any case).
    pub content_stored: bool,
}

/// The rows attaching an item writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidencePlan {
    /// The case.
    pub case: CaseId,
    /// The item.
    pub draft: EvidenceDraft,
    /// Who attached it.
    pub added_by: UserId,
    /// When.
    pub added_at: Timestamp,
    /// Whether the content must be stored (no blob holds this hash yet);
    /// content already stored is shared, never written twice.
    pub store_content: bool,
}

/// Plans attaching `draft` to a case: refuses (naming `evidence`) a case
/// at [`EVIDENCE_ITEMS_PER_CASE_MAX`] items and the same content attached
/// twice to one case.
pub fn plan_evidence(
    facts: &EvidenceFacts,
    draft: EvidenceDraft,
    added_by: UserId,
    now: Timestamp,
) -> Result<EvidencePlan, FieldErrors> {
    if facts.items_on_case >= EVIDENCE_ITEMS_PER_CASE_MAX {
        return Err(crate::FieldError::new(
            "evidence",
            format!(
                "case {} has {} evidence items, the most a case may have",
                facts.case, facts.items_on_case
            ),
        )
        .into());
    }
    if let Some(item) = facts.same_content_on_case {
        return Err(crate::FieldError::new(
            "evidence",
            format!(
                "the same content (SHA-256 {}) is already evidence item {item} of case {}",
                draft.hash, facts.case
            ),
        )
        .into());
    }
    Ok(EvidencePlan {
        case: facts.case,
        draft,
        added_by,
        added_at: now,
        store_content: !facts.content_stored,
    })
}

/// An evidence item as stored, with what reading its content found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceItem {
    /// Warden's id.
    pub id: i64,
    /// What it is.
    pub content: EvidenceContent,
    /// What it shows.
    pub caption: String,
    /// The SHA-256 recorded when it was attached.
    pub hash: ContentHash,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Who attached it (user name).
    pub added_by: String,
    /// When.
    pub added_at: Timestamp,
    /// The check of its content on this read ([`check_content`]).
    pub check: HashCheck,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
    }

    fn fields(result: Result<EvidenceDraft, FieldErrors>) -> Vec<String> {
        result.unwrap_err().0.into_iter().map(|e| e.field).collect()
    }

    fn text(text: &str) -> EvidenceInput {
        EvidenceInput {
            kind: Some("text_excerpt".into()),
            text: Some(text.into()),
            ..EvidenceInput::default()
        }
    }

    #[test]
    fn hashes_are_sha256_in_hex_and_name_a_mismatch() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(ContentHash::of(b"abc").to_hex(), abc);
        assert_eq!(
            ContentHash::parse(&abc.to_uppercase()).unwrap(),
            ContentHash::of(b"abc")
        );
        assert!(ContentHash::parse(&abc[1..]).is_err());
        assert!(ContentHash::parse(&format!("{}g", &abc[1..])).is_err());
        let hash = ContentHash::of(b"abc");
        assert_eq!(hash.verify(b"abc"), Ok(()));
        let mismatch = hash.verify(b"abd").unwrap_err();
        assert_eq!(mismatch.expected, hash);
        assert!(mismatch.to_string().contains(abc), "{mismatch}");
        assert_eq!(check_content(&hash, Some(b"abc")), HashCheck::Verified);
        assert_eq!(check_content(&hash, None), HashCheck::Missing);
        assert!(matches!(
            check_content(&hash, Some(b"x")),
            HashCheck::Mismatch(_)
        ));
    }

    #[test]
    fn uploads_are_hashed_in_chunks_and_refused_past_the_limit() {
        let mut hasher = ContentHasher::new(6);
        hasher.update(b"abc").unwrap();
        hasher.update(b"def").unwrap();
        let upload = hasher.clone().finish();
        assert_eq!(upload.hash, ContentHash::of(b"abcdef"));
        assert_eq!(upload.size_bytes, 6, "the limit itself is accepted");
        assert_eq!(hasher.update(b"g"), Err(TooLarge { limit: 6 }));
        assert_eq!(
            EvidenceLimits::default().file_bytes_max(),
            EVIDENCE_FILE_BYTES_DEFAULT
        );
        assert!(EvidenceLimits::new(EVIDENCE_FILE_BYTES_CEILING).is_ok());
        assert!(EvidenceLimits::new(EVIDENCE_FILE_BYTES_CEILING + 1).is_err());
        assert!(EvidenceLimits::new(0).is_err());
    }

    #[test]
    fn items_need_their_own_fields_and_no_others() {
        let limits = EvidenceLimits::default();
        let draft = parse_evidence(&text("you will regret it"), None, &limits).unwrap();
        assert_eq!(draft.hash, ContentHash::of(b"you will regret it"));
        assert_eq!(draft.content.kind(), EvidenceKind::TextExcerpt);
        assert_eq!(
            fields(parse_evidence(&EvidenceInput::default(), None, &limits)),
            ["kind"]
        );
        let mut both = text("x");
        both.url = Some("https://example.com".into());
        assert_eq!(fields(parse_evidence(&both, None, &limits)), ["url"]);
        let url = EvidenceInput {
            kind: Some("url".into()),
            url: Some("javascript:alert(1)".into()),
            ..EvidenceInput::default()
        };
        assert_eq!(fields(parse_evidence(&url, None, &limits)), ["url"]);
        let file = EvidenceInput {
            kind: Some("file".into()),
            file_name: Some("../../etc/passwd".into()),
            media_type: Some("Image/PNG; charset=x".into()),
            ..EvidenceInput::default()
        };
        assert_eq!(fields(parse_evidence(&file, None, &limits)), ["file"]);
        let upload = FileUpload {
            hash: ContentHash::of(b"png"),
            size_bytes: 3,
        };
        let draft = parse_evidence(&file, Some(&upload), &limits).unwrap();
        assert_eq!(
            draft.content,
            EvidenceContent::File {
                name: FileName("passwd".into()),
                media_type: MediaType("image/png".into()),
            }
        );
        assert_eq!(
            fields(parse_evidence(&text("x"), Some(&upload), &limits)),
            ["file"]
        );
    }

    #[test]
    fn items_at_their_limits() {
        let limits = EvidenceLimits::new(10).unwrap();
        let max = "é".repeat(EVIDENCE_EXCERPT_CHARS_MAX);
        assert!(parse_evidence(&text(&max), None, &limits).is_ok());
        assert_eq!(
            fields(parse_evidence(&text(&format!("{max}é")), None, &limits)),
            ["text"]
        );
        let url = |len: usize| EvidenceInput {
            kind: Some("url".into()),
            url: Some(format!("https://example.com/{}", "a".repeat(len - 20))),
            ..EvidenceInput::default()
        };
        assert!(parse_evidence(&url(EVIDENCE_URL_BYTES_MAX), None, &limits).is_ok());
        assert_eq!(
            fields(parse_evidence(
                &url(EVIDENCE_URL_BYTES_MAX + 1),
                None,
                &limits
            )),
            ["url"]
        );
        let file = |size_bytes| {
            parse_evidence(
                &EvidenceInput {
                    kind: Some("file".into()),
                    ..EvidenceInput::default()
                },
                Some(&FileUpload {
                    hash: ContentHash::of(b""),
                    size_bytes,
                }),
                &limits,
            )
        };
        assert!(file(10).is_ok());
        assert_eq!(fields(file(11)), ["file"]);
        assert_eq!(fields(file(0)), ["file"]);
        let mut caption = text("x");
        caption.caption = Some("c".repeat(EVIDENCE_CAPTION_CHARS_MAX));
        assert!(parse_evidence(&caption, None, &limits).is_ok());
        caption.caption = Some("c".repeat(EVIDENCE_CAPTION_CHARS_MAX + 1));
        assert_eq!(fields(parse_evidence(&caption, None, &limits)), ["caption"]);
    }

    #[test]
    fn cases_hold_a_bounded_number_of_distinct_items() {
        let draft = parse_evidence(&text("x"), None, &EvidenceLimits::default()).unwrap();
        let facts = |items_on_case, same: Option<i64>, stored| EvidenceFacts {
            case: CaseId(4),
            items_on_case,
            same_content_on_case: same,
            content_stored: stored,
        };
        let plan = plan_evidence(
            &facts(EVIDENCE_ITEMS_PER_CASE_MAX - 1, None, true),
            draft.clone(),
            UserId(1),
            t0(),
        )
        .unwrap();
        assert!(!plan.store_content, "stored content is shared");
        assert!(
            plan_evidence(&facts(0, None, false), draft.clone(), UserId(1), t0())
                .unwrap()
                .store_content
        );
        let full = plan_evidence(
            &facts(EVIDENCE_ITEMS_PER_CASE_MAX, None, true),
            draft.clone(),
            UserId(1),
            t0(),
        )
        .unwrap_err();
        assert_eq!(full.0[0].field, "evidence");
        let twice = plan_evidence(&facts(3, Some(9), true), draft, UserId(1), t0()).unwrap_err();
        assert!(twice.0[0].reason.contains("evidence item 9"), "{twice}");
    }

    #[test]
    fn file_names_lose_paths_and_hidden_characters() {
        for (raw, safe) in [
            ("report.pdf", "report.pdf"),
            ("C:\\Users\\a\\shot 1.png", "shot 1.png"),
            ("../../etc/passwd", "passwd"),
            (".htaccess", "htaccess"),
            ("name\u{202E}gpj.exe", "name_gpj.exe"),
            ("a\u{0}b\nc.txt", "a_b_c.txt"),
            ("what?*<>|\".txt", "what______.txt"),
            ("CON.txt", "_CON.txt"),
            ("lpt1", "_lpt1"),
            ("...", "evidence"),
            ("", "evidence"),
            ("dir/", "evidence"),
            ("скриншот.png", "скриншот.png"),
        ] {
            assert_eq!(FileName::sanitise(raw).as_str(), safe, "{raw:?}");
        }
        let long = format!("{}.pdf", "é".repeat(300));
        let cut = FileName::sanitise(&long);
        assert!(cut.as_str().len() <= EVIDENCE_FILE_NAME_BYTES_MAX);
        assert!(cut.as_str().ends_with("é.pdf"), "{cut}");
        let exact = "a".repeat(EVIDENCE_FILE_NAME_BYTES_MAX);
        assert_eq!(FileName::sanitise(&exact).as_str(), exact);
        assert_eq!(
            FileName::sanitise(&format!("{exact}a")).as_str().len(),
            EVIDENCE_FILE_NAME_BYTES_MAX
        );
    }

    #[test]
    fn media_types_come_from_a_closed_grammar() {
        for (raw, safe) in [
            (Some("image/png"), "image/png"),
            (Some(" Image/JPEG ; q=1"), "image/jpeg"),
            (Some("application/vnd.ms-excel"), "application/vnd.ms-excel"),
            (Some("text/html"), "text/html"),
            (Some("image/svg+xml"), "image/svg+xml"),
            (Some("evil/x"), MediaType::OCTET_STREAM),
            (Some("image/"), MediaType::OCTET_STREAM),
            (Some("image/png\r\nX-Header: 1"), MediaType::OCTET_STREAM),
            (Some("text/plain\"><script>"), MediaType::OCTET_STREAM),
            (None, MediaType::OCTET_STREAM),
        ] {
            assert_eq!(MediaType::sanitise(raw).as_str(), safe, "{raw:?}");
        }
        assert!(MediaType::sanitise(Some("image/png")).is_inline_safe());
        assert!(!MediaType::sanitise(Some("text/html")).is_inline_safe());
        assert!(!MediaType::sanitise(Some("image/svg+xml")).is_inline_safe());
        assert!(!MediaType::sanitise(None).is_inline_safe());
    }

    proptest! {
        #[test]
        fn sanitised_names_are_safe_and_stable(raw in any::<String>()) {
            let name = FileName::sanitise(&raw);
            let text = name.as_str();
            prop_assert!(!text.is_empty());
            prop_assert!(text.len() <= EVIDENCE_FILE_NAME_BYTES_MAX);
            prop_assert!(!text.chars().any(|c| is_hidden(c) || c.is_control() || REFUSED_NAME_CHARS.contains(&c)));
            prop_assert!(!text.starts_with('.') && !text.ends_with('.'));
            prop_assert_eq!(FileName::sanitise(text), name.clone());
        }

        #[test]
        fn sanitised_media_types_are_header_safe(raw in any::<String>()) {
            let media_type = MediaType::sanitise(Some(&raw));
            prop_assert!(media_type.as_str().bytes().all(|b| b.is_ascii_graphic()));
            prop_assert_eq!(media_type.as_str().matches('/').count(), 1);
            prop_assert_eq!(MediaType::sanitise(Some(media_type.as_str())), media_type);
        }

        #[test]
        fn any_change_to_content_is_a_named_mismatch(
            bytes in proptest::collection::vec(any::<u8>(), 1..256),
            index in any::<proptest::sample::Index>(),
            flip in 1..=255u8,
        ) {
            let hash = ContentHash::of(&bytes);
            prop_assert_eq!(ContentHash::parse(&hash.to_hex()), Ok(hash));
            let mut changed = bytes.clone();
            changed[index.index(bytes.len())] ^= flip;
            let mismatch = hash.verify(&changed).unwrap_err();
            prop_assert_eq!(mismatch.expected, hash);
            prop_assert_eq!(mismatch.actual, ContentHash::of(&changed));
        }
    }
}
