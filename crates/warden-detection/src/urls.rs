//! Finding URLs and their domains in text, as spammers write them.

use crate::limits::URL_CHARS_MAX;

use crate::limits::URLS_MAX;

fn is_url_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c,
            '"' | '\'' | '<' | '>' | '(' | ')' | '[' | ']' | '{' | '}' | '`'
        )
}

/// URLs in `text`: anything starting with `http://`, `https://` or `www.`.
pub fn extract_urls(text: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while from < lower.len() && urls.len() < URLS_MAX {
        let rest = &lower[from..];
        let Some(offset) = ["http://", "https://", "www."]
            .iter()
            .filter_map(|p| rest.find(p))
            .min()
        else {
            break;
        };
        let start = from + offset;
        let end = text[start..]
            .char_indices()
            .find(|(_, c)| !is_url_char(*c))
            .map_or(text.len(), |(i, _)| start + i);
        let mut url = text[start..end]
            .trim_end_matches(['.', ',', ';', ':', '!', '?'])
            .to_string();
        if url.len() > URL_CHARS_MAX {
            let mut cut = URL_CHARS_MAX;
            while !url.is_char_boundary(cut) {
                cut -= 1;
            }
            url.truncate(cut);
        }
        if url.len() > "www.".len() {
            urls.push(url);
        }
        from = end.max(start + 1);
    }
    urls
}

/// The host name of a URL, lowercase, without `www.`, port or credentials.
pub fn domain_of(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .or_else(|| url.strip_prefix("HTTP://"))
        .or_else(|| url.strip_prefix("HTTPS://"))
        .unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?;
    let host = host
        .split(':')
        .next()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    (!host.is_empty() && host.contains('.')).then_some(host)
}

/// Whether `domain` is `listed` or a subdomain of it.
pub fn domain_matches(domain: &str, listed: &str) -> bool {
    domain == listed
        || domain
            .strip_suffix(listed)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_urls_and_domains() {
        let urls =
            extract_urls("Buy now at https://Cheap-Followers.example/x?y=1, or www.spam.example.");
        assert_eq!(
            urls,
            ["https://Cheap-Followers.example/x?y=1", "www.spam.example"]
        );
        let domains: Vec<_> = urls.iter().filter_map(|u| domain_of(u)).collect();
        assert_eq!(domains, ["cheap-followers.example", "spam.example"]);
        assert_eq!(
            domain_of("http://user:pw@login.bank.example:8080/"),
            Some("login.bank.example".into())
        );
        assert!(extract_urls("no links here").is_empty());
        assert!(extract_urls("ünïcödé https://é.example/ä").len() == 1);
    }

    #[test]
    fn subdomains_match() {
        assert!(domain_matches("a.spam.example", "spam.example"));
        assert!(domain_matches("spam.example", "spam.example"));
        assert!(!domain_matches("notspam.example", "spam.example"));
    }
}
