#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! kill -9 loses nothing acknowledged. First: 32 clients load case pages, the server is killed with
//! SIGKILL mid-load and started again, and every page view that was answered 200 before the
//! kill has its audit entry, in a chain that still verifies. Then the harness below: writes of
//! every kind, killed at random moments, every acknowledged write looked for after each kill.
//! On SQLite and PostgreSQL.

use std::collections::HashMap;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use learnloop_core::{audit, cases};
use learnloop_testkit::browser::csrf_in;
use learnloop_testkit::sea_orm::Database;
use learnloop_testkit::{Backend, TestDatabase, reqwest};

mod support;

use support::{MANAGER, learnloop, signed_in, spawn_listening};

/// Starts `learnloop <how>` (demo or serve) on the database; returns it and its address.
fn start(how: &str, database: &str) -> (Child, String) {
    let mut command = learnloop();
    command.args([how, "--bind", "127.0.0.1:0", "--database", database]);
    spawn_listening(command, how)
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

// ---------------------------------------------------------------------------------------------
// The kill -9 harness (QUALITY §10): writes of every kind under load, SIGKILL at a random
// moment, restart, check. `LEARNLOOP_KILL_ROUNDS` kills per database (3 in the suite;
// `scripts/kill-harness` runs 200 and prints the counts for docs/RELIABILITY.md).

/// What the clients were told succeeded before a kill.
#[derive(Default)]
struct Acknowledged {
    cases: Vec<uuid::Uuid>,
    /// (action, narrative) of each update answered 201.
    updates: Vec<(uuid::Uuid, String)>,
    /// (case, file name, bytes) of each attachment answered 303.
    attachments: Vec<(uuid::Uuid, String, usize)>,
    /// Case views answered 200, per case.
    views: HashMap<uuid::Uuid, usize>,
}

impl Acknowledged {
    fn merge(&mut self, other: Acknowledged) {
        self.cases.extend(other.cases);
        self.updates.extend(other.updates);
        self.attachments.extend(other.attachments);
        for (id, n) in other.views {
            *self.views.entry(id).or_default() += n;
        }
    }
}

/// A small generator of "random" moments, seeded from the clock and printed, so a failing
/// run can be repeated with `LEARNLOOP_KILL_SEED`.
struct Moments(u64);

impl Moments {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

struct Fixture {
    token: String,
    partnership: uuid::Uuid,
    agency: uuid::Uuid,
    actions: Vec<uuid::Uuid>,
    cases: Vec<uuid::Uuid>,
}

fn notification_body(fixture: &Fixture, n: usize) -> learnloop_testkit::serde_json::Value {
    learnloop_testkit::serde_json::json!({
        "subject_kind": "child",
        "incident_kind": "serious_harm",
        "aware_on": chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string(),
        "summary": format!("Harness case {n}: fictional."),
        "pseudonym": format!("Child H{n}"),
        "age_band": "1 to 4",
        "referrer": "Harness",
        "partnership_ids": [fixture.partnership],
        "agency_ids": [fixture.agency],
    })
}

/// One client's writes and reads until the server stops answering.
async fn client_load(
    n: usize,
    base: String,
    session: reqwest::Client,
    fixture: Arc<Fixture>,
    stop: Arc<AtomicBool>,
) -> Acknowledged {
    let api = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut done = Acknowledged::default();
    let mut round = n;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let answered = match round % 4 {
            0 => {
                let Ok(response) = api
                    .post(format!("{base}/api/v1/notifications"))
                    .bearer_auth(&fixture.token)
                    .json(&notification_body(&fixture, round))
                    .send()
                    .await
                else {
                    break;
                };
                if response.status() == 201 {
                    let Ok(body) = response
                        .json::<learnloop_testkit::serde_json::Value>()
                        .await
                    else {
                        break;
                    };
                    let id = body["id"].as_str().unwrap().parse().unwrap();
                    done.cases.push(id);
                }
                true
            }
            1 => {
                let action = fixture.actions[round % fixture.actions.len()];
                let Ok(read) = api
                    .get(format!("{base}/api/v1/actions/{action}"))
                    .bearer_auth(&fixture.token)
                    .send()
                    .await
                else {
                    break;
                };
                let Some(etag) = read.headers().get("etag").cloned() else {
                    continue;
                };
                let narrative = format!("Harness update {n}-{round}-{}", uuid::Uuid::now_v7());
                let Ok(response) = api
                    .post(format!("{base}/api/v1/actions/{action}/updates"))
                    .bearer_auth(&fixture.token)
                    .header("if-match", etag)
                    .json(&learnloop_testkit::serde_json::json!({"status": "on_track", "narrative": narrative}))
                    .send()
                    .await
                else {
                    break;
                };
                // 412: another client updated it first; nothing was written.
                if response.status() == 201 && response.bytes().await.is_ok() {
                    done.updates.push((action, narrative));
                }
                true
            }
            2 => {
                let case = fixture.cases[round % fixture.cases.len()];
                let Ok(page) = session.get(format!("{base}/cases/{case}")).send().await else {
                    break;
                };
                let Ok(html) = page.text().await else { break };
                let name = format!("harness-{n}-{round}.txt");
                let bytes = format!("Harness evidence {n} {round}\n").repeat(1 + round % 50);
                let form = reqwest::multipart::Form::new()
                    .text("csrf_token", csrf_in(&html))
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(bytes.clone().into_bytes())
                            .file_name(name.clone()),
                    );
                let Ok(response) = session
                    .post(format!("{base}/cases/{case}/attachments"))
                    .header("origin", &base)
                    .multipart(form)
                    .send()
                    .await
                else {
                    break;
                };
                if response.status() == 303 {
                    done.attachments.push((case, name, bytes.len()));
                }
                true
            }
            _ => {
                let case = fixture.cases[round % fixture.cases.len()];
                let Ok(response) = api
                    .get(format!("{base}/api/v1/notifications/{case}"))
                    .bearer_auth(&fixture.token)
                    .send()
                    .await
                else {
                    break;
                };
                if response.status() == 200 && response.bytes().await.is_ok() {
                    *done.views.entry(case).or_default() += 1;
                }
                true
            }
        };
        if !answered {
            break;
        }
    }
    done
}

