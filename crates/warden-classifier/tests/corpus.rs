//! The classifier on the public corpora in `../shared/data/` (beside the
//! workspace, never copied into it): each is split by id hash, a model is
//! trained with the default options on the training slice, and its F1 on
//! the held-out slice must reach a floor measured on this split — above
//! scikit-learn's HashingVectorizer + LogisticRegression (0.929 and 0.732)
//! and TF-IDF + LinearSVC (0.974 and 0.949) on the same split (see
//! BENCHMARKS.md and bench/sklearn_baseline.py).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use warden_classifier::{train, Evaluation, Example, Holdout, Labels, TrainingOptions};

/// One labelled document.
struct Document {
    id: String,
    text: String,
    spam: bool,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

fn read(name: &str) -> Vec<Document> {
    let path = data_dir().join(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!(
            "labelled data missing: cannot open {} ({e}). The corpora must be in shared/data \
             beside the workspace (see shared/data/README.md).",
            path.display()
        )
    });
    std::io::BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            Document {
                id: value["id"].as_str().unwrap().to_string(),
                text: value["text"].as_str().unwrap().to_string(),
                spam: value["label"] == "spam",
            }
        })
        .collect()
}

/// Trains on the training slice with the default options and evaluates on
/// the held-out slice.
fn held_out_evaluation(documents: &[Document]) -> Evaluation {
    let holdout = Holdout::default();
    let (test, training): (Vec<&Document>, Vec<&Document>) =
        documents.iter().partition(|d| holdout.holds_out(&d.id));
    let examples: Vec<Example<'_>> = training
        .iter()
        .map(|d| Example {
            id: &d.id,
            text: &d.text,
            positive: d.spam,
        })
        .collect();
    let labels = Labels::new("spam", "ham").unwrap();
    let model = train(&examples, labels, &TrainingOptions::default(), &mut |_| {}).unwrap();
    let mut scorer = model.scorer();
    let scores: Vec<f64> = test
        .iter()
        .map(|d| scorer.score(&d.text).unwrap())
        .collect();
    let truth: Vec<bool> = test.iter().map(|d| d.spam).collect();
    Evaluation::new(&scores, &truth, 0.5)
}

#[test]
fn spamassassin_held_out_f1_reaches_its_floor() {
    let documents = read("spamassassin.jsonl.gz");
    assert_eq!(documents.len(), 4_854);
    let evaluation = held_out_evaluation(&documents);
    assert_eq!(evaluation.n, 980);
    assert!(evaluation.f1 >= SPAMASSASSIN_F1_FLOOR, "{evaluation:?}");
    assert!(evaluation.auc.unwrap() >= 0.998, "{evaluation:?}");
}

#[test]
fn sms_held_out_f1_reaches_its_floor() {
    let documents = read("sms-spam.jsonl.gz");
    assert_eq!(documents.len(), 2_450);
    let evaluation = held_out_evaluation(&documents);
    assert_eq!(evaluation.n, 513);
    assert!(evaluation.f1 >= SMS_F1_FLOOR, "{evaluation:?}");
    assert!(evaluation.auc.unwrap() >= 0.99, "{evaluation:?}");
}

/// Measured 0.9879 on this split (training is deterministic), less a margin
/// of a few documents for floating-point differences across platforms;
/// still above scikit-learn's TF-IDF + LinearSVC (0.9739).
const SPAMASSASSIN_F1_FLOOR: f64 = 0.98;
/// Measured 0.9635 on this split, less a margin of about two documents;
/// still above scikit-learn's TF-IDF + LinearSVC (0.9489).
const SMS_F1_FLOOR: f64 = 0.95;
