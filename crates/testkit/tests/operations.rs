#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Operations: liveness, readiness, metrics; and the storage settings on each backend.

use learnloop_core::Db;
use learnloop_core::db::Backend as DbBackend;
use learnloop_testkit::sea_orm::ConnectionTrait;
use learnloop_testkit::{Backend, TestApp, TestDatabase, on_both_databases};

on_both_databases!(health_readiness_and_metrics, demo, |app| async move {
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    app.get("/agencies").await;
    app.get("/agencies").await;
    let response = app.get("/metrics").await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    let text = response.text().await.expect("body");
    assert!(
        text.contains(
            "learnloop_http_requests_total{method=\"GET\",route=\"/agencies\",status=\"303\"} 2"
        ),
        "{text}"
    );
    assert!(text.contains("learnloop_http_request_duration_seconds_bucket{method=\"GET\",route=\"/agencies\",status=\"303\",le=\"+Inf\"} 2"));
    let (_, _) = app
        .get_text("/agencies/00000000-0000-0000-0000-000000000000")
        .await;
    let text = app.get("/metrics").await.text().await.expect("body");
    assert!(
        text.contains("route=\"/agencies/{id}\""),
        "metrics use the route pattern, never ids"
    );
    assert!(!text.contains("00000000-0000"));
});

async fn readiness_without_migrations(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let db = Db::connect(&database.url).await.expect("connect");
    let app = TestApp::serve(backend, database, db).await;
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "migrations_pending");
    let (status, _) = app.get_json("/healthz").await;
    assert_eq!(status, 200, "liveness does not touch the database");
    app.stop().await;
}

#[tokio::test]
async fn not_ready_until_migrated_sqlite() {
    readiness_without_migrations(Backend::Sqlite).await;
}

#[tokio::test]
async fn not_ready_until_migrated_postgres() {
    readiness_without_migrations(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_full_sync_and_foreign_keys() {
    let app = TestApp::start(Backend::Sqlite).await;
    assert_eq!(app.db.backend(), DbBackend::Sqlite);
    assert_eq!(app.query_strings("PRAGMA journal_mode").await, ["wal"]);
    assert_eq!(
        app.query_strings("PRAGMA synchronous").await,
        ["2"],
        "2 is FULL"
    );
    assert_eq!(app.query_strings("PRAGMA foreign_keys").await, ["1"]);
    app.stop().await;
}

async fn table_names(app: &TestApp) -> Vec<String> {
    let sql = match app.backend {
        Backend::Sqlite => {
            // The library's FTS5 index and its shadow tables are SQLite's form of PostgreSQL's
            // tsvector column: the one place the schemas differ on purpose.
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'library_fts%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
        }
    };
    app.query_strings(sql).await
}

#[tokio::test]
async fn one_migration_history_gives_both_backends_the_same_tables() {
    let sqlite = TestApp::start(Backend::Sqlite).await;
    let postgres = TestApp::start(Backend::Postgres).await;
    let sqlite_tables = table_names(&sqlite).await;
    assert!(sqlite_tables.contains(&"agencies".to_string()));
    assert_eq!(sqlite_tables, table_names(&postgres).await);
    sqlite.stop().await;
    postgres.stop().await;
}

on_both_databases!(foreign_keys_are_enforced, empty, |app| async move {
    let sql = "INSERT INTO people (id, name, email, agency_id, active, created_at) VALUES ('0190aaaa-0000-7000-8000-000000000001', 'Nobody', 'n@example.org', '0190aaaa-0000-7000-8000-000000000002', true, '2026-01-01T00:00:00Z')";
    let result = app.db.conn().execute_unprepared(sql).await;
    assert!(
        result.is_err(),
        "a person of an agency that does not exist is refused"
    );
});
