#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Reviews from commissioning to publication, through the pages and the API, on both
//! databases: the stage clocks and slippage, the reviewer's scope and its end date, agency
//! contributions and documents, the anonymisation check and publication, the tracker export.

use chrono::{NaiveDate, TimeDelta};
use learnloop_core::access::Role;
use learnloop_core::clock::Clock;
use learnloop_core::demo::DEMO_REVIEW_ID;
use learnloop_core::reviews::{self, contributions, documents, entries};
use learnloop_core::{people, tokens};
use learnloop_testkit::serde_json::Value;
use learnloop_testkit::{Browser, TestApp, on_both_databases};

const MANAGER: &str = "business.manager@fernbridge.example";

async fn case_of(app: &TestApp, pseudonym: &str) -> learnloop_core::cases::CaseRecord {
    let (all, _) = learnloop_core::cases::list(app.db.conn(), None, 0, 1_000)
        .await
        .unwrap();
    all.into_iter()
        .find(|record| record.case.pseudonym == pseudonym)
        .unwrap_or_else(|| panic!("no case {pseudonym}"))
}

async fn case_id(app: &TestApp, pseudonym: &str) -> String {
    case_of(app, pseudonym).await.case.id.to_string()
}

async fn stored(app: &TestApp, id: &str) -> reviews::Model {
    reviews::get(app.db.conn(), uuid::Uuid::parse_str(id).unwrap())
        .await
        .unwrap()
}

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

async fn api(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Commissions a review through the page; returns its id.
async fn commission(browser: &Browser, case_id: &str, review_type: &str, on: &str) -> String {
    let response = browser
        .post_form(
            "/reviews/new",
            &[
                ("case_id", case_id),
                ("review_type", review_type),
                ("commissioned_on", on),
                ("partnership_id", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "commissioned");
    response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/reviews/")
        .to_string()
}

fn stage<'a>(review: &'a Value, key: &str) -> &'a Value {
    review["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no stage {key}"))
}

async fn complete_all_before_publication(browser: &Browser, review: &Value, today: &str) {
    let id = review["id"].as_str().unwrap();
    for stage in review["stages"].as_array().unwrap() {
        let key = stage["key"].as_str().unwrap();
        if key == "publication" {
            break;
        }
        let response = browser
            .post_form(
                &format!("/reviews/{id}/stages/{key}/complete"),
                &[("on", today), ("reason", "Test: recorded late")],
            )
            .await;
        assert_eq!(response.status(), 303, "completed {key}");
    }
}

