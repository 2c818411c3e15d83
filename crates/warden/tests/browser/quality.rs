//! QA and calibration in the browser: a QA reviewer works three sampled
//! decisions with the keyboard only (the demo's plan samples every
//! decision of its new analyst), and a calibration session, created in
//! the console's form by keyboard (its errors shown per field first), is
//! rated by three raters, closes and shows kappa and alpha. Screenshots in
//! `target/screenshots/qa-*.png` and `calibration-*.png`.

use serde_json::{json, Value};

use super::webdriver::{key, Browser};
use super::{enabled, screenshots, sign_in, Demo, HEIGHT, WIDTH};

/// A session cookie and its CSRF token for the API, signed in as `name`.
async fn api_session_with_csrf(demo: &Demo, name: &str) -> (String, String) {
    let answer = Demo::client()
        .post(format!("{}/api/v1/session", demo.url))
        .json(&json!({"name": name, "password": "demo"}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    let cookie = answer.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body: Value = answer.json().await.unwrap();
    (cookie, body["csrf_token"].as_str().unwrap().to_string())
}

/// Runs sampling passes until every decision is read (the worker inside
/// the demo may be running one at the same moment: a pass that loses the
/// race is a conflict and the next goes on).
async fn sampled(demo: &Demo, session: &(String, String)) {
    for _ in 0..100 {
        let answer = Demo::client()
            .post(format!("{}/api/v1/qa/sample", demo.url))
            .header("cookie", &session.0)
            .header("x-csrf-token", &session.1)
            .send()
            .await
            .unwrap();
        if answer.status().is_success() {
            let run: Value = answer.json().await.unwrap();
            if run["read"] == 0 {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("sampling did not catch up with the demo's decisions");
}

/// The verdict then the rubric of the review page open now, by keyboard.
async fn review_with_keys(browser: &Browser, round: usize) {
    browser
        .wait_until(
            "the blind review page",
            "return location.pathname.startsWith('/console/qa/reviews/') && !!document.getElementById('verdict-form');",
        )
        .await;
    let page = browser.text(&browser.find("main").await).await;
    assert!(
        !page.contains("Original ("),
        "the original before the verdict: {page}"
    );
    let shots = screenshots();
    if round == 0 {
        browser.screenshot(&shots.join("qa-blind.png"), false).await;
    }
    // The first radio has the focus: violation yes; category as reported;
    // remove content; submit.
    browser.keys(" ").await;
    browser.keys(key::TAB).await;
    browser.keys(key::TAB).await;
    browser.keys(" ").await;
    for _ in 0..4 {
        browser.keys(key::TAB).await;
    }
    browser.keys(key::ENTER).await;
    browser
        .wait_until(
            "the comparison",
            "return !!document.getElementById('rubric-form');",
        )
        .await;
    let page = browser.text(&browser.find("main").await).await;
    assert!(page.contains("Original (analyst)"), "{page}");
    if round == 0 {
        browser
            .screenshot(&shots.join("qa-comparison.png"), false)
            .await;
    }
    // Decision, category and actions right; documentation 5; save.
    for _ in 0..3 {
        browser.keys(" ").await;
        browser.keys(key::TAB).await;
    }
    for _ in 0..3 {
        browser.keys(key::TAB).await;
    }
    browser.keys(key::ENTER).await;
    browser
        .wait_until(
            "the QA home",
            "return location.pathname === '/console/qa' && location.search.startsWith('?scored=');",
        )
        .await;
}

#[tokio::test]
async fn a_qa_reviewer_works_three_sampled_decisions_with_the_keyboard() {
    if !enabled() {
        return;
    }
    let demo = Demo::start();
    let qa = api_session_with_csrf(&demo, "qa").await;
    sampled(&demo, &qa).await;
    let depth_before = demo.api_get(&qa.0, "/api/v1/qa/reviews").await;
    assert_eq!(depth_before["reviews"].as_array().unwrap().len(), 0);
    let browser = Browser::start(WIDTH, HEIGHT).await;
    sign_in(&browser, &demo, "qa").await;
    browser.goto(&format!("{}/console/qa", demo.url)).await;
    browser.find("#qa-start").await;
    browser
        .screenshot(&screenshots().join("qa-home.png"), false)
        .await;
    for round in 0..3 {
        // The start button has the focus on the QA home.
        browser
            .wait_until(
                "the start button's focus",
                "return document.activeElement.id === 'qa-start';",
            )
            .await;
        browser.keys(key::ENTER).await;
        review_with_keys(&browser, round).await;
    }
    browser
        .screenshot(&screenshots().join("qa-results.png"), true)
        .await;
    let reviews = demo.api_get(&qa.0, "/api/v1/qa/reviews?reviewer=qa").await;
    let reviews = reviews["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 3, "{reviews:?}");
    assert!(reviews
        .iter()
        .all(|r| r["rubric"]["decision_correct"] == true));
}

/// Tabs through the new-session form from the title on, ticking the
/// raters in `raters` with the space bar, and submits it with Enter.
async fn fill_session_form(browser: &Browser, title: &str, ids: &str, raters: &[&str]) {
    browser
        .wait_until(
            "the title's focus",
            "return document.activeElement.id === 'f-title';",
        )
        .await;
    browser
        .script("document.activeElement.select(); return true;")
        .await;
    browser.keys(title).await;
    browser.keys(key::TAB).await;
    browser
        .script("document.activeElement.select(); return true;")
        .await;
    browser.keys(ids).await;
    for _ in 0..60 {
        browser.keys(key::TAB).await;
        let focused = browser.script("return document.activeElement.id;").await;
        let focused = focused.as_str().unwrap_or_default().to_string();
        if focused == "new-session-create" {
            browser.keys(key::ENTER).await;
            return;
        }
        let checked = browser
            .script("return document.activeElement.checked === true;")
            .await;
        if let Some(rater) = focused.strip_prefix("rater-") {
            if raters.contains(&rater) != (checked == true) {
                browser.keys(" ").await;
            }
        }
    }
    panic!("the form's submit button was not reached by tabbing");
}

/// A QA user creates the session in the console, keyboard only: first
/// with one rater (the error shows under the raters), then with three.
async fn create_session_with_keys(demo: &Demo, ids: &[i64]) -> i64 {
    let browser = Browser::start(WIDTH, HEIGHT).await;
    sign_in(&browser, demo, "qa").await;
    browser
        .goto(&format!("{}/console/calibration/new", demo.url))
        .await;
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    let ids = ids.join(", ");
    fill_session_form(&browser, "Browser calibration", &ids, &["qa"]).await;
    browser
        .wait_until(
            "the raters' error",
            "return !!document.getElementById('error-raters');",
        )
        .await;
    let error = browser.text(&browser.find("#error-raters").await).await;
    assert!(error.contains("2 to"), "{error}");
    browser
        .screenshot(&screenshots().join("calibration-form-errors.png"), true)
        .await;
    fill_session_form(
        &browser,
        "Browser calibration",
        &ids,
        &["analyst", "lead", "qa"],
    )
    .await;
    browser
        .wait_until(
            "the new session",
            "return /^\\/console\\/calibration\\/[0-9]+$/.test(location.pathname);",
        )
        .await;
    let url = browser.url().await;
    url.rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_calibration_session_of_three_raters_closes_with_kappa_and_alpha() {
    if !enabled() {
        return;
    }
    let demo = Demo::start();
    let qa = api_session_with_csrf(&demo, "qa").await;
    let cases = demo
        .api_get(&qa.0, "/api/v1/cases?status=resolved&limit=3")
        .await;
    let ids: Vec<i64> = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    let id = create_session_with_keys(&demo, &ids).await;
    let session = demo
        .api_get(&qa.0, &format!("/api/v1/calibration/sessions/{id}"))
        .await;
    assert_eq!(session["case_ids"], json!(ids), "{session}");
    assert_eq!(session["raters"], json!(["analyst", "lead", "qa"]));
    let path = format!("{}/console/calibration/{id}", demo.url);
    let labels = [
        ("analyst", ["spam", "spam", "scam"]),
        ("lead", ["spam", "scam", "scam"]),
        ("qa", ["spam", "spam", "spam"]),
    ];
    for (rater, row) in labels {
        let browser = Browser::start(WIDTH, HEIGHT).await;
        sign_in(&browser, &demo, rater).await;
        for (case, label) in ids.iter().zip(row) {
            browser.goto(&path).await;
            let select = format!("#label-{case}");
            browser.find(&select).await;
            browser
                .script(&format!("document.querySelector('{select}').value = '{label}'; document.querySelector('{select}').form.submit(); return true;"))
                .await;
            browser
                .wait_until(
                    "the rating",
                    &format!("return !document.querySelector('{select}');"),
                )
                .await;
        }
        if rater == "qa" {
            browser
                .screenshot(&screenshots().join("calibration-rating.png"), false)
                .await;
            browser.click(&browser.find("#session-close").await).await;
            browser
                .wait_until(
                    "the report",
                    "return !!document.getElementById('stat-alpha');",
                )
                .await;
            let alpha = browser.text(&browser.find("#stat-alpha").await).await;
            let fleiss = browser.text(&browser.find("#stat-fleiss").await).await;
            assert!(alpha.parse::<f64>().is_ok(), "alpha {alpha}");
            assert!(fleiss.parse::<f64>().is_ok(), "kappa {fleiss}");
            browser
                .screenshot(&screenshots().join("calibration-report.png"), true)
                .await;
        }
    }
}
