//! SQLite: `VACUUM INTO` takes the snapshot; a restore copies the file into place under a
//! temporary name and renames it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement};

use super::{BackupError, blocking, connect_one, files, percent_decode, table_counts};
use crate::db::Backend;

/// Writes a consistent copy of the database into `file` and returns its tables' row counts.
///
/// `VACUUM INTO` reads one snapshot on a connection of its own; in WAL mode the service's
/// writer carries on meanwhile. The counts are read from the copy itself, so they describe
/// exactly the snapshot taken.
pub(super) async fn snapshot(url: &str, file: &Path) -> Result<BTreeMap<String, u64>, BackupError> {
    let target = file
        .to_str()
        .ok_or_else(|| BackupError::Refused(format!("{} is not a UTF-8 path", file.display())))?
        .to_string();
    let conn = connect_one(url).await?;
    let vacuumed = conn
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "VACUUM INTO ?",
            [target.into()],
        ))
        .await;
    let _ = conn.close().await;
    vacuumed.map_err(|error| {
        BackupError::Failed(format!("cannot copy the database (VACUUM INTO): {error}"))
    })?;
    // SQLite does not sync what VACUUM INTO writes; a backup must survive a power cut.
    let written = file.to_path_buf();
    blocking(move || {
        std::fs::File::open(&written)
            .and_then(|copy| copy.sync_all())
            .map_err(|error| {
                BackupError::Failed(format!("cannot sync {}: {error}", written.display()))
            })
    })
    .await?;
    let copy = open_read_only(file).await?;
    let counts = table_counts(&copy, Backend::Sqlite).await;
    let _ = copy.close().await;
    counts
        .map_err(|error| BackupError::Failed(format!("cannot count the rows of the copy: {error}")))
}

/// Opens a SQLite file as immutable: read only, and no `-wal` or `-shm` file is made beside it,
/// which would be files the manifest does not list.
async fn open_read_only(file: &Path) -> Result<sea_orm::DatabaseConnection, BackupError> {
    let path = file.to_path_buf();
    let mut options = ConnectOptions::new(format!("sqlite://{}", file.display()));
    options
        .sqlx_logging(false)
        .max_connections(1)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.filename(&path)
                .read_only(true)
                .immutable(true)
                .create_if_missing(false)
        });
    Database::connect(options).await.map_err(|error| {
        BackupError::Failed(format!("cannot open the copy {}: {error}", file.display()))
    })
}

/// The file a `sqlite://` URL names, decoded as sqlx decodes it.
fn target_path(url: &str) -> Result<PathBuf, BackupError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(':') {
        return Err(BackupError::Refused(
            "restore needs a database file, not an in-memory database".to_string(),
        ));
    }
    Ok(PathBuf::from(percent_decode(path)))
}

fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Refuses a target file that holds anything, or that has a write-ahead log beside it (SQLite
/// would replay it into the restored file).
pub(super) fn check_target(url: &str) -> Result<(), BackupError> {
    let path = target_path(url)?;
    let non_empty = |file: &Path| std::fs::metadata(file).is_ok_and(|found| found.len() > 0);
    if path.exists() && !path.is_file() {
        return Err(BackupError::Refused(format!(
            "{} is not a file",
            path.display()
        )));
    }
    if non_empty(&path) {
        return Err(BackupError::Refused(format!(
            "the database file {} exists and is not empty: restore into a new file",
            path.display()
        )));
    }
    let log = beside(&path, "-wal");
    if non_empty(&log) {
        return Err(BackupError::Refused(format!(
            "{} exists: restore into a new file",
            log.display()
        )));
    }
    Ok(())
}

/// Copies the checked snapshot into place: a temporary name beside the target, synced, then
/// renamed, so the target is never a half-written file.
pub(super) async fn restore(
    source: &Path,
    url: &str,
    expected_sha256: String,
) -> Result<(), BackupError> {
    let target = target_path(url)?;
    let source = source.to_path_buf();
    let url = url.to_string();
    blocking(move || {
        let failed = |what: &Path, error: std::io::Error| {
            BackupError::Failed(format!("cannot restore into {}: {error}", what.display()))
        };
        let parent = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|error| failed(&parent, error))?;
        let temporary = beside(&target, ".restoring");
        match std::fs::remove_file(&temporary) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(failed(&temporary, error)),
        }
        let (_, sha256) =
            files::copy_file(&source, &temporary).map_err(|error| failed(&temporary, error))?;
        // Checked again at the last moment: the file may have appeared since the first check.
        let checked = if sha256 == expected_sha256 {
            check_target(&url)
        } else {
            Err(BackupError::Failed(format!(
                "{} changed while it was restored",
                super::SQLITE_FILE
            )))
        };
        if let Err(error) = checked {
            let _ = std::fs::remove_file(&temporary);
            return Err(error);
        }
        std::fs::rename(&temporary, &target).map_err(|error| failed(&target, error))?;
        files::sync_dir(&parent).map_err(|error| failed(&parent, error))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_file() {
        assert_eq!(
            target_path("sqlite://data/a%20b.db?mode=rwc").ok(),
            Some(PathBuf::from("data/a b.db"))
        );
        assert_eq!(
            target_path("sqlite:/abs/x.db").ok(),
            Some(PathBuf::from("/abs/x.db"))
        );
        assert!(target_path("sqlite::memory:").is_err());
    }
}
