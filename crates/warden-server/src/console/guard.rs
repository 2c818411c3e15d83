//! Who may see a console page, and the CSRF check of console forms.
//!
//! The route table's middleware hands console routes here. Access is the
//! same as for the API (a session cookie or a bearer token, the route's
//! permission from the table), but the answers are for a browser:
//!
//! - not signed in, or the session has ended: `303` to the sign-in page,
//!   which comes back to the page afterwards (`?next=`);
//! - signed in without the permission: a `403` page that says which
//!   permission is missing;
//! - a form sent with a session cookie must carry the session's CSRF token
//!   in its `csrf_token` field (HTML forms cannot send the API's
//!   `x-csrf-token` header). The guard reads the form body (at most
//!   [`FORM_BYTES_MAX`]), compares in constant time, and passes the body on
//!   untouched; a mismatch is a `403` page and changes nothing. Requests
//!   the browser marks as cross-site (`Sec-Fetch-Site`) are refused too.
//!   Bearer tokens carry no ambient authority, so they need no CSRF token,
//!   as on the API.
//!
//! The session cookie itself is `HttpOnly`, `SameSite=Strict`, and
//! `Secure` when `server.secure_cookies` is set (behind TLS) or a trusted
//! proxy forwarded an HTTPS request (see [`crate::auth::cookies_secure`]).
//!
//! Which *cases* a page may show is not decided here but by the case gate
//! ([`warden_app::access`]), which every case page and form calls first.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::view::{error_page, Viewer};
use super::{preferences::Prefs, redirect};
use crate::auth::authenticate;
use crate::error::AppError;
use crate::routes::{Access, RouteSpec};
use crate::AppState;

pub use crate::limits::FORM_BYTES_MAX;

/// The name of the form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// Authenticates, authorizes and checks CSRF for a console route.
pub async fn authorize(
    state: AppState,
    spec: &'static RouteSpec,
    request: Request,
    next: Next,
) -> Response {
    if spec.access == Access::Public {
        return next.run(request).await;
    }
    let caller = match authenticate(&state, request.headers()).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return to_sign_in(&request, false),
        Err(AppError::Unauthenticated(_)) => return to_sign_in(&request, true),
        Err(error) => return super::view::ConsoleError::from(error).into_response(),
    };
    let viewer = Viewer {
        caller,
        prefs: Prefs::from_headers(request.headers()),
    };
    if let Access::Needs(permission) = spec.access {
        if !viewer.may(permission) {
            let why = if viewer.caller.principal.role.grants(permission) {
                format!("This token's scope does not include {permission}.")
            } else {
                format!(
                    "The {} role does not include {permission}. Ask an admin if your work needs it.",
                    viewer.caller.principal.role
                )
            };
            return error_page(
                StatusCode::FORBIDDEN,
                "You do not have access to this page",
                &why,
                Some(&viewer),
            );
        }
    }
    let mut request = if matches!(*request.method(), Method::GET | Method::HEAD) {
        request
    } else {
        match check_form(&viewer, request).await {
            Ok(request) => request,
            Err(response) => return response,
        }
    };
    request.extensions_mut().insert(viewer.caller);
    next.run(request).await
}

/// Sends a visitor to the sign-in page, to come back here afterwards.
fn to_sign_in(request: &Request, session_ended: bool) -> Response {
    let back = if matches!(*request.method(), Method::GET | Method::HEAD) {
        request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
    } else {
        // After a form, come back to the page the form was on.
        request
            .headers()
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|referer| referer.find("/console").map(|at| referer[at..].to_string()))
    };
    let next = back
        .filter(|path| safe_next(path))
        .unwrap_or_else(|| "/console".into());
    let mut query = vec![("next", next.as_str())];
    if session_ended {
        query.push(("ended", "1"));
    }
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    redirect(&format!("/console/sign-in?{query}"))
}

/// Whether `path` may be gone to after signing in: a console page, never
/// another site (`//host`) or a scheme.
pub fn safe_next(path: &str) -> bool {
    (path == "/console" || path.starts_with("/console/") || path.starts_with("/console?"))
        && !path.contains("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

/// Checks a form's CSRF token against the session's and gives the request
/// back with its body intact.
async fn check_form(viewer: &Viewer, request: Request) -> Result<Request, Response> {
    let refuse = |detail: &str| {
        error_page(
            StatusCode::FORBIDDEN,
            "This form cannot be accepted",
            detail,
            Some(viewer),
        )
    };
    let cross_site = request
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    if cross_site {
        return Err(refuse(
            "It was sent from another site. Nothing was changed.",
        ));
    }
    let Some(expected) = &viewer.caller.session_csrf else {
        return Ok(request);
    };
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_BYTES_MAX)
        .await
        .map_err(|_| {
            error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "This form is too large",
                "Shorten the text and send it again. Nothing was changed.",
                Some(viewer),
            )
        })?;
    let given = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| {
            fields
                .into_iter()
                .find(|(name, _)| name == CSRF_FIELD)
                .map(|(_, value)| value)
        })
        .unwrap_or_default();
    if !same_secret(&given, expected) {
        return Err(refuse(
            "Its security token does not match your session, which happens when the page was opened before you last signed in. Reload the page and send it again; nothing was changed.",
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Compares two secrets in constant time (for equal lengths).
pub fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && !expected.is_empty()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_in_the_console() {
        assert!(safe_next("/console/cases/5"));
        assert!(safe_next("/console?x=1"));
        assert!(!safe_next("//evil.example/console"));
        assert!(!safe_next("https://evil.example/console"));
        assert!(!safe_next("/console//evil.example"));
        assert!(!safe_next("/consolex"));
        assert!(!safe_next("/api/v1/me"));
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", ""));
    }
}
