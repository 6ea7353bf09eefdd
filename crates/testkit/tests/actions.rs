#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Actions, action plans, reminders and the tracker's spreadsheets, through the pages, the API
//! and the background worker, on both databases.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use chrono::{Days, TimeDelta};
use learnloop_core::actions::{self, Rag, Rules, Status, plans, tracker};
use learnloop_core::clock::Clock;
use learnloop_core::mail::{Mailer, Sent};
use learnloop_core::reminders::Worker;
use learnloop_core::{agencies, people, tokens};
use learnloop_testkit::serde_json::{Value, json};
use learnloop_testkit::{TestApp, on_both_databases};

const MANAGER: &str = "business.manager@fernbridge.example";

async fn token(app: &TestApp, email: &str) -> String {
    let person = people::find_by_email(app.db.conn(), email)
        .await
        .unwrap()
        .unwrap();
    let now = app.clock.now();
    tokens::create(
        app.db.conn(),
        person.id,
        "test",
        now + chrono::Duration::days(30),
        now,
    )
    .await
    .unwrap()
    .1
}

async fn agency(app: &TestApp, code: &str) -> uuid::Uuid {
    agencies::find_by_code(app.db.conn(), code)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn person(app: &TestApp, email: &str) -> uuid::Uuid {
    people::find_by_email(app.db.conn(), email)
        .await
        .unwrap()
        .unwrap()
        .id
}

on_both_databases!(
    the_rag_filter_in_the_database_matches_the_rag_rule,
    demo,
    |app| async move {
        let today = app.clock.now().date_naive();
        let conn = app.db.conn();
        let owner = agency(app, "fbc-adults").await;
        let manager = person(app, MANAGER).await;
        // Every status against due dates either side of the window edges.
        for status in Status::ALL {
            for offset in [-30_i64, -1, 0, 1, 13, 14, 15, 60] {
                let due = today + TimeDelta::days(offset);
                actions::create(
                    conn,
                    &actions::NewAction {
                        source_kind: "direct".to_string(),
                        description: format!("RAG case {} {offset}", status.as_str()),
                        owner_agency_id: Some(owner),
                        due_on: due.format("%Y-%m-%d").to_string(),
                        status: Some(status.as_str().to_string()),
                        ..Default::default()
                    },
                    manager,
                    app.clock.now(),
                )
                .await
                .unwrap();
            }
        }
        let rules = Rules::load(conn).await.unwrap();
        let all = tracker::all(
            conn,
            &tracker::Filter::default(),
            today,
            rules.remind_days_before,
            100_000,
        )
        .await
        .unwrap();
        for rag in Rag::ALL {
            let filter = tracker::Filter {
                rag: Some(rag),
                ..Default::default()
            };
            let from_sql: BTreeSet<uuid::Uuid> =
                tracker::all(conn, &filter, today, rules.remind_days_before, 100_000)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|a| a.id)
                    .collect();
            let from_rule: BTreeSet<uuid::Uuid> = all
                .iter()
                .filter(|a| a.rag(today, rules.remind_days_before) == rag)
                .map(|a| a.id)
                .collect();
            assert_eq!(from_sql, from_rule, "{rag:?}");
            assert!(!from_rule.is_empty(), "{rag:?} is exercised");
        }
        // The dashboard's counts use the same rule.
        let counts = tracker::counts(conn, None, today, rules.remind_days_before)
            .await
            .unwrap();
        for rag in Rag::ALL {
            let counted: u64 = counts
                .iter()
                .filter(|((_, r), _)| *r == rag)
                .map(|(_, n)| *n)
                .sum();
            let expected = all
                .iter()
                .filter(|a| a.rag(today, rules.remind_days_before) == rag)
                .count() as u64;
            assert_eq!(counted, expected, "{rag:?}");
        }
    }
);

