//! The KPI dashboards in a browser: the lead's team dashboard and the
//! analyst's own page render their tiles and server-drawn charts over the
//! demo's past days, with table fallbacks and CSV links; screenshots in
//! `target/screenshots/dashboard-*.png`.

use super::webdriver::Browser;
use super::{enabled, screenshots, sign_in, Demo, HEIGHT, WIDTH};

/// Checks the dashboard at `path` shows tiles and charts with data.
async fn shows_charts(browser: &Browser, demo: &Demo, path: &str) {
    browser.goto(&format!("{}{path}", demo.url)).await;
    browser.find("[data-kpi-tiles]").await;
    let tiles = browser
        .script("return document.querySelectorAll('[data-kpi]').length;")
        .await;
    assert_eq!(tiles.as_u64(), Some(24), "every KPI has a tile");
    let charts = browser
        .script(
            "return document.querySelectorAll('figure[data-chart] svg[role=img] title').length;",
        )
        .await;
    assert!(charts.as_u64().unwrap_or(0) >= 9, "{path}: {charts}");
    let lines = browser
        .script("return document.querySelectorAll('svg .chart-line').length;")
        .await;
    assert!(lines.as_u64().unwrap_or(0) > 0, "{path}: a series is drawn");
    let resolved = browser
        .text(&browser.find("[data-kpi='cases_resolved'] .kpi-value").await)
        .await;
    assert_ne!(
        resolved.trim(),
        "0",
        "{path}: the demo's decisions are counted"
    );
    let csv = browser
        .script("return document.querySelectorAll('a[href*=\"export.csv\"]').length;")
        .await;
    assert!(
        csv.as_u64().unwrap_or(0) >= 10,
        "{path}: every table has a CSV link"
    );
}

#[tokio::test]
async fn the_lead_dashboard_and_an_analysts_own_page_render_with_charts() {
    if !enabled() {
        return;
    }
    let demo = Demo::start();
    let shots = screenshots();
    let lead = Browser::start(WIDTH, HEIGHT).await;
    sign_in(&lead, &demo, "lead").await;
    shows_charts(&lead, &demo, "/console/dashboard").await;
    lead.find("#forecast-title").await;
    lead.screenshot(&shots.join("dashboard-team.png"), false)
        .await;
    lead.screenshot(&shots.join("dashboard-team-full.png"), true)
        .await;
    shows_charts(&lead, &demo, "/console/dashboard/queues/spam").await;
    lead.screenshot(&shots.join("dashboard-queue.png"), true)
        .await;

    let analyst = Browser::start(WIDTH, HEIGHT).await;
    sign_in(&analyst, &demo, "analyst").await;
    shows_charts(&analyst, &demo, "/console/dashboard/me").await;
    let heading = analyst.text(&analyst.find("h1").await).await;
    assert!(heading.contains("analyst"), "{heading}");
    analyst
        .screenshot(&shots.join("dashboard-own.png"), true)
        .await;
    // The team's dashboard is not theirs to see.
    analyst
        .goto(&format!("{}/console/dashboard", demo.url))
        .await;
    let body = analyst.text(&analyst.find("main").await).await;
    assert!(body.contains("metrics.read"), "{body}");
}
