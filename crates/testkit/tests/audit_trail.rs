#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The audit trail: written with the change it records, hash-chained, and `verify` names the
//! first entry that was edited, deleted, reordered or cut off, every time.

use learnloop_core::audit::{self, Event};
use learnloop_core::clock::Clock;
use learnloop_testkit::sea_orm::{ConnectionTrait, EntityTrait, TransactionTrait};
use learnloop_testkit::{TestApp, on_both_databases};

async fn write_entries(app: &TestApp, count: usize) {
    for index in 0..count {
        let txn = app.db.write().await.unwrap();
        let event = Event::new("test.entry", "succeeded")
            .on("test", index)
            .from_source(Some("127.0.0.1".to_string()));
        audit::append(&txn, event, app.clock.now()).await.unwrap();
        txn.commit().await.unwrap();
    }
}

async fn max_seq(app: &TestApp) -> i64 {
    app.query_strings("SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM audit_log")
        .await[0]
        .parse()
        .unwrap()
}

/// Applies `tamper` inside a transaction, verifies inside it, and rolls it back.
async fn detected(app: &TestApp, tamper: &[String]) -> Option<(i64, String)> {
    let txn = app.db.conn().begin().await.unwrap();
    for statement in tamper {
        txn.execute_unprepared(statement).await.unwrap();
    }
    let report = audit::verify(&txn, |_| {}).await.unwrap();
    txn.rollback().await.unwrap();
    report.first_problem
}

on_both_databases!(
    every_kind_of_tampering_is_found_at_the_right_entry,
    demo,
    |app| async move {
        app.sign_in("business.manager@fernbridge.example").await;
        write_entries(app, 12).await;
        let last = max_seq(app).await;
        assert!(last >= 14, "{last}");
        let intact = audit::verify(app.db.conn(), |_| {}).await.unwrap();
        assert_eq!(intact.first_problem, None);
        assert_eq!(intact.entries_checked as i64, last);

        let mut checks = 0;
        for seq in 1..=last {
            // Edited: any field of any entry.
            let edited = detected(
                app,
                &[format!(
                    "UPDATE audit_log SET outcome = 'denied' WHERE seq = {seq}"
                )],
            )
            .await;
            assert_eq!(
                edited.as_ref().map(|problem| problem.0),
                Some(seq),
                "edit of {seq}"
            );
            assert!(edited.unwrap().1.contains("changed"));
            // Deleted.
            let deleted =
                detected(app, &[format!("DELETE FROM audit_log WHERE seq = {seq}")]).await;
            assert!(deleted.is_some(), "deletion of {seq}");
            assert_eq!(deleted.unwrap().0, seq, "deletion of {seq} is named");
            checks += 2;
            // Reordered: this entry and the next swap places.
            if seq < last {
                let next = seq + 1;
                let reordered = detected(
                    app,
                    &[
                        format!("UPDATE audit_log SET seq = -1 WHERE seq = {seq}"),
                        format!("UPDATE audit_log SET seq = {seq} WHERE seq = {next}"),
                        format!("UPDATE audit_log SET seq = {next} WHERE seq = -1"),
                    ],
                )
                .await;
                assert_eq!(
                    reordered.map(|problem| problem.0),
                    Some(seq),
                    "swap of {seq} and {next}"
                );
                checks += 1;
            }
            // Truncated: everything from this entry on is cut off.
            let truncated =
                detected(app, &[format!("DELETE FROM audit_log WHERE seq >= {seq}")]).await;
            assert_eq!(
                truncated.as_ref().map(|problem| problem.0),
                Some(seq),
                "truncation at {seq}"
            );
            checks += 1;
        }
        assert!(checks >= 4 * last - 1);
        // Rewriting an entry together with its own hash is still found, at the next entry.
        let entry = audit::Entity::find_by_id(3)
            .one(app.db.conn())
            .await
            .unwrap()
            .unwrap();
        let mut forged = entry.clone();
        forged.action = "forged".to_string();
        forged.hash = audit::entry_hash(&forged);
        let found = detected(
            app,
            &[format!(
                "UPDATE audit_log SET action = 'forged', hash = '{}' WHERE seq = 3",
                forged.hash
            )],
        )
        .await;
        assert_eq!(found.map(|problem| problem.0), Some(4));
    }
);

on_both_databases!(
    concurrent_writers_on_two_instances_keep_one_chain,
    demo,
    |app| async move {
        let other = app.second_instance().await;
        let mut tasks = Vec::new();
        for index in 0..40 {
            let db = if index % 2 == 0 {
                app.db.clone()
            } else {
                other.db.clone()
            };
            let now = app.clock.now();
            tasks.push(tokio::spawn(async move {
                let txn = db.write().await.unwrap();
                audit::append(
                    &txn,
                    Event::new("test.concurrent", "succeeded").on("test", index),
                    now,
                )
                .await
                .unwrap();
                txn.commit().await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let report = audit::verify(app.db.conn(), |_| {}).await.unwrap();
        assert_eq!(report.first_problem, None);
        assert_eq!(
            app.query_strings(
                "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'test.concurrent'"
            )
            .await,
            ["40"]
        );
        other.stop().await;
    }
);

on_both_databases!(
    an_entry_is_written_only_if_its_change_commits,
    demo,
    |app| async move {
        let before = max_seq(app).await;
        let txn = app.db.write().await.unwrap();
        audit::append(
            &txn,
            Event::new("test.rolled_back", "succeeded"),
            app.clock.now(),
        )
        .await
        .unwrap();
        txn.rollback().await.unwrap();
        assert_eq!(max_seq(app).await, before);
        assert_eq!(
            audit::verify(app.db.conn(), |_| {})
                .await
                .unwrap()
                .first_problem,
            None
        );
    }
);

on_both_databases!(
    the_trail_page_lists_and_filters_and_is_itself_recorded,
    demo,
    |app| async move {
        app.sign_in("police.lead@fernbridge.example").await;
        let police =
            learnloop_core::people::find_by_email(app.db.conn(), "police.lead@fernbridge.example")
                .await
                .unwrap()
                .unwrap();
        let manager = app.sign_in("business.manager@fernbridge.example").await;
        let (status, html) = manager
            .get_text(&format!("/admin/audit?person={}", police.id))
            .await;
        assert_eq!(status, 200);
        assert!(html.contains("second_factor.succeeded"), "{html}");
        assert!(
            !html.contains("Robin Ashdown</td>"),
            "only the police lead's entries"
        );
        let (status, html) = manager.get_text("/admin/audit?from=not-a-date").await;
        assert_eq!(status, 200);
        assert!(html.contains("govuk-error-summary") && html.contains("href=\"#from\""));
        let (_, html) = manager.get_text("/admin/audit?action=audit.view").await;
        assert!(
            html.contains("audit.view"),
            "looking at the trail is recorded"
        );
    }
);