on_both_databases!(
    the_trackers_kept_totals_follow_every_change_and_its_pages_follow_the_due_order,
    demo,
    |app| async move {
        let today = app.clock.now().date_naive();
        let conn = app.db.conn();
        let rules = Rules::load(conn).await.unwrap();
        let window = rules.remind_days_before;
        let kept = tracker::KeptTotals::default();
        let owner = agency(app, "fbc-adults").await;
        let manager = person(app, MANAGER).await;
        let theme = learnloop_core::themes::list(conn).await.unwrap()[0]
            .code
            .clone();
        let red = tracker::Filter {
            rag: Some(Rag::Red),
            ..Default::default()
        };
        let themed = tracker::Filter {
            theme: Some(theme.clone()),
            ..Default::default()
        };
        let total = |filter: tracker::Filter| {
            let kept = kept.clone();
            async move {
                tracker::page(conn, &kept, &filter, today, window, 0, 5)
                    .await
                    .unwrap()
                    .1
            }
        };
        let red_before = total(red.clone()).await;
        let themed_before = total(themed.clone()).await;
        // Asked again with nothing changed: the kept total answers, and it is the same.
        assert_eq!(total(red.clone()).await, red_before);
        let action = actions::create(
            conn,
            &actions::NewAction {
                source_kind: "direct".to_string(),
                description: "Kept totals check".to_string(),
                owner_agency_id: Some(owner),
                due_on: (today + TimeDelta::days(60)).format("%Y-%m-%d").to_string(),
                themes: vec![theme.clone()],
                ..Default::default()
            },
            manager,
            app.clock.now(),
        )
        .await
        .unwrap();
        assert_eq!(
            total(themed.clone()).await,
            themed_before + 1,
            "a new themed action counts"
        );
        assert_eq!(
            total(red.clone()).await,
            red_before,
            "a green action is not red"
        );
        actions::updates::add(
            conn,
            action.id,
            &actions::updates::UpdateInput {
                status: "off_track".to_string(),
                narrative: "Slipped behind".to_string(),
            },
            action.version,
            &[],
            manager,
            app.clock.now(),
        )
        .await
        .unwrap();
        assert_eq!(
            total(red.clone()).await,
            red_before + 1,
            "off track is red at once"
        );
        // Every total equals a fresh count, and each page is the due-date order's slice.
        let all = tracker::all(conn, &red, today, window, 1_000_000)
            .await
            .unwrap();
        assert_eq!(all.len() as u64, red_before + 1);
        for offset in [0_u64, 5, 10] {
            let (rows, _) = tracker::page(conn, &kept, &red, today, window, offset, 5)
                .await
                .unwrap();
            let expected: Vec<uuid::Uuid> = all
                .iter()
                .skip(offset as usize)
                .take(5)
                .map(|a| a.id)
                .collect();
            assert_eq!(rows.iter().map(|a| a.id).collect::<Vec<_>>(), expected);
        }
    }
);

