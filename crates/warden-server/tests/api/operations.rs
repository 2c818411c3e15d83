//! Health, readiness, metrics and the API document.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::json;

use warden_domain::access::Role;
use warden_server::openapi::AnswerBody;
use warden_server::routes::{Surface, ROUTES};

use crate::support::{Answer, TestApp};

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::new().await;
    assert_eq!(
        app.send("GET", "/healthz", None, None, Vec::new())
            .await
            .status,
        StatusCode::OK
    );
    let ready = app.send("GET", "/readyz", None, None, Vec::new()).await;
    assert_eq!(ready.body["backend"], "sqlite");
    app.report("rep_1", ("content", "p1"), "spam").await;
    app.clock.advance(chrono::Duration::days(8));
    let metrics = app.get("/metrics", app.token(Role::Admin)).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.body.as_str().unwrap();
    for expected in [
        "warden_queue_depth{queue=\"general\"} 1",
        "warden_sla_breaches{queue=\"general\",deadline=\"resolution\"} 1",
        "warden_oldest_case_age_seconds{queue=\"general\"}",
        "warden_intake_items_total{kind=\"reports\",outcome=\"created\"} 1",
        "warden_http_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(expected), "metrics lack {expected}:\n{text}");
    }
    let queues = app.get("/api/v1/queues", app.token(Role::Analyst)).await;
    assert_eq!(queues.body[0]["name"], "general");
    assert_eq!(queues.body[0]["resolution_breaches"], 1);
    assert_eq!(queues.body[0]["claimable"], true);
}

#[tokio::test]
async fn the_api_document_describes_every_route() {
    let app = TestApp::new().await;
    let document = app
        .send("GET", "/api/openapi.json", None, None, Vec::new())
        .await;
    assert_eq!(document.status, StatusCode::OK);
    assert!(document.body["openapi"].as_str().unwrap().starts_with("3."));
    for route in ROUTES {
        let operation = &document.body["paths"][route.path][route.method.as_str().to_lowercase()];
        if route.surface == Surface::Console {
            assert!(
                operation.is_null(),
                "the console's {} {} is not part of the API",
                route.method,
                route.path
            );
            continue;
        }
        assert!(
            operation.is_object(),
            "{} {} is missing from the document",
            route.method,
            route.path
        );
        if let Some(request) = &route.request {
            let request = request.wire.name();
            assert!(
                document.body["components"]["schemas"][&request].is_object(),
                "schema {request} is missing"
            );
        }
        for answer in (route.answers)() {
            let wires = match answer.body {
                AnswerBody::One(wire) | AnswerBody::List(wire) => vec![wire],
                AnswerBody::Either(wires) => wires,
                AnswerBody::Empty
                | AnswerBody::Object
                | AnswerBody::Text(_)
                | AnswerBody::ObjectOrText(_) => Vec::new(),
            };
            for response in wires.iter().map(|wire| wire.name()) {
                assert!(
                    document.body["components"]["schemas"][&response].is_object(),
                    "schema {response} is missing"
                );
            }
        }
    }
    let report = &document.body["components"]["schemas"]["ReportBody"]["properties"];
    for field in [
        "id",
        "subject",
        "reason",
        "source",
        "reporter",
        "text",
        "language",
        "created_at",
    ] {
        assert!(report[field].is_object(), "ReportBody lacks {field}");
    }
}