on_both_databases!(
    stage_clocks_come_from_configuration_and_slippage_needs_a_reason,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let token = token(app, MANAGER).await;
        let child = case_id(app, "Child R").await;
        let id = commission(&manager, &child, "cspr_local", "2026-06-01").await;
        let (status, review) = api(app, &token, &format!("/api/v1/reviews/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(review["review_type"], "cspr_local");
        // Six months from the decision; each stage on the working-day calendar.
        assert_eq!(review["report_due_on"], "2026-12-01");
        assert_eq!(
            stage(&review, "scoping")["due_on"],
            "2026-06-15",
            "10 working days"
        );
        assert_eq!(
            stage(&review, "information_gathering")["due_on"],
            "2026-07-31",
            "two months lands on a Saturday: the Friday before"
        );
        assert_eq!(stage(&review, "publication")["due_on"], "2026-12-01");
        assert_eq!(
            stage(&review, "pre_publication_notice")["due_on"],
            "2026-11-20",
            "the national panel gets the report 7 working days before publication"
        );
        assert_eq!(stage(&review, "sign_off")["due_on"], "2026-11-17");

        // A required stage cannot be skipped.
        let skipped = manager
            .post_form(
                &format!("/reviews/{id}/stages/terms_of_reference/complete"),
                &[("on", "2026-06-10"), ("reason", "")],
            )
            .await;
        assert_eq!(skipped.status(), 422);
        let html = skipped.text().await.unwrap();
        assert!(html.contains("Complete “Scoping” first"), "names the stage");
        assert!(html.contains("href=\"#on-terms_of_reference\""));

        // Late without a reason: refused, and nothing written.
        let late = manager
            .post_form(
                &format!("/reviews/{id}/stages/scoping/complete"),
                &[("on", "2026-06-19"), ("reason", "")],
            )
            .await;
        assert_eq!(late.status(), 422);
        assert!(
            late.text()
                .await
                .unwrap()
                .contains("4 working days after the due date")
        );
        let (_, review) = api(app, &token, &format!("/api/v1/reviews/{id}")).await;
        assert_eq!(stage(&review, "scoping")["completed_on"], Value::Null);

        let late = manager
            .post_form(
                &format!("/reviews/{id}/stages/scoping/complete"),
                &[
                    ("on", "2026-06-19"),
                    ("reason", "Police disclosure took longer"),
                ],
            )
            .await;
        assert_eq!(late.status(), 303);
        let (_, review) = api(app, &token, &format!("/api/v1/reviews/{id}")).await;
        assert_eq!(stage(&review, "scoping")["completed_on"], "2026-06-19");
        assert_eq!(stage(&review, "scoping")["slipped_working_days"], 4);
        assert_eq!(
            stage(&review, "scoping")["slippage_reason"],
            "Police disclosure took longer"
        );
        assert_eq!(review["stage"], "terms_of_reference");

        // Moving publication later needs a reason and moves the notice with it.
        let moved = manager
            .post_form(
                &format!("/reviews/{id}/stages/publication/reschedule"),
                &[("due_on", "2026-12-15"), ("reason", "")],
            )
            .await;
        assert_eq!(moved.status(), 422);
        assert!(
            moved
                .text()
                .await
                .unwrap()
                .contains("href=\"#due-reason-publication\"")
        );
        let moved = manager
            .post_form(
                &format!("/reviews/{id}/stages/publication/reschedule"),
                &[
                    ("due_on", "2026-12-15"),
                    ("reason", "Family asked for more time"),
                ],
            )
            .await;
        assert_eq!(moved.status(), 303);
        let (_, review) = api(app, &token, &format!("/api/v1/reviews/{id}")).await;
        assert_eq!(stage(&review, "publication")["due_on"], "2026-12-15");
        assert_eq!(
            stage(&review, "publication")["planned_due_on"],
            "2026-12-01"
        );
        assert_eq!(
            stage(&review, "pre_publication_notice")["due_on"],
            "2026-12-04"
        );
        assert_eq!(
            stage(&review, "pre_publication_notice")["planned_due_on"],
            "2026-11-20"
        );
        let (_, html) = manager.get_text(&format!("/reviews/{id}")).await;
        assert!(html.contains("Reason: Family asked for more time"));
    }
);

on_both_databases!(
    a_reviewer_sees_only_their_review_until_the_end_date,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let adult = case_id(app, "Adult J").await;
        let today = app.clock.now().date_naive();
        let id = commission(
            &manager,
            &adult,
            "sar",
            &today.format("%Y-%m-%d").to_string(),
        )
        .await;
        let reviewer = app
            .add_person(
                "new.reviewer@fernbridge.example",
                "fbc-adults",
                Role::Practitioner,
                None,
                None,
            )
            .await;
        let ends_on = today + TimeDelta::days(10);
        let appointed = manager
            .post_form(
                &format!("/reviews/{id}/people"),
                &[
                    ("role", "reviewer"),
                    ("person_id", &reviewer.id.to_string()),
                    ("name", ""),
                    ("agency_id", ""),
                    ("conflict_statement", ""),
                    ("starts_on", ""),
                    ("ends_on", &ends_on.format("%Y-%m-%d").to_string()),
                ],
            )
            .await;
        assert_eq!(appointed.status(), 422, "a conflict statement is required");
        assert!(
            appointed
                .text()
                .await
                .unwrap()
                .contains("href=\"#conflict_statement\"")
        );
        let appointed = manager
            .post_form(
                &format!("/reviews/{id}/people"),
                &[
                    ("role", "reviewer"),
                    ("person_id", &reviewer.id.to_string()),
                    (
                        "conflict_statement",
                        "None: no work for Fernbridge agencies",
                    ),
                    ("ends_on", &ends_on.format("%Y-%m-%d").to_string()),
                ],
            )
            .await;
        assert_eq!(appointed.status(), 303);

        let browser = app.sign_in("new.reviewer@fernbridge.example").await;
        assert_eq!(browser.get(&format!("/reviews/{id}")).await.status(), 200);
        assert_eq!(
            browser
                .get(&format!("/reviews/{DEMO_REVIEW_ID}"))
                .await
                .status(),
            404,
            "another review does not exist for them"
        );
        let (_, list) = browser.get_text("/reviews").await;
        assert!(list.contains(&format!("/reviews/{id}\"")));
        assert!(!list.contains(&format!("/reviews/{DEMO_REVIEW_ID}\"")));
        let (_, case_page) = browser.get_text(&format!("/cases/{adult}")).await;
        assert!(!case_page.contains("Demo Subject J"), "no case identity");
        let added = browser
            .post_form(
                &format!("/reviews/{id}/entries"),
                &[
                    ("kind", "finding"),
                    ("title", "Reviewer's finding"),
                    ("body", "Text"),
                ],
            )
            .await;
        assert_eq!(added.status(), 303, "the reviewer writes their review");
        let publish = browser
            .post_form(
                &format!("/reviews/{id}/publish"),
                &[("intruder_check", "yes")],
            )
            .await;
        assert_eq!(publish.status(), 403, "but does not publish it");

        // The last day of access is the end date; the day after, nothing.
        app.clock.advance(TimeDelta::days(10));
        let browser = app.sign_in("new.reviewer@fernbridge.example").await;
        assert_eq!(browser.get(&format!("/reviews/{id}")).await.status(), 200);
        app.clock.advance(TimeDelta::days(1));
        let browser = app.sign_in("new.reviewer@fernbridge.example").await;
        assert_eq!(
            browser.get(&format!("/reviews/{id}")).await.status(),
            403,
            "with no review left, no review page at all"
        );
        let (status, list) = browser.get_text("/reviews").await;
        assert_eq!(status, 403);
        assert!(!list.contains(&format!("/reviews/{id}\"")));
    }
);

