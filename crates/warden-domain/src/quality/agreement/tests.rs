//! Tests of the agreement statistics: the published worked examples,
//! randomized data against reference implementations (values recorded by
//! `bench/agreement_reference.py`), hand-checked consensus and disputes,
//! degenerate data, limits at max and max + 1, and properties.
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

use proptest::prelude::*;

use super::*;
use crate::limits::{
    AGREEMENT_CATEGORIES_MAX, AGREEMENT_DISPUTED_ITEMS_MAX, AGREEMENT_ITEMS_MAX,
    AGREEMENT_LABEL_BYTES_MAX, AGREEMENT_NAME_BYTES_MAX, AGREEMENT_RATERS_MAX,
    AGREEMENT_RATINGS_MAX,
};

/// Ratings written one item per word, one character per rater: a category
/// digit, or `.` where the rater skipped the item.
fn columns(text: &str) -> RatingSet {
    let items: Vec<&str> = text.split_whitespace().collect();
    let raters = items.iter().map(|item| item.len()).max().unwrap_or(0);
    let mut ratings = Vec::new();
    let mut categories = 0;
    for (item, column) in items.iter().enumerate() {
        for (rater, symbol) in column.chars().enumerate() {
            if let Some(category) = symbol.to_digit(10) {
                categories = categories.max(category as usize + 1);
                ratings.push(Rating {
                    item: item as u32,
                    rater: rater as u32,
                    category,
                });
            }
        }
    }
    RatingSet::new(items.len(), raters, categories, &ratings).unwrap()
}

/// A table of counts (items × categories), the way Fleiss printed his: each
/// item's ratings come from raters 0, 1, 2, ... in category order.
fn counts(table: &[&[u32]]) -> RatingSet {
    let categories = table.iter().map(|row| row.len()).max().unwrap_or(0);
    let mut ratings = Vec::new();
    let mut raters = 0;
    for (item, row) in table.iter().enumerate() {
        let mut rater = 0;
        for (category, &count) in row.iter().enumerate() {
            for _ in 0..count {
                ratings.push(Rating {
                    item: item as u32,
                    rater,
                    category: category as u32,
                });
                rater += 1;
            }
        }
        raters = raters.max(rater as usize);
    }
    RatingSet::new(table.len(), raters, categories, &ratings).unwrap()
}

/// Two raters' cross-tabulation: `table[i][j]` items rater A put in i and B in j.
fn cross_table(table: &[&[u32]]) -> RatingSet {
    let mut ratings = Vec::new();
    let mut item = 0;
    for (first, row) in table.iter().enumerate() {
        for (second, &count) in row.iter().enumerate() {
            for _ in 0..count {
                ratings.push(Rating {
                    item,
                    rater: 0,
                    category: first as u32,
                });
                ratings.push(Rating {
                    item,
                    rater: 1,
                    category: second as u32,
                });
                item += 1;
            }
        }
    }
    RatingSet::new(item as usize, 2, table.len(), &ratings).unwrap()
}

#[track_caller]
fn assert_close(actual: Statistic, expected: f64, tolerance: f64) {
    let value = actual.unwrap_or_else(|why| panic!("expected {expected}, got undefined: {why}"));
    assert!(
        (value - expected).abs() <= tolerance,
        "expected {expected} ± {tolerance}, got {value}"
    );
}

// ------------------------------------------------------------ worked examples

/// The 10 × 14 × 5 table of the worked example for Fleiss' kappa (the
/// contract's numbers: P̄ = 0.378, P̄_e = 0.213, κ = 0.210).
const FLEISS_EXAMPLE: &[&[u32]] = &[
    &[0, 0, 0, 0, 14],
    &[0, 2, 6, 4, 2],
    &[0, 0, 3, 5, 6],
    &[0, 3, 9, 2, 0],
    &[2, 2, 8, 1, 1],
    &[7, 7, 0, 0, 0],
    &[3, 2, 6, 3, 0],
    &[2, 5, 3, 2, 2],
    &[6, 5, 2, 1, 0],
    &[0, 2, 2, 3, 7],
];

#[test]
fn fleiss_worked_example() {
    let report = measure(&counts(FLEISS_EXAMPLE));
    assert_eq!(
        (
            report.items,
            report.raters,
            report.ratings,
            report.categories
        ),
        (10, 14, 140, 5)
    );
    assert_close(report.percent_agreement, 0.378, 1e-3);
    assert_close(report.fleiss_kappa, 0.210, 1e-3);
    assert_close(report.krippendorff_alpha_nominal, 0.216, 1e-3);
    // Exactly: P̄ = 688 / 1820; statsmodels' fleiss_kappa; the krippendorff package.
    assert_close(report.percent_agreement, 688.0 / 1820.0, 1e-12);
    assert_close(report.fleiss_kappa, 0.20993070442195522, 1e-12);
    assert_close(
        report.krippendorff_alpha_nominal,
        0.21557405653322692,
        1e-12,
    );
    assert_eq!(report.cohen_kappa, Err(Undefined::NotTwoRaters));
    // The example's P_i column.
    let printed = [
        1.000, 0.253, 0.308, 0.440, 0.330, 0.462, 0.242, 0.176, 0.286, 0.286,
    ];
    for (item, expected) in report.item_agreement.iter().zip(printed) {
        assert!((item.agreement.unwrap() - expected).abs() < 1e-3);
    }
    // Item 8 (index 7) has the lowest P_i; items 9 and 10 tie at 52/182,
    // both with 14 ratings, so the lower index comes first.
    let order: Vec<u32> = report.most_disputed.iter().map(|d| d.item).collect();
    assert_eq!(order, [7, 6, 1, 8, 9, 2, 4, 3, 5]);
    assert_eq!(
        report.most_disputed[0].labels,
        [(1, 5), (2, 3), (0, 2), (3, 2), (4, 2)]
    );
}

