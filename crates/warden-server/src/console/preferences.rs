//! Viewing preferences: how strongly media is blurred, whether it is shown in
//! greyscale, whether video may play by itself, and the colour theme.
//!
//! They live in a cookie rather than the store: they are the viewer's own
//! comfort settings, not facts anyone audits, and the store has no place for
//! them yet. The cookie holds only values from fixed lists; anything else
//! in it is ignored and the safe default used, so it needs no signature.

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::view::{render, ConsoleForm, Layout, Notice, Viewer};
use crate::AppState;
use axum::extract::State;

/// The cookie's name.
pub const PREFS_COOKIE: &str = "warden_prefs";

/// How strongly media is blurred until revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blur {
    /// Shapes and colours can be made out.
    Light,
    /// Only colours.
    Medium,
    /// Nothing but a wash of colour (the default).
    Strong,
}

/// The colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Follow the operating system.
    Auto,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

/// One viewer's preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefs {
    /// Blur strength.
    pub blur: Blur,
    /// Media in greyscale until revealed.
    pub greyscale: bool,
    /// Video starts by itself (muted).
    pub autoplay: bool,
    /// Colour theme.
    pub theme: Theme,
}

impl Default for Prefs {
    /// The wellness defaults: strong blur, greyscale, no autoplay.
    fn default() -> Self {
        Self {
            blur: Blur::Strong,
            greyscale: true,
            autoplay: false,
            theme: Theme::Auto,
        }
    }
}

impl Blur {
    fn as_str(self) -> &'static str {
        match self {
            Blur::Light => "light",
            Blur::Medium => "medium",
            Blur::Strong => "strong",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [Blur::Light, Blur::Medium, Blur::Strong]
            .into_iter()
            .find(|b| b.as_str() == value)
    }
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [Theme::Auto, Theme::Light, Theme::Dark]
            .into_iter()
            .find(|t| t.as_str() == value)
    }
}

impl Prefs {
    /// Reads the preferences cookie; missing or unknown values take the defaults.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        super::guard::cookie_value(headers, PREFS_COOKIE)
            .map(|value| Self::parse(&value))
            .unwrap_or_default()
    }

    /// Parses `blur.grey.autoplay.theme`, e.g. `strong.1.0.auto`.
    pub fn parse(value: &str) -> Self {
        let mut prefs = Self::default();
        let mut parts = value.split('.');
        if let Some(blur) = parts.next().and_then(Blur::parse) {
            prefs.blur = blur;
        }
        if let Some(grey) = parts.next().filter(|v| matches!(*v, "0" | "1")) {
            prefs.greyscale = grey == "1";
        }
        if let Some(autoplay) = parts.next().filter(|v| matches!(*v, "0" | "1")) {
            prefs.autoplay = autoplay == "1";
        }
        if let Some(theme) = parts.next().and_then(Theme::parse) {
            prefs.theme = theme;
        }
        prefs
    }

    /// The cookie value.
    pub fn to_cookie_value(self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.blur.as_str(),
            u8::from(self.greyscale),
            u8::from(self.autoplay),
            self.theme.as_str()
        )
    }

    /// Classes on `<body>` that the stylesheet reads.
    pub fn body_class(&self) -> String {
        format!(
            "blur-{} {} theme-{}",
            self.blur.as_str(),
            if self.greyscale { "grey" } else { "colour" },
            self.theme.as_str()
        )
    }

    /// The blur strength's name.
    pub fn blur_name(&self) -> &'static str {
        self.blur.as_str()
    }

    /// The theme's name.
    pub fn theme_name(&self) -> &'static str {
        self.theme.as_str()
    }
}

/// The preferences page.
#[derive(Template)]
#[template(path = "preferences.html")]
pub struct PreferencesPage {
    layout: Layout,
    prefs: Prefs,
}

/// `GET /console/preferences`.
pub async fn page(viewer: Viewer) -> Response {
    let layout = Layout::new(&viewer, "Preferences", "preferences");
    render(
        StatusCode::OK,
        &PreferencesPage {
            layout,
            prefs: viewer.prefs,
        },
    )
}

/// The preferences form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PreferencesForm {
    blur: String,
    greyscale: String,
    autoplay: String,
    theme: String,
}

/// `POST /console/preferences`.
pub async fn save(
    State(_state): State<AppState>,
    crate::auth::SecureCookies(secure): crate::auth::SecureCookies,
    mut viewer: Viewer,
    ConsoleForm(form): ConsoleForm<PreferencesForm>,
) -> Response {
    let prefs = Prefs {
        blur: Blur::parse(&form.blur).unwrap_or(Blur::Strong),
        greyscale: form.greyscale == "on",
        autoplay: form.autoplay == "on",
        theme: Theme::parse(&form.theme).unwrap_or(Theme::Auto),
    };
    viewer.prefs = prefs;
    let layout = Layout::new(&viewer, "Preferences", "preferences").with_notice(Some(Notice::ok(
        "Saved. They apply on every page you open now.",
    )));
    let mut response = render(StatusCode::OK, &PreferencesPage { layout, prefs });
    let cookie = cookie::Cookie::build((PREFS_COOKIE, prefs.to_cookie_value()))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::days(365))
        .build();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_defaults() {
        let prefs = Prefs {
            blur: Blur::Light,
            greyscale: false,
            autoplay: true,
            theme: Theme::Dark,
        };
        assert_eq!(Prefs::parse(&prefs.to_cookie_value()), prefs);
        assert_eq!(Prefs::parse("garbage"), Prefs::default());
        assert_eq!(Prefs::parse("light.x.y.z").blur, Blur::Light);
        assert!(
            Prefs::parse("light.x.y.z").greyscale,
            "bad values keep the safe default"
        );
        assert_eq!(Prefs::default().body_class(), "blur-strong grey theme-auto");
    }
}
