//! One error type for every handler, answered as `application/problem+json`
//! (RFC 9457) with the fields at fault. Internal errors are logged with a
//! reference and answered without their cause.

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use warden_domain::{FieldError, FieldErrors};
use warden_store::StoreError;

/// What went wrong, by what the client should do about it.
#[derive(Debug)]
pub enum AppError {
    /// 400: the request is not well-formed (its body, a header).
    Malformed(String),
    /// 400: the request is not well-formed at these fields: a path
    /// parameter that does not decode, a key given twice in a JSON object.
    MalformedFields(FieldErrors),
    /// 401: no credentials, or credentials that do not hold.
    Unauthenticated(String),
    /// 403: the caller may not do this.
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 405: the path exists, the method does not; the answer names the
    /// methods that do (also in its `Allow` header).
    MethodNotAllowed(Vec<Method>),
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
            AppError::Malformed(_) | AppError::MalformedFields(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
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
            AppError::Malformed(_) | AppError::MalformedFields(_) => {
                ("malformed", "The request is malformed")
            }
            AppError::Unauthenticated(_) => ("unauthenticated", "Authentication required"),
            AppError::Forbidden(_) => ("forbidden", "Not allowed"),
            AppError::NotFound(_) => ("not-found", "Not found"),
            AppError::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
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
            AppError::Invalid(errors) | AppError::MalformedFields(errors) => (
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
            AppError::MethodNotAllowed(allowed) => (
                format!(
                    "this path answers {}; the API is described at /api/openapi.json",
                    allow_list(allowed)
                ),
                Vec::new(),
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

impl Problem {
    /// A problem for a status that no handler chose: a layer's refusal or a
    /// framework rejection that reached the outside without one. The type
    /// is the one [`AppError`] gives that status, or one named after it.
    pub fn for_status(status: StatusCode, detail: String) -> Problem {
        let known = match status {
            StatusCode::BAD_REQUEST => Some(AppError::Malformed(detail.clone())),
            StatusCode::UNAUTHORIZED => Some(AppError::Unauthenticated(detail.clone())),
            StatusCode::FORBIDDEN => Some(AppError::Forbidden(detail.clone())),
            StatusCode::NOT_FOUND => Some(AppError::NotFound(detail.clone())),
            StatusCode::CONFLICT => Some(AppError::Conflict(detail.clone())),
            StatusCode::PAYLOAD_TOO_LARGE => Some(AppError::TooLarge(detail.clone())),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Some(AppError::UnsupportedMediaType(detail.clone()))
            }
            StatusCode::TOO_MANY_REQUESTS => Some(AppError::TooManyRequests(detail.clone())),
            StatusCode::SERVICE_UNAVAILABLE => Some(AppError::Unavailable(detail.clone())),
            StatusCode::INTERNAL_SERVER_ERROR => Some(AppError::Internal(detail.clone())),
            _ => None,
        };
        if let Some(error) = known {
            return error.problem();
        }
        let title = status.canonical_reason().unwrap_or("Error");
        Problem {
            problem_type: format!(
                "https://warden.dev/problems/{}",
                title.to_ascii_lowercase().replace(' ', "-")
            ),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            errors: Vec::new(),
        }
    }

    /// The problem as an `application/problem+json` answer with `status`.
    pub fn into_response_with(self, status: StatusCode) -> Response {
        let mut response = (status, axum::Json(self)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// The media type of every error answer of the API.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Methods as an `Allow` header lists them: `GET, HEAD, POST`.
pub fn allow_list(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut response = self.problem().into_response_with(self.status());
        if let AppError::MethodNotAllowed(allowed) = &self {
            if let Ok(value) = HeaderValue::from_str(&allow_list(allowed)) {
                response.headers_mut().insert(header::ALLOW, value);
            }
        }
        response
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => AppError::NotFound(format!("{what} not found")),
            StoreError::Conflict(message) => AppError::Conflict(message),
            StoreError::Invalid { field, reason } => AppError::invalid(field, reason),
            corrupt @ StoreError::Corrupt { .. } => AppError::Internal(corrupt.to_string()),
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