/// Fleiss (1971), the paper's own data: 30 patients, 6 psychiatrists each
/// (not the same six), 5 diagnoses; the paper reports κ = 0.430. Raw
/// ratings as in R's `irr::diagnoses` and statsmodels' tests.
const FLEISS_1971_DIAGNOSES: &str = "\
    444444 222555 233335 555555 222444 113333 333355 113334 114444 555555 \
    144444 124444 222333 144444 224445 333335 111455 111112 224444 133555 \
    555555 244444 224555 114444 144445 222224 111155 224444 133333 555555";

#[test]
fn fleiss_1971_diagnoses() {
    let report = measure(&columns(FLEISS_1971_DIAGNOSES));
    assert_eq!((report.items, report.raters, report.categories), (30, 6, 5));
    assert_close(report.fleiss_kappa, 0.430, 1e-3);
    assert_close(report.percent_agreement, 0.556, 1e-3);
    assert_close(report.fleiss_kappa, 0.43024452006014074, 1e-12);
    assert_close(report.krippendorff_alpha_nominal, 0.4334098282820289, 1e-12);
}

/// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": four
/// observers, twelve units, nominal values with missing data; α = 0.743.
const KRIPPENDORFF_2011: &str = "1.11 2232 3333 3333 2222 1234 4444 1121 2222 .555 ..11 .3..";

#[test]
fn krippendorff_worked_example() {
    let report = measure(&columns(KRIPPENDORFF_2011));
    assert_eq!(
        (
            report.items,
            report.raters,
            report.ratings,
            report.categories
        ),
        (12, 4, 41, 5)
    );
    assert_close(report.krippendorff_alpha_nominal, 0.743, 1e-3);
    assert_close(report.krippendorff_alpha_nominal, 0.743421052631579, 1e-12);
    // Unit 12 has one value and is not pairable; items differ in ratings.
    assert_eq!(report.fleiss_kappa, Err(Undefined::UnequalRatingsPerItem));
    assert_close(report.percent_agreement, 0.8181818181818182, 1e-12);
    assert_eq!(report.item_agreement[11].agreement, None);
}

#[test]
fn cohen_worked_examples() {
    // 50 grant proposals, two readers: 20 yes/yes, 5 yes/no, 10 no/yes,
    // 15 no/no; p_o = 0.7, p_e = 0.5, κ = 0.4.
    let report = measure(&cross_table(&[&[20, 5], &[10, 15]]));
    assert_close(report.cohen_kappa, 0.4, 1e-12);
    assert_eq!(report.pairs.len(), 1);
    assert_eq!(report.pairs[0].shared_items, 50);
    assert_close(report.pairs[0].observed_agreement, 0.7, 1e-12);
    // Equal p_o = 0.6, different marginals: κ = 0.1304 and 0.2593.
    assert_close(
        measure(&cross_table(&[&[45, 15], &[25, 15]])).cohen_kappa,
        0.1304,
        1e-4,
    );
    assert_close(
        measure(&cross_table(&[&[25, 35], &[5, 35]])).cohen_kappa,
        0.2593,
        1e-4,
    );
    // With two raters rating every item, Fleiss' kappa is Scott's pi, with
    // chance agreement from the pooled marginals: 55/100 and 45/100.
    let p_e = 0.55f64 * 0.55 + 0.45 * 0.45;
    assert_close(report.fleiss_kappa, (0.7 - p_e) / (1.0 - p_e), 1e-12);
}

// ------------------------------------------------- reference implementations

/// A seeded random data set and the values established implementations
/// give for it (statsmodels, the krippendorff package, scikit-learn); see
/// `bench/agreement_reference.py`, which wrote `RANDOM_CASES`.
struct RandomCase {
    seed: u64,
    /// One word per item, one character per rater (`.`: skipped).
    ratings: &'static str,
    percent_agreement: f64,
    /// `None` where the design is incomplete.
    fleiss_kappa: Option<f64>,
    krippendorff_alpha: Option<f64>,
    /// (a, b, items both rated, Cohen's kappa).
    pairs: &'static [(u32, u32, u32, Option<f64>)],
}

#[test]
fn randomized_data_matches_reference_implementations() {
    for case in RANDOM_CASES {
        let seed = case.seed;
        let report = measure(&columns(case.ratings));
        let close = |actual: Statistic, expected: Option<f64>, what: &str| match expected {
            Some(expected) => {
                let value = actual.unwrap_or_else(|why| panic!("seed {seed} {what}: {why}"));
                assert!(
                    (value - expected).abs() < 1e-9,
                    "seed {seed} {what}: {value} != {expected}"
                );
            }
            None => assert!(actual.is_err(), "seed {seed} {what}: {actual:?}"),
        };
        close(
            report.percent_agreement,
            Some(case.percent_agreement),
            "percent agreement",
        );
        close(
            report.krippendorff_alpha_nominal,
            case.krippendorff_alpha,
            "alpha",
        );
        close(report.fleiss_kappa, case.fleiss_kappa, "Fleiss' kappa");
        if case.fleiss_kappa.is_none() {
            assert_eq!(report.fleiss_kappa, Err(Undefined::UnequalRatingsPerItem));
        }
        assert_eq!(report.pairs.len(), case.pairs.len(), "seed {seed}");
        for (pair, &(a, b, shared, kappa)) in report.pairs.iter().zip(case.pairs) {
            assert_eq!(
                (pair.a, pair.b, pair.shared_items),
                (a, b, shared),
                "seed {seed}"
            );
            close(pair.cohen_kappa, kappa, &format!("kappa of {a} and {b}"));
        }
        if let [(_, _, _, kappa)] = case.pairs {
            close(report.cohen_kappa, *kappa, "Cohen's kappa");
        } else {
            assert_eq!(report.cohen_kappa, Err(Undefined::NotTwoRaters));
        }
    }
}

// ------------------------------------------------ consensus and disputes

