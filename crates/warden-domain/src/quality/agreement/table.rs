//! Ratings by name: a [`RatingTableBuilder`] interns item, rater and label
//! names into dense indices as ratings arrive, and its [`RatingTable`]
//! keeps the names beside the [`RatingSet`].
//!
//! Names are numbered in byte order when the table is finished, so the
//! indices, and every list in a report, do not depend on the order the
//! ratings came in.

use std::collections::HashMap;

use super::{AgreementError, BuildError, Rating, RatingSet};
use crate::limits::{
    AGREEMENT_CATEGORIES_MAX, AGREEMENT_ITEMS_MAX, AGREEMENT_LABEL_BYTES_MAX,
    AGREEMENT_NAME_BYTES_MAX, AGREEMENT_RATERS_MAX, AGREEMENT_RATINGS_MAX,
};

/// Ratings by name, as they arrive.
#[derive(Debug, Default)]
pub struct RatingTableBuilder {
    items: NameIndex,
    raters: NameIndex,
    categories: NameIndex,
    ratings: Vec<Rating>,
}

/// Ratings with the names of their items, raters and labels.
#[derive(Debug, Clone)]
pub struct RatingTable {
    items: Vec<Box<str>>,
    raters: Vec<Box<str>>,
    categories: Vec<Box<str>>,
    ratings: RatingSet,
}

/// Names and the index each got, in order of arrival.
#[derive(Debug, Default)]
struct NameIndex {
    indices: HashMap<Box<str>, u32>,
}

impl NameIndex {
    fn get(&self, name: &str) -> Option<u32> {
        self.indices.get(name).copied()
    }

    fn len(&self) -> usize {
        self.indices.len()
    }

    fn insert(&mut self, name: &str) -> u32 {
        // Callers check the limits first, and every limit is below u32::MAX.
        let index = self.indices.len() as u32;
        self.indices.insert(name.into(), index);
        index
    }

    /// The names in byte order, and for each arrival index its new index.
    fn into_sorted(self) -> (Vec<Box<str>>, Vec<u32>) {
        let mut named: Vec<(Box<str>, u32)> = self.indices.into_iter().collect();
        named.sort_unstable_by(|x, y| x.0.cmp(&y.0));
        let mut renumbered = vec![0u32; named.len()];
        for (new, (_, old)) in named.iter().enumerate() {
            renumbered[*old as usize] = new as u32;
        }
        (
            named.into_iter().map(|(name, _)| name).collect(),
            renumbered,
        )
    }
}

impl RatingTableBuilder {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ratings added so far.
    pub fn len(&self) -> usize {
        self.ratings.len()
    }

    /// True before the first rating.
    pub fn is_empty(&self) -> bool {
        self.ratings.is_empty()
    }

    /// Adds one rating: `rater` put `item` under `label`. Names must be
    /// non-empty, within their byte limits and free of control characters;
    /// a refused rating changes nothing. A repeated (item, rater) is found
    /// by [`finish`](Self::finish).
    pub fn add(&mut self, item: &str, rater: &str, label: &str) -> Result<(), AgreementError> {
        check_name("item", item, AGREEMENT_NAME_BYTES_MAX)?;
        check_name("rater", rater, AGREEMENT_NAME_BYTES_MAX)?;
        check_name("label", label, AGREEMENT_LABEL_BYTES_MAX)?;
        if self.ratings.len() >= AGREEMENT_RATINGS_MAX {
            return Err(AgreementError::TooManyRatings {
                max: AGREEMENT_RATINGS_MAX,
            });
        }
        let known = (
            self.items.get(item),
            self.raters.get(rater),
            self.categories.get(label),
        );
        if known.0.is_none() && self.items.len() >= AGREEMENT_ITEMS_MAX {
            return Err(AgreementError::TooManyItems {
                max: AGREEMENT_ITEMS_MAX,
            });
        }
        if known.1.is_none() && self.raters.len() >= AGREEMENT_RATERS_MAX {
            return Err(AgreementError::TooManyRaters {
                max: AGREEMENT_RATERS_MAX,
            });
        }
        if known.2.is_none() && self.categories.len() >= AGREEMENT_CATEGORIES_MAX {
            return Err(AgreementError::TooManyCategories {
                max: AGREEMENT_CATEGORIES_MAX,
            });
        }
        let rating = Rating {
            item: known.0.unwrap_or_else(|| self.items.insert(item)),
            rater: known.1.unwrap_or_else(|| self.raters.insert(rater)),
            category: known.2.unwrap_or_else(|| self.categories.insert(label)),
        };
        self.ratings.push(rating);
        Ok(())
    }

    /// Numbers the names in byte order and checks the ratings; a rater who
    /// rated an item twice is an error naming both and the positions (in
    /// the order of [`add`](Self::add)) of the first rating and the
    /// earliest repeat.
    pub fn finish(self) -> Result<RatingTable, AgreementError> {
        let (items, item_numbers) = self.items.into_sorted();
        let (raters, rater_numbers) = self.raters.into_sorted();
        let (categories, category_numbers) = self.categories.into_sorted();
        let mut ratings = self.ratings;
        for rating in &mut ratings {
            rating.item = item_numbers[rating.item as usize];
            rating.rater = rater_numbers[rating.rater as usize];
            rating.category = category_numbers[rating.category as usize];
        }
        let set = RatingSet::build(items.len(), raters.len(), categories.len(), &ratings).map_err(
            |error| match error {
                BuildError::Invalid(error) => error,
                BuildError::Duplicate(duplicate) => AgreementError::DuplicateRating {
                    first: duplicate.first,
                    second: duplicate.second,
                    item: items[duplicate.item as usize].to_string(),
                    rater: raters[duplicate.rater as usize].to_string(),
                },
            },
        )?;
        Ok(RatingTable {
            items,
            raters,
            categories,
            ratings: set,
        })
    }
}

impl RatingTable {
    /// The ratings, by index.
    pub fn ratings(&self) -> &RatingSet {
        &self.ratings
    }

    /// The name of item `item`, if it is one.
    pub fn item_name(&self, item: u32) -> Option<&str> {
        self.items.get(item as usize).map(AsRef::as_ref)
    }

    /// The name of rater `rater`, if it is one.
    pub fn rater_name(&self, rater: u32) -> Option<&str> {
        self.raters.get(rater as usize).map(AsRef::as_ref)
    }

    /// The label of category `category`, if it is one.
    pub fn label(&self, category: u32) -> Option<&str> {
        self.categories.get(category as usize).map(AsRef::as_ref)
    }
}

fn check_name(field: &'static str, value: &str, bytes_max: usize) -> Result<(), AgreementError> {
    let reason = if value.is_empty() {
        "is empty".to_string()
    } else if value.len() > bytes_max {
        format!(
            "is {} bytes long; at most {bytes_max} are allowed",
            value.len()
        )
    } else if value.chars().any(char::is_control) {
        "contains a control character (a line break, tab or similar)".to_string()
    } else {
        return Ok(());
    };
    Err(AgreementError::InvalidName { field, reason })
}
