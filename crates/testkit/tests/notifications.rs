#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Notifications, the Review Group's decisions and the statutory clocks, over the pages and
//! the API, on both databases.

use learnloop_core::clock::Clock;
use learnloop_core::{people, tokens};
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

async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> (u16, Value, Option<String>) {
    let mut request = match method {
        "POST" => app.client.post(app.url(path)),
        "PUT" => app.client.put(app.url(path)),
        _ => app.client.get(app.url(path)),
    }
    .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .map(|value| value.to_str().unwrap().to_string());
    (status, response.json().await.unwrap_or(Value::Null), etag)
}

async fn agency_id(app: &TestApp, code: &str) -> String {
    learnloop_core::agencies::find_by_code(app.db.conn(), code)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

async fn partnership_id(app: &TestApp, code: &str) -> String {
    learnloop_core::partnerships::find_by_code(app.db.conn(), code)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

async fn child_case(app: &TestApp, aware_on: &str) -> Value {
    json!({
        "subject_kind": "child",
        "incident_kind": "serious_harm",
        "aware_on": aware_on,
        "summary": "Test case: injuries not explained.",
        "pseudonym": "Child Q",
        "age_band": "1 to 4",
        "subject_name": "Quinn Testsubject",
        "subject_dob": "2023-02-01",
        "referrer": "Police public protection unit",
        "partnership_ids": [partnership_id(app, "fernbridge-cssp").await],
        "agency_ids": [agency_id(app, "wealdshire-police").await, agency_id(app, "fbc-childrens").await],
        "police_investigation": true
    })
}

fn deadline<'a>(notification: &'a Value, name: &str) -> &'a Value {
    notification["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no {name} deadline in {notification}"))
}

on_both_databases!(
    working_days_are_counted_over_christmas_and_flagged_past_the_data,
    demo,
    |app| async move {
        let token = token(app, "practitioner@fernbridge.example").await;
        let (status, body, _) = call(
            app,
            &token,
            "GET",
            "/api/v1/calendar/working-days?from=2025-12-18&days=5",
            None,
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            json!({"from": "2025-12-18", "days": 5, "date": "2025-12-29", "calendar_covered": true})
        );
        let (_, body, _) = call(
            app,
            &token,
            "GET",
            "/api/v1/calendar/working-days?from=2028-12-20&days=15",
            None,
            None,
        )
        .await;
        assert_eq!(body["calendar_covered"], false);
        assert!(body["date"].as_str().unwrap().starts_with("2029-"));
        let (status, body, _) = call(
            app,
            &token,
            "GET",
            "/api/v1/calendar/working-days?from=18/12/2025&days=5",
            None,
            None,
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["fields"][0]["field"], "from");
        let (status, body, _) = call(
            app,
            &token,
            "GET",
            "/api/v1/calendar/working-days?from=2025-12-18&days=many",
            None,
            None,
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["fields"][0]["field"], "days");
    }
);

on_both_databases!(
    a_serious_child_case_gets_its_statutory_clocks,
    demo,
    |app| async move {
        let token = token(app, MANAGER).await;
        let (status, created, etag) = call(
            app,
            &token,
            "POST",
            "/api/v1/notifications",
            Some(child_case(app, "2025-12-18").await),
            None,
        )
        .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(etag.as_deref(), Some("\"v1\""));
        let notice = deadline(&created, "national_panel_notification");
        assert_eq!(
            notice["due_on"], "2025-12-29",
            "5 working days over Christmas"
        );
        assert_eq!(notice["calendar_covered"], true);
        assert_eq!(notice["state"], "overdue");
        let rapid = deadline(&created, "rapid_review");
        assert_eq!(
            rapid["due_on"], "2026-01-13",
            "15 working days over Christmas and New Year"
        );
        assert!(
            created["reference"]
                .as_str()
                .unwrap()
                .starts_with("N-2025-")
        );
        assert_eq!(created["subject_name"], "Quinn Testsubject");
    }
);

