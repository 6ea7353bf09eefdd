//! Scheduled backups: `learnloop serve` writes one into `<dir>/<UTC timestamp>/` every
//! interval and removes its oldest beyond the number to keep. It removes only folders it made,
//! known by their manifest; anything else in the folder is the operator's.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{BackupError, MANIFEST, Manifest, blocking, make};
use crate::clock::Clock;

#[derive(Debug, Clone)]
pub struct Schedule {
    pub url: String,
    pub files_dir: PathBuf,
    /// Where the timestamped backup folders go.
    pub dir: PathBuf,
    pub every: Duration,
    /// How many scheduled backups to keep (at least one).
    pub keep: usize,
    pub clock: Arc<dyn Clock>,
}

/// A scheduled backup's folder name: the time in UTC, in ISO 8601's basic form, which sorts
/// as it reads.
pub fn folder_name(now: DateTime<Utc>) -> String {
    now.format("%Y%m%dT%H%M%SZ").to_string()
}

/// What one round did.
#[derive(Debug, Clone)]
pub struct Round {
    pub folder: PathBuf,
    pub manifest: Manifest,
    pub removed: Vec<PathBuf>,
}

impl Schedule {
    /// Backs up every interval, the first one interval after starting. A failed round is
    /// logged and the next one tried on time.
    pub async fn run(self) {
        loop {
            tokio::time::sleep(self.every).await;
            let started = std::time::Instant::now();
            match self.once().await {
                Ok(round) => tracing::info!(
                    folder = %round.folder.display(),
                    files = round.manifest.files.len(),
                    rows = round.manifest.rows(),
                    removed = round.removed.len(),
                    seconds = started.elapsed().as_secs_f64(),
                    "scheduled backup written"
                ),
                Err(error) => tracing::error!(error = %error, "scheduled backup failed"),
            }
        }
    }

    /// One scheduled backup, then the oldest beyond `keep` removed.
    pub async fn once(&self) -> Result<Round, BackupError> {
        let now = self.clock.now();
        let folder = self.dir.join(folder_name(now));
        let manifest = make(&self.url, &self.files_dir, &folder, now, true).await?;
        let (dir, keep) = (self.dir.clone(), self.keep);
        let removed = blocking(move || prune(&dir, keep)).await?;
        Ok(Round {
            folder,
            manifest,
            removed,
        })
    }
}

/// Removes the oldest scheduled backups in `dir` beyond the newest `keep`; returns them.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| BackupError::Failed(format!("cannot read {}: {error}", dir.display())))?;
    let mut scheduled: Vec<(DateTime<Utc>, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(text) = std::fs::read(path.join(MANIFEST)) else {
            continue;
        };
        if let Ok(manifest) = serde_json::from_slice::<Manifest>(&text)
            && manifest.scheduled
        {
            scheduled.push((manifest.created_at, path));
        }
    }
    scheduled.sort();
    let excess = scheduled.len().saturating_sub(keep.max(1));
    let mut removed = Vec::new();
    for (_, path) in scheduled.into_iter().take(excess) {
        std::fs::remove_dir_all(&path).map_err(|error| {
            BackupError::Failed(format!("cannot remove {}: {error}", path.display()))
        })?;
        removed.push(path);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn scheduled_backups_keep_the_newest_and_leave_others_alone() {
        let root = std::env::temp_dir().join(format!("ll-schedule-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&root).unwrap();
        let url = format!("sqlite://{}/source.db", root.display());
        let db = crate::Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        let dir = root.join("backups");
        let start = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 1, 2, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(start));
        let schedule = Schedule {
            url,
            files_dir: root.join("files"),
            dir: dir.clone(),
            every: Duration::from_secs(3600),
            keep: 2,
            clock: clock.clone(),
        };
        // A manual backup and a folder of the operator's in the same place stay.
        super::super::backup(
            &schedule.url,
            &schedule.files_dir,
            &dir.join("manual"),
            start,
        )
        .await
        .unwrap();
        std::fs::create_dir_all(dir.join("notes")).unwrap();
        for _ in 0..3 {
            schedule.once().await.unwrap();
            clock.advance(chrono::TimeDelta::hours(1));
        }
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["20260301T030000Z", "20260301T040000Z", "manual", "notes"]
        );
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&root);
    }
}