/// Checks the database and the files against everything acknowledged so far.
async fn check_nothing_lost(
    backend: Backend,
    conn: &learnloop_testkit::sea_orm::DatabaseConnection,
    files: &std::path::Path,
    acknowledged: &Acknowledged,
    views_before: &HashMap<String, usize>,
) {
    use learnloop_core::actions::updates;
    use learnloop_core::cases::attachments;
    use learnloop_testkit::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for id in &acknowledged.cases {
        assert!(
            cases::entity::Entity::find_by_id(*id)
                .one(conn)
                .await
                .unwrap()
                .is_some(),
            "acknowledged case {id} is missing"
        );
    }
    let narratives: std::collections::HashSet<(uuid::Uuid, String)> = updates::Entity::find()
        .filter(updates::Column::Narrative.starts_with("Harness update"))
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|update| (update.action_id, update.narrative))
        .collect();
    for update in &acknowledged.updates {
        assert!(
            narratives.contains(update),
            "acknowledged update {update:?} is missing"
        );
    }
    let stored = attachments::Entity::find().all(conn).await.unwrap();
    let by_name: HashMap<(uuid::Uuid, String), &attachments::Model> = stored
        .iter()
        .map(|row| ((row.case_id, row.file_name.clone()), row))
        .collect();
    for (case, name, size) in &acknowledged.attachments {
        let row = by_name
            .get(&(*case, name.clone()))
            .unwrap_or_else(|| panic!("acknowledged attachment {name} is missing"));
        assert_eq!(row.size_bytes as usize, *size, "{name}");
    }
    // Every attachment the database holds has its whole file, and no partial file is left.
    for row in &stored {
        let on_disk = std::fs::metadata(files.join(row.id.to_string()))
            .unwrap_or_else(|_| panic!("attachment {} has no file", row.id));
        assert_eq!(on_disk.len() as i64, row.size_bytes, "file of {}", row.id);
    }
    if let Ok(entries) = std::fs::read_dir(files) {
        for entry in entries {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            assert!(
                !name.ends_with(".part"),
                "a half-written upload is left: {name}"
            );
        }
    }
    let views_after = case_views(conn).await;
    for (id, pages) in &acknowledged.views {
        let recorded = views_after.get(&id.to_string()).copied().unwrap_or(0)
            - views_before.get(&id.to_string()).copied().unwrap_or(0);
        assert!(
            recorded >= *pages,
            "case {id}: {pages} views answered, {recorded} entries"
        );
    }
    if backend == Backend::Sqlite {
        use learnloop_testkit::sea_orm::ConnectionTrait;
        let row = conn
            .query_one_raw(learnloop_testkit::sea_orm::Statement::from_string(
                conn.get_database_backend(),
                "PRAGMA integrity_check",
            ))
            .await
            .unwrap()
            .unwrap();
        let verdict: String = row.try_get_by_index(0).unwrap();
        assert_eq!(verdict, "ok", "SQLite integrity check");
    }
    let verification = audit::verify(conn, |_| {}).await.unwrap();
    assert_eq!(verification.first_problem, None, "the chain verifies");
}

