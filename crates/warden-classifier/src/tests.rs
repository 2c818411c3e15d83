//! Tests of training, scoring, explaining and the model's bytes, on a small
//! generated corpus (the public corpora are in `tests/corpus.rs`).
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

use crate::format::{FORMAT_VERSION, MAGIC};
use crate::limits::{
    EXPLAIN_FEATURES_MAX, MODEL_BYTES_MAX, TEXT_BYTES_MAX, TRAINING_DOCUMENTS_MAX,
};
use crate::*;

/// A deterministic corpus: spam draws on one vocabulary, ham on another,
/// both on a shared one, so that the task is learnable but not trivial.
pub(crate) fn corpus(count: usize) -> Vec<(String, String, bool)> {
    const SPAM: &[&str] = &[
        "win",
        "free",
        "prize",
        "cash",
        "claim",
        "now",
        "urgent",
        "offer",
        "£1000",
        "txt",
        "click",
        "winner",
        "guaranteed",
        "call",
        "08001234567",
    ];
    const HAM: &[&str] = &[
        "meeting", "tomorrow", "lunch", "project", "report", "thanks", "see", "you", "later",
        "dinner", "home", "mum", "train", "office", "weekend",
    ];
    const SHARED: &[&str] = &[
        "the", "to", "and", "is", "for", "it", "this", "today", "please",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    (0..count)
        .map(|i| {
            let positive = next(3) == 0;
            let own = if positive { SPAM } else { HAM };
            let other = if positive { HAM } else { SPAM };
            let words: Vec<&str> = (0..8 + next(10))
                .map(|_| match next(10) {
                    0..=4 => own[next(own.len())],
                    5 => other[next(other.len())],
                    _ => SHARED[next(SHARED.len())],
                })
                .collect();
            (format!("doc-{i}"), words.join(" "), positive)
        })
        .collect()
}

fn examples(corpus: &[(String, String, bool)]) -> Vec<Example<'_>> {
    corpus
        .iter()
        .map(|(id, text, positive)| Example {
            id,
            text,
            positive: *positive,
        })
        .collect()
}

fn labels() -> Labels {
    Labels::new("spam", "ham").unwrap()
}

fn options(kind: ModelKind) -> TrainingOptions {
    TrainingOptions {
        features: FeatureConfig {
            hash_bits: 18,
            ..FeatureConfig::default()
        },
        ..TrainingOptions::for_kind(kind)
    }
}

fn trained(kind: ModelKind, seed: u64) -> Model {
    let corpus = corpus(600);
    train(
        &examples(&corpus),
        labels(),
        &TrainingOptions {
            seed,
            ..options(kind)
        },
        &mut |_| {},
    )
    .unwrap()
}

#[test]
fn both_models_learn_the_generated_corpus() {
    let test = corpus(900);
    let test = &test[600..];
    for kind in [ModelKind::LinearSvm, ModelKind::LogisticRegression] {
        let model = trained(kind, 1);
        let mut scorer = model.scorer();
        let scores: Vec<f64> = test.iter().map(|d| scorer.score(&d.1).unwrap()).collect();
        let truth: Vec<bool> = test.iter().map(|d| d.2).collect();
        let evaluation = Evaluation::new(&scores, &truth, 0.5);
        assert!(evaluation.f1 > 0.9, "{kind:?}: {evaluation:?}");
        assert!(evaluation.auc.unwrap() > 0.97, "{kind:?}: {evaluation:?}");
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
        assert_eq!(model.kind(), kind);
        assert_eq!(
            model.summary().documents + model.summary().validation_documents,
            600
        );
    }
}

#[test]
fn training_is_deterministic_with_a_seed() {
    for kind in [ModelKind::LinearSvm, ModelKind::LogisticRegression] {
        let first = trained(kind, 7);
        let second = trained(kind, 7);
        assert_eq!(first.to_bytes(), second.to_bytes(), "{kind:?}");
        let other = trained(kind, 8);
        assert_ne!(first.to_bytes(), other.to_bytes(), "{kind:?}: another seed");
    }
}

