//! `warden classifier ...`: train a triage classifier on labelled JSON
//! Lines, measure it on a held-out slice, save it as a version in the
//! store (shadow, or live when it beats the live version), evaluate stored
//! versions, list and promote them. The classifier itself is
//! `warden-classifier`; this file reads files, times, and talks to the store.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use serde_json::{json, Value};

use warden_classifier::limits::{TEXT_BYTES_MAX, TRAINING_DOCUMENTS_MAX, TRAINING_LINE_BYTES_MAX};
use warden_classifier::{
    check_model_name, train, ClassWeight, Evaluation, Example, Holdout, Labels, Model, ModelKind,
    Progress, TrainingOptions,
};
use warden_store::prelude::*;
use warden_store::{Actor, ModelStatus, ModelVersionRecord, NewModelVersion};

use super::open_store;
use crate::cli::{ClassifierCommand, DocumentFields, EvalArgs, TrainArgs};
use crate::config::Config;
use crate::progress;

/// The actor of command-line changes: the operator at the machine.
fn operator() -> Actor {
    Actor {
        user_id: None,
        name: "cli".into(),
        token_id: None,
    }
}

/// Runs a classifier command.
pub async fn run(config: &Config, command: ClassifierCommand) -> Result<ExitCode> {
    match command {
        ClassifierCommand::Train(args) => run_train(config, args).await,
        ClassifierCommand::Eval(args) => run_eval(config, args).await,
        ClassifierCommand::List {
            name,
            format,
            store,
        } => {
            check_format(&format)?;
            let store = open_store(config, &store).await?;
            let versions = store.model_versions(name.as_deref(), 500).await?;
            if format == "json" {
                for record in &versions {
                    println!("{}", record_json(record));
                }
            } else {
                print!("{}", list_table(&versions));
            }
            Ok(ExitCode::SUCCESS)
        }
        ClassifierCommand::Promote {
            name,
            version,
            store,
        } => {
            let store = open_store(config, &store).await?;
            let stored = store
                .model_version(&name, version)
                .await?
                .with_context(|| format!("model {name:?} has no version {version}"))?;
            Model::from_bytes(&stored.bytes).with_context(|| {
                format!("model {name} version {version} does not load; not promoting it")
            })?;
            let record = store
                .promote_model(&operator(), &name, version, Utc::now())
                .await?;
            println!("model {name} version {} is live", record.version);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check_format(format: &str) -> Result<()> {
    if !matches!(format, "json" | "table") {
        bail!("--format must be json or table");
    }
    Ok(())
}

/// `warden classifier train`: from a file, or from decisions.
async fn run_train(config: &Config, args: TrainArgs) -> Result<ExitCode> {
    check_model_name(&args.name).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let holdout = Holdout::new(args.holdout).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let options = training_options(&TrainingFlags {
        model: &args.model,
        seed: args.seed,
        regularisation: args.regularisation,
        hash_bits: args.hash_bits,
        class_weight: &args.class_weight,
    })?;
    if args.from_decisions {
        let request = DecisionsRequest {
            name: args.name,
            category: args.category.unwrap_or_default(),
            since: args.since,
            options,
            holdout,
            note: args.note,
        };
        return train_from_decisions(config, &args.store, request).await;
    }
    let Some(data) = args.data else {
        bail!("--data names the labelled documents (or use --from-decisions)");
    };
    let documents = read_documents(&data, &args.fields)?;
    let request = TrainRequest {
        name: args.name,
        data: &data,
        positive: args.positive,
        options,
        holdout,
        publish: if args.force {
            Publish::LiveAlways
        } else if args.live {
            Publish::LiveIfBetter
        } else {
            Publish::Shadow
        },
        note: args.note,
    };
    let store = open_store(config, &args.store).await?;
    let summary = train_and_save(store.as_ref(), &request, &documents).await?;
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// `warden classifier eval`: scores labelled documents with a stored version.
async fn run_eval(config: &Config, args: EvalArgs) -> Result<ExitCode> {
    let EvalArgs {
        name,
        data,
        fields,
        version,
        shadow,
        holdout,
        format,
        store,
    } = args;
    check_format(&format)?;
    let holdout = holdout
        .map(Holdout::new)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--{e}"))?;
    let store = open_store(config, &store).await?;
    let stored = match (version, shadow) {
        (Some(version), _) => store.model_version(&name, version).await?,
        (None, true) => store.shadow_model(&name).await?,
        (None, false) => store.live_model(&name).await?,
    };
    let Some(stored) = stored else {
        let which = match (version, shadow) {
            (Some(version), _) => format!("no version {version}"),
            (None, true) => "no shadow version".into(),
            (None, false) => "no live version".into(),
        };
        bail!("model {name:?} has {which}; see `warden classifier list`");
    };
    let model = Model::from_bytes(&stored.bytes)
        .with_context(|| format!("cannot read model {name} version {}", stored.record.version))?;
    let mut documents = read_documents(&data, &fields)?;
    if let Some(holdout) = holdout {
        documents.retain(|d| holdout.holds_out(&d.id));
    }
    let measured = measure(&model, &documents)?;
    let (version, status) = (stored.record.version, stored.record.status.as_str());
    if format == "json" {
        let mut body = measured.json();
        if let Value::Object(fields) = &mut body {
            fields.insert("name".into(), json!(name));
            fields.insert("version".into(), json!(version));
            fields.insert("status".into(), json!(status));
            fields.insert("positive".into(), json!(model.labels().positive()));
        }
        println!("{body}");
    } else {
        println!(
            "model {name} version {version} ({status}), positive class {:?}",
            model.labels().positive()
        );
        print!("{}", measured.table());
    }
    Ok(ExitCode::SUCCESS)
}

/// The training flags of `warden classifier train`.
struct TrainingFlags<'a> {
    model: &'a str,
    seed: u64,
    regularisation: Option<f64>,
    hash_bits: Option<u8>,
    class_weight: &'a str,
}

/// Checked training options from the flags.
fn training_options(flags: &TrainingFlags<'_>) -> Result<TrainingOptions> {
    let kind = ModelKind::parse(flags.model).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let class_weight =
        ClassWeight::parse(flags.class_weight).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let mut options = TrainingOptions {
        kind,
        seed: flags.seed,
        class_weight,
        ..TrainingOptions::for_kind(kind)
    };
    if let Some(c) = flags.regularisation {
        options.regularisation = c;
    }
    if let Some(bits) = flags.hash_bits {
        options.features.hash_bits = bits;
    }
    options
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid training option {e}"))?;
    Ok(options)
}

/// A retrain from decisions asked on the command line.
struct DecisionsRequest {
    name: String,
    category: String,
    since: Option<String>,
    options: TrainingOptions,
    holdout: Holdout,
    note: String,
}

/// `--since`: RFC 3339, or a date (its midnight, UTC).
fn parse_since(text: &str) -> Result<warden_domain::Timestamp> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .with_context(|| {
            format!("--since {text:?} is neither an RFC 3339 time nor a date (2026-11-01)")
        })
}

/// `warden classifier train --from-decisions`: the application's retrain,
/// as the operator.
async fn train_from_decisions(
    config: &Config,
    store: &crate::cli::StoreArgs,
    request: DecisionsRequest,
) -> Result<ExitCode> {
    let command = warden_app::classifiers::RetrainCommand {
        name: warden_app::classifiers::ModelName::parse(&request.name)
            .map_err(|e| anyhow::anyhow!(e.chain()))?,
        category: warden_domain::ids::TaxonomyCode::parse(&request.category)
            .map_err(|e| anyhow::anyhow!("--category {:?} {e}", request.category))?,
        since: request.since.as_deref().map(parse_since).transpose()?,
        options: request.options,
        holdout: request.holdout,
        note: request.note,
    };
    let store = open_store(config, store).await?;
    let app = warden_app::App::new(
        store,
        config.case_policy()?,
        config.server_settings(false).app_settings(),
    );
    let outcome = app
        .retrain_from_decisions(&warden_app::Actor::Operator, command)
        .await
        .map_err(|e| anyhow::anyhow!(e.chain()))?;
    println!("{}", retrain_summary(&request.name, &outcome));
    Ok(ExitCode::SUCCESS)
}

/// What a retrain did, in words.
pub(crate) fn retrain_summary(
    name: &str,
    outcome: &warden_app::classifiers::RetrainOutcome,
) -> String {
    let e = &outcome.evaluation;
    let mut out = format!(
        "learnt from {} violations and {} other decisions\nheld-out slice: n {}, precision {:.4}, recall {:.4}, F1 {:.4}, AUC {}",
        outcome.examples.0,
        outcome.examples.1,
        e.n,
        e.precision,
        e.recall,
        e.f1,
        auc_text(e.auc)
    );
    for c in &outcome.compared {
        out.push_str(&format!(
            "\n{} version {}: F1 {:.4}, AUC {}",
            c.status.as_str(),
            c.version,
            c.evaluation.f1,
            auc_text(c.evaluation.auc)
        ));
    }
    match &outcome.saved {
        Some(record) => out.push_str(&format!(
            "\nsaved {name} version {} in shadow; `warden classifier promote --name {name} --version {}` makes it live",
            record.version, record.version
        )),
        None => out.push_str(&format!(
            "\nnot saved: it does not beat the current versions of {name} on the held-out slice"
        )),
    }
    out
}

/// One labelled document read from a file.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub id: String,
    pub text: String,
    pub label: String,
}

/// Reads labelled documents from JSON Lines, gzipped or not (by its first
/// bytes, whatever the name), one object a line; blank lines are skipped.
/// A bad line stops reading with its number and the field at fault.
pub(crate) fn read_documents(path: &Path, fields: &DocumentFields) -> Result<Vec<Document>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress::bar(size, "reading");
    let mut raw = BufReader::new(bar.wrap_read(file));
    let gzipped = raw.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead> = if gzipped {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(raw)))
    } else {
        Box::new(raw)
    };
    let mut documents = Vec::new();
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let read = reader
            .by_ref()
            .take(TRAINING_LINE_BYTES_MAX as u64 + 1)
            .read_until(b'\n', &mut line)
            .with_context(|| format!("cannot read {} (line {})", path.display(), number + 1))?;
        if read == 0 {
            break;
        }
        number += 1;
        if line.len() > TRAINING_LINE_BYTES_MAX {
            bail!(
                "{} line {number}: longer than {TRAINING_LINE_BYTES_MAX} bytes",
                path.display()
            );
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if documents.len() == TRAINING_DOCUMENTS_MAX {
            bail!(
                "{}: more than {TRAINING_DOCUMENTS_MAX} documents; split the file",
                path.display()
            );
        }
        let document = parse_document(&line, fields)
            .with_context(|| format!("{} line {number}", path.display()))?;
        documents.push(document);
    }
    bar.finish_and_clear();
    if documents.is_empty() {
        bail!("{} holds no documents", path.display());
    }
    Ok(documents)
}

