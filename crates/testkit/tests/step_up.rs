#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Second factors that keep up with roles, and step-up: a role that sees case content makes a
//! live session and API tokens pass a second factor first; the authenticator code asked again
//! (before exports, new tokens and publication) is throttled with sign-in and audited; nobody
//! grants themselves a role, and case access granted is recorded and shown.

use chrono::TimeDelta;
use learnloop_core::access::{Role, grants};
use learnloop_core::clock::Clock;
use learnloop_core::demo::{DEMO_REVIEW_ID, DEMO_TOTP_SECRET};
use learnloop_core::identity::totp;
use learnloop_core::{demo, people, tokens};
use learnloop_testkit::browser::csrf_in;
use learnloop_testkit::sea_orm::{EntityTrait, Set};
use learnloop_testkit::{Browser, TestApp, on_both_databases};

const MANAGER: &str = "business.manager@fernbridge.example";
const ADMIN: &str = "admin@fernbridge.example";
const PRACTITIONER: &str = "practitioner@fernbridge.example";

async fn person(app: &TestApp, email: &str) -> people::Person {
    people::find_by_email(app.db.conn(), email)
        .await
        .unwrap()
        .unwrap()
}

/// The status of an API request with a bearer token.
async fn api_status(app: &TestApp, token: &str) -> u16 {
    app.client
        .get(app.url("/api/v1/agencies"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A token as one made before tokens needed a second factor (or by an older instance): the
/// core no longer creates one for such a person.
async fn legacy_token(app: &TestApp, person_id: uuid::Uuid) -> String {
    let secret = format!("ll_{}", "7a".repeat(32));
    let now = app.clock.now();
    tokens::Entity::insert(tokens::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        person_id: Set(person_id),
        label: Set("legacy".to_string()),
        token_hash: Set(tokens::hash(&secret)),
        created_at: Set(now),
        expires_at: Set(now + TimeDelta::days(30)),
        revoked_at: Set(None),
        suspended_at: Set(None),
    })
    .exec_without_returning(app.db.conn())
    .await
    .unwrap();
    secret
}

async fn token_of(app: &TestApp, email: &str) -> String {
    let now = app.clock.now();
    tokens::create(
        app.db.conn(),
        person(app, email).await.id,
        "test",
        now + TimeDelta::days(30),
        now,
    )
    .await
    .unwrap()
    .1
}

async fn grant_role(admin: &Browser, person_id: uuid::Uuid, role: &str, starts_on: &str) -> u16 {
    admin
        .post_form(
            &format!("/admin/people/{person_id}/roles"),
            &[("role", role), ("starts_on", starts_on)],
        )
        .await
        .status()
        .as_u16()
}

fn location(response: &learnloop_testkit::reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn audit_count(app: &TestApp, action: &str) -> usize {
    app.query_strings(&format!(
        "SELECT action FROM audit_log WHERE action = '{action}'"
    ))
    .await
    .len()
}

/// A 6-digit code that is not the demo second factor's code now or one step either side.
fn wrong_code(app: &TestApp) -> String {
    let now = app.clock.now();
    (0..10)
        .map(|digit| digit.to_string().repeat(6))
        .find(|candidate| totp::matching_step(DEMO_TOTP_SECRET, candidate, now).is_none())
        .unwrap()
}

on_both_databases!(
    a_practitioner_given_a_case_role_enrols_before_anything_is_served,
    demo,
    |app| async move {
        let email = "new.practitioner@fernbridge.example";
        let practitioner = app
            .add_person_without_second_factor(email, "wealdshire-police", Role::Practitioner)
            .await;
        let legacy = legacy_token(app, practitioner.id).await;
        let browser = app.sign_in(email).await;
        assert_eq!(browser.get("/").await.status(), 200, "signed in, no code");
        assert_eq!(
            api_status(app, &legacy).await,
            401,
            "a token acts only for someone with a second factor"
        );
        // Token creation is refused without a second factor: in the core, and on the pages
        // (the step-up they need cannot be passed).
        let now = app.clock.now();
        assert!(
            tokens::create(
                app.db.conn(),
                practitioner.id,
                "x",
                now + TimeDelta::days(1),
                now
            )
            .await
            .is_err()
        );
        let response = browser
            .post_form("/account/tokens", &[("label", "feed"), ("days", "30")])
            .await;
        assert_eq!(response.status(), 303);
        assert!(location(&response).starts_with("/step-up?next="));
        let (_, html) = browser.get_text("/step-up?next=/account/tokens").await;
        assert!(html.contains("You need an authenticator app for this"));
        let refused = browser
            .post_form(
                "/step-up",
                &[("code", "123456"), ("next", "/account/tokens")],
            )
            .await;
        assert_eq!(refused.status(), 422);
        assert!(
            tokens::of_person(app.db.conn(), practitioner.id)
                .await
                .unwrap()
                .len()
                == 1,
            "only the legacy token"
        );

        // The administrator grants a Review Group role from the day after tomorrow: the
        // practitioner's session ends at once.
        let today = app.clock.now().date_naive();
        let start = today + chrono::Days::new(2);
        let admin = app.sign_in(ADMIN).await;
        assert_eq!(
            grant_role(
                &admin,
                practitioner.id,
                "review_group_member",
                &start.format("%Y-%m-%d").to_string()
            )
            .await,
            303
        );
        let response = browser.get("/").await;
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/sign-in", "the session has ended");

        // Until the grant starts they sign in with the password alone, as before; then the
        // grant comes into force while the session is live.
        app.clock.set(
            (start - chrono::Days::new(1))
                .and_hms_opt(23, 50, 0)
                .unwrap()
                .and_utc(),
        );
        let browser = app.sign_in(email).await;
        assert_eq!(browser.get("/").await.status(), 200);
        app.clock.advance(TimeDelta::minutes(15));
        let response = browser.get("/cases").await;
        assert_eq!(response.status(), 303, "case content is not served");
        assert_eq!(location(&response), "/sign-in/second-factor");
        assert_eq!(browser.get("/").await.status(), 303, "nor anything else");
        assert_eq!(api_status(app, &legacy).await, 401, "nor to the token");
        let (status, html) = browser.get_text("/sign-in/second-factor").await;
        assert_eq!(status, 200);
        assert!(html.contains("Set up your second factor"), "enrolment");

        // Enrolling passes the second factor: the session is served, the token acts again.
        let marker = "id=\"totp-secret\">";
        let start_at = html.find(marker).unwrap() + marker.len();
        let secret = html[start_at..start_at + html[start_at..].find('<').unwrap()].to_string();
        let mut browser = browser;
        browser.csrf = csrf_in(&html);
        let code = totp::current_code(&secret, app.clock.now()).unwrap();
        let enrolled = browser
            .post_form("/sign-in/second-factor", &[("code", &code)])
            .await;
        assert_eq!(enrolled.status(), 200, "recovery codes shown");
        assert_eq!(browser.get("/cases").await.status(), 200);
        assert_eq!(api_status(app, &legacy).await, 200);
    }
);

on_both_databases!(
    a_case_role_suspends_tokens_until_the_second_factor_is_passed,
    demo,
    |app| async move {
        let practitioner = person(app, PRACTITIONER).await;
        let token = token_of(app, PRACTITIONER).await;
        let browser = app.sign_in(PRACTITIONER).await;
        assert_eq!(api_status(app, &token).await, 200);
        let admin = app.sign_in(ADMIN).await;
        assert_eq!(
            grant_role(&admin, practitioner.id, "executive", "").await,
            303
        );
        assert_eq!(
            api_status(app, &token).await,
            401,
            "suspended: it was made for the roles held before"
        );
        assert_eq!(browser.get("/").await.status(), 303, "session ended");
        let (_, html) = app
            .sign_in(PRACTITIONER)
            .await
            .get_text("/account/tokens")
            .await;
        assert!(
            !html.contains("Suspended"),
            "passing the second factor lifts it"
        );
        assert_eq!(api_status(app, &token).await, 200);
    }
);

on_both_databases!(
    a_password_reset_revokes_api_tokens,
    demo,
    |app| async move {
        let token = token_of(app, MANAGER).await;
        assert_eq!(api_status(app, &token).await, 200);
        let manager = person(app, MANAGER).await;
        let admin = app.sign_in(ADMIN).await;
        let html = admin
            .post_form(&format!("/admin/people/{}/reset-link", manager.id), &[])
            .await
            .text()
            .await
            .unwrap();
        let start = html.find("/password-reset/").expect("a link");
        let path = html[start..start + "/password-reset/".len() + 64].to_string();
        assert_eq!(
            api_status(app, &token).await,
            200,
            "issuing a link changes nothing yet"
        );
        let mut visitor = app.browser();
        let (_, form) = visitor.get_text(&path).await;
        visitor.csrf = csrf_in(&form);
        let done = visitor
            .post_form(&path, &[("password", "a brand new harbour passphrase")])
            .await;
        assert!(done.text().await.unwrap().contains("Your password is set"));
        assert_eq!(
            api_status(app, &token).await,
            401,
            "revoked with the password"
        );
        let stored = tokens::of_person(app.db.conn(), manager.id).await.unwrap();
        assert!(stored.iter().all(|token| token.revoked_at.is_some()));
    }
);

on_both_databases!(
    ten_wrong_step_up_codes_in_five_minutes_lock_the_person_and_each_is_audited,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        for _ in 0..9 {
            let refused = manager
                .post_form(
                    "/step-up",
                    &[("code", &wrong_code(app)), ("next", "/reviews/export.csv")],
                )
                .await;
            assert_eq!(refused.status(), 422);
            assert!(refused.text().await.unwrap().contains("href=\"#code\""));
        }
        // The code asked at publication counts with them.
        let refused = manager
            .post_form(
                &format!("/reviews/{DEMO_REVIEW_ID}/publish"),
                &[("intruder_check", "yes"), ("code", &wrong_code(app))],
            )
            .await;
        assert_eq!(refused.status(), 422);
        assert_eq!(audit_count(app, "step_up.failed").await, 10);
        let reasons = app
            .query_strings("SELECT reason FROM audit_log WHERE action = 'step_up.failed'")
            .await;
        assert_eq!(reasons.iter().filter(|r| *r == "export").count(), 9);
        assert_eq!(reasons.iter().filter(|r| *r == "publication").count(), 1);

        // Locked: even the right code is refused, on each form that asks for it.
        let locked = manager
            .post_form(
                "/step-up",
                &[
                    ("code", &app.next_totp_code()),
                    ("next", "/reviews/export.csv"),
                ],
            )
            .await;
        assert_eq!(locked.status(), 429);
        let locked = manager
            .post_form(
                &format!("/reviews/{DEMO_REVIEW_ID}/publish"),
                &[("intruder_check", "yes"), ("code", &app.next_totp_code())],
            )
            .await;
        assert_eq!(locked.status(), 429);
        let mut other = app.browser();
        let (_, html) = other.get_text("/sign-in").await;
        other.csrf = csrf_in(&html);
        other
            .post_form(
                "/sign-in",
                &[("email", MANAGER), ("password", demo::DEMO_PASSWORD)],
            )
            .await;
        let (_, html) = other.get_text("/sign-in/second-factor").await;
        other.csrf = csrf_in(&html);
        let at_sign_in = other
            .post_form("/sign-in/second-factor", &[("code", &app.next_totp_code())])
            .await;
        assert_eq!(
            at_sign_in.status(),
            429,
            "one count with the sign-in second factor"
        );
        assert!(audit_count(app, "step_up.throttled").await >= 2);
        assert_eq!(audit_count(app, "step_up.succeeded").await, 0);
        assert_eq!(
            manager.get("/reviews/export.csv").await.status(),
            303,
            "nothing was stepped up"
        );

        // Once the window has passed, the right code works and is audited too.
        app.clock.advance(TimeDelta::minutes(5));
        let accepted = manager
            .post_form(
                "/step-up",
                &[
                    ("code", &app.next_totp_code()),
                    ("next", "/reviews/export.csv"),
                ],
            )
            .await;
        assert_eq!(accepted.status(), 303);
        assert_eq!(location(&accepted), "/reviews/export.csv");
        assert_eq!(audit_count(app, "step_up.succeeded").await, 1);
    }
);

on_both_databases!(
    exports_and_new_tokens_need_a_recent_step_up,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let nil = uuid::Uuid::nil();
        let downloads: Vec<(String, String)> = vec![
            (
                "/reviews/export.csv".into(),
                "%2Freviews%2Fexport.csv".into(),
            ),
            (
                "/actions/export.csv?rag=red".into(),
                "%2Factions%2Fexport.csv%3Frag%3Dred".into(),
            ),
            (
                "/actions/export.xlsx".into(),
                "%2Factions%2Fexport.xlsx".into(),
            ),
            (
                "/account/activity.csv".into(),
                "%2Faccount%2Factivity.csv".into(),
            ),
            (
                format!("/reviews/{DEMO_REVIEW_ID}/briefing.docx"),
                format!("%2Freviews%2F{DEMO_REVIEW_ID}%2Fbriefing.docx"),
            ),
            (
                format!("/learning-items/{nil}/briefing.docx"),
                format!("%2Flearning-items%2F{nil}%2Fbriefing.docx"),
            ),
        ];
        for (path, encoded) in &downloads {
            let response = manager.get(path).await;
            assert_eq!(response.status(), 303, "{path} is not served");
            assert_eq!(location(&response), format!("/step-up?next={encoded}"));
            assert!(response.text().await.unwrap().is_empty(), "{path}: no data");
        }
        let (status, html) = manager
            .get_text("/step-up?next=%2Freviews%2Fexport.csv")
            .await;
        assert_eq!(status, 200);
        assert!(html.contains("Enter your authenticator code"));
        assert!(html.contains("name=\"next\" value=\"/reviews/export.csv\""));
        let accepted = manager
            .post_form(
                "/step-up",
                &[
                    ("code", &app.next_totp_code()),
                    ("next", "/reviews/export.csv"),
                ],
            )
            .await;
        assert_eq!(accepted.status(), 303);
        assert_eq!(location(&accepted), "/reviews/export.csv");
        for path in [
            "/reviews/export.csv",
            "/actions/export.csv?rag=red",
            "/account/activity.csv",
        ] {
            let response = manager.get(path).await;
            assert_eq!(response.status(), 200, "{path} after the step-up");
            assert!(
                response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/csv")
            );
        }
        assert_eq!(
            manager
                .get(&format!("/learning-items/{nil}/briefing.docx"))
                .await
                .status(),
            404,
            "after the step-up, the record is looked up as before"
        );
        // Remembered for 5 minutes, then asked again.
        app.clock.advance(TimeDelta::minutes(4));
        assert_eq!(manager.get("/reviews/export.csv").await.status(), 200);
        app.clock.advance(TimeDelta::seconds(61));
        assert_eq!(manager.get("/reviews/export.csv").await.status(), 303);

        // `next` is a path on this site, or the account page.
        for outside in [
            "//evil.example/x",
            "https://evil.example/",
            "/\\evil.example",
        ] {
            let response = manager
                .post_form(
                    "/step-up",
                    &[("code", &app.next_totp_code()), ("next", outside)],
                )
                .await;
            assert_eq!(response.status(), 303);
            assert_eq!(location(&response), "/account", "{outside}");
        }

        // A new API token needs a step-up too.
        app.clock.advance(TimeDelta::minutes(6));
        let response = manager
            .post_form("/account/tokens", &[("label", "Feed"), ("days", "30")])
            .await;
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/step-up?next=%2Faccount%2Ftokens");
        let manager_id = person(app, MANAGER).await.id;
        assert!(
            tokens::of_person(app.db.conn(), manager_id)
                .await
                .unwrap()
                .is_empty()
        );
        app.step_up(&manager).await;
        let html = manager
            .post_form("/account/tokens", &[("label", "Feed"), ("days", "30")])
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"new-token\">ll_"));
        let reasons = app
            .query_strings("SELECT reason FROM audit_log WHERE action = 'step_up.succeeded'")
            .await;
        assert!(reasons.contains(&"export".to_string()));
    }
);