#[test]
fn consensus_ties_and_raters_against_it() {
    // Raters 0, 1, 2 across; items down.
    let report = measure(&columns("000 001 012 01. 0.. 11."));
    let consensus: Vec<Consensus> = report.item_agreement.iter().map(|i| i.consensus).collect();
    assert_eq!(
        consensus,
        [
            Consensus::Label {
                category: 0,
                votes: 3
            },
            Consensus::Label {
                category: 0,
                votes: 2
            },
            Consensus::Tie { votes: 1 },
            Consensus::Tie { votes: 1 },
            Consensus::Label {
                category: 0,
                votes: 1
            },
            Consensus::Label {
                category: 1,
                votes: 2
            },
        ]
    );
    assert_eq!(report.item_agreement[4].agreement, None);
    assert_close(
        report.percent_agreement,
        (1.0 + 1.0 / 3.0 + 0.0 + 0.0 + 1.0) / 5.0,
        1e-12,
    );
    // Compared: items 0, 1 and 5 (a consensus and two or more ratings).
    let raters: Vec<(u32, u32, u32, Statistic)> = report
        .raters_vs_consensus
        .iter()
        .map(|r| (r.rater, r.ratings, r.compared, r.agreement))
        .collect();
    assert_eq!(
        raters,
        [(0, 6, 3, Ok(1.0)), (1, 5, 3, Ok(1.0)), (2, 3, 2, Ok(0.5))]
    );
    // Lowest agreement first; at equal agreement, more ratings first.
    let disputed: Vec<(u32, u32)> = report
        .most_disputed
        .iter()
        .map(|d| (d.item, d.ratings))
        .collect();
    assert_eq!(disputed, [(2, 3), (3, 2), (1, 3)]);
    assert_eq!(report.most_disputed[0].labels, [(0, 1), (1, 1), (2, 1)]);
    assert_eq!(report.most_disputed[2].labels, [(0, 2), (1, 1)]);
}

#[test]
fn most_disputed_is_bounded_and_ordered() {
    // 30 items; item i has 2 + i % 4 raters, one of whom disagrees.
    let mut text = Vec::new();
    for i in 0..30 {
        let agreeing = 1 + i % 4;
        text.push(format!("{}1", "0".repeat(agreeing)));
    }
    let report = measure(&columns(&text.join(" ")));
    assert_eq!(report.most_disputed.len(), AGREEMENT_DISPUTED_ITEMS_MAX);
    // Two ratings that differ: P_i = 0, the lowest; items 0, 4, 8, ...
    let items: Vec<u32> = report.most_disputed.iter().map(|d| d.item).collect();
    assert_eq!(items, [0, 4, 8, 12, 16, 20, 24, 28, 1, 5]);
    assert!(report
        .most_disputed
        .windows(2)
        .all(|w| w[0].agreement <= w[1].agreement));
}

// ------------------------------------------------------------ degenerate data

