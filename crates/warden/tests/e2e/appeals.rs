//! An appeal end to end, on the real binary with a local receiver: an
//! analyst decides with a suspension (a lead approves it), the account
//! appeals, the decider is refused the appeal, another analyst overturns
//! it; the receiver gets `action.reverse` once per action, the strike is
//! gone from the account's history (which shows the appeal), and the
//! appellant's notice went out.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};

use warden_domain::signature::verify;

use crate::support::{client, run, temp_dir, text, Warden};

const SECRET: &str = "appeal e2e secret";

/// Every verified body the receiver got.
#[derive(Default)]
struct Received {
    bodies: Mutex<Vec<Value>>,
}

async fn handle(
    received: Arc<Received>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let timestamp: i64 = header("x-warden-timestamp").parse().unwrap_or(0);
    let signature = header("x-warden-signature");
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    let status = if verify(SECRET.as_bytes(), timestamp, &body, &signature, now).is_ok() {
        let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        received.bodies.lock().unwrap().push(payload);
        200
    } else {
        401
    };
    Ok(Response::builder()
        .status(status)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap())
}

/// Serves the receiver on a free port until the test ends.
async fn receiver(received: Arc<Received>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the receiver");
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let received = received.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request| handle(received.clone(), request));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address
}

fn user_token(data: &std::path::Path, name: &str, role: &str, scope: &str) -> String {
    let data_arg = data.to_str().unwrap();
    let added = run(
        &[
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            "--data-dir",
            data_arg,
        ],
        "a long password\n",
        data,
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let token = run(
        &[
            "token",
            "create",
            "--user",
            name,
            "--scope",
            scope,
            "--data-dir",
            data_arg,
        ],
        "",
        data,
    );
    assert!(token.status.success(), "{}", text(&token.stderr));
    text(&token.stdout).trim().to_string()
}

/// Waits until the receiver got what `done` looks for.
async fn wait_for(received: &Received, what: &str, done: impl Fn(&[Value]) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !done(&received.bodies.lock().unwrap()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the receiver never got {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn events<'a>(bodies: &'a [Value], event: &str) -> Vec<&'a Value> {
    bodies.iter().filter(|b| b["event"] == event).collect()
}

struct Api {
    url: String,
    http: reqwest::Client,
}

impl Api {
    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let answer = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let answer = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        answer.json().await.unwrap()
    }
}

fn rationale(what: &str) -> Value {
    json!({"what_happened": what, "evidence": "the post", "policy": "spam 1",
           "action": "a suspension stops the campaign", "next_steps": ""})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_overturned_appeal_reverses_once_and_tells_the_appellant() {
    let (_dir, data) = temp_dir();
    let received = Arc::new(Received::default());
    let address = receiver(received.clone()).await;
    let config = data.join("warden.toml");
    std::fs::write(
        &config,
        format!(
            "[delivery]\nendpoint = \"http://{address}/hooks\"\nsecret = \"{SECRET}\"\nbackoff_initial_ms = 50\nbackoff_max_ms = 400\npoll_interval_ms = 50\n"
        ),
    )
    .unwrap();
    let ingest = user_token(&data, "platform", "admin", "ingest");
    let anna = user_token(&data, "anna", "analyst", "review");
    let ben = user_token(&data, "ben", "analyst", "review");
    let lea = user_token(&data, "lea", "lead", "review");
    let config_arg = config.to_str().unwrap().to_string();
    let warden = Warden::start(&["serve", "--config", config_arg.as_str()], &data);
    let api = Api {
        url: warden.url.clone(),
        http: client(),
    };

    // Anna suspends the account behind a spam post; Lea approves it.
    let (status, _) = api
        .post(&ingest, "/api/v1/subjects", json!({"kind": "content", "id": "post_1", "owner": {"kind": "account", "id": "acct_77"}, "text": "buy followers"}))
        .await;
    assert_eq!(status, 201);
    let (status, _) = api
        .post(&ingest, "/api/v1/reports", json!({"id": "rep_1", "subject": {"kind": "content", "id": "post_1"}, "reason": "spam", "source": "user_report", "language": "en"}))
        .await;
    assert_eq!(status, 201);
    let (status, claimed) = api
        .post(&anna, "/api/v1/queues/spam/claim", json!({}))
        .await;
    assert_eq!(status, 200, "{claimed}");
    let case = claimed["id"].as_i64().unwrap();
    let (status, decision) = api
        .post(
            &anna,
            &format!("/api/v1/cases/{case}/decision"),
            json!({
            "version": claimed["version"], "violation": true, "category": "spam",
            "actions": [{"type": "remove_content"}, {"type": "suspend", "duration": "P7D"}],
            "override_reason": "a known spam ring", "rationale": rationale("spam campaign")}),
        )
        .await;
    assert_eq!(status, 201, "{decision}");
    let decision_id = decision["id"].as_i64().unwrap();
    let suspend = decision["actions"][1]["id"].as_i64().unwrap();
    let (status, approved) = api
        .post(
            &lea,
            &format!("/api/v1/actions/{suspend}/approve"),
            json!({"reason": "ring confirmed"}),
        )
        .await;
    assert_eq!(status, 200, "{approved}");
    wait_for(&received, "the suspension", |bodies| {
        events(bodies, "action.apply")
            .iter()
            .any(|b| b["action"]["id"] == suspend)
    })
    .await;

    // The account appeals.
    let (status, appeal) = api
        .post(
            &ingest,
            "/api/v1/appeals",
            json!({
            "id": "apl_9", "decision_id": decision_id, "action_id": suspend,
            "appellant": {"kind": "account", "id": "acct_77"},
            "statement": "I was quoting the post to report it.", "language": "en"}),
        )
        .await;
    assert_eq!(status, 201, "{appeal}");
    let appeal_case = appeal["case_id"].as_i64().unwrap();

    // Anna never gets it, and may not decide it.
    let (status, _) = api
        .post(&anna, "/api/v1/queues/appeals/claim", json!({}))
        .await;
    assert_eq!(status, 204);
    let shown = api.get(&lea, &format!("/api/v1/cases/{appeal_case}")).await;
    assert_eq!(shown["kind"], "appeal");
    let (status, refused) = api
        .post(&anna, &format!("/api/v1/cases/{appeal_case}/decision"), json!({
            "version": shown["version"], "outcome": "overturned", "rationale": rationale("a quote")}))
        .await;
    assert_eq!(status, 403, "{refused}");

    // Ben overturns it.
    let (status, claimed) = api
        .post(&ben, "/api/v1/queues/appeals/claim", json!({}))
        .await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["id"], appeal_case);
    assert_eq!(claimed["appeal"]["original"]["id"], decision_id);
    let (status, decided) = api
        .post(
            &ben,
            &format!("/api/v1/cases/{appeal_case}/decision"),
            json!({
            "version": claimed["version"], "outcome": "overturned",
            "rationale": rationale("the post quoted the spam to report it")}),
        )
        .await;
    assert_eq!(status, 201, "{decided}");
    assert_eq!(decided["outcome"], "overturned");

    // The receiver gets the reversal of each action once, and the notice.
    wait_for(
        &received,
        "the reversal and the appellant's notice",
        |bodies| {
            !events(bodies, "action.reverse").is_empty()
                && events(bodies, "notice")
                    .iter()
                    .any(|b| b["notice"]["subject"] == "Your appeal was successful")
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let bodies = received.bodies.lock().unwrap().clone();
    let mut reversed: HashMap<i64, usize> = HashMap::new();
    for body in events(&bodies, "action.reverse") {
        *reversed
            .entry(body["action"]["id"].as_i64().unwrap())
            .or_default() += 1;
    }
    assert_eq!(reversed.get(&suspend), Some(&1), "{reversed:?}");
    assert!(reversed.values().all(|n| *n == 1), "{reversed:?}");
    let notice = events(&bodies, "notice")
        .into_iter()
        .find(|b| b["notice"]["subject"] == "Your appeal was successful")
        .unwrap()
        .clone();
    assert_eq!(notice["notice"]["recipient"]["id"], "acct_77");

    // The strike is gone from the account's history, which shows the appeal.
    let history = api
        .get(&lea, "/api/v1/subjects/account/acct_77/history")
        .await;
    assert_eq!(history["active_strike_weight"], 0, "{history}");
    let strikes = history["strikes"].as_array().unwrap();
    assert!(!strikes.is_empty());
    assert!(strikes.iter().all(|s| s["active"] == false), "{history}");
    assert_eq!(history["appeals"][0]["outcome"], "overturned");
    warden.stop();
}
