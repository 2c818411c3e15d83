//! Agreement statistics: raters put the same items in nominal categories
//! independently, and these numbers say how far they agree beyond chance.
//!
//! # Input
//!
//! A [`RatingSet`] holds ratings as dense indices (item, rater, category),
//! each below its count, at most one rating per (item, rater); a rater may
//! skip items. A [`RatingTable`] builds one from names (CSV rows, a
//! session's ratings) and keeps the names, numbered in byte order so that
//! the report does not depend on the order the ratings came in.
//!
//! # Definitions
//!
//! Only items with at least one rating count. Item i has n_i ratings, n_ij
//! of them in category j.
//!
//! - **Percent agreement** P̄ (Fleiss 1971): the share of agreeing pairs
//!   among the ordered pairs of an item's ratings,
//!   P_i = Σ_j n_ij(n_ij − 1) / (n_i(n_i − 1)), averaged over the items with
//!   n_i ≥ 2 (an item rated once has no pair).
//! - **Fleiss' kappa** (Fleiss 1971), for complete designs only (every rated
//!   item has the same number n ≥ 2 of ratings): p_j = Σ_i n_ij / (N·n),
//!   P̄_e = Σ_j p_j², κ = (P̄ − P̄_e) / (1 − P̄_e).
//! - **Cohen's kappa** (Cohen 1960) of two raters over the m items both
//!   rated: p_o is the share they put in the same category, and
//!   p_e = Σ_j a_j·b_j / m² from each one's counts a_j, b_j on those items;
//!   κ = (p_o − p_e) / (1 − p_e). It is computed for every pair; the
//!   report's `cohen_kappa` is the one pair's when there are exactly two
//!   raters.
//! - **Krippendorff's alpha**, nominal (Krippendorff 2011), with missing
//!   ratings: units with m_u ≥ 2 ratings are pairable; the coincidences
//!   o_cc = Σ_u n_uc(n_uc − 1) / (m_u − 1); n_c = Σ_u n_uc over pairable
//!   units and n = Σ_c n_c; α = 1 − (n − 1)(n − Σ_c o_cc) / (n² − Σ_c n_c²).
//! - **Consensus** of an item: the category most of its ratings chose (the
//!   plurality). When two or more categories tie for the most ratings the
//!   item has no consensus: no label is preferred arbitrarily.
//! - **A rater's agreement with consensus**: the share of the rater's
//!   ratings equal to the consensus, over the items that have a consensus
//!   and at least two ratings (a lone rating agrees with itself).
//! - **Most disputed items**: items with at least two ratings that are not
//!   unanimous, lowest P_i first; ties go to the item with more ratings,
//!   then to the lower item index (name order in a [`RatingTable`]). At most
//!   [`AGREEMENT_DISPUTED_ITEMS_MAX`].
//!
//! # Undefined values
//!
//! A statistic the data cannot define is an [`Undefined`] with its reason,
//! never NaN and never a panic: no item with two ratings; every rating in
//! one category (chance agreement is 1, so kappa and alpha are 0/0); Fleiss'
//! kappa over items with different numbers of ratings; Cohen's kappa when
//! there are not exactly two raters, or for a pair with no item in common.
//!
//! # Cost
//!
//! O(ratings + items + categories) for all but the pairs. The pairs cost
//! O(raters × ratings + raters² × categories): each rater's ratings are
//! marked in an item-indexed array once, and every later rater's ratings
//! are looked up in it. Nothing is allocated per rating.

mod table;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::limits::{
    AGREEMENT_CATEGORIES_MAX, AGREEMENT_DISPUTED_ITEMS_MAX, AGREEMENT_ITEMS_MAX,
    AGREEMENT_RATERS_MAX, AGREEMENT_RATINGS_MAX,
};

pub use table::{RatingTable, RatingTableBuilder};

/// A statistic's value, or why the data cannot define it.
pub type Statistic = Result<f64, Undefined>;

/// Why a statistic has no value for some data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undefined {
    /// No item has two or more ratings, so no two ratings can be compared.
    TooFewRatings,
    /// Every rating compared is in one category: chance agreement is 1 and
    /// the statistic is 0/0.
    SingleCategory,
    /// Items have different numbers of ratings; Fleiss' kappa needs every
    /// item rated by the same number of raters.
    UnequalRatingsPerItem,
    /// Cohen's kappa is for exactly two raters; the pairs have one each.
    NotTwoRaters,
    /// The two raters rated no item in common.
    NoSharedItems,
    /// The rater rated no item that has a consensus and two or more ratings.
    NoConsensusItems,
}