#[test]
fn a_saved_model_reads_back_and_scores_bit_for_bit() {
    let texts = [
        "win a free prize now, call 08001234567",
        "see you at lunch tomorrow",
        "",
        "ÉCOLE straße £1000 !!!",
        "Subject: urgent\nFrom: x@example.com\n\nclaim your cash",
    ];
    for kind in [ModelKind::LinearSvm, ModelKind::LogisticRegression] {
        let model = trained(kind, 3);
        let bytes = model.to_bytes();
        let read = Model::from_bytes(&bytes).unwrap();
        assert_eq!(read, model);
        assert_eq!(read.to_bytes(), bytes);
        let (mut a, mut b) = (model.scorer(), read.scorer());
        for text in texts {
            assert_eq!(
                a.score(text).unwrap().to_bits(),
                b.score(text).unwrap().to_bits(),
                "{kind:?}: {text:?}"
            );
            assert_eq!(
                a.margin(text).unwrap().to_bits(),
                b.margin(text).unwrap().to_bits()
            );
        }
        // Compact: sparse weights, not 2^18 dense floats and IDFs.
        assert!(bytes.len() < (1 << 18) * 4, "{} bytes", bytes.len());
    }
}

#[test]
fn damaged_bytes_are_refused_with_the_reason() {
    let bytes = trained(ModelKind::LinearSvm, 1).to_bytes();
    let error = |bytes: &[u8]| Model::from_bytes(bytes).unwrap_err().to_string();

    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    assert_eq!(
        error(&flipped),
        "model: checksum mismatch: the bytes are corrupt"
    );

    assert!(error(&bytes[..bytes.len() - 1]).contains("truncated"));
    assert!(error(&bytes[..10]).contains("bad magic"));
    assert!(error(b"not a model at all, just text").contains("bad magic"));

    let mut version = bytes.clone();
    version[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(error(&version).contains(&format!("format version {}", FORMAT_VERSION + 1)));

    // A valid checksum over a payload with a byte too many.
    let mut padded = bytes[22..].to_vec();
    padded.push(0);
    let mut rebuilt = MAGIC.to_vec();
    rebuilt.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    rebuilt.extend_from_slice(&(padded.len() as u32).to_le_bytes());
    rebuilt.extend_from_slice(
        &crate::hashing::finalize(crate::hashing::fnv1a_64(&padded)).to_le_bytes(),
    );
    rebuilt.extend_from_slice(&padded);
    assert_eq!(error(&rebuilt), "model: 1 unexpected bytes after the model");

    // A valid checksum over a payload with an unknown model kind.
    let mut kind = bytes[22..].to_vec();
    kind[0] = 9;
    let mut rebuilt = MAGIC.to_vec();
    rebuilt.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    rebuilt.extend_from_slice(&(kind.len() as u32).to_le_bytes());
    rebuilt.extend_from_slice(
        &crate::hashing::finalize(crate::hashing::fnv1a_64(&kind)).to_le_bytes(),
    );
    rebuilt.extend_from_slice(&kind);
    assert_eq!(error(&rebuilt), "model: unknown model kind 9");

    let mut huge = MAGIC.to_vec();
    huge.resize(MODEL_BYTES_MAX + 1, 0);
    assert!(error(&huge).contains("more than"));
}

#[test]
fn explanations_name_what_drove_the_score() {
    let model = trained(ModelKind::LinearSvm, 1);
    let text = "URGENT: claim your free prize now";
    let explanation = model.explain(text, 5).unwrap();
    assert_eq!(
        explanation.margin.to_bits(),
        model.scorer().margin(text).unwrap().to_bits(),
        "the explanation's margin is the score's"
    );
    assert_eq!(explanation.score, model.score(text).unwrap());
    assert!(explanation.score > 0.5);
    assert_eq!(explanation.contributions.len(), 5);
    let listed: f64 = explanation
        .contributions
        .iter()
        .map(|c| c.contribution)
        .sum();
    assert!((explanation.bias + listed + explanation.rest - explanation.margin).abs() < 1e-5);
    // Strongest first.
    for pair in explanation.contributions.windows(2) {
        assert!(pair[0].contribution.abs() >= pair[1].contribution.abs());
    }
    // The strongest features are spam words (or n-grams of them).
    let top = &explanation.contributions[0];
    assert!(top.contribution > 0.0, "{top:?}");
    let spam_words = ["urgent", "claim", "free", "prize", "now"];
    assert!(
        top.features.iter().any(|f| spam_words
            .iter()
            .any(|w| f.name.contains(w) || w.contains(f.name.trim()))),
        "{top:?}"
    );
    let wide = model.explain(text, 30).unwrap();
    let words: Vec<&str> = wide
        .contributions
        .iter()
        .flat_map(|c| c.features.iter())
        .filter(|f| f.kind == FeatureKind::Word)
        .map(|f| f.name.as_str())
        .collect();
    assert!(
        words.iter().any(|w| spam_words.contains(w)),
        "{words:?} in {wide:#?}"
    );

    let all = model.explain(text, usize::MAX).unwrap();
    assert!(all.contributions.len() <= EXPLAIN_FEATURES_MAX);
    let everything: f64 = all.contributions.iter().map(|c| c.contribution).sum();
    if all.rest == 0.0 {
        assert!((all.bias + everything - all.margin).abs() < 1e-5);
    }
}

#[test]
fn training_refuses_bad_input_naming_it() {
    let corpus = corpus(50);
    let all = examples(&corpus);
    let one_class: Vec<Example<'_>> = all.iter().copied().filter(|e| e.positive).collect();
    let error = train(
        &one_class,
        labels(),
        &TrainingOptions::default(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with("examples: need at least one spam and one ham"),
        "{error}"
    );

    let long = "a".repeat(TEXT_BYTES_MAX + 1);
    let mut with_long = all.clone();
    with_long.push(Example {
        id: "too-long",
        text: &long,
        positive: false,
    });
    let error = train(
        &with_long,
        labels(),
        &TrainingOptions::default(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        format!(
            "document \"too-long\": text: is {} bytes, more than the {TEXT_BYTES_MAX} allowed",
            TEXT_BYTES_MAX + 1
        )
    );

    let too_many = vec![all[0]; TRAINING_DOCUMENTS_MAX + 1];
    let error = train(
        &too_many,
        labels(),
        &TrainingOptions::default(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with("examples: 200001 documents are more than"),
        "{error}"
    );

    let bad_options = [
        (
            TrainingOptions {
                regularisation: 0.0,
                ..TrainingOptions::default()
            },
            "regularisation",
        ),
        (
            TrainingOptions {
                regularisation: f64::NAN,
                ..TrainingOptions::default()
            },
            "regularisation",
        ),
        (
            TrainingOptions {
                epochs_max: 0,
                ..TrainingOptions::default()
            },
            "epochs_max",
        ),
        (
            TrainingOptions {
                patience: 0,
                ..TrainingOptions::default()
            },
            "patience",
        ),
        (
            TrainingOptions {
                validation_share: 0.6,
                ..TrainingOptions::default()
            },
            "validation_share",
        ),
        (
            TrainingOptions {
                tolerance: 0.0,
                ..TrainingOptions::default()
            },
            "tolerance",
        ),
        (
            TrainingOptions {
                features: FeatureConfig {
                    hash_bits: 30,
                    ..FeatureConfig::default()
                },
                ..TrainingOptions::default()
            },
            "hash_bits",
        ),
    ];
    for (options, field) in bad_options {
        let error = train(&all, labels(), &options, &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(error.starts_with(&format!("{field}:")), "{error}");
    }
}

#[test]
fn a_training_set_at_the_document_limit_is_accepted() {
    // TRAINING_DOCUMENTS_MAX tiny documents: the check passes and training
    // runs (one pass, no validation, to keep the test quick).
    let corpus = corpus(2);
    let spam = Example {
        id: "s",
        text: "win",
        positive: true,
    };
    let ham = Example {
        id: &corpus[0].0,
        text: "lunch",
        positive: false,
    };
    let mut many = vec![ham; TRAINING_DOCUMENTS_MAX];
    many[0] = spam;
    let options = TrainingOptions {
        epochs_max: 1,
        validation_share: 0.0,
        features: FeatureConfig {
            hash_bits: 18,
            char_ngrams: None,
            ..FeatureConfig::default()
        },
        ..TrainingOptions::default()
    };
    let model = train(&many, labels(), &options, &mut |_| {}).unwrap();
    assert_eq!(model.summary().documents, TRAINING_DOCUMENTS_MAX as u64);
}

#[test]
fn progress_is_reported() {
    let corpus = corpus(600);
    let mut counted = 0;
    let mut epochs = 0;
    train(
        &examples(&corpus),
        labels(),
        &options(ModelKind::LinearSvm),
        &mut |p| match p {
            Progress::Counted { done, total } => {
                assert_eq!(total, 600);
                counted = done;
            }
            Progress::Epoch {
                epoch,
                validation_loss,
                ..
            } => {
                epochs = epoch;
                assert!(validation_loss.is_some());
            }
        },
    )
    .unwrap();
    assert_eq!(counted, 600);
    assert!(epochs >= 1);
}

#[test]
fn class_weights_follow_the_option() {
    let corpus = corpus(600);
    let positives = corpus.iter().filter(|d| d.2).count() as f64;
    let balanced = train(
        &examples(&corpus),
        labels(),
        &TrainingOptions {
            class_weight: ClassWeight::Balanced,
            validation_share: 0.0,
            ..options(ModelKind::LinearSvm)
        },
        &mut |_| {},
    )
    .unwrap();
    let (p, n) = balanced.summary().class_weights;
    assert!((p - 600.0 / (2.0 * positives)).abs() < 1e-12);
    assert!((n - 600.0 / (2.0 * (600.0 - positives))).abs() < 1e-12);
    assert_eq!(
        trained(ModelKind::LinearSvm, 1).summary().class_weights,
        (1.0, 1.0)
    );
    assert!(ClassWeight::parse("heavy")
        .unwrap_err()
        .to_string()
        .starts_with("class_weight:"));
}

#[test]
fn names_and_labels_are_checked() {
    for good in ["spam", "toxicity-v2", "a", "0day", &"a".repeat(64)] {
        assert!(check_model_name(good).is_ok(), "{good}");
    }
    for bad in ["", "Spam", "spam model", "-spam", "spam/1", &"a".repeat(65)] {
        let error = check_model_name(bad).unwrap_err().to_string();
        assert!(error.starts_with("name:"), "{bad}: {error}");
    }
    assert!(Labels::new("spam", "spam").is_err());
    assert!(Labels::new("", "ham").is_err());
    assert!(Labels::new(&"x".repeat(65), "ham").is_err());
    assert!(Labels::new(&"x".repeat(64), "ham").is_ok());
    assert_eq!(ModelKind::parse("svm").unwrap(), ModelKind::LinearSvm);
    assert!(ModelKind::parse("forest")
        .unwrap_err()
        .to_string()
        .starts_with("model:"));
}

#[test]
fn texts_without_features_train_and_score_without_failing() {
    let ids: Vec<String> = (0..40).map(|i| format!("e{i}")).collect();
    let examples: Vec<Example<'_>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Example {
            id,
            text: if i % 2 == 0 { "" } else { "  \n\t " },
            positive: i % 3 == 0,
        })
        .collect();
    for kind in [ModelKind::LinearSvm, ModelKind::LogisticRegression] {
        let model = train(&examples, labels(), &options(kind), &mut |_| {}).unwrap();
        let score = model.score("anything at all").unwrap();
        assert!(
            score.is_finite() && (0.0..=1.0).contains(&score),
            "{kind:?}: {score}"
        );
        assert_eq!(Model::from_bytes(&model.to_bytes()).unwrap(), model);
    }
}
