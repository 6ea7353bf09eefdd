#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Anonymous denial of service and the edges of identity: sign-in floods are throttled per
//! client address while pages keep answering, metrics labels stay bounded, a wrong calendar
//! secret writes nothing, the client address comes from trusted proxies only, one-use codes
//! and links are spent once even when presented twice at once, and slow requests time out.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use learnloop_core::access::Role;
use learnloop_core::clock::Clock;
use learnloop_core::demo;
use learnloop_core::identity::resets;
use learnloop_core::identity::secrets::ServerKey;
use learnloop_core::identity::{recovery, sign_in};
use learnloop_testkit::browser::csrf_in;
use learnloop_testkit::reqwest;
use learnloop_testkit::sea_orm::ConnectionTrait;
use learnloop_testkit::{Backend, Browser, TestApp, on_both_databases};

const MANAGER: &str = "business.manager@fernbridge.example";

/// Runs `$body(backend)` as two tests, one per database.
macro_rules! on_both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(super::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(super::Backend::Postgres).await;
            }
        }
    };
}

/// A browser holding the anonymous form token of the sign-in page.
async fn at_sign_in(app: &TestApp) -> Browser {
    let mut browser = app.browser();
    let (_, html) = browser.get_text("/sign-in").await;
    browser.csrf = csrf_in(&html);
    browser
}

async fn post_sign_in(browser: &Browser, email: &str, password: &str) -> u16 {
    browser
        .post_form("/sign-in", &[("email", email), ("password", password)])
        .await
        .status()
        .as_u16()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.query_strings(sql)
        .await
        .first()
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1)
}

