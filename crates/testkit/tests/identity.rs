#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Signing in: one answer for unknown people and wrong passwords, throttling counted in the
//! database, second factors used once, sessions that end when they should, CSRF refusals and
//! cookie and header settings.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use learnloop_core::access::Role;
use learnloop_core::clock::Clock;
use learnloop_core::identity::totp;
use learnloop_core::{audit, demo};
use learnloop_testkit::browser::csrf_in;
use learnloop_testkit::{Backend, TestApp, on_both_databases};

const MANAGER: &str = "business.manager@fernbridge.example";
const ADMIN: &str = "admin@fernbridge.example";

async fn try_password(app: &TestApp, email: &str, password: &str) -> (u16, String, Duration) {
    let browser = app.browser();
    let (_, html) = browser.get_text("/sign-in").await;
    let mut browser = browser;
    browser.csrf = csrf_in(&html);
    let started = Instant::now();
    let response = browser
        .post_form("/sign-in", &[("email", email), ("password", password)])
        .await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default(), elapsed)
}

/// The error summary of a page, which must not differ between the two refusals.
fn error_summary(html: &str) -> String {
    let start = html.find("govuk-error-summary__list").unwrap_or(0);
    html[start..start + 200.min(html.len() - start)].to_string()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.query_strings("SELECT action FROM audit_log ORDER BY seq")
        .await
}

on_both_databases!(
    unknown_people_and_wrong_passwords_get_the_same_answer,
    demo,
    |app| async move {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        // Four of each, alternating, compared by their second fastest: a busy machine slows
        // single attempts, not the whole set (eight stay under the address's throttle of ten).
        for _ in 0..4 {
            let (status_known, html_known, time_known) =
                try_password(app, MANAGER, "not the password").await;
            let (status_unknown, html_unknown, time_unknown) =
                try_password(app, "nobody@fernbridge.example", "not the password").await;
            assert_eq!(status_known, 200);
            assert_eq!(status_unknown, 200);
            assert!(html_known.contains("Enter a correct email address and password"));
            assert_eq!(error_summary(&html_known), error_summary(&html_unknown));
            known.push(time_known);
            unknown.push(time_unknown);
        }
        known.sort();
        unknown.sort();
        // Both run argon2: an unknown address is not answered noticeably faster.
        assert!(
            unknown[1] * 3 > known[1],
            "unknown {:?} vs known {:?}",
            unknown,
            known
        );
        let actions = audit_actions(app).await;
        assert_eq!(
            actions
                .iter()
                .filter(|action| *action == "sign_in.failed")
                .count(),
            8
        );
    }
);

on_both_databases!(
    ten_failures_in_five_minutes_throttle_the_address_on_every_instance,
    demo,
    |app| async move {
        for _ in 0..10 {
            let (status, _, _) = try_password(app, MANAGER, "wrong guess").await;
            assert_eq!(status, 200);
        }
        let (status, html, _) = try_password(app, MANAGER, demo::DEMO_PASSWORD).await;
        assert_eq!(
            status, 429,
            "even the right password is refused while throttled"
        );
        assert!(html.contains("Too many attempts"));
        let other = app.second_instance().await;
        let (status, _, _) = try_password(&other, MANAGER, demo::DEMO_PASSWORD).await;
        assert_eq!(status, 429, "the count lives in the database");
        assert!(
            audit_actions(app)
                .await
                .contains(&"sign_in.throttled".to_string())
        );
        // Other people are unaffected.
        let (status, _, _) = try_password(app, ADMIN, demo::DEMO_PASSWORD).await;
        assert_eq!(status, 303);
        app.clock
            .advance(TimeDelta::minutes(5) + TimeDelta::seconds(1));
        let (status, _, _) = try_password(app, MANAGER, demo::DEMO_PASSWORD).await;
        assert_eq!(status, 303, "the window has passed");
        other.stop().await;
    }
);

on_both_databases!(a_second_factor_code_works_once, demo, |app| async move {
    let browser = app.sign_in(MANAGER).await;
    // The code just used, presented again in the same step, is refused.
    let used = totp::current_code(demo::DEMO_TOTP_SECRET, app.clock.now()).unwrap();
    let mut again = app.browser();
    let (_, html) = again.get_text("/sign-in").await;
    again.csrf = csrf_in(&html);
    again
        .post_form(
            "/sign-in",
            &[("email", MANAGER), ("password", demo::DEMO_PASSWORD)],
        )
        .await;
    let (_, html) = again.get_text("/sign-in/second-factor").await;
    again.csrf = csrf_in(&html);
    let response = again
        .post_form("/sign-in/second-factor", &[("code", &used)])
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("The code is not right or has been used")
    );
    assert_eq!(again.get("/").await.status(), 303, "still not signed in");
    assert_eq!(browser.get("/").await.status(), 200);
});

