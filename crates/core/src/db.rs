//! The database connection: SQLite or PostgreSQL, chosen by the URL scheme, through one code path.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::migration::Migrator;

/// Which database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err("the database URL must start with sqlite:// or postgres://".to_string())
        }
    }
}

/// A URL with any password replaced, safe to print and log.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The shared database handle. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    backend: Backend,
}

impl Db {
    /// Opens the database. SQLite runs in WAL mode with `synchronous=FULL` (an acknowledged
    /// write survives power loss), foreign keys on and a busy timeout.
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        let backend = Backend::from_url(url).map_err(DbErr::Custom)?;
        let mut options = ConnectOptions::new(url.to_string());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(10));
        match backend {
            Backend::Sqlite => {
                options.max_connections(8).map_sqlx_sqlite_opts(|opts| {
                    opts.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Full)
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(10))
                        .create_if_missing(true)
                });
            }
            Backend::Postgres => {
                options.max_connections(16);
            }
        }
        let conn = Database::connect(options).await?;
        Ok(Db { conn, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn database_backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Applies every pending migration, then adds any default review type or theme that is missing.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.conn, None).await?;
        let txn = self.write().await?;
        crate::review_types::store::ensure_defaults(
            &txn,
            crate::clock::truncate(chrono::Utc::now()),
        )
        .await
        .map_err(|error| DbErr::Custom(error.to_string()))?;
        crate::themes::ensure_defaults(&txn)
            .await
            .map_err(|error| DbErr::Custom(error.to_string()))?;
        txn.commit().await
    }

    /// True when the database answers and no migration is pending.
    pub async fn ready(&self) -> Result<bool, DbErr> {
        self.conn.ping().await?;
        let pending = Migrator::get_pending_migrations(&self.conn).await?;
        Ok(pending.is_empty())
    }

    /// Starts a write transaction. On SQLite it begins IMMEDIATE, so two writers queue on the
    /// busy timeout instead of failing when a read lock is upgraded.
    pub async fn write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.conn
            .begin_with_options(TransactionOptions {
                isolation_level: None,
                access_mode: None,
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            })
            .await
    }

    /// Starts a read-only transaction, so a page sees one consistent snapshot.
    pub async fn read(&self) -> Result<DatabaseTransaction, DbErr> {
        let access_mode = match self.backend {
            Backend::Postgres => Some(AccessMode::ReadOnly),
            Backend::Sqlite => None,
        };
        self.conn
            .begin_with_options(TransactionOptions {
                isolation_level: None,
                access_mode,
                sqlite_transaction_mode: None,
            })
            .await
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.conn.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db"), Ok(Backend::Sqlite));
        assert_eq!(Backend::from_url("postgres://h/db"), Ok(Backend::Postgres));
        assert!(Backend::from_url("mysql://h/db").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:secret@db:5432/ll"),
            "postgres://app:***@db:5432/ll"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(redact_url("postgres://app@db/ll"), "postgres://app@db/ll");
    }
}
