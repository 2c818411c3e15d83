//! Browser tests of the analyst console: the real `warden demo` binary on a
//! free port, driven through headless Chromium (Debian's `chromium` and
//! `chromium-driver`). They run when `WARDEN_BROWSER_TESTS=1`, which
//! `.ci/run` sets after installing the browser; otherwise they say so and
//! pass. Screenshots go to `target/screenshots/` for a reviewer to look at.
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

mod dashboard;
mod quality;
mod webdriver;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use webdriver::{key, Browser};

/// Laptop-sized window.
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 860;

fn enabled() -> bool {
    if std::env::var("WARDEN_BROWSER_TESTS").as_deref() == Ok("1") {
        return true;
    }
    eprintln!(
        "browser tests skipped: set WARDEN_BROWSER_TESTS=1 (needs chromium and chromium-driver)"
    );
    false
}

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/screenshots")
        .canonicalize()
        .unwrap_or_else(|_| {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
            std::fs::create_dir_all(&dir).unwrap();
            dir.canonicalize().unwrap()
        })
}

/// A running `warden demo`, with its ingest token.
struct Demo {
    child: Child,
    url: String,
    ingest_token: String,
    _dir: tempfile::TempDir,
}

impl Demo {
    fn start() -> Demo {
        Self::start_with(150)
    }

    fn start_with(accounts: usize) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
            .args([
                "demo",
                "--accounts",
                &accounts.to_string(),
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(dir.path())
            .current_dir(dir.path())
            .env("WARDEN_LOG", "warn")
            .env_remove("WARDEN_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start warden demo");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut url = None;
        let mut token = None;
        let mut token_next = false;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if token_next {
                token = Some(line.trim().to_string());
                token_next = false;
            }
            if line.starts_with("Ingest token") {
                token_next = true;
            }
            if line.contains("listening on") {
                let at = line.find("http://").unwrap();
                url = Some(line[at..].trim().to_string());
            }
            if url.is_some() && token.is_some() {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Demo {
            child,
            url: url.expect("the demo printed its URL"),
            ingest_token: token.expect("the demo printed an ingest token"),
            _dir: dir,
        }
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    }

    async fn ingest(&self, path: &str, body: Value) {
        let answer = Self::client()
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.ingest_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            answer.status().is_success(),
            "{path}: {}",
            answer.text().await.unwrap()
        );
    }

    /// A session cookie for the API, signed in as `name`.
    async fn api_session(&self, name: &str) -> String {
        let answer = Self::client()
            .post(format!("{}/api/v1/session", self.url))
            .json(&json!({"name": name, "password": "demo"}))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success());
        answer.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    }