on_both_databases!(
    a_new_session_id_at_each_step_of_sign_in,
    demo,
    |app| async move {
        let mut browser = app.browser();
        let (_, html) = browser.get_text("/sign-in").await;
        browser.csrf = csrf_in(&html);
        let response = browser
            .post_form(
                "/sign-in",
                &[("email", MANAGER), ("password", demo::DEMO_PASSWORD)],
            )
            .await;
        let first = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(first.starts_with("learnloop_session="));
        assert!(first.contains("HttpOnly") && first.contains("SameSite=Lax"));
        let (_, html) = browser.get_text("/sign-in/second-factor").await;
        browser.csrf = csrf_in(&html);
        let code = app.next_totp_code();
        let response = browser
            .post_form("/sign-in/second-factor", &[("code", &code)])
            .await;
        let second = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_string();
        assert_ne!(
            first.split(';').next(),
            second.split(';').next(),
            "the id changes after the second factor"
        );
        // The half-signed-in cookie no longer works.
        let stale = app
            .client
            .get(app.url("/"))
            .header("cookie", first.split(';').next().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 303);
    }
);

on_both_databases!(
    sessions_end_when_idle_and_after_twelve_hours,
    demo,
    |app| async move {
        let browser = app.sign_in(MANAGER).await;
        app.clock.advance(TimeDelta::minutes(29));
        assert_eq!(
            browser.get("/").await.status(),
            200,
            "29 minutes idle is fine"
        );
        app.clock.advance(TimeDelta::minutes(31));
        assert_eq!(
            browser.get("/").await.status(),
            303,
            "31 minutes idle ends the session"
        );

        let browser = app.sign_in(MANAGER).await;
        for _ in 0..35 {
            app.clock.advance(TimeDelta::minutes(20));
            assert_eq!(
                browser.get("/").await.status(),
                200,
                "active within 12 hours"
            );
        }
        app.clock.advance(TimeDelta::minutes(21));
        let response = browser.get("/").await;
        assert_eq!(
            response.status(),
            303,
            "12 hours after sign-in the session ends however active"
        );
        assert_eq!(response.headers()["location"], "/sign-in");
    }
);