on_both_databases!(
    nobody_grants_themselves_a_role_and_case_access_is_recorded_and_shown,
    demo,
    |app| async move {
        let admin_person = person(app, ADMIN).await;
        let admin = app.sign_in(ADMIN).await;
        let held = grants::of_person(app.db.conn(), admin_person.id)
            .await
            .unwrap()
            .len();
        let response = admin
            .post_form(
                &format!("/admin/people/{}/roles", admin_person.id),
                &[("role", "business_manager")],
            )
            .await;
        assert_eq!(response.status(), 403);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("You cannot give yourself a role")
        );
        assert_eq!(
            grants::of_person(app.db.conn(), admin_person.id)
                .await
                .unwrap()
                .len(),
            held,
            "nothing granted"
        );
        let denied = app
            .query_strings(&format!(
                "SELECT outcome FROM audit_log WHERE action = 'grant.add' AND record_id = '{}'",
                admin_person.id
            ))
            .await;
        assert_eq!(denied, vec!["denied".to_string()]);
        // The core refuses it on every path (the CLI's included).
        let now = app.clock.now();
        assert!(
            grants::grant(
                app.db.conn(),
                grants::NewGrant {
                    person_id: admin_person.id,
                    role: Role::BusinessManager,
                    agency_id: None,
                    review_id: None,
                    starts_on: None,
                    ends_on: None,
                    granted_by: Some(admin_person.id),
                },
                now,
            )
            .await
            .is_err()
        );

        // Case access granted to someone else: its own audit entry, and shown on their page.
        let practitioner = person(app, PRACTITIONER).await;
        assert_eq!(
            grant_role(&admin, practitioner.id, "executive", "").await,
            303
        );
        let recorded = app
            .query_strings(&format!(
                "SELECT reason FROM audit_log WHERE action = 'grant.case_access_added' AND record_id = '{}'",
                practitioner.id
            ))
            .await;
        assert_eq!(recorded.len(), 1);
        assert!(recorded[0].starts_with("executive"), "{recorded:?}");
        let (_, page) = admin
            .get_text(&format!("/admin/people/{}", practitioner.id))
            .await;
        assert!(page.contains("Case access granted on"));
        assert!(page.contains(&format!("by {}", admin_person.name)));
        let (_, account) = app.sign_in(PRACTITIONER).await.get_text("/account").await;
        assert!(account.contains("Case access granted on"));
        // A role without case content is not recorded as case access.
        assert_eq!(
            grant_role(&admin, practitioner.id, "practitioner", "").await,
            303
        );
        assert_eq!(audit_count(app, "grant.case_access_added").await, 1);
    }
);
