//! Query parameters the handlers share: page sizes and instants.

use axum::extract::Query;
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use warden_domain::limits::{PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX};
use warden_domain::Timestamp;

use crate::error::{AppError, AppResult};

/// A query string decoded, or a problem naming what is wrong with it.
pub(super) fn query<T>(
    query: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> AppResult<T> {
    query.map(|Query(q)| q).map_err(super::query_rejection)
}

/// Reads an instant: RFC 3339, or a `YYYY-MM-DD` day (its start, UTC).
pub fn parse_instant(field: &str, text: &str) -> AppResult<Timestamp> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
        .ok_or_else(|| {
            AppError::invalid(
                field,
                format!("{text:?} is neither an RFC 3339 time nor a YYYY-MM-DD day"),
            )
        })
}

/// Query of lists with a page size.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Rows at most.
    pub limit: Option<u32>,
}

/// The page size asked for, within the limits.
pub(crate) fn page_limit(limit: Option<u32>) -> AppResult<u32> {
    let limit = limit.unwrap_or(PAGE_SIZE_DEFAULT);
    if (1..=PAGE_SIZE_MAX).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::invalid(
            "limit",
            format!("must be from 1 to {PAGE_SIZE_MAX}"),
        ))
    }
}
