#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! An upgrade whose migration fails part way changes nothing: each migration runs in one
//! transaction with its record, on SQLite as on PostgreSQL, and the next start applies it.

use learnloop_core::Db;
use learnloop_core::migration::Migrator;
use learnloop_testkit::sea_orm::{ConnectionTrait, Database, Statement};
use learnloop_testkit::{Backend, TestDatabase};
use sea_orm_migration::MigratorTrait;

async fn tables(conn: &impl ConnectionTrait, backend: Backend) -> Vec<String> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        Backend::Postgres => {
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        }
    };
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect()
}

async fn a_failed_migration_changes_nothing(backend: Backend) {
    let mut database = TestDatabase::create(backend).await;
    // Opened first: it creates the SQLite file.
    let db = Db::connect(&database.url).await.unwrap();
    // As an older release left it: everything up to m0011 applied.
    let conn = Database::connect(&database.url).await.unwrap();
    Migrator::up(&conn, Some(11)).await.unwrap();
    // Something in the way of m0012's second table, so it fails after its first.
    conn.execute_unprepared("CREATE TABLE kept_figures (in_the_way INTEGER)")
        .await
        .unwrap();
    let before = tables(&conn, backend).await;
    assert!(!before.contains(&"figures_version".to_string()));

    let failed = db.migrate().await;
    assert!(failed.is_err(), "the upgrade fails");
    let after = tables(&conn, backend).await;
    assert!(
        !after.contains(&"figures_version".to_string()),
        "m0012's first table was rolled back with it: {after:?}"
    );
    assert_eq!(
        Migrator::get_pending_migrations(&conn).await.unwrap().len(),
        Migrator::migrations().len() - 11,
        "m0012 is still pending"
    );

    // Once the obstacle is gone, the next start applies the rest.
    conn.execute_unprepared("DROP TABLE kept_figures")
        .await
        .unwrap();
    db.migrate().await.unwrap();
    assert!(
        Migrator::get_pending_migrations(&conn)
            .await
            .unwrap()
            .is_empty()
    );
    let _ = db.close().await;
    let _ = conn.close().await;
    database.drop_database().await;
}

#[tokio::test]
async fn sqlite_a_failed_migration_changes_nothing() {
    a_failed_migration_changes_nothing(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_failed_migration_changes_nothing() {
    a_failed_migration_changes_nothing(Backend::Postgres).await;
}