impl Undefined {
    /// The reason in words, for people and for `null` values in reports.
    pub fn reason(self) -> &'static str {
        match self {
            Self::TooFewRatings => "no item has two or more ratings to compare",
            Self::SingleCategory => {
                "every rating compared is in one category, so chance agreement is 1 and the statistic is 0/0"
            }
            Self::UnequalRatingsPerItem => {
                "items have different numbers of ratings; Fleiss' kappa needs every item rated by the same number of raters"
            }
            Self::NotTwoRaters => "Cohen's kappa needs exactly two raters; see the pairs",
            Self::NoSharedItems => "the two raters rated no item in common",
            Self::NoConsensusItems => {
                "the rater rated no item with a consensus and two or more ratings"
            }
        }
    }
}

impl fmt::Display for Undefined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// One rating: `rater` put `item` in `category`, as dense indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating {
    /// The item rated (a case, in a calibration session).
    pub item: u32,
    /// Who rated it.
    pub rater: u32,
    /// The label chosen.
    pub category: u32,
}

/// Ratings that cannot make a [`RatingSet`], naming the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgreementError {
    /// More ratings than [`AGREEMENT_RATINGS_MAX`].
    #[error("ratings: more than {max} ratings")]
    TooManyRatings {
        /// The limit.
        max: usize,
    },
    /// More items than [`AGREEMENT_ITEMS_MAX`].
    #[error("item: more than {max} items")]
    TooManyItems {
        /// The limit.
        max: usize,
    },
    /// More raters than [`AGREEMENT_RATERS_MAX`].
    #[error("rater: more than {max} raters")]
    TooManyRaters {
        /// The limit.
        max: usize,
    },
    /// More distinct labels than [`AGREEMENT_CATEGORIES_MAX`].
    #[error("label: more than {max} distinct labels")]
    TooManyCategories {
        /// The limit.
        max: usize,
    },
    /// An item, rater or label name that is empty, too long or unprintable.
    #[error("{field}: {reason}")]
    InvalidName {
        /// `item`, `rater` or `label`.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// An index not below its count.
    #[error("ratings[{rating}].{field}: {index} is not below the number of {field}s, {count}")]
    IndexOutOfRange {
        /// Position of the rating in the input.
        rating: usize,
        /// `item`, `rater` or `category`.
        field: &'static str,
        /// The index given.
        index: u32,
        /// The count it must be below.
        count: usize,
    },
    /// A rater rated one item twice.
    #[error("ratings[{second}]: item {item} is rated twice by rater {rater} (first at ratings[{first}])")]
    DuplicateRating {
        /// Position of the first rating in the input.
        first: usize,
        /// Position of the repeat (the earliest repeat in the input).
        second: usize,
        /// The item, by name or index.
        item: String,
        /// The rater, by name or index.
        rater: String,
    },
}

impl AgreementError {
    /// The field at fault: `ratings`, `item`, `rater`, `label` or `category`.
    pub fn field(&self) -> &'static str {
        match self {
            Self::TooManyRatings { .. } | Self::DuplicateRating { .. } => "ratings",
            Self::TooManyItems { .. } => "item",
            Self::TooManyRaters { .. } => "rater",
            Self::TooManyCategories { .. } => "label",
            Self::InvalidName { field, .. } | Self::IndexOutOfRange { field, .. } => field,
        }
    }
}

/// Ratings checked (indices in range, one per item and rater, within the
/// limits) and grouped by item and by rater.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingSet {
    item_count: u32,
    rater_count: u32,
    category_count: u32,
    /// `by_item[item_starts[i]..item_starts[i + 1]]` are item i's ratings.
    item_starts: Vec<u32>,
    /// (rater, category), grouped by item, by rater within an item.
    by_item: Vec<(u32, u32)>,
    /// `by_rater[rater_starts[r]..rater_starts[r + 1]]` are rater r's ratings.
    rater_starts: Vec<u32>,
    /// (item, category), grouped by rater, by item within a rater.
    by_rater: Vec<(u32, u32)>,
}

