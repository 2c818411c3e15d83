//! Intake: one item as JSON, or a batch as NDJSON with a result per item.
//!
//! The handler reads lines and checks each item at the edge (reports'
//! reasons and signals' categories against the taxonomy in force); the
//! application's intake service ([`warden_app::intake`]) stores the good
//! ones and answers an outcome per item.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::de::DeserializeOwned;

use warden_app::{Actor, CommandResult, PolicySnapshot};
use warden_domain::intake::{IntakeOutcome, NewEvent, NewReport, NewSignal, NewSubject};
use warden_domain::limits::BATCH_LINE_BYTES_MAX;
use warden_domain::FieldErrors;

use super::{decode_json, has_content_type, read_body};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::wire::{
    BatchAnswer, BatchItemResult, EventBody, IntakeAnswer, ReportBody, SignalBody, SubjectBody,
};
use crate::AppState;

/// One kind of intake item: its body, its checked form, and how to store it.
trait IntakeKind {
    /// The metric label.
    const NAME: &'static str;
    /// The wire body.
    type Body: DeserializeOwned;
    /// The checked domain command.
    type Item: Send;
    /// Checks a body against the policy in force.
    fn check(body: Self::Body, policy: &PolicySnapshot) -> Result<Self::Item, FieldErrors>;
    /// The item's id, as answers show it.
    fn id(item: &Self::Item) -> String;
    /// Stores items, in one transaction; an item the store cannot take is
    /// refused alone.
    async fn store(
        state: &AppState,
        actor: &Actor,
        items: Vec<Self::Item>,
    ) -> CommandResult<Vec<IntakeOutcome>>;
}

struct Subjects;
struct Events;
struct Reports;
struct Signals;
struct Appeals;

impl IntakeKind for Appeals {
    const NAME: &'static str = "appeals";
    type Body = crate::wire::appeals::AppealBody;
    type Item = warden_domain::appeal::NewAppeal;
    fn check(
        body: crate::wire::appeals::AppealBody,
        _: &PolicySnapshot,
    ) -> Result<warden_domain::appeal::NewAppeal, FieldErrors> {
        warden_domain::appeal::NewAppeal::parse(&body.into())
    }
    fn id(item: &warden_domain::appeal::NewAppeal) -> String {
        item.id.to_string()
    }
    async fn store(
        state: &AppState,
        actor: &Actor,
        items: Vec<warden_domain::appeal::NewAppeal>,
    ) -> CommandResult<Vec<IntakeOutcome>> {
        state.app.submit_appeals(actor, &items).await
    }
}

/// A batch of appeals (NDJSON): a result per item, as for every intake kind.
pub async fn appeals_batch(state: &AppState, actor: &Actor, body: &[u8]) -> AppResult<Response> {
    batch::<Appeals>(state, actor, body).await
}

impl IntakeKind for Subjects {
    const NAME: &'static str = "subjects";
    type Body = SubjectBody;
    type Item = NewSubject;
    fn check(body: SubjectBody, _: &PolicySnapshot) -> Result<NewSubject, FieldErrors> {
        body.into_domain()
    }
    fn id(item: &NewSubject) -> String {
        item.subject.id.to_string()
    }
    async fn store(
        state: &AppState,
        actor: &Actor,
        items: Vec<NewSubject>,
    ) -> CommandResult<Vec<IntakeOutcome>> {
        state.app.ingest_subjects(actor, items).await
    }
}

impl IntakeKind for Events {
    const NAME: &'static str = "events";
    type Body = EventBody;
    type Item = NewEvent;
    fn check(body: EventBody, _: &PolicySnapshot) -> Result<NewEvent, FieldErrors> {
        body.into_domain()
    }
    fn id(item: &NewEvent) -> String {
        item.id.to_string()
    }
    async fn store(
        state: &AppState,
        actor: &Actor,
        items: Vec<NewEvent>,
    ) -> CommandResult<Vec<IntakeOutcome>> {
        // The application wakes the detection worker.
        state.app.ingest_events(actor, items).await
    }
}

