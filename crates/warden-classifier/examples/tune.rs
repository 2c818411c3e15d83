//! The tuning harness behind BENCHMARKS.md's "how the defaults were
//! chosen": trains and evaluates configurations on the corpora in
//! `../shared/data/` over several id-hash splits and prints one line per
//! run. Run from the repository root:
//!
//! ```text
//! KIND=svm,lr C=1,100 SPLITS=5 cargo run --release -p warden-classifier --example tune
//! ```
//!
//! Settings (environment): `KIND` (`svm`, `lr`, comma-separated), `C`
//! (comma-separated), `BITS` (18), `WORDS` (2), `CHARS` (`2,4` or `none`),
//! `SUB` and `IDF` (1 or 0), `HEADERS` (1 or 0), `CW` (`equal`,
//! `balanced`), `VAL` (0.1), `SPLITS` (1: the official split; split `s > 0`
//! holds out ids whose `unit(fnv1a_64(id) ^ finalize(s))` is below 0.2),
//! `FILES` (`spamassassin,sms-spam`), `DATA` (`../shared/data`).

use std::error::Error;
use std::io::BufRead;
use std::time::Instant;

use warden_classifier::hashing::{finalize, fnv1a_64, unit_interval};
use warden_classifier::{
    train, ClassWeight, Evaluation, Example, FeatureConfig, Holdout, Labels, ModelKind,
    TrainingOptions,
};

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn list<T: std::str::FromStr>(name: &str, default: &str) -> Result<Vec<T>, Box<dyn Error>>
where
    T::Err: Error + 'static,
{
    setting(name, default)
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<T>()
                .map_err(|e| format!("{name}: {e}").into())
        })
        .collect()
}

struct Document {
    id: String,
    text: String,
    spam: bool,
}

fn read(path: &str) -> Result<Vec<Document>, Box<dyn Error>> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut documents = Vec::new();
    for line in std::io::BufReader::new(flate2::read::GzDecoder::new(file)).lines() {
        let value: serde_json::Value = serde_json::from_str(&line?)?;
        documents.push(Document {
            id: value["id"]
                .as_str()
                .ok_or("id is not a string")?
                .to_string(),
            text: value["text"]
                .as_str()
                .ok_or("text is not a string")?
                .to_string(),
            spam: value["label"] == "spam",
        });
    }
    Ok(documents)
}

/// The feature configuration from `CHARS`, `BITS`, `WORDS`, `SUB`, `IDF` and `HEADERS`.
fn features() -> Result<FeatureConfig, Box<dyn Error>> {
    let chars = setting("CHARS", "2,4");
    let char_ngrams = if chars == "none" {
        None
    } else {
        let bounds: Vec<u8> = list("CHARS", "2,4")?;
        Some((bounds[0], *bounds.get(1).unwrap_or(&bounds[0])))
    };
    Ok(FeatureConfig {
        hash_bits: setting("BITS", "18").parse()?,
        word_ngrams: setting("WORDS", "2").parse()?,
        char_ngrams,
        sublinear_tf: setting("SUB", "1") == "1",
        idf: setting("IDF", "1") == "1",
        email_headers: setting("HEADERS", "1") == "1",
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let kinds = setting("KIND", "svm,lr")
        .split(',')
        .map(ModelKind::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let regularisations: Vec<f64> = list("C", "1")?;
    let features = features()?;
    let splits: u64 = setting("SPLITS", "1").parse()?;
    let data = setting("DATA", "../shared/data");
    for file in setting("FILES", "spamassassin,sms-spam").split(',') {
        let documents = read(&format!("{data}/{file}.jsonl.gz"))?;
        for split in 0..splits {
            let held_out = |id: &str| {
                if split == 0 {
                    Holdout::default().holds_out(id)
                } else {
                    unit_interval(fnv1a_64(id.as_bytes()) ^ finalize(split)) < 0.2
                }
            };
            let training: Vec<Example<'_>> = documents
                .iter()
                .filter(|d| !held_out(&d.id))
                .map(|d| Example {
                    id: &d.id,
                    text: &d.text,
                    positive: d.spam,
                })
                .collect();
            let test: Vec<&Document> = documents.iter().filter(|d| held_out(&d.id)).collect();
            let megabytes = test.iter().map(|d| d.text.len()).sum::<usize>() as f64 / 1e6;
            let truth: Vec<bool> = test.iter().map(|d| d.spam).collect();
            for &kind in &kinds {
                for &regularisation in &regularisations {
                    let options = TrainingOptions {
                        kind,
                        features,
                        regularisation,
                        class_weight: ClassWeight::parse(&setting("CW", "equal"))?,
                        validation_share: setting("VAL", "0.1").parse()?,
                        ..TrainingOptions::default()
                    };
                    let started = Instant::now();
                    let labels = Labels::new("spam", "ham")?;
                    let model = train(&training, labels, &options, &mut |_| {})?;
                    let train_seconds = started.elapsed().as_secs_f64();
                    let mut scorer = model.scorer();
                    let started = Instant::now();
                    let scores = test
                        .iter()
                        .map(|d| scorer.score(&d.text))
                        .collect::<Result<Vec<f64>, _>>()?;
                    let predict_seconds = started.elapsed().as_secs_f64();
                    let e = Evaluation::new(&scores, &truth, 0.5);
                    println!(
                        "{file:13} s{split} {:3} C={regularisation:<6} f1 {:.4} p {:.4} r {:.4} auc {:.4} | train {train_seconds:.2}s epochs {} | {:.1} MB/s | {} bytes",
                        kind.as_str(),
                        e.f1,
                        e.precision,
                        e.recall,
                        e.auc.unwrap_or(f64::NAN),
                        model.summary().epochs,
                        megabytes / predict_seconds,
                        model.to_bytes().len()
                    );
                }
            }
        }
    }
    Ok(())
}