/// Starts `serve` on the database with the files folder, as the harness runs it.
fn start_serving(database: &str, files: &std::path::Path) -> (Child, String) {
    let mut command = learnloop();
    command
        .args(["serve", "--bind", "127.0.0.1:0", "--database", database])
        .env("LEARNLOOP_FILES_DIR", files);
    spawn_listening(command, "serve")
}

async fn killed_at_random_moments_loses_no_acknowledged_write(backend: Backend) {
    let rounds: usize = std::env::var("LEARNLOOP_KILL_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("LEARNLOOP_KILL_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("kill harness on {backend:?}: {rounds} rounds, LEARNLOOP_KILL_SEED={seed}");
    let mut moments = Moments(seed);
    let database = TestDatabase::create(backend).await;
    let files = tempfile::tempdir().unwrap();
    // The demo seeded once; then only `serve`, as in production.
    let (mut seeding, _) = start("demo", &database.url);
    let _ = Command::new("kill")
        .args(["-TERM", &seeding.id().to_string()])
        .status();
    let _ = seeding.wait();
    let conn = Database::connect(&database.url).await.unwrap();
    let manager = learnloop_core::people::find_by_email(&conn, MANAGER)
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    let token = learnloop_core::tokens::create(
        &conn,
        manager.id,
        "harness",
        now + chrono::Duration::days(1),
        now,
    )
    .await
    .unwrap()
    .1;
    let (listed, _) = cases::list(&conn, None, 0, 20).await.unwrap();
    let partnership = learnloop_core::partnerships::list(&conn).await.unwrap()[0].id;
    let agency = learnloop_core::agencies::list(&conn).await.unwrap()[0].id;
    let all_actions =
        learnloop_core::actions::tracker::all(&conn, &Default::default(), now.date_naive(), 14, 40)
            .await
            .unwrap();
    let fixture = Arc::new(Fixture {
        token,
        partnership,
        agency,
        actions: all_actions.iter().map(|a| a.id).collect(),
        cases: listed.iter().map(|c| c.case.id).collect(),
    });
    let views_before = case_views(&conn).await;
    let mut acknowledged = Acknowledged::default();
    let started = Instant::now();
    let mut session: Option<reqwest::Client> = None;
    for round in 0..rounds {
        let (mut server, base) = start_serving(&database.url, files.path());
        // Signed in once: the session outlives the kills (a code cannot be used twice), and
        // cookies are not kept per port.
        if session.is_none() {
            session = Some(signed_in(&base).await);
        }
        let session = session.clone().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..8)
            .map(|n| {
                tokio::spawn(client_load(
                    n,
                    base.clone(),
                    session.clone(),
                    fixture.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100 + moments.next(1400))).await;
        let killed = Command::new("kill")
            .args(["-KILL", &server.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let _ = server.wait();
        stop.store(true, Ordering::Relaxed);
        for client in clients {
            acknowledged.merge(client.await.unwrap());
        }
        // Started again (which clears what a killed upload left), then checked.
        let (mut restarted, _) = start_serving(&database.url, files.path());
        let _ = Command::new("kill")
            .args(["-TERM", &restarted.id().to_string()])
            .status();
        let _ = restarted.wait();
        check_nothing_lost(backend, &conn, files.path(), &acknowledged, &views_before).await;
        if round % 20 == 19 {
            println!("  {} kills, all checks passed", round + 1);
        }
    }
    let views: usize = acknowledged.views.values().sum();
    println!(
        "kill harness on {backend:?}: {rounds} kills in {:.0} s; acknowledged and found after \
         every kill: {} cases, {} action updates, {} attachments, {} audited reads; 0 missing",
        started.elapsed().as_secs_f64(),
        acknowledged.cases.len(),
        acknowledged.updates.len(),
        acknowledged.attachments.len(),
        views
    );
    assert!(
        !acknowledged.cases.is_empty() && !acknowledged.updates.is_empty() && views > 0,
        "the load wrote before the kills"
    );
    let _ = conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_killed_at_random_moments_loses_no_acknowledged_write() {
    killed_at_random_moments_loses_no_acknowledged_write(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_killed_at_random_moments_loses_no_acknowledged_write() {
    killed_at_random_moments_loses_no_acknowledged_write(Backend::Postgres).await;
}