    async fn api_get(&self, cookie: &str, path: &str) -> Value {
        Self::client()
            .get(format!("{}{path}", self.url))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Two cases of our own in the `general` queue, which the demo leaves
    /// empty: first a post with a picture and a report that tries to inject
    /// script, then a second post.
    async fn seed(&self) {
        self.ingest("/api/v1/subjects", json!({"kind": "account", "id": "browser_owner",
            "attributes": {"display_name": "Rae Quill", "email": "rae.quill@example.com", "ips": ["198.51.100.23"], "country": "NL"}})).await;
        self.ingest("/api/v1/subjects", json!({"kind": "content", "id": "browser_post_1",
            "owner": {"kind": "account", "id": "browser_owner"},
            "text": "Look what I found <b>tonight</b> <script>window.pwned = 'subject'</script>",
            "media": [{"url": "https://cdn.demo.example/img/browser-1.jpg", "mime": "image/jpeg",
                       "sha256": "5f3c0b9a1e6d4c2b8a7f9e0d1c2b3a4958677665544332211ffeeddccbbaa998"}]})).await;
        self.ingest(
            "/api/v1/subjects",
            json!({"kind": "content", "id": "browser_post_2",
            "owner": {"kind": "account", "id": "browser_owner"},
            "text": "Drinking bleach cures the flu, doctors hate this"}),
        )
        .await;
        self.ingest("/api/v1/reports", json!({"id": "browser_rep_1",
            "subject": {"kind": "content", "id": "browser_post_1"}, "reason": "adult_content",
            "source": "user_report", "language": "en",
            "text": "<script>window.pwned = 'report'</script><img src=x onerror=\"window.pwned='img'\"> graphic picture, please remove"})).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.ingest(
            "/api/v1/reports",
            json!({"id": "browser_rep_2",
            "subject": {"kind": "content", "id": "browser_post_2"}, "reason": "misinformation",
            "source": "user_report", "language": "en", "text": "dangerous health advice"}),
        )
        .await;
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn sign_in(browser: &Browser, demo: &Demo, name: &str) {
    browser.goto(&format!("{}/console", demo.url)).await;
    assert!(
        browser.url().await.contains("/console/sign-in"),
        "signed-out visitors go to sign-in"
    );
    let user = browser.find("#name").await;
    browser.type_into(&user, name).await;
    let password = browser.find("#password").await;
    browser.type_into(&password, "demo").await;
    browser.keys(key::ENTER).await;
    browser
        .wait_until("the home page", "return location.pathname === '/console';")
        .await;
}

fn case_id(url: &str) -> i64 {
    url.split("/console/cases/")
        .nth(1)
        .and_then(|rest| rest.split(['?', '#', '/']).next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{url} is not a case page"))
}

#[tokio::test]
async fn an_analyst_reviews_and_decides_with_the_keyboard() {
    if !enabled() {
        return;
    }
    let demo = Demo::start();
    demo.seed().await;
    let shots = screenshots();
    let browser = Browser::start(WIDTH, HEIGHT).await;
    sign_in(&browser, &demo, "analyst").await;
    browser.screenshot(&shots.join("home.png"), false).await;

    // Open the queue from the home page and start reviewing.
    let link = browser.find("a[href='/console/queues/general']").await;
    browser.click(&link).await;
    browser.find("#start-reviewing").await;
    let body = browser.text(&browser.find("main").await).await;
    assert!(body.contains("2 cases"), "{body}");
    browser.screenshot(&shots.join("queue.png"), false).await;
    browser
        .goto(&format!("{}/console/queues/spam", demo.url))
        .await;
    browser.find("table.cases").await;
    browser
        .screenshot(&shots.join("queue-spam.png"), false)
        .await;
    browser
        .goto(&format!("{}/console/queues/general", demo.url))
        .await;
    browser.click(&browser.find("#start-reviewing").await).await;
    browser
        .wait_until(
            "a case page",
            "return location.pathname.startsWith('/console/cases/');",
        )
        .await;
    let first = case_id(&browser.url().await);

    // The picture is blurred and grey until revealed, and the injected
    // markup is text.
    let filter = "return getComputedStyle(document.querySelector('.media img')).filter;";
    let veiled = browser.script(filter).await;
    assert!(
        veiled.as_str().unwrap().contains("blur") && veiled.as_str().unwrap().contains("grayscale"),
        "{veiled}"
    );
    assert_eq!(
        browser.script("return window.pwned === undefined;").await,
        true
    );
    let reports = browser.text(&browser.find("li.report").await).await;
    assert!(
        reports.contains("<script>window.pwned = 'report'</script>"),
        "{reports}"
    );
    browser.screenshot(&shots.join("case.png"), false).await;
    browser.screenshot(&shots.join("case-full.png"), true).await;
    browser.click(&browser.find(".reveal-label").await).await;
    browser
        .wait_until(
            "the picture to be revealed",
            "return getComputedStyle(document.querySelector('.media img')).filter === 'none';",
        )
        .await;
    browser
        .screenshot(&shots.join("case-revealed.png"), false)
        .await;
    // `v` blurs it again from the keyboard.
    browser.keys("v").await;
    browser
        .wait_until(
            "the picture to be blurred again",
            "return getComputedStyle(document.querySelector('.media img')).filter !== 'none';",
        )
        .await;

    // The shortcut sheet.
    browser.keys("?").await;
    browser
        .wait_until(
            "the shortcut sheet",
            "return document.getElementById('shortcuts').open;",
        )
        .await;
    browser
        .screenshot(&shots.join("shortcuts.png"), false)
        .await;
    browser.keys(key::ESCAPE).await;
    browser
        .wait_until(
            "the sheet to close",
            "return !document.getElementById('shortcuts').open;",
        )
        .await;

    // A note in the structured template.
    browser.keys("c").await;
    browser
        .keys("Graphic picture reported by one user; no prior cases.")
        .await;
    browser.keys(key::TAB).await;
    browser.keys("Picture in the post; reporter's note.").await;
    browser.click(&browser.find("#add-note").await).await;
    browser
        .wait_until(
            "the note",
            "return document.body.innerText.includes('Note added.');",
        )
        .await;
    assert_eq!(case_id(&browser.url().await), first);

    // Decide with the keyboard only: leave any field, `r` (violation,
    // remove), the rationale, then Ctrl+Shift+Enter (submit and next).
    browser.keys(key::ESCAPE).await;
    browser
        .script("document.activeElement.blur(); return true;")
        .await;
    browser.keys("r").await;
    browser
        .wait_until(
            "the rationale to have the focus",
            "return document.activeElement.id === 'f-r_what_happened';",
        )
        .await;
    browser.keys("Graphic adult picture in a public post").await;
    browser.keys(key::TAB).await;
    browser.keys("The attached image; the report").await;
    browser.keys(key::TAB).await;
    browser
        .keys("Adult content policy 1.2: no graphic imagery in public posts")
        .await;
    browser.keys(key::TAB).await;
    browser.keys("Removal only: first offence").await;
    assert_eq!(
        browser.script("return document.getElementById('f-a_remove_content').checked && document.getElementById('f-violation-yes').checked;").await,
        true
    );
    browser.chord(&[key::CONTROL, key::SHIFT], key::ENTER).await;
    browser
        .wait_until(
            "the next case",
            &format!("return location.pathname.startsWith('/console/cases/') && location.pathname !== '/console/cases/{first}';"),
        )
        .await;
    let second = case_id(&browser.url().await);
    let notice = browser.text(&browser.find(".notice").await).await;
    assert!(
        notice.contains(&format!("Case {first} is decided")),
        "{notice}"
    );
    browser
        .screenshot(&shots.join("case-next.png"), false)
        .await;

    // Through the API: the decision and its audit records exist.
    let lead = demo.api_session("lead").await;
    let case = demo.api_get(&lead, &format!("/api/v1/cases/{first}")).await;
    assert_eq!(case["status"], "resolved", "{case}");
    assert_eq!(case["decisions"][0]["violation"], true);
    assert_eq!(case["decisions"][0]["decided_by"], "analyst");
    assert_eq!(case["decisions"][0]["actions"][0]["type"], "remove_content");
    assert_eq!(
        case["decisions"][0]["rationale"]["policy"],
        "Adult content policy 1.2: no graphic imagery in public posts"
    );
    assert_eq!(case["notes"][0]["author"], "analyst");
    let auditor = demo.api_session("auditor").await;
    let mut after = 0;
    let mut seen = Vec::new();
    let first_id = first.to_string();
    loop {
        let page = demo
            .api_get(&auditor, &format!("/api/v1/audit?after={after}&limit=1000"))
            .await;
        let records = page.as_array().unwrap();
        if records.is_empty() {
            break;
        }
        for record in records {
            after = record["seq"].as_i64().unwrap();
            if record["actor"] == "analyst" && record["target_id"] == first_id.as_str() {
                seen.push(record["action"].as_str().unwrap().to_string());
            }
        }
    }
    for action in ["case.claim", "case.read", "case.note", "case.decide"] {
        assert!(
            seen.iter().any(|a| a == action),
            "{action} audited: {seen:?}"
        );
    }
    let next = demo
        .api_get(&lead, &format!("/api/v1/cases/{second}"))
        .await;
    assert_eq!(
        next["assignee"], "analyst",
        "the next case is claimed for the analyst"
    );
}

#[tokio::test]
async fn an_associate_cannot_open_admin_pages_and_injected_script_stays_text() {
    if !enabled() {
        return;
    }
    let demo = Demo::start();
    demo.seed().await;
    let shots = screenshots();
    let browser = Browser::start(WIDTH, HEIGHT).await;
    sign_in(&browser, &demo, "associate").await;
    let nav = browser.text(&browser.find("nav.nav").await).await;
    assert!(!nav.contains("Users"), "{nav}");
    browser
        .goto(&format!("{}/console/admin/users", demo.url))
        .await;
    let main = browser.text(&browser.find("main").await).await;
    assert!(
        main.contains("You do not have access to this page"),
        "{main}"
    );
    assert!(!main.contains("Add a user"));
    browser
        .screenshot(&shots.join("forbidden.png"), false)
        .await;

    let lead = demo.api_session("lead").await;
    let list = demo
        .api_get(
            &lead,
            "/api/v1/cases?subject_kind=content&subject_id=browser_post_1",
        )
        .await;
    let id = list["cases"][0]["id"].as_i64().unwrap();
    browser
        .goto(&format!("{}/console/cases/{id}", demo.url))
        .await;
    browser.find("li.report").await;
    assert_eq!(
        browser.script("return window.pwned === undefined;").await,
        true
    );
    assert_eq!(
        browser
            .script("return document.querySelectorAll('script:not([src])').length;")
            .await,
        0
    );
    assert_eq!(
        browser
            .script("return document.querySelectorAll('main img[src=\"x\"], main b').length;")
            .await,
        0,
        "no injected element exists"
    );
    let subject = browser.text(&browser.find(".platform-text").await).await;
    assert!(
        subject.contains("<b>tonight</b> <script>window.pwned = 'subject'</script>"),
        "{subject}"
    );
    let report = browser.text(&browser.find("li.report").await).await;
    assert!(
        report.contains("<img src=x onerror=\"window.pwned='img'\">"),
        "{report}"
    );
    // Associates see personal data masked and cannot reveal it.
    let account = browser.text(&browser.find("section.account").await).await;
    assert!(
        !account.contains("rae.quill@example.com") && account.contains("[masked]"),
        "{account}"
    );
    browser
        .screenshot(&shots.join("case-associate.png"), false)
        .await;

    // The dark theme, chosen in the preferences, is readable too.
    browser
        .goto(&format!("{}/console/preferences", demo.url))
        .await;
    browser
        .click(&browser.find("input[name='theme'][value='dark']").await)
        .await;
    browser
        .click(&browser.find("main form button[type='submit']").await)
        .await;
    browser
        .wait_until(
            "the dark theme",
            "return document.body.classList.contains('theme-dark');",
        )
        .await;
    browser
        .goto(&format!("{}/console/cases/{id}", demo.url))
        .await;
    browser.find("li.report").await;
    browser
        .screenshot(&shots.join("case-dark.png"), false)
        .await;
}

#[tokio::test]
async fn a_spam_case_shows_the_classifier_score_and_what_drove_it() {
    if !enabled() {
        return;
    }
    // The demo trains its spam classifier from its analyst's decisions;
    // at 1,000 accounts it has enough of them.
    let demo = Demo::start_with(1_000);
    let lead = demo.api_session("lead").await;
    let list = demo
        .api_get(&lead, "/api/v1/cases?queue=spam&status=new&limit=200")
        .await;
    let id = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "spam" && c["subject"]["kind"] == "content")
        .and_then(|c| c["id"].as_i64())
        .expect("an open spam case about a post");
    let browser = Browser::start(WIDTH, HEIGHT).await;
    sign_in(&browser, &demo, "analyst").await;
    browser
        .goto(&format!("{}/console/cases/{id}", demo.url))
        .await;
    let panel = browser.text(&browser.find("#classifier-score").await).await;
    assert!(panel.contains("Classifier score"), "{panel}");
    assert!(panel.contains("spam v"), "{panel}");
    assert!(panel.contains("What drove it"), "{panel}");
    assert!(
        browser
            .script("return document.querySelectorAll('#classifier-score tbody tr').length;")
            .await
            .as_i64()
            .unwrap_or(0)
            > 0
    );
    browser
        .screenshot(&screenshots().join("classifier-score.png"), false)
        .await;
}

#[tokio::test]
async fn a_lead_works_an_appeal_with_the_keyboard() {
    if !enabled() {
        return;
    }
    // The demo appeals a few of the demo analyst's decisions.
    let demo = Demo::start();
    let shots = screenshots();
    let browser = Browser::start(WIDTH, HEIGHT).await;
    sign_in(&browser, &demo, "lead").await;
    browser
        .goto(&format!("{}/console/queues/appeals", demo.url))
        .await;
    browser
        .script("document.getElementById('start-reviewing').focus(); return true;")
        .await;
    browser.keys(key::ENTER).await;
    browser
        .wait_until(
            "an appeal case page",
            "return location.pathname.startsWith('/console/cases/') && !!document.getElementById('side-by-side');",
        )
        .await;
    let case = case_id(&browser.url().await);
    let original = browser.text(&browser.find("#original").await).await;
    assert!(original.contains("analyst"), "{original}");
    let appeal = browser.text(&browser.find("#appeal").await).await;
    assert!(appeal.contains("a joke between friends"), "{appeal}");
    browser.screenshot(&shots.join("appeal.png"), false).await;

    // Overturn it from the keyboard: the radio, then the reasons, then Ctrl+Enter.
    browser
        .script("document.getElementById('f-outcome-overturned').focus(); return true;")
        .await;
    browser.keys(" ").await;
    browser.keys(key::TAB).await;
    browser.keys(key::TAB).await;
    browser.keys(key::TAB).await;
    browser
        .keys("The post was a joke between friends, not spam.")
        .await;
    browser.keys(key::TAB).await;
    browser
        .keys("spam policy, section 1: jokes are not spam")
        .await;
    browser.chord(&[key::CONTROL], key::ENTER).await;
    browser
        .wait_until(
            "the outcome",
            "return !!document.getElementById('appeal-outcome');",
        )
        .await;
    let outcome = browser.text(&browser.find("#appeal-outcome").await).await;
    assert!(outcome.contains("overturned"), "{outcome}");
    assert_eq!(case_id(&browser.url().await), case);
    browser
        .screenshot(&shots.join("appeal-decided.png"), false)
        .await;

    // The analyst who decided never gets the appeals from the queue.
    let cookie = demo.api_session("analyst").await;
    let listed = demo
        .api_get(&cookie, "/api/v1/cases?queue=appeals&status=new")
        .await;
    assert_eq!(listed["cases"], json!([]), "{listed}");
}