on_both_databases!(
    a_sign_in_flood_from_one_client_is_throttled_while_pages_keep_answering,
    demo,
    |app| async move {
        let manager = app.sign_in(MANAGER).await;
        let attacker = at_sign_in(app).await;
        let mut flood = tokio::task::JoinSet::new();
        for attempt in 0..200 {
            let client = attacker.client.clone();
            let url = attacker.url("/sign-in");
            let origin = attacker.base_url.clone();
            let csrf = attacker.csrf.clone();
            flood.spawn(async move {
                let email = format!("nobody.{attempt}.{}@example.invalid", uuid_like(attempt));
                client
                    .post(url)
                    .header("origin", origin)
                    .form(&[
                        ("csrf_token", csrf.as_str()),
                        ("email", email.as_str()),
                        ("password", "a guess at a password"),
                    ])
                    .send()
                    .await
                    .map(|response| response.status().as_u16())
                    .unwrap_or(0)
            });
        }
        // Meanwhile the signed-in manager keeps loading pages: every one answers.
        let (mut checked, mut throttled) = (0u64, 0u64);
        let mut pages_loaded = 0;
        while !flood.is_empty() || pages_loaded < 3 {
            let started = Instant::now();
            let (status, html) = manager.get_text("/").await;
            assert_eq!(status, 200, "the dashboard answers during the flood");
            assert!(html.contains("Dashboard"));
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "liveness: a page took {:?}",
                started.elapsed()
            );
            pages_loaded += 1;
            while let Some(finished) = flood.try_join_next() {
                match finished.unwrap() {
                    200 => checked += 1,
                    429 => throttled += 1,
                    other => panic!("a refused sign-in or a throttled one, not {other}"),
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(checked + throttled, 200);
        assert!(
            checked <= sign_in::MAX_FAILURES_PER_CLIENT,
            "at most the per-client limit of attempts were checked: {checked}"
        );
        assert!(
            throttled >= 170,
            "429s once the limit was reached: {throttled}"
        );
        // Attempts still being checked count too, so a burst is cut off early; one at a time
        // the limit is exact: the 31st failure in the window is refused.
        let mut sequential = 0;
        while post_sign_in(
            &attacker,
            &format!("late.{sequential}@example.invalid"),
            "guess",
        )
        .await
            == 200
        {
            sequential += 1;
            assert!(sequential <= 30, "the limit is reached");
        }
        assert_eq!(checked + sequential, sign_in::MAX_FAILURES_PER_CLIENT);
        // The throttle holds for this client even with the right password of another account,
        assert_eq!(
            post_sign_in(&attacker, MANAGER, demo::DEMO_PASSWORD).await,
            429
        );
        // and is recorded in the audit trail with its reason.
        assert!(
            count(
                app,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'sign_in.throttled' \
                 AND reason = 'too many failures from this client address'"
            )
            .await
                >= 170
        );
        // The window passes.
        app.clock
            .advance(TimeDelta::minutes(5) + TimeDelta::seconds(1));
        assert_eq!(
            post_sign_in(&attacker, MANAGER, demo::DEMO_PASSWORD).await,
            303
        );
    }
);

fn uuid_like(seed: u64) -> String {
    format!("{:x}", seed.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_methods_are_counted_as_other_in_the_metrics() {
    let app = TestApp::start(Backend::Sqlite).await;
    for invented in ["BREW", "PROPFIND", "X-RANDOM-1", "X-RANDOM-2"] {
        let method = reqwest::Method::from_bytes(invented.as_bytes()).unwrap();
        let response = app
            .client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
    }
    let text = app.get("/metrics").await.text().await.unwrap();
    for invented in ["BREW", "PROPFIND", "X-RANDOM"] {
        assert!(!text.contains(invented), "no label for {invented}:\n{text}");
    }
    assert!(text.contains(
        "learnloop_http_requests_total{method=\"OTHER\",route=\"/healthz\",status=\"405\"} 4"
    ));
    app.stop().await;
}

/// Holds the database's write lock (SQLite) or the audit trail's head (PostgreSQL) while a
/// wrong feed secret is presented: the answer comes without waiting for it, and no entry is
/// written.
async fn a_wrong_feed_secret_is_refused_without_writing(backend: Backend) {
    let app = TestApp::start_with_demo(backend).await;
    let manager = app.sign_in(MANAGER).await;
    let html = manager
        .post_form("/account/calendar", &[])
        .await
        .text()
        .await
        .unwrap();
    let start = html.find("/calendar/").expect("an address");
    let real = html[start..start + "/calendar/".len() + 64 + 4].to_string();
    let entries_before = count(&app, "SELECT COUNT(*) FROM audit_log").await;

    let lock = app.db.write().await.unwrap();
    if backend == Backend::Postgres {
        lock.execute_unprepared("LOCK TABLE audit_head IN EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let wrong = format!("/calendar/{}.ics", "0".repeat(64));
    let started = Instant::now();
    let status = app.get(&wrong).await.status().as_u16();
    assert_eq!(status, 404, "refused, not stuck behind the lock");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "liveness: answered in {:?} while the write lock was held",
        started.elapsed()
    );
    lock.rollback().await.unwrap();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log").await,
        entries_before,
        "a wrong secret leaves no entry"
    );
    // The real address still answers, and its read is audited.
    assert_eq!(app.get(&real).await.status(), 200);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'calendar_feed.read'"
        )
        .await,
        1
    );
    app.stop().await;
}
on_both!(
    a_wrong_calendar_feed_secret_writes_nothing,
    a_wrong_feed_secret_is_refused_without_writing
);

async fn failed_sign_in_source(app: &TestApp, forwarded_for: &str) -> Vec<String> {
    let browser = at_sign_in(app).await;
    let response = browser
        .client
        .post(browser.url("/sign-in"))
        .header("origin", browser.base_url.clone())
        .header("x-forwarded-for", forwarded_for)
        .form(&[
            ("csrf_token", browser.csrf.as_str()),
            ("email", MANAGER),
            ("password", "not the password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.query_strings(
        "SELECT source FROM audit_log WHERE action = 'sign_in.failed' ORDER BY seq DESC",
    )
    .await
}

async fn forwarded_for_counts_only_from_a_trusted_proxy(backend: Backend) {
    // The test server sees every request from 127.0.0.1: as a trusted proxy here,
    let behind_proxy = TestApp::start_demo_with(backend, |settings| {
        settings.trusted_proxies = learnloop_web::auth::client_address::TrustedProxies::parse(&[
            "127.0.0.1".to_string(),
            "10.0.0.0/8".to_string(),
        ])
        .unwrap();
    })
    .await;
    // the right-most address that is not a proxy is the client; what the client wrote
    // further left is not believed.
    let sources = failed_sign_in_source(&behind_proxy, "198.51.100.1, 203.0.113.7, 10.1.2.3").await;
    assert_eq!(sources.first().map(String::as_str), Some("203.0.113.7"));
    assert_eq!(
        behind_proxy
            .query_strings("SELECT source FROM login_attempts")
            .await,
        ["203.0.113.7"],
        "the throttle counts the client, not the proxy"
    );
    behind_proxy.stop().await;

    // and as an untrusted peer, whose header is ignored.
    let direct = TestApp::start_with_demo(backend).await;
    let sources = failed_sign_in_source(&direct, "203.0.113.7").await;
    assert_eq!(sources.first().map(String::as_str), Some("127.0.0.1"));
    direct.stop().await;
}
on_both!(
    the_audit_trail_records_the_forwarded_client_only_behind_a_trusted_proxy,
    forwarded_for_counts_only_from_a_trusted_proxy
);

/// Signs in with the password only, leaving the browser at the second-factor step.
async fn partly_signed_in(app: &TestApp, email: &str) -> Browser {
    let mut browser = at_sign_in(app).await;
    assert_eq!(
        post_sign_in(&browser, email, demo::DEMO_PASSWORD).await,
        303
    );
    let (_, html) = browser.get_text("/sign-in/second-factor").await;
    browser.csrf = csrf_in(&html);
    browser
}

async fn a_recovery_code_presented_twice_at_once_works_once(backend: Backend) {
    let app = TestApp::start_with_demo(backend).await;
    let email = "racing.recovery@fernbridge.example";
    let person = app
        .add_person(email, "fuh-nhs", Role::Executive, None, None)
        .await;
    let server_key = ServerKey::stored(app.db.conn()).await.unwrap();
    let codes = recovery::issue(app.db.conn(), &server_key, person.id)
        .await
        .unwrap();
    assert!(
        codes.iter().all(|code| code.len() == 19),
        "80-bit codes: {codes:?}"
    );
    for code in codes.iter().take(3) {
        let mut racers = Vec::new();
        for _ in 0..4 {
            racers.push(partly_signed_in(&app, email).await);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for racer in racers {
            let code = code.clone();
            tasks.spawn(async move {
                racer
                    .post_form("/sign-in/second-factor", &[("code", &code)])
                    .await
                    .status()
                    .as_u16()
            });
        }
        let statuses = tasks.join_all().await;
        assert_eq!(
            statuses.iter().filter(|status| **status == 303).count(),
            1,
            "exactly one racer signs in with {code}: {statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .all(|status| *status == 303 || *status == 200)
        );
        // Keep each round clear of the per-person limit of wrong codes.
        app.clock.advance(TimeDelta::minutes(6));
    }
    assert_eq!(
        count(
            &app,
            // Only this person has recovery codes.
            "SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NOT NULL"
        )
        .await,
        3
    );
    app.stop().await;
}
on_both!(
    a_recovery_code_spent_twice_at_once_succeeds_once,
    a_recovery_code_presented_twice_at_once_works_once
);

async fn a_reset_link_submitted_twice_at_once_works_once(backend: Backend) {
    let app = TestApp::start_with_demo(backend).await;
    let email = "racing.reset@fernbridge.example";
    let person = app
        .add_person(email, "fuh-nhs", Role::Executive, None, None)
        .await;
    let secret = resets::issue(app.db.conn(), person.id, None, app.clock.now())
        .await
        .unwrap();
    let path = format!("/password-reset/{secret}");
    let mut racers = Vec::new();
    for _ in 0..4 {
        let mut browser = app.browser();
        let (status, html) = browser.get_text(&path).await;
        assert_eq!(status, 200);
        browser.csrf = csrf_in(&html);
        racers.push(browser);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (index, racer) in racers.into_iter().enumerate() {
        let path = path.clone();
        tasks.spawn(async move {
            let password = format!("racing river otter lantern {index}");
            let response = racer.post_form(&path, &[("password", &password)]).await;
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            (status, body.contains("Your password is set"), password)
        });
    }
    let results = tasks.join_all().await;
    let winners: Vec<_> = results.iter().filter(|(_, set, _)| *set).collect();
    assert_eq!(winners.len(), 1, "exactly one submission sets the password");
    assert!(
        results
            .iter()
            .filter(|(_, set, _)| !*set)
            .all(|(status, _, _)| *status == 404),
        "the others find the link used: {:?}",
        results
            .iter()
            .map(|(status, _, _)| status)
            .collect::<Vec<_>>()
    );
    // The winner's password is the one that works.
    let browser = at_sign_in(&app).await;
    assert_eq!(post_sign_in(&browser, email, &winners[0].2).await, 303);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'password_reset.redeemed'"
        )
        .await,
        1
    );
    app.stop().await;
}
on_both!(
    a_reset_link_spent_twice_at_once_succeeds_once,
    a_reset_link_submitted_twice_at_once_works_once
);

/// A sign-in stuck behind a held lock is answered 503 after the request timeout, instead of
/// holding its connection for as long as the lock lasts.
async fn a_stuck_request_times_out(backend: Backend) {
    let app = TestApp::start_demo_with(backend, |settings| {
        settings.request_timeout = Duration::from_secs(1);
    })
    .await;
    let browser = at_sign_in(&app).await;
    let lock = app.db.write().await.unwrap();
    if backend == Backend::Postgres {
        lock.execute_unprepared("LOCK TABLE login_attempts IN EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let started = Instant::now();
    let status = post_sign_in(&browser, MANAGER, demo::DEMO_PASSWORD).await;
    let elapsed = started.elapsed();
    lock.rollback().await.unwrap();
    assert_eq!(status, 503);
    assert!(
        elapsed < Duration::from_secs(8),
        "timed out after {elapsed:?}"
    );
    // Nothing half-done was left behind, and the next attempt works.
    assert_eq!(
        post_sign_in(&browser, MANAGER, demo::DEMO_PASSWORD).await,
        303
    );
    app.stop().await;
}
on_both!(
    a_request_stuck_behind_a_lock_times_out,
    a_stuck_request_times_out
);

/// With every request slot taken (one slot, held by a sign-in stuck behind a lock), a new
/// request waits briefly and gets 503 with `Retry-After`; `/healthz` still answers.
async fn requests_beyond_the_concurrency_limit_get_503(backend: Backend) {
    let app = TestApp::start_demo_with(backend, |settings| {
        settings.max_concurrent_requests = 1;
    })
    .await;
    let browser = at_sign_in(&app).await;
    let lock = app.db.write().await.unwrap();
    if backend == Backend::Postgres {
        lock.execute_unprepared("LOCK TABLE login_attempts IN EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let stuck =
        tokio::spawn(async move { post_sign_in(&browser, MANAGER, demo::DEMO_PASSWORD).await });
    // Let the stuck sign-in take the only slot.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let response = app.get("/sign-in").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "liveness is exempt"
    );
    lock.rollback().await.unwrap();
    assert_eq!(stuck.await.unwrap(), 303, "the held request completes");
    assert_eq!(
        app.get("/sign-in").await.status(),
        200,
        "and the slot is free again"
    );
    app.stop().await;
}
on_both!(
    requests_beyond_the_concurrency_limit_wait_then_get_503,
    requests_beyond_the_concurrency_limit_get_503
);
