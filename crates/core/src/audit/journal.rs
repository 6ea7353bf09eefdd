//! SECURITY-SENSITIVE. The audit journal: where reads record their entries.
//!
//! A page view reads in a read transaction, which never waits for the write lock, and hands its
//! entry to the journal. The journal appends the entries of concurrent requests in batches (one
//! write transaction, one fsync, the hash chain extended in the order they arrived), then
//! releases each waiting request. A request shows nothing of the record until `record` returns,
//! so every answered view has a durable entry. Changes still append their entries in their own
//! transaction, atomically with the change.

use chrono::{DateTime, Utc};
use sea_orm::{
    DatabaseConnection, DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

use super::Event;
use crate::error::{CoreError, CoreResult};

/// The most entries one batch appends: enough to absorb a burst, small enough that the first
/// request in it does not wait long.
const MOST_PER_BATCH: usize = 256;

struct Waiting {
    event: Event,
    at: DateTime<Utc>,
    done: oneshot::Sender<Result<i64, String>>,
}

/// A handle to the journal's task. Cheap to clone; the task ends when the last handle is dropped.
#[derive(Clone, Debug)]
pub struct Journal {
    sender: mpsc::UnboundedSender<Waiting>,
    conn: DatabaseConnection,
}

impl std::fmt::Debug for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiting")
            .field("action", &self.event.action)
            .finish()
    }
}

impl Journal {
    /// Starts the journal's task on `conn`, which it uses for its write transactions.
    pub fn start(conn: DatabaseConnection) -> Journal {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(conn.clone(), receiver));
        Journal { sender, conn }
    }

    /// Appends `event` and returns its number once it is durable.
    pub async fn record(&self, event: Event, at: DateTime<Utc>) -> CoreResult<i64> {
        let (done, answer) = oneshot::channel();
        self.sender
            .send(Waiting { event, at, done })
            .map_err(|_| journal_error("the audit journal has stopped"))?;
        match answer.await {
            Ok(Ok(seq)) => Ok(seq),
            Ok(Err(message)) => Err(journal_error(&message)),
            Err(_) => Err(journal_error("the audit journal has stopped")),
        }
    }

    /// Closes the journal's own connection (PostgreSQL; on SQLite it is the writer).
    pub async fn close(&self) -> Result<(), DbErr> {
        self.conn.clone().close().await
    }
}

fn journal_error(message: &str) -> CoreError {
    CoreError::Database(DbErr::Custom(format!("audit journal: {message}")))
}

async fn run(conn: DatabaseConnection, mut receiver: mpsc::UnboundedReceiver<Waiting>) {
    let mut batch: Vec<Waiting> = Vec::with_capacity(MOST_PER_BATCH);
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        while batch.len() < MOST_PER_BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let events: Vec<(Event, DateTime<Utc>)> = batch
            .iter()
            .map(|waiting| (waiting.event.clone(), waiting.at))
            .collect();
        let outcome = append_batch(&conn, events).await;
        for (index, waiting) in batch.drain(..).enumerate() {
            let answer = match &outcome {
                Ok(first_seq) => Ok(first_seq + index as i64),
                Err(error) => Err(error.clone()),
            };
            // A request that gave up waiting has nothing to release.
            let _ = waiting.done.send(answer);
        }
    }
}

async fn append_batch(
    conn: &DatabaseConnection,
    events: Vec<(Event, DateTime<Utc>)>,
) -> Result<i64, String> {
    let txn = conn
        .begin_with_options(TransactionOptions {
            isolation_level: None,
            access_mode: None,
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        })
        .await
        .map_err(|error| error.to_string())?;
    let entries = super::append_many(&txn, events)
        .await
        .map_err(|error| error.to_string())?;
    txn.commit().await.map_err(|error| error.to_string())?;
    match entries.first() {
        Some(first) => Ok(first.seq),
        None => Err("an empty batch".to_string()),
    }
}
