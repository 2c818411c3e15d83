//! Every limit of the classifier, with why it has the value it has.
//!
//! The classifier reads text from platforms and training files from
//! operators; each limit below closes one way a large or hostile input could
//! use too much memory or time. Callers check what they read against these
//! before handing it over, and the crate checks again.

/// The longest text scored or trained on, in bytes.
///
/// The longest e-mail of the SpamAssassin corpus is 300 KB, the longest
/// subject text Warden stores is 100,000 characters (at most 400 KB of
/// UTF-8); 1 MiB leaves room for both and bounds the time of one score to a
/// few tens of milliseconds.
pub const TEXT_BYTES_MAX: usize = 1024 * 1024;

/// The longest whitespace-separated token cut into character n-grams, in
/// characters; longer tokens (base64 lines, hashes, long URLs) give their
/// first this-many characters only.
///
/// Beyond a few dozen characters a token is data rather than language: its
/// n-grams rarely repeat across texts, cost time and crowd the hash space.
pub const CHAR_NGRAM_TOKEN_CHARS_MAX: usize = 32;

/// The most header lines read from an e-mail's header block.
///
/// Real messages carry tens of header lines; mailing-list traffic up to about
/// a hundred. Past this the block is treated as body text.
pub const EMAIL_HEADER_LINES_MAX: usize = 200;

/// The fewest and the most hash bits: the feature space holds 2^bits buckets.
///
/// Below 2^18 buckets word and character n-grams of a few thousand e-mails
/// collide often enough to cost accuracy; above 2^20 the bucket table (a
/// weight and an IDF, 8 bytes a bucket) passes 8 MiB and falls out of cache,
/// which slows scoring, without a measurable gain on our corpora (2^18 and
/// 2^20 score the same F1 there; see BENCHMARKS.md).
pub const HASH_BITS_MIN: u8 = 18;
/// See [`HASH_BITS_MIN`].
pub const HASH_BITS_MAX: u8 = 20;

/// The longest word n-gram (1 = words, 2 = words and pairs of words).
///
/// Longer n-grams multiply the features per text and rarely repeat.
pub const WORD_NGRAM_MAX: u8 = 3;

/// The longest character n-gram.
///
/// Character n-grams past six letters are nearly whole words, which the word
/// features already carry.
pub const CHAR_NGRAM_MAX: u8 = 6;

/// The most documents in one training set.
///
/// Training holds every document's features in memory (about 20 KB for an
/// average e-mail); 200,000 e-mails is about 4 GB at most, and far more
/// labelled examples than analysts produce between retrains.
pub const TRAINING_DOCUMENTS_MAX: usize = 200_000;

/// The most decisions read to train a model from analysts' decisions
/// (`warden classifier train --from-decisions`, the scheduled retrain).
///
/// Each is one text of at most [`TEXT_BYTES_MAX`] bytes, usually a post of
/// a few hundred; 50,000 recent decisions are far more than a category
/// gathers between retrains and keep one retrain within seconds and a few
/// hundred megabytes at worst.
pub const FEEDBACK_DECISIONS_MAX: usize = 50_000;

/// The fewest examples of each class a retrain from decisions needs.
///
/// Fewer cannot be split into training, validation and held-out slices
/// that say anything; the retrain is refused with the counts.
pub const FEEDBACK_CLASS_EXAMPLES_MIN: usize = 5;

/// The longest line of a JSON Lines training or evaluation file, in bytes.
///
/// A line holds one document: its text (at most [`TEXT_BYTES_MAX`]) as a
/// JSON string, where escaping can grow it (`\n`, `\"`, `\u00e9`), plus
/// its id and label. Four times the text limit covers any realistic
/// escaping; a longer line is refused with its line number.
pub const TRAINING_LINE_BYTES_MAX: usize = 4 * TEXT_BYTES_MAX;

/// The most non-zero feature values held for one training set.
///
/// 8 bytes each: 400 million is 3.2 GB, the memory the training machine can
/// spare. Training stops with an error naming this limit rather than swap.
pub const TRAINING_FEATURE_VALUES_MAX: usize = 400_000_000;

/// The most passes over the training set.
///
/// The dual coordinate-descent solvers converge in tens of passes on text;
/// past this they are not converging and more passes will not help.
pub const EPOCHS_MAX: u32 = 1_000;

/// The largest and smallest regularisation constant C accepted.
///
/// Outside this range the solvers either learn nothing (all weights zero) or
/// take very many passes to converge without a better model.
pub const REGULARISATION_MIN: f64 = 1e-4;
/// See [`REGULARISATION_MIN`].
pub const REGULARISATION_MAX: f64 = 1e4;

/// The largest serialized model, in bytes.
///
/// A model holds at most 2^20 weights and 2^20 IDF values, each 4 bytes plus
/// an index of up to 4 bytes: 16 MiB is the most a valid model can take,
/// with room for its header; anything larger is not a model.
pub const MODEL_BYTES_MAX: usize = 17 * 1024 * 1024;

/// The longest model name, in bytes (names are `[a-z0-9_.-]`).
///
/// Names appear in rules (`classifier_score("name")`) and on the command
/// line; 64 is plenty for a descriptive name.
pub const MODEL_NAME_BYTES_MAX: usize = 64;

/// The largest metrics document stored with a model version, in bytes.
///
/// Metrics are a few numbers and names (precision, recall, F1, AUC, the
/// data they were measured on); 64 KiB bounds what a caller can attach.
pub const MODEL_METRICS_BYTES_MAX: usize = 64 * 1024;

/// The longest note stored with a model version, in characters.
///
/// A sentence or two on why the version exists; the same bound as an
/// override reason.
pub const MODEL_NOTE_CHARS_MAX: usize = 2_000;

/// The longest class label (`spam`, `ham`, a taxonomy category), in bytes.
pub const LABEL_BYTES_MAX: usize = 64;

/// The most features [`crate::Model::explain`] returns.
///
/// An analyst reads the top few; a case page shows at most a few dozen.
pub const EXPLAIN_FEATURES_MAX: usize = 100;

/// The most strings remembered per hash bucket when explaining a score.
///
/// Colliding n-grams share a bucket; three of them are enough to show what
/// the bucket stands for.
pub const EXPLAIN_NAMES_PER_FEATURE_MAX: usize = 3;

const _: () = assert!(HASH_BITS_MIN <= HASH_BITS_MAX && HASH_BITS_MAX <= 24);
const _: () = assert!(
    MODEL_BYTES_MAX >= 2 * (1 << HASH_BITS_MAX as usize) * 8,
    "a model of the largest hash space must fit"
);

/// The smallest table: a short message touches a few hundred buckets.
pub const TABLE_SLOTS_MIN: usize = 1024;

/// The shortest word kept, in characters: one-letter words are mostly noise,
/// and the character n-grams see them anyway.
pub const WORD_CHARS_MIN: usize = 2;

/// The longest header field name read, in bytes (RFC 5322 lines are at most
/// 998 bytes; real names are under 40).
pub const HEADER_NAME_BYTES_MAX: usize = 76;

/// Newton steps at most per subproblem (LIBLINEAR's value).
pub const NEWTON_STEPS_MAX: usize = 100;

/// The largest held-out share accepted: at least a tenth of the documents
/// must remain to train on.
pub const HOLDOUT_MAX: f64 = 0.9;

/// Newton iterations of the calibration at most.
pub const ITERATIONS_MAX: usize = 100;

/// The smallest backtracking step of the calibration before giving up.
pub const STEP_MIN: f64 = 1e-10;