#[tokio::test]
async fn the_api_document_says_what_the_answers_are() {
    let app = TestApp::new().await;
    let document = app
        .send("GET", "/api/openapi.json", None, None, Vec::new())
        .await
        .body;
    let responses = |method: &str, path: &str| document["paths"][path][method]["responses"].clone();
    // The lists answer arrays of their items.
    for (path, item) in [
        ("/api/v1/audit", "AuditView"),
        ("/api/v1/users", "UserView"),
        ("/api/v1/tokens", "TokenView"),
        ("/api/v1/queues", "QueueView"),
        ("/api/v1/approvals", "ActionDetailView"),
        ("/api/v1/deliveries", "DeliveryView"),
        ("/api/v1/taxonomy/versions", "TaxonomyVersionView"),
        ("/api/v1/notice-templates", "NoticeTemplateView"),
        ("/api/v1/notices", "NoticeView"),
        ("/api/v1/dsa/statements", "DsaStatementView"),
    ] {
        assert_eq!(
            responses("get", path)["200"]["content"]["application/json"]["schema"],
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}}),
            "GET {path}"
        );
    }
    // Objects stay objects.
    assert_eq!(
        responses("get", "/api/v1/cases")["200"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/CaseList"})
    );
    // Claiming an empty queue is a 204 without a body.
    let claim = responses("post", "/api/v1/queues/{queue}/claim");
    assert_eq!(
        claim["200"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/CaseView"})
    );
    assert!(claim["204"].is_object() && claim["204"].get("content").is_none());
    // Creations are 201s.
    for (path, schema) in [
        ("/api/v1/users", "UserView"),
        ("/api/v1/tokens", "TokenView"),
        // A decision, or on an appeal case the appeal decided.
        ("/api/v1/cases/{id}/decision", "DecisionAnswer"),
        ("/api/v1/appeals", "AppealAnswer"),
        ("/api/v1/reports", "IntakeAnswer"),
    ] {
        assert_eq!(
            responses("post", path)["201"]["content"]["application/json"]["schema"],
            json!({"$ref": format!("#/components/schemas/{schema}")}),
            "POST {path}"
        );
    }
    // Refusals are problems, and each route lists those it can give.
    for route in ROUTES.iter().filter(|r| r.surface == Surface::Api) {
        let responses = responses(&route.method.as_str().to_lowercase(), route.path);
        let documented: Vec<u16> = responses
            .as_object()
            .unwrap()
            .keys()
            .map(|status| status.parse().unwrap())
            .filter(|status| *status >= 400)
            .collect();
        assert_eq!(
            documented,
            route.refusals(),
            "{} {}",
            route.method,
            route.path
        );
        for status in &documented {
            assert_eq!(
                responses[status.to_string()]["content"]["application/problem+json"]["schema"],
                json!({"$ref": "#/components/schemas/Problem"})
            );
        }
        let public = route.access == warden_server::routes::Access::Public;
        assert_eq!(
            documented.contains(&401),
            !public || route.also_refuses.contains(&401)
        );
        assert_eq!(
            documented.contains(&403),
            !public,
            "{} {}",
            route.method,
            route.path
        );
        assert!(documented.contains(&500) && documented.contains(&503));
        if route.request.is_some() {
            for status in [400, 413, 415, 422] {
                assert!(
                    documented.contains(&status),
                    "{} {} {status}",
                    route.method,
                    route.path
                );
            }
        }
    }
    // Every reference resolves.
    let text = document.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let name = reference
            .split('"')
            .next()
            .unwrap()
            .strip_prefix("#/components/schemas/")
            .unwrap();
        assert!(
            document["components"]["schemas"][name].is_object(),
            "{name} is referred to but missing"
        );
    }
}

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    let app = TestApp::new().await;
    let answer = app
        .post("/api/v1/nothing", app.token(Role::Admin), json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.body["status"], 404);
}

/// Scrapes `/metrics` as an admin with `accept`.
async fn scrape(app: &TestApp, accept: Option<&str>) -> Answer {
    let mut request = Request::get("/metrics").header(
        header::AUTHORIZATION,
        format!("Bearer {}", app.token(Role::Admin)),
    );
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    let answer = app.request(request.body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer
}

/// The suffixes a sample may add to its family's name, by the family's type.
fn sample_suffixes(kind: &str, open_metrics: bool) -> &'static [&'static str] {
    match (kind, open_metrics) {
        ("counter", true) => &["_total", "_created"],
        ("histogram", true) => &["_bucket", "_sum", "_count", "_created"],
        ("info", true) => &["_info"],
        ("histogram" | "summary", false) => &["_bucket", "_sum", "_count"],
        _ => &[""],
    }
}

/// Reads exposition text and checks that every sample belongs to a family
/// declared before it with HELP and TYPE (HELP first); returns the
/// families and their types.
fn families(text: &str, open_metrics: bool) -> BTreeMap<String, String> {
    let mut help: Vec<String> = Vec::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, text) = rest.split_once(' ').unwrap();
            assert!(!text.trim().is_empty(), "{name} has empty help");
            help.push(name.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                help.contains(&name.to_string()),
                "{name} has TYPE but no HELP before it"
            );
            assert!(
                types.insert(name.to_string(), kind.to_string()).is_none(),
                "{name} twice"
            );
        } else if line.starts_with('#') {
            assert!(open_metrics && line == "# EOF", "unexpected line {line:?}");
        } else {
            let name = &line[..line.find(['{', ' ']).unwrap()];
            let family = types.iter().find(|(family, kind)| {
                sample_suffixes(kind, open_metrics)
                    .iter()
                    .any(|suffix| name.strip_prefix(family.as_str()) == Some(suffix))
            });
            assert!(
                family.is_some(),
                "sample {name} belongs to no declared family:\n{text}"
            );
        }
    }
    types
}