/// A repeated (item, rater): positions in the input and the indices.
struct Duplicate {
    first: usize,
    second: usize,
    item: u32,
    rater: u32,
}

/// Why [`RatingSet::build`] refused, before names are put on a duplicate.
enum BuildError {
    Invalid(AgreementError),
    Duplicate(Duplicate),
}

impl RatingSet {
    /// Checks and groups `ratings` over `item_count` items, `rater_count`
    /// raters and `category_count` categories. Indices with no rating are
    /// allowed and left out of every statistic.
    pub fn new(
        item_count: usize,
        rater_count: usize,
        category_count: usize,
        ratings: &[Rating],
    ) -> Result<Self, AgreementError> {
        Self::build(item_count, rater_count, category_count, ratings).map_err(|error| match error {
            BuildError::Invalid(error) => error,
            BuildError::Duplicate(duplicate) => AgreementError::DuplicateRating {
                first: duplicate.first,
                second: duplicate.second,
                item: duplicate.item.to_string(),
                rater: duplicate.rater.to_string(),
            },
        })
    }

    fn build(
        item_count: usize,
        rater_count: usize,
        category_count: usize,
        ratings: &[Rating],
    ) -> Result<Self, BuildError> {
        check_limits(item_count, rater_count, category_count, ratings.len())
            .map_err(BuildError::Invalid)?;
        check_indices(item_count, rater_count, category_count, ratings)
            .map_err(BuildError::Invalid)?;
        // The limits checked above keep every count and position below
        // u32::MAX.
        let rater_starts = starts(rater_count, ratings.iter().map(|r| r.rater));
        let item_starts = starts(item_count, ratings.iter().map(|r| r.item));
        let positions = item_rater_order(ratings, &rater_starts, &item_starts);
        if let Some(duplicate) = earliest_duplicate(&positions, ratings) {
            return Err(BuildError::Duplicate(duplicate));
        }
        let by_item: Vec<(u32, u32)> = positions
            .iter()
            .map(|&position| {
                let rating = &ratings[position as usize];
                (rating.rater, rating.category)
            })
            .collect();
        drop(positions);
        let by_rater = regroup_by_rater(&by_item, &item_starts, &rater_starts);
        Ok(Self {
            item_count: item_count as u32,
            rater_count: rater_count as u32,
            category_count: category_count as u32,
            item_starts,
            by_item,
            rater_starts,
            by_rater,
        })
    }

    /// Items, rated or not.
    pub fn item_count(&self) -> usize {
        self.item_count as usize
    }

    /// Raters, with ratings or not.
    pub fn rater_count(&self) -> usize {
        self.rater_count as usize
    }

    /// Categories, used or not.
    pub fn category_count(&self) -> usize {
        self.category_count as usize
    }

    /// Ratings.
    pub fn len(&self) -> usize {
        self.by_item.len()
    }

    /// True when there is no rating.
    pub fn is_empty(&self) -> bool {
        self.by_item.is_empty()
    }

    /// The ratings of `item` by rater (none for an unknown item).
    pub fn item_ratings(&self, item: u32) -> impl Iterator<Item = Rating> + '_ {
        self.item_slice(item)
            .iter()
            .map(move |&(rater, category)| Rating {
                item,
                rater,
                category,
            })
    }

    /// The ratings of `rater` by item (none for an unknown rater).
    pub fn rater_ratings(&self, rater: u32) -> impl Iterator<Item = Rating> + '_ {
        self.rater_slice(rater)
            .iter()
            .map(move |&(item, category)| Rating {
                item,
                rater,
                category,
            })
    }

    fn item_slice(&self, item: u32) -> &[(u32, u32)] {
        slice(&self.item_starts, &self.by_item, item)
    }

    fn rater_slice(&self, rater: u32) -> &[(u32, u32)] {
        slice(&self.rater_starts, &self.by_rater, rater)
    }
}