on_both_databases!(
    bad_notifications_and_decisions_name_the_field_and_write_nothing,
    demo,
    |app| async move {
        let token = token(app, MANAGER).await;
        let before = app
            .query_strings("SELECT CAST(COUNT(*) AS TEXT) FROM cases")
            .await;
        let tomorrow = (app.clock.now().date_naive() + chrono::Days::new(1))
            .format("%Y-%m-%d")
            .to_string();
        let (status, body, _) = call(
            app,
            &token,
            "POST",
            "/api/v1/notifications",
            Some(child_case(app, &tomorrow).await),
            None,
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(body["error"]["fields"][0]["field"], "aware_on");
        let mut wrong_band = child_case(app, "2026-01-05").await;
        wrong_band["age_band"] = json!("85 and over");
        let (status, body, _) = call(
            app,
            &token,
            "POST",
            "/api/v1/notifications",
            Some(wrong_band),
            None,
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(body["error"]["fields"][0]["field"], "age_band");
        assert_eq!(
            app.query_strings("SELECT CAST(COUNT(*) AS TEXT) FROM cases")
                .await,
            before,
            "nothing written"
        );

        let (_, created, _) = call(
            app,
            &token,
            "POST",
            "/api/v1/notifications",
            Some(child_case(app, "2026-01-05").await),
            None,
        )
        .await;
        let id = created["id"].as_str().unwrap();
        let decide = |rationale: &str, hold: bool, override_reason: Option<&str>| {
            json!({
                "review_type": "serious_child_case",
                "answers": {"abuse_or_neglect": true, "child_seriously_harmed": true},
                "hold_review": hold,
                "override_reason": override_reason,
                "rationale": rationale,
                "decided_on": "2026-01-07"
            })
        };
        let path = format!("/api/v1/notifications/{id}/decisions");
        let (status, body, _) = call(
            app,
            &token,
            "POST",
            &path,
            Some(decide("  ", true, None)),
            None,
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(body["error"]["fields"][0]["field"], "rationale");
        let (status, body, _) = call(
            app,
            &token,
            "POST",
            &path,
            Some(decide("The partners disagree.", false, None)),
            None,
        )
        .await;
        assert_eq!(
            status, 422,
            "not reviewing a case that meets the criteria needs a reason"
        );
        assert_eq!(body["error"]["fields"][0]["field"], "override_reason");
        let (status, body, _) = call(app, &token, "POST", &path, Some(json!({"review_type": "sar", "hold_review": true, "rationale": "x", "decided_on": "2026-01-07"})), None).await;
        assert_eq!(status, 422);
        assert_eq!(
            body["error"]["fields"][0]["field"], "review_type",
            "a SAR is not for a child"
        );

        let (_, decisions, _) = call(app, &token, "GET", &path, None, None).await;
        assert_eq!(decisions["total"], 0, "no refused decision was written");

        let (status, decided, _) = call(
            app,
            &token,
            "POST",
            &path,
            Some(decide(
                "Physical abuse suspected; serious harm.",
                true,
                None,
            )),
            None,
        )
        .await;
        assert_eq!(status, 201, "{decided}");
        assert_eq!(decided["recommendation"], "review_required");
        assert!(decided["rapid_review_id"].is_string());
        let (status, overridden, _) = call(
            app,
            &token,
            "POST",
            &path,
            Some(decide(
                "Reconsidered at the next meeting.",
                false,
                Some("The injuries were found to be accidental"),
            )),
            None,
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(overridden["overridden"], true);
    }
);

on_both_databases!(updates_need_the_current_version, demo, |app| async move {
    let token = token(app, MANAGER).await;
    let (_, created, etag) = call(
        app,
        &token,
        "POST",
        "/api/v1/notifications",
        Some(child_case(app, "2026-02-02").await),
        None,
    )
    .await;
    let path = format!("/api/v1/notifications/{}", created["id"].as_str().unwrap());
    let mut changed = child_case(app, "2026-02-02").await;
    changed["pseudonym"] = json!("Child Q2");
    let (status, _, _) = call(app, &token, "PUT", &path, Some(changed.clone()), None).await;
    assert_eq!(status, 428);
    let (status, updated, new_etag) = call(
        app,
        &token,
        "PUT",
        &path,
        Some(changed.clone()),
        etag.as_deref(),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["pseudonym"], "Child Q2");
    assert_eq!(new_etag.as_deref(), Some("\"v2\""));
    let (status, body, _) = call(app, &token, "PUT", &path, Some(changed), etag.as_deref()).await;
    assert_eq!(status, 412, "a stale version is refused: {body}");
    assert_eq!(body["error"]["code"], "stale_version");
});

on_both_databases!(
    who_sees_a_case_and_its_protected_fields,
    demo,
    |app| async move {
        let manager = token(app, MANAGER).await;
        let (_, created, _) = call(
            app,
            &manager,
            "POST",
            "/api/v1/notifications",
            Some(child_case(app, "2026-03-02").await),
            None,
        )
        .await;
        let path = format!("/api/v1/notifications/{}", created["id"].as_str().unwrap());
        let member = token(app, "review.member@fernbridge.example").await;
        let (status, body, _) = call(app, &member, "GET", &path, None, None).await;
        assert_eq!(status, 200);
        assert_eq!(
            body["subject_name"], "Quinn Testsubject",
            "the Review Group sees who it is"
        );
        let executive = token(app, "executive@fernbridge.example").await;
        let (status, body, _) = call(app, &executive, "GET", &path, None, None).await;
        assert_eq!(status, 200);
        assert!(
            body.get("subject_name").is_none() && body.get("subject_dob").is_none(),
            "{body}"
        );
        let police = token(app, "police.lead@fernbridge.example").await;
        let (status, body, _) = call(app, &police, "GET", &path, None, None).await;
        assert_eq!(status, 200, "the police were involved");
        assert!(body.get("subject_name").is_none());
        let health = token(app, "health.lead@fernbridge.example").await;
        let (status, _, _) = call(app, &health, "GET", &path, None, None).await;
        assert_eq!(status, 404, "the ICB was not involved");
        let (_, list, _) = call(
            app,
            &health,
            "GET",
            "/api/v1/notifications?per_page=100",
            None,
            None,
        )
        .await;
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|item| item["pseudonym"] != "Child Q")
        );
        let (status, _, _) = call(
            app,
            &police,
            "POST",
            "/api/v1/notifications",
            Some(child_case(app, "2026-03-02").await),
            None,
        )
        .await;
        assert_eq!(status, 403, "agency leads do not notify cases");
        let admin = token(app, "admin@fernbridge.example").await;
        let (status, _, _) = call(app, &admin, "GET", &path, None, None).await;
        assert_eq!(
            status, 403,
            "the system administrator reads no case content"
        );
        let views = app
            .query_strings("SELECT outcome FROM audit_log WHERE action = 'case.view'")
            .await;
        assert!(
            views.contains(&"allowed".to_string()) && views.contains(&"denied".to_string()),
            "every read is recorded"
        );
    }
);

on_both_databases!(
    a_rapid_review_converts_into_a_cspr_and_keeps_the_link,
    demo,
    |app| async move {
        let token = token(app, MANAGER).await;
        let (_, created, _) = call(
            app,
            &token,
            "POST",
            "/api/v1/notifications",
            Some(child_case(app, "2026-04-01").await),
            None,
        )
        .await;
        let id = created["id"].as_str().unwrap().to_string();
        let (_, decided, _) = call(
            app,
            &token,
            "POST",
            &format!("/api/v1/notifications/{id}/decisions"),
            Some(json!({
                "review_type": "serious_child_case",
                "answers": {"abuse_or_neglect": true, "child_seriously_harmed": true},
                "hold_review": true, "rationale": "Criteria met.", "decided_on": "2026-04-02"
            })),
            None,
        )
        .await;
        let rapid = decided["rapid_review_id"].as_str().unwrap().to_string();
        let browser = app.sign_in(MANAGER).await;
        let (status, html) = browser.get_text(&format!("/rapid-reviews/{rapid}")).await;
        assert_eq!(status, 200);
        // Easter 2026: Good Friday 3 April and Easter Monday 6 April.
        assert!(
            html.contains("Day 15: Fri 24 Apr 2026"),
            "steps count working days over Easter"
        );
        assert!(
            html.matches("id=\"summary-").count() >= 2,
            "a summary is due from each agency involved"
        );
        let response = browser
            .post_form(
                &format!("/rapid-reviews/{rapid}/outcome"),
                &[("outcome", "local_cspr"), ("outcome_on", "2026-04-24")],
            )
            .await;
        assert_eq!(response.status(), 303);
        let response = browser
            .post_form(
                &format!("/rapid-reviews/{rapid}/convert"),
                &[("review_type", "cspr_local")],
            )
            .await;
        assert_eq!(response.status(), 303);
        let (_, html) = browser.get_text(&format!("/cases/{id}")).await;
        assert!(html.contains("Local child safeguarding practice review"));
        assert!(html.contains("Converted from the rapid review"));
        let again = browser
            .post_form(
                &format!("/rapid-reviews/{rapid}/convert"),
                &[("review_type", "sar")],
            )
            .await;
        assert_ne!(again.status(), 303, "a rapid review converts once");
    }
);

on_both_databases!(
    the_demo_has_cases_in_every_state_with_some_overdue,
    demo,
    |app| async move {
        let browser = app.sign_in(MANAGER).await;
        let (status, html) = browser.get_text("/deadlines").await;
        assert_eq!(status, 200);
        assert!(html.contains("Child T"), "an overdue rapid review");
        assert!(html.contains("Child R"), "a notification due soon");
        assert!(!html.contains("Overdue (0)"));
        let (_, html) = browser.get_text("/cases").await;
        for pseudonym in [
            "Child R", "Child T", "Child M", "Adult K", "Adult J", "Adult P", "Child S",
        ] {
            assert!(html.contains(pseudonym), "{pseudonym}");
        }
        let converted = app.query_strings("SELECT CAST(COUNT(*) AS TEXT) FROM reviews WHERE converted_from_rapid_review_id IS NOT NULL").await;
        assert_eq!(converted, ["1"]);
        let no_review = app
            .query_strings(
                "SELECT CAST(COUNT(*) AS TEXT) FROM case_decisions WHERE outcome = 'no_review'",
            )
            .await;
        assert_eq!(no_review, ["1"]);
    }
);

on_both_databases!(
    a_calendar_feed_shows_pseudonyms_and_can_be_stopped,
    demo,
    |app| async move {
        let browser = app.sign_in(MANAGER).await;
        let response = browser.post_form("/account/calendar", &[]).await;
        let html = response.text().await.unwrap();
        let start = html.find("/calendar/").expect("an address");
        let path = html[start..start + "/calendar/".len() + 64 + 4].to_string();
        assert!(path.ends_with(".ics"));
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/calendar")
        );
        let body = response.text().await.unwrap();
        assert!(body.starts_with("BEGIN:VCALENDAR"));
        assert!(body.contains("SUMMARY:Child R: Notify the national panel"));
        assert!(!body.contains("Demo Subject"), "no real names in the feed");
        browser.post_form("/account/calendar/revoke", &[]).await;
        assert_eq!(app.get(&path).await.status(), 404);
    }
);

on_both_databases!(
    a_calendar_import_replaces_years_and_a_bad_file_changes_nothing,
    demo,
    |app| async move {
        let browser = app.sign_in(MANAGER).await;
        let upload = |text: String| {
            let form = reqwest::multipart::Form::new()
                .text("csrf_token", browser.csrf.clone())
                .part(
                    "file",
                    reqwest::multipart::Part::text(text).file_name("bank-holidays.json"),
                );
            browser
                .client
                .post(browser.url("/admin/calendar/import"))
                .header("origin", &browser.base_url)
                .multipart(form)
                .send()
        };
        let response = upload(
            r#"{"england-and-wales": {"events": [{"title": "Test day", "date": "2031-13-01"}]}}"#
                .to_string(),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 422);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("england-and-wales.events[0].date")
        );
        assert!(
            app.query_strings("SELECT title FROM calendar_days")
                .await
                .is_empty(),
            "a rejected import changes nothing"
        );
        let response = upload(r#"{"england-and-wales": {"division": "england-and-wales", "events": [{"title": "New Year's Day", "date": "2029-01-01"}, {"title": "Good Friday", "date": "2029-03-30"}]}}"#.to_string()).await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Imported 2 bank holidays for 2029 to 2029")
        );
        let token = token(app, MANAGER).await;
        let (_, body, _) = call(
            app,
            &token,
            "GET",
            "/api/v1/calendar/working-days?from=2029-03-29&days=1",
            None,
            None,
        )
        .await;
        assert_eq!(
            body["date"], "2029-04-02",
            "the imported Good Friday counts"
        );
        assert_eq!(body["calendar_covered"], true, "2029 is covered now");

        // GOV.UK's real file, when the shared data is there.
        let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/bank-holidays/govuk-bank-holidays_2012-2020.json");
        match std::fs::read_to_string(&real) {
            Ok(text) => {
                let response = upload(text).await.unwrap();
                assert_eq!(response.status(), 200);
                // That copy predates the 2020 move of the early May holiday to VE day.
                let (_, body, _) = call(
                    app,
                    &token,
                    "GET",
                    "/api/v1/calendar/working-days?from=2020-05-01&days=1",
                    None,
                    None,
                )
                .await;
                assert_eq!(body["date"], "2020-05-05");
            }
            Err(_) => eprintln!("skipped: {} is absent", real.display()),
        }
    }
);