impl IntakeKind for Reports {
    const NAME: &'static str = "reports";
    type Body = ReportBody;
    type Item = NewReport;
    fn check(body: ReportBody, policy: &PolicySnapshot) -> Result<NewReport, FieldErrors> {
        body.into_domain(policy.taxonomy())
    }
    fn id(item: &NewReport) -> String {
        item.id.to_string()
    }
    async fn store(
        state: &AppState,
        actor: &Actor,
        items: Vec<NewReport>,
    ) -> CommandResult<Vec<IntakeOutcome>> {
        state.app.ingest_reports(actor, items).await
    }
}

impl IntakeKind for Signals {
    const NAME: &'static str = "signals";
    type Body = SignalBody;
    type Item = NewSignal;
    fn check(body: SignalBody, policy: &PolicySnapshot) -> Result<NewSignal, FieldErrors> {
        body.into_domain(policy.taxonomy())
    }
    fn id(item: &NewSignal) -> String {
        item.id.to_string()
    }
    async fn store(
        state: &AppState,
        actor: &Actor,
        items: Vec<NewSignal>,
    ) -> CommandResult<Vec<IntakeOutcome>> {
        state.app.ingest_signals(actor, items).await
    }
}

/// `POST /api/v1/subjects`.
pub async fn subjects(
    state: State<AppState>,
    caller: Extension<Caller>,
    request: Request,
) -> AppResult<Response> {
    intake::<Subjects>(state, caller, request).await
}

/// `POST /api/v1/events`.
pub async fn events(
    state: State<AppState>,
    caller: Extension<Caller>,
    request: Request,
) -> AppResult<Response> {
    intake::<Events>(state, caller, request).await
}

/// `POST /api/v1/reports`.
pub async fn reports(
    state: State<AppState>,
    caller: Extension<Caller>,
    request: Request,
) -> AppResult<Response> {
    intake::<Reports>(state, caller, request).await
}

/// `POST /api/v1/signals`.
pub async fn signals(
    state: State<AppState>,
    caller: Extension<Caller>,
    request: Request,
) -> AppResult<Response> {
    intake::<Signals>(state, caller, request).await
}

async fn intake<K: IntakeKind>(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    request: Request,
) -> AppResult<Response> {
    let actor = caller.actor();
    let headers = request.headers().clone();
    if has_content_type(&headers, "application/x-ndjson") {
        let body = read_body(request, &state).await?;
        return batch::<K>(&state, &actor, &body).await;
    }
    if !has_content_type(&headers, "application/json") {
        return Err(AppError::UnsupportedMediaType(
            "send one item as application/json or a batch as application/x-ndjson".into(),
        ));
    }
    let body = read_body(request, &state).await?;
    let item = K::check(decode_json::<K::Body>(&body)?, &state.app.policy())?;
    let id = K::id(&item);
    let outcomes = K::store(&state, &actor, vec![item]).await?;
    let outcome = outcomes
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal("store returned no outcome".into()))?;
    state.metrics.count_intake(K::NAME, outcome.as_str(), 1);
    let status = match outcome {
        IntakeOutcome::Created => StatusCode::CREATED,
        IntakeOutcome::Updated | IntakeOutcome::Duplicate => StatusCode::OK,
        IntakeOutcome::Conflict => {
            return Err(AppError::Conflict(format!(
                "{} {id:?} was already received with different content; a new item needs a new id",
                K::NAME.trim_end_matches('s')
            )))
        }
        IntakeOutcome::Refused(error) => return Err(AppError::Invalid(error.into())),
        IntakeOutcome::Failed => return Err(item_failed()),
    };
    Ok((
        status,
        Json(IntakeAnswer {
            id,
            status: outcome.as_str().into(),
        }),
    )
        .into_response())
}

/// An item the store failed on alone; the cause is in the store's log.
fn item_failed() -> AppError {
    AppError::Internal("an intake item could not be stored".into())
}

/// One item of a batch that could not be read or checked.
fn item_error(index: usize, id: Option<String>, error: AppError) -> BatchItemResult {
    BatchItemResult {
        index,
        id,
        status: "error".into(),
        error: Some(error.problem()),
    }
}

