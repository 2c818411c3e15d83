//! Hostile input, sent alike to the application on SQLite and on PostgreSQL
//! (when `WARDEN_TEST_DATABASE_URL` names a server): NUL, right-to-left
//! overrides, zero-width spaces, overlong and mistyped values in ids, names,
//! query parameters, path segments, sign-in, hold reasons, token names,
//! NDJSON batches with one bad item, and deep JSON. Each answer is the one
//! expected (ids and names refused with `422` naming the field; free text
//! kept, NUL and all), never `5xx`, and both backends answer byte for byte
//! the same.

use axum::http::StatusCode;
use serde_json::{json, Value};

use warden_domain::access::Role;
use warden_store::prelude::*;

use crate::support::TestApp;

/// Who sends a probe.
#[derive(Clone, Copy)]
enum Who {
    Nobody,
    Ingest,
    Role(Role),
}

/// One hostile request and what it must get.
struct Probe {
    what: &'static str,
    method: &'static str,
    path: String,
    who: Who,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: StatusCode,
    /// The fields a 422 names, in order.
    fields: &'static [&'static str],
}

fn probe(
    what: &'static str,
    method: &'static str,
    path: impl Into<String>,
    who: Who,
    body: Option<Value>,
    status: StatusCode,
    fields: &'static [&'static str],
) -> Probe {
    Probe {
        what,
        method,
        path: path.into(),
        who,
        content_type: body.as_ref().map(|_| "application/json"),
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        status,
        fields,
    }
}

fn report(id: &str, subject: &str, text: &str) -> Value {
    json!({"id": id, "subject": {"kind": "content", "id": subject}, "reason": "spam",
           "source": "user_report", "text": text, "language": "en"})
}

/// A batch of 50 good reports and, at index 50, `bad`.
fn batch(prefix: &str, bad: Value) -> Vec<u8> {
    let mut lines: Vec<String> = (0..50)
        .map(|i| {
            report(
                &format!("{prefix}_{i}"),
                &format!("{prefix}_post_{i}"),
                "spam",
            )
            .to_string()
        })
        .collect();
    lines.push(bad.to_string());
    lines.join("\n").into_bytes()
}