on_both_databases!(
    the_anonymisation_check_finds_each_kind_of_identifier_and_publication_needs_a_second_factor,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let token = token(app, MANAGER).await;
        let adult = case_id(app, "Adult J").await;
        let case_reference = case_of(app, "Adult J").await.case.reference;
        let today = app.clock.now().date_naive();
        let today_text = today.format("%Y-%m-%d").to_string();
        let commissioned = (today - TimeDelta::days(20)).format("%Y-%m-%d").to_string();
        let id = commission(&manager, &adult, "sar", &commissioned).await;
        for (kind, value) in [
            ("name", "Rowan Pellow"),
            ("date_of_birth", "1970-05-14"),
            ("address", "14 Larch Row"),
            ("postcode", "FB2 7QT"),
            ("school", "Holmewood Primary"),
            ("reference", "SW-778812"),
        ] {
            let added = manager
                .post_form(
                    &format!("/reviews/{id}/identifiers"),
                    &[("identifier_kind", kind), ("identifier_value", value)],
                )
                .await;
            assert_eq!(added.status(), 303, "{kind}");
        }
        let bad_date = manager
            .post_form(
                &format!("/reviews/{id}/identifiers"),
                &[
                    ("identifier_kind", "date_of_birth"),
                    ("identifier_value", "14/05/70"),
                ],
            )
            .await;
        assert_eq!(bad_date.status(), 422);
        let (_, review) = api(app, &token, &format!("/api/v1/reviews/{id}")).await;
        complete_all_before_publication(&manager, &review, &today_text).await;

        let version = || async { stored(app, &id).await.version.to_string() };
        let save = |summary: String, version: String| {
            let manager = &manager;
            let id = id.clone();
            async move {
                manager
                    .post_form(
                        &format!("/reviews/{id}/public-text"),
                        &[
                            ("public_title", "Learning from a safeguarding adults review"),
                            ("public_summary", &summary),
                            ("public_report", "Agencies shared too little."),
                            ("version", &version),
                        ],
                    )
                    .await
            }
        };
        // Each kind of identifier, written as people write them, is found and refuses
        // publication with what and where.
        for (text, label) in [
            ("Mr Pellow lived alone.".to_string(), "a name"),
            (
                "The subject, Demo Subject J, lived alone.".to_string(),
                "a name",
            ),
            (
                "Born on 14 May 1970, he lived alone.".to_string(),
                "a date of birth",
            ),
            (
                "He lived at 14 Larch Row for years.".to_string(),
                "an address",
            ),
            ("His home (FB27QT) was cold.".to_string(), "a postcode"),
            (
                "He once worked at Holmewood Primary.".to_string(),
                "a school",
            ),
            ("Case SW-778812 was closed.".to_string(), "a reference"),
            (
                format!("Notification {case_reference} came late."),
                "a reference",
            ),
        ] {
            let saved = save(text.clone(), version().await).await;
            assert_eq!(saved.status(), 303);
            let (_, page) = manager
                .get_text(&format!("/reviews/{id}/publication"))
                .await;
            assert!(
                page.contains("The public text identifies someone"),
                "{text}"
            );
            let refused = manager
                .post_form(
                    &format!("/reviews/{id}/publish"),
                    &[("intruder_check", "yes"), ("code", &app.next_totp_code())],
                )
                .await;
            assert_eq!(refused.status(), 422, "{text}");
            let html = refused.text().await.unwrap();
            assert!(
                html.contains(&format!("Remove {label}")) && html.contains("in the public summary"),
                "{text}: expected {label}"
            );
        }
        assert_eq!(
            stored(app, &id).await.published_on,
            None,
            "nothing published"
        );
        let saved = save(
            "An older man who lived alone died after agencies each held part of the picture."
                .to_string(),
            version().await,
        )
        .await;
        assert_eq!(saved.status(), 303);

        // A parallel process holds publication.
        let held = manager
            .post_form(
                &format!("/reviews/{id}/hold"),
                &[
                    ("hold_reason", "Inquest not yet heard"),
                    ("version", &version().await),
                ],
            )
            .await;
        assert_eq!(held.status(), 303);
        let refused = manager
            .post_form(
                &format!("/reviews/{id}/publish"),
                &[("intruder_check", "yes"), ("code", &app.next_totp_code())],
            )
            .await;
        assert_eq!(refused.status(), 422);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("Publication is on hold: Inquest not yet heard")
        );
        let lifted = manager
            .post_form(
                &format!("/reviews/{id}/hold"),
                &[("hold_reason", ""), ("version", &version().await)],
            )
            .await;
        assert_eq!(lifted.status(), 303);

        // Without the motivated-intruder confirmation, or with a wrong code: refused.
        let refused = manager
            .post_form(
                &format!("/reviews/{id}/publish"),
                &[("code", &app.next_totp_code())],
            )
            .await;
        assert_eq!(refused.status(), 422);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("href=\"#intruder_check\"")
        );
        let refused = manager
            .post_form(
                &format!("/reviews/{id}/publish"),
                &[("intruder_check", "yes"), ("code", "000000")],
            )
            .await;
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains("href=\"#code\""));
        let anonymous = app.browser();
        assert_eq!(
            anonymous
                .get(&format!("/learning/reviews/{id}"))
                .await
                .status(),
            404,
            "not public before publication"
        );

        let published = manager
            .post_form(
                &format!("/reviews/{id}/publish"),
                &[("intruder_check", "yes"), ("code", &app.next_totp_code())],
            )
            .await;
        assert_eq!(published.status(), 303);
        let (_, review) = api(app, &token, &format!("/api/v1/reviews/{id}")).await;
        assert_eq!(review["published_on"], today_text.as_str());
        assert_eq!(
            stage(&review, "publication")["completed_on"],
            today_text.as_str()
        );
        let (status, page) = anonymous.get_text(&format!("/learning/reviews/{id}")).await;
        assert_eq!(status, 200);
        assert!(page.contains("An older man who lived alone"));
        let (_, listing) = anonymous.get_text("/learning").await;
        assert!(listing.contains(&format!("/learning/reviews/{id}")));
        let feed: Value = anonymous
            .get("/learning/feed.json")
            .await
            .json()
            .await
            .unwrap();
        assert!(
            feed["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|item| item["url"].as_str().unwrap().ends_with(&id))
        );
        let (_, atom) = anonymous.get_text("/learning/feed.atom").await;
        assert!(atom.contains(&format!("/learning/reviews/{id}</id>")));
        let trail = app
            .query_strings("SELECT record_id FROM audit_log WHERE action = 'review.published' AND outcome = 'succeeded'")
            .await;
        assert_eq!(
            trail.iter().filter(|record| **record == id).count(),
            1,
            "publication is in the audit trail once"
        );
    }
);

