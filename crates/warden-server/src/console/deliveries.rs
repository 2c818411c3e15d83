//! The dead letters of the outbox, with replay. Calls what the API calls
//! (`warden_app::deliveries`).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use warden_domain::action::DeliveryStatus;
use warden_domain::Timestamp;
use warden_store::{DeliveryFilter, DeliveryRecord};

use super::admin::EmptyForm;
use super::text;
use super::view::{
    problem_code, problem_notice, render, ConsoleError, ConsoleForm, Layout, Notice, Viewer,
};
use crate::error::AppError;
use crate::AppState;

/// One dead (or failing) delivery, as the page shows it.
pub struct DeliveryItem {
    pub id: i64,
    pub status: String,
    pub kind: &'static str,
    pub action_id: Option<i64>,
    pub endpoint: String,
    pub attempts: i64,
    pub replays: i64,
    pub last_error: String,
    pub last_status_code: String,
    pub updated_ago: String,
    pub updated_stamp: String,
}

impl DeliveryItem {
    fn new(row: &DeliveryRecord, now: Timestamp) -> Self {
        let error = match (&row.last_error, &row.platform_detail) {
            (Some(error), _) => error.clone(),
            (None, Some(detail)) => format!("platform: {}", super::text::shown(detail, false).0),
            (None, None) => String::new(),
        };
        Self {
            id: row.id,
            status: row.status.to_string(),
            kind: row.kind.as_str(),
            action_id: row.action_id,
            endpoint: row.endpoint_key.clone(),
            attempts: row.attempts,
            replays: row.replays,
            last_error: error,
            last_status_code: row
                .last_status_code
                .map(|c| c.to_string())
                .unwrap_or_default(),
            updated_ago: text::ago(now, row.updated_at),
            updated_stamp: text::stamp(row.updated_at),
        }
    }
}

/// The dead letters page.
#[derive(Template)]
#[template(path = "admin_deliveries.html")]
pub struct DeliveriesPage {
    layout: Layout,
    items: Vec<DeliveryItem>,
    more: bool,
    counts: Vec<(String, i64)>,
}

/// Query of the dead letters page: what just happened.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeliveriesQuery {
    replayed: Option<i64>,
    problem: Option<String>,
}

/// Rows shown.
const DELIVERIES_SHOWN: u32 = 100;

/// `GET /console/admin/deliveries`.
pub async fn deliveries(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<DeliveriesQuery>, QueryRejection>,
) -> Result<Response, ConsoleError> {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let now = state.now();
    let rows = state
        .app
        .deliveries(
            &viewer.actor(),
            &DeliveryFilter {
                statuses: vec![DeliveryStatus::Dead, DeliveryStatus::Failed],
                action_id: None,
                after_id: 0,
                limit: DELIVERIES_SHOWN,
            },
        )
        .await?;
    let counts = state
        .app
        .delivery_counts()
        .await?
        .by_status
        .into_iter()
        .filter(|(status, _)| {
            [
                DeliveryStatus::Pending,
                DeliveryStatus::Sending,
                DeliveryStatus::Failed,
                DeliveryStatus::Dead,
            ]
            .iter()
            .any(|s| s.as_str() == status)
        })
        .collect();
    let notice = match (&query.problem, query.replayed) {
        (Some(problem), _) => problem_notice(problem),
        (None, Some(id)) => Some(Notice::ok(format!(
            "Delivery {id} is queued to be sent again."
        ))),
        _ => None,
    };
    let layout = Layout::new(&viewer, "Dead letters", "deliveries").with_notice(notice);
    Ok(render(
        StatusCode::OK,
        &DeliveriesPage {
            layout,
            more: rows.len() == DELIVERIES_SHOWN as usize,
            items: rows.iter().map(|r| DeliveryItem::new(r, now)).collect(),
            counts,
        },
    ))
}

/// `POST /console/admin/deliveries/{id}/replay`.
pub async fn replay(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(_form): ConsoleForm<EmptyForm>,
) -> Result<Response, ConsoleError> {
    let Some(id) = id.parse::<i64>().ok().filter(|id| *id > 0) else {
        return Err(ConsoleError::not_found(format!(
            "There is no delivery {id:?}."
        )));
    };
    match state.app.replay_delivery(&viewer.actor(), id).await {
        Ok(row) => Ok(super::redirect(&format!(
            "/console/admin/deliveries?replayed={}",
            row.id
        ))),
        Err(error) => Ok(super::redirect(&format!(
            "/console/admin/deliveries?problem={}",
            problem_code(&AppError::from(error))
        ))),
    }
}
