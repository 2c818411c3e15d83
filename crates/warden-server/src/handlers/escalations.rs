//! Escalations and evidence (`specs/appeals-qa-api.md`, Escalations): the
//! package as JSON or Markdown, acknowledging an escalation, and evidence
//! items — attached as JSON (text excerpts, URLs) or as a raw file upload
//! hashed while it streams in and refused (`413`) past `[evidence]
//! file_bytes_max` — listed and read with the check of their SHA-256.

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use std::error::Error as _;

use warden_app::escalations::UploadedFile;
use warden_domain::escalation::to_markdown;
use warden_domain::evidence::{EvidenceInput, EvidenceLimits};

use super::{decode_json, has_content_type, read_body};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::paths;
use crate::wire::escalations::{package_json, EscalationWire, EvidenceBody, EvidenceWire};
use crate::AppState;

/// `?format=json|markdown` of the package.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageQuery {
    /// `json` (the default) or `markdown`.
    pub format: Option<String>,
}

/// `GET /api/v1/cases/{id}/package`.
pub async fn package(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    q: Result<Query<PackageQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let Query(query) = q.map_err(super::query_rejection)?;
    let markdown = match query.format.as_deref() {
        None | Some("json") => false,
        Some("markdown") => true,
        Some(other) => {
            return Err(AppError::invalid(
                "format",
                format!("unknown format {other:?}; expected json or markdown"),
            ))
        }
    };
    let case = paths::case_id(&id)?;
    let package = state.app.escalation_package(&caller.actor(), case).await?;
    Ok(if markdown {
        (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            to_markdown(&package.masked()),
        )
            .into_response()
    } else {
        Json(package_json(&package)).into_response()
    })
}

/// `POST /api/v1/cases/{id}/acknowledge`.
pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<EscalationWire>> {
    let case = paths::case_id(&id)?;
    let escalation = state
        .app
        .acknowledge_escalation(&caller.actor(), case)
        .await?;
    Ok(Json(EscalationWire::from(&escalation)))
}

/// `GET /api/v1/cases/{id}/evidence`.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<EvidenceWire>>> {
    let case = paths::case_id(&id)?;
    let items = state.app.case_evidence(&caller.actor(), case).await?;
    Ok(Json(items.iter().map(EvidenceWire::from).collect()))
}

/// `?file_name=&caption=` of a raw file upload.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// `file` (the only kind sent raw; may be left out).
    pub kind: Option<String>,
    /// The file's name.
    pub file_name: Option<String>,
    /// What it shows.
    pub caption: Option<String>,
}

/// Reads a raw upload, stopping (`413`) as soon as it passes the limit,
/// and hashes it.
async fn read_upload(body: Body, limits: EvidenceLimits) -> AppResult<UploadedFile> {
    let limit = limits.file_bytes_max();
    let too_large = || {
        AppError::TooLarge(format!(
            "file: must be at most {limit} bytes ([evidence] file_bytes_max)"
        ))
    };
    let bytes = axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|e| {
            if e.source()
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            {
                too_large()
            } else {
                AppError::Malformed(format!("the upload could not be read: {e}"))
            }
        })?;
    let mut hasher = limits.hasher();
    hasher.update(&bytes).map_err(|_| too_large())?;
    Ok(UploadedFile {
        upload: hasher.finish(),
        bytes: bytes.to_vec(),
    })
}

/// `POST /api/v1/cases/{id}/evidence`: JSON for a text excerpt or URL,
/// any other content type for a file (its bytes the body).
pub async fn attach(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> AppResult<(StatusCode, Json<EvidenceWire>)> {
    let case = paths::case_id(&id)?;
    let (input, file) = if has_content_type(request.headers(), "application/json") {
        let bytes = read_body(request, &state).await?;
        let body: EvidenceBody = decode_json(&bytes)?;
        (EvidenceInput::from(body), None)
    } else {
        let query: UploadQuery = match request.uri().query() {
            None => UploadQuery::default(),
            Some(q) => serde_urlencoded::from_str(q)
                .map_err(|e| AppError::invalid("query", e.to_string()))?,
        };
        let media_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let limits = state.app.escalation_settings().evidence;
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limits.file_bytes_max()) {
            return Err(AppError::TooLarge(format!(
                "file: must be at most {} bytes ([evidence] file_bytes_max)",
                limits.file_bytes_max()
            )));
        }
        let file = read_upload(request.into_body(), limits).await?;
        let input = EvidenceInput {
            kind: Some(query.kind.unwrap_or_else(|| "file".into())),
            text: None,
            url: None,
            file_name: query.file_name,
            media_type,
            caption: query.caption,
        };
        (input, Some(file))
    };
    let item = state
        .app
        .attach_evidence(&caller.actor(), case, &input, file)
        .await?;
    Ok((StatusCode::CREATED, Json(EvidenceWire::from(&item))))
}

/// `GET /api/v1/cases/{id}/evidence/{eid}`: the item, its content hashed
/// again (the read is audited).
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, eid)): Path<(String, String)>,
) -> AppResult<Json<EvidenceWire>> {
    let case = paths::case_id(&id)?;
    let item = paths::row_id(&eid, "evidence item")?;
    let read = state
        .app
        .evidence_content(&caller.actor(), case, item)
        .await?;
    Ok(Json(EvidenceWire::from(&read.item)))
}

/// `GET /api/v1/cases/{id}/evidence/{eid}/content`: the item's bytes, as
/// an attachment, only when they still hash to the recorded SHA-256
/// (`409` naming the mismatch or the missing content otherwise).
pub async fn content(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, eid)): Path<(String, String)>,
) -> AppResult<Response> {
    let case = paths::case_id(&id)?;
    let item = paths::row_id(&eid, "evidence item")?;
    let read = state
        .app
        .evidence_content(&caller.actor(), case, item)
        .await?;
    let Some(bytes) = read.bytes else {
        return Err(AppError::Conflict(format!(
            "evidence item {item}: {}",
            read.item.check
        )));
    };
    let name = match &read.item.content {
        warden_domain::evidence::EvidenceContent::File { name, .. } => name.as_str().to_string(),
        other => format!("evidence-{item}-{}.txt", other.kind()),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (
                header::HeaderName::from_static("x-warden-sha256"),
                read.item.hash.to_hex(),
            ),
        ],
        bytes,
    )
        .into_response())
}