/// JSON nested `depth` arrays deep, as a subject's attributes.
fn deep_subject(depth: usize) -> Vec<u8> {
    let nested = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    format!(r#"{{"kind": "content", "id": "deep", "attributes": {{"a": {nested}}}}}"#).into_bytes()
}

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// What the seed made: the held case, a decided one with its removal and
/// its ban waiting for approval, and the taxonomy document in force.
#[derive(Default)]
struct Seeded {
    case: i64,
    decision: i64,
    removal: i64,
    ban: i64,
    document: Value,
}

fn probes(seeded: &Seeded) -> Vec<Probe> {
    use StatusCode as S;
    let Seeded {
        case,
        decision,
        removal,
        ban,
        ..
    } = *seeded;
    let policy = Who::Role(Role::Policy);
    let lead = Who::Role(Role::Lead);
    let analyst = Who::Role(Role::Analyst);
    let admin = Who::Role(Role::Admin);
    let reports = "/api/v1/reports";
    let mut list = vec![
        probe(
            "NUL in report text is kept",
            "POST",
            reports,
            Who::Ingest,
            Some(report("rep_nul_text", "post_seed", "a\u{0}b")),
            S::CREATED,
            &[],
        ),
        probe(
            "NUL in a report id",
            "POST",
            reports,
            Who::Ingest,
            Some(report("rep\u{0}x", "post_seed", "x")),
            UNPROCESSABLE,
            &["id"],
        ),
        probe(
            "U+202E in a report id",
            "POST",
            reports,
            Who::Ingest,
            Some(report("rep\u{202E}x", "post_seed", "x")),
            UNPROCESSABLE,
            &["id"],
        ),
        probe(
            "U+200B in a report id",
            "POST",
            reports,
            Who::Ingest,
            Some(report("rep\u{200B}x", "post_seed", "x")),
            UNPROCESSABLE,
            &["id"],
        ),
        probe(
            "a tab in a report id",
            "POST",
            reports,
            Who::Ingest,
            Some(report("rep\tx", "post_seed", "x")),
            UNPROCESSABLE,
            &["id"],
        ),
        probe(
            "NUL in a subject id",
            "POST",
            reports,
            Who::Ingest,
            Some(report("rep_x", "post\u{0}", "x")),
            UNPROCESSABLE,
            &["subject.id"],
        ),
        probe(
            "an overlong report id",
            "POST",
            reports,
            Who::Ingest,
            Some(report(&"r".repeat(257), "post_seed", "x")),
            UNPROCESSABLE,
            &["id"],
        ),
        probe(
            "a number for an id",
            "POST",
            reports,
            Who::Ingest,
            Some(
                json!({"id": 7, "subject": {"kind": "content", "id": "p"}, "reason": "spam", "source": "user_report"}),
            ),
            UNPROCESSABLE,
            &["id"],
        ),
        probe(
            "a string for a subject",
            "POST",
            reports,
            Who::Ingest,
            Some(
                json!({"id": "r", "subject": "content/p", "reason": "spam", "source": "user_report"}),
            ),
            UNPROCESSABLE,
            &["subject"],
        ),
        probe(
            "NUL in a language and a reason",
            "POST",
            reports,
            Who::Ingest,
            Some(
                json!({"id": "r", "subject": {"kind": "content", "id": "p"}, "reason": "sp\u{0}am", "source": "user_report", "language": "en\u{0}"}),
            ),
            UNPROCESSABLE,
            &["reason", "language"],
        ),
        probe(
            "NUL in subject text and attributes is kept",
            "POST",
            "/api/v1/subjects",
            Who::Ingest,
            Some(
                json!({"kind": "content", "id": "post_nul", "text": "before\u{0}after\u{202E}",
                          "attributes": {"k\u{0}ey": "v\u{0}alue", "nested": [{"x": "\u{0}"}]}}),
            ),
            S::CREATED,
            &[],
        ),
        probe(
            "U+202E in a subject id",
            "POST",
            "/api/v1/subjects",
            Who::Ingest,
            Some(json!({"kind": "account", "id": "acct\u{202E}1"})),
            UNPROCESSABLE,
            &["id"],
        ),
        probe(
            "NUL in a media URL and type",
            "POST",
            "/api/v1/subjects",
            Who::Ingest,
            Some(
                json!({"kind": "content", "id": "p_media", "media": [{"url": "https://cdn.example/\u{0}.jpg", "mime": "image/\u{200B}jpeg"}]}),
            ),
            UNPROCESSABLE,
            &["media[0].url", "media[0].mime"],
        ),
        probe(
            "hidden characters in an event's names",
            "POST",
            "/api/v1/events",
            Who::Ingest,
            Some(
                json!({"id": "evt_1", "type": "log\u{0}in", "occurred_at": "2026-11-20T09:00:00Z",
                          "ip": "203.0.113.9\u{0}", "device_id": "dev\u{202E}1"}),
            ),
            UNPROCESSABLE,
            &["type", "ip", "device_id"],
        ),
        probe(
            "NUL in event data is kept",
            "POST",
            "/api/v1/events",
            Who::Ingest,
            Some(
                json!({"id": "evt_2", "type": "message_sent", "occurred_at": "2026-11-20T09:00:00Z",
                          "actor": {"kind": "account", "id": "acct_seed"}, "data": {"text": "hi\u{0}there"}}),
            ),
            S::CREATED,
            &[],
        ),
        probe(
            "NUL in a signal's name",
            "POST",
            "/api/v1/signals",
            Who::Ingest,
            Some(
                json!({"id": "sig_1", "subject": {"kind": "content", "id": "p"}, "category": "spam", "name": "model\u{0}", "score": 0.5}),
            ),
            UNPROCESSABLE,
            &["name"],
        ),
        Probe {
            what: "JSON nested 300 deep",
            method: "POST",
            path: "/api/v1/subjects".into(),
            who: Who::Ingest,
            content_type: Some("application/json"),
            body: deep_subject(300),
            status: S::BAD_REQUEST,
            fields: &[],
        },
        Probe {
            what: "a batch of 50 good reports and one with NUL in its id",
            method: "POST",
            path: reports.into(),
            who: Who::Ingest,
            content_type: Some("application/x-ndjson"),
            body: batch("b1", report("b1_bad\u{0}", "b1_post_bad", "x")),
            status: S::OK,
            fields: &[],
        },
        Probe {
            what: "a batch of 50 good reports and one with NUL in its text",
            method: "POST",
            path: reports.into(),
            who: Who::Ingest,
            content_type: Some("application/x-ndjson"),
            body: batch("b2", report("b2_nul", "b2_post_nul", "x\u{0}y")),
            status: S::OK,
            fields: &[],
        },
        probe(
            "NUL in ?queue=",
            "GET",
            "/api/v1/cases?queue=sp%00am",
            lead,
            None,
            UNPROCESSABLE,
            &["queue"],
        ),
        probe(
            "U+202E in ?queue=",
            "GET",
            "/api/v1/cases?queue=%E2%80%AEgeneral",
            lead,
            None,
            UNPROCESSABLE,
            &["queue"],
        ),
        probe(
            "NUL in ?assignee=",
            "GET",
            "/api/v1/cases?assignee=ad%00min",
            lead,
            None,
            UNPROCESSABLE,
            &["assignee"],
        ),
        probe(
            "NUL in ?subject_id=",
            "GET",
            "/api/v1/cases?subject_kind=content&subject_id=p%00",
            lead,
            None,
            UNPROCESSABLE,
            &["subject_id"],
        ),
        probe(
            "a word for ?limit=",
            "GET",
            "/api/v1/cases?limit=ten",
            lead,
            None,
            UNPROCESSABLE,
            &["limit"],
        ),
        probe(
            "NUL in a case id",
            "GET",
            "/api/v1/cases/1%00",
            lead,
            None,
            S::NOT_FOUND,
            &[],
        ),
        probe(
            "NUL in a subject id in the path",
            "GET",
            "/api/v1/subjects/content/p%00/history",
            lead,
            None,
            UNPROCESSABLE,
            &["id"],
        ),
        probe(
            "U+200B in a subject id in the path",
            "GET",
            "/api/v1/subjects/content/p%E2%80%8B/history",
            lead,
            None,
            UNPROCESSABLE,
            &["id"],
        ),
        probe(
            "NUL in a queue in the path",
            "POST",
            "/api/v1/queues/sp%00am/claim",
            analyst,
            Some(json!({})),
            S::NOT_FOUND,
            &[],
        ),
        probe(
            "NUL in a sign-in name",
            "POST",
            "/api/v1/session",
            Who::Nobody,
            Some(json!({"name": "ad\u{0}min", "password": "whatever it is"})),
            S::UNAUTHORIZED,
            &[],
        ),
        probe(
            "U+202E in a sign-in name",
            "POST",
            "/api/v1/session",
            Who::Nobody,
            Some(json!({"name": "admin\u{202E}", "password": "whatever it is"})),
            S::UNAUTHORIZED,
            &[],
        ),
        probe(
            "a number for a sign-in name",
            "POST",
            "/api/v1/session",
            Who::Nobody,
            Some(json!({"name": 5, "password": "x"})),
            UNPROCESSABLE,
            &["name"],
        ),
        probe(
            "NUL in a hold reason is kept",
            "POST",
            format!("/api/v1/cases/{case}/hold"),
            analyst,
            Some(json!({"reason": "wait\u{0}ing for\tlogs"})),
            S::OK,
            &[],
        ),
        probe(
            "a number for a hold reason",
            "POST",
            format!("/api/v1/cases/{case}/hold"),
            analyst,
            Some(json!({"reason": 5})),
            UNPROCESSABLE,
            &["reason"],
        ),
        probe(
            "NUL and U+202E in a note are kept",
            "POST",
            format!("/api/v1/cases/{case}/notes"),
            analyst,
            Some(json!({"what_happened": "saw\u{0}it", "evidence": "\u{202E}reversed"})),
            S::CREATED,
            &[],
        ),
        probe(
            "NUL in a decision's policy id",
            "POST",
            format!("/api/v1/cases/{case}/decision"),
            analyst,
            Some(
                json!({"version": 99, "violation": false, "category": "spam", "policy": "spam\u{0}1",
                          "rationale": {"what_happened": "x", "policy": "y"}}),
            ),
            UNPROCESSABLE,
            &["policy"],
        ),
        probe(
            "NUL in an escalation queue",
            "POST",
            format!("/api/v1/cases/{case}/escalate"),
            analyst,
            Some(json!({"reason": "needs a specialist", "queue": "sp\u{0}am"})),
            UNPROCESSABLE,
            &["queue"],
        ),
        probe(
            "NUL in a reveal reason is kept",
            "GET",
            format!("/api/v1/cases/{case}?reveal_reason=a%00b"),
            lead,
            None,
            S::OK,
            &[],
        ),
        probe(
            "NUL in a token's user",
            "POST",
            "/api/v1/tokens",
            admin,
            Some(json!({"user": "ad\u{0}min", "scope": "read"})),
            UNPROCESSABLE,
            &["user"],
        ),
        probe(
            "NUL in a token's name",
            "POST",
            "/api/v1/tokens",
            admin,
            Some(json!({"user": "admin", "scope": "read", "name": "ci\u{0}"})),
            UNPROCESSABLE,
            &["name"],
        ),
        probe(
            "U+202E in a token's name",
            "POST",
            "/api/v1/tokens",
            admin,
            Some(json!({"user": "admin", "scope": "read", "name": "ci\u{202E}"})),
            UNPROCESSABLE,
            &["name"],
        ),
        probe(
            "NUL in a new user's name",
            "POST",
            "/api/v1/users",
            admin,
            Some(json!({"name": "a\u{0}b", "role": "analyst", "password": "long enough password"})),
            UNPROCESSABLE,
            &["name"],
        ),
        probe(
            "NUL in a user name in the path",
            "POST",
            "/api/v1/users/ad%00min/disable",
            admin,
            None,
            S::NOT_FOUND,
            &[],
        ),
        probe(
            "NUL in a rejection reason is kept",
            "POST",
            format!("/api/v1/actions/{ban}/reject"),
            lead,
            Some(json!({"reason": "not\u{0}yet"})),
            S::OK,
            &[],
        ),
        probe(
            "NUL in a reversal reason is kept",
            "POST",
            format!("/api/v1/actions/{removal}/reverse"),
            lead,
            Some(json!({"reason": "undo\u{0}it"})),
            S::OK,
            &[],
        ),
        probe(
            "NUL in a decision's reversal reason is kept",
            "POST",
            format!("/api/v1/decisions/{decision}/reverse"),
            lead,
            Some(json!({"reason": "all\u{0}of it"})),
            S::OK,
            &[],
        ),
        probe(
            "NUL in a taxonomy version's note is kept",
            "POST",
            "/api/v1/taxonomy/versions",
            policy,
            Some(json!({"note": "v2\u{0}note", "document": seeded.document})),
            S::CREATED,
            &[],
        ),
        probe(
            "control characters in a notice template",
            "POST",
            "/api/v1/notice-templates",
            policy,
            Some(
                json!({"action_type": "warn", "language": "en", "subject": "Hi\u{0}", "body": "\u{1B}[31mred"}),
            ),
            UNPROCESSABLE,
            &["subject", "body"],
        ),
        probe(
            "NUL in a notice template's language",
            "POST",
            "/api/v1/notice-templates",
            policy,
            Some(
                json!({"action_type": "warn", "language": "en\u{0}", "subject": "Hi", "body": "A warning"}),
            ),
            UNPROCESSABLE,
            &["language"],
        ),
        probe(
            "NUL in a recommendation's category",
            "GET",
            format!("/api/v1/cases/{case}/recommendation?category=sp%00am"),
            lead,
            None,
            UNPROCESSABLE,
            &["category"],
        ),
        probe(
            "NUL and U+202E in the console's queue filters",
            "GET",
            "/console/queues/general?category=sp%00am&language=e%E2%80%AEn&source=u%00",
            lead,
            None,
            S::OK,
            &[],
        ),
        probe(
            "NUL in a console case id",
            "GET",
            "/console/cases/1%00",
            lead,
            None,
            S::NOT_FOUND,
            &[],
        ),
        probe(
            "NUL in a console queue",
            "GET",
            "/console/queues/gen%00eral",
            lead,
            None,
            S::NOT_FOUND,
            &[],
        ),
    ];
    // The same bad ids through every intake route, as NDJSON too.
    for (path, bad) in [
        (
            "/api/v1/subjects",
            json!({"kind": "content", "id": "x\u{0}"}),
        ),
        (
            "/api/v1/events",
            json!({"id": "x\u{0}", "type": "login", "occurred_at": "2026-11-20T09:00:00Z"}),
        ),
        (
            "/api/v1/signals",
            json!({"id": "x\u{0}", "subject": {"kind": "content", "id": "p"}, "category": "spam", "name": "m", "score": 0.5}),
        ),
    ] {
        list.push(Probe {
            what: "one NDJSON item with NUL in its id",
            method: "POST",
            path: path.into(),
            who: Who::Ingest,
            content_type: Some("application/x-ndjson"),
            body: bad.to_string().into_bytes(),
            status: S::OK,
            fields: &[],
        });
    }
    list
}

/// A case about `content/post_seed` claimed by the analyst, and a decided
/// one about `content/post_enf`.
async fn seed(app: &TestApp) -> Seeded {
    let subject = app
        .ingest("/api/v1/subjects", json!({"kind": "content", "id": "post_seed", "owner": {"kind": "account", "id": "acct_seed"}, "text": "seed"}))
        .await;
    assert_eq!(subject.status, StatusCode::CREATED, "{}", subject.body);
    let case = app
        .report("rep_seed", ("content", "post_seed"), "spam")
        .await;
    let claimed = app
        .post(
            "/api/v1/queues/general/claim",
            app.token(Role::Analyst),
            json!({}),
        )
        .await;
    assert_eq!(claimed.body["id"], case, "{}", claimed.body);
    app.post_subject("post_enf", "acct_enf", "buy followers")
        .await;
    let decided_case = app.report("rep_enf", ("content", "post_enf"), "spam").await;
    let analyst = app.token(Role::Analyst).to_string();
    let claimed = app
        .post("/api/v1/queues/general/claim", &analyst, json!({}))
        .await;
    assert_eq!(claimed.body["id"], decided_case, "{}", claimed.body);
    let decided = app
        .post(
            &format!("/api/v1/cases/{decided_case}/decision"),
            &analyst,
            json!({"version": claimed.body["version"], "violation": true, "category": "spam",
                   "actions": [{"type": "remove_content"}, {"type": "ban"}],
                   "override_reason": "a bot account",
                   "rationale": {"what_happened": "spam", "evidence": "posts", "policy": "spam 2.1",
                                 "action": "removed and banned", "next_steps": ""}}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    let taxonomy = app.get("/api/v1/taxonomy", app.token(Role::Policy)).await;
    assert_eq!(taxonomy.status, StatusCode::OK, "{}", taxonomy.body);
    Seeded {
        case,
        decision: decided.body["id"].as_i64().unwrap(),
        removal: decided.body["actions"][0]["id"].as_i64().unwrap(),
        ban: decided.body["actions"][1]["id"].as_i64().unwrap(),
        document: taxonomy.body["document"].clone(),
    }
}

/// Sends every probe; returns each answer's status and body.
async fn run(app: &TestApp) -> Vec<(StatusCode, Value)> {
    let seeded = seed(app).await;
    let mut answers = Vec::new();
    for probe in probes(&seeded) {
        let token = match probe.who {
            Who::Nobody => None,
            Who::Ingest => Some(app.ingest_token.clone()),
            Who::Role(role) => Some(app.token(role).to_string()),
        };
        let answer = app
            .send(
                probe.method,
                &probe.path,
                token.as_deref(),
                probe.content_type,
                probe.body.clone(),
            )
            .await;
        let context = format!("{} on {}: {}", probe.what, app.backend, answer.body);
        assert!(!answer.status.is_server_error(), "{context}");
        assert_eq!(answer.status, probe.status, "{context}");
        assert_eq!(answer.fields(), probe.fields, "{context}");
        answers.push((answer.status, answer.body));
    }
    answers
}

/// What the batches and the free text left in the store, read back.
async fn read_back(app: &TestApp) -> Value {
    let lead = app.token(Role::Lead).to_string();
    let case = app
        .get(
            "/api/v1/cases/1?reveal_reason=checking%20the%20round%20trip",
            &lead,
        )
        .await;
    let subject = app
        .get("/api/v1/subjects/content/post_nul/history", &lead)
        .await;
    let batch_text = app
        .get("/api/v1/subjects/content/b2_post_nul/history", &lead)
        .await;
    let events = app
        .get("/api/v1/subjects/account/acct_seed/history", &lead)
        .await;
    let action = app.get("/api/v1/actions/1", &lead).await;
    let versions = app.get("/api/v1/taxonomy/versions", &lead).await;
    json!({"case": case.body, "subject": subject.body, "batch": batch_text.body, "events": events.body["events"],
           "action": action.body, "versions": versions.body})
}

fn check_answers(answers: &[(StatusCode, Value)], backend: &str) {
    let by_what: Vec<&'static str> = probes(&Seeded::default()).iter().map(|p| p.what).collect();
    let answer = |what: &str| {
        let index = by_what.iter().position(|w| *w == what).unwrap();
        &answers[index].1
    };
    let first_batch = answer("a batch of 50 good reports and one with NUL in its id");
    assert_eq!(
        (&first_batch["created"], &first_batch["errors"]),
        (&json!(50), &json!(1)),
        "{backend}: {first_batch}"
    );
    assert_eq!(first_batch["results"][50]["status"], "error");
    assert_eq!(first_batch["results"][50]["error"]["status"], 422);
    assert_eq!(
        first_batch["results"][50]["error"]["errors"][0]["field"],
        "id"
    );
    let second_batch = answer("a batch of 50 good reports and one with NUL in its text");
    assert_eq!(second_batch["created"], 51, "{backend}: {second_batch}");
    assert_eq!(second_batch["errors"], 0);
    let tokens = answer("U+202E in a token's name");
    assert!(
        tokens["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("U+202E (right-to-left override)"),
        "{tokens}"
    );
}

fn check_read_back(stored: &Value, backend: &str) {
    let case = &stored["case"];
    let texts: Vec<&str> = case["reports"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["text"].as_str())
        .collect();
    assert!(texts.contains(&"a\u{0}b"), "{backend}: {texts:?}");
    assert_eq!(case["hold_reason"], "wait\u{0}ing for\tlogs", "{backend}");
    assert_eq!(case["notes"][0]["body"]["what_happened"], "saw\u{0}it");
    assert_eq!(case["notes"][0]["body"]["evidence"], "\u{202E}reversed");
    let subject = &stored["subject"]["subject"];
    assert_eq!(subject["text"], "before\u{0}after\u{202E}", "{backend}");
    assert_eq!(subject["attributes"]["k\u{0}ey"], "v\u{0}alue");
    assert_eq!(subject["attributes"]["nested"][0]["x"], "\u{0}");
    assert_eq!(
        stored["batch"]["reports"][0]["text"], "x\u{0}y",
        "{backend}"
    );
    let data: Vec<&Value> = stored["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["data"])
        .collect();
    assert!(
        data.contains(&&json!({"text": "hi\u{0}there"})),
        "{backend}: {data:?}"
    );
    assert_eq!(
        stored["action"]["reversal"]["reason"], "undo\u{0}it",
        "{backend}"
    );
    assert_eq!(stored["versions"][0]["note"], "v2\u{0}note", "{backend}");
}

/// Reports and subjects stored.
async fn counts(app: &TestApp) -> (i64, i64) {
    let counts = app.store.intake_counts().await.unwrap();
    (counts.reports, counts.subjects)
}

#[tokio::test]
async fn hostile_input_gets_the_same_answers_on_both_backends_and_never_5xx() {
    let sqlite = TestApp::new().await;
    let sqlite_answers = run(&sqlite).await;
    check_answers(&sqlite_answers, "sqlite");
    let sqlite_stored = read_back(&sqlite).await;
    check_read_back(&sqlite_stored, "sqlite");
    let counts = counts(&sqlite).await;
    assert_eq!(
        counts,
        (1 + 1 + 1 + 50 + 51, 3),
        "reports and subjects on sqlite"
    );
    let Some(postgres) = TestApp::postgres().await else {
        return;
    };
    let postgres_answers = run(&postgres).await;
    for ((probe, sqlite), postgres) in probes(&Seeded::default())
        .iter()
        .zip(&sqlite_answers)
        .zip(&postgres_answers)
    {
        assert_eq!(
            sqlite, postgres,
            "{}: SQLite and PostgreSQL differ",
            probe.what
        );
    }
    let postgres_stored = read_back(&postgres).await;
    assert_eq!(sqlite_stored, postgres_stored, "the stored text differs");
    assert_eq!(self::counts(&postgres).await, counts);
}

#[tokio::test]
async fn a_retried_batch_is_all_duplicates_and_the_bad_item_fails_alone_again() {
    let mut apps = vec![TestApp::new().await];
    apps.extend(TestApp::postgres().await);
    let mut answers = Vec::new();
    for app in &apps {
        let body = batch("retry", report("retry_bad\u{202E}", "retry_post", "x"));
        let token = app.ingest_token.clone();
        let first = app
            .send(
                "POST",
                "/api/v1/reports",
                Some(&token),
                Some("application/x-ndjson"),
                body.clone(),
            )
            .await;
        let again = app
            .send(
                "POST",
                "/api/v1/reports",
                Some(&token),
                Some("application/x-ndjson"),
                body,
            )
            .await;
        assert_eq!(
            (
                first.body["created"].as_u64(),
                first.body["errors"].as_u64()
            ),
            (Some(50), Some(1)),
            "{}",
            app.backend
        );
        assert_eq!(
            (
                again.body["duplicates"].as_u64(),
                again.body["errors"].as_u64()
            ),
            (Some(50), Some(1)),
            "{}",
            app.backend
        );
        answers.push((first.body, again.body));
    }
    if let [sqlite, postgres] = &answers[..] {
        assert_eq!(sqlite, postgres);
    }
}