#[tokio::test]
async fn metrics_speak_prometheus_text_unless_asked_for_open_metrics() {
    let app = TestApp::new().await;
    app.report("rep_m", ("content", "m1"), "spam").await;
    let prometheus_accepts = [None, Some("*/*"), Some("text/plain;version=0.0.4")];
    for accept in prometheus_accepts {
        let answer = scrape(&app, accept).await;
        assert_eq!(
            answer.headers[header::CONTENT_TYPE],
            "text/plain; version=0.0.4; charset=utf-8",
            "{accept:?}"
        );
        let text = answer.body.as_str().unwrap();
        assert!(!text.contains("# EOF") && !text.contains("_created") && !text.contains("# UNIT"));
        let families = families(text, false);
        assert_eq!(families["warden_intake_items_total"], "counter");
        assert_eq!(families["warden_decisions_total"], "counter");
        assert_eq!(
            families["warden_http_request_duration_seconds"],
            "histogram"
        );
        assert!(families
            .keys()
            .filter(|f| f.ends_with("_total"))
            .all(|f| families[f] == "counter"));
        assert!(text.contains("warden_intake_items_total{kind=\"reports\",outcome=\"created\"} 1"));
    }
    let answer = scrape(
        &app,
        Some("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
    )
    .await;
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = answer.body.as_str().unwrap();
    assert!(text.ends_with("# EOF\n"));
    let open_metrics = families(text, true);
    assert_eq!(open_metrics["warden_intake_items"], "counter");
    assert_eq!(open_metrics["warden_decisions"], "counter");
    // The same families, named as each format names them.
    let prometheus = families(scrape(&app, None).await.body.as_str().unwrap(), false);
    let renamed: Vec<String> = open_metrics
        .iter()
        .map(|(name, kind)| match kind.as_str() {
            "counter" => format!("{name}_total"),
            _ => name.clone(),
        })
        .collect();
    assert_eq!(renamed, prometheus.keys().cloned().collect::<Vec<_>>());
}

/// Runs `promtool check metrics` on `text`: whether it passed, and what it said.
fn promtool(text: &str) -> (bool, String) {
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (apt-get install prometheus)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = promtool.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said.trim().to_string())
}

/// `promtool check metrics` (from Debian's `prometheus` package) passes
/// what a scraper gets by default, with nothing to say. Runs with
/// `WARDEN_PROMTOOL_TESTS=1`.
///
/// promtool reads only the Prometheus text format, so on OpenMetrics text
/// it can only find what differs between the two: counter families named
/// without `_total` (as OpenMetrics requires) have, for it, samples without
/// help (for the counters that have samples). The test checks that this
/// is all it finds there.
#[tokio::test]
async fn promtool_accepts_the_metrics() {
    if std::env::var("WARDEN_PROMTOOL_TESTS").as_deref() != Ok("1") {
        eprintln!("promtool test skipped: set WARDEN_PROMTOOL_TESTS=1 (needs promtool)");
        return;
    }
    let app = TestApp::new().await;
    app.report("rep_p", ("content", "p1"), "spam").await;
    for accept in [None, Some("*/*"), Some("text/plain;version=0.0.4")] {
        let answer = scrape(&app, accept).await;
        let (passed, said) = promtool(answer.body.as_str().unwrap());
        assert!(passed && said.is_empty(), "promtool on {accept:?}: {said}");
    }
    let answer = scrape(&app, Some("application/openmetrics-text")).await;
    let text = answer.body.as_str().unwrap();
    let mut expected: Vec<String> = families(text, true)
        .into_iter()
        .filter(|(_, kind)| kind == "counter")
        .map(|(name, _)| format!("{name}_total"))
        .filter(|samples| text.lines().any(|line| line.starts_with(samples.as_str())))
        .map(|samples| format!("{samples} no help text"))
        .collect();
    let (passed, said) = promtool(text);
    assert!(!passed);
    let mut complaints: Vec<String> = said.lines().map(str::to_string).collect();
    complaints.sort();
    expected.sort();
    assert_eq!(complaints, expected, "promtool on OpenMetrics: {said}");
}