on_both_databases!(
    fifty_concurrent_writers_lose_no_update,
    demo,
    |app| async move {
        let token = token(app, MANAGER).await;
        let (_, created, _) = call(
            app,
            &token,
            "POST",
            "/api/v1/notifications",
            Some(child_case(app, "2026-05-05").await),
            None,
        )
        .await;
        let path = format!("/api/v1/notifications/{}", created["id"].as_str().unwrap());
        let mut writers = Vec::new();
        for writer in 0..50 {
            let client = app.client.clone();
            let url = app.url(&path);
            let token = token.clone();
            writers.push(tokio::spawn(async move {
            let mut conflicts = 0;
            loop {
                let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
                let etag = response.headers()["etag"].to_str().unwrap().to_string();
                let mut current: Value = response.json().await.unwrap();
                let summary = format!("{} [w{writer}]", current["summary"].as_str().unwrap());
                let body = json!({
                    "subject_kind": current["subject_kind"], "incident_kind": current["incident_kind"],
                    "aware_on": current["aware_on"], "summary": summary, "pseudonym": current["pseudonym"],
                    "age_band": current["age_band"], "subject_name": current["subject_name"], "subject_dob": current["subject_dob"],
                    "referrer": current["referrer"], "partnership_ids": current["partnership_ids"].take(),
                    "agency_ids": current["agency_ids"].take(), "police_investigation": true
                });
                let status = client.put(&url).bearer_auth(&token).header("if-match", etag).json(&body).send().await.unwrap().status().as_u16();
                match status {
                    200 => return conflicts,
                    412 => conflicts += 1,
                    other => panic!("unexpected {other}"),
                }
            }
        }));
        }
        let mut conflicts = 0;
        for writer in writers {
            conflicts += writer.await.unwrap();
        }
        let (_, last, etag) = call(app, &token, "GET", &path, None, None).await;
        let summary = last["summary"].as_str().unwrap();
        for writer in 0..50 {
            assert!(
                summary.contains(&format!("[w{writer}]")),
                "writer {writer}'s update was lost"
            );
        }
        assert_eq!(
            etag.as_deref(),
            Some("\"v51\""),
            "50 updates, one version each"
        );
        assert!(conflicts > 0, "the writers really did collide");
    }
);

