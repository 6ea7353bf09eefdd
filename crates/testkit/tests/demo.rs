#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The demo partnership: real kinds of agency, the named groups, a person for each role, and
//! seeding twice duplicates nothing.

use learnloop_core::{agencies, demo, groups, people};
use learnloop_testkit::on_both_databases;

on_both_databases!(seeding_twice_duplicates_nothing, empty, |app| async move {
    let txn = app.db.write().await.expect("begin");
    let first = demo::seed(&txn, chrono::Utc::now()).await.expect("seed");
    txn.commit().await.expect("commit");
    let txn = app.db.write().await.expect("begin");
    let second = demo::seed(&txn, chrono::Utc::now())
        .await
        .expect("seed again");
    txn.commit().await.expect("commit");
    assert_eq!(first, second);
    assert_eq!(first.partnerships, 3);
    assert!(first.agencies >= 10);
    assert_eq!(first.groups, 5);
    assert_eq!(first.people, demo::PEOPLE.len());
    let memberships = app
        .query_strings("SELECT CAST(COUNT(*) AS TEXT) FROM group_members")
        .await;
    let txn = app.db.write().await.expect("begin");
    demo::seed(&txn, chrono::Utc::now())
        .await
        .expect("seed a third time");
    txn.commit().await.expect("commit");
    assert_eq!(
        memberships,
        app.query_strings("SELECT CAST(COUNT(*) AS TEXT) FROM group_members")
            .await
    );
});

on_both_databases!(
    the_demo_has_the_kinds_of_agency_and_groups_the_framework_names,
    empty,
    |app| async move {
        let txn = app.db.write().await.expect("begin");
        demo::seed(&txn, chrono::Utc::now()).await.expect("seed");
        txn.commit().await.expect("commit");
        let conn = app.db.conn();
        let types: Vec<agencies::AgencyType> = agencies::list(conn)
            .await
            .expect("list")
            .into_iter()
            .map(|a| a.agency_type)
            .collect();
        for wanted in [
            agencies::AgencyType::ChildrensSocialCare,
            agencies::AgencyType::AdultSocialCare,
            agencies::AgencyType::Police,
            agencies::AgencyType::IntegratedCareBoard,
            agencies::AgencyType::NhsAcuteTrust,
            agencies::AgencyType::Probation,
            agencies::AgencyType::Education,
            agencies::AgencyType::Housing,
        ] {
            assert!(types.contains(&wanted), "{wanted:?}");
        }
        let names: Vec<String> = groups::list(conn)
            .await
            .expect("list")
            .into_iter()
            .map(|g| g.name)
            .collect();
        for wanted in [
            "Review Group",
            "Quality Assurance",
            "Practice Improvement",
            "Safeguarding Executive",
        ] {
            assert!(names.iter().any(|name| name == wanted), "{wanted}");
        }
        for (email, ..) in demo::PEOPLE {
            assert!(
                email.ends_with(".example"),
                "demo addresses are on a reserved domain"
            );
            assert!(
                people::find_by_email(conn, email)
                    .await
                    .expect("q")
                    .is_some()
            );
        }
    }
);
