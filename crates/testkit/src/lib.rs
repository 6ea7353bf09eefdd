#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
// A test kit fails loudly: a panic here is a failed test, which is its job.

//! Test helpers: start a real learnloop server on a free port, over a fresh SQLite file or a
//! fresh PostgreSQL database, and talk to it over HTTP.
//!
//! PostgreSQL tests use `LEARNLOOP_TEST_POSTGRES_URL` (an administrative connection, for
//! example `postgres://postgres@127.0.0.1:5432/postgres`); each test gets its own database,
//! dropped when the test stops the app.

use std::time::Duration;

use std::sync::Arc;

use learnloop_core::clock::ManualClock;
use learnloop_core::{Db, demo};
use learnloop_web::{AppState, WebSettings};
use sea_orm::{ConnectionTrait, Database, Statement};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use learnloop_core;
pub use reqwest;
pub use sea_orm;

pub mod browser;
pub use browser::Browser;
pub use serde_json;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the test databases live.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh, empty database on the backend.
    pub async fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("tempdir: {error}"));
                let url = format!("sqlite://{}/test.db", dir.path().display());
                TestDatabase {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("ll_test_{}", uuid::Uuid::new_v4().simple());
                let conn = Database::connect(&admin)
                    .await
                    .unwrap_or_else(|error| panic!("cannot reach PostgreSQL at {admin}: {error}"));
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap_or_else(|error| panic!("cannot create test database: {error}"));
                let _ = conn.close().await;
                let url = replace_database(&admin, &name);
                TestDatabase {
                    url,
                    _dir: None,
                    postgres: Some((admin, name)),
                }
            }
        }
    }

    /// The same database, for a second server; dropping it leaves the database alone.
    pub fn shared(&self) -> TestDatabase {
        TestDatabase {
            url: self.url.clone(),
            _dir: None,
            postgres: None,
        }
    }

    /// Drops a PostgreSQL test database; SQLite files go with their temporary folder.
    pub async fn drop_database(&mut self) {
        if let Some((admin, name)) = self.postgres.take()
            && let Ok(conn) = Database::connect(&admin).await
        {
            let _ = conn
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            let _ = conn.close().await;
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // A test that failed before stopping its app still cleans up its database.
        if let Some((admin, name)) = self.postgres.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    runtime.block_on(async move {
                        if let Ok(conn) = Database::connect(&admin).await {
                            let _ = conn
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// The administrative PostgreSQL URL for tests. Fails loudly when unset, so a test run never
/// silently skips PostgreSQL.
pub fn postgres_admin_url() -> String {
    std::env::var("LEARNLOOP_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "LEARNLOOP_TEST_POSTGRES_URL is not set: PostgreSQL tests need it, for example \
             postgres://postgres@127.0.0.1:5432/postgres (the README's test command sets it)"
        )
    })
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let root = match base.rfind('/') {
        Some(index) if index > "postgres://".len() => &base[..index],
        _ => base,
    };
    match query {
        Some(query) => format!("{root}/{database}?{query}"),
        None => format!("{root}/{database}"),
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub backend: Backend,
    pub base_url: String,
    pub client: reqwest::Client,
    pub db: Db,
    /// The server's clock: tests move time with `clock.advance(...)`.
    pub clock: Arc<ManualClock>,
    database: TestDatabase,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    keep_alive: Option<Box<TestApp>>,
}

impl TestApp {
    /// An app on an empty, migrated database.
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, false).await
    }

    /// An app on the seeded demo partnership.
    pub async fn start_with_demo(backend: Backend) -> TestApp {
        Self::start_with(backend, true).await
    }

    async fn start_with(backend: Backend, with_demo: bool) -> TestApp {
        let database = TestDatabase::create(backend).await;
        let db = Db::connect(&database.url)
            .await
            .unwrap_or_else(|error| panic!("connect: {error}"));
        db.migrate()
            .await
            .unwrap_or_else(|error| panic!("migrate: {error}"));
        if with_demo {
            let txn = db
                .write()
                .await
                .unwrap_or_else(|error| panic!("begin: {error}"));
            demo::seed(&txn, chrono::Utc::now())
                .await
                .unwrap_or_else(|error| panic!("seed: {error}"));
            txn.commit()
                .await
                .unwrap_or_else(|error| panic!("commit: {error}"));
        }
        Self::serve(backend, database, db).await
    }

    /// An app on the demo with settings of the test's choosing.
    pub async fn start_demo_with(
        backend: Backend,
        adjust: impl FnOnce(&mut WebSettings),
    ) -> TestApp {
        let plain = Self::start_with(backend, true).await;
        let mut settings = test_settings();
        adjust(&mut settings);
        let database = plain.database.shared();
        let db = Db::connect(&database.url)
            .await
            .unwrap_or_else(|error| panic!("connect: {error}"));
        let mut adjusted =
            Self::serve_with(backend, database, db, settings, plain.clock.clone()).await;
        // The first app owns the database; keep it alive for as long as this one.
        adjusted.keep_alive = Some(Box::new(plain));
        adjusted
    }

    /// A second server over the same database, as another instance behind a load balancer.
    pub async fn second_instance(&self) -> TestApp {
        let database = self.database.shared();
        let db = Db::connect(&database.url)
            .await
            .unwrap_or_else(|error| panic!("connect: {error}"));
        Self::serve_with(
            self.backend,
            database,
            db,
            test_settings(),
            self.clock.clone(),
        )
        .await
    }

    /// Starts a server over an existing database handle (for example an unmigrated one).
    pub async fn serve(backend: Backend, database: TestDatabase, db: Db) -> TestApp {
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        Self::serve_with(backend, database, db, test_settings(), clock).await
    }

    async fn serve_with(
        backend: Backend,
        database: TestDatabase,
        db: Db,
        settings: WebSettings,
        clock: Arc<ManualClock>,
    ) -> TestApp {
        let state = AppState::with_clock(db.clone(), settings, clock.clone()).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|error| panic!("bind: {error}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("address: {error}"));
        let (shutdown, shutdown_received) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = learnloop_web::serve(listener, state, async move {
                let _ = shutdown_received.await;
            })
            .await;
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|error| panic!("client: {error}"));
        TestApp {
            backend,
            base_url: format!("http://{address}"),
            client,
            db,
            clock,
            database,
            shutdown: Some(shutdown),
            server: Some(server),
            keep_alive: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    /// GET a path and return its status and body text.
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// GET a path and return its status and JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Runs a raw SQL statement and returns the rows as JSON-ish strings of one column.
    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        let backend = self.db.database_backend();
        let rows = self
            .db
            .conn()
            .query_all_raw(Statement::from_string(backend, sql.to_string()))
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
        rows.iter()
            .map(|row| {
                row.try_get_by_index::<String>(0)
                    .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                    .or_else(|_| row.try_get_by_index::<i32>(0).map(|n| n.to_string()))
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Stops the server, closes the pool and drops a PostgreSQL database.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
        let _ = self.db.clone().close().await;
        self.database.drop_database().await;
        if let Some(owner) = self.keep_alive.take() {
            Box::pin(owner.stop()).await;
        }
    }
}

fn test_settings() -> WebSettings {
    // Each app keeps uploads in its own folder, removed with the process's temporary files.
    let files_dir = std::env::temp_dir().join(format!(
        "learnloop-test-files-{}",
        uuid::Uuid::new_v4().simple()
    ));
    WebSettings {
        assets_dir: assets_dir(),
        max_body_bytes: 64 * 1024,
        files_dir,
        ..WebSettings::default()
    }
}

/// The compiled assets of the repository, when `scripts/build-assets` has run.
fn assets_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../static")
}

/// Declares one test that runs twice: `sqlite` and `postgres`, each on a fresh app.
///
/// ```ignore
/// on_both_databases!(demo_pages, demo, |app| async move {
///     assert_eq!(app.get("/").await.status(), 200);
/// });
/// ```
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $start:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run(backend: $crate::Backend) {
                let owned = $crate::on_both_databases!(@start $start, backend);
                {
                    let $app = &owned;
                    $body.await;
                }
                owned.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::Backend::Postgres).await;
            }
        }
    };
    (@start empty, $backend:expr) => {
        $crate::TestApp::start($backend).await
    };
    (@start demo, $backend:expr) => {
        $crate::TestApp::start_with_demo($backend).await
    };
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
    }
}