on_both_databases!(
    the_case_page_records_the_notification_and_missed_deadline_reasons,
    demo,
    |app| async move {
        let token = token(app, MANAGER).await;
        let (_, created, _) = call(
            app,
            &token,
            "POST",
            "/api/v1/notifications",
            Some(child_case(app, "2026-06-01").await),
            None,
        )
        .await;
        let id = created["id"].as_str().unwrap();
        let browser = app.sign_in(MANAGER).await;
        let html = browser
            .post_form(
                &format!("/cases/{id}/national-panel"),
                &[("notified_on", "2026-05-01"), ("notified_by", "")],
            )
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("href=\"#notified_on\"") && html.contains("href=\"#notified_by\""),
            "both fields named"
        );
        let response = browser
            .post_form(
                &format!("/cases/{id}/national-panel"),
                &[
                    ("notified_on", "2026-06-10"),
                    ("notified_by", "Head of service"),
                ],
            )
            .await;
        assert_eq!(response.status(), 303);
        let (_, html) = browser.get_text(&format!("/cases/{id}")).await;
        assert!(html.contains("10 June 2026 by Head of service"));
        assert!(
            html.contains("Met late"),
            "due 2026-06-08, notified 2026-06-10"
        );
        let response = browser
            .post_form(
                &format!("/cases/{id}/deadline-reasons"),
                &[
                    ("deadline_key", "national_panel_notification"),
                    (
                        "reason",
                        "The notification form was rejected by the national system",
                    ),
                ],
            )
            .await;
        assert_eq!(response.status(), 303);
        let (_, html) = browser.get_text(&format!("/cases/{id}")).await;
        assert!(html.contains("The notification form was rejected by the national system"));
        let html = browser
            .post_form(
                &format!("/cases/{id}/deadline-reasons"),
                &[("deadline_key", "rapid_review"), ("reason", " ")],
            )
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("href=\"#reason\""));
    }
);

