//! KPI reports and wellness through the application: who may read which
//! report, and breaks suggested after the configured visible media time
//! (45 minutes by default), taken, and the count starting again.

use warden_app::kpis::KpiParams;
use warden_app::CommandError;
use warden_domain::access::Role;
use warden_domain::kpi::Kpi;
use warden_domain::CaseId;

use crate::app_test;
use crate::support::TestApp;

/// Twenty minutes of visible media, in milliseconds.
const TWENTY_MINUTES: i64 = 20 * 60 * 1000;

async fn breaks_follow_visible_media_time(t: &TestApp) {
    let case = t.report("rep_w", "post_w", "spam").await;
    let anna = t.user("anna", Role::Analyst, &[]).await;
    let now = t.app.now();
    let mut suggested = Vec::new();
    for _ in 0..4 {
        suggested.push(
            t.app
                .record_exposure(&anna, case, now, TWENTY_MINUTES)
                .await
                .unwrap(),
        );
    }
    // 20, 40: no; 60 ≥ 45: suggested; still waiting at 80.
    assert_eq!(suggested, [false, false, true, true]);
    assert!(t.app.take_break(&anna).await.unwrap());
    assert!(
        !t.app.take_break(&anna).await.unwrap(),
        "one break per suggestion"
    );
    // The count starts again after the suggestion.
    assert!(!t
        .app
        .record_exposure(&anna, case, now, 60_000)
        .await
        .unwrap());

    let refused = t
        .app
        .record_exposure(&anna, case, now, -1)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, CommandError::Invalid(errors) if errors.0[0].field == "visible_ms"),
        "{refused:?}"
    );
    let missing = t.app.record_exposure(&anna, CaseId(999_999), now, 1).await;
    assert!(
        matches!(missing, Err(CommandError::NotFound(_))),
        "{missing:?}"
    );

    // Her own report shows her exposure: 80 + 1 minutes.
    let own = KpiParams {
        reviewer: Some("anna".into()),
        ..KpiParams::default()
    }
    .parse(now + chrono::Duration::hours(1))
    .unwrap();
    let report = t.app.kpis(&anna, &own).await.unwrap();
    assert_eq!(
        report.totals.get(Kpi::WellnessExposure).value,
        Some(81.0 * 60.0)
    );
    assert_eq!(report.totals.get(Kpi::WellnessBreaksTaken).value, Some(1.0));
}

app_test!(wellness, breaks_follow_visible_media_time);

async fn only_metrics_readers_see_reports_beyond_their_own(t: &TestApp) {
    let anna = t.user("anna", Role::Analyst, &[]).await;
    let lead = t.user("lena", Role::Lead, &[]).await;
    let now = t.app.now();
    let team = KpiParams::default().parse(now).unwrap();
    let bens = KpiParams {
        reviewer: Some("ben".into()),
        ..KpiParams::default()
    }
    .parse(now)
    .unwrap();
    let own = KpiParams {
        reviewer: Some("anna".into()),
        ..KpiParams::default()
    }
    .parse(now)
    .unwrap();
    for query in [&team, &bens] {
        let refused = t.app.kpis(&anna, query).await.unwrap_err();
        assert!(matches!(refused, CommandError::Forbidden(_)), "{refused:?}");
    }
    assert!(t.app.kpis(&anna, &own).await.is_ok());
    assert!(t.app.kpis(&lead, &team).await.is_ok());
    assert!(t.app.kpis(&lead, &bens).await.is_ok());
    // The forecast is a lead's.
    assert!(t.app.backlog_forecast(&anna, None).await.is_err());
    assert!(t.app.backlog_forecast(&lead, None).await.is_ok());
}

app_test!(readers, only_metrics_readers_see_reports_beyond_their_own);
