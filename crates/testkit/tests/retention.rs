#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The retention schedule on the demo, with the clock moved on: what is due is listed by
//! `plan` and deleted by `apply`, exactly; old sign-in records go and recent ones stay; a case
//! whose reviews closed eight years ago goes with everything of it, one with open actions or a
//! hold stays; the audit trail still verifies; the worker purges once a day; the settings page.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::TimeDelta;
use learnloop_core::actions::{self, assurance, plans};
use learnloop_core::clock::Clock;
use learnloop_core::identity::{resets, sessions};
use learnloop_core::mail::{self, Mailer};
use learnloop_core::reminders::Worker;
use learnloop_core::retention::{self, By, Due, Kind, Schedule, holds};
use learnloop_core::reviews::{self, stages};
use learnloop_core::{audit, cases, library, people, published, tokens};
use learnloop_testkit::sea_orm::sea_query::Expr;
use learnloop_testkit::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use learnloop_testkit::{TestApp, on_both_databases};
use uuid::Uuid;

const MANAGER: &str = "business.manager@fernbridge.example";
const MEMBER: &str = "review.member@fernbridge.example";

async fn person(app: &TestApp, email: &str) -> Uuid {
    people::find_by_email(app.db.conn(), email)
        .await
        .unwrap()
        .unwrap()
        .id
}

fn files_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ll-retention-test-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn count(app: &TestApp, sql: &str) -> u64 {
    app.query_strings(sql).await[0].parse().unwrap()
}

fn count_of(due: &[Due], kind: Kind) -> u64 {
    due.iter().find(|due| due.kind == kind).unwrap().count
}

async fn plan_now(app: &TestApp, schedule: &Schedule) -> Vec<Due> {
    let txn = app.db.read().await.unwrap();
    let due = retention::plan(&txn, schedule, app.clock.now())
        .await
        .unwrap();
    txn.commit().await.unwrap();
    due
}

async fn verify_trail(app: &TestApp) {
    let report = audit::verify(app.db.conn(), |_| {}).await.unwrap();
    assert_eq!(report.first_problem, None, "the audit trail verifies");
    assert!(report.entries_checked > 0);
}

async fn last_purge_entry(app: &TestApp) -> audit::Model {
    let (entries, _) = audit::list(
        app.db.conn(),
        &audit::Filter {
            action_prefix: Some("retention.purged".to_string()),
            ..Default::default()
        },
        1,
    )
    .await
    .unwrap();
    entries
        .into_iter()
        .next()
        .expect("a retention.purged entry")
}