fn parse_document(line: &[u8], fields: &DocumentFields) -> Result<Document> {
    let value: Value = serde_json::from_slice(line).context("not a JSON object")?;
    let Value::Object(object) = value else {
        bail!("not a JSON object");
    };
    let text = match object.get(&fields.text_field) {
        Some(Value::String(text)) => text.clone(),
        Some(_) => bail!("field {:?} is not a string", fields.text_field),
        None => bail!(
            "field {:?} is missing (name the text field with --text-field)",
            fields.text_field
        ),
    };
    if text.len() > TEXT_BYTES_MAX {
        bail!(
            "field {:?} is {} bytes, more than the {TEXT_BYTES_MAX} allowed",
            fields.text_field,
            text.len()
        );
    }
    let label = match object.get(&fields.label_field) {
        Some(Value::String(label)) => label.clone(),
        Some(value @ (Value::Bool(_) | Value::Number(_))) => value.to_string(),
        Some(_) => bail!(
            "field {:?} is not a string, number or boolean",
            fields.label_field
        ),
        None => bail!(
            "field {:?} is missing (name the label field with --label-field)",
            fields.label_field
        ),
    };
    let id = match object.get(&fields.id_field) {
        Some(Value::String(id)) => id.clone(),
        Some(value @ Value::Number(_)) => value.to_string(),
        Some(_) => bail!("field {:?} is not a string or number", fields.id_field),
        // Stable under reordering: the text decides the side of the split.
        None => format!(
            "text:{:016x}",
            warden_classifier::hashing::fnv1a_64(text.as_bytes())
        ),
    };
    Ok(Document { id, text, label })
}

