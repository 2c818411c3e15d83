//! Case rules that moved into the application: visibility is admission,
//! held cases change only by their holder or a lead, notes are not changes.

use warden_app::cases::{
    CaseCommand, CaseListQuery, ClaimCommand, EscalateCommand, Note, NoteCommand, ReasonedCommand,
    ShowCaseQuery,
};
use warden_app::{CommandError, Reason};
use warden_domain::access::Role;
use warden_domain::decision::Rationale;
use warden_domain::ids::QueueName;
use warden_domain::CaseId;

use crate::app_test;
use crate::support::TestApp;

fn claim(queue: &str) -> ClaimCommand {
    ClaimCommand {
        queue: QueueName::parse(queue).unwrap(),
    }
}

fn reasoned(case: CaseId, reason: &str) -> ReasonedCommand {
    ReasonedCommand {
        case,
        expected: None,
        reason: Reason::parse(reason).unwrap(),
    }
}

fn plain(case: CaseId) -> CaseCommand {
    CaseCommand {
        case,
        expected: None,
    }
}

fn note(text: &str) -> Note {
    Note::parse(Rationale {
        what_happened: text.into(),
        ..Rationale::default()
    })
    .unwrap()
}

async fn held_cases_change_only_by_their_holder_or_a_lead(t: &TestApp) {
    let case = t.report("rep_1", "post_1", "spam").await;
    let anna = t.user("anna", Role::Analyst, &[]).await;
    let ben = t.user("ben", Role::Analyst, &[]).await;
    let lead = t.user("lena", Role::Lead, &[]).await;
    let claimed = t.app.claim(&anna, claim("general")).await.unwrap().unwrap();
    assert_eq!(claimed.id, case);

    // Someone else's hold, escalation, release and renewal are conflicts
    // naming the holder; nothing changes.
    let held = t
        .app
        .hold(&ben, reasoned(case, "mine now"))
        .await
        .unwrap_err();
    assert!(
        matches!(&held, CommandError::Conflict(m) if m.contains("held by anna")),
        "{held:?}"
    );
    let escalated = t
        .app
        .escalate(
            &ben,
            EscalateCommand {
                case,
                expected: None,
                reason: Reason::parse("needs a specialist").unwrap(),
                queue: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(escalated, CommandError::Conflict(_)),
        "{escalated:?}"
    );
    assert!(matches!(
        t.app.release(&ben, plain(case)).await.unwrap_err(),
        CommandError::Conflict(_)
    ));
    assert!(matches!(
        t.app.renew(&ben, plain(case)).await.unwrap_err(),
        CommandError::Conflict(_)
    ));
    let unchanged = t.app.visible_case(&anna, case).await.unwrap();
    assert_eq!(unchanged.version, claimed.version);
    assert_eq!(unchanged.assignee.as_deref(), Some("anna"));

    // A note is not a change: anyone who sees the case adds one.
    let noted = t
        .app
        .add_note(
            &ben,
            NoteCommand {
                case,
                note: note("second opinion: spam"),
            },
        )
        .await
        .unwrap();
    assert_eq!(noted.author, "ben");

    // Only leads release someone else's case, and only as a lead.
    let refused = t.app.release_as_lead(&ben, plain(case)).await.unwrap_err();
    assert!(matches!(refused, CommandError::Forbidden(_)), "{refused:?}");
    let released = t.app.release_as_lead(&lead, plain(case)).await.unwrap();
    assert_eq!(released.assignee, None);

    // The holder holds and renews; a stale version is a conflict.
    let again = t.app.claim(&anna, claim("general")).await.unwrap().unwrap();
    let stale = t
        .app
        .hold(
            &anna,
            ReasonedCommand {
                expected: Some(warden_domain::ids::Version(claimed.version)),
                ..reasoned(case, "a long look")
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(stale, CommandError::Conflict(_)), "{stale:?}");
    let held = t
        .app
        .hold(&anna, reasoned(case, "a long look"))
        .await
        .unwrap();
    assert!(held.held);
    assert!(held.version > again.version);
}
app_test!(held_cases, held_cases_change_only_by_their_holder_or_a_lead);

async fn cases_outside_the_actors_queues_are_not_found(t: &TestApp) {
    let restricted = t.report("rep_cs", "post_cs", "child_safety").await;
    let open = t.report("rep_open", "post_open", "spam").await;
    let outsider = t.user("otto", Role::Analyst, &[]).await;
    let member = t.user("mia", Role::Analyst, &["child_safety"]).await;

    // Not found, in the same words as a case that does not exist.
    let hidden = t.app.visible_case(&outsider, restricted).await.unwrap_err();
    let missing = t
        .app
        .visible_case(&outsider, CaseId(999_999))
        .await
        .unwrap_err();
    assert_eq!(
        hidden.to_string().replace(&restricted.to_string(), "N"),
        missing.to_string().replace("999999", "N")
    );
    assert!(matches!(hidden, CommandError::NotFound(_)));
    let shown = t
        .app
        .show_case(
            &outsider,
            ShowCaseQuery {
                case: restricted,
                reveal_reason: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(shown, CommandError::NotFound(_)));
    let noted = t
        .app
        .add_note(
            &outsider,
            NoteCommand {
                case: restricted,
                note: note("hi"),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(noted, CommandError::NotFound(_)));

    // Lists and the overview leave the queue out; the queue refuses claims.
    let list = |actor| {
        let app = t.app.clone();
        async move {
            let query = CaseListQuery {
                queue: None,
                statuses: Vec::new(),
                assignee: None,
                subject: None,
                limit: 50,
                offset: 0,
            };
            app.list_cases(&actor, query)
                .await
                .unwrap()
                .cases
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(outsider.clone()).await, [open]);
    let mut seen = list(member.clone()).await;
    seen.sort();
    assert_eq!(seen, [restricted, open]);
    let overview = t.app.queue_overview(&outsider).await.unwrap();
    assert!(overview.iter().all(|q| q.name != "child-safety"));
    let refused = t
        .app
        .claim(&outsider, claim("child-safety"))
        .await
        .unwrap_err();
    assert!(matches!(refused, CommandError::Forbidden(_)), "{refused:?}");

    // The team member sees and claims it.
    assert_eq!(
        t.app.visible_case(&member, restricted).await.unwrap().id,
        restricted
    );
    let claimed = t.app.claim(&member, claim("child-safety")).await.unwrap();
    assert_eq!(claimed.map(|c| c.id), Some(restricted));
}
app_test!(visibility, cases_outside_the_actors_queues_are_not_found);

async fn a_reopened_case_gets_new_deadlines_from_its_queue(t: &TestApp) {
    let case = t.report("rep_r", "post_r", "spam").await;
    let lead = t.user("lena", Role::Lead, &[]).await;
    let analyst = t.user("anna", Role::Analyst, &[]).await;
    let claimed = t
        .app
        .claim(&analyst, claim("general"))
        .await
        .unwrap()
        .unwrap();
    let command = warden_app::decisions::DecisionDraft {
        expected: warden_domain::ids::Version(claimed.version),
        violation: false,
        category: "spam".into(),
        policy: None,
        actions: Vec::new(),
        rationale: Rationale {
            what_happened: "a post".into(),
            evidence: "none".into(),
            policy: "spam".into(),
            action: "none".into(),
            next_steps: String::new(),
        },
        override_reason: None,
        reason_code: None,
    }
    .into_command(
        case,
        warden_domain::enforcement::DecisionMode::First,
        t.app.policy().taxonomy(),
    )
    .unwrap();
    t.app.decide(&analyst, command).await.unwrap();
    t.clock.advance(chrono::Duration::days(3));
    let refused = t
        .app
        .reopen(&analyst, reasoned(case, "new evidence"))
        .await
        .unwrap_err();
    assert!(matches!(refused, CommandError::Forbidden(_)), "{refused:?}");
    let reopened = t
        .app
        .reopen(&lead, reasoned(case, "new evidence"))
        .await
        .unwrap();
    assert_eq!(reopened.status.as_str(), "reopened");
    let now = warden_app::Clock::now(t.clock.as_ref());
    let expected = t
        .app
        .policy()
        .router()
        .queue("general")
        .unwrap()
        .sla
        .deadlines(reopened.severity, now);
    assert_eq!(reopened.first_touch_due_at, expected.first_touch_due_at);
    assert_eq!(reopened.resolve_due_at, expected.resolve_due_at);
}
app_test!(reopening, a_reopened_case_gets_new_deadlines_from_its_queue);
