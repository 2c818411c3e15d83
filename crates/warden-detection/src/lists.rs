//! Named lists that rules consult: keywords (matched with one multi-pattern
//! automaton per list, shared by every rule), domains (a domain or any of
//! its subdomains) and hashes (exact).

use std::collections::{BTreeMap, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

pub use crate::limits::LIST_ENTRIES_MAX;

pub use crate::limits::ENTRY_BYTES_MAX;

/// What a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// Phrases found anywhere in text, case-insensitively.
    Keywords,
    /// Domains; a listed domain also matches its subdomains.
    Domains,
    /// Exact values such as content hashes.
    Hashes,
}

impl ListKind {
    /// Parses `keywords`, `domains` or `hashes`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "keywords" => Ok(ListKind::Keywords),
            "domains" => Ok(ListKind::Domains),
            "hashes" => Ok(ListKind::Hashes),
            other => Err(format!(
                "unknown list kind {other:?}; expected keywords, domains or hashes"
            )),
        }
    }
}

/// One list, ready to match.
#[derive(Debug, Clone)]
pub struct NamedList {
    kind: ListKind,
    entries: Vec<String>,
    automaton: Option<AhoCorasick>,
    set: HashSet<String>,
}

impl NamedList {
    /// Builds a list, checking its limits.
    pub fn new(kind: ListKind, entries: Vec<String>) -> Result<Self, String> {
        if entries.len() > LIST_ENTRIES_MAX {
            return Err(format!("a list holds at most {LIST_ENTRIES_MAX} entries"));
        }
        if let Some(long) = entries
            .iter()
            .find(|e| e.len() > ENTRY_BYTES_MAX || e.trim().is_empty())
        {
            return Err(format!(
                "entry {long:?} must be 1 to {ENTRY_BYTES_MAX} bytes"
            ));
        }
        let entries: Vec<String> = match kind {
            ListKind::Keywords => entries.iter().map(|e| e.to_lowercase()).collect(),
            ListKind::Domains | ListKind::Hashes => entries
                .iter()
                .map(|e| e.trim().trim_start_matches("www.").to_ascii_lowercase())
                .collect(),
        };
        let automaton = match kind {
            ListKind::Keywords => Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&entries)
                    .map_err(|e| format!("cannot build the keyword automaton: {e}"))?,
            ),
            _ => None,
        };
        let set = entries.iter().cloned().collect();
        Ok(Self {
            kind,
            entries,
            automaton,
            set,
        })
    }

    /// Its kind.
    pub fn kind(&self) -> ListKind {
        self.kind
    }

    /// Its entries, normalised.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// The entries that `value` matches (keywords found in it, domains it is
    /// in, hashes it equals).
    pub fn matches(&self, value: &str) -> Vec<&str> {
        match self.kind {
            ListKind::Keywords => {
                let lower;
                let haystack = if value.is_ascii() {
                    value
                } else {
                    lower = value.to_lowercase();
                    &lower
                };
                let Some(automaton) = &self.automaton else {
                    return Vec::new();
                };
                let mut found: Vec<&str> = automaton
                    .find_iter(haystack)
                    .map(|m| self.entries[m.pattern().as_usize()].as_str())
                    .collect();
                found.dedup();
                found
            }
            ListKind::Domains => {
                let domain = value.trim().trim_start_matches("www.").to_ascii_lowercase();
                let mut candidate = domain.as_str();
                loop {
                    if let Some(entry) = self.set.get(candidate) {
                        return vec![entry.as_str()];
                    }
                    match candidate.split_once('.') {
                        Some((_, parent)) if parent.contains('.') || !parent.is_empty() => {
                            candidate = parent
                        }
                        _ => return Vec::new(),
                    }
                }
            }
            ListKind::Hashes => self
                .set
                .get(&value.trim().to_ascii_lowercase())
                .map(|e| vec![e.as_str()])
                .unwrap_or_default(),
        }
    }
}

/// All lists, by name.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    lists: BTreeMap<String, NamedList>,
}

impl Lists {
    /// Adds or replaces a list.
    pub fn insert(&mut self, name: &str, list: NamedList) {
        self.lists.insert(name.to_string(), list);
    }

    /// The list called `name`.
    pub fn get(&self, name: &str) -> Option<&NamedList> {
        self.lists.get(name)
    }

    /// Names of all lists.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.lists.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_domains_hashes() {
        let keywords = NamedList::new(
            ListKind::Keywords,
            vec!["double your bitcoin".into(), "GIVEAWAY".into()],
        )
        .unwrap();
        assert_eq!(
            keywords.matches("Huge Giveaway: DOUBLE YOUR BITCOIN now"),
            ["giveaway", "double your bitcoin"]
        );
        assert_eq!(keywords.matches("Ünïcode GIVEAWAY"), ["giveaway"]);
        assert!(keywords.matches("nothing").is_empty());
        let domains = NamedList::new(ListKind::Domains, vec!["www.phish.example".into()]).unwrap();
        assert_eq!(domains.matches("login.PHISH.example"), ["phish.example"]);
        assert!(domains.matches("phish.example.com").is_empty());
        assert!(domains.matches("notphish.example").is_empty());
        let hashes = NamedList::new(ListKind::Hashes, vec!["ABC".into()]).unwrap();
        assert_eq!(hashes.matches("abc"), ["abc"]);
        assert!(NamedList::new(ListKind::Hashes, vec![" ".into()]).is_err());
    }
}