/// How a trained version is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Publish {
    /// In shadow.
    Shadow,
    /// Live if it beats the live version on the held-out slice, else shadow.
    LiveIfBetter,
    /// Live regardless.
    LiveAlways,
}

/// A training run to do.
pub(crate) struct TrainRequest<'a> {
    pub name: String,
    pub data: &'a Path,
    pub positive: String,
    pub options: TrainingOptions,
    pub holdout: Holdout,
    pub publish: Publish,
    pub note: String,
}

/// Trains on the documents outside the held-out slice, measures on the
/// slice, compares with the live version when asked, and saves; returns
/// what it did, in words.
pub(crate) async fn train_and_save(
    store: &dyn Store,
    request: &TrainRequest<'_>,
    documents: &[Document],
) -> Result<String> {
    let fitted = fit(request, documents)?;
    let publication = publication(store, request, &fitted).await?;
    let metrics = version_metrics(request, &fitted, publication.compared);
    let record = store
        .save_model_version(
            &operator(),
            NewModelVersion {
                name: request.name.clone(),
                kind: fitted.model.kind().as_str().into(),
                status: publication.status,
                metrics,
                bytes: fitted.bytes,
                note: request.note.clone(),
            },
            Utc::now(),
        )
        .await?;
    let mut summary = format!(
        "trained {} on {} documents ({} {}) in {:.1} s\nheld-out slice: {}",
        fitted.model.kind().as_str(),
        fitted.model.summary().documents + fitted.model.summary().validation_documents,
        fitted.positives,
        request.positive,
        fitted.train_seconds,
        fitted.measured.line()
    );
    summary.push_str(&format!(
        "\nsaved {} version {} ({}, {} bytes)",
        record.name,
        record.version,
        record.status.as_str(),
        record.size_bytes
    ));
    if !publication.verdict.is_empty() {
        summary.push_str(&format!(": {}", publication.verdict));
    }
    Ok(summary)
}