on_both_databases!(
    an_agency_lead_updates_with_evidence_and_a_stale_update_is_refused,
    demo,
    |app| async move {
        let conn = app.db.conn();
        let police = agency(app, "wealdshire-police").await;
        let rules = Rules::load(conn).await.unwrap();
        let today = app.clock.now().date_naive();
        let police_action = tracker::all(
            conn,
            &tracker::Filter {
                agencies: Some(vec![police]),
                ..Default::default()
            },
            today,
            rules.remind_days_before,
            10,
        )
        .await
        .unwrap()
        .into_iter()
        .find(|a| !a.status().is_done())
        .expect("the demo has an open police action");
        let other = tracker::all(
            conn,
            &tracker::Filter {
                agencies: Some(vec![agency(app, "fbc-adults").await]),
                ..Default::default()
            },
            today,
            rules.remind_days_before,
            10,
        )
        .await
        .unwrap()
        .remove(0);
        let lead = app.sign_in("police.lead@fernbridge.example").await;
        let (_, tracker_page) = lead.get_text("/actions").await;
        assert!(tracker_page.contains(&police_action.reference));
        assert!(
            !tracker_page.contains(&other.reference),
            "only their agency's actions"
        );
        assert_eq!(
            lead.get(&format!("/actions/{}", other.id)).await.status(),
            404
        );
        let (status, page) = lead
            .get_text(&format!("/actions/{}", police_action.id))
            .await;
        assert_eq!(status, 200);
        assert!(page.contains("Add an update"));

        let post =
            |version: i32, narrative: &'static str, file: Option<(&'static str, &'static [u8])>| {
                let mut form = reqwest::multipart::Form::new()
                    .text("csrf_token", lead.csrf.clone())
                    .text("version", version.to_string())
                    .text("status", "on_track")
                    .text("narrative", narrative);
                if let Some((name, bytes)) = file {
                    form = form.part(
                        "evidence",
                        reqwest::multipart::Part::bytes(bytes).file_name(name),
                    );
                }
                lead.client
                    .post(lead.url(&format!("/actions/{}/updates", police_action.id)))
                    .header("origin", &lead.base_url)
                    .multipart(form)
                    .send()
            };
        let refused = post(
            police_action.version,
            "Evidence attached",
            Some(("evidence.exe", b"MZ")),
        )
        .await
        .unwrap();
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains("href=\"#evidence\""));
        let saved = post(
            police_action.version,
            "Briefing delivered to all response teams",
            Some(("briefing-attendance.txt", b"42 officers attended")),
        )
        .await
        .unwrap();
        assert_eq!(saved.status(), 303);
        let stale = post(police_action.version, "My stale narrative", None)
            .await
            .unwrap();
        assert_eq!(stale.status(), 409);
        let html = stale.text().await.unwrap();
        assert!(
            html.contains("Briefing delivered to all response teams"),
            "shows what changed"
        );
        assert!(html.contains("My stale narrative"), "keeps what they typed");
        let after = actions::get(conn, police_action.id).await.unwrap();
        assert_eq!(after.status(), Status::OnTrack);
        assert_eq!(after.version, police_action.version + 1);
        let history = actions::updates::of_action(conn, police_action.id)
            .await
            .unwrap();
        assert_eq!(
            history[0].narrative,
            "Briefing delivered to all response teams"
        );
        assert!(history.len() >= 2, "earlier updates are kept");
        let files = actions::updates::evidence_of(conn, vec![history[0].id])
            .await
            .unwrap();
        assert_eq!(files.len(), 1);
        let download = lead
            .get(&format!(
                "/actions/{}/evidence/{}",
                police_action.id, files[0].id
            ))
            .await;
        assert_eq!(download.status(), 200);
        assert_eq!(download.text().await.unwrap(), "42 officers attended");

        // The API: 428 without If-Match, 412 when stale, 201 with the current ETag.
        let token = token(app, "police.lead@fernbridge.example").await;
        let url = app.url(&format!("/api/v1/actions/{}/updates", police_action.id));
        let body = json!({"status": "at_risk", "narrative": "Staff moved to another operation"});
        let missing = app
            .client
            .post(&url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 428);
        let stale = app
            .client
            .post(&url)
            .bearer_auth(&token)
            .header("if-match", format!("\"v{}\"", police_action.version))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 412);
        let read = app
            .client
            .get(app.url(&format!("/api/v1/actions/{}", police_action.id)))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let etag = read.headers()["etag"].to_str().unwrap().to_string();
        let current: Value = read.json().await.unwrap();
        assert_eq!(
            current["updates"][0]["evidence"][0],
            "briefing-attendance.txt"
        );
        let fresh = app
            .client
            .post(&url)
            .bearer_auth(&token)
            .header("if-match", etag)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(fresh.status(), 201);
        let updated: Value = fresh.json().await.unwrap();
        assert_eq!(updated["status"], "at_risk");
        let list: Value = app
            .client
            .get(app.url("/api/v1/actions?per_page=2&rag=amber"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(list["items"].as_array().unwrap().len() <= 2);
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["owner_agency_id"] == police.to_string() && a["rag"] == "amber")
        );
        let bad = app
            .client
            .get(app.url("/api/v1/actions?rag=purple"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        let body: Value = bad.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("rag:")
        );
    }
);

