//! [`DatabaseUrl`]: a database URL that keeps its password out of `Debug`,
//! `Display`, logs and error messages.
//!
//! Configuration, the command line and the store's own errors hold the URL
//! in this wrapper; only connecting reads the whole text
//! ([`DatabaseUrl::expose`], or the `&str` it dereferences to). What is
//! shown has the password replaced by `***`: in the user-info part
//! (`postgres://warden:***@db/warden`) and in a `password=` query
//! parameter (`?password=***`), which libpq also accepts.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What stands for a password in anything shown.
const REDACTED: &str = "***";

/// A database URL (`postgres://…`, `postgresql://…` or `sqlite://…`).
/// Equality and serialisation use the whole URL (a configuration written
/// back keeps it); `Debug` and `Display` redact the password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wraps a URL as given (it is checked when the store opens it).
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The whole URL, password included: for connecting, nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether no URL was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The URL with its password replaced by `***`, for logs and errors.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

/// `url` with the password of its user-info and of any `password=` query
/// parameter replaced. A URL the `url` crate cannot parse is shown as its
/// scheme only, since where its password is cannot be told.
fn redact(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://{REDACTED}"),
            None if url.is_empty() => String::new(),
            None => REDACTED.to_string(),
        };
    };
    if parsed.password().is_some() && parsed.set_password(Some(REDACTED)).is_err() {
        return format!("{}://{REDACTED}", parsed.scheme());
    }
    if parsed
        .query_pairs()
        .any(|(key, _)| key.eq_ignore_ascii_case("password"))
    {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if key.eq_ignore_ascii_case("password") {
                    REDACTED.to_string()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // `url` writes `***` in user-info percent-encoded; show it plainly.
    parsed.to_string().replace("%2A%2A%2A", REDACTED)
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&self.redacted())
            .finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Deref for DatabaseUrl {
    type Target = str;

    /// The whole URL, for connecting (`SqlStore::open_url(&url, ..)`).
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for DatabaseUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl From<&str> for DatabaseUrl {
    fn from(url: &str) -> Self {
        Self(url.to_string())
    }
}

impl FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(Self(url.to_string()))
    }
}

impl PartialEq<str> for DatabaseUrl {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for DatabaseUrl {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let cases = [
            (
                "postgres://warden:s3cret@db.example:5432/warden",
                "postgres://warden:***@db.example:5432/warden",
            ),
            (
                "postgresql://warden:p%40ss%3Aw0rd@db/warden?sslmode=require",
                "postgresql://warden:***@db/warden?sslmode=require",
            ),
            (
                "postgres://warden@db/warden?password=s3cret&sslmode=disable",
                "postgres://warden@db/warden?password=***&sslmode=disable",
            ),
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
            (
                "sqlite:///var/lib/warden/warden.db",
                "sqlite:///var/lib/warden/warden.db",
            ),
            ("postgres://user:s3cret@[::1/db", "postgres://***"),
            ("not a url s3cret", "***"),
            ("", ""),
        ];
        for (url, shown) in cases {
            let wrapped = DatabaseUrl::new(url);
            assert_eq!(wrapped.redacted(), shown, "{url}");
            assert_eq!(wrapped.to_string(), shown, "{url}");
            let debug = format!("{wrapped:?}");
            assert!(
                !debug.contains("s3cret") && !debug.contains("w0rd"),
                "{debug}"
            );
            assert_eq!(wrapped.expose(), url);
            assert_eq!(&*wrapped, url);
        }
    }

    #[test]
    fn serialisation_keeps_the_whole_url() {
        let url = DatabaseUrl::new("postgres://warden:s3cret@db/warden");
        let json = serde_json::to_string(&url).unwrap();
        assert_eq!(json, "\"postgres://warden:s3cret@db/warden\"");
        let back: DatabaseUrl = serde_json::from_str(&json).unwrap();
        assert_eq!(back, url);
        assert_eq!(back, "postgres://warden:s3cret@db/warden");
    }
}
