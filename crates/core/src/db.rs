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
///
/// Reads use `conn`, a pool of connections. Writes use `writer`: on SQLite a pool of exactly
/// one connection, so writers wait their turn in the pool's first-come, first-served queue in
/// this process (sqlx pools are fair) instead of sleeping and retrying on SQLite's busy
/// timeout; on PostgreSQL the same pool as reads (row locks order writers there). The audit
/// journal appends the entries of page views in batches through the writer.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    writer: DatabaseConnection,
    backend: Backend,
    journal: crate::audit::journal::Journal,
}

impl Db {
    /// Opens the database. SQLite runs in WAL mode with `synchronous=FULL` (an acknowledged
    /// write survives power loss), foreign keys on and a busy timeout.
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        let backend = Backend::from_url(url).map_err(DbErr::Custom)?;
        let options = |connections: u32| {
            let mut options = ConnectOptions::new(url.to_string());
            options
                .sqlx_logging(false)
                .connect_timeout(Duration::from_secs(5))
                .acquire_timeout(Duration::from_secs(30))
                .max_connections(connections);
            if backend == Backend::Sqlite {
                options.map_sqlx_sqlite_opts(|opts| {
                    opts.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Full)
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(10))
                        .create_if_missing(true)
                });
            }
            options
        };
        let (conn, writer, journal_conn) = match backend {
            Backend::Sqlite => {
                let conn = Database::connect(options(8)).await?;
                let writer = Database::connect(options(1)).await?;
                (conn, writer.clone(), writer)
            }
            Backend::Postgres => {
                let conn = Database::connect(options(16)).await?;
                // The journal has a connection of its own: requests waiting for their entry
                // hold pooled connections, and must never starve the journal of one.
                let journal_conn = Database::connect(options(1)).await?;
                (conn.clone(), conn, journal_conn)
            }
        };
        let journal = crate::audit::journal::Journal::start(journal_conn);
        Ok(Db {
            conn,
            writer,
            backend,
            journal,
        })
    }

    /// The audit journal: where a read records its entry (see `audit::journal`).
    pub fn journal(&self) -> &crate::audit::journal::Journal {
        &self.journal
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

    /// Starts a write transaction on the writer. On SQLite it begins IMMEDIATE, so another
    /// process's writer (the CLI) waits on the busy timeout instead of failing when a read
    /// lock is upgraded; writers of this process have queued for the one writer connection.
    pub async fn write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.writer
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
        if self.backend == Backend::Sqlite {
            self.writer.close().await?;
        } else {
            self.journal.close().await?;
        }
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