on_both_databases!(
    signing_off_a_plan_schedules_an_assurance_check_twelve_months_on,
    demo,
    |app| async move {
        let conn = app.db.conn();
        let manager = app.sign_in(MANAGER).await;
        let created = manager
            .post_form(
                "/action-plans/new",
                &[
                    ("title", "Test plan"),
                    ("source_kind", "audit"),
                    ("review_id", ""),
                    ("group_id", ""),
                ],
            )
            .await;
        assert_eq!(created.status(), 303);
        let plan_id = created.headers()["location"]
            .to_str()
            .unwrap()
            .trim_start_matches("/action-plans/")
            .to_string();
        let today = app.clock.now().date_naive();
        let owner = agency(app, "fbc-childrens").await.to_string();
        let added = manager
            .post_form(
                "/actions/new",
                &[
                    ("plan_id", &plan_id),
                    ("source_kind", "audit"),
                    ("description", "Audit twenty plans for the child's voice"),
                    ("owner_agency_id", &owner),
                    ("lead_person_id", ""),
                    (
                        "due_on",
                        &(today + Days::new(30)).format("%Y-%m-%d").to_string(),
                    ),
                    ("intended_outcome", "Plans record what children say"),
                    ("success_evidence", "Re-audit"),
                ],
            )
            .await;
        assert_eq!(added.status(), 303);
        let action_id = added.headers()["location"]
            .to_str()
            .unwrap()
            .trim_start_matches("/actions/")
            .to_string();
        let refused = manager
            .post_form(&format!("/action-plans/{plan_id}/sign-off"), &[])
            .await;
        assert_eq!(refused.status(), 422, "not while an action is open");
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("Sign off every action first")
        );
        let action = actions::get(conn, uuid::Uuid::parse_str(&action_id).unwrap())
            .await
            .unwrap();
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", manager.csrf.clone())
            .text("version", action.version.to_string())
            .text("status", "completed")
            .text("narrative", "Audit done; results to the group");
        let done = manager
            .client
            .post(manager.url(&format!("/actions/{action_id}/updates")))
            .header("origin", &manager.base_url)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 303);
        let signed = manager
            .post_form(
                &format!("/actions/{action_id}/sign-off"),
                &[("version", &(action.version + 1).to_string())],
            )
            .await;
        assert_eq!(signed.status(), 303);
        let signed = manager
            .post_form(&format!("/action-plans/{plan_id}/sign-off"), &[])
            .await;
        assert_eq!(signed.status(), 303);
        let plan_uuid = uuid::Uuid::parse_str(&plan_id).unwrap();
        let checks = actions::assurance::of_plan(conn, plan_uuid).await.unwrap();
        assert_eq!(checks.len(), 1);
        assert_eq!(
            checks[0].due_on,
            today.checked_add_months(chrono::Months::new(12)).unwrap()
        );
        let (_, page) = manager.get_text(&format!("/action-plans/{plan_id}")).await;
        assert!(page.contains("Not due yet."));
        let early = manager
            .post_form(
                &format!("/action-plans/{plan_id}/assurance/{}", checks[0].id),
                &[
                    ("embedded", "yes"),
                    ("evidence_kind", "re_audit"),
                    ("evidence", "x"),
                    ("judgement", "y"),
                ],
            )
            .await;
        assert_eq!(early.status(), 422, "not before it is due");

        // Twelve months on, the check is due; "not embedded" reopens the plan.
        app.clock.advance(TimeDelta::days(366));
        let manager = app.sign_in(MANAGER).await;
        let (_, page) = manager.get_text(&format!("/action-plans/{plan_id}")).await;
        assert!(page.contains("Due now"));
        let missing = manager
            .post_form(
                &format!("/action-plans/{plan_id}/assurance/{}", checks[0].id),
                &[("embedded", "no")],
            )
            .await;
        assert_eq!(missing.status(), 422);
        let html = missing.text().await.unwrap();
        assert!(html.contains("href=\"#evidence_kind\"") && html.contains("href=\"#judgement\""));
        let recorded = manager
            .post_form(
                &format!("/action-plans/{plan_id}/assurance/{}", checks[0].id),
                &[
                    ("embedded", "no"),
                    ("evidence_kind", "re_audit"),
                    (
                        "evidence",
                        "Re-audit: the child's voice recorded in 6 of 20 plans",
                    ),
                    ("judgement", "Not embedded: recording templates unchanged"),
                ],
            )
            .await;
        assert_eq!(recorded.status(), 303);
        assert_eq!(
            plans::get(conn, plan_uuid).await.unwrap().status,
            "reopened"
        );
        let reopened = actions::get(conn, action.id).await.unwrap();
        assert_eq!(reopened.status(), Status::AtRisk);
        assert_eq!(reopened.signed_off_on, None);
    }
);

