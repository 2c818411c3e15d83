//! `warden stats agreement`: the worked example for Fleiss' kappa as a CSV
//! gives the calibration contract's numbers; two raters from standard
//! input give Cohen's kappa; bad files exit non-zero naming the line.

use serde_json::Value;

use crate::support::{run, temp_dir, text};

/// The 10 items × 14 raters × 5 labels table of the contract's example
/// (P̄ = 0.378, κ = 0.210), one row of label counts per item.
const FLEISS_TABLE: [[usize; 5]; 10] = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
];

const LABELS: [&str; 5] = ["spam", "scam", "hate", "harassment", "not_violating"];

/// The table as `item,rater,label` rows, raters numbered per item.
fn fleiss_csv() -> String {
    let mut csv = String::from("item,rater,label\n");
    for (item, row) in FLEISS_TABLE.iter().enumerate() {
        let mut rater = 0;
        for (label, &count) in LABELS.iter().zip(row) {
            for _ in 0..count {
                rater += 1;
                csv.push_str(&format!(
                    "case-{:02},analyst-{rater:02},{label}\n",
                    item + 1
                ));
            }
        }
    }
    csv
}

fn number(value: &Value, field: &str) -> f64 {
    value[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} is not a number: {value}"))
}

#[test]
fn the_fleiss_table_gives_the_contract_numbers() {
    let (_dir, dir) = temp_dir();
    std::fs::write(dir.join("ratings.csv"), fleiss_csv()).unwrap();
    let output = run(
        &["stats", "agreement", "ratings.csv", "--format", "json"],
        "",
        &dir,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["items"], 10);
    assert_eq!(report["raters"], 14);
    assert_eq!(report["ratings"], 140);
    assert_eq!(report["categories"], 5);
    for (field, expected) in [
        ("percent_agreement", 0.378),
        ("fleiss_kappa", 0.210),
        ("krippendorff_alpha_nominal", 0.216),
    ] {
        let value = number(&report, field);
        assert!((value - expected).abs() < 1e-3, "{field}: {value}");
    }
    assert!(report["cohen_kappa"].is_null());
    assert!(report["undefined"]["cohen_kappa"]
        .as_str()
        .unwrap()
        .contains("exactly two raters"));
    let pairs = report["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 14 * 13 / 2);
    assert_eq!(pairs[0]["a"], "analyst-01");
    assert_eq!(pairs[0]["b"], "analyst-02");
    assert_eq!(pairs[0]["n"], 10);
    assert!(pairs[0]["cohen_kappa"].is_number());
    let raters = report["raters_vs_consensus"].as_array().unwrap();
    assert_eq!(raters.len(), 14);
    assert_eq!(raters[0]["rater"], "analyst-01");
    assert!(raters[0]["agreement"].is_number());
    // Item 8 has the lowest per-item agreement (0.176).
    let disputed = &report["most_disputed"][0];
    assert_eq!(disputed["item"], "case-08");
    assert_eq!(
        disputed["labels"],
        serde_json::json!({"spam": 2, "scam": 5, "hate": 3, "harassment": 2, "not_violating": 2})
    );

    // The default format is JSON; the table says the same to three places.
    let default = run(&["stats", "agreement", "ratings.csv"], "", &dir);
    assert_eq!(default.stdout, output.stdout);
    let table = run(
        &["stats", "agreement", "ratings.csv", "--format", "table"],
        "",
        &dir,
    );
    assert!(table.status.success(), "{}", text(&table.stderr));
    let table = text(&table.stdout);
    for line in ["Fleiss' kappa                   0.210", "case-08"] {
        assert!(table.contains(line), "{line:?} not in\n{table}");
    }
}

#[test]
fn two_raters_from_standard_input() {
    // 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: Cohen's kappa 0.4.
    let mut csv = String::from("item,rater,label\r\n");
    let cells = [
        (20, "yes", "yes"),
        (5, "yes", "no"),
        (10, "no", "yes"),
        (15, "no", "no"),
    ];
    let mut item = 0;
    for (count, first, second) in cells {
        for _ in 0..count {
            item += 1;
            csv.push_str(&format!(
                "p{item},\"Reader, A\",{first}\r\np{item},reader-b,{second}\r\n"
            ));
        }
    }
    let (_dir, dir) = temp_dir();
    let output = run(&["stats", "agreement", "-"], &csv, &dir);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!((number(&report, "cohen_kappa") - 0.4).abs() < 1e-12);
    assert_eq!(report["pairs"][0]["a"], "Reader, A");
    assert_eq!(report["pairs"][0]["n"], 50);
    assert!(report["fleiss_kappa"].is_number());
}

#[test]
fn malformed_files_exit_non_zero_naming_the_line() {
    let (_dir, dir) = temp_dir();
    let cases = [
        (
            "item,rater,label\nc1,ana,spam\nc2,ana,spam\nc3,ana\n",
            "line 4: expected 3 fields (item,rater,label), found 2",
        ),
        (
            "item,rater,label\nc1,ana,spam\nc1,bo,scam\nc1,ana,scam\n",
            "line 4: item \"c1\" is rated twice by rater \"ana\" (first on line 2)",
        ),
        ("item,analyst,label\nc1,ana,spam\n", "line 1, column 2"),
        (
            "item,rater,label\nc1,ana,spam\nc2,ana,\n",
            "line 3, column 3",
        ),
    ];
    for (csv, expected) in cases {
        std::fs::write(dir.join("bad.csv"), csv).unwrap();
        let output = run(&["stats", "agreement", "bad.csv"], "", &dir);
        assert!(!output.status.success(), "{csv:?} was accepted");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(expected), "{csv:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{csv:?} printed a report");
    }
    let missing = run(&["stats", "agreement", "nowhere.csv"], "", &dir);
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("nowhere.csv"));
    let format = run(&["stats", "agreement", "-", "--format", "xml"], "", &dir);
    assert!(!format.status.success());
}
