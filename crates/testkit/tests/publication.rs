#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Nothing reaches the public that did not pass the anonymisation check at a publication, on
//! both databases: findings added after a review was published, drafts of its public text,
//! learning items, and what the check itself shows to whom. Also the library's costs: entries
//! capped per review, similarity kept at save, browse paged, themes counted in the database.

use learnloop_core::clock::Clock;
use learnloop_core::library::{self, Filter, Reader, similar};
use learnloop_core::reviews::{self, entries};
use learnloop_core::{agencies, learning, people, published, tokens};
use learnloop_testkit::serde_json::{Value, json};
use learnloop_testkit::{TestApp, on_both_databases};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

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

async fn add_entry(app: &TestApp, token: &str, review_id: uuid::Uuid, entry: Value) -> u16 {
    app.client
        .post(app.url(&format!("/api/v1/reviews/{review_id}/entries")))
        .bearer_auth(token)
        .json(&entry)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Everything the public surface shows: the page and its search, each published review, the
/// JSON and Atom feeds.
async fn public_surface(app: &TestApp, word: &str) -> String {
    let visitor = app.browser();
    let mut all = String::new();
    for path in [
        format!("/learning?q={word}"),
        "/learning".to_string(),
        "/learning/feed.json".to_string(),
        "/learning/feed.atom".to_string(),
    ] {
        let (status, text) = visitor.get_text(&path).await;
        assert_eq!(status, 200, "{path}");
        all.push_str(&text);
    }
    for public in published::reviews(app.db.conn()).await.unwrap() {
        let (_, text) = visitor
            .get_text(&format!("/learning/reviews/{}", public.source_id))
            .await;
        all.push_str(&text);
    }
    all
}

async fn subject_name(app: &TestApp, review_id: uuid::Uuid) -> String {
    let review = reviews::get(app.db.conn(), review_id).await.unwrap();
    learnloop_core::cases::get(app.db.conn(), review.case_id)
        .await
        .unwrap()
        .case
        .subject_name
        .unwrap()
}

on_both_databases!(
    a_published_review_changes_in_public_only_through_a_publication_that_checks_it,
    demo,
    |app| async move {
        let conn = app.db.conn();
        let review_id = published::reviews(conn).await.unwrap()[0].source_id;
        let token = token(app, MANAGER).await;
        let manager = app.sign_in(MANAGER).await;

        // A finding added after publication, through the API: restricted, not public.
        let added = add_entry(
            app,
            &token,
            review_id,
            json!({
                "kind": "finding",
                "title": "Quokkanova finding added after publication",
                "body": "Quokkanova: agencies held parts of the picture."
            }),
        )
        .await;
        assert_eq!(added, 201);
        assert!(
            !public_surface(app, "quokkanova")
                .await
                .contains("Quokkanova"),
            "a finding added after publication is not public"
        );
        let practitioner = app.sign_in("practitioner@fernbridge.example").await;
        let (_, html) = practitioner.get_text("/library?q=quokkanova").await;
        assert!(
            !html.contains("Quokkanova finding"),
            "nor for practitioners"
        );
        let (_, html) = manager.get_text("/library?q=quokkanova").await;
        assert!(
            html.contains("Quokkanova finding"),
            "the partnership team finds it, restricted"
        );

        // A new draft of the public text: the public page keeps what was published.
        let before = reviews::get(conn, review_id).await.unwrap();
        let saved = manager
            .post_form(
                &format!("/reviews/{review_id}/public-text"),
                &[
                    (
                        "public_title",
                        "Wombatine: learning from the review, revised",
                    ),
                    ("public_summary", "Wombatine summary, not yet checked."),
                    ("public_report", &before.public_report),
                    ("version", &before.version.to_string()),
                ],
            )
            .await;
        assert_eq!(saved.status(), 303);
        assert!(
            !public_surface(app, "wombatine").await.contains("Wombatine"),
            "a draft is not public"
        );
        let (_, page) = manager
            .get_text(&format!("/reviews/{review_id}/publication"))
            .await;
        assert!(page.contains("Changes not published"));

        // Publishing again without the confirmation or the code changes nothing public.
        for fields in [
            vec![("code", app.next_totp_code())],
            vec![
                ("intruder_check", "yes".to_string()),
                ("code", "000000".to_string()),
            ],
        ] {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let refused = manager
                .post_form(&format!("/reviews/{review_id}/publish"), &fields)
                .await;
            assert_eq!(refused.status(), 422);
        }
        assert!(!public_surface(app, "wombatine").await.contains("Wombatine"));

        // Published again, through the check: both go public, frozen as published.
        let republished = manager
            .post_form(
                &format!("/reviews/{review_id}/publish"),
                &[("intruder_check", "yes"), ("code", &app.next_totp_code())],
            )
            .await;
        assert_eq!(republished.status(), 303);
        let surface = public_surface(app, "quokkanova").await;
        assert!(surface.contains("Quokkanova finding added after publication"));
        assert!(surface.contains("Wombatine: learning from the review, revised"));
        let public = published::review(conn, review_id).await.unwrap();
        assert_eq!(public.revision, 2);
        assert_eq!(
            public.first_published_on,
            before.published_on.unwrap(),
            "first published on the same day"
        );

        // A finding that names the subject blocks the next publication, and stays private.
        let name = subject_name(app, review_id).await;
        let surname = name
            .split_whitespace()
            .max_by_key(|part| part.len())
            .unwrap()
            .to_string();
        let added = add_entry(
            app,
            &token,
            review_id,
            json!({
                "kind": "recommendation",
                "title": "Koalabrant: agencies to share records",
                "body": format!("Agencies should have shared what they knew about {name}."),
                "agency_ids": [agencies::find_by_code(conn, "wealdshire-police").await.unwrap().unwrap().id]
            }),
        )
        .await;
        assert_eq!(added, 201);
        let refused = manager
            .post_form(
                &format!("/reviews/{review_id}/publish"),
                &[("intruder_check", "yes"), ("code", &app.next_totp_code())],
            )
            .await;
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(
            html.contains("Remove a name") && html.contains("recommendation"),
            "the refusal says what and where"
        );
        assert!(
            !public_surface(app, "koalabrant")
                .await
                .contains("Koalabrant")
        );
        let leaked = app
            .query_strings(&format!(
                "SELECT title FROM library_docs WHERE frozen = TRUE AND (body LIKE '%{surname}%' OR title LIKE '%{surname}%')"
            ))
            .await;
        assert!(
            leaked.is_empty(),
            "no frozen copy names the subject: {leaked:?}"
        );
        assert_eq!(
            published::review(conn, review_id).await.unwrap().revision,
            2,
            "the refused publication froze nothing"
        );
    }
);

on_both_databases!(
    learning_goes_public_only_through_publication,
    demo,
    |app| async move {
        let conn = app.db.conn();
        let token = token(app, MANAGER).await;
        // The API's published flag is refused, naming the field.
        let response = app
            .client
            .post(app.url("/api/v1/learning"))
            .bearer_auth(&token)
            .json(&json!({
                "title": "Numbatory lesson",
                "lesson": "Numbatory: ask who else is in the home.",
                "source_kind": "practitioner_feedback",
                "published": true
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["fields"][0]["field"], "published");

        // The page's form has no tick box: a ticked one sent anyway publishes nothing.
        let manager = app.sign_in(MANAGER).await;
        let (_, form) = manager.get_text("/learning-items/new").await;
        assert!(!form.contains("name=\"published\""));
        let created = manager
            .post_form(
                "/learning-items/new",
                &[
                    ("title", "Numbatory lesson"),
                    ("lesson", "Numbatory: ask who else is in the home."),
                    ("source_kind", "practitioner_feedback"),
                    ("published", "yes"),
                ],
            )
            .await;
        assert_eq!(created.status(), 303);
        let href = created.headers()["location"].to_str().unwrap().to_string();
        let id = uuid::Uuid::parse_str(href.trim_start_matches("/learning-items/")).unwrap();
        assert!(!public_surface(app, "numbatory").await.contains("Numbatory"));

        // Only those who may publish reach the publication page.
        for email in [
            "practitioner@fernbridge.example",
            "police.lead@fernbridge.example",
            "review.member@fernbridge.example",
        ] {
            let other = app.sign_in(email).await;
            let (status, _) = other.get_text(&format!("{href}/publish")).await;
            assert_eq!(status, 403, "{email}");
            let refused = other
                .post_form(
                    &format!("{href}/publish"),
                    &[("intruder_check", "yes"), ("code", &app.next_totp_code())],
                )
                .await;
            assert_eq!(refused.status(), 403, "{email}");
        }
        let (status, page) = manager.get_text(&format!("{href}/publish")).await;
        assert_eq!(status, 200);
        assert!(page.contains("anonymisation-clear"));
        let version = learning::get(conn, id)
            .await
            .unwrap()
            .item
            .version
            .to_string();
        let refused = manager
            .post_form(
                &format!("{href}/publish"),
                &[("version", &version), ("code", &app.next_totp_code())],
            )
            .await;
        assert_eq!(refused.status(), 422, "no motivated-intruder confirmation");
        let refused = manager
            .post_form(
                &format!("{href}/publish"),
                &[
                    ("version", &version),
                    ("intruder_check", "yes"),
                    ("code", "000000"),
                ],
            )
            .await;
        assert_eq!(refused.status(), 422, "a wrong code");
        assert!(refused.text().await.unwrap().contains("href=\"#code\""));
        assert!(!public_surface(app, "numbatory").await.contains("Numbatory"));
        let done = manager
            .post_form(
                &format!("{href}/publish"),
                &[
                    ("version", &version),
                    ("intruder_check", "yes"),
                    ("code", &app.next_totp_code()),
                ],
            )
            .await;
        assert_eq!(done.status(), 303);
        assert!(
            public_surface(app, "numbatory")
                .await
                .contains("Numbatory lesson")
        );
        let audited = app
            .query_strings(&format!(
                "SELECT outcome FROM audit_log WHERE action = 'learning.published' AND record_id = '{id}'"
            ))
            .await;
        assert_eq!(audited, ["succeeded"]);

        // Learning from a review is checked against its case: a name refuses publication.
        let review_id = published::reviews(conn).await.unwrap()[0].source_id;
        let name = subject_name(app, review_id).await;
        let finding = entries::of_review(conn, review_id)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.entry.kind == entries::FINDING)
            .unwrap();
        let manager_id = people::find_by_email(conn, MANAGER)
            .await
            .unwrap()
            .unwrap()
            .id;
        let item = learning::create(
            conn,
            &learning::NewItem {
                title: "Dingoleaf lesson".to_string(),
                lesson: format!("Dingoleaf: nobody asked {name} what they wanted."),
                source_kind: "review_finding".to_string(),
                source_entry_id: Some(finding.entry.id),
                ..Default::default()
            },
            manager_id,
            app.clock.now(),
        )
        .await
        .unwrap();
        let (_, page) = manager
            .get_text(&format!("/learning-items/{}/publish", item.id))
            .await;
        assert!(page.contains("The learning identifies someone"));
        let refused = manager
            .post_form(
                &format!("/learning-items/{}/publish", item.id),
                &[
                    ("version", &item.version.to_string()),
                    ("intruder_check", "yes"),
                    ("code", &app.next_totp_code()),
                ],
            )
            .await;
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains("Remove a name"));
        assert!(!public_surface(app, "dingoleaf").await.contains("Dingoleaf"));
    }
);

on_both_databases!(
    the_check_names_the_words_found_only_to_those_who_see_identity,
    demo,
    |app| async move {
        let review_id = learnloop_core::demo::DEMO_REVIEW_ID;
        let name = subject_name(app, review_id).await;
        let reviewer = app.sign_in("reviewer@fernbridge.example").await;
        let review = reviews::get(app.db.conn(), review_id).await.unwrap();
        // The reviewer, who may not see the case's identity, saves a draft full of guesses.
        let guesses = format!("Perhaps Alex Brindle, perhaps {name}, perhaps Sam Tovey.");
        let saved = reviewer
            .post_form(
                &format!("/reviews/{review_id}/public-text"),
                &[
                    ("public_title", "Learning from the review"),
                    ("public_summary", &guesses),
                    ("public_report", ""),
                    ("version", &review.version.to_string()),
                ],
            )
            .await;
        assert_eq!(saved.status(), 303);
        let findings_of = |html: &str| -> String {
            let start = html
                .find("id=\"anonymisation-findings\"")
                .expect("the check's findings");
            let end = html[start..].find("</div>").unwrap() + start;
            html[start..end].to_string()
        };
        let (_, page) = reviewer
            .get_text(&format!("/reviews/{review_id}/publication"))
            .await;
        let shown = findings_of(&page);
        assert!(shown.contains("a name in the public summary"), "{shown}");
        assert!(!shown.contains(&name), "which guess matched is not told");
        for part in name.split_whitespace() {
            assert!(!shown.contains(part), "{part}");
        }
        assert!(!shown.contains("character"), "not even where");
        let manager = app.sign_in(MANAGER).await;
        let (_, page) = manager
            .get_text(&format!("/reviews/{review_id}/publication"))
            .await;
        assert!(
            findings_of(&page).contains(&name),
            "the business manager sees what to remove"
        );
    }
);

on_both_databases!(
    the_library_costs_what_a_page_shows_not_the_whole_table,
    demo,
    |app| async move {
        let conn = app.db.conn();
        let review_id = learnloop_core::demo::DEMO_REVIEW_ID;
        let now = app.clock.now();

        // Similarity is ranked when a finding is saved and kept; the page reads what was kept.
        let finding = entries::add(
            conn,
            review_id,
            &entries::EntryInput {
                kind: "finding".to_string(),
                title: "Information was not shared between agencies".to_string(),
                body: "Agencies did not share information about risk at the strategy meeting."
                    .to_string(),
                themes: vec!["information_sharing".to_string()],
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        let kept = similar::kept::Entity::find()
            .filter(similar::kept::Column::SourceId.eq(finding.entry.id))
            .count(conn)
            .await
            .unwrap();
        assert!(kept > 0, "similar learning kept at save");
        let remembered = similar::remembered(conn, &[finding.entry.id], &Reader::Everything, 3)
            .await
            .unwrap();
        assert_eq!(remembered[&finding.entry.id].len(), 3);
        let practitioner =
            similar::remembered(conn, &[finding.entry.id], &Reader::PublishedOnly, 20)
                .await
                .unwrap();
        assert!(
            practitioner.values().flatten().all(|(doc, _)| doc.frozen),
            "a practitioner meets only published copies"
        );

        // Entries per review are capped.
        let held = entries::Entity::find()
            .filter(entries::Column::ReviewId.eq(review_id))
            .count(conn)
            .await
            .unwrap();
        for position in held..entries::MAX_ENTRIES_PER_REVIEW {
            entries::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                review_id: Set(review_id),
                kind: Set("line_of_enquiry".to_string()),
                position: Set(i32::try_from(position).unwrap() + 1_000),
                title: Set(format!("Line {position}")),
                body: Set(String::new()),
                created_at: Set(now),
            }
            .insert(conn)
            .await
            .unwrap();
        }
        let refused = entries::add(
            conn,
            review_id,
            &entries::EntryInput {
                kind: "line_of_enquiry".to_string(),
                title: "One too many".to_string(),
                ..Default::default()
            },
            now,
        )
        .await;
        match refused {
            Err(learnloop_core::CoreError::Invalid(fields)) => {
                assert!(fields[0].message.contains("at most"), "{fields:?}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }

        // Browsing pages through the library without overlap.
        let filter = Filter {
            theme: Some("information_sharing".to_string()),
            ..Default::default()
        };
        let (first, total) = library::browse(conn, &filter, &Reader::Everything, 1, 2)
            .await
            .unwrap();
        let (second, _) = library::browse(conn, &filter, &Reader::Everything, 2, 2)
            .await
            .unwrap();
        assert!(total > 3, "{total}");
        assert_eq!((first.len(), second.len()), (2, 2));
        assert!(first.iter().all(|a| second.iter().all(|b| a.id != b.id)));

        // Themes by year, counted in the database, equal the rule applied row by row.
        let police = agencies::find_by_code(conn, "wealdshire-police")
            .await
            .unwrap()
            .unwrap()
            .id;
        let all = library::Entity::find().all(conn).await.unwrap();
        for reader in [
            Reader::Everything,
            Reader::PublishedOnly,
            Reader::Agencies(vec![police]),
        ] {
            let mut expected: std::collections::BTreeMap<
                String,
                std::collections::BTreeMap<i32, usize>,
            > = Default::default();
            for doc in all
                .iter()
                .filter(|d| reader.may_read(d) && d.source_kind != "recommendation")
            {
                for code in doc.theme_codes() {
                    *expected
                        .entry(code)
                        .or_default()
                        .entry(chrono::Datelike::year(&doc.dated_on))
                        .or_default() += 1;
                }
            }
            let counted = library::themes_by_year(conn, &reader).await.unwrap();
            assert_eq!(counted, expected, "{reader:?}");
            assert!(!counted.is_empty());
        }
    }
);
