//! One error type for every handler, answered as `application/problem+json`
//! (RFC 9457) with the fields at fault. Internal errors are logged with a
//! reference and answered without their cause.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use warden_domain::{FieldError, FieldErrors};
use warden_store::StoreError;

/// What went wrong, by what the client should do about it.
#[derive(Debug)]
pub enum AppError {
    /// 400: the body is not well-formed.
    Malformed(String),
    /// 401: no credentials, or credentials that do not hold.
    Unauthenticated(String),
    /// 403: the caller may not do this.
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 409: conflicts with the current state; nothing changed.
    Conflict(String),
    /// 413.
    TooLarge(String),
    /// 415.
    UnsupportedMediaType(String),
    /// 422: well-formed but invalid, with every field at fault.
    Invalid(FieldErrors),
    /// 429: too many sign-in attempts and the like.
    TooManyRequests(String),
    /// 503: a dependency is down.
    Unavailable(String),
    /// 500: a bug or a database failure. The cause is logged, not shown.
    Internal(String),
}

impl AppError {
    /// A 422 for one field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        AppError::Invalid(FieldError::new(field, reason).into())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Malformed(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem document's short title and type suffix.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            AppError::Malformed(_) => ("malformed", "The request body is malformed"),
            AppError::Unauthenticated(_) => ("unauthenticated", "Authentication required"),
            AppError::Forbidden(_) => ("forbidden", "Not allowed"),
            AppError::NotFound(_) => ("not-found", "Not found"),
            AppError::Conflict(_) => ("conflict", "Conflict with the current state"),
            AppError::TooLarge(_) => ("too-large", "Request too large"),
            AppError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported content type")
            }
            AppError::Invalid(_) => ("invalid", "The request is invalid"),
            AppError::TooManyRequests(_) => ("too-many-requests", "Too many requests"),
            AppError::Unavailable(_) => ("unavailable", "Service unavailable"),
            AppError::Internal(_) => ("internal", "Internal error"),
        }
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let (kind, title) = self.kind();
        let (detail, errors) = match self {
            AppError::Invalid(errors) => (
                errors.to_string(),
                errors
                    .0
                    .iter()
                    .map(|e| ProblemField {
                        field: e.field.clone(),
                        reason: e.reason.clone(),
                    })
                    .collect(),
            ),
            AppError::Internal(_) => (
                "Warden failed to handle the request; the cause is in its log".to_string(),
                Vec::new(),
            ),
            AppError::Malformed(d)
            | AppError::Unauthenticated(d)
            | AppError::Forbidden(d)
            | AppError::NotFound(d)
            | AppError::Conflict(d)
            | AppError::TooLarge(d)
            | AppError::UnsupportedMediaType(d)
            | AppError::TooManyRequests(d)
            | AppError::Unavailable(d) => (d.clone(), Vec::new()),
        };
        Problem {
            problem_type: format!("https://warden.dev/problems/{kind}"),
            title: title.to_string(),
            status: self.status().as_u16(),
            detail,
            errors,
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened and what to do.
    pub detail: String,
    /// The fields at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// One field at fault.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    /// Its path, e.g. `subject.kind`.
    pub field: String,
    /// Why it was refused.
    pub reason: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut response = (self.status(), axum::Json(self.problem())).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => AppError::NotFound(format!("{what} not found")),
            StoreError::Conflict(message) => AppError::Conflict(message),
            StoreError::Invalid { field, reason } => AppError::invalid(field, reason),
            StoreError::Database(cause) => AppError::Internal(cause),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        AppError::Invalid(errors)
    }
}

/// A handler's result.
pub type AppResult<T> = Result<T, AppError>;
