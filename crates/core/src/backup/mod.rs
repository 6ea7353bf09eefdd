//! Backups taken while the service runs, and restores into an empty database.
//!
//! A backup folder holds the database (`learnloop.db`, a SQLite `VACUUM INTO` snapshot, or
//! `database.dump`, a `pg_dump --format=custom` dump), the uploaded files under `files/`, and
//! `manifest.json`: what was backed up, every file's size and SHA-256, and each table's row
//! count in the database snapshot. The manifest is written last, so a folder without one is
//! not a backup.
//!
//! A restore checks every file against the manifest before it writes anything, writes only
//! into an empty database and an empty files folder, then checks the row counts and the audit
//! chain of what it restored.

mod files;
mod postgres;
pub mod schedule;
mod sqlite;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};

pub use files::sha256_hex;
pub use schedule::Schedule;

use crate::db::{Backend, redact_url};

/// The version of the folder's layout; a restore refuses a newer one.
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const SQLITE_FILE: &str = "learnloop.db";
pub const POSTGRES_DUMP: &str = "database.dump";
/// The folder of the uploaded files inside a backup.
pub const FILES: &str = "files";

/// What a backup folder holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub learnloop_version: String,
    /// "sqlite" or "postgres".
    pub backend: String,
    pub created_at: DateTime<Utc>,
    /// Made by the scheduled task, which removes only its own folders beyond `backup_keep`.
    #[serde(default)]
    pub scheduled: bool,
    /// PostgreSQL: the server's version and the `pg_dump` that dumped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pg_dump_version: Option<String>,
    /// Rows per table in the database snapshot.
    pub tables: BTreeMap<String, u64>,
    /// Every file of the folder but the manifest, sorted by path.
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the backup folder, with `/` between parts.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

impl Manifest {
    /// The total of the tables' row counts.
    pub fn rows(&self) -> u64 {
        self.tables.values().sum()
    }

    /// The uploaded files (not the database) and their total size.
    pub fn uploads(&self) -> (usize, u64) {
        let prefix = format!("{FILES}/");
        self.files
            .iter()
            .filter(|file| file.path.starts_with(&prefix))
            .fold((0, 0), |(count, bytes), file| {
                (count + 1, bytes + file.size)
            })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Refused before anything was written.
    #[error("refused: {0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

fn database_file(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => SQLITE_FILE,
        Backend::Postgres => POSTGRES_DUMP,
    }
}

/// Runs blocking file work off the async threads, so a scheduled backup in `serve` never
/// stalls requests.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BackupError> + Send + 'static,
) -> Result<T, BackupError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| BackupError::Failed(format!("a backup task stopped: {error}")))?
}

/// One connection of its own, never the service's pool: a backup must not hold the writer.
async fn connect_one(url: &str) -> Result<DatabaseConnection, BackupError> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(|opts| opts.busy_timeout(Duration::from_secs(10)));
    Database::connect(options).await.map_err(|error| {
        BackupError::Failed(format!("cannot open database {}: {error}", redact_url(url)))
    })
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// Each table's row count, read in the connection's (or transaction's) one snapshot.
async fn table_counts(
    db: &impl ConnectionTrait,
    backend: Backend,
) -> Result<BTreeMap<String, u64>, sea_orm::DbErr> {
    let list = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        }
    };
    let backend = db.get_database_backend();
    let mut counts = BTreeMap::new();
    for row in db
        .query_all_raw(Statement::from_string(backend, list))
        .await?
    {
        let name: String = row.try_get("", "name")?;
        let count = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {}", quoted(&name)),
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        counts.insert(name, u64::try_from(count).unwrap_or(0));
    }
    Ok(counts)
}