/// A model trained, read back from its bytes, and measured on the held-out
/// slice.
struct Fitted {
    model: Model,
    bytes: Vec<u8>,
    measured: Measured,
    held_out: Vec<Document>,
    /// Positive documents it was trained on.
    positives: usize,
    train_seconds: f64,
}

fn fit(request: &TrainRequest<'_>, documents: &[Document]) -> Result<Fitted> {
    let labels = labels_of(documents, &request.positive)?;
    let (held_out, training): (Vec<&Document>, Vec<&Document>) = documents
        .iter()
        .partition(|d| request.holdout.holds_out(&d.id));
    let examples: Vec<Example<'_>> = training
        .iter()
        .map(|d| Example {
            id: &d.id,
            text: &d.text,
            positive: d.label == request.positive,
        })
        .collect();
    let bar = progress::bar(examples.len() as u64, "counting");
    let started = Instant::now();
    let model = train(
        &examples,
        labels,
        &request.options,
        &mut |step| match step {
            Progress::Counted { done, .. } => bar.set_position(done as u64),
            Progress::Epoch { epoch, .. } => bar.set_message(format!("training, pass {epoch}")),
        },
    )
    .map_err(|e| anyhow::anyhow!("cannot train: {e}"))?;
    bar.finish_and_clear();
    let train_seconds = started.elapsed().as_secs_f64();
    let bytes = model.to_bytes();
    let model = Model::from_bytes(&bytes).context("the trained model does not read back")?;
    let held_out: Vec<Document> = held_out.into_iter().cloned().collect();
    let measured = measure(&model, &held_out)?;
    Ok(Fitted {
        model,
        bytes,
        measured,
        held_out,
        positives: examples.iter().filter(|e| e.positive).count(),
        train_seconds,
    })
}

/// Where a trained version goes, why, and what it was compared with.
struct Publication {
    status: ModelStatus,
    verdict: String,
    compared: Value,
}

/// Shadow, or live when asked and (unless forced) it beats the live
/// version on the held-out slice.
async fn publication(
    store: &dyn Store,
    request: &TrainRequest<'_>,
    fitted: &Fitted,
) -> Result<Publication> {
    let mut publication = Publication {
        status: ModelStatus::Shadow,
        verdict: String::new(),
        compared: Value::Null,
    };
    if request.publish == Publish::Shadow {
        return Ok(publication);
    }
    publication.status = ModelStatus::Live;
    let Some(current) = store.live_model(&request.name).await? else {
        return Ok(publication);
    };
    let version = current.record.version;
    let against = Model::from_bytes(&current.bytes)
        .ok()
        .filter(|m| m.labels().positive() == fitted.model.labels().positive());
    match against {
        Some(current_model) if !fitted.held_out.is_empty() => {
            let theirs = measure(&current_model, &fitted.held_out)?;
            compare_with_live(
                &mut publication,
                request.publish,
                &fitted.measured,
                &theirs,
                version,
            );
        }
        _ if request.publish == Publish::LiveIfBetter => {
            publication.status = ModelStatus::Shadow;
            publication.verdict = format!(
                "it cannot be compared with live version {version} (no held-out documents, another positive class, or an unreadable model), so it stays in shadow; --force publishes it anyway"
            );
        }
        _ => {
            publication.verdict = format!("--force publishes it over live version {version}");
        }
    }
    Ok(publication)
}