on_both_databases!(
    bad_review_input_names_the_field_and_writes_nothing,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let token = token(app, MANAGER).await;
        let id = DEMO_REVIEW_ID.to_string();
        let count = || async {
            entries::of_review(app.db.conn(), DEMO_REVIEW_ID)
                .await
                .unwrap()
                .len()
        };
        let before = count().await;
        let refused = manager
            .post_form(
                &format!("/reviews/{id}/entries"),
                &[
                    ("kind", "recommendation"),
                    ("title", "Share concerns sooner"),
                    ("body", "A body that must survive the refusal"),
                ],
            )
            .await;
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(html.contains("Choose at least one agency this recommendation is addressed to"));
        assert!(
            html.contains("A body that must survive the refusal"),
            "what was typed is kept"
        );
        let response = app
            .client
            .post(app.url(&format!("/api/v1/reviews/{id}/entries")))
            .bearer_auth(&token)
            .json(&learnloop_testkit::serde_json::json!({
                "kind": "recommendation",
                "title": "Share concerns sooner",
                "themes": ["not_a_theme"]
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        let fields: Vec<&str> = body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&"agency_ids") && fields.contains(&"themes"),
            "{body}"
        );
        assert_eq!(count().await, before, "nothing written");

        let police = learnloop_core::agencies::find_by_code(app.db.conn(), "wealdshire-police")
            .await
            .unwrap()
            .unwrap()
            .id;
        let response = app
            .client
            .post(app.url(&format!("/api/v1/reviews/{id}/entries")))
            .bearer_auth(&token)
            .json(&learnloop_testkit::serde_json::json!({
                "kind": "recommendation",
                "title": "Share concerns sooner",
                "agency_ids": [police],
                "themes": ["information_sharing"]
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let (_, review) = api(app, &token, &format!("/api/v1/reviews/{id}")).await;
        assert!(
            review["recommendations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["title"] == "Share concerns sooner"
                    && r["themes"][0] == "information_sharing")
        );

        let upload = |name: &'static str, bytes: &'static [u8]| {
            let form = reqwest::multipart::Form::new()
                .text("csrf_token", manager.csrf.clone())
                .text("kind", "draft_report")
                .text("title", "Draft report")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name(name),
                );
            manager
                .client
                .post(manager.url(&format!("/reviews/{id}/documents")))
                .header("origin", &manager.base_url)
                .multipart(form)
                .send()
        };
        let refused = upload("draft.exe", b"MZ\x90\x00").await.unwrap();
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains("href=\"#file\""));
        let refused = upload("draft.pdf", b"not a pdf").await.unwrap();
        assert_eq!(refused.status(), 422);
        assert!(
            app.query_strings("SELECT id FROM review_document_versions")
                .await
                .is_empty(),
            "nothing recorded"
        );
    }
);

on_both_databases!(
    agencies_send_contributions_and_documents_keep_versions_without_metadata,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let id = DEMO_REVIEW_ID.to_string();
        let police = learnloop_core::agencies::find_by_code(app.db.conn(), "wealdshire-police")
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string();
        let today = app.clock.now().date_naive();
        let due = (today + TimeDelta::days(14)).format("%Y-%m-%d").to_string();
        let asked = manager
            .post_form(
                &format!("/reviews/{id}/contributions"),
                &[
                    ("contribution_agency", &police),
                    ("contribution_kind", "chronology"),
                    ("contribution_due", &due),
                ],
            )
            .await;
        assert_eq!(asked.status(), 303);
        let all = contributions::of_review(app.db.conn(), DEMO_REVIEW_ID)
            .await
            .unwrap();
        let contribution = all
            .iter()
            .find(|c| c.kind == "chronology")
            .unwrap()
            .id
            .to_string();
        let others: Vec<String> = all
            .iter()
            .filter(|c| c.kind == "agency_report" && c.received_on.is_none())
            .map(|c| c.id.to_string())
            .collect();
        assert!(
            !others.is_empty(),
            "the demo has an outstanding agency report"
        );

        let lead = app.sign_in("police.lead@fernbridge.example").await;
        let (status, page) = lead.get_text(&format!("/reviews/{id}/people")).await;
        assert_eq!(status, 200, "the police are involved in this case");
        assert!(page.contains(&format!("/reviews/{id}/contributions/{contribution}")));
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [
            (&b"IHDR"[..], &[0u8; 13][..]),
            (b"tEXt", b"Author\0Demo Officer Quill"),
            (b"IDAT", &[1, 2, 3]),
            (b"IEND", &[]),
        ] {
            png.extend_from_slice(&(data.len() as u32).to_be_bytes());
            png.extend_from_slice(kind);
            png.extend_from_slice(data);
            png.extend_from_slice(&[0, 0, 0, 0]);
        }
        let send = |path: String, bytes: Vec<u8>| {
            let form = reqwest::multipart::Form::new()
                .text("csrf_token", lead.csrf.clone())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name("chronology.png"),
                );
            lead.client
                .post(lead.url(&path))
                .header("origin", &lead.base_url)
                .multipart(form)
                .send()
        };
        let refused = send(
            format!("/reviews/{id}/contributions/{}", others[0]),
            png.clone(),
        )
        .await
        .unwrap();
        assert_eq!(refused.status(), 403, "not another agency's contribution");
        let sent = send(format!("/reviews/{id}/contributions/{contribution}"), png)
            .await
            .unwrap();
        assert_eq!(sent.status(), 303);
        let received = contributions::of_review(app.db.conn(), DEMO_REVIEW_ID)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.id.to_string() == contribution)
            .unwrap();
        assert_eq!(received.received_on, Some(today));
        assert!(
            received.document_id.is_some(),
            "linked to the document it came in"
        );
        let held = documents::of_review(app.db.conn(), DEMO_REVIEW_ID)
            .await
            .unwrap();
        assert_eq!(held.len(), 1);
        assert!(held[0].versions[0].metadata_removed);
        let version = held[0].versions[0].id.to_string();
        let document = held[0].document.id.to_string();
        let download = manager
            .get(&format!("/reviews/{id}/documents/{version}"))
            .await;
        assert_eq!(download.status(), 200);
        let bytes = download.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\x89PNG"));
        assert!(
            !bytes.windows(11).any(|w| w == b"Demo Office"),
            "the author's name is removed"
        );
        let (_, documents) = manager.get_text(&format!("/reviews/{id}/documents")).await;
        assert!(documents.contains("metadata removed"));

        // A new version keeps the old one.
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", manager.csrf.clone())
            .text("document_id", document.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(b"Revised chronology".to_vec())
                    .file_name("chronology v2.txt"),
            );
        let uploaded = manager
            .client
            .post(manager.url(&format!("/reviews/{id}/documents")))
            .header("origin", &manager.base_url)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(uploaded.status(), 303);
        let versions: Vec<i32> = documents::of_review(app.db.conn(), DEMO_REVIEW_ID)
            .await
            .unwrap()[0]
            .versions
            .iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(versions, [2, 1], "newest first, the first kept");

        // An agency not involved in the case sees neither the review nor its files.
        let health = app.sign_in("health.lead@fernbridge.example").await;
        assert_eq!(health.get(&format!("/reviews/{id}")).await.status(), 404);
        assert_eq!(
            health
                .get(&format!("/reviews/{id}/documents/{version}"))
                .await
                .status(),
            404
        );
    }
);