/// Refuses counts over the limits.
fn check_limits(
    item_count: usize,
    rater_count: usize,
    category_count: usize,
    rating_count: usize,
) -> Result<(), AgreementError> {
    if rating_count > AGREEMENT_RATINGS_MAX {
        return Err(AgreementError::TooManyRatings {
            max: AGREEMENT_RATINGS_MAX,
        });
    }
    if item_count > AGREEMENT_ITEMS_MAX {
        return Err(AgreementError::TooManyItems {
            max: AGREEMENT_ITEMS_MAX,
        });
    }
    if rater_count > AGREEMENT_RATERS_MAX {
        return Err(AgreementError::TooManyRaters {
            max: AGREEMENT_RATERS_MAX,
        });
    }
    if category_count > AGREEMENT_CATEGORIES_MAX {
        return Err(AgreementError::TooManyCategories {
            max: AGREEMENT_CATEGORIES_MAX,
        });
    }
    Ok(())
}

/// Refuses the first rating with an index out of its range.
fn check_indices(
    item_count: usize,
    rater_count: usize,
    category_count: usize,
    ratings: &[Rating],
) -> Result<(), AgreementError> {
    for (position, rating) in ratings.iter().enumerate() {
        for (field, index, count) in [
            ("item", rating.item, item_count),
            ("rater", rating.rater, rater_count),
            ("category", rating.category, category_count),
        ] {
            if index as usize >= count {
                return Err(AgreementError::IndexOutOfRange {
                    rating: position,
                    field,
                    index,
                    count,
                });
            }
        }
    }
    Ok(())
}

/// The positions of `ratings` in (item, rater) order, input order among
/// equals: two stable counting sorts, by rater and then by item.
fn item_rater_order(ratings: &[Rating], rater_starts: &[u32], item_starts: &[u32]) -> Vec<u32> {
    let mut cursor = rater_starts[..rater_starts.len() - 1].to_vec();
    let mut by_rater_positions = vec![0u32; ratings.len()];
    for (position, rating) in ratings.iter().enumerate() {
        let slot = &mut cursor[rating.rater as usize];
        by_rater_positions[*slot as usize] = position as u32;
        *slot += 1;
    }
    let mut cursor = item_starts[..item_starts.len() - 1].to_vec();
    let mut positions = vec![0u32; ratings.len()];
    for &position in &by_rater_positions {
        let slot = &mut cursor[ratings[position as usize].item as usize];
        positions[*slot as usize] = position;
        *slot += 1;
    }
    positions
}

/// The (rater, category) ratings grouped by item, regrouped as (item,
/// category) by rater, by item within a rater.
fn regroup_by_rater(
    by_item: &[(u32, u32)],
    item_starts: &[u32],
    rater_starts: &[u32],
) -> Vec<(u32, u32)> {
    let mut cursor = rater_starts[..rater_starts.len() - 1].to_vec();
    let mut by_rater = vec![(0u32, 0u32); by_item.len()];
    for (item, bounds) in item_starts.windows(2).enumerate() {
        let range = bounds[0] as usize..bounds[1] as usize;
        for &(rater, category) in &by_item[range] {
            let slot = &mut cursor[rater as usize];
            by_rater[*slot as usize] = (item as u32, category);
            *slot += 1;
        }
    }
    by_rater
}

/// Start offsets of each group, plus the total at the end, for a counting
/// sort of `keys` (each below `count`).
fn starts(count: usize, keys: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut starts = vec![0u32; count + 1];
    for key in keys {
        starts[key as usize + 1] += 1;
    }
    for i in 0..count {
        starts[i + 1] += starts[i];
    }
    starts
}

/// Group `group` of a counting-sorted array; empty for an unknown group.
fn slice<'a>(starts: &[u32], entries: &'a [(u32, u32)], group: u32) -> &'a [(u32, u32)] {
    let group = group as usize;
    match (starts.get(group), starts.get(group + 1)) {
        (Some(&start), Some(&end)) => &entries[start as usize..end as usize],
        _ => &[],
    }
}

/// The repeated (item, rater) whose repeat comes earliest in the input,
/// from positions in (item, rater) order with input order among equals.
fn earliest_duplicate(positions: &[u32], ratings: &[Rating]) -> Option<Duplicate> {
    let mut found: Option<Duplicate> = None;
    for pair in positions.windows(2) {
        let (first, second) = (pair[0] as usize, pair[1] as usize);
        let (x, y) = (&ratings[first], &ratings[second]);
        if (x.item, x.rater) == (y.item, y.rater)
            && found.as_ref().is_none_or(|earlier| second < earlier.second)
        {
            found = Some(Duplicate {
                first,
                second,
                item: x.item,
                rater: x.rater,
            });
        }
    }
    found
}