async fn batch<K: IntakeKind>(state: &AppState, actor: &Actor, body: &[u8]) -> AppResult<Response> {
    let lines = batch_lines(body, state.settings.batch_items_max)?;
    let checked = check_lines::<K>(&lines, &state.app.policy());
    let mut results = checked.results;
    let outcomes = if checked.items.is_empty() {
        Vec::new()
    } else {
        K::store(state, actor, checked.items).await?
    };
    for ((index, id), outcome) in checked.positions.into_iter().zip(outcomes) {
        state.metrics.count_intake(K::NAME, outcome.as_str(), 1);
        results[index] = Some(stored_result(index, id, outcome));
    }
    let mut answer = BatchAnswer {
        created: 0,
        updated: 0,
        duplicates: 0,
        errors: 0,
        results: Vec::with_capacity(lines.len()),
    };
    for result in results.into_iter().flatten() {
        match result.status.as_str() {
            "created" => answer.created += 1,
            "updated" => answer.updated += 1,
            "duplicate" => answer.duplicates += 1,
            _ => {
                state.metrics.count_intake(K::NAME, "error", 1);
                answer.errors += 1
            }
        }
        answer.results.push(result);
    }
    Ok((StatusCode::OK, Json(answer)).into_response())
}

/// The batch's non-blank lines, at most `limit` and at least one.
fn batch_lines(body: &[u8], limit: usize) -> AppResult<Vec<&[u8]>> {
    let lines: Vec<&[u8]> = body
        .split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .collect();
    if lines.len() > limit {
        return Err(AppError::TooLarge(format!(
            "the batch has {} items; at most {limit} are taken at once (batch_items_max)",
            lines.len()
        )));
    }
    if lines.is_empty() {
        return Err(AppError::invalid(
            "",
            "the batch is empty: send one JSON object per line",
        ));
    }
    Ok(lines)
}

/// A batch's lines read and checked: the items to store, with their
/// positions and ids, and a result already for every line that failed.
struct CheckedLines<Item> {
    items: Vec<Item>,
    positions: Vec<(usize, String)>,
    results: Vec<Option<BatchItemResult>>,
}

fn check_lines<K: IntakeKind>(lines: &[&[u8]], policy: &PolicySnapshot) -> CheckedLines<K::Item> {
    let mut checked = CheckedLines {
        items: Vec::new(),
        positions: Vec::new(),
        results: (0..lines.len()).map(|_| None).collect(),
    };
    for (index, line) in lines.iter().enumerate() {
        if line.len() > BATCH_LINE_BYTES_MAX {
            checked.results[index] = Some(item_error(
                index,
                None,
                AppError::TooLarge(format!(
                    "the item is larger than {BATCH_LINE_BYTES_MAX} bytes"
                )),
            ));
            continue;
        }
        let item = decode_json::<K::Body>(line)
            .and_then(|body| K::check(body, policy).map_err(AppError::from));
        match item {
            Ok(item) => {
                checked.positions.push((index, K::id(&item)));
                checked.items.push(item);
            }
            Err(error) => {
                let id = std::str::from_utf8(line)
                    .ok()
                    .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
                    .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_string));
                checked.results[index] = Some(item_error(index, id, error));
            }
        }
    }
    checked
}

/// The result of one stored item of a batch.
fn stored_result(index: usize, id: String, outcome: IntakeOutcome) -> BatchItemResult {
    match outcome {
        IntakeOutcome::Conflict => item_error(
            index,
            Some(id.clone()),
            AppError::Conflict(format!(
                "{id:?} was already received with different content"
            )),
        ),
        IntakeOutcome::Refused(error) => {
            item_error(index, Some(id), AppError::Invalid(error.into()))
        }
        IntakeOutcome::Failed => item_error(index, Some(id), item_failed()),
        other => BatchItemResult {
            index,
            id: Some(id),
            status: other.as_str().into(),
            error: None,
        },
    }
}