on_both_databases!(
    each_reminder_is_sent_once_by_two_instances,
    demo,
    |app| async move {
        let second = app.second_instance().await;
        let already: usize = learnloop_core::mail::recent(app.db.conn(), 0, 1)
            .await
            .unwrap()
            .1 as usize;
        // New reminders on the next day, so the workers have work to share.
        app.clock.advance(TimeDelta::days(1));
        let boxes: Vec<Arc<Mutex<Vec<Sent>>>> = vec![Arc::default(), Arc::default()];
        let worker = |db: learnloop_core::Db, sent: Arc<Mutex<Vec<Sent>>>, name: &str| Worker {
            db,
            clock: app.clock.clone(),
            mailer: Mailer::Memory(sent),
            from: "learnloop@fernbridge.example".to_string(),
            public_url: "http://learnloop.test".to_string(),
            name: name.to_string(),
        };
        let one = worker(app.db.clone(), boxes[0].clone(), "one");
        let two = worker(second.db.clone(), boxes[1].clone(), "two");
        for _ in 0..3 {
            let (a, b) = tokio::join!(one.tick(), two.tick());
            a.unwrap();
            b.unwrap();
        }
        let sent: Vec<Sent> = boxes
            .iter()
            .flat_map(|b| b.lock().unwrap().clone())
            .collect();
        let ids: BTreeSet<uuid::Uuid> = sent.iter().map(|s| s.outbox_id).collect();
        assert_eq!(ids.len(), sent.len(), "no email sent twice");
        let (all, total) = learnloop_core::mail::recent(app.db.conn(), 0, 10_000)
            .await
            .unwrap();
        assert!(total as usize >= already);
        assert!(
            all.iter().all(|email| email.sent_at.is_some()),
            "every email sent"
        );
        let keys: BTreeSet<&str> = all.iter().map(|e| e.dedupe_key.as_str()).collect();
        assert_eq!(keys.len(), all.len(), "one email per reminder");
        assert!(
            all.iter()
                .any(|e| e.kind == "escalation" && e.to_email == "police.lead@fernbridge.example"),
            "the overdue police action is escalated to the police safeguarding lead"
        );
        assert!(all.iter().any(|e| e.kind == "overdue"));
        assert!(all.iter().any(|e| e.kind == "digest"));
        // A failed send is retried later, and counted.
        let failing = Worker {
            mailer: Mailer::Smtp(learnloop_core::mail::smtp::Relay {
                host: "127.0.0.1".to_string(),
                port: 9,
            }),
            ..worker(app.db.clone(), Arc::default(), "failing")
        };
        let manager = person(app, MANAGER).await;
        actions::create(
            app.db.conn(),
            &actions::NewAction {
                source_kind: "direct".to_string(),
                description: "Due tomorrow".to_string(),
                owner_agency_id: Some(agency(app, "fbc-adults").await),
                lead_person_id: Some(manager),
                due_on: (app.clock.now().date_naive() + Days::new(1))
                    .format("%Y-%m-%d")
                    .to_string(),
                ..Default::default()
            },
            manager,
            app.clock.now(),
        )
        .await
        .unwrap();
        let (_, sent) = failing.tick().await.unwrap();
        assert_eq!(sent, 0);
        let (all, _) = learnloop_core::mail::recent(app.db.conn(), 0, 10_000)
            .await
            .unwrap();
        let pending: Vec<_> = all.iter().filter(|e| e.sent_at.is_none()).collect();
        assert!(
            pending.iter().any(|e| e.kind == "due_soon"),
            "the new reminder is waiting"
        );
        assert!(
            pending
                .iter()
                .all(|e| e.attempts == 1 && e.last_error.is_some()),
            "each failure is counted and kept"
        );
        let (_, sent) = one.tick().await.unwrap();
        assert_eq!(sent, 0, "not retried before the delay");
        app.clock.advance(TimeDelta::minutes(5));
        let (_, sent) = one.tick().await.unwrap();
        assert_eq!(sent, pending.len(), "retried once the delay has passed");
        second.stop().await;
    }
);

