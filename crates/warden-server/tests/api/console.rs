//! The analyst console: sign-in, redirects, CSRF on forms, escaping of
//! platform content, the review flow, conflicts, personal data, the lead's
//! and the admin's pages. Driven like a browser without one: cookies kept,
//! forms posted as `application/x-www-form-urlencoded`.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use warden_domain::access::Role;
use warden_server::{Clock, ServerSettings};
use warden_store::prelude::*;
use warden_store::CasePolicy;

use crate::support::{TestApp, PASSWORD};

/// The CSP every console page carries.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    /// The value of the first hidden `csrf_token` field.
    fn csrf(&self) -> String {
        let pattern = regex::Regex::new(r#"name="csrf_token" value="([^"]*)""#).unwrap();
        pattern
            .captures(&self.body)
            .map(|c| c[1].to_string())
            .unwrap_or_else(|| panic!("no CSRF field in {}", self.body))
    }

    fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }
}

/// A browser without a browser: keeps cookies, posts forms.
struct Browser<'a> {
    app: &'a TestApp,
    cookies: Vec<(String, String)>,
    bearer: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: Vec::new(),
            bearer: None,
        }
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    async fn send(&mut self, method: &str, path: &str, form: Option<Vec<(&str, String)>>) -> Page {
        let mut request = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let jar = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header(header::COOKIE, jar);
        }
        if let Some(token) = &self.bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match form {
            Some(fields) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(serde_urlencoded::to_string(fields).unwrap())
            }
            None => Body::empty(),
        };
        let response = self
            .app
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all(header::SET_COOKIE) {
            let parsed = cookie::Cookie::parse(value.to_str().unwrap().to_string()).unwrap();
            self.cookies.retain(|(n, _)| n != parsed.name());
            if parsed.max_age() != Some(cookie::time::Duration::ZERO) {
                self.cookies
                    .push((parsed.name().to_string(), parsed.value().to_string()));
            }
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, None).await
    }

    /// Posts a form with the CSRF token of `from` and `fields`.
    async fn post(&mut self, path: &str, from: &Page, fields: &[(&str, &str)]) -> Page {
        let mut form = vec![("csrf_token", from.csrf())];
        form.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
        self.send("POST", path, Some(form)).await
    }

    /// Signs in through the sign-in form.
    async fn sign_in(app: &'a TestApp, name: &str) -> Browser<'a> {
        let mut browser = Browser::new(app);
        let page = browser.get("/console/sign-in").await;
        assert_eq!(page.status, StatusCode::OK);
        let done = browser
            .post(
                "/console/sign-in",
                &page,
                &[("name", name), ("password", PASSWORD), ("next", "/console")],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location(), "/console");
        assert!(browser.cookie("warden_session").is_some());
        browser
    }
}

/// A content subject with an owner, a picture and text, and a report.
async fn reported_post(app: &TestApp, id: &str, text: &str, report_text: &str) -> i64 {
    let answer = app
        .ingest(
            "/api/v1/subjects",
            json!({"kind": "content", "id": id, "owner": {"kind": "account", "id": format!("owner_{id}")}, "text": text,
                   "media": [{"url": "https://cdn.example/img/1.jpg", "mime": "image/jpeg"}]}),
        )
        .await;
    assert!(answer.status.is_success(), "{}", answer.body);
    let owner = app
        .ingest(
            "/api/v1/subjects",
            json!({"kind": "account", "id": format!("owner_{id}"), "attributes": {"display_name": "Sam", "email": "sam.owner@example.com", "ips": ["203.0.113.9"], "country": "DE"}}),
        )
        .await;
    assert!(owner.status.is_success(), "{}", owner.body);
    let report = app
        .ingest(
            "/api/v1/reports",
            json!({"id": format!("rep_{id}"), "subject": {"kind": "content", "id": id}, "reason": "spam", "source": "user_report", "text": report_text, "language": "en"}),
        )
        .await;
    assert!(report.status.is_success(), "{}", report.body);
    let list = app
        .get(
            &format!("/api/v1/cases?subject_kind=content&subject_id={id}"),
            app.token(Role::Lead),
        )
        .await;
    list.body["cases"][0]["id"].as_i64().unwrap()
}

