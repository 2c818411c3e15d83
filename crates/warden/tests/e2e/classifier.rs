//! `warden classifier train`, `eval`, `list` and `promote` on a small
//! generated corpus: versions saved in shadow, published live only when they
//! beat the live version on the held-out slice, gzipped input, bad lines
//! named.

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};

use crate::support::{run, temp_dir, text};

/// Labelled messages: spam draws on one vocabulary, ham on another, both on
/// a shared one.
fn corpus(count: usize) -> String {
    const SPAM: &[&str] = &[
        "win", "free", "prize", "cash", "claim", "now", "urgent", "offer", "txt", "winner",
    ];
    const HAM: &[&str] = &[
        "meeting", "tomorrow", "lunch", "project", "report", "thanks", "dinner", "home", "office",
    ];
    const SHARED: &[&str] = &["the", "to", "and", "is", "for", "this", "today", "please"];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    let mut out = String::new();
    for i in 0..count {
        let spam = next(3) == 0;
        let (own, other) = if spam { (SPAM, HAM) } else { (HAM, SPAM) };
        let words: Vec<&str> = (0..6 + next(8))
            .map(|_| match next(10) {
                0..=4 => own[next(own.len())],
                5 => other[next(other.len())],
                _ => SHARED[next(SHARED.len())],
            })
            .collect();
        let line = json!({"id": format!("msg-{i}"), "label": if spam { "spam" } else { "ham" }, "text": words.join(" ")});
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

fn warden(args: &[&str], dir: &Path) -> (bool, String, String) {
    let output = run(args, "", dir);
    (
        output.status.success(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

#[test]
fn train_eval_publish_and_list() {
    let (_dir, path) = temp_dir();
    let data = path.join("data");
    let data_arg = data.to_str().unwrap();
    let corpus_text = corpus(800);
    std::fs::write(path.join("messages.jsonl"), &corpus_text).unwrap();
    // The same messages gzipped, for eval.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(corpus_text.as_bytes()).unwrap();
    std::fs::write(path.join("messages.jsonl.gz"), gz.finish().unwrap()).unwrap();

    // 1. Train: a shadow version.
    let train_args = [
        "classifier",
        "train",
        "--name",
        "spam",
        "--data",
        "messages.jsonl",
        "--data-dir",
        data_arg,
    ];
    let (ok, out, err) = warden(&train_args, &path);
    assert!(ok, "{err}");
    assert!(out.contains("saved spam version 1 (shadow"), "{out}");
    assert!(out.contains("held-out slice: n "), "{out}");
    assert!(err.is_empty(), "quiet when piped: {err}");

    // 2. Eval version 1 on the gzipped file, as JSON with the exact keys.
    let (ok, out, err) = warden(
        &[
            "classifier",
            "eval",
            "--name",
            "spam",
            "--version",
            "1",
            "--data",
            "messages.jsonl.gz",
            "--format",
            "json",
            "--data-dir",
            data_arg,
        ],
        &path,
    );
    assert!(ok, "{err}");
    let body: Value = serde_json::from_str(out.trim()).expect("one JSON object");
    for key in ["n", "precision", "recall", "f1", "auc", "mb_per_s"] {
        assert!(
            body.get(key).is_some_and(Value::is_number),
            "{key} in {body}"
        );
    }
    assert_eq!(body["n"], 800);
    assert!(body["f1"].as_f64().unwrap() > 0.9, "{body}");
    assert!(body["auc"].as_f64().unwrap() > 0.97, "{body}");
    assert_eq!(body["positive"], "spam");

    // No live version yet: eval without --version says so.
    let (ok, _, err) = warden(
        &[
            "classifier",
            "eval",
            "--name",
            "spam",
            "--data",
            "messages.jsonl",
            "--data-dir",
            data_arg,
        ],
        &path,
    );
    assert!(!ok);
    assert!(err.contains("has no live version"), "{err}");

    // 3. --live with no live version: published live.
    let mut live_args = train_args.to_vec();
    live_args.push("--live");
    let (ok, out, err) = warden(&live_args, &path);
    assert!(ok, "{err}");
    assert!(out.contains("saved spam version 2 (live"), "{out}");

    // 4. The same training again does not beat it: it stays in shadow.
    let (ok, out, err) = warden(&live_args, &path);
    assert!(ok, "{err}");
    assert!(out.contains("saved spam version 3 (shadow"), "{out}");
    assert!(out.contains("does not beat live version 2"), "{out}");

    // 5. --force publishes anyway.
    let mut forced = live_args.clone();
    forced.push("--force");
    let (ok, out, err) = warden(&forced, &path);
    assert!(ok, "{err}");
    assert!(out.contains("saved spam version 4 (live"), "{out}");

    // 6. A worse model (logistic regression barely regularised away) does
    // not replace it either; a better one would.
    let mut worse = live_args.clone();
    worse.extend(["--model", "lr", "--regularisation", "0.0001"]);
    let (ok, out, err) = warden(&worse, &path);
    assert!(ok, "{err}");
    assert!(out.contains("version 5 (shadow"), "{out}");

    // 7. Eval of the live version, as a table, on the held-out slice only.
    let (ok, out, err) = warden(
        &[
            "classifier",
            "eval",
            "--name",
            "spam",
            "--data",
            "messages.jsonl",
            "--holdout",
            "0.2",
            "--data-dir",
            data_arg,
        ],
        &path,
    );
    assert!(ok, "{err}");
    assert!(out.contains("model spam version 4 (live)"), "{out}");
    assert!(out.contains("f1 "), "{out}");
    let n: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("n "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!((100..220).contains(&n), "held-out documents: {n}");

    // 8. List and promote (a rollback to version 2).
    let (ok, out, err) = warden(&["classifier", "list", "--data-dir", data_arg], &path);
    assert!(ok, "{err}");
    assert!(out.starts_with("NAME"), "{out}");
    assert_eq!(out.lines().count(), 6, "{out}");
    let (ok, out, err) = warden(
        &[
            "classifier",
            "promote",
            "--name",
            "spam",
            "--version",
            "2",
            "--data-dir",
            data_arg,
        ],
        &path,
    );
    assert!(ok, "{err}");
    assert!(out.contains("version 2 is live"), "{out}");
    let (ok, out, _) = warden(
        &[
            "classifier",
            "list",
            "--name",
            "spam",
            "--format",
            "json",
            "--data-dir",
            data_arg,
        ],
        &path,
    );
    assert!(ok);
    let statuses: Vec<(i64, String)> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            (5, "shadow".into()),
            (4, "retired".into()),
            (3, "retired".into()),
            (2, "live".into()),
            (1, "retired".into()),
        ]
    );
    // The audit chain holds every save and promotion, and verifies.
    let (ok, out, err) = warden(&["audit", "verify", "--data-dir", data_arg], &path);
    assert!(ok, "{out}{err}");
}

#[test]
fn bad_data_is_refused_with_the_line_and_field() {
    let (_dir, path) = temp_dir();
    let data_arg = path.join("data");
    let data_arg = data_arg.to_str().unwrap();
    let train = |file: &str, extra: &[&str]| {
        let mut args = vec![
            "classifier",
            "train",
            "--name",
            "spam",
            "--data",
            file,
            "--data-dir",
            data_arg,
        ];
        args.extend_from_slice(extra);
        warden(&args, &path)
    };
    std::fs::write(
        path.join("broken.jsonl"),
        "{\"id\": \"a\", \"label\": \"spam\", \"text\": \"win\"}\n\n{\"id\": \"b\", \"label\": \"ham\"}\n",
    )
    .unwrap();
    let (ok, _, err) = train("broken.jsonl", &[]);
    assert!(!ok);
    assert!(err.contains("broken.jsonl line 3"), "{err}");
    assert!(err.contains("field \"text\" is missing"), "{err}");

    std::fs::write(path.join("not-json.jsonl"), "hello\n").unwrap();
    let (ok, _, err) = train("not-json.jsonl", &[]);
    assert!(!ok);
    assert!(err.contains("line 1: not a JSON object"), "{err}");

    std::fs::write(path.join("good.jsonl"), corpus(100)).unwrap();
    let (ok, _, err) = train("good.jsonl", &["--positive", "phishing"]);
    assert!(!ok);
    assert!(
        err.contains("no document has the label \"phishing\""),
        "{err}"
    );
    let (ok, _, err) = train("good.jsonl", &["--holdout", "0.95"]);
    assert!(!ok);
    assert!(err.contains("--holdout: must be"), "{err}");
    let (ok, _, err) = train("good.jsonl", &["--model", "forest"]);
    assert!(!ok);
    assert!(err.contains("--model: must be lr or svm"), "{err}");
    let (ok, _, err) = warden(
        &[
            "classifier",
            "train",
            "--name",
            "Bad Name",
            "--data",
            "good.jsonl",
            "--data-dir",
            data_arg,
        ],
        &path,
    );
    assert!(!ok);
    assert!(err.contains("--name:"), "{err}");
    let (ok, _, err) = train("missing.jsonl", &[]);
    assert!(!ok);
    assert!(err.contains("cannot open missing.jsonl"), "{err}");
    // Nothing was saved.
    let (ok, out, _) = warden(&["classifier", "list", "--data-dir", data_arg], &path);
    assert!(ok);
    assert!(out.contains("no classifier models"), "{out}");
}

/// A rule reading `classifier_score("spam")` flags events by the stored live
/// model: train live from the command line, serve, send events.
#[tokio::test]
async fn rules_read_the_live_model_through_classifier_score() {
    use std::time::Duration;

    use crate::support::{client, Warden};

    let (_dir, data) = temp_dir();
    let data_arg = data.to_str().unwrap();
    std::fs::write(data.join("messages.jsonl"), corpus(800)).unwrap();
    let (ok, out, err) = warden(
        &[
            "classifier",
            "train",
            "--name",
            "spam",
            "--data",
            "messages.jsonl",
            "--live",
            "--data-dir",
            data_arg,
        ],
        &data,
    );
    assert!(ok, "{err}");
    assert!(out.contains("(live"), "{out}");
    let rules_dir = data.join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    std::fs::write(
        rules_dir.join("classifier.toml"),
        r#"
[[rule]]
id = "spam-classifier"
name = "Spam by the triage classifier"
category = "spam"
mode = "live"
expression = 'event_type == "post_created" & classifier_score("spam") > 0.5'
[rule.outcome]
case = { priority = 20 }
"#,
    )
    .unwrap();
    for (user, role) in [("ops", "admin"), ("lea", "lead")] {
        let added = run(
            &[
                "user",
                "add",
                user,
                "--role",
                role,
                "--password-stdin",
                "--data-dir",
                data_arg,
            ],
            "a long password\n",
            &data,
        );
        assert!(added.status.success(), "{}", text(&added.stderr));
    }
    let token = |user: &str, scope: &str| {
        text(
            &run(
                &[
                    "token",
                    "create",
                    "--user",
                    user,
                    "--scope",
                    scope,
                    "--data-dir",
                    data_arg,
                ],
                "",
                &data,
            )
            .stdout,
        )
        .trim()
        .to_string()
    };
    let ingest = token("ops", "ingest");
    let lead = token("lea", "review");

    let server = Warden::start(&["serve"], &data);
    let url = server.url.clone();
    for (id, message) in [
        ("e1", "urgent win free cash prize claim now"),
        ("e2", "lunch meeting tomorrow at the office thanks"),
    ] {
        let answer = client()
            .post(format!("{url}/api/v1/events"))
            .bearer_auth(&ingest)
            .json(&json!({"id": id, "type": "post_created", "occurred_at": chrono::Utc::now().to_rfc3339(),
                          "actor": {"kind": "account", "id": "acct_1"}, "subject": {"kind": "content", "id": format!("post_{id}")},
                          "data": {"text": message}}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
    }
    let mut hits = Value::Null;
    for _ in 0..100 {
        hits = client()
            .get(format!("{url}/api/v1/rules"))
            .bearer_auth(&lead)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if hits["rules"][0]["hits_7d"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(hits["rules"][0]["hits_7d"], 1, "{hits}");
    let cases_of = |post: &str| {
        let url = format!("{url}/api/v1/cases?subject_kind=content&subject_id={post}");
        let lead = lead.clone();
        async move {
            client()
                .get(url)
                .bearer_auth(&lead)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let flagged = cases_of("post_e1").await;
    assert_eq!(flagged["cases"][0]["signals"][0]["name"], "spam-classifier");
    let clean = cases_of("post_e2").await;
    assert!(clean["cases"].as_array().unwrap().is_empty(), "{clean}");
    server.stop();
}
