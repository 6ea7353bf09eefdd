//! PostgreSQL: `pg_dump --format=custom` in a snapshot shared with the row counts, and
//! `pg_restore` in one transaction. Both run as child processes; the password reaches them in
//! `PGPASSWORD`, never on their command line, and is scrubbed from anything they print.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use sea_orm::{
    AccessMode, ConnectionTrait, DbBackend, IsolationLevel, Statement, TransactionOptions,
    TransactionTrait,
};

use super::{BackupError, blocking, connect_one, split_password, table_counts};
use crate::db::Backend;

pub(super) struct Dumped {
    pub tables: BTreeMap<String, u64>,
    pub server_version: String,
    pub pg_dump_version: String,
}

/// A client tool's command with the URL's password in its environment.
fn tool(program: &str, url: &str) -> (Command, String, Option<String>) {
    let (without_password, password) = split_password(url);
    let mut command = Command::new(program);
    command.stdin(std::process::Stdio::null());
    if let Some(password) = &password {
        command.env("PGPASSWORD", password);
    }
    (command, without_password, password)
}

/// What a tool printed, one line, without the password.
fn printed(output: &[u8], password: Option<&str>) -> String {
    let text = String::from_utf8_lossy(output);
    let mut line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(password) = password.filter(|password| !password.is_empty()) {
        line = line.replace(password, "***");
    }
    line
}

/// Runs a tool to the end on a blocking thread; its failure is one line naming it.
async fn run(
    mut command: Command,
    program: &'static str,
    password: Option<String>,
) -> Result<String, BackupError> {
    blocking(move || {
        let output = command.output().map_err(|error| {
            BackupError::Failed(format!(
                "cannot run {program} ({error}): install the PostgreSQL client tools of the server's major version"
            ))
        })?;
        if output.status.success() {
            Ok(printed(&output.stdout, password.as_deref()))
        } else {
            Err(BackupError::Failed(format!(
                "{program} failed ({}): {}",
                output.status,
                printed(&output.stderr, password.as_deref())
            )))
        }
    })
    .await
}

/// The major version in `pg_dump (PostgreSQL) 15.20 (Debian ...)` or `150020`.
fn major(version: &str) -> Option<u32> {
    let digits: String = version
        .split_whitespace()
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Dumps the database into `file`. The row counts are read in the very snapshot `pg_dump`
/// dumps: this transaction exports it and stays open until `pg_dump` is done.
pub(super) async fn dump(url: &str, file: &Path) -> Result<Dumped, BackupError> {
    let (mut version_command, _, _) = tool("pg_dump", url);
    version_command.arg("--version");
    let pg_dump_version = run(version_command, "pg_dump", None).await?;
    let conn = connect_one(url).await?;
    let outcome = dump_in_snapshot(&conn, url, file, pg_dump_version).await;
    let _ = conn.close().await;
    outcome
}

async fn dump_in_snapshot(
    conn: &sea_orm::DatabaseConnection,
    url: &str,
    file: &Path,
    pg_dump_version: String,
) -> Result<Dumped, BackupError> {
    let failed = |error: sea_orm::DbErr| {
        BackupError::Failed(format!("cannot read the database for the backup: {error}"))
    };
    let txn = conn
        .begin_with_options(TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            sqlite_transaction_mode: None,
        })
        .await
        .map_err(failed)?;
    let row = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS number, pg_export_snapshot() AS snapshot",
        ))
        .await
        .map_err(failed)?
        .ok_or_else(|| BackupError::Failed("the server did not answer".to_string()))?;
    let server_version: String = row.try_get("", "version").map_err(failed)?;
    let number: String = row.try_get("", "number").map_err(failed)?;
    let snapshot: String = row.try_get("", "snapshot").map_err(failed)?;
    let server_major = number.parse::<u32>().map(|number| number / 10_000).ok();
    let tool_major = major(&pg_dump_version);
    if let (Some(server), Some(tool)) = (server_major, tool_major)
        && tool < server
    {
        return Err(BackupError::Refused(format!(
            "{pg_dump_version} cannot dump a PostgreSQL {server} server: install pg_dump {server}"
        )));
    }
    let tables = table_counts(&txn, Backend::Postgres)
        .await
        .map_err(failed)?;
    let (mut command, without_password, password) = tool("pg_dump", url);
    command
        .arg("--format=custom")
        .arg("--no-password")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--file")
        .arg(file)
        .arg("--dbname")
        .arg(&without_password);
    run(command, "pg_dump", password).await?;
    // Read only: nothing to keep, and ending it releases the exported snapshot.
    let _ = txn.rollback().await;
    Ok(Dumped {
        tables,
        server_version,
        pg_dump_version,
    })
}

/// Refuses a database that holds any table: with rows it is not empty, and even empty ones
/// (made by `learnloop migrate`) would make `pg_restore` fail as it creates them.
pub(super) async fn check_target(url: &str) -> Result<(), BackupError> {
    let conn = connect_one(url).await?;
    let counts = table_counts(&conn, Backend::Postgres).await;
    let _ = conn.close().await;
    let counts = counts.map_err(|error| {
        BackupError::Failed(format!("cannot read the target database: {error}"))
    })?;
    if let Some((table, rows)) = counts.iter().find(|(_, rows)| **rows > 0) {
        return Err(BackupError::Refused(format!(
            "the target database is not empty (table {table} holds {rows} row(s)): restore into a new, empty database"
        )));
    }
    if let Some(table) = counts.keys().next() {
        return Err(BackupError::Refused(format!(
            "the target database already has tables ({table} and {} more, all empty): restore into a new database with no tables, not a migrated one",
            counts.len() - 1
        )));
    }
    Ok(())
}

/// Restores the dump in one transaction: it fails whole, leaving the database empty.
pub(super) async fn restore(dump: &Path, url: &str) -> Result<(), BackupError> {
    let (mut command, without_password, password) = tool("pg_restore", url);
    command
        .arg("--no-owner")
        .arg("--exit-on-error")
        .arg("--single-transaction")
        .arg("--no-password")
        .arg("--dbname")
        .arg(&without_password)
        .arg(dump);
    run(command, "pg_restore", password).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions_are_read() {
        assert_eq!(
            major("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(major("pg_dump (PostgreSQL) 16beta1"), Some(16));
        assert_eq!(major("150020"), Some(150020));
        assert_eq!(major("no digits"), None);
    }

    #[test]
    fn the_password_is_never_printed() {
        assert_eq!(
            printed(b"FATAL:  password s3cret\n rejected", Some("s3cret")),
            "FATAL: password *** rejected"
        );
    }
}
