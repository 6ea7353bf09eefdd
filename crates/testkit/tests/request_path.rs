#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The request path under load: page views read without the write lock and record their entry
//! through the audit journal, which batches concurrent entries. However many requests arrive at
//! once, every 200 has exactly one entry, the chain verifies, and a refused read is recorded.

use std::collections::HashMap;
use std::sync::Arc;

use learnloop_core::demo::DEMO_REVIEW_ID;
use learnloop_core::{actions, audit, cases};
use learnloop_testkit::sea_orm::EntityTrait;
use learnloop_testkit::{TestApp, on_both_databases};

const MANAGER: &str = "business.manager@fernbridge.example";
const POLICE: &str = "police.lead@fernbridge.example";

/// How many entries of `action` and `outcome` the trail holds.
async fn count(app: &TestApp, action: &str, outcome: &str) -> usize {
    app.query_strings(&format!(
        "SELECT seq FROM audit_log WHERE action = '{action}' AND outcome = '{outcome}'"
    ))
    .await
    .len()
}

on_both_databases!(
    thirty_two_concurrent_page_views_leave_one_entry_each_and_a_whole_chain,
    demo,
    |app| async move {
        let manager = Arc::new(app.sign_in(MANAGER).await);
        let (case_list, _) = cases::list(app.db.conn(), None, 0, 100).await.unwrap();
        let case_ids: Vec<uuid::Uuid> = case_list.iter().map(|c| c.case.id).collect();
        assert!(!case_ids.is_empty());
        let action_ids: Vec<uuid::Uuid> = actions::Entity::find()
            .all(app.db.conn())
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        let before: HashMap<&str, usize> = {
            let mut before = HashMap::new();
            for action in ["case.view", "review.view", "action.view", "dashboard.view"] {
                before.insert(action, count(app, action, "allowed").await);
            }
            before
        };

        // 32 clients at once, four rounds each, over case pages, a review, actions and the
        // dashboard.
        let mut clients = Vec::new();
        for client in 0..32usize {
            let manager = manager.clone();
            let case_ids = case_ids.clone();
            let action_ids = action_ids.clone();
            clients.push(tokio::spawn(async move {
                let mut answered: Vec<(&'static str, u16)> = Vec::new();
                for round in 0..4usize {
                    let (kind, path) = match (client + round) % 4 {
                        0 => (
                            "case.view",
                            format!("/cases/{}", case_ids[(client + round) % case_ids.len()]),
                        ),
                        1 => ("review.view", format!("/reviews/{DEMO_REVIEW_ID}")),
                        2 => (
                            "action.view",
                            format!(
                                "/actions/{}",
                                action_ids[(client + round) % action_ids.len()]
                            ),
                        ),
                        _ => ("dashboard.view", "/".to_string()),
                    };
                    let response = manager.get(&path).await;
                    answered.push((kind, response.status().as_u16()));
                }
                answered
            }));
        }
        let mut ok: HashMap<&str, usize> = HashMap::new();
        for client in clients {
            for (kind, status) in client.await.unwrap() {
                assert_eq!(status, 200, "{kind}");
                *ok.entry(kind).or_default() += 1;
            }
        }
        for (action, served) in &ok {
            let now = count(app, action, "allowed").await;
            assert_eq!(
                now - before[action],
                *served,
                "{action}: one entry per page served"
            );
        }
        let verification = audit::verify(app.db.conn(), |_| {}).await.unwrap();
        assert_eq!(verification.first_problem, None);
    }
);

on_both_databases!(
    a_refused_page_read_is_recorded_although_the_request_fails,
    demo,
    |app| async move {
        // The police lead may not see a case their agency is not involved in.
        let police_agency =
            learnloop_core::agencies::find_by_code(app.db.conn(), "wealdshire-police")
                .await
                .unwrap()
                .unwrap()
                .id;
        let (all, _) = cases::list(app.db.conn(), None, 0, 100).await.unwrap();
        let other = all
            .iter()
            .find(|c| !c.agency_ids.contains(&police_agency))
            .expect("a case without the police");
        let police = app.sign_in(POLICE).await;
        let denied_before = count(app, "case.view", "denied").await;
        let response = police.get(&format!("/cases/{}", other.case.id)).await;
        assert_eq!(response.status(), 404);
        let body = response.text().await.unwrap();
        assert!(
            !body.contains(&other.case.pseudonym),
            "nothing of the case is shown"
        );
        assert_eq!(count(app, "case.view", "denied").await, denied_before + 1);
        let entries = app
            .query_strings(&format!(
                "SELECT outcome FROM audit_log WHERE action = 'case.view' AND record_id = '{}' ORDER BY seq",
                other.case.id
            ))
            .await;
        assert_eq!(entries.last().map(String::as_str), Some("denied"));
        let verification = audit::verify(app.db.conn(), |_| {}).await.unwrap();
        assert_eq!(verification.first_problem, None);
    }
);

/// The number shown beside `label` on the dashboard.
fn stat(html: &str, label: &str) -> String {
    let marker = format!("</span> <span class=\"app-stat__label\">{label}</span>");
    let end = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{label} on the dashboard"));
    let start = html[..end].rfind('>').unwrap() + 1;
    html[start..end].to_string()
}

on_both_databases!(
    the_dashboard_keeps_its_figures_and_they_follow_changes_and_the_day,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let (status, html) = manager.get_text("/").await;
        assert_eq!(status, 200);
        assert_eq!(stat(&html, "open cases"), "10");
        // The figures computed for that view are kept, after it answered.
        let mut kept = Vec::new();
        for _ in 0..50 {
            kept = app
                .query_strings("SELECT scope_key FROM kept_figures")
                .await;
            if !kept.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(kept.len(), 1, "one kept scope: the partnership's");
        let (_, again) = manager.get_text("/").await;
        assert_eq!(stat(&again, "open cases"), "10");
        assert!(
            again.contains("Figures as at"),
            "the page says when they were computed"
        );

        // A change by any route (here straight in the database) makes them out of date.
        let (open, _) = cases::list(app.db.conn(), None, 0, 1).await.unwrap();
        let backend = app.db.database_backend();
        learnloop_testkit::sea_orm::ConnectionTrait::execute_raw(
            app.db.conn(),
            learnloop_testkit::sea_orm::Statement::from_sql_and_values(
                backend,
                if backend == learnloop_testkit::sea_orm::DatabaseBackend::Postgres {
                    "UPDATE cases SET status = 'closed' WHERE id = $1"
                } else {
                    "UPDATE cases SET status = 'closed' WHERE id = ?"
                },
                [open[0].case.id.into()],
            ),
        )
        .await
        .unwrap();
        let (_, changed) = manager.get_text("/").await;
        assert_eq!(
            stat(&changed, "open cases"),
            "9",
            "the change shows at once"
        );

        // Date-driven figures follow the day: a month on, they are those of that day.
        app.clock.advance(chrono::TimeDelta::days(30));
        let manager = app.sign_in(MANAGER).await;
        let (_, later) = manager.get_text("/").await;
        let actor = learnloop_core::access::grants::actor_for(
            app.db.conn(),
            learnloop_core::people::find_by_email(app.db.conn(), MANAGER)
                .await
                .unwrap()
                .unwrap()
                .id,
            learnloop_core::clock::Clock::now(app.clock.as_ref()).date_naive(),
        )
        .await
        .unwrap()
        .unwrap();
        let expected = learnloop_core::figures::compute(
            app.db.conn(),
            &learnloop_core::figures::Scope::of(&actor),
            learnloop_core::clock::Clock::now(app.clock.as_ref()).date_naive(),
        )
        .await
        .unwrap();
        let clocks = expected.clocks.unwrap();
        assert_eq!(
            stat(&later, "deadlines overdue"),
            clocks.overdue.to_string()
        );
        assert_eq!(
            stat(&later, "due within 5 working days"),
            clocks.due_soon.to_string()
        );
    }
);