on_both_databases!(
    reviews_export_in_the_national_trackers_shape,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        app.step_up(&manager).await;
        let response = manager.get("/reviews/export.csv").await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = response.text().await.unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next().unwrap(),
            "local_reference,review_type,converted_from,stage,referral_date,partnership,theme_1,theme_2,theme_3,publication_date,publication_link"
        );
        let rows: Vec<&str> = lines.collect();
        let review_count = reviews::list(app.db.conn()).await.unwrap().len();
        assert_eq!(
            rows.len(),
            review_count,
            "every review, for the business manager"
        );
        let published = rows
            .iter()
            .find(|row| {
                row.contains("Local child safeguarding practice review")
                    && row.contains("/learning/reviews/")
            })
            .expect("the published CSPR");
        assert!(
            published.contains("Neglect"),
            "abuse themes first: {published}"
        );
        assert!(published.contains("CSPR_LOCAL-"), "its local reference");
        let converted = rows
            .iter()
            .find(|row| row.contains(",Rapid review,"))
            .expect("the CSPR converted from a rapid review");
        assert!(converted.contains("Fernbridge Children's Safeguarding Partnership"));

        let lead = app.sign_in("health.lead@fernbridge.example").await;
        app.step_up(&lead).await;
        let csv = lead.get("/reviews/export.csv").await.text().await.unwrap();
        assert!(
            csv.lines().count() - 1 < review_count,
            "an agency lead exports only the reviews they may see"
        );
        let parse = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok();
        assert!(rows.iter().all(|row| parse(row.split(',').nth(4).unwrap())));
    }
);