/// Every statistic of a [`RatingSet`], with indices into it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementReport {
    /// Items with at least one rating.
    pub items: usize,
    /// Raters with at least one rating.
    pub raters: usize,
    /// Ratings.
    pub ratings: usize,
    /// Categories used by at least one rating.
    pub categories: usize,
    /// Fleiss' mean per-item agreement P̄.
    pub percent_agreement: Statistic,
    /// Fleiss' kappa (complete designs).
    pub fleiss_kappa: Statistic,
    /// Krippendorff's alpha for nominal data.
    pub krippendorff_alpha_nominal: Statistic,
    /// Cohen's kappa, when there are exactly two raters.
    pub cohen_kappa: Statistic,
    /// Every pair of raters with ratings, `a < b`, in index order.
    pub pairs: Vec<PairAgreement>,
    /// Every rater with ratings, in index order.
    pub raters_vs_consensus: Vec<RaterAgreement>,
    /// One entry per item index, rated or not.
    pub item_agreement: Vec<ItemAgreement>,
    /// The least agreed-on items, most disputed first.
    pub most_disputed: Vec<DisputedItem>,
}

/// Two raters compared over the items both rated.
#[derive(Debug, Clone, PartialEq)]
pub struct PairAgreement {
    /// The first rater (lower index).
    pub a: u32,
    /// The second rater.
    pub b: u32,
    /// Items both rated.
    pub shared_items: u32,
    /// The share of shared items both put in the same category (p_o).
    pub observed_agreement: Statistic,
    /// Cohen's kappa over the shared items.
    pub cohen_kappa: Statistic,
}

/// One rater against the consensus.
#[derive(Debug, Clone, PartialEq)]
pub struct RaterAgreement {
    /// The rater.
    pub rater: u32,
    /// The rater's ratings.
    pub ratings: u32,
    /// Of those, the ones compared: items with a consensus and two or more
    /// ratings.
    pub compared: u32,
    /// The share of compared ratings equal to the consensus.
    pub agreement: Statistic,
}

/// One item's ratings in brief.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemAgreement {
    /// Ratings of the item.
    pub ratings: u32,
    /// P_i, the share of agreeing pairs of its ratings; `None` below two
    /// ratings.
    pub agreement: Option<f64>,
    /// Its consensus.
    pub consensus: Consensus,
}

/// The category most of an item's ratings chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consensus {
    /// Nobody rated the item.
    Unrated,
    /// One category has more ratings than any other.
    Label {
        /// The category.
        category: u32,
        /// Ratings in it.
        votes: u32,
    },
    /// Two or more categories tie for the most ratings: no consensus.
    Tie {
        /// Ratings in each of the tied categories.
        votes: u32,
    },
}

impl Consensus {
    /// The consensus category, if there is one.
    pub fn category(self) -> Option<u32> {
        match self {
            Self::Label { category, .. } => Some(category),
            Self::Unrated | Self::Tie { .. } => None,
        }
    }
}

/// An item the raters disagreed on.
#[derive(Debug, Clone, PartialEq)]
pub struct DisputedItem {
    /// The item.
    pub item: u32,
    /// Its ratings.
    pub ratings: u32,
    /// P_i, below 1.
    pub agreement: f64,
    /// (category, ratings in it), most chosen first, then by category.
    pub labels: Vec<(u32, u32)>,
}

/// A category index no rating has: marks "not rated" in per-item arrays.
const NOT_RATED: u32 = u32::MAX;

/// Computes every statistic of `set`.
pub fn measure(set: &RatingSet) -> AgreementReport {
    let per_item = measure_items(set);
    let pairs = measure_pairs(set);
    let raters_vs_consensus = measure_raters(set, &per_item.items);
    let active_raters = (0..set.rater_count)
        .filter(|&rater| !set.rater_slice(rater).is_empty())
        .count();
    let cohen_kappa = match pairs.as_slice() {
        [pair] if active_raters == 2 => pair.cohen_kappa,
        _ => Err(Undefined::NotTwoRaters),
    };
    let most_disputed = most_disputed(set, &per_item.items);
    AgreementReport {
        items: per_item.rated_items,
        raters: active_raters,
        ratings: set.len(),
        categories: per_item.categories_used,
        percent_agreement: per_item.percent_agreement,
        fleiss_kappa: per_item.fleiss_kappa,
        krippendorff_alpha_nominal: per_item.krippendorff_alpha,
        cohen_kappa,
        pairs,
        raters_vs_consensus,
        item_agreement: per_item.items,
        most_disputed,
    }
}