/// Creates the backup folder, refusing one that holds anything. True when it was created.
fn prepare_folder(to: &Path) -> Result<bool, BackupError> {
    if to.exists() {
        if !to.is_dir() {
            return Err(BackupError::Refused(format!(
                "{} exists and is not a folder",
                to.display()
            )));
        }
        if !files::is_missing_or_empty(to)? {
            return Err(BackupError::Refused(format!(
                "{} is not empty: back up into a new folder",
                to.display()
            )));
        }
        return Ok(false);
    }
    let refused = |error: std::io::Error| {
        BackupError::Refused(format!("cannot create {}: {error}", to.display()))
    };
    if let Some(parent) = to.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(refused)?;
    }
    let mut folder = std::fs::DirBuilder::new();
    // A backup holds everyone's personal data: readable by the service's user only.
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    folder.create(to).map_err(refused)?;
    Ok(true)
}

/// Takes a consistent backup of the database at `url` and the uploaded files in `files_dir`
/// into `to`, a new or empty folder, while the service goes on writing.
pub async fn backup(
    url: &str,
    files_dir: &Path,
    to: &Path,
    now: DateTime<Utc>,
) -> Result<Manifest, BackupError> {
    make(url, files_dir, to, now, false).await
}

async fn make(
    url: &str,
    files_dir: &Path,
    to: &Path,
    now: DateTime<Utc>,
    scheduled: bool,
) -> Result<Manifest, BackupError> {
    let backend = Backend::from_url(url).map_err(BackupError::Refused)?;
    let created = prepare_folder(to)?;
    let outcome = write_backup(url, backend, files_dir, to, now, scheduled).await;
    if outcome.is_err() {
        // A half-written folder must not pass for a backup; put the folder back as it was.
        let _ = std::fs::remove_dir_all(to);
        if !created {
            let _ = std::fs::create_dir(to);
        }
    }
    outcome
}

async fn write_backup(
    url: &str,
    backend: Backend,
    files_dir: &Path,
    to: &Path,
    now: DateTime<Utc>,
    scheduled: bool,
) -> Result<Manifest, BackupError> {
    let database_path = to.join(database_file(backend));
    // The database first: every file it refers to was stored before its row was committed,
    // so the files copied afterwards include them all.
    let (tables, server_version, pg_dump_version) = match backend {
        Backend::Sqlite => (sqlite::snapshot(url, &database_path).await?, None, None),
        Backend::Postgres => {
            let dumped = postgres::dump(url, &database_path).await?;
            (
                dumped.tables,
                Some(dumped.server_version),
                Some(dumped.pg_dump_version),
            )
        }
    };
    let source = files_dir.to_path_buf();
    let folder = to.to_path_buf();
    let manifest_files = blocking(move || {
        let (size, sha256) = files::hash_file(&database_path).map_err(|error| {
            BackupError::Failed(format!("cannot read {}: {error}", database_path.display()))
        })?;
        let mut entries = vec![FileEntry {
            path: database_file(backend).to_string(),
            size,
            sha256,
        }];
        entries.extend(files::copy_uploads(&source, &folder.join(FILES))?);
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    })
    .await?;
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        learnloop_version: env!("CARGO_PKG_VERSION").to_string(),
        backend: backend_name(backend).to_string(),
        created_at: now,
        scheduled,
        server_version,
        pg_dump_version,
        tables,
        files: manifest_files,
    };
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|error| BackupError::Failed(format!("cannot write the manifest: {error}")))?;
    let folder = to.to_path_buf();
    blocking(move || write_manifest(&folder, &text)).await?;
    Ok(manifest)
}

/// Written under a temporary name and renamed, so the manifest is there whole or not at all.
fn write_manifest(folder: &Path, text: &[u8]) -> Result<(), BackupError> {
    use std::io::Write;
    let failed =
        |error: std::io::Error| BackupError::Failed(format!("cannot write the manifest: {error}"));
    let temporary = folder.join(format!("{MANIFEST}.part"));
    let mut file = std::fs::File::create(&temporary).map_err(failed)?;
    file.write_all(text).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    std::fs::rename(&temporary, folder.join(MANIFEST)).map_err(failed)?;
    files::sync_dir(folder).map_err(failed)
}

