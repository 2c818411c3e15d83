//! The console's static files, embedded in the binary, and the stand-in
//! pictures shown for a subject's media.
//!
//! Warden does not copy or fetch the platform's media (the page may load
//! nothing from outside, and a media proxy with its own safety checks is
//! work of its own), so each media item is shown as a picture drawn here
//! from its hash: distinct per item, and enough to see the blur, the
//! greyscale and the reveal work. The item's URL, type and hash are shown
//! beside it as text.

use std::fmt::Write as _;
use std::sync::LazyLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::view::secure_headers;

const STYLESHEET: &str = include_str!("../../static/console.css");
const SCRIPT: &str = include_str!("../../static/console.js");
const ICON: &str = include_str!("../../static/favicon.svg");

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::new()
        .chain_update(STYLESHEET)
        .chain_update(SCRIPT)
        .chain_update(ICON)
        .finalize();
    hex::encode(&digest[..6])
});

/// A short hash of the static files, added to their URLs so that a new
/// version is fetched at once while an unchanged one is cached for a year.
pub fn version() -> &'static str {
    VERSION.as_str()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    secure_headers(headers);
    response
}

/// `GET /console/static/console.css`.
pub async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

/// `GET /console/static/console.js`.
pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /console/static/favicon.svg`.
pub async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}

/// A stand-in picture for a media item, drawn from `seed` (its hash or URL):
/// a few soft shapes in colours of its own, and a caption saying what it is.
pub fn media_placeholder(seed: &str, caption: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let hue = |i: usize| u32::from(digest[i]) * 360 / 256;
    let byte = |i: usize| u32::from(digest[i % digest.len()]);
    let mut svg = String::with_capacity(2048);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="640" height="400" viewBox="0 0 640 400" role="img" aria-label="Media stand-in"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl({} 70% 55%)"/><stop offset="1" stop-color="hsl({} 65% 35%)"/></linearGradient></defs><rect width="640" height="400" fill="url(#g)"/>"#,
        hue(0),
        hue(1)
    );
    for i in 0..7 {
        let _ = write!(
            svg,
            r#"<circle cx="{}" cy="{}" r="{}" fill="hsl({} 80% {}%)" fill-opacity="0.75"/>"#,
            byte(2 + i * 3) * 640 / 256,
            byte(3 + i * 3) * 400 / 256,
            20 + byte(4 + i * 3) * 90 / 256,
            hue((5 + i * 2) % 32),
            40 + byte(6 + i) * 30 / 256
        );
    }
    let _ = write!(
        svg,
        r#"<rect x="0" y="340" width="640" height="60" fill="rgb(0 0 0 / 0.55)"/><text x="20" y="376" font-family="sans-serif" font-size="20" fill="white">{}</text></svg>"#,
        xml_escape(caption)
    );
    svg
}

/// Escapes text for an SVG text node.
fn xml_escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// An SVG answer that cannot run script even when opened on its own. The
/// stand-ins draw with presentation attributes only, so the policy allows
/// nothing at all.
pub fn svg_response(svg: String) -> Response {
    let mut response = (StatusCode::OK, svg).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    secure_headers(headers);
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_differ_and_escape() {
        let a = media_placeholder("a", "image 1 <of> 2");
        let b = media_placeholder("b", "image 1 <of> 2");
        assert_ne!(a, b);
        assert!(a.contains("image 1 &lt;of&gt; 2"));
        assert!(!a.contains("<of>"));
        assert_eq!(version().len(), 12);
    }
}