/// The verdict against the live version `version`, measured as `theirs` on
/// the same slice.
fn compare_with_live(
    publication: &mut Publication,
    publish: Publish,
    ours: &Measured,
    theirs: &Measured,
    version: i64,
) {
    // Rounded like every figure in the metrics: they go into the audit
    // record, whose hash must survive a JSON round trip (serde_json may
    // read a long float back one ulp off).
    publication.compared = json!({
        "version": version,
        "f1": round(theirs.evaluation.f1, 6),
        "auc": theirs.evaluation.auc.map(|a| round(a, 6)),
    });
    let better = ours.evaluation.beats(&theirs.evaluation);
    publication.verdict = if !better && publish == Publish::LiveIfBetter {
        publication.status = ModelStatus::Shadow;
        format!(
            "it does not beat live version {version} on the held-out slice (F1 {:.4} against {:.4}, AUC {} against {}), so it stays in shadow; --force publishes it anyway",
            ours.evaluation.f1,
            theirs.evaluation.f1,
            auc_text(ours.evaluation.auc),
            auc_text(theirs.evaluation.auc)
        )
    } else if better {
        format!(
            "it beats live version {version} on the held-out slice (F1 {:.4} against {:.4}) and replaces it",
            ours.evaluation.f1, theirs.evaluation.f1
        )
    } else {
        format!(
            "it does not beat live version {version} (F1 {:.4} against {:.4}) but --force publishes it",
            ours.evaluation.f1, theirs.evaluation.f1
        )
    };
}

/// The metrics saved with a version: its measures on the held-out slice and
/// how it was trained.
fn version_metrics(request: &TrainRequest<'_>, fitted: &Fitted, compared: Value) -> Value {
    let mut metrics = fitted.measured.json();
    if let Value::Object(fields) = &mut metrics {
        let model = &fitted.model;
        let summary = model.summary();
        fields.insert("threshold".into(), json!(0.5));
        fields.insert("positive".into(), json!(model.labels().positive()));
        fields.insert("negative".into(), json!(model.labels().negative()));
        fields.insert("holdout".into(), json!(round(request.holdout.share(), 6)));
        fields.insert(
            "data".into(),
            json!(request
                .data
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())),
        );
        fields.insert("trained_on".into(), json!(summary.documents));
        fields.insert("validated_on".into(), json!(summary.validation_documents));
        fields.insert("epochs".into(), json!(summary.epochs));
        fields.insert(
            "regularisation".into(),
            json!(round(summary.regularisation, 9)),
        );
        fields.insert("seed".into(), json!(summary.seed));
        fields.insert(
            "train_seconds".into(),
            json!(round(fitted.train_seconds, 3)),
        );
        fields.insert("compared_with".into(), compared);
    }
    metrics
}

/// The two labels: `positive`, and the single other label in the data (or
/// `not-POSITIVE` when there are several).
fn labels_of(documents: &[Document], positive: &str) -> Result<Labels> {
    let others: BTreeSet<&str> = documents
        .iter()
        .map(|d| d.label.as_str())
        .filter(|l| *l != positive)
        .collect();
    if documents.iter().all(|d| d.label != positive) {
        let seen: Vec<&str> = others.iter().take(5).copied().collect();
        bail!("no document has the label {positive:?} (labels seen: {seen:?}); name the positive class with --positive");
    }
    let negative = match others.len() {
        0 => bail!("every document has the label {positive:?}; training needs other labels too"),
        1 => others
            .iter()
            .next()
            .map(|l| l.to_string())
            .unwrap_or_default(),
        _ => format!("not-{positive}"),
    };
    Labels::new(positive, &negative).map_err(|e| anyhow::anyhow!("--{e}"))
}

