//! A Sev-1 escalation pages the on-call: a real `warden serve` with
//! `[escalation] page_webhook` pointing at a local receiver. The analyst
//! attaches evidence and escalates to `child_safety`; the receiver gets an
//! `escalation.page` whose signature verifies with `[delivery] secret`;
//! a member of the team acknowledges and the pages not yet sent are
//! cancelled. Outside the team the case is `404`.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};

use warden_domain::signature::verify;

use crate::support::{client, run, temp_dir, text, Warden};

const SECRET: &str = "e2e pager secret";

/// What the pager received: event header, signature check, body.
type Received = Arc<Mutex<Vec<(String, bool, Value)>>>;

async fn page(
    received: Received,
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
    let event = header("x-warden-event");
    let timestamp: i64 = header("x-warden-timestamp").parse().unwrap_or(0);
    let signature = header("x-warden-signature");
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let signed = verify(
        SECRET.as_bytes(),
        timestamp,
        &body,
        &signature,
        chrono::Utc::now().timestamp(),
    )
    .is_ok();
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    received.lock().unwrap().push((event, signed, payload));
    Ok(Response::builder()
        .status(200)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap())
}

fn user(data: &std::path::Path, name: &str, role: &str, teams: &[&str], scope: &str) -> String {
    let data_arg = data.to_str().unwrap();
    let mut args = vec!["user", "add", name, "--role", role];
    for team in teams {
        args.extend(["--team", team]);
    }
    args.extend(["--password-stdin", "--data-dir", data_arg]);
    let added = run(&args, "a long password\n", data);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sev1_escalation_pages_the_on_call_with_a_signed_webhook() {
    let (_dir, data) = temp_dir();
    let received: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let pager = received.clone();
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let pager = pager.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |r| page(pager.clone(), r));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let config = data.join("warden.toml");
    std::fs::write(
        &config,
        format!(
            "[delivery]\nsecret = \"{SECRET}\"\npoll_interval_ms = 50\n\n[escalation]\npage_webhook = \"http://{address}/page\"\n"
        ),
    )
    .unwrap();
    let ingest = user(&data, "platform", "admin", &[], "ingest");
    let analyst = user(&data, "anna", "analyst", &[], "review");
    let member = user(&data, "cleo", "analyst", &["child_safety"], "review");
    let config_arg = config.to_str().unwrap().to_string();
    let warden = Warden::start(&["serve", "--config", config_arg.as_str()], &data);
    let http = client();
    let url = |path: &str| format!("{}{path}", warden.url);

    let report = http
        .post(url("/api/v1/reports"))
        .bearer_auth(&ingest)
        .json(&json!({"id": "rep_1", "subject": {"kind": "content", "id": "post_1"}, "reason": "spam", "source": "user_report", "text": "meet me, don't tell your parents"}))
        .send()
        .await
        .unwrap();
    assert!(report.status().is_success());
    let claimed: Value = http
        .post(url("/api/v1/queues/spam/claim"))
        .bearer_auth(&analyst)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case = claimed["id"].as_i64().expect("a case to claim");
    let evidence = http
        .post(url(&format!("/api/v1/cases/{case}/evidence")))
        .bearer_auth(&analyst)
        .json(&json!({"kind": "text_excerpt", "text": "meet me, don't tell your parents", "caption": "DM"}))
        .send()
        .await
        .unwrap();
    assert_eq!(evidence.status(), 201);
    let escalated = http
        .post(url(&format!("/api/v1/cases/{case}/escalate")))
        .bearer_auth(&analyst)
        .json(&json!({"version": claimed["version"], "team": "child_safety", "severity": "sev1", "reason": "an adult grooming a child"}))
        .send()
        .await
        .unwrap();
    assert_eq!(escalated.status(), 200);
    let escalated: Value = escalated.json().await.unwrap();
    let escalation = escalated["escalation"]["id"].as_i64().unwrap();

    // The first page arrives, signed.
    let mut waited = 0;
    while received.lock().unwrap().is_empty() {
        assert!(waited < 200, "no page arrived within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    let (event, signed, body) = received.lock().unwrap()[0].clone();
    assert_eq!(event, "escalation.page");
    assert!(
        signed,
        "the page's signature verifies with [delivery] secret"
    );
    assert_eq!(body["event"], "escalation.page");
    assert_eq!(body["escalation"]["id"], escalation);
    assert_eq!(body["escalation"]["case_id"], case);
    assert_eq!(body["escalation"]["severity"], "sev1");
    assert_eq!(body["escalation"]["attempt"], 1);
    assert_eq!(
        body["idempotency_key"],
        format!("warden-page-{escalation}-1")
    );

    // Outside the team the case is gone; the member acknowledges.
    let hidden = http
        .get(url(&format!("/api/v1/cases/{case}")))
        .bearer_auth(&analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404);
    let acknowledged: Value = http
        .post(url(&format!("/api/v1/cases/{case}/acknowledge")))
        .bearer_auth(&member)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(acknowledged["acknowledged_by"], "cleo");
    assert_eq!(acknowledged["pages_pending"], 0);
    assert_eq!(acknowledged["pages_sent"], 1);
    warden.stop();
    server.abort();
}