on_both_databases!(sign_out_ends_the_session, demo, |app| async move {
    let browser = app.sign_in(MANAGER).await;
    let response = browser.post_form("/sign-out", &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(browser.get("/").await.status(), 303);
    assert!(audit_actions(app).await.contains(&"sign_out".to_string()));
});

on_both_databases!(
    disabling_a_person_ends_their_sessions_on_every_instance,
    demo,
    |app| async move {
        let other = app.second_instance().await;
        let victim = app
            .add_person(
                "disabled.person@fernbridge.example",
                "fuh-nhs",
                Role::Executive,
                None,
                None,
            )
            .await;
        let victim_browser = other.sign_in("disabled.person@fernbridge.example").await;
        assert_eq!(victim_browser.get("/").await.status(), 200);
        let admin = app.sign_in(ADMIN).await;
        let response = admin
            .post_form(&format!("/admin/people/{}/disable", victim.id), &[])
            .await;
        assert_eq!(response.status(), 303);
        assert_eq!(
            victim_browser.get("/").await.status(),
            303,
            "ended at once, on the other instance too"
        );
        let (status, _, _) = try_password(
            app,
            "disabled.person@fernbridge.example",
            demo::DEMO_PASSWORD,
        )
        .await;
        assert_eq!(status, 200, "a disabled person cannot sign in again");
        other.stop().await;
    }
);

on_both_databases!(
    ending_a_reviewers_scope_ends_their_sessions,
    demo,
    |app| async move {
        let review = uuid::Uuid::now_v7();
        let ends_on = app.clock.now().date_naive() + chrono::Days::new(10);
        let reviewer = app
            .add_person(
                "scoped.reviewer@fernbridge.example",
                "fsp-team",
                Role::IndependentReviewer,
                Some(review),
                Some(ends_on),
            )
            .await;
        // Revoked by the administrator: sessions end at once.
        let browser = app.sign_in("scoped.reviewer@fernbridge.example").await;
        assert_eq!(browser.get("/").await.status(), 200);
        let grant_id = learnloop_core::access::grants::of_person(app.db.conn(), reviewer.id)
            .await
            .unwrap()[0]
            .id;
        let admin = app.sign_in(ADMIN).await;
        let response = admin
            .post_form(
                &format!("/admin/people/{}/roles/{}/revoke", reviewer.id, grant_id),
                &[],
            )
            .await;
        assert_eq!(response.status(), 303);
        assert_eq!(browser.get("/").await.status(), 303);

        // Reaching the end date: the next request finds no role in force and ends the session.
        app.add_person(
            "dated.reviewer@fernbridge.example",
            "fsp-team",
            Role::IndependentReviewer,
            Some(review),
            Some(ends_on),
        )
        .await;
        app.clock
            .set(ends_on.and_hms_opt(12, 0, 0).unwrap().and_utc());
        app.clock.advance(TimeDelta::seconds(1));
        let browser_fresh = app.sign_in("dated.reviewer@fernbridge.example").await;
        assert_eq!(
            browser_fresh.get("/").await.status(),
            200,
            "the last day is included"
        );
        app.clock.advance(TimeDelta::hours(12));
        assert_eq!(
            browser_fresh.get("/").await.status(),
            303,
            "the day after the end date, access has ended"
        );
        let (status, _, _) = try_password(
            app,
            "dated.reviewer@fernbridge.example",
            demo::DEMO_PASSWORD,
        )
        .await;
        assert_eq!(status, 200, "and signing in again is refused");
    }
);

on_both_databases!(
    state_changing_forms_need_a_token_and_this_origin,
    demo,
    |app| async move {
        let admin = app.sign_in(ADMIN).await;
        let fields = [
            ("name", "Csrf Test"),
            ("email", "csrf.test@fernbridge.example"),
            ("agency_id", ""),
            ("role", "executive"),
        ];
        // No token.
        let response = admin.post_raw("/admin/people/new", &fields, true).await;
        assert_eq!(response.status(), 403);
        // A wrong token.
        let mut with_wrong = vec![("csrf_token", "0000")];
        with_wrong.extend_from_slice(&fields);
        assert_eq!(
            admin
                .post_raw("/admin/people/new", &with_wrong, true)
                .await
                .status(),
            403
        );
        // The right token from another site.
        let mut with_right = vec![("csrf_token", admin.csrf.as_str())];
        with_right.extend_from_slice(&fields);
        assert_eq!(
            admin
                .post_raw("/admin/people/new", &with_right, false)
                .await
                .status(),
            403
        );
        // Sign-in and sign-out forms too.
        assert_eq!(
            app.browser()
                .post_raw(
                    "/sign-in",
                    &[("email", MANAGER), ("password", demo::DEMO_PASSWORD)],
                    true
                )
                .await
                .status(),
            403
        );
        assert_eq!(admin.post_raw("/sign-out", &[], true).await.status(), 403);
        assert_eq!(
            admin.get("/").await.status(),
            200,
            "the refused sign-out changed nothing"
        );
        // Nothing was created by the refused requests.
        assert!(
            app.query_strings(
                "SELECT email FROM people WHERE email = 'csrf.test@fernbridge.example'"
            )
            .await
            .is_empty()
        );
        // The second-factor form, for someone between password and code.
        let mut halfway = app.browser();
        let (_, html) = halfway.get_text("/sign-in").await;
        halfway.csrf = csrf_in(&html);
        halfway
            .post_form(
                "/sign-in",
                &[("email", MANAGER), ("password", demo::DEMO_PASSWORD)],
            )
            .await;
        let code = app.next_totp_code();
        assert_eq!(
            halfway
                .post_raw("/sign-in/second-factor", &[("code", &code)], true)
                .await
                .status(),
            403
        );
        // Every other POST page route in the site map refuses a request without a token.
        for rule in learnloop_web::routes::policy_table() {
            let second_factor_step =
                rule.policy == learnloop_web::auth::policy::Policy::SecondFactorStep;
            if rule.method == "POST" && !rule.path.starts_with("/api/") && !second_factor_step {
                let path = rule
                    .path
                    .replace("{id}", &uuid::Uuid::nil().to_string())
                    .replace("{grant_id}", &uuid::Uuid::nil().to_string())
                    .replace("{token}", "x")
                    .replace("{attachment_id}", &uuid::Uuid::nil().to_string())
                    .replace("{agency_id}", &uuid::Uuid::nil().to_string())
                    .replace("{key}", "referral")
                    .replace("{contribution_id}", &uuid::Uuid::nil().to_string())
                    .replace("{version_id}", &uuid::Uuid::nil().to_string())
                    .replace("{file_id}", &uuid::Uuid::nil().to_string())
                    .replace("{check_id}", &uuid::Uuid::nil().to_string())
                    .replace("{dissemination_id}", &uuid::Uuid::nil().to_string())
                    .replace("{day}", "2026-12-24")
                    .replace("{code}", "sar");
                let status = admin.post_raw(&path, &[], true).await.status();
                assert!(
                    status == 403,
                    "POST {} without a token answered {status}",
                    rule.path
                );
            }
        }
    }
);

#[tokio::test]
async fn secure_deployments_use_host_prefixed_secure_cookies_and_hsts() {
    let app =
        TestApp::start_demo_with(Backend::Sqlite, |settings| settings.secure_cookies = true).await;
    let response = app.get("/sign-in").await;
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("__Host-learnloop_csrf="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"));
    app.stop().await;
}

on_both_databases!(signed_in_pages_are_never_cached, demo, |app| async move {
    let browser = app.sign_in(MANAGER).await;
    for path in ["/", "/account", "/admin/people", "/admin/audit"] {
        let response = browser.get(path).await;
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        assert!(
            !response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("unsafe-inline")
        );
    }
});

on_both_databases!(
    a_reset_link_sets_a_password_once_and_checks_it,
    demo,
    |app| async move {
        let admin = app.sign_in(ADMIN).await;
        let person =
            learnloop_core::people::find_by_email(app.db.conn(), "practitioner@fernbridge.example")
                .await
                .unwrap()
                .unwrap();
        let response = admin
            .post_form(&format!("/admin/people/{}/reset-link", person.id), &[])
            .await;
        let html = response.text().await.unwrap();
        let start = html.find("/password-reset/").expect("a link");
        let path = html[start..start + "/password-reset/".len() + 64].to_string();
        let mut visitor = app.browser();
        let (status, html) = visitor.get_text(&path).await;
        assert_eq!(status, 200);
        visitor.csrf = csrf_in(&html);
        let response = visitor.post_form(&path, &[("password", "password1")]).await;
        let html = response.text().await.unwrap();
        assert!(
            html.contains("This password is too common"),
            "common passwords are refused"
        );
        assert!(
            html.contains("href=\"#password\""),
            "the error summary names the field"
        );
        let response = visitor
            .post_form(&path, &[("password", "seven words about a quiet harbour")])
            .await;
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Your password is set")
        );
        assert_eq!(visitor.get_text(&path).await.0, 404, "the link works once");
        let (status, _, _) = try_password(
            app,
            "practitioner@fernbridge.example",
            "seven words about a quiet harbour",
        )
        .await;
        assert_eq!(status, 303);
    }
);

on_both_databases!(
    people_can_download_their_own_activity,
    demo,
    |app| async move {
        let browser = app.sign_in("police.lead@fernbridge.example").await;
        app.sign_in(MANAGER).await;
        app.step_up(&browser).await;
        let response = browser.get("/account/activity.csv").await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = response.text().await.unwrap();
        assert!(csv.starts_with("seq,at_utc,action"));
        assert!(csv.contains("second_factor.succeeded"));
        let police =
            learnloop_core::people::find_by_email(app.db.conn(), "police.lead@fernbridge.example")
                .await
                .unwrap()
                .unwrap();
        let (entries, _) = audit::list(
            app.db.conn(),
            &audit::Filter {
                person_id: Some(police.id),
                ..Default::default()
            },
            1000,
        )
        .await
        .unwrap();
        // The export itself is recorded after it is written, so the file holds every earlier entry.
        assert_eq!(csv.lines().count() - 1, entries.len() - 1);
    }
);

on_both_databases!(
    oversized_forms_get_413_and_write_nothing,
    demo,
    |app| async move {
        let admin = app.sign_in(ADMIN).await;
        let huge = "x".repeat(100 * 1024);
        let response = admin
            .post_form(
                "/admin/people/new",
                &[
                    ("name", &huge),
                    ("email", "big@fernbridge.example"),
                    ("role", "executive"),
                ],
            )
            .await;
        assert_eq!(response.status(), 413);
        assert!(response.text().await.unwrap().contains("too large"));
        assert!(
            app.query_strings("SELECT email FROM people WHERE email = 'big@fernbridge.example'")
                .await
                .is_empty()
        );
    }
);

on_both_databases!(
    the_add_person_form_names_each_bad_field,
    demo,
    |app| async move {
        let admin = app.sign_in(ADMIN).await;
        let response = admin
            .post_form(
                "/admin/people/new",
                &[
                    ("name", ""),
                    ("email", "not-an-email"),
                    ("agency_id", ""),
                    ("role", ""),
                ],
            )
            .await;
        let html = response.text().await.unwrap();
        for field in ["#name", "#email", "#agency_id", "#role"] {
            assert!(
                html.contains(&format!("href=\"{field}\"")),
                "the error summary links {field}"
            );
        }
        assert!(html.contains("<title>Error: Add a person"));
    }
);

on_both_databases!(people_manage_their_own_api_tokens, demo, |app| async move {
    let lead = app.sign_in("police.lead@fernbridge.example").await;
    app.step_up(&lead).await;
    let response = lead
        .post_form(
            "/account/tokens",
            &[("label", "Police data feed"), ("days", "30")],
        )
        .await;
    let html = response.text().await.unwrap();
    let start = html.find("id=\"new-token\">").expect("shown once") + "id=\"new-token\">".len();
    let secret = html[start..start + 67].to_string();
    assert!(secret.starts_with("ll_"));
    let api = |token: String| {
        let client = app.client.clone();
        let url = app.url("/api/v1/agencies");
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        api(secret.clone()).await,
        200,
        "the token acts as its owner"
    );
    let (_, html) = lead.get_text("/account/tokens").await;
    assert!(!html.contains(&secret), "never shown again");
    assert!(html.contains("Police data feed"));
    // Someone else cannot revoke it.
    let token_id = learnloop_core::tokens::of_person(
        app.db.conn(),
        learnloop_core::people::find_by_email(app.db.conn(), "police.lead@fernbridge.example")
            .await
            .unwrap()
            .unwrap()
            .id,
    )
    .await
    .unwrap()[0]
        .id;
    let other = app.sign_in("health.lead@fernbridge.example").await;
    assert_eq!(
        other
            .post_form(&format!("/account/tokens/{token_id}/revoke"), &[])
            .await
            .status(),
        404
    );
    assert_eq!(api(secret.clone()).await, 200);
    assert_eq!(
        lead.post_form(&format!("/account/tokens/{token_id}/revoke"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(api(secret.clone()).await, 401, "revoked");
    // Bad input names the field.
    let html = lead
        .post_form("/account/tokens", &[("label", ""), ("days", "9999")])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("href=\"#days\""));
    // Expiry.
    let html = lead
        .post_form("/account/tokens", &[("label", "Short"), ("days", "1")])
        .await
        .text()
        .await
        .unwrap();
    let start = html.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let short = html[start..start + 67].to_string();
    assert_eq!(api(short.clone()).await, 200);
    app.clock
        .advance(TimeDelta::days(1) + TimeDelta::seconds(1));
    assert_eq!(api(short).await, 401, "expired");
});

on_both_databases!(
    forms_from_browsers_that_hide_the_origin_are_judged_by_fetch_metadata,
    demo,
    |app| async move {
        let admin = app.sign_in(ADMIN).await;
        let post = |origin: &'static str, site: &'static str| {
            let client = admin.client.clone();
            let url = admin.url("/admin/people/new");
            let csrf = admin.csrf.clone();
            async move {
                client
                    .post(url)
                    .header("origin", origin)
                    .header("sec-fetch-site", site)
                    .form(&[
                        ("csrf_token", csrf.as_str()),
                        ("name", ""),
                        ("email", ""),
                        ("agency_id", ""),
                        ("role", ""),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(
            post("null", "same-origin").await,
            200,
            "Origin: null from this site is accepted (form re-shown with errors)"
        );
        assert_eq!(post("null", "cross-site").await, 403);
        assert_eq!(
            post("https://attacker.example", "same-origin").await,
            403,
            "a foreign Origin wins"
        );
        let response = app.get("/sign-in").await;
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    }
);