on_both_databases!(
    a_stale_edit_of_a_case_page_gets_409_with_what_changed,
    demo,
    |app| async move {
        let token = token(app, MANAGER).await;
        let (_, created, _) = call(
            app,
            &token,
            "POST",
            "/api/v1/notifications",
            Some(child_case(app, "2026-07-01").await),
            None,
        )
        .await;
        let id = created["id"].as_str().unwrap();
        let first = app.sign_in(MANAGER).await;
        let second = app.sign_in("review.member@fernbridge.example").await;
        let (status, form_one) = first.get_text(&format!("/cases/{id}/edit")).await;
        assert_eq!(status, 200);
        assert!(form_one.contains("name=\"version\" value=\"1\""));
        let fields =
            |pseudonym: &'static str, summary: &'static str| -> Vec<(&'static str, &'static str)> {
                vec![
                    ("version", "1"),
                    ("subject_kind", "child"),
                    ("incident_kind", "serious_harm"),
                    ("aware_on", "2026-07-01"),
                    ("pseudonym", pseudonym),
                    ("age_band_child", "1 to 4"),
                    ("summary", summary),
                    ("referrer", "Police public protection unit"),
                ]
            };
        let mut second_fields = fields("Child Q", "Second editor's summary");
        let children = partnership_id(app, "fernbridge-cssp").await;
        second_fields.push(("partnership_ids", &children));
        let response = second
            .post_form(&format!("/cases/{id}/edit"), &second_fields)
            .await;
        assert_eq!(response.status(), 303, "the first save wins");
        let mut first_fields = fields("Child Q-renamed", "Test case: injuries not explained.");
        first_fields.push(("partnership_ids", &children));
        let response = first
            .post_form(&format!("/cases/{id}/edit"), &first_fields)
            .await;
        assert_eq!(response.status(), 409, "the stale save is refused");
        let html = response.text().await.unwrap();
        assert!(html.contains("Someone else changed this case"));
        assert!(html.contains("Second editor"), "shows what changed");
        assert!(
            html.contains("value=\"Child Q-renamed\""),
            "keeps this person's values"
        );
        assert!(html.contains("name=\"version\" value=\"2\""));
        let (_, read, _) = call(
            app,
            &token,
            "GET",
            &format!("/api/v1/notifications/{id}"),
            None,
            None,
        )
        .await;
        assert_eq!(
            read["summary"], "Second editor's summary",
            "nothing of the stale save was written"
        );
        assert_eq!(read["pseudonym"], "Child Q");
    }
);