on_both_databases!(
    old_sign_in_records_tokens_links_and_mail_go_and_recent_ones_stay,
    demo,
    |app| async move {
        let conn = app.db.conn();
        let manager = person(app, MANAGER).await;
        let _old_browser = app.sign_in(MANAGER).await;
        let then = app.clock.now();
        tokens::create(conn, manager, "old", then + TimeDelta::days(1), then)
            .await
            .unwrap();
        // Expires 80 days on: 20 days expired when the schedule runs, within the 30 kept.
        tokens::create(conn, manager, "lapsed", then + TimeDelta::days(80), then)
            .await
            .unwrap();
        resets::issue(conn, manager, None, then).await.unwrap();
        // Everything the demo queued is sent now: reminders of open actions and digests.
        mail::deliver(
            conn,
            &Mailer::Memory(Arc::default()),
            "ll@test",
            "w",
            then,
            500,
        )
        .await
        .unwrap();
        let old_attempts = count(app, "SELECT COUNT(*) FROM login_attempts").await;
        let old_steps = count(app, "SELECT COUNT(*) FROM totp_used_steps").await;
        let sent = count(app, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL").await;
        assert!(old_attempts > 0 && old_steps > 0 && sent > 0);

        app.clock.advance(TimeDelta::days(100));
        let _recent_browser = app.sign_in(MEMBER).await;
        let now = app.clock.now();
        tokens::create(conn, manager, "new", now + TimeDelta::days(1), now)
            .await
            .unwrap();
        resets::issue(conn, manager, None, now).await.unwrap();

        let schedule = Schedule::load(conn).await.unwrap();
        let due = plan_now(app, &schedule).await;
        assert_eq!(
            count_of(&due, Kind::Sessions),
            1,
            "the manager's session of 100 days ago"
        );
        assert_eq!(count_of(&due, Kind::SignIns), old_attempts + old_steps);
        assert_eq!(count_of(&due, Kind::ApiTokens), 1);
        assert_eq!(count_of(&due, Kind::ResetLinks), 1);
        assert_eq!(
            count_of(&due, Kind::Cases),
            0,
            "no case closed seven years ago"
        );
        let mail_due = count_of(&due, Kind::Mail);
        assert!(
            mail_due > 0 && mail_due < sent,
            "digests go, reminders of open actions stay"
        );

        let rows_before = count(app, "SELECT COUNT(*) FROM login_attempts").await
            + count(app, "SELECT COUNT(*) FROM totp_used_steps").await;
        let applied = retention::apply(&app.db, &schedule, now, By::CommandLine)
            .await
            .unwrap();
        assert_eq!(
            applied.purged, due,
            "apply deletes exactly what plan listed"
        );
        assert_eq!(
            count(app, "SELECT COUNT(*) FROM login_attempts").await
                + count(app, "SELECT COUNT(*) FROM totp_used_steps").await,
            rows_before - count_of(&due, Kind::SignIns),
            "as many sign-in records as listed"
        );
        assert_eq!(
            plan_now(app, &schedule)
                .await
                .iter()
                .map(|d| d.count)
                .sum::<u64>(),
            0,
            "nothing is left due"
        );

        let member = person(app, MEMBER).await;
        let left_sessions: Vec<Uuid> = sessions::Entity::find()
            .all(conn)
            .await
            .unwrap()
            .into_iter()
            .map(|session| session.person_id)
            .collect();
        assert_eq!(left_sessions, vec![member], "the recent session stays");
        assert!(
            count(app, "SELECT COUNT(*) FROM login_attempts").await > 0,
            "recent attempts stay"
        );
        assert!(count(app, "SELECT COUNT(*) FROM totp_used_steps").await > 0);
        let labels: Vec<String> = tokens::of_person(conn, manager)
            .await
            .unwrap()
            .into_iter()
            .map(|token| token.label)
            .collect();
        assert_eq!(labels, vec!["new".to_string(), "lapsed".to_string()]);
        assert_eq!(count(app, "SELECT COUNT(*) FROM password_resets").await, 1);
        let left: Vec<mail::Model> = mail::recent(conn, 0, 10_000)
            .await
            .unwrap()
            .0
            .into_iter()
            .filter(|email| email.sent_at.is_some())
            .collect();
        assert_eq!(left.len() as u64, sent - mail_due);
        assert!(left.iter().all(|email| email.kind != "digest"));
        assert!(left.iter().any(|email| email.kind == "overdue"));

        verify_trail(app).await;
        let entry = last_purge_entry(app).await;
        assert_eq!(entry.seq, applied.audit_seq);
        assert_eq!(entry.source.as_deref(), Some("cli"));
        let reason = entry.reason.unwrap_or_default();
        assert!(reason.contains("sessions 1,"), "{reason}");
        assert!(reason.contains("api-tokens 1,"), "{reason}");
    }
);

async fn case_called(app: &TestApp, pseudonym: &str) -> cases::entity::Model {
    cases::entity::Entity::find()
        .filter(cases::entity::Column::Pseudonym.eq(pseudonym))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the demo case {pseudonym}"))
}

/// Completes every open stage of the case's reviews today: the reviews close.
async fn close_reviews(app: &TestApp, case_id: Uuid) {
    let conn = app.db.conn();
    let today = app.clock.now().date_naive();
    for review in reviews::of_case(conn, case_id).await.unwrap() {
        stages::Entity::update_many()
            .col_expr(stages::Column::CompletedOn, Expr::value(Some(today)))
            .filter(stages::Column::ReviewId.eq(review.id))
            .filter(stages::Column::CompletedOn.is_null())
            .exec(conn)
            .await
            .unwrap();
        reviews::Entity::update_many()
            .col_expr(reviews::Column::Status, Expr::value("complete"))
            .filter(reviews::Column::Id.eq(review.id))
            .exec(conn)
            .await
            .unwrap();
    }
}

/// How many rows of each table hanging off the reviews remain.
async fn rows_of_reviews(app: &TestApp, ids: &[Uuid]) -> Vec<(&'static str, u64)> {
    let conn = app.db.conn();
    let ids = ids.to_vec();
    vec![
        (
            "reviews",
            reviews::Entity::find()
                .filter(reviews::Column::Id.is_in(ids.clone()))
                .count(conn)
                .await
                .unwrap(),
        ),
        (
            "review_stages",
            stages::Entity::find()
                .filter(stages::Column::ReviewId.is_in(ids.clone()))
                .count(conn)
                .await
                .unwrap(),
        ),
        (
            "review_entries",
            reviews::entries::Entity::find()
                .filter(reviews::entries::Column::ReviewId.is_in(ids.clone()))
                .count(conn)
                .await
                .unwrap(),
        ),
        (
            "review_documents",
            reviews::documents::Entity::find()
                .filter(reviews::documents::Column::ReviewId.is_in(ids.clone()))
                .count(conn)
                .await
                .unwrap(),
        ),
        (
            "review_people",
            reviews::people::Entity::find()
                .filter(reviews::people::Column::ReviewId.is_in(ids.clone()))
                .count(conn)
                .await
                .unwrap(),
        ),
        (
            "review_contributions",
            reviews::contributions::Entity::find()
                .filter(reviews::contributions::Column::ReviewId.is_in(ids.clone()))
                .count(conn)
                .await
                .unwrap(),
        ),
        (
            "action_plans",
            plans::Entity::find()
                .filter(plans::Column::ReviewId.is_in(ids.clone()))
                .count(conn)
                .await
                .unwrap(),
        ),
        (
            "actions",
            actions::Entity::find()
                .filter(actions::Column::ReviewId.is_in(ids))
                .count(conn)
                .await
                .unwrap(),
        ),
    ]
}

on_both_databases!(
    a_case_closed_eight_years_ago_goes_with_everything_of_it_unless_open_or_held,
    demo,
    |app| async move {
        let conn = app.db.conn();
        let dir = files_dir();
        let manager = person(app, MANAGER).await;
        let now = app.clock.now();

        // Child B: reviewed, published, its plan signed off; record the assurance check.
        let child_b = case_called(app, "Child B").await;
        let b_reviews: Vec<Uuid> = reviews::of_case(conn, child_b.id)
            .await
            .unwrap()
            .into_iter()
            .map(|review| review.id)
            .collect();
        assert!(!b_reviews.is_empty());
        let b_plans = plans::of_review(conn, b_reviews[0]).await.unwrap();
        let b_actions = plans::actions_of(conn, b_plans[0].id).await.unwrap();
        assert!(!b_actions.is_empty());
        for check in assurance::of_plan(conn, b_plans[0].id).await.unwrap() {
            assurance::record(
                conn,
                check.id,
                &assurance::Finding {
                    embedded: "yes".to_string(),
                    evidence_kind: "re_audit".to_string(),
                    evidence: "Re-audit of 20 assessments: fathers recorded in 18.".to_string(),
                    judgement: "Embedded.".to_string(),
                },
                manager,
                now,
            )
            .await
            .unwrap();
        }
        // A file on the case, and an import abandoned today.
        let attachment = Uuid::now_v7();
        std::fs::write(dir.join(attachment.to_string()), b"chronology").unwrap();
        cases::attachments::record(
            conn,
            cases::attachments::Upload {
                id: attachment,
                case_id: child_b.id,
                file_name: "chronology.txt",
                content_type: "text/plain",
                bytes: b"chronology",
                uploaded_by: manager,
            },
            now,
        )
        .await
        .unwrap();
        let import = dir.join(format!("import-{}.json", Uuid::now_v7()));
        std::fs::write(&import, b"{}").unwrap();
        let frozen_before = library::Entity::find()
            .filter(library::Column::PublishedFrom.is_in(b_reviews.clone()))
            .count(conn)
            .await
            .unwrap();
        assert!(frozen_before > 0, "Child B's findings were published");

        let before = rows_of_reviews(app, &b_reviews).await;
        // (The demo's actions sit in the review's plan without naming the review.)
        for table in ["reviews", "review_stages", "review_entries", "action_plans"] {
            assert!(
                before
                    .iter()
                    .any(|(name, rows)| *name == table && *rows > 0),
                "Child B has {table} to purge: {before:?}"
            );
        }

        // Adult H: its review closes today, but its actions are under way.
        let adult_h = case_called(app, "Adult H").await;
        close_reviews(app, adult_h.id).await;
        // Adult D: closes today too, and a hold is placed on it.
        let adult_d = case_called(app, "Adult D").await;
        close_reviews(app, adult_d.id).await;
        holds::place(
            conn,
            adult_d.id,
            "Inquest not yet concluded",
            Some(manager),
            now,
        )
        .await
        .unwrap();

        // Seven years is the default; eight years on, the closed cases are past it.
        app.clock.advance(TimeDelta::days(8 * 366));
        let now = app.clock.now();
        let schedule = Schedule::load(conn).await.unwrap().with_files_dir(&dir);
        assert_eq!(schedule.period(Kind::Cases), 7);
        let due = plan_now(app, &schedule).await;
        let due_cases: Vec<&str> = due
            .iter()
            .find(|due| due.kind == Kind::Cases)
            .unwrap()
            .cases
            .iter()
            .map(|case| case.reference.as_str())
            .collect();
        assert_eq!(
            due_cases,
            vec![child_b.reference.as_str()],
            "only Child B: Adult H has open actions, Adult D a hold, the others open reviews"
        );
        assert_eq!(count_of(&due, Kind::Imports), 1);

        let applied = retention::apply(&app.db, &schedule, now, By::CommandLine)
            .await
            .unwrap();
        assert_eq!(
            applied.purged, due,
            "apply deletes exactly what plan listed"
        );
        assert_eq!(applied.files_removed, 2, "the case's file and the import");
        assert!(applied.files_left.is_empty());
        assert!(!dir.join(attachment.to_string()).exists());
        assert!(!import.exists());

        // Child B and everything of it are gone.
        assert!(
            cases::entity::Entity::find_by_id(child_b.id)
                .one(conn)
                .await
                .unwrap()
                .is_none()
        );
        for (table, rows) in rows_of_reviews(app, &b_reviews).await {
            assert_eq!(rows, 0, "{table} of Child B's reviews");
        }
        for action in &b_actions {
            assert!(actions::get(conn, action.id).await.is_err(), "its actions");
        }
        assert!(
            library::Entity::find()
                .filter(library::Column::PublishedFrom.is_in(b_reviews.clone()))
                .count(conn)
                .await
                .unwrap()
                == frozen_before,
            "what was published stays published"
        );
        published::review(conn, b_reviews[0]).await.unwrap();
        let (status, _) = app
            .get_text(&format!("/learning/reviews/{}", b_reviews[0]))
            .await;
        assert_eq!(
            status, 200,
            "the public report is still on the learning page"
        );

        // Adult H and Adult D stay.
        for case in [&adult_h, &adult_d] {
            assert!(
                cases::entity::Entity::find_by_id(case.id)
                    .one(conn)
                    .await
                    .unwrap()
                    .is_some()
            );
        }
        // The purge is one entry in a trail that still verifies.
        verify_trail(app).await;
        let entry = last_purge_entry(app).await;
        assert_eq!(entry.seq, applied.audit_seq);
        let reason = entry.reason.unwrap_or_default();
        assert!(reason.contains("cases 1"), "{reason}");
        assert!(reason.contains(&child_b.id.to_string()), "{reason}");
        assert!(!reason.contains("Child B"), "ids, never names: {reason}");
        assert_eq!(
            plan_now(app, &schedule)
                .await
                .iter()
                .find(|due| due.kind == Kind::Cases)
                .unwrap()
                .count,
            0
        );

        // Lifting the hold makes Adult D due; it goes with its reviewer and documents.
        assert_eq!(
            holds::lift(conn, adult_d.id, Some(manager), now)
                .await
                .unwrap(),
            1
        );
        let due = plan_now(app, &schedule).await;
        let due_cases: Vec<Uuid> = due
            .iter()
            .find(|due| due.kind == Kind::Cases)
            .unwrap()
            .cases
            .iter()
            .map(|case| case.id)
            .collect();
        assert_eq!(due_cases, vec![adult_d.id]);
        let applied = retention::apply(&app.db, &schedule, now, By::CommandLine)
            .await
            .unwrap();
        assert_eq!(applied.purged, due);
        assert!(
            cases::entity::Entity::find_by_id(adult_d.id)
                .one(conn)
                .await
                .unwrap()
                .is_none()
        );
        verify_trail(app).await;
        let _ = std::fs::remove_dir_all(&dir);
    }
);

fn worker(app: &TestApp, db: learnloop_core::Db, name: &str) -> Worker {
    Worker {
        db,
        clock: app.clock.clone(),
        mailer: Mailer::Memory(Arc::default()),
        from: "learnloop@fernbridge.example".to_string(),
        public_url: "http://learnloop.test".to_string(),
        name: name.to_string(),
    }
}

on_both_databases!(
    the_worker_purges_once_a_day_across_instances,
    demo,
    |app| async move {
        let dir = files_dir();
        let second = app.second_instance().await;
        let one = worker(app, app.db.clone(), "one");
        let two = worker(app, second.db.clone(), "two");
        let _session = app.sign_in(MANAGER).await;
        app.clock.advance(TimeDelta::days(100));

        let (a, b) = tokio::join!(
            one.retention_round(Some(&dir)),
            two.retention_round(Some(&dir))
        );
        let ran: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
        assert_eq!(ran.len(), 1, "of two instances, one purges");
        assert_eq!(count_of(&ran[0].purged, Kind::Sessions), 1);
        let entry = last_purge_entry(app).await;
        assert_eq!(entry.actor_role.as_deref(), Some("system"));
        assert_eq!(entry.actor_person_id, None);
        assert!(
            one.retention_round(Some(&dir)).await.unwrap().is_none(),
            "not twice a day"
        );
        assert_eq!(
            retention::last_run_on(app.db.conn()).await.unwrap(),
            Some(app.clock.now().date_naive())
        );

        app.clock.advance(TimeDelta::days(1));
        assert!(
            two.retention_round(Some(&dir)).await.unwrap().is_some(),
            "the next day, again"
        );
        assert!(one.retention_round(Some(&dir)).await.unwrap().is_none());
        let purges = app
            .query_strings("SELECT action FROM audit_log WHERE action = 'retention.purged'")
            .await;
        assert_eq!(purges.len(), 2, "one purge a day");
        verify_trail(app).await;
        second.stop().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
);

on_both_databases!(
    the_schedule_is_changed_one_period_at_a_time,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let (status, html) = manager.get_text("/admin/retention").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("90 days after the session was last used"),
            "{html}"
        );
        assert!(
            html.contains("7 years after the case&#39;s reviews closed")
                || html.contains("7 years after the case's reviews closed")
        );
        assert!(html.contains("href=\"/admin/retention/cases\""));

        let (status, html) = manager.get_text("/admin/retention/cases").await;
        assert_eq!(status, 200);
        assert!(html.contains("name=\"seen\" value=\"7\""));
        assert_eq!(
            manager.get("/admin/retention/everything").await.status(),
            404
        );

        let refused = manager
            .post_form("/admin/retention/cases", &[("period", "0"), ("seen", "7")])
            .await;
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(html.contains("Enter a whole number of years from 1 to 100"));

        let saved = manager
            .post_form("/admin/retention/cases", &[("period", "10"), ("seen", "7")])
            .await;
        assert_eq!(saved.status(), 303);
        assert_eq!(saved.headers()["location"], "/admin/retention");
        let schedule = Schedule::load(app.db.conn()).await.unwrap();
        assert_eq!(schedule.period(Kind::Cases), 10);
        assert_eq!(schedule.period(Kind::Sessions), 90);

        // A form drawn before that change is stale.
        let stale = manager
            .post_form("/admin/retention/cases", &[("period", "8"), ("seen", "7")])
            .await;
        assert_eq!(stale.status(), 409);
        assert!(stale.text().await.unwrap().contains("it is now 10 years"));
        assert_eq!(
            Schedule::load(app.db.conn())
                .await
                .unwrap()
                .period(Kind::Cases),
            10
        );
        let (entries, _) = audit::list(
            app.db.conn(),
            &audit::Filter {
                action_prefix: Some("retention.period_changed".to_string()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entries[0].record_id.as_deref(),
            Some("retention.case_years")
        );

        let executive = app.sign_in("executive@fernbridge.example").await;
        assert_eq!(executive.get("/admin/retention").await.status(), 403);
    }
);
