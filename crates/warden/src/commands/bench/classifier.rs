//! `warden bench classifier`: the triage classifier on the public corpora.
//! Trains on the SpamAssassin split (default options), prints the training
//! time, F1 on both corpora (each trained on its own split), the time to
//! train on 5,000 documents, then times prediction over the SpamAssassin
//! test texts repeated to at least 50 MB on one thread. The last line is
//! `classifier: N MB/s`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};

use warden_classifier::{train, Example, Holdout, Labels, Model, TrainingOptions};

use crate::cli::DocumentFields;
use crate::commands::classifier::{measure, read_documents, Document};

use crate::commands::bench::limits::PREDICTION_BYTES_MIN;

/// Runs the benchmark, reading the corpora from `data` (default
/// `../shared/data`).
pub fn run(data: Option<&Path>) -> Result<ExitCode> {
    let (spamassassin, sms) = read_corpora(data)?;
    let options = TrainingOptions::default();
    println!(
        "model: {} (C = {}), 2^{} buckets, seed {}; held-out share {}",
        options.kind.as_str(),
        options.regularisation,
        options.features.hash_bits,
        options.seed,
        Holdout::default().share()
    );

    let (model, seconds, trained) = train_split(&spamassassin, &options)?;
    println!(
        "train: {trained} SpamAssassin e-mails in {seconds:.2} s ({} non-zero weights, {} bytes)",
        model.non_zero_weights(),
        model.to_bytes().len()
    );
    let test = held_out(&spamassassin);
    let measured = measure(&model, &test)?;
    println!("spamassassin held-out: {}", measured.line());
    let (sms_model, sms_seconds, sms_trained) = train_split(&sms, &options)?;
    let sms_measured = measure(&sms_model, &held_out(&sms))?;
    println!(
        "sms held-out ({sms_trained} trained in {sms_seconds:.2} s): {}",
        sms_measured.line()
    );

    // 5,000 documents: every SpamAssassin e-mail, then SMS messages.
    let five_thousand: Vec<Document> = spamassassin
        .iter()
        .chain(sms.iter())
        .take(5_000)
        .cloned()
        .collect();
    let examples = examples(five_thousand.iter());
    let started = Instant::now();
    train(
        &examples,
        Labels::new("spam", "ham")?,
        &options,
        &mut |_| {},
    )?;
    println!(
        "train: {} documents ({} e-mails, {} SMS) in {:.2} s (target < 10 s)",
        examples.len(),
        spamassassin.len().min(5_000),
        examples.len().saturating_sub(spamassassin.len()),
        started.elapsed().as_secs_f64()
    );

    predict_throughput(&model, &test)?;
    Ok(ExitCode::SUCCESS)
}

/// The SpamAssassin and SMS corpora from `data` (default `../shared/data`).
fn read_corpora(data: Option<&Path>) -> Result<(Vec<Document>, Vec<Document>)> {
    let dir = data.map_or_else(|| PathBuf::from("../shared/data"), Path::to_path_buf);
    let spamassassin_path = dir.join("spamassassin.jsonl.gz");
    let sms_path = dir.join("sms-spam.jsonl.gz");
    if !spamassassin_path.exists() || !sms_path.exists() {
        bail!(
            "the labelled corpora are not in {} (spamassassin.jsonl.gz, sms-spam.jsonl.gz); pass --data DIR",
            dir.display()
        );
    }
    let fields = DocumentFields {
        text_field: "text".into(),
        label_field: "label".into(),
        id_field: "id".into(),
    };
    let spamassassin = read_documents(&spamassassin_path, &fields)?;
    let sms = read_documents(&sms_path, &fields)?;
    Ok((spamassassin, sms))
}

/// Prediction: the test e-mails again and again, one thread; prints the
/// benchmark's last line.
fn predict_throughput(model: &Model, test: &[Document]) -> Result<()> {
    let texts: Vec<&str> = test.iter().map(|d| d.text.as_str()).collect();
    let mut scorer = model.scorer();
    let (mut bytes, mut passes, mut flagged) = (0usize, 0usize, 0usize);
    let started = Instant::now();
    while bytes < PREDICTION_BYTES_MIN {
        for text in &texts {
            if scorer.score(text)? >= 0.5 {
                flagged += 1;
            }
            bytes += text.len();
        }
        passes += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "predict: {:.1} MB in {seconds:.2} s on one thread ({passes} passes over {} e-mails, {flagged} flagged)",
        bytes as f64 / 1e6,
        texts.len()
    );
    println!("classifier: {:.1} MB/s", bytes as f64 / 1e6 / seconds);
    Ok(())
}

fn examples<'a>(documents: impl Iterator<Item = &'a Document>) -> Vec<Example<'a>> {
    documents
        .map(|d| Example {
            id: &d.id,
            text: &d.text,
            positive: d.label == "spam",
        })
        .collect()
}

fn held_out(documents: &[Document]) -> Vec<Document> {
    let holdout = Holdout::default();
    documents
        .iter()
        .filter(|d| holdout.holds_out(&d.id))
        .cloned()
        .collect()
}

/// Trains on the documents outside the default held-out slice.
fn train_split(documents: &[Document], options: &TrainingOptions) -> Result<(Model, f64, usize)> {
    let holdout = Holdout::default();
    let examples = examples(documents.iter().filter(|d| !holdout.holds_out(&d.id)));
    let started = Instant::now();
    let model = train(&examples, Labels::new("spam", "ham")?, options, &mut |_| {})?;
    Ok((model, started.elapsed().as_secs_f64(), examples.len()))
}