fn import_form(csrf: &str, name: &'static str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("csrf_token", csrf.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        )
}

/// Uploads a tracker; returns the import's id from the mapping page.
async fn upload(
    browser: &learnloop_testkit::Browser,
    name: &'static str,
    bytes: Vec<u8>,
) -> (u16, String) {
    let response = browser
        .client
        .post(browser.url("/actions/import"))
        .header("origin", &browser.base_url)
        .multipart(import_form(&browser.csrf, name, bytes))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn import_id(html: &str) -> String {
    let marker = "action=\"/actions/import/";
    let start = html.find(marker).expect("the mapping form") + marker.len();
    html[start..start + 36].to_string()
}

/// The mapping the page suggested, as form fields.
fn suggested(html: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for (field, _, _) in actions::import::FIELDS {
        let marker = format!("name=\"{field}\">");
        let Some(start) = html.find(&marker) else {
            continue;
        };
        let rest = &html[start..];
        let end = rest.find("</select>").unwrap();
        if let Some(selected) = rest[..end].find("\" selected") {
            let before = &rest[..selected];
            let value = &before[before.rfind("value=\"").unwrap() + 7..];
            fields.push((field.to_string(), value.to_string()));
        }
    }
    fields
}

on_both_databases!(
    an_xlsx_export_imports_into_an_empty_partnership_as_the_same_actions,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        app.step_up(&manager).await;
        let response = manager.get("/actions/export.xlsx").await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let bytes = response.bytes().await.unwrap().to_vec();
        let exported = actions::Entity::find_all(app.db.conn()).await;

        // An empty partnership with the same agencies and people (by code and email).
        let empty = TestApp::start(app.backend).await;
        let now = empty.clock.now();
        for a in agencies::list(app.db.conn()).await.unwrap() {
            agencies::ensure(
                empty.db.conn(),
                agencies::NewAgency {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    agency_type: a.agency_type,
                    partnership_ids: vec![],
                },
            )
            .await
            .unwrap();
        }
        let adults = agencies::find_by_code(empty.db.conn(), "fbc-adults")
            .await
            .unwrap()
            .unwrap();
        for p in people::list(app.db.conn()).await.unwrap() {
            people::ensure(
                empty.db.conn(),
                people::NewPerson {
                    name: p.name.clone(),
                    email: p.email.clone(),
                    agency_id: adults.id,
                    job_title: None,
                },
            )
            .await
            .unwrap();
        }
        let _ = now;
        let importer = empty
            .add_person(
                "importer@fernbridge.example",
                "fbc-adults",
                learnloop_core::access::Role::BusinessManager,
                None,
                None,
            )
            .await;
        let _ = importer;
        let browser = empty.sign_in("importer@fernbridge.example").await;
        let (status, html) = upload(&browser, "actions.xlsx", bytes).await;
        assert_eq!(status, 200, "{html}");
        let id = import_id(&html);
        let mapping = suggested(&html);
        assert_eq!(
            mapping.len(),
            actions::import::FIELDS.len(),
            "our own export maps itself: {mapping:?}"
        );
        let fields: Vec<(&str, &str)> = mapping
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let preview = browser
            .post_form(&format!("/actions/import/{id}/preview"), &fields)
            .await;
        assert_eq!(preview.status(), 200);
        let html = preview.text().await.unwrap();
        assert!(
            html.contains(&format!("{} rows ready; 0 with problems", exported.len())),
            "preview"
        );
        let committed = browser
            .post_form(&format!("/actions/import/{id}/commit"), &fields)
            .await;
        assert_eq!(committed.status(), 303);

        let imported = actions::Entity::find_all(empty.db.conn()).await;
        let shape =
            |app_actions: Vec<(actions::Model, Vec<String>)>,
             agencies_by_id: std::collections::HashMap<uuid::Uuid, String>,
             people_by_id: std::collections::HashMap<uuid::Uuid, String>| {
                let mut rows: Vec<String> = app_actions
                    .into_iter()
                    .map(|(a, themes)| {
                        format!(
                            "{}|{}|{}|{}|{}|{}|{}|{}|{}",
                            a.description,
                            agencies_by_id[&a.owner_agency_id],
                            a.lead_person_id
                                .map(|p| people_by_id[&p].clone())
                                .unwrap_or_default(),
                            a.due_on,
                            a.status,
                            a.source_kind,
                            a.intended_outcome,
                            a.success_evidence,
                            themes.join(";")
                        )
                    })
                    .collect();
                rows.sort();
                rows
            };
        let maps = |conn: &learnloop_testkit::sea_orm::DatabaseConnection| {
            let conn = conn.clone();
            async move {
                let a: std::collections::HashMap<_, _> = agencies::list(&conn)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|a| (a.id, a.code))
                    .collect();
                let p: std::collections::HashMap<_, _> = people::list(&conn)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|p| (p.id, p.email))
                    .collect();
                (a, p)
            }
        };
        let (a1, p1) = maps(app.db.conn()).await;
        let (a2, p2) = maps(empty.db.conn()).await;
        assert_eq!(shape(exported, a1, p1), shape(imported, a2, p2));
        empty.stop().await;
    }
);

