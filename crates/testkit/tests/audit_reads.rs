#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every authorisation decision on case content is in the audit trail: a refused page read
//! leaves its "denied" entry although the request fails, reads served from read-only
//! transactions (learning items, briefings, lists, the tracker, library searches) leave an entry,
//! and uploads are refused before their bodies are read or unpacked.

use std::io::{Read, Write};

use learnloop_core::access::Role;
use learnloop_core::clock::Clock;
use learnloop_core::demo::DEMO_REVIEW_ID;
use learnloop_core::{actions, agencies, audit, learning, people, reviews};
use learnloop_testkit::sea_orm::EntityTrait;
use learnloop_testkit::{Browser, TestApp, on_both_databases};

const MANAGER: &str = "business.manager@fernbridge.example";
const POLICE: &str = "police.lead@fernbridge.example";
const HEALTH: &str = "health.lead@fernbridge.example";

/// The outcomes of the entries for this action and record, oldest first.
async fn outcomes(app: &TestApp, action: &str, record_id: &str) -> Vec<String> {
    app.query_strings(&format!(
        "SELECT outcome FROM audit_log WHERE action = '{action}' AND record_id = '{record_id}' ORDER BY seq"
    ))
    .await
}

/// The record id (a count for lists) and reason of each entry for this action, oldest first.
async fn list_entries(app: &TestApp, action: &str) -> Vec<(String, String)> {
    let ids = app
        .query_strings(&format!(
            "SELECT COALESCE(record_id, '') FROM audit_log WHERE action = '{action}' ORDER BY seq"
        ))
        .await;
    let reasons = app
        .query_strings(&format!(
            "SELECT COALESCE(reason, '') FROM audit_log WHERE action = '{action}' ORDER BY seq"
        ))
        .await;
    ids.into_iter().zip(reasons).collect()
}

