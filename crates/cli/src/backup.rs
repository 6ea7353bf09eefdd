//! `learnloop backup` and `learnloop restore`, and the scheduled backups `serve` starts. The
//! work is in `learnloop_core::backup`; this wires settings to it and reports.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use learnloop_core::backup::{self, BackupError, MANIFEST, Schedule};
use learnloop_core::clock::Clock;
use learnloop_core::db::redact_url;

use crate::settings::{DEFAULT_DATABASE, Settings};

/// A size as people read it.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn database_entry(manifest: &backup::Manifest) -> Option<&backup::FileEntry> {
    manifest
        .files
        .iter()
        .find(|file| file.path == backup::SQLITE_FILE || file.path == backup::POSTGRES_DUMP)
}

pub async fn backup(settings: Settings, to: &Path) -> Result<(), String> {
    let url = settings.database_or(DEFAULT_DATABASE);
    let started = Instant::now();
    let manifest = backup::backup(&url, &settings.files_dir, to, chrono::Utc::now())
        .await
        .map_err(|error| match error {
            BackupError::Refused(message) => format!("backup refused: {message}"),
            BackupError::Failed(message) => {
                format!(
                    "backup failed (nothing kept in {}): {message}",
                    to.display()
                )
            }
        })?;
    let (uploads, upload_bytes) = manifest.uploads();
    println!(
        "Backed up {} into {} in {:.1} s.",
        redact_url(&url),
        to.display(),
        started.elapsed().as_secs_f64()
    );
    if let Some(database) = database_entry(&manifest) {
        println!(
            "  {:<14} {} ({}), {} tables, {} rows",
            database.path,
            manifest.backend,
            size(database.size),
            manifest.tables.len(),
            manifest.rows()
        );
    }
    println!(
        "  {:<14} {uploads} uploaded files ({}) from {}",
        format!("{}/", backup::FILES),
        size(upload_bytes),
        settings.files_dir.display()
    );
    println!(
        "  {MANIFEST:<14} {} files with their SHA-256",
        manifest.files.len()
    );
    Ok(())
}

pub async fn restore(settings: Settings, from: &Path) -> Result<(), String> {
    let url = settings.database_or(DEFAULT_DATABASE);
    let started = Instant::now();
    let restored = backup::restore(from, &url, &settings.files_dir)
        .await
        .map_err(|error| match error {
            BackupError::Refused(message) => {
                format!("restore refused, nothing was written: {message}")
            }
            BackupError::Failed(message) => format!("restore failed: {message}"),
        })?;
    let manifest = &restored.manifest;
    let (uploads, upload_bytes) = manifest.uploads();
    println!(
        "Checked {} files in {} against the manifest (a {} backup taken {} by learnloop {}).",
        manifest.files.len(),
        from.display(),
        manifest.backend,
        manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        manifest.learnloop_version
    );
    println!(
        "Restored {} rows in {} tables into {}: every count matches the manifest.",
        manifest.rows(),
        manifest.tables.len(),
        redact_url(&url)
    );
    println!(
        "Restored {uploads} uploaded files ({}) into {}.",
        size(upload_bytes),
        settings.files_dir.display()
    );
    match &restored.audit.first_problem {
        None => {
            println!(
                "The audit trail is intact: {} entries checked. Done in {:.1} s.",
                restored.audit.entries_checked,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Some((seq, problem)) => Err(format!(
            "restored, but the audit trail is broken: entry {seq} {problem}"
        )),
    }
}

/// Starts the scheduled backups when `backup_interval_hours` is set (the settings have checked
/// that `backup_dir` is then set too).
pub fn schedule(settings: &Settings, url: &str, clock: Arc<dyn Clock>) {
    let Some(dir) = settings.backup_dir.clone() else {
        return;
    };
    if settings.backup_interval_hours == 0 {
        return;
    }
    tracing::info!(
        dir = %dir.display(),
        every_hours = settings.backup_interval_hours,
        keep = settings.backup_keep,
        "scheduled backups on"
    );
    tokio::spawn(
        Schedule {
            url: url.to_string(),
            files_dir: settings.files_dir.clone(),
            dir,
            every: Duration::from_secs(settings.backup_interval_hours * 3600),
            keep: settings.backup_keep,
            clock,
        }
        .run(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size(12), "12 bytes");
        assert_eq!(size(2048), "2.0 KB");
        assert_eq!(size(5 * 1024 * 1024 + 512 * 1024), "5.5 MB");
    }
}