/// Reads a backup folder's manifest and checks every file against it: none missing, none
/// extra, each of the recorded size and SHA-256. Writes nothing.
pub fn check_folder(from: &Path) -> Result<Manifest, BackupError> {
    let manifest_path = from.join(MANIFEST);
    let text = std::fs::read(&manifest_path).map_err(|error| {
        BackupError::Refused(format!(
            "{} cannot be read ({error}): is {} a backup folder?",
            manifest_path.display(),
            from.display()
        ))
    })?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|error| {
        BackupError::Refused(format!("{MANIFEST} is not a learnloop manifest: {error}"))
    })?;
    if manifest.format_version > FORMAT_VERSION {
        return Err(BackupError::Refused(format!(
            "{MANIFEST} has format version {}; this learnloop reads up to {FORMAT_VERSION}",
            manifest.format_version
        )));
    }
    let expected_database = match manifest.backend.as_str() {
        "sqlite" => SQLITE_FILE,
        "postgres" => POSTGRES_DUMP,
        other => {
            return Err(BackupError::Refused(format!(
                "{MANIFEST} names an unknown backend \"{other}\""
            )));
        }
    };
    if !manifest
        .files
        .iter()
        .any(|file| file.path == expected_database)
    {
        return Err(BackupError::Refused(format!(
            "{MANIFEST} lists no {expected_database}"
        )));
    }
    let mut listed: BTreeMap<&str, &FileEntry> = BTreeMap::new();
    for entry in &manifest.files {
        if !files::is_inside(&entry.path) || entry.path == MANIFEST {
            return Err(BackupError::Refused(format!(
                "{MANIFEST} lists {:?}, which is not a file inside the backup folder",
                entry.path
            )));
        }
        if listed.insert(entry.path.as_str(), entry).is_some() {
            return Err(BackupError::Refused(format!(
                "{MANIFEST} lists {} twice",
                entry.path
            )));
        }
    }
    let present = files::list_backup(from)?;
    for path in &present {
        if path != MANIFEST && !listed.contains_key(path.as_str()) {
            return Err(BackupError::Refused(format!(
                "{path} is in the backup folder but not in the manifest"
            )));
        }
    }
    for path in listed.keys() {
        if present
            .binary_search_by(|found| found.as_str().cmp(path))
            .is_err()
        {
            return Err(BackupError::Refused(format!(
                "{path} is in the manifest but missing from the backup folder"
            )));
        }
    }
    for (path, entry) in &listed {
        let (size, sha256) = files::hash_file(&from.join(path))
            .map_err(|error| BackupError::Refused(format!("cannot read {path}: {error}")))?;
        if size != entry.size || sha256 != entry.sha256 {
            return Err(BackupError::Refused(format!(
                "{path} does not match the manifest (size {size}, expected {}; SHA-256 {sha256}, expected {})",
                entry.size, entry.sha256
            )));
        }
    }
    Ok(manifest)
}

/// What a restore did and found.
#[derive(Debug, Clone)]
pub struct Restored {
    pub manifest: Manifest,
    /// The audit chain of the restored database, checked.
    pub audit: crate::audit::Verification,
}