/// What one pass over the items yields.
struct PerItem {
    items: Vec<ItemAgreement>,
    rated_items: usize,
    categories_used: usize,
    percent_agreement: Statistic,
    fleiss_kappa: Statistic,
    krippendorff_alpha: Statistic,
}

/// Whether every rated item has the same number of ratings.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Design {
    NoItems,
    Complete(u32),
    Incomplete,
}

fn measure_items(set: &RatingSet) -> PerItem {
    let mut pass = ItemPass::new(set.category_count(), set.rater_count());
    let mut items = Vec::with_capacity(set.item_count());
    for item in 0..set.item_count {
        items.push(pass.item(set.item_slice(item)));
    }
    pass.finish(items)
}

/// The running sums of one pass over the items, and the scratch counts of
/// the item in hand (allocated once, cleared per item through `touched`).
struct ItemPass {
    /// Ratings per category of the item in hand.
    counts: Vec<u32>,
    /// The categories of the item in hand, in first-seen order.
    touched: Vec<u32>,
    /// Ratings per category over all items, and over pairable items only.
    category_totals: Vec<u64>,
    pairable_totals: Vec<u64>,
    rated_items: usize,
    pairable_items: usize,
    pairable_ratings: u64,
    /// Agreeing ordered pairs summed by the item's number of ratings (at
    /// most one per rater), so P̄ and Σ_c o_cc divide once per group instead
    /// of rounding once per item.
    same_by_ratings: Vec<u64>,
    design: Design,
}

impl ItemPass {
    fn new(categories: usize, raters: usize) -> Self {
        Self {
            counts: vec![0u32; categories],
            touched: Vec::with_capacity(categories),
            category_totals: vec![0u64; categories],
            pairable_totals: vec![0u64; categories],
            rated_items: 0,
            pairable_items: 0,
            pairable_ratings: 0,
            same_by_ratings: vec![0u64; raters + 1],
            design: Design::NoItems,
        }
    }

    /// Adds one item's (rater, category) ratings; returns its agreement.
    #[inline]
    fn item(&mut self, entries: &[(u32, u32)]) -> ItemAgreement {
        let n = entries.len() as u32;
        if n == 0 {
            return ItemAgreement {
                ratings: 0,
                agreement: None,
                consensus: Consensus::Unrated,
            };
        }
        self.rated_items += 1;
        self.design = match self.design {
            Design::NoItems => Design::Complete(n),
            Design::Complete(m) if m == n => self.design,
            Design::Complete(_) | Design::Incomplete => Design::Incomplete,
        };
        for &(_, category) in entries {
            let count = &mut self.counts[category as usize];
            if *count == 0 {
                self.touched.push(category);
            }
            *count += 1;
            self.category_totals[category as usize] += 1;
        }
        let (same, consensus) = self.pairs_and_plurality();
        let agreement = (n >= 2).then(|| self.add_pairable(n, same));
        for &category in &self.touched {
            self.counts[category as usize] = 0;
        }
        self.touched.clear();
        ItemAgreement {
            ratings: n,
            agreement,
            consensus,
        }
    }

    /// The item in hand's agreeing ordered pairs, and its plurality with
    /// its tie.
    #[inline]
    fn pairs_and_plurality(&self) -> (u64, Consensus) {
        let mut same = 0u64;
        let mut best = (0u32, 0u32);
        let mut tie = false;
        for &category in &self.touched {
            let votes = self.counts[category as usize];
            same += u64::from(votes) * u64::from(votes - 1);
            if votes > best.1 {
                best = (category, votes);
                tie = false;
            } else if votes == best.1 {
                tie = true;
            }
        }
        let consensus = if tie {
            Consensus::Tie { votes: best.1 }
        } else {
            Consensus::Label {
                category: best.0,
                votes: best.1,
            }
        };
        (same, consensus)
    }

