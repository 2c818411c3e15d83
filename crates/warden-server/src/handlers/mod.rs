//! Request handlers, by resource, and the extractors they share.

pub mod accounts;
pub mod actions;
pub mod appeals;
pub mod approvals;
pub mod calibration;
pub mod cases;
pub mod decisions;
pub mod deliveries;
pub mod escalations;
pub mod incidents;
pub mod intake;
pub mod kpis;
pub mod notices;
pub mod ops;
pub mod params;
pub mod quality;
pub mod rules;
pub mod statements;
pub mod subjects;
pub mod taxonomy;
pub mod transparency;
mod unique_keys;

use axum::body::Bytes;
use std::error::Error as _;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body, read within the body limit and decoded with errors that
/// name the field at fault: 415 for another content type, 413 when too
/// large, 400 when not JSON, 422 when the JSON does not fit.
pub struct JsonBody<T>(pub T);

/// Whether the request says its body is of `mime` (parameters ignored).
pub fn has_content_type(headers: &HeaderMap, mime: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(mime))
}

/// Reads the body, answering 413 past the limit.
pub async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge(
                    "the body is larger than the configured limit (body_bytes_max)".into(),
                )
            } else {
                AppError::Malformed(format!("the body could not be read: {rejection}"))
            }
        })
}

/// Decodes one JSON document into `T`, naming the field at fault: `400`
/// when it is not JSON or an object names a key twice, `422` when it does
/// not fit `T`.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| AppError::Malformed(format!("the body is not valid UTF-8 ({e})")))?;
    let value = unique_keys::parse(text)?;
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        AppError::invalid(field_of(&path, &message), message)
    })
}

/// Decodes a JSON value already read into `T`, naming the field at fault
/// (`422`), as [`decode_json`] does.
pub fn decode_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        AppError::invalid(field_of(&path, &message), message)
    })
}

/// The problem for a query string that does not fit its handler's query
/// type: `422` naming the parameter at fault (`limit`, not `query`).
pub fn query_rejection(rejection: QueryRejection) -> AppError {
    // axum keeps the deserializer's error, with its path, two sources down.
    let decoded = rejection
        .source()
        .and_then(std::error::Error::source)
        .and_then(|error| {
            error.downcast_ref::<serde_path_to_error::Error<serde::de::value::Error>>()
        });
    match decoded {
        Some(error) => {
            let message = error.inner().to_string();
            AppError::invalid(field_of(&error.path().to_string(), &message), message)
        }
        None => AppError::invalid("query", rejection.body_text()),
    }
}

/// The field a decoding error is about: serde names missing and unknown
/// fields in the message, with the path pointing at their parent.
fn field_of(path: &str, message: &str) -> String {
    let parent = if path == "." { "" } else { path };
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (named, parent) {
        (Some(name), "") => name.to_string(),
        (Some(name), parent) if parent == name || parent.ends_with(&format!(".{name}")) => {
            parent.to_string()
        }
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, parent) => parent.to_string(),
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_content_type(request.headers(), "application/json") {
            return Err(AppError::UnsupportedMediaType(
                "send Content-Type: application/json".into(),
            ));
        }
        let bytes = read_body(request, state).await?;
        decode_json(&bytes).map(JsonBody)
    }
}

/// A JSON body that may be absent (empty), for actions whose body is optional.
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared_json = has_content_type(request.headers(), "application/json");
        let has_content_type = request.headers().contains_key(header::CONTENT_TYPE);
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(None));
        }
        if has_content_type && !declared_json {
            return Err(AppError::UnsupportedMediaType(
                "send Content-Type: application/json".into(),
            ));
        }
        decode_json(&bytes).map(|v| OptionalJsonBody(Some(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_named() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Page {
            limit: Option<u32>,
            status: Option<String>,
        }
        let refused = |query: &str| {
            let uri: axum::http::Uri = format!("/x?{query}").parse().unwrap();
            match axum::extract::Query::<Page>::try_from_uri(&uri) {
                Err(rejection) => match query_rejection(rejection) {
                    AppError::Invalid(errors) => errors.0[0].field.clone(),
                    other => panic!("{other:?}"),
                },
                Ok(page) => panic!("{page:?}"),
            }
        };
        assert_eq!(refused("limit=many"), "limit");
        assert_eq!(refused("limit=-1&status=open"), "limit");
        assert_eq!(refused("colour=red"), "colour");
    }

    #[test]
    fn fields_are_named() {
        assert_eq!(field_of(".", "missing field `kind`"), "kind");
        assert_eq!(field_of("subject", "missing field `id`"), "subject.id");
        assert_eq!(
            field_of(
                "subject.kind",
                "invalid type: integer `3`, expected a string"
            ),
            "subject.kind"
        );
        assert_eq!(
            field_of(".", "unknown field `colour`, expected one of"),
            "colour"
        );
    }
}