/// Restores the backup folder `from` into the empty database at `url` and the empty
/// `files_dir`. Everything is checked before anything is written: the folder against its
/// manifest, the database and the files folder for emptiness.
pub async fn restore(from: &Path, url: &str, files_dir: &Path) -> Result<Restored, BackupError> {
    let backend = Backend::from_url(url).map_err(BackupError::Refused)?;
    let folder = from.to_path_buf();
    let manifest = blocking(move || check_folder(&folder)).await?;
    if manifest.backend != backend_name(backend) {
        return Err(BackupError::Refused(format!(
            "this is a {} backup; it restores into a {} database only",
            manifest.backend, manifest.backend
        )));
    }
    match backend {
        Backend::Sqlite => sqlite::check_target(url)?,
        Backend::Postgres => postgres::check_target(url).await?,
    }
    if files_dir.exists() && !files_dir.is_dir() {
        return Err(BackupError::Refused(format!(
            "the files folder {} is not a folder",
            files_dir.display()
        )));
    }
    if !files::is_missing_or_empty(files_dir)? {
        return Err(BackupError::Refused(format!(
            "the files folder {} is not empty: restore into an empty one",
            files_dir.display()
        )));
    }
    let database = from.join(database_file(backend));
    match backend {
        Backend::Sqlite => {
            let expected = manifest
                .files
                .iter()
                .find(|file| file.path == SQLITE_FILE)
                .map(|file| file.sha256.clone())
                .unwrap_or_default();
            sqlite::restore(&database, url, expected).await?
        }
        Backend::Postgres => postgres::restore(&database, url).await?,
    }
    let uploads: Vec<FileEntry> = manifest
        .files
        .iter()
        .filter(|file| file.path.starts_with(&format!("{FILES}/")))
        .cloned()
        .collect();
    let (folder, target) = (from.to_path_buf(), files_dir.to_path_buf());
    blocking(move || restore_uploads(&folder, &uploads, &target)).await?;
    let conn = connect_one(url).await?;
    let restored = table_counts(&conn, backend)
        .await
        .map_err(|error| BackupError::Failed(format!("cannot count the restored rows: {error}")))?;
    if let Some(problem) = compare_counts(&manifest.tables, &restored) {
        let _ = conn.close().await;
        return Err(BackupError::Failed(format!(
            "the restored database differs from the manifest: {problem}"
        )));
    }
    let audit = crate::audit::verify(&conn, |_| {})
        .await
        .map_err(|error| BackupError::Failed(format!("cannot check the audit trail: {error}")))?;
    let _ = conn.close().await;
    Ok(Restored { manifest, audit })
}

/// The first difference between the recorded and the restored row counts.
fn compare_counts(
    recorded: &BTreeMap<String, u64>,
    restored: &BTreeMap<String, u64>,
) -> Option<String> {
    for (table, rows) in recorded {
        match restored.get(table) {
            None => return Some(format!("table {table} is missing")),
            Some(found) if found != rows => {
                return Some(format!(
                    "table {table} has {found} rows, the manifest recorded {rows}"
                ));
            }
            Some(_) => {}
        }
    }
    restored
        .keys()
        .find(|table| !recorded.contains_key(*table))
        .map(|table| format!("table {table} is not in the manifest"))
}

/// Copies the checked uploads into the files folder, each checked again as it is written (the
/// folder could have changed since it was checked).
fn restore_uploads(from: &Path, uploads: &[FileEntry], target: &Path) -> Result<(), BackupError> {
    let failed = |what: &Path, error: std::io::Error| {
        BackupError::Failed(format!("cannot restore {}: {error}", what.display()))
    };
    std::fs::create_dir_all(target).map_err(|error| failed(target, error))?;
    let prefix = format!("{FILES}/");
    let mut folders: std::collections::BTreeSet<PathBuf> = std::collections::BTreeSet::new();
    folders.insert(target.to_path_buf());
    for entry in uploads {
        let relative = entry.path.strip_prefix(&prefix).unwrap_or(&entry.path);
        let to = target.join(relative);
        if let Some(parent) = to.parent()
            && folders.insert(parent.to_path_buf())
        {
            std::fs::create_dir_all(parent).map_err(|error| failed(parent, error))?;
        }
        let (size, sha256) =
            files::copy_file(&from.join(&entry.path), &to).map_err(|error| failed(&to, error))?;
        if size != entry.size || sha256 != entry.sha256 {
            return Err(BackupError::Failed(format!(
                "{} changed while it was restored",
                entry.path
            )));
        }
    }
    for folder in folders.iter().rev() {
        files::sync_dir(folder).map_err(|error| failed(folder, error))?;
    }
    Ok(())
}

/// Splits a PostgreSQL URL into the URL without its password and the password, decoded, so
/// the password reaches `pg_dump` and `pg_restore` through their environment, never their
/// command line (which any local user can read).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((credentials, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    match credentials.split_once(':') {
        Some((user, password)) => (
            format!("{scheme}://{user}@{host}{tail}"),
            Some(percent_decode(password)),
        ),
        None => (url.to_string(), None),
    }
}