    /// Counts the item in hand, with `n` ≥ 2 ratings and `same` agreeing
    /// pairs, among the pairable ones; returns its P_i.
    #[inline]
    fn add_pairable(&mut self, n: u32, same: u64) -> f64 {
        self.same_by_ratings[n as usize] += same;
        self.pairable_items += 1;
        self.pairable_ratings += u64::from(n);
        for &category in &self.touched {
            self.pairable_totals[category as usize] += u64::from(self.counts[category as usize]);
        }
        same as f64 / (f64::from(n) * f64::from(n - 1))
    }

    /// The statistics of the whole pass.
    fn finish(self, items: Vec<ItemAgreement>) -> PerItem {
        let mut agreement_sum = 0.0f64;
        // Σ_c o_cc of Krippendorff's coincidence matrix: Σ_u same_u / (m_u − 1).
        let mut coincidences_within = 0.0f64;
        for (n, &same) in self.same_by_ratings.iter().enumerate().skip(2) {
            let n = n as f64;
            agreement_sum += same as f64 / (n * (n - 1.0));
            coincidences_within += same as f64 / (n - 1.0);
        }
        let pairable_items = self.pairable_items;
        let percent_agreement = if pairable_items == 0 {
            Err(Undefined::TooFewRatings)
        } else {
            Ok(agreement_sum / pairable_items as f64)
        };
        let fleiss_kappa = match self.design {
            _ if pairable_items == 0 => Err(Undefined::TooFewRatings),
            Design::Complete(n) => {
                let total = self.rated_items as u64 * u64::from(n);
                fleiss(percent_agreement, &self.category_totals, total)
            }
            Design::NoItems | Design::Incomplete => Err(Undefined::UnequalRatingsPerItem),
        };
        let krippendorff_alpha = if pairable_items == 0 {
            Err(Undefined::TooFewRatings)
        } else {
            krippendorff_nominal(
                &self.pairable_totals,
                self.pairable_ratings,
                coincidences_within,
            )
        };
        PerItem {
            items,
            rated_items: self.rated_items,
            categories_used: self.category_totals.iter().filter(|&&t| t > 0).count(),
            percent_agreement,
            fleiss_kappa,
            krippendorff_alpha,
        }
    }
}

/// Fleiss' kappa from P̄ and the ratings per category (`total` in all).
fn fleiss(percent_agreement: Statistic, category_totals: &[u64], total: u64) -> Statistic {
    let observed = percent_agreement?;
    let squares: u64 = category_totals.iter().map(|t| t * t).sum();
    // Ratings are at most a million, so total² fits in u64 and in f64 exactly.
    if squares == total * total {
        return Err(Undefined::SingleCategory);
    }
    let chance = squares as f64 / (total * total) as f64;
    Ok((observed - chance) / (1.0 - chance))
}

/// Krippendorff's nominal alpha from the pairable ratings per category
/// (`n` in all) and Σ_c o_cc.
fn krippendorff_nominal(totals: &[u64], n: u64, coincidences_within: f64) -> Statistic {
    let squares: u64 = totals.iter().map(|t| t * t).sum();
    if squares == n * n {
        return Err(Undefined::SingleCategory);
    }
    let n_f = n as f64;
    Ok(1.0 - (n_f - 1.0) * (n_f - coincidences_within) / (n * n - squares) as f64)
}

fn measure_pairs(set: &RatingSet) -> Vec<PairAgreement> {
    let active: Vec<u32> = (0..set.rater_count)
        .filter(|&rater| !set.rater_slice(rater).is_empty())
        .collect();
    let categories = set.category_count();
    let mut marked = vec![NOT_RATED; set.item_count()];
    let mut first_counts = vec![0u32; categories];
    let mut second_counts = vec![0u32; categories];
    let mut pairs = Vec::with_capacity(active.len() * active.len().saturating_sub(1) / 2);
    for (position, &a) in active.iter().enumerate() {
        for &(item, category) in set.rater_slice(a) {
            marked[item as usize] = category;
        }
        for &b in &active[position + 1..] {
            let mut shared = 0u32;
            let mut agreed = 0u32;
            for &(item, second) in set.rater_slice(b) {
                let first = marked[item as usize];
                if first != NOT_RATED {
                    shared += 1;
                    agreed += u32::from(first == second);
                    first_counts[first as usize] += 1;
                    second_counts[second as usize] += 1;
                }
            }
            // Σ_j a_j·b_j, resetting the counts for the next pair.
            let mut chance_pairs = 0u64;
            for (first, second) in first_counts.iter_mut().zip(second_counts.iter_mut()) {
                chance_pairs += u64::from(*first) * u64::from(*second);
                *first = 0;
                *second = 0;
            }
            pairs.push(PairAgreement {
                a,
                b,
                shared_items: shared,
                observed_agreement: if shared == 0 {
                    Err(Undefined::NoSharedItems)
                } else {
                    Ok(f64::from(agreed) / f64::from(shared))
                },
                cohen_kappa: cohen(shared, agreed, chance_pairs),
            });
        }
        for &(item, _) in set.rater_slice(a) {
            marked[item as usize] = NOT_RATED;
        }
    }
    pairs
}

