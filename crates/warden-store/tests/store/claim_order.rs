//! Claim-next right after a bulk load: the claim reads only its indexes
//! (no sort, no table scan, whatever the planner's statistics say) and still
//! takes the first case in claim order, lapsed leases included.

use chrono::Duration;
use sqlx::Executor;

use warden_domain::access::Role;
use warden_domain::ids::SubjectKind;
use warden_domain::intake::ReportSource;
use warden_store::prelude::*;
use warden_store::{Actor, Backend, SqlStore};

use crate::store_test_raw;
use crate::support::{at, policy, reference, report, t0, user, Raw};

/// Cases written past intake, as a bulk load would: most open and
/// unclaimed, every third resolved, every seventh claimed.
const BULK_CASES: i64 = 30_000;

/// The rows of a bulk load, copied from the columns of case `template`.
/// Severity 1 (low), so they sort after the cases intake opened.
fn bulk_insert(backend: Backend, template: i64) -> String {
    let numbers = match backend {
        Backend::Postgres => format!("SELECT generate_series(1, {BULK_CASES}) AS n"),
        Backend::Sqlite => format!(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {BULK_CASES}) SELECT n FROM s"
        ),
    };
    format!(
        "INSERT INTO cases (subject_kind, subject_id, category, queue, severity, status, priority, version, assignee, assignee_id, lease_expires_at, held, opened_at, updated_at, first_touch_due_at, resolve_due_at) \
         SELECT c.subject_kind, 'bulk' || CAST(b.n AS TEXT), c.category, c.queue, 1, \
                CASE WHEN b.n % 3 = 0 THEN 'resolved' WHEN b.n % 7 = 0 THEN 'in_review' ELSE 'new' END, \
                c.priority, 1, \
                CASE WHEN b.n % 7 = 0 AND b.n % 3 <> 0 THEN 'someone' END, \
                CASE WHEN b.n % 7 = 0 AND b.n % 3 <> 0 THEN 999 END, \
                CASE WHEN b.n % 7 = 0 AND b.n % 3 <> 0 THEN c.opened_at + 86400000 END, \
                0, c.opened_at + b.n, c.updated_at, c.first_touch_due_at, c.resolve_due_at \
         FROM cases c, ({numbers}) b WHERE c.id = {template}"
    )
}

async fn load_in_bulk(store: &SqlStore, raw: &Raw) {
    let reports: Vec<_> = (0..3)
        .map(|i| {
            report(
                &format!("r{i}"),
                &reference(SubjectKind::Content, &format!("p{i}")),
                "spam",
                ReportSource::UserReport,
            )
        })
        .collect();
    store
        .ingest_reports(&Actor::system(), reports, &policy(), t0())
        .await
        .unwrap();
    let mut conn = raw.connect().await;
    let template: i64 = sqlx::query_scalar("SELECT MIN(id) FROM cases")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.execute(bulk_insert(raw.backend, template).as_str())
        .await
        .expect("bulk load");
}

fn assert_index_only(backend: Backend, plan: &[String]) {
    let text = plan.join("\n");
    for index in ["cases_unclaimed", "cases_leased"] {
        assert!(text.contains(index), "the claim reads {index}:\n{text}");
    }
    match backend {
        Backend::Postgres => {
            assert!(!text.contains("Sort"), "a claim never sorts:\n{text}");
            assert!(
                !text.contains("Seq Scan"),
                "a claim never scans cases:\n{text}"
            );
            assert!(
                !text.contains("Bitmap"),
                "a claim walks its index in order:\n{text}"
            );
        }
        Backend::Sqlite => {
            assert!(
                !text.contains("TEMP B-TREE"),
                "a claim never sorts:\n{text}"
            );
            assert!(!text.contains("SCAN "), "a claim never scans:\n{text}");
        }
    }
}

store_test_raw!(
    claims_read_only_their_indexes_right_after_a_bulk_load,
    |store: SqlStore, raw: Raw| async move {
        load_in_bulk(&store, &raw).await;
        let plan = store.claim_plan("general").await.unwrap();
        assert_index_only(raw.backend, &plan);

        // The three cases intake opened outrank the bulk ones; then the
        // oldest open unclaimed bulk case comes next.
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, ben) = user(&store, "ben", Role::Analyst).await;
        let mut first = Vec::new();
        for _ in 0..3 {
            let case = store
                .claim_next(&anna, "general", Duration::minutes(10), at(1))
                .await
                .unwrap()
                .expect("an open case");
            assert!(case.subject.id.as_str().starts_with('p'), "{case:?}");
            first.push(case);
        }
        let bulk = store
            .claim_next(&ben, "general", Duration::hours(1), at(1))
            .await
            .unwrap()
            .expect("a bulk case");
        assert_eq!(bulk.subject.id.as_str(), "bulk1");
        // Anna's leases lapse: her cases outrank every unclaimed one, so
        // they are the next claims, in claim order.
        for expected in &first {
            let again = store
                .claim_next(&ben, "general", Duration::minutes(10), at(30))
                .await
                .unwrap()
                .expect("a lapsed case");
            assert_eq!(again.id, expected.id);
            assert_eq!(again.assignee.as_deref(), Some("ben"));
        }
        let next = store
            .claim_next(&ben, "general", Duration::minutes(10), at(30))
            .await
            .unwrap()
            .expect("a bulk case");
        assert_eq!(next.subject.id.as_str(), "bulk2");
    }
);