on_both_databases!(
    the_dashboard_shows_the_clocks_to_those_who_see_cases,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let (_, html) = manager.get_text("/").await;
        assert!(html.contains("id=\"clocks\""));
        assert!(html.contains("deadlines overdue"));
        assert!(html.contains("<span class=\"app-stat__value\">10</span> <span class=\"app-stat__label\">open cases</span>"), "the ten open demo cases");
        let practitioner = app.sign_in("practitioner@fernbridge.example").await;
        let (status, html) = practitioner.get_text("/").await;
        assert_eq!(status, 200);
        assert!(
            !html.contains("id=\"clocks\""),
            "no case clocks for roles that see no cases"
        );
        let police = app.sign_in("police.lead@fernbridge.example").await;
        let (_, html) = police.get_text("/").await;
        assert!(html.contains("<span class=\"app-stat__value\">7</span> <span class=\"app-stat__label\">open cases</span>"), "only the cases the police are involved in");
    }
);

on_both_databases!(
    files_attach_to_a_case_behind_its_access_checks,
    demo,
    |app| async move {
        let token = token(app, MANAGER).await;
        let (_, created, _) = call(
            app,
            &token,
            "POST",
            "/api/v1/notifications",
            Some(child_case(app, "2026-08-03").await),
            None,
        )
        .await;
        let id = created["id"].as_str().unwrap().to_string();
        let manager = app.sign_in(MANAGER).await;
        let upload = |name: &'static str, bytes: &'static [u8]| {
            let form = reqwest::multipart::Form::new()
                .text("csrf_token", manager.csrf.clone())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name(name),
                );
            manager
                .client
                .post(manager.url(&format!("/cases/{id}/attachments")))
                .header("origin", &manager.base_url)
                .multipart(form)
                .send()
        };
        let refused = upload("payload.exe", b"MZ\x90\x00").await.unwrap();
        assert_eq!(refused.status(), 422);
        assert!(
            refused.text().await.unwrap().contains("href=\"#file\""),
            "the error names the field"
        );
        let disguised = upload("referral.pdf", b"<script>alert(1)</script>")
            .await
            .unwrap();
        assert_eq!(disguised.status(), 422, "content must match the name");
        assert!(
            app.query_strings("SELECT file_name FROM case_attachments")
                .await
                .is_empty(),
            "nothing recorded"
        );
        let accepted = upload("../../Referral form.pdf", b"%PDF-1.7 fictional referral")
            .await
            .unwrap();
        assert_eq!(accepted.status(), 303);
        let (_, html) = manager.get_text(&format!("/cases/{id}")).await;
        let start = html
            .find(&format!("/cases/{id}/attachments/"))
            .expect("listed");
        let link = html[start..start + format!("/cases/{id}/attachments/").len() + 36].to_string();
        assert!(
            html.contains(">Referral form.pdf</a>"),
            "the name is cleaned of its path"
        );
        let response = manager.get(&link).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/pdf");
        assert_eq!(
            response.headers()["content-disposition"],
            "attachment; filename=\"Referral form.pdf\""
        );
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            b"%PDF-1.7 fictional referral"
        );
        let health = app.sign_in("health.lead@fernbridge.example").await;
        assert_eq!(
            health.get(&link).await.status(),
            404,
            "not involved, not found"
        );
        let police = app.sign_in("police.lead@fernbridge.example").await;
        assert_eq!(
            police.get(&link).await.status(),
            200,
            "the police were involved"
        );
        let downloads = app
            .query_strings("SELECT action FROM audit_log WHERE action = 'case.attachment_download'")
            .await;
        assert_eq!(downloads.len(), 2, "each download is recorded");
    }
);