on_both_databases!(
    a_bad_import_names_the_row_and_column_and_imports_nothing,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let before = actions::Entity::find_all(app.db.conn()).await.len();
        let csv = "Action,Agency,Due,Lead\r\n\
                   Good row,fbc-adults,2027-01-31,\r\n\
                   Bad date,fbc-adults,31st of never,\r\n\
                   Unknown agency,no-such-agency,2027-01-31,\r\n\
                   Missing owner,,2027-01-31,\r\n";
        let (status, html) = upload(&manager, "tracker.csv", csv.as_bytes().to_vec()).await;
        assert_eq!(status, 200);
        let id = import_id(&html);
        let mapping = suggested(&html);
        let fields: Vec<(&str, &str)> = mapping
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let preview = manager
            .post_form(&format!("/actions/import/{id}/preview"), &fields)
            .await;
        let html = preview.text().await.unwrap();
        assert!(html.contains("1 row ready; 3 with problems"), "{html}");
        assert!(html.contains("Row 3, column “Due”: “31st of never” is not a date"));
        assert!(html.contains("Row 4, column “Agency”: “no-such-agency” is not an agency here"));
        assert!(html.contains("Row 5, column “Agency”: Choose the agency that owns the action"));
        let committed = manager
            .post_form(&format!("/actions/import/{id}/commit"), &fields)
            .await;
        assert_eq!(committed.status(), 422);
        assert_eq!(
            actions::Entity::find_all(app.db.conn()).await.len(),
            before,
            "nothing imported"
        );
        // A mapping without a required column is refused by name.
        let partial: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(k, _)| *k != "due_on")
            .copied()
            .collect();
        let refused = manager
            .post_form(&format!("/actions/import/{id}/preview"), &partial)
            .await;
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains("href=\"#due_on\""));
        // Another person cannot use this import.
        let other = app.sign_in("review.member@fernbridge.example").await;
        let stolen = other
            .post_form(&format!("/actions/import/{id}/commit"), &fields)
            .await;
        assert_eq!(stolen.status(), 404);
        let (status, _) = upload(&manager, "tracker.pdf", b"%PDF-1.4".to_vec()).await;
        assert_eq!(status, 422);
    }
);

/// Every action, for comparisons.
trait FindAll {
    async fn find_all(
        conn: &learnloop_testkit::sea_orm::DatabaseConnection,
    ) -> Vec<(actions::Model, Vec<String>)>;
}

impl FindAll for actions::Entity {
    async fn find_all(
        conn: &learnloop_testkit::sea_orm::DatabaseConnection,
    ) -> Vec<(actions::Model, Vec<String>)> {
        let today = chrono::Utc::now().date_naive();
        let all = tracker::all(conn, &tracker::Filter::default(), today, 14, 1_000_000)
            .await
            .unwrap();
        let mut out = Vec::new();
        for action in all {
            let themes = actions::themes_of(conn, action.id).await.unwrap();
            out.push((action, themes));
        }
        out
    }
}