/// Cohen's kappa over `shared` items, `agreed` of them in the same
/// category, with Σ_j a_j·b_j = `chance_pairs`:
/// κ = (agreed·m − Σ a_j b_j) / (m² − Σ a_j b_j), the same as
/// (p_o − p_e) / (1 − p_e) without rounding p_o and p_e first.
fn cohen(shared: u32, agreed: u32, chance_pairs: u64) -> Statistic {
    if shared == 0 {
        return Err(Undefined::NoSharedItems);
    }
    let m = u64::from(shared);
    if chance_pairs == m * m {
        return Err(Undefined::SingleCategory);
    }
    // All values are below 2^53, so these conversions are exact.
    let numerator = (u64::from(agreed) * m) as f64 - chance_pairs as f64;
    Ok(numerator / (m * m - chance_pairs) as f64)
}

fn measure_raters(set: &RatingSet, items: &[ItemAgreement]) -> Vec<RaterAgreement> {
    let mut raters = Vec::new();
    for rater in 0..set.rater_count {
        let entries = set.rater_slice(rater);
        if entries.is_empty() {
            continue;
        }
        let mut compared = 0u32;
        let mut agreed = 0u32;
        for &(item, category) in entries {
            let summary = &items[item as usize];
            if summary.ratings < 2 {
                continue;
            }
            if let Some(consensus) = summary.consensus.category() {
                compared += 1;
                agreed += u32::from(consensus == category);
            }
        }
        raters.push(RaterAgreement {
            rater,
            ratings: entries.len() as u32,
            compared,
            agreement: if compared == 0 {
                Err(Undefined::NoConsensusItems)
            } else {
                Ok(f64::from(agreed) / f64::from(compared))
            },
        });
    }
    raters
}

fn most_disputed(set: &RatingSet, items: &[ItemAgreement]) -> Vec<DisputedItem> {
    let mut disputed: Vec<(f64, u32, u32)> = items
        .iter()
        .enumerate()
        .filter_map(|(item, summary)| {
            let agreement = summary.agreement.filter(|&share| share < 1.0)?;
            Some((agreement, summary.ratings, item as u32))
        })
        .collect();
    // Lowest agreement first, then more ratings, then the lower index.
    let order = |x: &(f64, u32, u32), y: &(f64, u32, u32)| {
        x.0.total_cmp(&y.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2))
    };
    if disputed.len() > AGREEMENT_DISPUTED_ITEMS_MAX {
        disputed.select_nth_unstable_by(AGREEMENT_DISPUTED_ITEMS_MAX, order);
        disputed.truncate(AGREEMENT_DISPUTED_ITEMS_MAX);
    }
    disputed.sort_unstable_by(order);
    disputed
        .into_iter()
        .map(|(agreement, ratings, item)| DisputedItem {
            item,
            ratings,
            agreement,
            labels: label_counts(set, item),
        })
        .collect()
}

/// (category, ratings) of one item, most chosen first, then by category.
fn label_counts(set: &RatingSet, item: u32) -> Vec<(u32, u32)> {
    let mut labels: Vec<(u32, u32)> = Vec::new();
    for &(_, category) in set.item_slice(item) {
        match labels.iter_mut().find(|(known, _)| *known == category) {
            Some((_, count)) => *count += 1,
            None => labels.push((category, 1)),
        }
    }
    labels.sort_unstable_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    labels
}
