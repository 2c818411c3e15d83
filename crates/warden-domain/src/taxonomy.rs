//! The taxonomy of abuse categories that reports, cases and decisions use.
//!
//! A report's `reason` and a decision's `category` are taxonomy codes. The
//! built-in taxonomy below is what a new installation starts with; the
//! configuration may add categories or change their default severity.

use std::collections::BTreeMap;

use crate::case::Severity;

/// One category of abuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// The code, e.g. `spam`.
    pub code: String,
    /// A short human name.
    pub name: String,
    /// The severity a case in this category starts with.
    pub severity: Severity,
}

/// The set of categories in force.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    categories: BTreeMap<String, Category>,
}

/// Built-in categories: code, name, default severity.
const BUILT_IN: &[(&str, &str, Severity)] = &[
    ("spam", "Spam", Severity::Low),
    ("scam", "Scams and fraud", Severity::High),
    ("fraud", "Payment fraud", Severity::High),
    ("phishing", "Phishing", Severity::High),
    ("impersonation", "Impersonation", Severity::Medium),
    ("harassment", "Harassment and bullying", Severity::Medium),
    ("hate", "Hate speech", Severity::High),
    ("violent_threat", "Violent threats", Severity::Critical),
    ("self_harm", "Self-harm and suicide", Severity::Critical),
    ("child_safety", "Child safety", Severity::Critical),
    ("extremism", "Violent extremism", Severity::Critical),
    (
        "ip_infringement",
        "Intellectual property infringement",
        Severity::Medium,
    ),
    ("counterfeit", "Counterfeit goods", Severity::Medium),
    ("account_compromise", "Account compromise", Severity::High),
    (
        "coordinated_inauthentic_behaviour",
        "Coordinated inauthentic behaviour",
        Severity::High,
    ),
    ("adult_content", "Adult content", Severity::Medium),
    (
        "illegal_goods",
        "Illegal goods and services",
        Severity::High,
    ),
    ("privacy", "Privacy violation and doxxing", Severity::High),
    ("misinformation", "Harmful misinformation", Severity::Medium),
    ("other", "Other policy violation", Severity::Low),
];

impl Default for Taxonomy {
    fn default() -> Self {
        let categories = BUILT_IN
            .iter()
            .map(|(code, name, severity)| {
                (
                    code.to_string(),
                    Category {
                        code: code.to_string(),
                        name: name.to_string(),
                        severity: *severity,
                    },
                )
            })
            .collect();
        Self { categories }
    }
}

impl Taxonomy {
    /// Adds a category or replaces one with the same code.
    pub fn insert(&mut self, category: Category) {
        self.categories.insert(category.code.clone(), category);
    }

    /// The category with `code`.
    pub fn get(&self, code: &str) -> Option<&Category> {
        self.categories.get(code)
    }

    /// Checks that `code` names a category and returns it.
    pub fn parse_code(&self, code: &str) -> Result<String, String> {
        if self.categories.contains_key(code) {
            Ok(code.to_string())
        } else {
            Err(format!(
                "unknown taxonomy code {code:?}; known codes: {}",
                self.codes().collect::<Vec<_>>().join(", ")
            ))
        }
    }

    /// Every code, sorted.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.categories.keys().map(String::as_str)
    }

    /// Every category, sorted by code.
    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_codes_are_valid_codes() {
        let taxonomy = Taxonomy::default();
        for category in taxonomy.categories() {
            crate::ids::parse_code(&category.code).unwrap();
        }
        assert_eq!(
            taxonomy.get("child_safety").unwrap().severity,
            Severity::Critical
        );
        assert!(taxonomy.parse_code("nope").unwrap_err().contains("spam"));
    }
}