on_both_databases!(
    the_stages_of_a_review_type_are_configuration,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let token = token(app, MANAGER).await;
        let (status, page) = manager.get_text("/admin/review-types/sar").await;
        assert_eq!(status, 200);
        assert!(page.contains("Review stages") && page.contains("id=\"stage_due_0\""));
        let version = learnloop_core::review_types::store::get(app.db.conn(), "sar")
            .await
            .unwrap()
            .version
            .to_string();
        let stages = learnloop_core::review_types::store::get(app.db.conn(), "sar")
            .await
            .unwrap()
            .config()
            .review_stages();
        let mut form: Vec<(String, String)> = vec![
            ("version".to_string(), version),
            (
                "name".to_string(),
                "Safeguarding adults review (Care Act s44)".to_string(),
            ),
            ("report_months".to_string(), "6".to_string()),
        ];
        let criteria = learnloop_core::review_types::store::get(app.db.conn(), "sar")
            .await
            .unwrap()
            .config()
            .criteria;
        for (index, criterion) in criteria.iter().enumerate() {
            form.push((format!("question_{index}"), criterion.question.clone()));
        }
        for (index, stage) in stages.iter().enumerate() {
            let name = if index == 0 {
                "Scoping meeting".to_string()
            } else {
                stage.name.clone()
            };
            form.push((format!("stage_name_{index}"), name));
            if stage.required {
                form.push((format!("stage_required_{index}"), "yes".to_string()));
            }
            let due = match stage.due {
                learnloop_core::review_types::StageDue::Commissioning { working_days } => {
                    Some(if index == 0 { 15 } else { working_days })
                }
                learnloop_core::review_types::StageDue::CommissioningMonths { months }
                | learnloop_core::review_types::StageDue::AfterPublication { months } => {
                    Some(months)
                }
                learnloop_core::review_types::StageDue::BeforePublication { working_days } => {
                    Some(working_days)
                }
                _ => None,
            };
            if let Some(due) = due {
                form.push((format!("stage_due_{index}"), due.to_string()));
            }
        }
        let fields: Vec<(&str, &str)> =
            form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let saved = manager.post_form("/admin/review-types/sar", &fields).await;
        assert_eq!(saved.status(), 303);
        let adult = case_id(app, "Adult J").await;
        let id = commission(&manager, &adult, "sar", "2026-06-01").await;
        let (_, review) = api(app, &token, &format!("/api/v1/reviews/{id}")).await;
        let first = &review["stages"][0];
        assert_eq!(first["name"], "Scoping meeting");
        assert_eq!(
            first["due_on"], "2026-06-22",
            "15 working days after the decision"
        );
        // A stage with no name is refused by name, and nothing changes.
        let mut bad = fields.clone();
        bad.retain(|(k, _)| *k != "stage_name_1");
        let refused = manager.post_form("/admin/review-types/sar", &bad).await;
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("href=\"#stage_name_1\"")
        );
    }
);