/// A model's scores on documents, with the time scoring took.
pub(crate) struct Measured {
    pub evaluation: Evaluation,
    pub mb_per_s: f64,
}

/// Scores every document on one thread and evaluates, the model's positive
/// class being positive.
pub(crate) fn measure(model: &Model, documents: &[Document]) -> Result<Measured> {
    let mut scorer = model.scorer();
    let positive = model.labels().positive();
    let mut scores = Vec::with_capacity(documents.len());
    let mut bytes = 0usize;
    let started = Instant::now();
    for document in documents {
        let score = scorer
            .score(&document.text)
            .with_context(|| format!("document {:?}", document.id))?;
        scores.push(score);
        bytes += document.text.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    let positives: Vec<bool> = documents.iter().map(|d| d.label == positive).collect();
    Ok(Measured {
        evaluation: Evaluation::new(&scores, &positives, 0.5),
        mb_per_s: if seconds > 0.0 {
            bytes as f64 / 1e6 / seconds
        } else {
            0.0
        },
    })
}

impl Measured {
    /// `{"n", "precision", "recall", "f1", "auc", "mb_per_s", "confusion"}`.
    pub(crate) fn json(&self) -> Value {
        let e = &self.evaluation;
        json!({
            "n": e.n,
            "precision": round(e.precision, 6),
            "recall": round(e.recall, 6),
            "f1": round(e.f1, 6),
            "auc": e.auc.map(|a| round(a, 6)),
            "mb_per_s": round(self.mb_per_s, 2),
            "confusion": {
                "true_positives": e.confusion.true_positives,
                "false_positives": e.confusion.false_positives,
                "true_negatives": e.confusion.true_negatives,
                "false_negatives": e.confusion.false_negatives,
            },
        })
    }

    /// One line for a summary.
    pub(crate) fn line(&self) -> String {
        let e = &self.evaluation;
        format!(
            "n {}, precision {:.4}, recall {:.4}, F1 {:.4}, AUC {}, {:.1} MB/s",
            e.n,
            e.precision,
            e.recall,
            e.f1,
            auc_text(e.auc),
            self.mb_per_s
        )
    }

    fn table(&self) -> String {
        let e = &self.evaluation;
        let c = &e.confusion;
        format!(
            "n          {}\nprecision  {:.4}\nrecall     {:.4}\nf1         {:.4}\nauc        {}\nmb_per_s   {:.2}\nconfusion  {} true positives, {} false positives, {} true negatives, {} false negatives\n",
            e.n,
            e.precision,
            e.recall,
            e.f1,
            auc_text(e.auc),
            self.mb_per_s,
            c.true_positives,
            c.false_positives,
            c.true_negatives,
            c.false_negatives
        )
    }
}

fn auc_text(auc: Option<f64>) -> String {
    auc.map_or_else(
        || "undefined (one class only)".into(),
        |a| format!("{a:.4}"),
    )
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

fn record_json(record: &ModelVersionRecord) -> Value {
    json!({
        "name": record.name,
        "version": record.version,
        "status": record.status.as_str(),
        "kind": record.kind,
        "metrics": record.metrics,
        "size_bytes": record.size_bytes,
        "sha256": record.sha256,
        "note": record.note,
        "created_by": record.created_by,
        "created_at": record.created_at.to_rfc3339(),
        "status_changed_at": record.status_changed_at.to_rfc3339(),
    })
}

fn list_table(versions: &[ModelVersionRecord]) -> String {
    if versions.is_empty() {
        return "no classifier models; train one with `warden classifier train`\n".into();
    }
    let mut rows = vec![[
        "NAME".to_string(),
        "VERSION".into(),
        "STATUS".into(),
        "KIND".into(),
        "F1".into(),
        "AUC".into(),
        "BYTES".into(),
        "CREATED".into(),
        "BY".into(),
    ]];
    for r in versions {
        let metric = |key: &str| {
            r.metrics
                .get(key)
                .and_then(Value::as_f64)
                .map_or_else(|| "-".into(), |v| format!("{v:.4}"))
        };
        rows.push([
            r.name.clone(),
            r.version.to_string(),
            r.status.as_str().into(),
            r.kind.clone(),
            metric("f1"),
            metric("auc"),
            r.size_bytes.to_string(),
            r.created_at.format("%Y-%m-%d %H:%M").to_string(),
            r.created_by.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| {
            rows.iter()
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
