//! Signing in and out of the console.
//!
//! The sign-in form is public, so it cannot use a session's CSRF token.
//! It uses a double-submit token instead: the page sets a random value in
//! a short-lived `SameSite=Strict` cookie and in a hidden field, and the
//! form is accepted only when the two match, so another site cannot sign a
//! visitor in to an account of its choosing. Checking the password, the
//! lockout and the demo passwords is the application's
//! [`open_session`](warden_app::App::open_session), as for the API, and like the
//! API the page tells nobody whether a name exists or is locked or
//! disabled: every refusal reads the same.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use super::guard::{cookie_value, safe_next, same_secret};
use super::preferences::Prefs;
use super::view::{render, ConsoleError, ConsoleForm, Layout, Notice};
use warden_app::accounts::{SignIn, SignInFailure};

use crate::auth::{
    authenticate, new_secret, session_cookie_for, Caller, SecureCookies, SESSION_COOKIE,
};
use crate::AppState;

/// What the page says for every refused sign-in, whatever the reason.
const SIGN_IN_REFUSED_PAGE: &str = "Unknown user or wrong password. (After repeated failures a user is locked for a while, and disabled users cannot sign in; an admin can help.)";

/// The cookie holding the sign-in form's double-submit token.
const SIGN_IN_COOKIE: &str = "warden_sign_in";

/// The sign-in page.
#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    layout: Layout,
    csrf: String,
    next: String,
    name: String,
    demo: bool,
}

/// Query of the sign-in page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInQuery {
    next: Option<String>,
    ended: Option<String>,
    signed_out: Option<String>,
}

fn next_or_home(next: Option<&str>) -> String {
    next.filter(|n| safe_next(n))
        .unwrap_or("/console")
        .to_string()
}

/// The sign-in page with a fresh double-submit token.
fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    secure: bool,
    status: StatusCode,
    next: String,
    name: String,
    notice: Option<Notice>,
) -> Response {
    let token = new_secret("");
    let layout =
        Layout::anonymous("Sign in", &Prefs::from_headers(headers), "sign-in").with_notice(notice);
    let mut response = render(
        status,
        &SignInPage {
            layout,
            csrf: token.clone(),
            next,
            name,
            demo: state.settings.demo_mode,
        },
    );
    let cookie = cookie::Cookie::build((SIGN_IN_COOKIE, token))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .path("/console/sign-in")
        .max_age(cookie::time::Duration::hours(1))
        .build();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /console/sign-in`.
pub async fn page(
    State(state): State<AppState>,
    SecureCookies(secure): SecureCookies,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Response {
    let next = next_or_home(query.next.as_deref());
    if let Ok(Some(_)) = authenticate(&state, &headers).await {
        return super::redirect(&next);
    }
    let notice = if query.ended.is_some() {
        Some(Notice::warn(
            "Your session has ended. Sign in again to carry on.",
        ))
    } else if query.signed_out.is_some() {
        Some(Notice::ok("You are signed out."))
    } else {
        None
    };
    sign_in_page(
        &state,
        &headers,
        secure,
        StatusCode::OK,
        next,
        String::new(),
        notice,
    )
}

/// The sign-in form.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    name: String,
    password: String,
    csrf_token: String,
    next: String,
}

/// `POST /console/sign-in`.
pub async fn sign_in(
    State(state): State<AppState>,
    SecureCookies(secure): SecureCookies,
    headers: HeaderMap,
    ConsoleForm(form): ConsoleForm<SignInForm>,
) -> Result<Response, ConsoleError> {
    let next = next_or_home(Some(&form.next));
    let expected = cookie_value(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !same_secret(&form.csrf_token, &expected) {
        return Ok(sign_in_page(
            &state,
            &headers,
            secure,
            StatusCode::FORBIDDEN,
            next,
            form.name,
            Some(Notice::error(
                "This sign-in form had expired. It is fresh now: sign in again.",
            )),
        ));
    }
    let refused = |status: StatusCode, message: String| {
        Ok(sign_in_page(
            &state,
            &headers,
            secure,
            status,
            next.clone(),
            form.name.clone(),
            Some(Notice::error(message)),
        ))
    };
    let sign_in = SignIn {
        name: form.name.clone(),
        password: form.password.clone(),
    };
    match state.app.open_session(sign_in).await {
        Ok(opened) => {
            let cookie = session_cookie_for(&opened, state.settings.session_lifetime, secure)?;
            let mut response = super::redirect(&next);
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, cookie);
            let expired = cookie::Cookie::build((SIGN_IN_COOKIE, ""))
                .path("/console/sign-in")
                .max_age(cookie::time::Duration::ZERO)
                .build();
            if let Ok(value) = HeaderValue::from_str(&expired.to_string()) {
                headers.append(header::SET_COOKIE, value);
            }
            Ok(response)
        }
        // Unknown, wrong, disabled and locked are told apart to nobody.
        Err(SignInFailure::Refused) => refused(
            StatusCode::UNAUTHORIZED,
            SIGN_IN_REFUSED_PAGE.into(),
        ),
        Err(SignInFailure::DemoPasswordOnly) => refused(
            StatusCode::UNAUTHORIZED,
            "This password is accepted in demo mode only. Ask an admin to set a real one (warden user passwd).".into(),
        ),
        Err(SignInFailure::Error(error)) => Err(error.into()),
    }
}

/// `POST /console/sign-out`.
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ConsoleError> {
    if let Some(hash) = &caller.session_hash {
        state.app.close_session(hash).await?;
    }
    let mut response = super::redirect("/console/sign-in?signed_out=1");
    let expired = cookie::Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    if let Ok(value) = HeaderValue::from_str(&expired.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}