async fn agency_id(app: &TestApp, code: &str) -> uuid::Uuid {
    agencies::find_by_code(app.db.conn(), code)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// An action owned by the adults' services, which the police lead may not see.
async fn adults_action(app: &TestApp) -> actions::Model {
    let adults = agency_id(app, "fbc-adults").await;
    actions::Entity::find()
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .find(|action| action.owner_agency_id == adults)
        .expect("the demo has an action of the adults' services")
}

/// A restricted learning item about the police's work.
async fn police_item(app: &TestApp) -> uuid::Uuid {
    let manager = people::find_by_email(app.db.conn(), MANAGER)
        .await
        .unwrap()
        .unwrap();
    learning::create(
        app.db.conn(),
        &learning::NewItem {
            title: "Quillwort restricted lesson".to_string(),
            lesson: "Quillwort concerns were not shared between shifts".to_string(),
            source_kind: "review_finding".to_string(),
            themes: vec!["information_sharing".to_string()],
            agency_ids: vec![agency_id(app, "wealdshire-police").await],
            ..Default::default()
        },
        manager.id,
        app.clock.now(),
    )
    .await
    .unwrap()
    .id
}

async fn chain_is_intact(app: &TestApp) {
    let report = audit::verify(app.db.conn(), |_| {}).await.unwrap();
    assert_eq!(report.first_problem, None);
}

on_both_databases!(
    a_refused_page_read_of_a_case_a_review_or_an_action_is_recorded,
    demo,
    |app| async move {
        let case_id = reviews::get(app.db.conn(), DEMO_REVIEW_ID)
            .await
            .unwrap()
            .case_id
            .to_string();
        let review_id = DEMO_REVIEW_ID.to_string();
        let action_id = adults_action(app).await.id.to_string();

        // The health lead's agency is not involved in the demo review's case.
        let health = app.sign_in(HEALTH).await;
        assert_eq!(health.get(&format!("/cases/{case_id}")).await.status(), 404);
        assert_eq!(
            health.get(&format!("/reviews/{review_id}")).await.status(),
            404
        );
        assert_eq!(
            health
                .get(&format!("/reviews/{review_id}/briefing"))
                .await
                .status(),
            404
        );
        let police = app.sign_in(POLICE).await;
        assert_eq!(
            police.get(&format!("/actions/{action_id}")).await.status(),
            404
        );

        // Through the API too, with a token.
        let person = people::find_by_email(app.db.conn(), HEALTH)
            .await
            .unwrap()
            .unwrap();
        let now = app.clock.now();
        let (_, token) = learnloop_core::tokens::create(
            app.db.conn(),
            person.id,
            "test",
            now + chrono::Duration::days(30),
            now,
        )
        .await
        .unwrap();
        let api = app
            .client
            .get(app.url(&format!("/api/v1/notifications/{case_id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 404);

        assert_eq!(
            outcomes(app, "case.view", &case_id).await,
            ["denied", "denied"]
        );
        assert_eq!(
            outcomes(app, "review.view", &review_id).await,
            ["denied", "denied"]
        );
        assert_eq!(outcomes(app, "action.view", &action_id).await, ["denied"]);
        let roles = app
            .query_strings(&format!(
                "SELECT COALESCE(actor_role, '') FROM audit_log WHERE outcome = 'denied' AND record_id = '{case_id}'"
            ))
            .await;
        assert_eq!(roles, ["agency_lead", "agency_lead"], "who was refused");

        // An allowed read is still recorded with the page, once.
        let manager = app.sign_in(MANAGER).await;
        assert_eq!(
            manager.get(&format!("/cases/{case_id}")).await.status(),
            200
        );
        assert_eq!(
            outcomes(app, "case.view", &case_id).await,
            ["denied", "denied", "allowed"]
        );
        chain_is_intact(app).await;
    }
);

on_both_databases!(
    learning_items_briefings_lists_the_tracker_and_searches_are_recorded,
    demo,
    |app| async move {
        let item = police_item(app).await;
        let item_id = item.to_string();
        let police = app.sign_in(POLICE).await;
        // Downloads ask for the second factor again.
        app.step_up(&police).await;
        for path in ["", "/briefing", "/briefing.docx"] {
            let response = police.get(&format!("/learning-items/{item}{path}")).await;
            assert_eq!(response.status(), 200, "{path}");
        }
        assert_eq!(
            outcomes(app, "learning_item.view", &item_id).await,
            ["allowed"]
        );
        assert_eq!(
            outcomes(app, "learning_item.briefing", &item_id).await,
            ["allowed"]
        );
        assert_eq!(
            outcomes(app, "learning_item.briefing_download", &item_id).await,
            ["allowed"]
        );
        // Another agency's lead is refused the restricted item, and that is recorded too.
        let health = app.sign_in(HEALTH).await;
        app.step_up(&health).await;
        for path in ["", "/briefing", "/briefing.docx"] {
            let response = health.get(&format!("/learning-items/{item}{path}")).await;
            assert_eq!(response.status(), 404, "{path}");
        }
        assert_eq!(
            outcomes(app, "learning_item.view", &item_id).await,
            ["allowed", "denied", "denied", "denied"]
        );

        // Lists: one entry each, with the filters' kinds and the count, never their values.
        assert_eq!(police.get("/learning-items").await.status(), 200);
        assert_eq!(list_entries(app, "learning_items.listed").await.len(), 1);
        assert_eq!(police.get("/reviews").await.status(), 200);
        let listed = list_entries(app, "reviews.listed").await;
        assert_eq!(listed.len(), 1);
        assert!(listed[0].0.parse::<usize>().unwrap() > 0, "{listed:?}");
        assert_eq!(police.get("/actions?rag=red&lead=me").await.status(), 200);
        assert_eq!(
            list_entries(app, "actions.listed").await[0].1,
            "filters: rag, lead"
        );

        // Library searches: the kind of search and the hits, not the words searched for.
        let (status, html) = police.get_text("/library?q=quillwort").await;
        assert_eq!(status, 200);
        assert!(html.contains("Quillwort restricted lesson"));
        let searched = list_entries(app, "library.searched").await;
        assert_eq!(searched.len(), 1);
        assert_eq!(searched[0].0, "1", "one hit");
        assert_eq!(searched[0].1, "words; 1 restricted");
        assert_eq!(
            police
                .get("/library?theme=information_sharing")
                .await
                .status(),
            200
        );
        let browsed = list_entries(app, "library.browsed").await;
        assert_eq!(browsed.len(), 1);
        assert!(browsed[0].1.starts_with("theme; "), "{browsed:?}");
        assert!(
            app.query_strings(
                "SELECT reason FROM audit_log WHERE LOWER(COALESCE(reason, '')) LIKE '%quillwort%'"
            )
            .await
            .is_empty(),
            "no query text in the trail"
        );
        assert_eq!(police.get("/library/themes").await.status(), 200);
        assert_eq!(list_entries(app, "library.themes_viewed").await.len(), 1);
        chain_is_intact(app).await;
    }
);

/// A multipart body with a file but no CSRF token: refused as a forgery (403) if it is read.
async fn post_unread_body(browser: &Browser, path: &str, file_field: &str) -> u16 {
    let form = reqwest::multipart::Form::new().part(
        file_field.to_string(),
        reqwest::multipart::Part::bytes(b"PK\x03\x04 not really a package".to_vec())
            .file_name("broken.docx"),
    );
    browser
        .client
        .post(browser.url(path))
        .header("origin", &browser.base_url)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn post_file(
    browser: &Browser,
    path: &str,
    name: &'static str,
    bytes: Vec<u8>,
) -> (u16, String) {
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", browser.csrf.clone())
        .text("kind", "other")
        .text("title", "Panel notes")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        );
    let response = browser
        .client
        .post(browser.url(path))
        .header("origin", &browser.base_url)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn versions(app: &TestApp) -> String {
    app.query_strings("SELECT COUNT(*) FROM review_document_versions")
        .await
        .remove(0)
}

on_both_databases!(
    an_upload_to_a_record_the_person_cannot_see_is_refused_before_its_body_is_read,
    demo,
    |app| async move {
        // A reviewer appointed to another review may upload to reviews (the route allows it),
        // but not to this one.
        let other_review = reviews::list(app.db.conn())
            .await
            .unwrap()
            .into_iter()
            .find(|review| review.id != DEMO_REVIEW_ID)
            .expect("the demo has two reviews")
            .id;
        app.add_person(
            "other.reviewer@fernbridge.example",
            "fsp-team",
            Role::IndependentReviewer,
            Some(other_review),
            Some(app.clock.now().date_naive() + chrono::Days::new(30)),
        )
        .await;
        let reviewer = app.sign_in("other.reviewer@fernbridge.example").await;
        let before = versions(app).await;
        let documents = format!("/reviews/{DEMO_REVIEW_ID}/documents");
        // Without a token the body would be refused as a forgery (403) once read: 404 shows
        // that access was decided first.
        assert_eq!(post_unread_body(&reviewer, &documents, "file").await, 404);
        let (status, _) =
            post_file(&reviewer, &documents, "broken.docx", b"PK\x03\x04".to_vec()).await;
        assert_eq!(
            status, 404,
            "a malformed file to a forbidden review: 404, not 422"
        );
        assert_eq!(versions(app).await, before, "nothing stored");
        assert_eq!(
            outcomes(app, "review.view", &DEMO_REVIEW_ID.to_string()).await,
            ["denied", "denied"]
        );

        // The same for an action update with evidence, as another agency's lead.
        let action = adults_action(app).await;
        let police = app.sign_in(POLICE).await;
        assert_eq!(
            post_unread_body(
                &police,
                &format!("/actions/{}/updates", action.id),
                "evidence"
            )
            .await,
            404
        );
        assert_eq!(
            outcomes(app, "action.view", &action.id.to_string()).await,
            ["denied"]
        );
        chain_is_intact(app).await;
    }
);

/// A .docx whose document part is `expanded` bytes of zeros: about a thousandth of that on
/// the wire.
fn docx_expanding_to(expanded: usize) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    writer.start_file("[Content_Types].xml", options).unwrap();
    writer.write_all(b"<Types/>").unwrap();
    writer.start_file("word/document.xml", options).unwrap();
    let block = vec![0u8; 1024 * 1024];
    let mut left = expanded;
    while left > 0 {
        let now = left.min(block.len());
        writer.write_all(&block[..now]).unwrap();
        left -= now;
    }
    writer.finish().unwrap().into_inner()
}

on_both_databases!(
    a_decompression_bomb_is_refused_by_name_and_nothing_is_stored,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let cap = usize::try_from(learnloop_office::PACKAGE_LIMITS.max_part_bytes).unwrap();
        let bomb = docx_expanding_to(cap + 1024 * 1024);
        assert!(
            bomb.len() < 60 * 1024,
            "small enough to send: {}",
            bomb.len()
        );
        let before = versions(app).await;
        let (status, html) = post_file(
            &manager,
            &format!("/reviews/{DEMO_REVIEW_ID}/documents"),
            "panel-notes.docx",
            bomb,
        )
        .await;
        assert_eq!(status, 422);
        assert!(
            html.contains("panel-notes.docx has a part that expands to more than 50 MB"),
            "the message names the file"
        );
        assert_eq!(versions(app).await, before, "nothing stored");
        assert!(
            app.query_strings(
                "SELECT action FROM audit_log WHERE action = 'review.document_uploaded'"
            )
            .await
            .is_empty()
        );
    }
);

/// An .xlsx tracker whose first sheet declares the whole grid, A1:XFD1048576.
fn tracker_declaring_the_whole_grid() -> Vec<u8> {
    let small = learnloop_office::write_xlsx(
        "Actions",
        &["Reference", "Description"],
        &[vec![
            learnloop_office::Cell::Text("ACT-1".to_string()),
            learnloop_office::Cell::Text("Share the plan".to_string()),
        ]],
    )
    .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(small)).unwrap();
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for index in 0..archive.len() {
        let mut part = archive.by_index(index).unwrap();
        let name = part.name().to_string();
        let mut content = String::new();
        part.read_to_string(&mut content).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let start = content.find("<dimension ref=\"").unwrap() + "<dimension ref=\"".len();
            let end = start + content[start..].find('"').unwrap();
            content = format!("{}A1:XFD1048576{}", &content[..start], &content[end..]);
        }
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

on_both_databases!(
    a_tracker_declaring_the_whole_sheet_is_refused_by_name,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", manager.csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(tracker_declaring_the_whole_grid())
                    .file_name("tracker.xlsx"),
            );
        let response = manager
            .client
            .post(manager.url("/actions/import"))
            .header("origin", &manager.base_url)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let html = response.text().await.unwrap();
        assert!(
            html.contains("tracker.xlsx: its first sheet declares 1048576 rows and 16384 columns"),
            "{html}"
        );
    }
);

on_both_databases!(
    api_lists_and_searches_are_recorded_like_the_pages,
    demo,
    |app| async move {
        let person = people::find_by_email(app.db.conn(), MANAGER)
            .await
            .unwrap()
            .unwrap();
        let now = app.clock.now();
        let token = learnloop_core::tokens::create(
            app.db.conn(),
            person.id,
            "test",
            now + chrono::Duration::days(1),
            now,
        )
        .await
        .unwrap()
        .1;
        for path in [
            "/api/v1/reviews",
            "/api/v1/actions?rag=red",
            "/api/v1/library/search?q=information",
        ] {
            let response = app
                .client
                .get(app.url(path))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
        }
        let reviews = list_entries(app, "reviews.listed").await;
        assert_eq!(reviews.len(), 1);
        assert_eq!(reviews[0].1, "api");
        let actions = list_entries(app, "actions.listed").await;
        assert_eq!(actions.len(), 1);
        assert!(actions[0].1.starts_with("api; ") && actions[0].1.contains("rag"));
        let searches = list_entries(app, "library.searched").await;
        assert_eq!(searches.len(), 1);
        assert!(
            !searches[0].1.contains("information"),
            "never the words searched for"
        );
    }
);