#[test]
fn no_ratings_define_nothing() {
    let report = measure(&RatingSet::new(0, 0, 0, &[]).unwrap());
    assert_eq!(
        (
            report.items,
            report.raters,
            report.ratings,
            report.categories
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(report.percent_agreement, Err(Undefined::TooFewRatings));
    assert_eq!(report.fleiss_kappa, Err(Undefined::TooFewRatings));
    assert_eq!(
        report.krippendorff_alpha_nominal,
        Err(Undefined::TooFewRatings)
    );
    assert_eq!(report.cohen_kappa, Err(Undefined::NotTwoRaters));
    assert!(report.pairs.is_empty() && report.raters_vs_consensus.is_empty());
    assert!(report.most_disputed.is_empty());
}

#[test]
fn one_rater_has_nothing_to_compare() {
    let report = measure(&columns("0 1 2 1"));
    assert_eq!((report.items, report.raters, report.categories), (4, 1, 3));
    assert_eq!(report.percent_agreement, Err(Undefined::TooFewRatings));
    assert_eq!(report.fleiss_kappa, Err(Undefined::TooFewRatings));
    assert_eq!(
        report.krippendorff_alpha_nominal,
        Err(Undefined::TooFewRatings)
    );
    assert_eq!(report.cohen_kappa, Err(Undefined::NotTwoRaters));
    assert!(report.pairs.is_empty());
    assert_eq!(
        report.raters_vs_consensus[0].agreement,
        Err(Undefined::NoConsensusItems)
    );
}

#[test]
fn identical_ratings_leave_kappa_and_alpha_undefined() {
    let report = measure(&columns("11 11 11"));
    assert_eq!(report.categories, 1);
    assert_close(report.percent_agreement, 1.0, 0.0);
    assert_eq!(report.fleiss_kappa, Err(Undefined::SingleCategory));
    assert_eq!(
        report.krippendorff_alpha_nominal,
        Err(Undefined::SingleCategory)
    );
    assert_eq!(report.cohen_kappa, Err(Undefined::SingleCategory));
    assert_close(report.pairs[0].observed_agreement, 1.0, 0.0);
    assert_close(report.raters_vs_consensus[1].agreement, 1.0, 0.0);
    assert!(report.most_disputed.is_empty());
    // Each rater constant but in different categories: kappa is defined (0).
    let apart = measure(&columns("01 01 01"));
    assert_close(apart.cohen_kappa, 0.0, 0.0);
}

#[test]
fn raters_who_share_no_item() {
    let report = measure(&columns("0. 1. .0 .1"));
    assert_eq!(report.pairs[0].shared_items, 0);
    assert_eq!(report.cohen_kappa, Err(Undefined::NoSharedItems));
    assert_eq!(
        report.pairs[0].observed_agreement,
        Err(Undefined::NoSharedItems)
    );
    assert_eq!(report.percent_agreement, Err(Undefined::TooFewRatings));
    // Unrated indices are left out of every count.
    let sparse = RatingSet::new(
        5,
        4,
        3,
        &[
            Rating {
                item: 1,
                rater: 2,
                category: 0,
            },
            Rating {
                item: 1,
                rater: 3,
                category: 2,
            },
        ],
    )
    .unwrap();
    let report = measure(&sparse);
    assert_eq!((report.items, report.raters, report.categories), (1, 2, 2));
    assert_eq!(report.item_agreement.len(), 5);
    assert_eq!(report.item_agreement[0].consensus, Consensus::Unrated);
    assert_eq!((report.pairs[0].a, report.pairs[0].b), (2, 3));
    assert_close(report.cohen_kappa, 0.0, 0.0);
}

// ---------------------------------------------------------------- bad input

#[test]
fn indices_out_of_range_and_repeats_are_refused() {
    let rating = |item, rater, category| Rating {
        item,
        rater,
        category,
    };
    let error = RatingSet::new(2, 2, 2, &[rating(0, 0, 0), rating(1, 2, 0)]).unwrap_err();
    assert_eq!(
        error,
        AgreementError::IndexOutOfRange {
            rating: 1,
            field: "rater",
            index: 2,
            count: 2
        }
    );
    assert_eq!(error.field(), "rater");
    let ratings = [
        rating(0, 0, 0),
        rating(1, 0, 0),
        rating(2, 0, 0),
        rating(1, 0, 1),
        rating(0, 0, 1),
    ];
    // Two repeats; the one that comes first in the input is named.
    let error = RatingSet::new(3, 1, 2, &ratings).unwrap_err();
    assert_eq!(
        error,
        AgreementError::DuplicateRating {
            first: 1,
            second: 3,
            item: "1".into(),
            rater: "0".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "ratings[3]: item 1 is rated twice by rater 0 (first at ratings[1])"
    );
}

#[test]
fn a_table_names_repeats_and_refuses_bad_names() {
    let mut table = RatingTableBuilder::new();
    table.add("case-2", "ana", "spam").unwrap();
    table.add("case-1", "ana", "spam").unwrap();
    table.add("case-1", "bo", "scam").unwrap();
    table.add("case-1", "ana", "scam").unwrap();
    let error = table.finish().unwrap_err();
    assert_eq!(
        error,
        AgreementError::DuplicateRating {
            first: 1,
            second: 3,
            item: "case-1".into(),
            rater: "ana".into()
        }
    );
    let mut table = RatingTableBuilder::new();
    for (item, rater, label, field) in [
        ("", "ana", "spam", "item"),
        ("c1", "", "spam", "rater"),
        ("c1", "ana", "", "label"),
        ("c\n1", "ana", "spam", "item"),
        ("c1", "an\ta", "spam", "rater"),
    ] {
        let error = table.add(item, rater, label).unwrap_err();
        assert_eq!(error.field(), field, "{item:?} {rater:?} {label:?}");
    }
    assert!(table.is_empty());
}

#[test]
fn a_table_numbers_names_in_byte_order_whatever_the_input_order() {
    let rows: Vec<(String, String, String)> = KRIPPENDORFF_2011
        .split_whitespace()
        .enumerate()
        .flat_map(|(unit, column)| {
            column
                .chars()
                .enumerate()
                .filter(|&(_, value)| value != '.')
                .map(move |(observer, value)| {
                    (
                        format!("unit-{unit:02}"),
                        format!("observer-{observer}"),
                        format!("value-{value}"),
                    )
                })
        })
        .collect();
    let build = |rows: &[(String, String, String)]| {
        let mut table = RatingTableBuilder::new();
        for (item, rater, label) in rows {
            table.add(item, rater, label).unwrap();
        }
        table.finish().unwrap()
    };
    let forward = build(&rows);
    let mut reversed_rows = rows.clone();
    reversed_rows.reverse();
    let reversed = build(&reversed_rows);
    assert_eq!(forward.ratings(), reversed.ratings());
    let report = measure(forward.ratings());
    assert_eq!(report, measure(reversed.ratings()));
    assert_close(report.krippendorff_alpha_nominal, 0.743421052631579, 1e-12);
    assert_eq!(forward.item_name(0), Some("unit-00"));
    assert_eq!(forward.rater_name(3), Some("observer-3"));
    assert_eq!(forward.label(4), Some("value-5"));
    assert_eq!(forward.label(5), None);
}

// ------------------------------------------------------------------- limits

#[test]
fn ratings_at_the_limit_and_one_over() {
    // 5,000 items × 200 raters is exactly the limit.
    let items = AGREEMENT_RATINGS_MAX / AGREEMENT_RATERS_MAX;
    let mut ratings: Vec<Rating> = (0..AGREEMENT_RATINGS_MAX as u32)
        .map(|i| Rating {
            item: i / AGREEMENT_RATERS_MAX as u32,
            rater: i % AGREEMENT_RATERS_MAX as u32,
            category: i % 3,
        })
        .collect();
    let set = RatingSet::new(items, AGREEMENT_RATERS_MAX, 3, &ratings).unwrap();
    assert_eq!(set.len(), AGREEMENT_RATINGS_MAX);
    ratings.push(Rating {
        item: 0,
        rater: 0,
        category: 0,
    });
    assert_eq!(
        RatingSet::new(items, AGREEMENT_RATERS_MAX, 3, &ratings).unwrap_err(),
        AgreementError::TooManyRatings {
            max: AGREEMENT_RATINGS_MAX
        }
    );
}

#[test]
fn counts_at_the_limit_and_one_over() {
    assert!(RatingSet::new(AGREEMENT_ITEMS_MAX, 1, 1, &[]).is_ok());
    assert_eq!(
        RatingSet::new(AGREEMENT_ITEMS_MAX + 1, 1, 1, &[])
            .unwrap_err()
            .field(),
        "item"
    );
    assert!(RatingSet::new(1, AGREEMENT_RATERS_MAX, 1, &[]).is_ok());
    assert_eq!(
        RatingSet::new(1, AGREEMENT_RATERS_MAX + 1, 1, &[]).unwrap_err(),
        AgreementError::TooManyRaters {
            max: AGREEMENT_RATERS_MAX
        }
    );
    assert!(RatingSet::new(1, 1, AGREEMENT_CATEGORIES_MAX, &[]).is_ok());
    assert_eq!(
        RatingSet::new(1, 1, AGREEMENT_CATEGORIES_MAX + 1, &[]).unwrap_err(),
        AgreementError::TooManyCategories {
            max: AGREEMENT_CATEGORIES_MAX
        }
    );
}

#[test]
fn a_table_at_its_limits_and_one_over() {
    let mut table = RatingTableBuilder::new();
    for rater in 0..AGREEMENT_RATERS_MAX {
        table.add("c1", &format!("rater-{rater}"), "spam").unwrap();
    }
    assert_eq!(
        table.add("c1", "one-too-many", "spam").unwrap_err(),
        AgreementError::TooManyRaters {
            max: AGREEMENT_RATERS_MAX
        }
    );
    for label in 1..AGREEMENT_CATEGORIES_MAX {
        table
            .add(
                &format!("item-{label}"),
                "rater-0",
                &format!("label-{label}"),
            )
            .unwrap();
    }
    assert_eq!(
        table.add("c1", "rater-1", "label-new").unwrap_err(),
        AgreementError::TooManyCategories {
            max: AGREEMENT_CATEGORIES_MAX
        }
    );
    let length = AGREEMENT_RATERS_MAX + AGREEMENT_CATEGORIES_MAX - 1;
    assert_eq!(table.len(), length);
    let table = table.finish().unwrap();
    let report = measure(table.ratings());
    assert_eq!(
        (report.raters, report.categories),
        (AGREEMENT_RATERS_MAX, AGREEMENT_CATEGORIES_MAX)
    );

    let mut table = RatingTableBuilder::new();
    let name = "n".repeat(AGREEMENT_NAME_BYTES_MAX);
    let label = "l".repeat(AGREEMENT_LABEL_BYTES_MAX);
    table.add(&name, &name, &label).unwrap();
    let longer = format!("{name}x");
    for (item, rater, label, field) in [
        (longer.as_str(), "r", "l", "item"),
        ("i", longer.as_str(), "l", "rater"),
        ("i", "r", &format!("{label}x"), "label"),
    ] {
        let error = table.add(item, rater, label).unwrap_err();
        assert_eq!(error.field(), field);
        assert!(error.to_string().contains("at most"), "{error}");
    }
    // Byte lengths, not characters: 64 four-byte characters fill 256 bytes.
    table
        .add(&"😀".repeat(AGREEMENT_NAME_BYTES_MAX / 4), "r", "l")
        .unwrap();
    assert!(table
        .add(&"😀".repeat(AGREEMENT_NAME_BYTES_MAX / 4 + 1), "r", "l")
        .is_err());

    let mut table = RatingTableBuilder::new();
    let items: Vec<String> = (0..AGREEMENT_RATINGS_MAX / 10)
        .map(|i| format!("c{i}"))
        .collect();
    let raters: Vec<String> = (0..10).map(|r| format!("r{r}")).collect();
    for item in &items {
        for rater in &raters {
            table.add(item, rater, "spam").unwrap();
        }
    }
    assert_eq!(
        table.add("c-new", "r0", "spam").unwrap_err(),
        AgreementError::TooManyRatings {
            max: AGREEMENT_RATINGS_MAX
        }
    );
    assert_eq!(table.len(), AGREEMENT_RATINGS_MAX);
}

// --------------------------------------------------------------- properties

/// Ratings of `raters` raters on `items` items: `cells[item * raters + rater]`.
#[derive(Debug, Clone)]
struct Matrix {
    raters: usize,
    items: usize,
    categories: usize,
    cells: Vec<Option<u32>>,
}

impl Matrix {
    fn set(&self) -> RatingSet {
        let mut ratings = Vec::new();
        for item in 0..self.items {
            for rater in 0..self.raters {
                if let Some(category) = self.cells[item * self.raters + rater] {
                    ratings.push(Rating {
                        item: item as u32,
                        rater: rater as u32,
                        category,
                    });
                }
            }
        }
        RatingSet::new(self.items, self.raters, self.categories, &ratings).unwrap()
    }

    /// Item i becomes `items[i]`, rater r `raters[r]`, category c `categories[c]`.
    fn permuted(&self, items: &[usize], raters: &[usize], categories: &[usize]) -> Matrix {
        let mut cells = vec![None; self.cells.len()];
        for item in 0..self.items {
            for rater in 0..self.raters {
                cells[items[item] * self.raters + raters[rater]] = self.cells
                    [item * self.raters + rater]
                    .map(|category| categories[category as usize] as u32);
            }
        }
        Matrix {
            cells,
            ..self.clone()
        }
    }
}

fn matrix() -> impl Strategy<Value = Matrix> {
    (1usize..7, 1usize..25, 1usize..6).prop_flat_map(|(raters, items, categories)| {
        prop::collection::vec(
            prop::option::weighted(0.75, 0..categories as u32),
            raters * items,
        )
        .prop_map(move |cells| Matrix {
            raters,
            items,
            categories,
            cells,
        })
    })
}

fn permutation(length: usize) -> impl Strategy<Value = Vec<usize>> {
    Just((0..length).collect::<Vec<usize>>()).prop_shuffle()
}

fn same(x: Statistic, y: Statistic) -> bool {
    match (x, y) {
        (Ok(x), Ok(y)) => (x - y).abs() < 1e-9,
        (Err(x), Err(y)) => x == y,
        _ => false,
    }
}

fn at_most_one(value: Statistic) -> bool {
    value.map_or(true, |v| v.is_finite() && v <= 1.0 + 1e-12)
}

fn share(value: Statistic) -> bool {
    value.map_or(true, |v| (0.0..=1.0).contains(&v))
}

proptest! {
    #[test]
    fn relabelling_and_reordering_change_nothing(
        (matrix, items, raters, categories) in matrix().prop_flat_map(|m| {
            let (i, r, c) = (m.items, m.raters, m.categories);
            (Just(m), permutation(i), permutation(r), permutation(c))
        })
    ) {
        let before = measure(&matrix.set());
        let after = measure(&matrix.permuted(&items, &raters, &categories).set());
        prop_assert_eq!(
            (before.items, before.raters, before.ratings, before.categories),
            (after.items, after.raters, after.ratings, after.categories)
        );
        prop_assert!(same(before.percent_agreement, after.percent_agreement));
        prop_assert!(same(before.fleiss_kappa, after.fleiss_kappa));
        prop_assert!(same(before.krippendorff_alpha_nominal, after.krippendorff_alpha_nominal));
        prop_assert!(same(before.cohen_kappa, after.cohen_kappa));
        prop_assert_eq!(before.pairs.len(), after.pairs.len());
        for pair in &before.pairs {
            let (a, b) = (raters[pair.a as usize] as u32, raters[pair.b as usize] as u32);
            let moved = after
                .pairs
                .iter()
                .find(|p| (p.a, p.b) == (a.min(b), a.max(b)))
                .expect("every pair is still there");
            prop_assert_eq!(pair.shared_items, moved.shared_items);
            prop_assert!(same(pair.cohen_kappa, moved.cohen_kappa));
            prop_assert!(same(pair.observed_agreement, moved.observed_agreement));
        }
        for rater in &before.raters_vs_consensus {
            let moved = after
                .raters_vs_consensus
                .iter()
                .find(|r| r.rater == raters[rater.rater as usize] as u32)
                .expect("every rater is still there");
            prop_assert_eq!((rater.ratings, rater.compared), (moved.ratings, moved.compared));
            prop_assert!(same(rater.agreement, moved.agreement));
        }
        for (item, summary) in before.item_agreement.iter().enumerate() {
            let moved = &after.item_agreement[items[item]];
            prop_assert_eq!(summary.ratings, moved.ratings);
            prop_assert_eq!(summary.agreement, moved.agreement);
            let relabelled = match summary.consensus {
                Consensus::Label { category, votes } => Consensus::Label {
                    category: categories[category as usize] as u32,
                    votes,
                },
                other => other,
            };
            prop_assert_eq!(relabelled, moved.consensus);
        }
        let disputes = |report: &AgreementReport| -> Vec<(f64, u32)> {
            report.most_disputed.iter().map(|d| (d.agreement, d.ratings)).collect()
        };
        prop_assert_eq!(disputes(&before), disputes(&after));
    }

    #[test]
    fn statistics_stay_in_bounds(matrix in matrix()) {
        let report = measure(&matrix.set());
        prop_assert!(share(report.percent_agreement));
        prop_assert!(at_most_one(report.fleiss_kappa));
        prop_assert!(report.fleiss_kappa.map_or(true, |k| k >= -1.0 - 1e-12));
        prop_assert!(at_most_one(report.krippendorff_alpha_nominal));
        prop_assert!(report.krippendorff_alpha_nominal.map_or(true, f64::is_finite));
        prop_assert!(at_most_one(report.cohen_kappa));
        for pair in &report.pairs {
            prop_assert!(at_most_one(pair.cohen_kappa));
            prop_assert!(pair.cohen_kappa.map_or(true, |k| k >= -1.0 - 1e-12));
            prop_assert!(share(pair.observed_agreement));
        }
        for rater in &report.raters_vs_consensus {
            prop_assert!(share(rater.agreement));
            prop_assert!(rater.compared <= rater.ratings);
        }
        for item in &report.item_agreement {
            prop_assert!(item.agreement.is_none_or(|a| (0.0..=1.0).contains(&a)));
        }
        prop_assert!(report.most_disputed.len() <= AGREEMENT_DISPUTED_ITEMS_MAX);
        prop_assert!(report.most_disputed.iter().all(|d| d.agreement < 1.0 && d.ratings >= 2));
    }

    #[test]
    fn perfect_agreement_gives_one(
        (raters, labels, present) in (2usize..7, 2usize..20).prop_flat_map(|(raters, items)| {
            (
                Just(raters),
                prop::collection::vec(0u32..4, items),
                prop::collection::vec(prop::bool::weighted(0.7), raters * items),
            )
        })
    ) {
        let items = labels.len();
        let mut labels = labels;
        // At least two categories in use, so kappa and alpha are defined.
        labels[0] = 0;
        labels[1] = 1;
        let cells = (0..items * raters)
            .map(|cell| {
                // Raters 0 and 1 rate every item: two ratings at least.
                let rater = cell % raters;
                (rater < 2 || present[cell]).then_some(labels[cell / raters])
            })
            .collect();
        let matrix = Matrix { raters, items, categories: 4, cells };
        let per_item: Vec<usize> = matrix
            .cells
            .chunks(raters)
            .map(|item| item.iter().flatten().count())
            .collect();
        let complete = per_item.iter().all(|&n| n == per_item[0]);
        let report = measure(&matrix.set());
        prop_assert_eq!(report.percent_agreement, Ok(1.0));
        prop_assert!(same(report.krippendorff_alpha_nominal, Ok(1.0)));
        if complete {
            prop_assert!(same(report.fleiss_kappa, Ok(1.0)));
        } else {
            prop_assert_eq!(report.fleiss_kappa, Err(Undefined::UnequalRatingsPerItem));
        }
        for pair in &report.pairs {
            prop_assert!(
                same(pair.cohen_kappa, Ok(1.0))
                    || pair.cohen_kappa == Err(Undefined::SingleCategory)
                    || pair.cohen_kappa == Err(Undefined::NoSharedItems)
            );
        }
        prop_assert!(same(report.pairs[0].cohen_kappa, Ok(1.0)));
        for rater in &report.raters_vs_consensus {
            prop_assert_eq!(rater.agreement, Ok(1.0));
        }
        prop_assert!(report.most_disputed.is_empty());
    }
}

// Generated by bench/agreement_reference.py; do not edit by hand.
const RANDOM_CASES: &[RandomCase] = &[
    RandomCase {
        seed: 1,
        ratings: "11 11 01 01 11 11 10 11 10 00 00 00 00 01 01 01 00 11 11 11 10 00 00 00 11 01 10 01 11 11",
        percent_agreement: 0.6333333333333333,
        fleiss_kappa: Some(0.259259259259259),
        krippendorff_alpha: Some(0.2716049382716049),
        pairs: &[(0, 1, 30, Some(0.2666666666666667))],
    },
    RandomCase {
        seed: 2,
        ratings: "22 00 22 22 02 20 23 22 22 00 22 30 03 22 11 33 22 22 00 10 11 33 32 22 32 22 22 02 22 02 13 22 22 20 23 22 22 11 00 20 02 22 33 22 22 33 22 22 22 00",
        percent_agreement: 0.7,
        fleiss_kappa: Some(0.5051138238205212),
        krippendorff_alpha: Some(0.510062685582316),
        pairs: &[(0, 1, 50, Some(0.5056031641397494))],
    },
    RandomCase {
        seed: 3,
        ratings: "011 000 000 000 000 111 222 010 111 111 000 000 201 100 000 202 000 020 010 000 001 020 010 111 122",
        percent_agreement: 0.6933333333333332,
        fleiss_kappa: Some(0.45203303684879265),
        krippendorff_alpha: Some(0.4593392630241423),
        pairs: &[(0, 1, 25, Some(0.2997198879551821)), (0, 2, 25, Some(0.625748502994012)), (1, 2, 25, Some(0.4475138121546961))],
    },
    RandomCase {
        seed: 4,
        ratings: "11311 44144 31333 11111 11111 12111 31143 10111 11111 12111 14111 11111 44414 11111 11111 11311 11111 13033 11311 11111 33123 11111 11011 11111 13011 11111 11111 11111 11111 11111 11111 11131 44444 11323 11111 11101 01000 33333 11111 21222",
        percent_agreement: 0.7574999999999998,
        fleiss_kappa: Some(0.47046620810132095),
        krippendorff_alpha: Some(0.4731138770608144),
        pairs: &[(0, 1, 40, Some(0.4029850746268657)), (0, 2, 40, Some(0.4505494505494505)), (0, 3, 40, Some(0.6011396011396011)), (0, 4, 40, Some(0.8798798798798799)), (1, 2, 40, Some(0.17843388960205386)), (1, 3, 40, Some(0.25531914893617014)), (1, 4, 40, Some(0.4444444444444444)), (2, 3, 40, Some(0.352428393524284)), (2, 4, 40, Some(0.5324675324675325)), (3, 4, 40, Some(0.6799999999999999))],
    },
    RandomCase {
        seed: 5,
        ratings: "42442444 00000004 32323333 44454242 11011211 44441444 44444244 02100122 33333331 00200040 22222222 22122231 11211011 22522221 24444242 22224224 14151412 33341243 22222122 44241245 20322202 12122422 44424424 22222221 22222224 22322222 00004003 55555455 00200010 44144442 22221222 55555525 22240222 55535555 22222220 22422222 44444544 33323310 32212220 42222120 11115112 33333333 11411214 33323342 33333232 42222222 44424440 12105141 22242222 40444224 22222422 33133322 33233313 55554553 50445255 44244444 44454444 11211111 33333333 44445444",
        percent_agreement: 0.5821428571428572,
        fleiss_kappa: Some(0.46656534954407297),
        krippendorff_alpha: Some(0.4676766717325228),
        pairs: &[(0, 1, 60, Some(0.727177334732424)), (0, 2, 60, Some(0.5378151260504203)), (0, 3, 60, Some(0.6026490066225165)), (0, 4, 60, Some(0.6485182632667126)), (0, 5, 60, Some(0.5773159563226489)), (0, 6, 60, Some(0.5978835978835979)), (0, 7, 60, Some(0.4590846047156726)), (1, 2, 60, Some(0.48699679372996074)), (1, 3, 60, Some(0.6138720057204148)), (1, 4, 60, Some(0.6443514644351465)), (1, 5, 60, Some(0.5184239328712149)), (1, 6, 60, Some(0.6536796536796536)), (1, 7, 60, Some(0.3614757006030508)), (2, 3, 60, Some(0.31866572036905605)), (2, 4, 60, Some(0.37194696441032793)), (2, 5, 60, Some(0.37161430119176597)), (2, 6, 60, Some(0.4378378378378378)), (2, 7, 60, Some(0.2600422832980973)), (3, 4, 60, Some(0.498607242339833)), (3, 5, 60, Some(0.3480622962694676)), (3, 6, 60, Some(0.5244956772334294)), (3, 7, 60, Some(0.3001060445387064)), (4, 5, 60, Some(0.38732394366197187)), (4, 6, 60, Some(0.49295774647887325)), (4, 7, 60, Some(0.3555093555093555)), (5, 6, 60, Some(0.36146788990825673)), (5, 7, 60, Some(0.28904847396768407)), (6, 7, 60, Some(0.31355023239184854))],
    },
    RandomCase {
        seed: 6,
        ratings: "0000 0200 2000 0021 0002 0100 0000 0000 0001 0200 0000 2000 0000 0002 0000 0000 0000 1011 0002 0000",
        percent_agreement: 0.7083333333333333,
        fleiss_kappa: Some(0.03978052126200274),
        krippendorff_alpha: Some(0.05178326474622774),
        pairs: &[(0, 1, 20, Some(-0.13207547169811318)), (0, 2, 20, Some(0.34065934065934067)), (0, 3, 20, Some(0.08496732026143772)), (1, 2, 20, Some(-0.098901098901099)), (1, 3, 20, Some(-0.17647058823529438)), (2, 3, 20, Some(0.295774647887324))],
    },
    RandomCase {
        seed: 7,
        ratings: "02 1. 20 00 00 11 .2 1. 02 12 11 .2 .0 20 10 00 .0 .1 0. 21 11 11 20 20 10 0. 2. 10 10 .0 02 2. 0. 22 11 12 11 2. 0. 01",
        percent_agreement: 0.4,
        fleiss_kappa: None,
        krippendorff_alpha: Some(0.09926470588235303),
        pairs: &[(0, 1, 25, Some(0.09855769230769229))],
    },
    RandomCase {
        seed: 8,
        ratings: ".22 333 33. 222 332 ..3 333 3.2 322 .33 .33 0.3 332 ..3 330 ..3 333 333 .21 .2. 30. 0.3 03. 333 3.3 ..0 ..0 323 333 333",
        percent_agreement: 0.611111111111111,
        fleiss_kappa: None,
        krippendorff_alpha: Some(0.22444183313748534),
        pairs: &[(0, 1, 16, Some(0.23809523809523814)), (0, 2, 17, Some(0.0703125)), (1, 2, 17, Some(0.4097222222222222))],
    },
    RandomCase {
        seed: 9,
        ratings: "3303. 22222 20233 2.0.. 33233 12322 3..3. .4444 4.2.4 24224 44..4 .2433 2232. ..244 42.00 ..2.2 32233 21222 343.3 .2.2. 2000. 112.1 4204. 124.1 2222. 22.22 1.333 3..33 0.0.3 ..044 3..3. 222.. 2.222 3233. 33.33 3.2.2 .3222 32.33 3.3.3 331.. ..3.2 333.. 02000 12200 22..2",
        percent_agreement: 0.5881481481481482,
        fleiss_kappa: None,
        krippendorff_alpha: Some(0.40531039896249277),
        pairs: &[(0, 1, 27, Some(0.2660194174757282)), (0, 2, 28, Some(0.26573426573426573)), (0, 3, 24, Some(0.6390977443609023)), (0, 4, 25, Some(0.5753715498938429)), (1, 2, 24, Some(0.040000000000000036)), (1, 3, 23, Some(0.23119777158774368)), (1, 4, 21, Some(0.31044776119402984)), (2, 3, 22, Some(0.29855072463768106)), (2, 4, 25, Some(0.2256637168141592)), (3, 4, 21, Some(0.9331210191082803))],
    },
    RandomCase {
        seed: 10,
        ratings: "1.1.11 100100 ...111 ...11. 1.011. ..111. .00..0 10.101 101.10 ..1..1 .0..00 1.1.11 ..0.00 111... .01... 00000. .00000 111... 00.0.0 .0.10. 010000 ..0... 1..111 .1.111 1.1000 10...0 .00.00 .1..01 .01.10 .10.01 11.111 .111.1 0.00.. 0.0.00 .11111",
        percent_agreement: 0.7794117647058824,
        fleiss_kappa: None,
        krippendorff_alpha: Some(0.5474221905440722),
        pairs: &[(0, 1, 10, Some(0.07407407407407418)), (0, 2, 12, Some(0.6666666666666667)), (0, 3, 10, Some(0.8)), (0, 4, 12, Some(0.5)), (0, 5, 12, Some(0.3846153846153846)), (1, 2, 14, Some(0.2857142857142857)), (1, 3, 11, Some(0.29032258064516137)), (1, 4, 15, Some(0.2857142857142857)), (1, 5, 17, Some(0.7571428571428571)), (2, 3, 10, Some(0.4)), (2, 4, 16, Some(0.746031746031746)), (2, 5, 16, Some(0.5)), (3, 4, 15, Some(0.5871559633027523)), (3, 5, 12, Some(0.8235294117647058)), (4, 5, 20, Some(0.5))],
    },
    RandomCase {
        seed: 11,
        ratings: ".3..313 255.535 1151111 .133..3 3333.53 2.2212. 4424430 1.55124 5555355 .5155.1 ..01.11 335.33. 10.5521 .505000 5555555 ..35333 1.31111 4.4..42 1.11121 55..555 .1411.1 0010010 1511511 2242222 1153333 3515545 4454544 .222222 000..01 1505531 5545555 40.4333 1.12444 53.00.. 0550.00 .5.5551 .44444. 141.111 11441.1 0.50050 .1211.5 500002. .155554 3343533 11.1.11 542...5 1011..1 0000000 4514444 54.5555",
        percent_agreement: 0.5381904761904761,
        fleiss_kappa: None,
        krippendorff_alpha: Some(0.43400516041088555),
        pairs: &[(0, 1, 31, Some(0.44287548138639266)), (0, 2, 32, Some(0.22798552472858868)), (0, 3, 31, Some(0.6432225063938619)), (0, 4, 31, Some(0.4326797385620915)), (0, 5, 34, Some(0.5051975051975053)), (0, 6, 34, Some(0.661504424778761)), (1, 2, 33, Some(0.12958715596330272)), (1, 3, 34, Some(0.5550708833151581)), (1, 4, 34, Some(0.5436241610738255)), (1, 5, 33, Some(0.3318335208098987)), (1, 6, 37, Some(0.3544536271809)), (2, 3, 36, Some(0.28341232227488156)), (2, 4, 34, Some(0.19047619047619058)), (2, 5, 35, Some(0.31640625)), (2, 6, 38, Some(0.22316865417376497)), (3, 4, 36, Some(0.6125244618395304)), (3, 5, 35, Some(0.5134061569016881)), (3, 6, 38, Some(0.5777777777777777)), (4, 5, 36, Some(0.4586466165413533)), (4, 6, 36, Some(0.5813953488372093)), (5, 6, 38, Some(0.5197978096040439))],
    },
    RandomCase {
        seed: 12,
        ratings: "0.2. .111 ..22 1.23 .222 3.23 1... .112 2.22 .223 ..3. 2222 0.0. ...1 .20.",
        percent_agreement: 0.5833333333333333,
        fleiss_kappa: None,
        krippendorff_alpha: Some(0.36969696969696975),
        pairs: &[(0, 1, 1, None), (0, 2, 6, Some(0.25)), (0, 3, 4, Some(0.6)), (1, 2, 6, Some(0.7)), (1, 3, 5, Some(0.2857142857142857)), (2, 3, 9, Some(0.18181818181818188))],
    },
];