/// Decodes `%XX` escapes, as URLs carry a password or a path.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| text.get(index + 1..index + 3))
            .flatten()
            .and_then(|digits| u8::from_str_radix(digits, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        assert_eq!(
            split_password("postgres://app:s%40cret@db:5432/ll?sslmode=require"),
            (
                "postgres://app@db:5432/ll?sslmode=require".to_string(),
                Some("s@cret".to_string())
            )
        );
        assert_eq!(
            split_password("postgres://app@db/ll"),
            ("postgres://app@db/ll".to_string(), None)
        );
        assert_eq!(
            split_password("postgres://db/ll"),
            ("postgres://db/ll".to_string(), None)
        );
    }

    #[test]
    fn counts_are_compared_both_ways() {
        let recorded = BTreeMap::from([("a".to_string(), 2), ("b".to_string(), 0)]);
        assert_eq!(compare_counts(&recorded, &recorded.clone()), None);
        let fewer = BTreeMap::from([("a".to_string(), 1), ("b".to_string(), 0)]);
        assert!(compare_counts(&recorded, &fewer).is_some_and(|text| text.contains("table a")));
        let extra = BTreeMap::from([
            ("a".to_string(), 2),
            ("b".to_string(), 0),
            ("c".to_string(), 0),
        ]);
        assert!(compare_counts(&recorded, &extra).is_some_and(|text| text.contains("table c")));
    }

    /// A folder under the system's temporary folder, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            let path = std::env::temp_dir().join(format!("ll-backup-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).unwrap();
            Scratch(path)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[tokio::test]
    async fn a_sqlite_backup_restores_and_a_changed_byte_is_refused() {
        let scratch = Scratch::new();
        let url = format!("sqlite://{}/source.db", scratch.0.display());
        let db = crate::Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        let uploads = scratch.0.join("uploads");
        std::fs::create_dir_all(uploads.join("nested")).unwrap();
        std::fs::write(uploads.join("one"), b"first file").unwrap();
        std::fs::write(uploads.join("nested/two"), b"second file").unwrap();
        std::fs::write(uploads.join("three.part"), b"half an upl").unwrap();
        let now = crate::clock::truncate(Utc::now());
        let to = scratch.0.join("backup");
        let manifest = backup(&url, &uploads, &to, now).await.unwrap();
        assert_eq!(manifest.uploads(), (2, 21), "the .part file is left out");
        assert!(
            manifest
                .tables
                .get("review_types")
                .is_some_and(|rows| *rows > 0)
        );
        assert!(matches!(
            backup(&url, &uploads, &to, now).await,
            Err(BackupError::Refused(_))
        ));
        db.close().await.unwrap();

        let target = format!("sqlite://{}/restored.db", scratch.0.display());
        let restored_files = scratch.0.join("restored-files");
        let restored = restore(&to, &target, &restored_files).await.unwrap();
        assert_eq!(restored.audit.first_problem, None);
        assert_eq!(
            std::fs::read(restored_files.join("nested/two")).unwrap(),
            b"second file"
        );
        assert!(matches!(
            restore(&to, &target, &scratch.0.join("elsewhere")).await,
            Err(BackupError::Refused(message)) if message.contains("not empty")
        ));

        let mut bytes = std::fs::read(to.join("files/one")).unwrap();
        bytes[0] ^= 1;
        std::fs::write(to.join("files/one"), bytes).unwrap();
        let untouched = format!("sqlite://{}/untouched.db", scratch.0.display());
        assert!(matches!(
            restore(&to, &untouched, &scratch.0.join("untouched-files")).await,
            Err(BackupError::Refused(message)) if message.contains("files/one")
        ));
        assert!(!scratch.0.join("untouched.db").exists());
        assert!(!scratch.0.join("untouched-files").exists());
    }
}
