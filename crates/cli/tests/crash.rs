#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! kill -9 loses no recorded page view: 32 clients load case pages, the server is killed with
//! SIGKILL mid-load and started again, and every page view that was answered 200 before the
//! kill has its audit entry, in a chain that still verifies. On SQLite and PostgreSQL.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use learnloop_core::identity::totp;
use learnloop_core::{audit, cases, demo};
use learnloop_testkit::browser::csrf_in;
use learnloop_testkit::sea_orm::Database;
use learnloop_testkit::{Backend, TestDatabase, reqwest};

const MANAGER: &str = "business.manager@fernbridge.example";

fn learnloop() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_learnloop"));
    for (key, _) in std::env::vars() {
        if key.starts_with("LEARNLOOP_") {
            command.env_remove(key);
        }
    }
    command
}

/// Starts `learnloop <how>` (demo or serve) on the database; returns it and its address.
fn start(how: &str, database: &str) -> (Child, String) {
    let mut child = learnloop()
        .args([how, "--bind", "127.0.0.1:0", "--database", database])
        .env("LEARNLOOP_LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let deadline = Instant::now() + Duration::from_secs(120);
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(address) = line.strip_prefix("learnloop is listening on ") {
            return (child, address.trim().to_string());
        }
        if Instant::now() > deadline {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("learnloop {how} did not start listening");
}

async fn signed_in(base: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let html = client
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let answer = client
        .post(format!("{base}/sign-in"))
        .header("origin", base)
        .form(&[
            ("csrf_token", csrf_in(&html).as_str()),
            ("email", MANAGER),
            ("password", demo::DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let html = client
        .get(format!("{base}/sign-in/second-factor"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code = totp::current_code(demo::DEMO_TOTP_SECRET, chrono::Utc::now()).unwrap();
    let answer = client
        .post(format!("{base}/sign-in/second-factor"))
        .header("origin", base)
        .form(&[
            ("csrf_token", csrf_in(&html).as_str()),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303, "second factor accepted");
    client
}

async fn killed_mid_load_loses_no_answered_view(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let (mut server, base) = start("demo", &database.url);
    let client = signed_in(&base).await;
    let conn = Database::connect(&database.url).await.unwrap();
    let (listed, _) = cases::list(&conn, None, 0, 100).await.unwrap();
    let case_ids: Vec<uuid::Uuid> = listed.iter().map(|c| c.case.id).collect();
    assert!(!case_ids.is_empty());
    let views_before = case_views(&conn).await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut loaders = Vec::new();
    for n in 0..32usize {
        let client = client.clone();
        let base = base.clone();
        let case_ids = case_ids.clone();
        let stop = stop.clone();
        loaders.push(tokio::spawn(async move {
            let mut answered: Vec<uuid::Uuid> = Vec::new();
            let mut round = n;
            while !stop.load(Ordering::Relaxed) {
                let id = case_ids[round % case_ids.len()];
                round += 1;
                let Ok(response) = client.get(format!("{base}/cases/{id}")).send().await else {
                    break;
                };
                if response.status() != 200 {
                    continue;
                }
                // Only a page received in full counts as answered.
                if response.text().await.is_ok() {
                    answered.push(id);
                }
            }
            answered
        }));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let killed = Command::new("kill")
        .args(["-KILL", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = server.wait();
    stop.store(true, Ordering::Relaxed);
    let mut answered: HashMap<uuid::Uuid, usize> = HashMap::new();
    let mut total = 0;
    for loader in loaders {
        for id in loader.await.unwrap() {
            *answered.entry(id).or_default() += 1;
            total += 1;
        }
    }
    assert!(total > 32, "the load ran before the kill ({total} pages)");

    // Started again, it serves; and the trail holds every answered view.
    let (mut restarted, base) = start("serve", &database.url);
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let _ = Command::new("kill")
        .args(["-TERM", &restarted.id().to_string()])
        .status();
    let _ = restarted.wait();

    let views_after = case_views(&conn).await;
    for (id, pages) in &answered {
        let recorded = views_after.get(&id.to_string()).copied().unwrap_or(0)
            - views_before.get(&id.to_string()).copied().unwrap_or(0);
        assert!(
            recorded >= *pages,
            "case {id}: {pages} pages answered, {recorded} entries"
        );
    }
    let verification = audit::verify(&conn, |_| {}).await.unwrap();
    assert_eq!(verification.first_problem, None, "the chain verifies");
    let _ = conn.close().await;
}

/// The "case.view" allowed entries, counted per case.
async fn case_views(
    conn: &learnloop_testkit::sea_orm::DatabaseConnection,
) -> HashMap<String, usize> {
    use learnloop_testkit::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut views = HashMap::new();
    for entry in audit::Entity::find()
        .filter(audit::Column::Action.eq("case.view"))
        .filter(audit::Column::Outcome.eq("allowed"))
        .all(conn)
        .await
        .unwrap()
    {
        *views
            .entry(entry.record_id.unwrap_or_default())
            .or_default() += 1;
    }
    views
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_killed_mid_load_loses_no_answered_view() {
    killed_mid_load_loses_no_answered_view(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_killed_mid_load_loses_no_answered_view() {
    killed_mid_load_loses_no_answered_view(Backend::Postgres).await;
}