async fn claim_via_api(app: &TestApp, role: Role) -> i64 {
    let claimed = app
        .post("/api/v1/queues/general/claim", app.token(role), json!({}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    claimed.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    let app = TestApp::new().await;
    let mut browser = Browser::new(&app);
    let front = browser.get("/").await;
    assert_eq!(front.status, StatusCode::SEE_OTHER);
    assert_eq!(front.location(), "/console");
    let home = browser.get("/console").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), "/console/sign-in?next=%2Fconsole");
    let case = browser.get("/console/cases/7?decided=1").await;
    assert_eq!(
        case.location(),
        "/console/sign-in?next=%2Fconsole%2Fcases%2F7%3Fdecided%3D1"
    );
    let post = browser
        .send("POST", "/console/cases/7/notes", Some(vec![]))
        .await;
    assert_eq!(post.status, StatusCode::SEE_OTHER);
    assert!(post.location().starts_with("/console/sign-in"));
    let missing = browser.get("/console/nowhere").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    // Signing in goes back to the page asked for; an outside `next` is ignored.
    let page = browser
        .get("/console/sign-in?next=%2Fconsole%2Fpreferences")
        .await;
    assert!(page.has(r#"name="next" value="/console/preferences""#));
    let done = browser
        .post(
            "/console/sign-in",
            &page,
            &[
                ("name", "qa"),
                ("password", PASSWORD),
                ("next", "/console/preferences"),
            ],
        )
        .await;
    assert_eq!(done.location(), "/console/preferences");
    let session = done
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("warden_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Strict")
            && session.contains("Path=/"),
        "{session}"
    );
    let mut other = Browser::new(&app);
    let page = other.get("/console/sign-in").await;
    let evil = other
        .post(
            "/console/sign-in",
            &page,
            &[
                ("name", "qa"),
                ("password", PASSWORD),
                ("next", "//evil.example/console"),
            ],
        )
        .await;
    assert_eq!(evil.location(), "/console");
}

#[tokio::test]
async fn sign_in_checks_its_form_token_and_locks_out_after_failures() {
    let settings = ServerSettings {
        sign_in_failures_max: 3,
        ..ServerSettings::default()
    };
    let app = TestApp::with_settings(settings, CasePolicy::default()).await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/console/sign-in").await;
    assert!(page.has("Sign in to Warden"));
    // A form from elsewhere, without the double-submit cookie, is refused.
    let mut stranger = Browser::new(&app);
    let forged = stranger
        .post(
            "/console/sign-in",
            &page,
            &[("name", "analyst"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(stranger.cookie("warden_session").is_none());

    let mut last = page;
    for _ in 0..2 {
        last = browser
            .post(
                "/console/sign-in",
                &last,
                &[("name", "analyst"), ("password", "wrong")],
            )
            .await;
        assert_eq!(last.status, StatusCode::UNAUTHORIZED);
        assert!(last.has("Unknown user or wrong password."));
        assert!(last.has(r#"value="analyst""#), "the name is kept");
    }
    let locked = browser
        .post(
            "/console/sign-in",
            &last,
            &[("name", "analyst"), ("password", "wrong")],
        )
        .await;
    // Locked reads like a wrong password: the page tells nobody who is locked.
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    assert!(
        locked.has("Unknown user or wrong password."),
        "{}",
        locked.body
    );
    let still = browser
        .post(
            "/console/sign-in",
            &locked,
            &[("name", "analyst"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(still.status, StatusCode::UNAUTHORIZED, "still locked");
    assert!(still.has("Unknown user or wrong password."));
    app.clock.advance(chrono::Duration::minutes(16));
    let fresh = browser.get("/console/sign-in").await;
    let ok = browser
        .post(
            "/console/sign-in",
            &fresh,
            &[("name", "analyst"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let home = browser.get("/console").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.has("Hello, analyst"));

    // Signing out ends the session.
    let out = browser.post("/console/sign-out", &home, &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/console/sign-in?signed_out=1");
    assert_eq!(browser.get("/console").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_no_inline_script_or_style() {
    let app = TestApp::new().await;
    let case = reported_post(&app, "p1", "hello", "spam").await;
    let mut lead = Browser::sign_in(&app, "lead").await;
    let mut admin = Browser::sign_in(&app, "admin").await;
    let mut pages = Vec::new();
    for path in [
        "/console".to_string(),
        "/console/queues/general".into(),
        format!("/console/cases/{case}"),
        "/console/lead".into(),
        "/console/preferences".into(),
    ] {
        pages.push((path.clone(), lead.get(&path).await));
    }
    for path in [
        "/console/admin/users",
        "/console/admin/tokens",
        "/console/admin/queues",
    ] {
        pages.push((path.to_string(), admin.get(path).await));
    }
    pages.push((
        "/console/sign-in".into(),
        Browser::new(&app).get("/console/sign-in").await,
    ));
    let handler = regex::Regex::new(r#"(?i)\son[a-z]+\s*="#).unwrap();
    let outside = regex::Regex::new(r#"(?i)(src|href|action|poster)="(https?:)?//"#).unwrap();
    for (path, page) in pages {
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert_eq!(page.headers[header::CONTENT_SECURITY_POLICY], CSP, "{path}");
        assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
        for script in page.body.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap();
            assert!(
                tag.contains("src=\"/console/static/"),
                "{path}: inline script"
            );
        }
        assert!(!page.body.contains(" style="), "{path}: inline style");
        assert!(!page.body.contains("<style"), "{path}: inline style");
        assert!(
            !handler.is_match(&page.body),
            "{path}: inline event handler"
        );
        assert!(
            !outside.is_match(&page.body),
            "{path}: nothing loaded from outside"
        );
    }
}

#[tokio::test]
async fn forms_need_the_sessions_csrf_token() {
    let app = TestApp::new().await;
    let case = reported_post(&app, "p1", "hello", "spam").await;
    let mut browser = Browser::sign_in(&app, "analyst").await;
    let page = browser.get(&format!("/console/cases/{case}")).await;
    let forged = browser
        .send(
            "POST",
            &format!("/console/cases/{case}/notes"),
            Some(vec![
                ("csrf_token", "not-the-token".into()),
                ("n_what_happened", "forged".into()),
            ]),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.has("nothing was changed"));
    let missing = browser
        .send(
            "POST",
            &format!("/console/cases/{case}/notes"),
            Some(vec![("n_what_happened", "forged".into())]),
        )
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let cross_site = {
        let request = Request::builder()
            .method("POST")
            .uri(format!("/console/cases/{case}/notes"))
            .header(
                header::COOKIE,
                format!(
                    "warden_session={}",
                    browser.cookie("warden_session").unwrap()
                ),
            )
            .header("sec-fetch-site", "cross-site")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "csrf_token={}&n_what_happened=x",
                page.csrf()
            )))
            .unwrap();
        app.router.clone().oneshot(request).await.unwrap().status()
    };
    assert_eq!(cross_site, StatusCode::FORBIDDEN);
    let detail = app
        .store
        .case_detail(warden_domain::CaseId(case))
        .await
        .unwrap()
        .unwrap();
    assert!(detail.notes.is_empty(), "nothing was written");
    let saved = browser
        .post(
            &format!("/console/cases/{case}/notes"),
            &page,
            &[("n_what_happened", "first look")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(saved.has("Note added."));
    // A bearer token carries no ambient authority: no CSRF token needed.
    let mut script = Browser::new(&app);
    script.bearer = Some(app.token(Role::Analyst).to_string());
    let by_token = script
        .send(
            "POST",
            &format!("/console/cases/{case}/notes"),
            Some(vec![("n_evidence", "from a script".into())]),
        )
        .await;
    assert_eq!(by_token.status, StatusCode::OK, "{}", by_token.body);
    let detail = app
        .store
        .case_detail(warden_domain::CaseId(case))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.notes.len(), 2);
}

#[tokio::test]
async fn platform_content_is_escaped_everywhere() {
    let app = TestApp::new().await;
    let case = reported_post(
        &app,
        "evil",
        "<b>bold</b> \"quoted\" & <script>window.pwned = 1</script>",
        "<script>alert('reported')</script><img src=x onerror=alert(2)>",
    )
    .await;
    let mut browser = Browser::sign_in(&app, "associate").await;
    let page = browser.get(&format!("/console/cases/{case}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.has("<script>alert"));
    assert!(!page.has("<script>window"));
    assert!(!page.has("<img src=x"));
    assert!(!page.has("<b>bold"));
    assert!(
        page.has("&#60;script&#62;alert(&#39;reported&#39;)&#60;/script&#62;")
            || page.has("&lt;script&gt;alert("),
        "{}",
        page.body
    );
    assert!(page.has("&#38;") || page.has("&amp;"));
    let queue = browser.get("/console/queues/general").await;
    assert!(!queue.has("<script>alert"));
    assert!(!queue.has("<img src=x"));
}

#[tokio::test]
async fn an_analyst_reviews_notes_and_decides_then_gets_the_next_case() {
    let app = TestApp::new().await;
    let first = reported_post(&app, "p1", "cheap followers at spam.example", "spam link").await;
    let second = reported_post(&app, "p2", "more spam", "spam again").await;
    let mut browser = Browser::sign_in(&app, "analyst").await;

    let home = browser.get("/console").await;
    assert!(home.has("Your queues"));
    assert!(home.has(r#"action="/console/queues/general/start""#));
    let queue = browser
        .get("/console/queues/general?category=spam&sort=oldest")
        .await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.has(&format!("/console/cases/{first}")));
    assert!(queue.has("2 matching cases"), "{}", queue.body);
    let none = browser
        .get("/console/queues/general?severity=critical")
        .await;
    assert!(none.has("No case matches these filters."));

    let started = browser
        .post("/console/queues/general/start", &queue, &[])
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    let opened = started.location();
    assert!(opened.starts_with("/console/cases/"), "{opened}");
    let current: i64 = opened
        .trim_start_matches("/console/cases/")
        .parse()
        .unwrap();
    let other = if current == first { second } else { first };
    let page = browser.get(&opened).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.has(r#"class="veiled""#), "media is blurred by default");
    assert!(page.has(&format!("/console/cases/{current}/media/0")));
    assert!(page.has("Submit and next"));
    assert!(page.has("data-countdown=\"lease\""));
    // Starting again resumes the case held rather than claiming another.
    let again = browser
        .post("/console/queues/general/start", &page, &[])
        .await;
    assert_eq!(again.location(), opened);

    let noted = browser
        .post(
            &format!("/console/cases/{current}/notes"),
            &page,
            &[
                ("n_what_happened", "Follower-selling spam with a link"),
                ("r_what_happened", "draft kept"),
            ],
        )
        .await;
    assert_eq!(noted.status, StatusCode::OK);
    assert!(noted.has("Note added."));
    assert!(noted.has("Follower-selling spam with a link"));
    assert!(
        noted.has(">draft kept</textarea>"),
        "the draft survives adding a note"
    );

    let incomplete = browser
        .post(
            &format!("/console/cases/{current}/decision"),
            &noted,
            &[
                ("version", "0"),
                ("violation", "yes"),
                ("category", "spam"),
                ("a_suspend", "on"),
                ("suspend_duration", "forever"),
                ("r_what_happened", "Selling followers"),
            ],
        )
        .await;
    assert_eq!(
        incomplete.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        incomplete.body
    );
    assert!(incomplete.has("Nothing was saved: some fields need attention"));
    assert!(
        incomplete.has(r##"href="#f-suspend_duration""##),
        "{}",
        incomplete.body
    );
    assert!(incomplete.has(">Selling followers</textarea>"));

    let version = regex::Regex::new(r#"name="version" value="(\d+)""#)
        .unwrap()
        .captures(&incomplete.body)
        .unwrap()[1]
        .to_string();
    let decided = browser
        .post(
            &format!("/console/cases/{current}/decision"),
            &incomplete,
            &[
                ("version", &version),
                ("violation", "yes"),
                ("category", "spam"),
                ("policy", "spam-2.1"),
                ("a_remove_content", "on"),
                ("a_suspend", "on"),
                ("suspend_duration", "P7D"),
                ("r_what_happened", "Selling followers"),
                ("r_evidence", "Link to a follower shop in the post"),
                ("r_policy", "Spam policy 2.1"),
                (
                    "r_action",
                    "Removal and a week's suspension for a repeat seller",
                ),
                ("next", "1"),
            ],
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
    assert_eq!(
        decided.location(),
        format!("/console/cases/{other}?decided={current}")
    );
    let next = browser.get(&decided.location()).await;
    assert!(next.has(&format!("Case {current} is decided.")));

    let shown = app
        .get(&format!("/api/v1/cases/{current}"), app.token(Role::Lead))
        .await;
    assert_eq!(shown.body["status"], "resolved");
    let decision = &shown.body["decisions"][0];
    assert_eq!(decision["violation"], true);
    assert_eq!(decision["decided_by"], "analyst");
    assert_eq!(decision["actions"][1]["type"], "suspend");
    assert_eq!(decision["actions"][1]["duration"], "P7D");
    assert_eq!(
        shown.body["notes"][0]["body"]["what_happened"],
        "Follower-selling spam with a link"
    );
    let actions = app.audit_actions().await;
    for action in ["case.claim", "case.read", "case.note", "case.decide"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }

    // The decided case now shows its decision and no form.
    let resolved = browser.get(&format!("/console/cases/{current}")).await;
    assert!(resolved.has("This case is decided."));
    assert!(!resolved.has("Submit decision"));
    // With nothing left, "next" lands on the queue with a message.
    let last = browser.get(&format!("/console/cases/{other}")).await;
    let version = regex::Regex::new(r#"name="version" value="(\d+)""#)
        .unwrap()
        .captures(&last.body)
        .unwrap()[1]
        .to_string();
    let done = browser
        .post(
            &format!("/console/cases/{other}/decision"),
            &last,
            &[
                ("version", &version),
                ("violation", "no"),
                ("category", "spam"),
                ("r_what_happened", "Looked fine"),
                ("r_policy", "Spam policy"),
                ("next", "1"),
            ],
        )
        .await;
    assert_eq!(
        done.location(),
        format!("/console/queues/general?empty=1&decided={other}")
    );
    let queue = browser.get(&done.location()).await;
    assert!(queue.has("Nothing left in this queue for you to claim."));
}

#[tokio::test]
async fn a_stale_version_is_shown_plainly_and_the_draft_is_kept() {
    let app = TestApp::new().await;
    reported_post(&app, "p1", "hello", "spam").await;
    let mut browser = Browser::sign_in(&app, "analyst").await;
    let home = browser.get("/console").await;
    let started = browser
        .post("/console/queues/general/start", &home, &[])
        .await;
    let page = browser.get(&started.location()).await;
    let id: i64 = started
        .location()
        .trim_start_matches("/console/cases/")
        .parse()
        .unwrap();
    let seen = regex::Regex::new(r#"name="version" value="(\d+)""#)
        .unwrap()
        .captures(&page.body)
        .unwrap()[1]
        .to_string();
    // Meanwhile the case moves on (a renewal from another tab).
    let renewed = app
        .post(
            &format!("/api/v1/cases/{id}/renew"),
            app.token(Role::Analyst),
            json!({}),
        )
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    let stale = browser
        .post(
            &format!("/console/cases/{id}/decision"),
            &page,
            &[
                ("version", &seen),
                ("violation", "no"),
                ("category", "spam"),
                ("r_what_happened", "My careful reading of the post"),
                ("r_policy", "Spam policy"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.has("This case changed while you were working on it"));
    assert!(stale.has("what you typed is kept below"));
    assert!(stale.has(">My careful reading of the post</textarea>"));
    assert!(stale.has(&format!(
        r#"name="version" value="{}""#,
        renewed.body["version"]
    )));
    // Submitting again from the fresh page works.
    let again = browser
        .post(
            &format!("/console/cases/{id}/decision"),
            &stale,
            &[
                ("version", &renewed.body["version"].to_string()),
                ("violation", "no"),
                ("category", "spam"),
                ("r_what_happened", "My careful reading of the post"),
                ("r_policy", "Spam policy"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
}

#[tokio::test]
async fn lease_renewal_hold_and_release_keep_the_draft() {
    let app = TestApp::new().await;
    reported_post(&app, "p1", "hello", "spam").await;
    let mut browser = Browser::sign_in(&app, "analyst").await;
    let home = browser.get("/console").await;
    let started = browser
        .post("/console/queues/general/start", &home, &[])
        .await;
    let id: i64 = started
        .location()
        .trim_start_matches("/console/cases/")
        .parse()
        .unwrap();
    let page = browser.get(&started.location()).await;
    app.clock.advance(chrono::Duration::minutes(8));
    let renewed = browser
        .post(
            &format!("/console/cases/{id}/renew"),
            &page,
            &[("r_evidence", "half-written evidence")],
        )
        .await;
    assert_eq!(renewed.status, StatusCode::OK);
    assert!(
        renewed.has("Lease renewed: it ends in 10 min"),
        "{}",
        renewed.body
    );
    assert!(renewed.has(">half-written evidence</textarea>"));
    let no_reason = browser
        .post(&format!("/console/cases/{id}/hold"), &renewed, &[])
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.has("say why you need to keep the case past its lease"));
    let held = browser
        .post(
            &format!("/console/cases/{id}/hold"),
            &no_reason,
            &[("hold_reason", "waiting for the platform's logs")],
        )
        .await;
    assert_eq!(held.status, StatusCode::OK);
    assert!(held.has("held for you past its lease"));
    let released = browser
        .post(&format!("/console/cases/{id}/release"), &held, &[])
        .await;
    assert_eq!(released.status, StatusCode::SEE_OTHER);
    assert_eq!(
        released.location(),
        format!("/console/queues/general?released={id}")
    );
    let case = app
        .store
        .case(warden_domain::CaseId(id))
        .await
        .unwrap()
        .unwrap();
    assert!(case.assignee.is_none());
}

#[tokio::test]
async fn escalating_moves_the_case_and_says_where() {
    let escalations = warden_domain::routing::QueueDefinition {
        description: "Escalated cases.".into(),
        roles: vec![Role::Analyst, Role::Lead],
        accepts_new: false,
        ..warden_domain::routing::QueueDefinition::catch_all("escalations")
    };
    let policy = CasePolicy {
        router: warden_domain::routing::Router::new(vec![
            warden_domain::routing::QueueDefinition::catch_all("general"),
            escalations,
        ])
        .unwrap(),
        ..CasePolicy::default()
    };
    let app = TestApp::with_settings(ServerSettings::default(), policy).await;
    reported_post(&app, "p1", "hello", "spam").await;
    let mut browser = Browser::sign_in(&app, "analyst").await;
    let home = browser.get("/console").await;
    let started = browser
        .post("/console/queues/general/start", &home, &[])
        .await;
    let id: i64 = started
        .location()
        .trim_start_matches("/console/cases/")
        .parse()
        .unwrap();
    let page = browser.get(&started.location()).await;
    assert!(
        page.has(r#"<option value="escalations" selected>"#),
        "{}",
        page.body
    );
    let bad = browser
        .post(
            &format!("/console/cases/{id}/escalate"),
            &page,
            &[
                ("escalate_queue", "nowhere"),
                ("escalate_reason", "needs a lead"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.has(r##"href="#f-escalate_queue""##));
    assert!(bad.has(">needs a lead</textarea>"));
    let no_reason = browser
        .post(
            &format!("/console/cases/{id}/escalate"),
            &bad,
            &[("escalate_queue", "escalations")],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let escalated = browser
        .post(
            &format!("/console/cases/{id}/escalate"),
            &no_reason,
            &[
                ("escalate_queue", "escalations"),
                ("escalate_reason", "credible threat, needs a lead"),
            ],
        )
        .await;
    assert_eq!(
        escalated.status,
        StatusCode::SEE_OTHER,
        "{}",
        escalated.body
    );
    assert_eq!(
        escalated.location(),
        format!("/console/queues/general?escalated={id}&to=escalations")
    );
    let case = app
        .store
        .case(warden_domain::CaseId(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.queue, "escalations");
    assert_eq!(case.status.as_str(), "escalated");
    let queue = browser.get(&escalated.location()).await;
    assert!(queue.has(&format!("Case {id} is escalated to escalations.")));
}

#[tokio::test]
async fn personal_data_is_masked_until_revealed_with_a_reason() {
    let app = TestApp::new().await;
    let case = reported_post(
        &app,
        "p1",
        "write to me at jane@example.org",
        "they posted my phone +44 20 7946 0958",
    )
    .await;
    let mut analyst = Browser::sign_in(&app, "analyst").await;
    let page = analyst.get(&format!("/console/cases/{case}")).await;
    for secret in [
        "sam.owner@example.com",
        "203.0.113.9",
        "jane@example.org",
        "7946 0958",
    ] {
        assert!(!page.has(secret), "{secret} is masked");
    }
    assert!(page.has("[masked]") && page.has("[email masked]") && page.has("[phone masked]"));
    assert!(page.has("Personal data is masked"));
    let no_reason = analyst
        .post(&format!("/console/cases/{case}/reveal"), &page, &[])
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.has("say why you need to see personal data"));
    let revealed = analyst
        .post(
            &format!("/console/cases/{case}/reveal"),
            &page,
            &[("reveal_reason", "checking the reporter's doxxing claim")],
        )
        .await;
    assert_eq!(revealed.status, StatusCode::OK);
    for secret in [
        "sam.owner@example.com",
        "203.0.113.9",
        "jane@example.org",
        "+44 20 7946 0958",
    ] {
        assert!(revealed.has(secret), "{secret} is shown");
    }
    let mut after = 0;
    let mut found = false;
    loop {
        let records = app.store.audit_page(after, 500).await.unwrap();
        if records.is_empty() {
            break;
        }
        for record in records {
            after = record.entry.seq;
            if record.entry.action == "pii.reveal" {
                assert_eq!(record.entry.actor, "analyst");
                assert_eq!(
                    record.entry.after["reason"],
                    "checking the reporter's doxxing claim"
                );
                found = true;
            }
        }
    }
    assert!(found, "the reveal is audited");
    // The next page masks again.
    assert!(!analyst
        .get(&format!("/console/cases/{case}"))
        .await
        .has("jane@example.org"));

    let mut associate = Browser::sign_in(&app, "associate").await;
    let page = associate.get(&format!("/console/cases/{case}")).await;
    assert!(page.has("Your role cannot reveal personal data"));
    let refused = associate
        .post(
            &format!("/console/cases/{case}/reveal"),
            &page,
            &[("reveal_reason", "curious")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.has("jane@example.org"));
}

#[tokio::test]
async fn associates_cannot_open_admin_or_lead_pages() {
    let app = TestApp::new().await;
    let mut associate = Browser::sign_in(&app, "associate").await;
    let home = associate.get("/console").await;
    assert!(!home.has(r#"href="/console/admin/users""#));
    assert!(!home.has(r#"href="/console/lead""#));
    for path in [
        "/console/admin/users",
        "/console/admin/tokens",
        "/console/admin/queues",
        "/console/lead",
    ] {
        let page = associate.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.has("You do not have access to this page"));
        assert!(page.has("The associate role does not include"));
        assert!(!page.has("Add a user"));
    }
    let forbidden = associate
        .post(
            "/console/admin/users",
            &home,
            &[
                ("name", "mallory"),
                ("role", "admin"),
                ("password", "long enough pass"),
            ],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert!(app.store.user_by_name("mallory").await.unwrap().is_none());
}

#[tokio::test]
async fn leads_see_the_team_and_reassign_or_release() {
    let app = TestApp::new().await;
    reported_post(&app, "p1", "hello", "spam").await;
    let id = claim_via_api(&app, Role::Analyst).await;
    let mut lead = Browser::sign_in(&app, "lead").await;
    let team = lead.get("/console/lead").await;
    assert_eq!(team.status, StatusCode::OK);
    assert!(team.has("Backlog per queue"));
    assert!(team.has(&format!(r#"href="/console/cases/{id}""#)));
    assert!(
        team.has("analyst <span class=\"role\">analyst</span>"),
        "{}",
        team.body
    );
    let case = app
        .store
        .case(warden_domain::CaseId(id))
        .await
        .unwrap()
        .unwrap();
    let assigned = lead
        .post(
            &format!("/console/cases/{id}/assign"),
            &team,
            &[
                ("user", "associate"),
                ("version", &case.version.to_string()),
                ("return_to", "lead"),
            ],
        )
        .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER);
    assert_eq!(
        assigned.location(),
        format!("/console/lead?assigned={id}&to=associate")
    );
    let case = app
        .store
        .case(warden_domain::CaseId(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.assignee.as_deref(), Some("associate"));
    let team = lead.get(&assigned.location()).await;
    assert!(team.has(&format!("Case {id} is handed to associate.")));
    // A stale version from an old page is refused and said so.
    let stale = lead
        .post(
            &format!("/console/cases/{id}/release"),
            &team,
            &[("version", "1"), ("return_to", "lead")],
        )
        .await;
    assert_eq!(stale.location(), "/console/lead?problem=conflict");
    let shown = lead.get(&stale.location()).await;
    assert!(shown.has("the case changed since the page was loaded"));
    // Notices come from codes, never from text in the link.
    let crafted = lead
        .get("/console/lead?problem=Your+session+expired%2C+sign+in+at+evil.example&assigned=1&to=evil.example")
        .await;
    assert!(!crafted.has("evil.example"));
    let crafted = lead
        .get("/console/queues/general?problem=evil.example&escalated=1&to=evil.example")
        .await;
    assert!(!crafted.has("evil.example"));
    let released = lead
        .post(
            &format!("/console/cases/{id}/release"),
            &team,
            &[
                ("version", &case.version.to_string()),
                ("return_to", "lead"),
            ],
        )
        .await;
    assert_eq!(released.location(), format!("/console/lead?released={id}"));
    let case = app
        .store
        .case(warden_domain::CaseId(id))
        .await
        .unwrap()
        .unwrap();
    assert!(case.assignee.is_none());
}

#[tokio::test]
async fn admins_manage_users_and_see_a_token_once() {
    let app = TestApp::new().await;
    let mut admin = Browser::sign_in(&app, "admin").await;
    let users = admin.get("/console/admin/users").await;
    assert!(users.has("What each role may do"));
    let short = admin
        .post(
            "/console/admin/users",
            &users,
            &[("name", "dana"), ("role", "analyst"), ("password", "short")],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.has("must be at least 8 characters"));
    assert!(short.has(r#"value="dana""#));
    let created = admin
        .post(
            "/console/admin/users",
            &short,
            &[
                ("name", "dana"),
                ("role", "analyst"),
                ("password", "long enough pass"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    assert!(created.has("dana can now sign in as analyst."));
    let disabled = admin
        .post("/console/admin/users/dana/disable", &created, &[])
        .await;
    assert!(disabled.has("dana is disabled"));
    assert!(
        app.store
            .user_by_name("dana")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );

    let tokens = admin.get("/console/admin/tokens").await;
    let made = admin
        .post(
            "/console/admin/tokens",
            &tokens,
            &[
                ("user", "admin"),
                ("scope", "ingest"),
                ("name", "platform-ingest"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED);
    let secret = regex::Regex::new(r#"value="(wdn_[^"]+)""#)
        .unwrap()
        .captures(&made.body)
        .unwrap()[1]
        .to_string();
    assert!(made.has("the only time Warden shows it"));
    let listed = admin.get("/console/admin/tokens").await;
    assert!(listed.has("platform-ingest"));
    assert!(!listed.has(&secret), "the secret is shown once");
    let works = app
        .send("POST", "/api/v1/reports", Some(&secret), Some("application/json"),
            json!({"id": "r9", "subject": {"kind": "content", "id": "x"}, "reason": "spam", "source": "user_report"}).to_string().into_bytes())
        .await;
    assert_eq!(works.status, StatusCode::CREATED);
    let id = app
        .store
        .list_tokens(None)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "platform-ingest")
        .unwrap()
        .id;
    let revoked = admin
        .post(&format!("/console/admin/tokens/{id}/revoke"), &listed, &[])
        .await;
    assert!(revoked.has("Token platform-ingest is revoked."));
    let queues = admin.get("/console/admin/queues").await;
    assert!(queues.has("SLA targets"));
}

#[tokio::test]
async fn preferences_are_a_validated_cookie_that_styles_every_page() {
    let app = TestApp::new().await;
    let mut browser = Browser::sign_in(&app, "analyst").await;
    let home = browser.get("/console").await;
    assert!(
        home.has(r#"class="blur-strong grey theme-auto""#),
        "wellness defaults"
    );
    let page = browser.get("/console/preferences").await;
    let saved = browser
        .post(
            "/console/preferences",
            &page,
            &[("blur", "light"), ("theme", "dark")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    assert_eq!(browser.cookie("warden_prefs"), Some("light.0.0.dark"));
    let home = browser.get("/console").await;
    assert!(home.has(r#"class="blur-light colour theme-dark""#));
    // A tampered cookie falls back to the safe defaults.
    browser.cookies.retain(|(n, _)| n != "warden_prefs");
    browser
        .cookies
        .push(("warden_prefs".into(), "<script>.x.1.<x>".into()));
    let home = browser.get("/console").await;
    assert!(home.has(r#"class="blur-strong grey theme-auto""#));
}

#[tokio::test]
async fn static_files_and_media_stand_ins_are_served_safely() {
    let app = TestApp::new().await;
    let case = reported_post(&app, "p1", "hello", "spam").await;
    let mut anonymous = Browser::new(&app);
    let css = anonymous.get("/console/static/console.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert!(css.headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let js = anonymous.get("/console/static/console.js").await;
    assert!(js.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(
        anonymous
            .get(&format!("/console/cases/{case}/media/0"))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let mut browser = Browser::sign_in(&app, "qa").await;
    let media = browser.get(&format!("/console/cases/{case}/media/0")).await;
    assert_eq!(media.status, StatusCode::OK);
    assert_eq!(media.headers[header::CONTENT_TYPE], "image/svg+xml");
    assert!(media.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert!(media.body.starts_with("<svg") && !media.body.contains("<script"));
    assert_eq!(
        browser
            .get(&format!("/console/cases/{case}/media/5"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // QA reads cases but cannot work them: the page says so, without a form.
    let page = browser.get(&format!("/console/cases/{case}")).await;
    assert!(page.has("Your role reads cases but does not decide them."));
    assert!(!page.has("Submit decision"));
}

#[tokio::test]
async fn home_lists_cases_at_risk_and_work_done_today() {
    let app = TestApp::new().await;
    reported_post(&app, "p1", "hello", "spam").await;
    // Spam is low severity: seven days to resolve; at risk in the last fifth.
    app.clock.advance(chrono::Duration::days(6));
    let mut browser = Browser::sign_in(&app, "analyst").await;
    let home = browser.get("/console").await;
    assert!(home.has("At risk of breaching SLA"));
    assert!(home.has("sla-at_risk"), "{}", home.body);
    let started = browser
        .post("/console/queues/general/start", &home, &[])
        .await;
    let page = browser.get(&started.location()).await;
    let id: i64 = started
        .location()
        .trim_start_matches("/console/cases/")
        .parse()
        .unwrap();
    let version = app
        .store
        .case(warden_domain::CaseId(id))
        .await
        .unwrap()
        .unwrap()
        .version;
    browser
        .post(
            &format!("/console/cases/{id}/decision"),
            &page,
            &[
                ("version", &version.to_string()),
                ("violation", "no"),
                ("category", "spam"),
                ("r_what_happened", "fine"),
                ("r_policy", "spam policy"),
            ],
        )
        .await;
    let home = browser.get("/console").await;
    assert!(
        home.has("<strong>1</strong> decisions (0 violations)"),
        "{}",
        home.body
    );
    assert!(home.has(&format!("Case {id}</a>: no violation")));
}

/// The API's decision body for `version` with `actions` and a rationale.
fn api_decision(version: i64, actions: serde_json::Value) -> serde_json::Value {
    json!({"version": version, "violation": true, "category": "spam", "actions": actions,
           "rationale": {"what_happened": "posted a scam link 40 times", "evidence": "posts 1-40",
                         "policy": "spam 2.1", "action": "a ring: beyond the matrix", "next_steps": ""}})
}

async fn decide_via_api(app: &TestApp, role: Role, actions: serde_json::Value) -> i64 {
    let id = claim_via_api(app, role).await;
    let case = app
        .store
        .case(warden_domain::CaseId(id))
        .await
        .unwrap()
        .unwrap();
    let decided = app
        .post(
            &format!("/api/v1/cases/{id}/decision"),
            app.token(role),
            api_decision(case.version, actions),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    id
}

#[tokio::test]
async fn admins_see_dead_letters_and_replay_them() {
    let app = TestApp::new().await;
    reported_post(&app, "p1", "spam", "spam").await;
    decide_via_api(&app, Role::Analyst, json!([{"type": "remove_content"}])).await;
    let now = app.clock.now();
    let jobs = app
        .store
        .claim_deliveries("test", 10, chrono::Duration::seconds(60), now)
        .await
        .unwrap();
    assert!(!jobs.is_empty());
    let dead = jobs[0].id;
    app.store
        .finish_deliveries(
            vec![warden_store::DeliveryOutcome {
                id: dead,
                result: warden_store::DeliveryResult::Failed {
                    error: "connection refused by platform.example".into(),
                    status_code: Some(503),
                    retry_at: None,
                },
            }],
            now,
        )
        .await
        .unwrap();

    for role in ["analyst", "associate"] {
        let mut other = Browser::sign_in(&app, role).await;
        let home = other.get("/console").await;
        assert!(!home.has(r#"href="/console/admin/deliveries""#));
        let page = other.get("/console/admin/deliveries").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{role}");
        let refused = other
            .post(
                &format!("/console/admin/deliveries/{dead}/replay"),
                &home,
                &[],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role}");
    }

    let mut admin = Browser::sign_in(&app, "admin").await;
    let home = admin.get("/console").await;
    assert!(home.has(r#"href="/console/admin/deliveries""#));
    let page = admin.get("/console/admin/deliveries").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("Dead letters"));
    assert!(page.has("connection refused by platform.example"));
    assert!(page.has("<code>remove_content</code>"), "{}", page.body);
    assert!(page.has(&format!(
        r#"action="/console/admin/deliveries/{dead}/replay""#
    )));
    // Without the form's CSRF token nothing is replayed.
    let forged = admin
        .send(
            "POST",
            &format!("/console/admin/deliveries/{dead}/replay"),
            Some(vec![]),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let replayed = admin
        .post(
            &format!("/console/admin/deliveries/{dead}/replay"),
            &page,
            &[],
        )
        .await;
    assert_eq!(replayed.status, StatusCode::SEE_OTHER, "{}", replayed.body);
    assert_eq!(
        replayed.location(),
        format!("/console/admin/deliveries?replayed={dead}")
    );
    let after = admin.get(&replayed.location()).await;
    assert!(after.has(&format!("Delivery {dead} is queued to be sent again.")));
    assert!(!after.has("connection refused by platform.example"));
    let rows = app
        .store
        .list_deliveries(&warden_store::DeliveryFilter {
            statuses: Vec::new(),
            action_id: None,
            after_id: 0,
            limit: 100,
        })
        .await
        .unwrap();
    let row = rows.iter().find(|r| r.id == dead).unwrap();
    assert_eq!(row.status, "pending");
    assert_eq!(row.attempts, 0);
    // Replaying it again is refused and said so.
    let again = admin
        .post(
            &format!("/console/admin/deliveries/{dead}/replay"),
            &page,
            &[],
        )
        .await;
    assert_eq!(
        again.location(),
        "/console/admin/deliveries?problem=conflict"
    );
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|a| a.contains("replay")));
}

#[tokio::test]
async fn leads_approve_waiting_actions_but_never_their_own() {
    let app = TestApp::new().await;
    reported_post(&app, "p1", "spam", "spam").await;
    reported_post(&app, "p2", "spam", "spam").await;
    let analysts_case = decide_via_api(
        &app,
        Role::Analyst,
        json!([{"type": "remove_content"}, {"type": "suspend", "duration": "P7D"}]),
    )
    .await;
    let leads_case = decide_via_api(&app, Role::Lead, json!([{"type": "ban"}])).await;
    let waiting = app.store.pending_approvals(10).await.unwrap();
    let suspend = waiting
        .iter()
        .find(|d| d.case_id.0 == analysts_case)
        .unwrap()
        .action
        .id;
    let ban = waiting
        .iter()
        .find(|d| d.case_id.0 == leads_case)
        .unwrap()
        .action
        .id;

    for role in ["analyst", "admin"] {
        let mut other = Browser::sign_in(&app, role).await;
        let home = other.get("/console").await;
        assert!(!home.has(r#"href="/console/approvals""#));
        assert_eq!(
            other.get("/console/approvals").await.status,
            StatusCode::FORBIDDEN,
            "{role}"
        );
        let refused = other
            .post(
                &format!("/console/approvals/{suspend}/approve"),
                &home,
                &[("reason", "looks right")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role}");
    }

    let mut lead = Browser::sign_in(&app, "lead").await;
    let home = lead.get("/console").await;
    assert!(home.has(r#"href="/console/approvals""#));
    let page = lead.get("/console/approvals").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has(&format!(r#"href="/console/cases/{analysts_case}""#)));
    assert!(page.has("Suspend the account for 7 d"), "{}", page.body);
    assert!(page.has("Ordered by</dt><dd>analyst"));
    assert!(page.has("Why it needs approval:</strong> "));
    assert!(page.has("a ring: beyond the matrix"));

    // A reason is required; the refusal says so and nothing changes.
    let no_reason = lead
        .post(
            &format!("/console/approvals/{suspend}/approve"),
            &page,
            &[("reason", "  ")],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.has("give a reason"));
    // One's own action: refused plainly, the reason typed kept.
    let own = lead
        .post(
            &format!("/console/approvals/{ban}/approve"),
            &page,
            &[("reason", "I am sure")],
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.body);
    assert!(
        own.has(&format!(
            "You ordered action {ban}; another lead must approve it. Nothing was changed."
        )),
        "{}",
        own.body
    );
    assert!(own.has(">I am sure</textarea>"));
    let detail = app.store.action_detail(ban).await.unwrap().unwrap();
    assert_eq!(detail.action.status, "pending_approval");

    let approved = lead
        .post(
            &format!("/console/approvals/{suspend}/approve"),
            &page,
            &[("reason", "ring confirmed")],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    assert_eq!(
        approved.location(),
        format!("/console/approvals?approved={suspend}")
    );
    let after = lead.get(&approved.location()).await;
    assert!(after.has(&format!("Action {suspend} is approved")));
    assert!(!after.has(&format!(r#"action="/console/approvals/{suspend}/approve""#)));
    let detail = app.store.action_detail(suspend).await.unwrap().unwrap();
    assert_eq!(detail.action.status, "pending");
    let ruling = detail.approval.unwrap();
    assert!(ruling.approved);
    assert_eq!(ruling.by, "lead");
    assert_eq!(ruling.note, "ring confirmed");
}

#[tokio::test]
async fn the_case_page_shows_the_recommendation_and_sends_the_override_reason() {
    let app = TestApp::new().await;
    let id = reported_post(&app, "p1", "spam", "spam").await;
    let mut analyst = Browser::sign_in(&app, "analyst").await;
    let queue = analyst.get("/console/queues/general").await;
    let started = analyst
        .post("/console/queues/general/start", &queue, &[])
        .await;
    assert_eq!(started.location(), format!("/console/cases/{id}"));
    let page = analyst.get(&started.location()).await;
    assert!(page.has("The matrix recommends"), "{}", page.body);
    assert!(
        page.has("Remove content, Warn the account"),
        "{}",
        page.body
    );
    assert!(page.has("Account account/owner_p1: prior active strike weight 0."));
    assert!(page.has(r#"name="override_reason""#));
    let recommended = app
        .get(
            &format!("/api/v1/cases/{id}/recommendation"),
            app.token(Role::Analyst),
        )
        .await;
    assert_eq!(recommended.body["prior_strike_weight"], 0);
    // A qa reader sees the case but not the decision form or recommendation.
    let mut qa = Browser::sign_in(&app, "qa").await;
    let read = qa.get(&format!("/console/cases/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(!read.has("The matrix recommends"));

    let version = regex::Regex::new(r#"name="version" value="(\d+)""#)
        .unwrap()
        .captures(&page.body)
        .unwrap()[1]
        .to_string();
    let mut fields = vec![
        ("version", version.as_str()),
        ("violation", "yes"),
        ("category", "spam"),
        ("a_remove_content", "on"),
        ("a_suspend", "on"),
        ("suspend_duration", "P7D"),
        ("r_what_happened", "Selling followers"),
        ("override_reason", "Part of a ring of 40 accounts"),
    ];
    // Incomplete: the page comes back with the override reason kept and
    // the ticked actions assessed.
    let incomplete = analyst
        .post(&format!("/console/cases/{id}/decision"), &page, &fields)
        .await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(incomplete.has(">Part of a ring of 40 accounts</textarea>"));
    assert!(
        incomplete.has("Suspend the account: <strong>needs a lead's approval</strong>"),
        "{}",
        incomplete.body
    );
    assert!(incomplete.has("Remove content: standard"));
    fields.extend([
        ("r_evidence", "Link to a follower shop"),
        ("r_policy", "Spam policy 2.1"),
        ("r_action", "Removal and a week's suspension"),
    ]);
    let decided = analyst
        .post(
            &format!("/console/cases/{id}/decision"),
            &incomplete,
            &fields,
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
    let shown = app
        .get(&format!("/api/v1/cases/{id}"), app.token(Role::Lead))
        .await;
    let decision = &shown.body["decisions"][0];
    assert_eq!(
        decision["enforcement"]["override_reason"], "Part of a ring of 40 accounts",
        "{decision}"
    );
    assert_eq!(decision["actions"][1]["status"], "pending_approval");
}

#[tokio::test]
async fn a_qa_reviewer_works_the_qa_queue_blind_and_the_decider_acknowledges() {
    let app = TestApp::new().await;
    reported_post(&app, "p1", "hello", "spam").await;
    let decided = decide_via_api(&app, Role::Analyst, json!([{"type": "remove_content"}])).await;
    let lead = app.token(Role::Lead);
    let plan = json!({"name": "all", "seed": 1, "rate": 1.0});
    assert_eq!(
        app.post("/api/v1/qa/plans", lead, plan).await.status,
        StatusCode::OK
    );
    app.post("/api/v1/qa/sample", lead, json!({})).await;
    let mut qa = Browser::sign_in(&app, "qa").await;
    let home = qa.get("/console/qa").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.has("Review the next sampled decision"));
    let claimed = qa.post("/console/qa/claim", &home, &[]).await;
    assert_eq!(claimed.status, StatusCode::SEE_OTHER, "{}", claimed.body);
    let page = qa.get(&claimed.location()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("Your verdict"));
    assert!(
        !page.has("posted a scam link"),
        "the rationale before the verdict"
    );
    assert!(!page.has("Original ("), "the decider before the verdict");
    // The case page is blind too.
    let case = qa.get(&format!("/console/cases/{decided}")).await;
    assert!(!case.has("posted a scam link"), "{}", case.body);
    let review = claimed.location();
    let id = review.trim_start_matches("/console/qa/reviews/");
    let after = qa
        .post(
            &format!("/console/qa/reviews/{id}/verdict"),
            &page,
            &[("violation", "no"), ("category", "spam")],
        )
        .await;
    assert_eq!(after.location(), review);
    let compared = qa.get(&review).await;
    assert!(compared.has("Original (analyst)"), "{}", compared.body);
    assert!(compared.has("posted a scam link"));
    assert!(compared.has("differs"));
    let scored = qa
        .post(
            &format!("/console/qa/reviews/{id}/score"),
            &compared,
            &[
                ("decision_correct", "no"),
                ("category_correct", "yes"),
                ("action_proportionate", "no"),
                ("documentation", "3"),
                ("feedback", "Quoting is not spam."),
            ],
        )
        .await;
    assert_eq!(scored.location(), format!("/console/qa?scored={id}"));
    let qa_home = qa.get("/console/qa").await;
    assert!(qa_home.has("Quoting is not spam."));
    assert!(qa_home.has("QA pass rate by week"));
    let mut analyst = Browser::sign_in(&app, "analyst").await;
    let home = analyst.get("/console").await;
    assert!(home.has("QA feedback on your decisions"), "{}", home.body);
    assert!(home.has("sent back for rework"));
    let done = analyst
        .post(&format!("/console/qa/reviews/{id}/acknowledge"), &home, &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(!analyst
        .get("/console")
        .await
        .has("QA feedback on your decisions"));
}

#[tokio::test]
async fn raters_rate_blind_in_the_console_and_the_closed_session_shows_kappa_and_alpha() {
    let app = TestApp::new().await;
    let mut cases = Vec::new();
    for post in ["p1", "p2", "p3"] {
        cases.push(reported_post(&app, post, "hello", "spam").await);
    }
    let created = app
        .post(
            "/api/v1/calibration/sessions",
            app.token(Role::Qa),
            json!({"title": "Spam lines", "case_ids": cases, "raters": ["analyst", "lead", "qa"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let path = format!("/console/calibration/{id}");
    for (rater, labels) in [
        ("analyst", ["spam", "spam", "scam"]),
        ("lead", ["spam", "scam", "scam"]),
        ("qa", ["spam", "spam", "spam"]),
    ] {
        let mut browser = Browser::sign_in(&app, rater).await;
        for (case, label) in cases.iter().zip(labels) {
            let page = browser.get(&path).await;
            assert!(page.has("Your ratings"), "{}", page.body);
            assert!(!page.has("Report"), "no report while open");
            let done = browser
                .post(
                    &format!("{path}/ratings"),
                    &page,
                    &[("case_id", &case.to_string()), ("label", label)],
                )
                .await;
            assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        }
    }
    let mut lead = Browser::sign_in(&app, "lead").await;
    let page = lead.get(&path).await;
    let closed = lead.post(&format!("{path}/close"), &page, &[]).await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let report = lead.get(&path).await;
    assert!(
        report.has("Fleiss&#39; kappa") || report.has("Fleiss' kappa"),
        "{}",
        report.body
    );
    assert!(report.has("Krippendorff&#39;s alpha") || report.has("Krippendorff's alpha"));
    assert!(report.has(r#"<dd id="stat-alpha">"#));
    assert!(report.has("Most disputed"));
}

#[tokio::test]
async fn an_appeal_page_shows_both_sides_and_takes_the_outcome() {
    let policy = CasePolicy {
        router: warden_domain::routing::Router::new(vec![
            warden_domain::appeal::appeals_queue_definition(),
        ])
        .unwrap(),
        ..CasePolicy::default()
    };
    let app = TestApp::with_settings(ServerSettings::default(), policy).await;
    reported_post(&app, "p1", "hello", "spam").await;
    let case = decide_via_api(
        &app,
        Role::Analyst,
        json!([{"type": "remove_content"}, {"type": "warn"}]),
    )
    .await;
    let decided = app
        .get(&format!("/api/v1/cases/{case}"), app.token(Role::Lead))
        .await;
    let decision = decided.body["decisions"][0]["id"].as_i64().unwrap();
    app.clock.advance(chrono::Duration::hours(1));
    let appeal = app
        .ingest(
            "/api/v1/appeals",
            json!({"id": "apl_1", "decision_id": decision,
                   "appellant": {"kind": "account", "id": "owner_p1"},
                   "statement": "It was <b>a quote</b>; mail me at sam.owner@example.com"}),
        )
        .await;
    assert_eq!(appeal.status, StatusCode::CREATED, "{}", appeal.body);
    let appeal_case = appeal.body["case_id"].as_i64().unwrap();

    // The decider sees the page and why they may not decide it.
    let mut analyst = Browser::sign_in(&app, "analyst").await;
    let refused = analyst.get(&format!("/console/cases/{appeal_case}")).await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused.has("you made the decision under appeal"),
        "{}",
        refused.body
    );
    let version = |page: &Page| {
        regex::Regex::new(r#"name="version" value="(\d+)""#)
            .unwrap()
            .captures(&page.body)
            .unwrap()[1]
            .to_string()
    };
    let seen = version(&refused);
    let posted = analyst
        .post(
            &format!("/console/cases/{appeal_case}/appeal"),
            &refused,
            &[
                ("version", &seen),
                ("outcome", "overturned"),
                ("r_what_happened", "mine"),
                ("r_policy", "spam"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN, "{}", posted.body);

    // The lead claims it and sees both sides, the statement escaped and masked.
    let mut lead = Browser::sign_in(&app, "lead").await;
    let home = lead.get("/console").await;
    let started = lead.post("/console/queues/appeals/start", &home, &[]).await;
    assert_eq!(started.location(), format!("/console/cases/{appeal_case}"));
    let page = lead.get(&started.location()).await;
    assert!(page.has("The decision appealed"));
    assert!(page.has("The appeal"));
    assert!(page.has("posted a scam link 40 times"));
    assert!(page.has("&#60;b&#62;a quote&#60;/b&#62;"), "{}", page.body);
    assert!(!page.has("sam.owner@example.com"));
    let seen = version(&page);
    // A missing outcome is marked on the form, what was typed kept.
    let missing = lead
        .post(
            &format!("/console/cases/{appeal_case}/appeal"),
            &page,
            &[
                ("version", &seen),
                ("r_what_happened", "a quote, not spam"),
                ("r_policy", "spam 2.1"),
            ],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.has(">a quote, not spam</textarea>"));
    let done = lead
        .post(
            &format!("/console/cases/{appeal_case}/appeal"),
            &missing,
            &[
                ("version", &seen),
                ("outcome", "overturned"),
                ("r_what_happened", "a quote, not spam"),
                ("r_policy", "spam 2.1"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let after = lead.get(&done.location()).await;
    assert!(after.has("Outcome recorded."));
    assert!(after.has("overturned (lead)"));
}

#[tokio::test]
async fn a_lead_creates_a_calibration_session_from_the_form_with_errors_per_field() {
    a_lead_creates_a_calibration_session_from_the_form_with_errors_per_field_on(
        TestApp::new().await,
    )
    .await;
    if let Some(app) = TestApp::postgres().await {
        a_lead_creates_a_calibration_session_from_the_form_with_errors_per_field_on(app).await;
    }
}

async fn a_lead_creates_a_calibration_session_from_the_form_with_errors_per_field_on(app: TestApp) {
    let first = reported_post(&app, "p1", "hello", "spam").await;
    let second = reported_post(&app, "p2", "hello", "spam").await;
    // Analysts do not organize calibration.
    let mut analyst = Browser::sign_in(&app, "analyst").await;
    let refused = analyst.get("/console/calibration/new").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let mut lead = Browser::sign_in(&app, "lead").await;
    let plan = json!({"name": "weekly", "seed": 1, "rate": 0.5});
    let saved = app
        .post("/api/v1/qa/plans", app.token(Role::Lead), plan)
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let home = lead.get("/console/qa?by=category").await;
    assert!(home.has("How this is counted") && home.has("expected weekly load:"));
    assert!(home.has("Per category and week"), "{}", home.body);
    assert!(
        home.has(r#"href="/console/calibration/new""#),
        "{}",
        home.body
    );
    assert!(home.has("Sampling plans"));
    let form = lead.get("/console/calibration/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.has(r#"id="rater-analyst""#) && form.has(r#"id="rater-qa""#));

    // What the form itself cannot read, each under its field.
    let unread = lead
        .post(
            "/console/calibration",
            &form,
            &[
                ("title", "Spam lines"),
                ("case_ids", "one, 2"),
                ("seed", "x"),
                ("rater", "qa"),
            ],
        )
        .await;
    assert_eq!(unread.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unread.has(r#"id="error-case_ids""#), "{}", unread.body);
    assert!(
        unread.has("one&#34; is not a case id") || unread.has("one&quot; is not a case id"),
        "{}",
        unread.body
    );
    assert!(unread.has(r#"id="error-seed""#));
    assert!(
        unread.has(r#"value="Spam lines""#),
        "the form keeps what was typed"
    );

    // What the session refuses: no title, a single rater.
    let refused = lead
        .post(
            "/console/calibration",
            &unread,
            &[
                ("title", ""),
                ("case_ids", &format!("{first}, {second}")),
                ("rater", "qa"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.has(r#"id="error-title""#), "{}", refused.body);
    assert!(refused.has(r#"id="error-raters""#), "{}", refused.body);
    assert!(refused.has(r#"id="rater-qa" name="rater" value="qa" checked"#));

    // A case nobody has, and both ways of choosing cases at once.
    let missing = lead
        .post(
            "/console/calibration",
            &refused,
            &[
                ("title", "Spam lines"),
                ("case_ids", &format!("{first}, 999999")),
                ("rater", "qa"),
                ("rater", "analyst"),
            ],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.has("case 999999 not found"), "{}", missing.body);
    let both = lead
        .post(
            "/console/calibration",
            &missing,
            &[
                ("title", "Spam lines"),
                ("case_ids", &first.to_string()),
                ("sample_count", "2"),
                ("rater", "qa"),
                ("rater", "analyst"),
            ],
        )
        .await;
    assert!(both.has("not both"), "{}", both.body);

    // Sampling needs decided cases of the queue and category.
    let sample = [
        ("title", "Sampled spam"),
        ("sample_count", "1"),
        ("sample_queue", "general"),
        ("sample_category", "spam"),
        ("seed", "7"),
        ("rater", "qa"),
        ("rater", "analyst"),
        ("rater", "lead"),
    ];
    let none = lead.post("/console/calibration", &both, &sample).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.has(r#"id="error-sample_count""#), "{}", none.body);
    let unknown = lead
        .post(
            "/console/calibration",
            &none,
            &[
                ("title", "Sampled"),
                ("sample_count", "1"),
                ("sample_queue", "nowhere"),
                ("rater", "qa"),
                ("rater", "analyst"),
            ],
        )
        .await;
    assert!(
        unknown.has(r#"id="error-sample_queue""#),
        "{}",
        unknown.body
    );
    let decided = decide_via_api(&app, Role::Analyst, json!([{"type": "remove_content"}])).await;
    let sampled = lead.post("/console/calibration", &unknown, &sample).await;
    assert_eq!(sampled.status, StatusCode::SEE_OTHER, "{}", sampled.body);
    let page = lead.get(&sampled.location()).await;
    assert!(page.has("Sampled spam"), "{}", page.body);
    assert!(
        page.has(&format!(r#"id="label-{decided}""#)),
        "{}",
        page.body
    );

    // Picked by id.
    let picked = lead
        .post(
            "/console/calibration",
            &form,
            &[
                ("title", "Picked spam"),
                ("case_ids", &format!("{first} {second}")),
                ("rater", "qa"),
                ("rater", "lead"),
            ],
        )
        .await;
    assert_eq!(picked.status, StatusCode::SEE_OTHER, "{}", picked.body);
    let id: i64 = picked
        .location()
        .trim_start_matches("/console/calibration/")
        .parse()
        .unwrap();
    let session = app
        .get(
            &format!("/api/v1/calibration/sessions/{id}"),
            app.token(Role::Lead),
        )
        .await;
    assert_eq!(
        session.body["case_ids"],
        json!([first, second]),
        "{}",
        session.body
    );
    assert_eq!(session.body["raters"], json!(["qa", "lead"]));
}

#[tokio::test]
async fn a_lead_dry_runs_submits_and_another_lead_approves_a_bulk_action_in_the_console() {
    let app = TestApp::new().await;
    app.user_token("lou", Role::Lead).await;
    let mut cases = Vec::new();
    for n in 0..3 {
        cases.push(reported_post(&app, &format!("wave_{n}"), "cheap followers", "spam").await);
    }
    let lead_token = app.token(Role::Lead).to_string();
    let created = app
        .post(
            "/api/v1/incidents",
            &lead_token,
            json!({"title": "Console wave", "severity": "sev3"}),
        )
        .await;
    let id = created.body["id"].as_i64().unwrap();
    let joined = app
        .post(
            &format!("/api/v1/incidents/{id}/cases"),
            &lead_token,
            json!({"case_ids": cases}),
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);

    let mut lead = Browser::sign_in(&app, "lead").await;
    let list = lead.get("/console/incidents").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Console wave"), "{}", list.body);
    let page = lead.get(&format!("/console/incidents/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Dry run"));
    let dry = lead
        .post(
            &format!("/console/incidents/{id}/bulk-actions"),
            &page,
            &[
                ("action_type", "remove_content"),
                ("what_happened", "follower spam wave"),
                ("evidence", "the incident's cases"),
                ("policy", "spam 2.1"),
                ("action", "remove the posts"),
            ],
        )
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert!(
        dry.body.contains("3 cases would be decided"),
        "{}",
        dry.body
    );
    let bulk = app
        .store
        .incident_bulk_actions(warden_domain::incident::IncidentId(id))
        .await
        .unwrap()[0]
        .id
        .0;
    let submitted = lead
        .post(
            &format!("/console/incidents/{id}/bulk-actions/{bulk}/submit"),
            &dry,
            &[],
        )
        .await;
    assert!(
        submitted.body.contains("waits for another lead"),
        "{}",
        submitted.body
    );
    assert!(
        !submitted.body.contains("Approve: decide"),
        "the author sees no approve button"
    );
    // The author's own approval is refused with a page that says why.
    let own = lead
        .post(
            &format!("/console/incidents/{id}/bulk-actions/{bulk}/approve"),
            &submitted,
            &[],
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.body);

    let mut lou = Browser::sign_in(&app, "lou").await;
    let page = lou.get(&format!("/console/incidents/{id}")).await;
    assert!(
        page.body.contains("Approve: decide 3 cases"),
        "{}",
        page.body
    );
    let approved = lou
        .post(
            &format!("/console/incidents/{id}/bulk-actions/{bulk}/approve"),
            &page,
            &[],
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert!(approved.body.contains("is approved"), "{}", approved.body);
}
