//! Time is a parameter of the rules: production reads the system clock, tests set their own.

use std::sync::Mutex;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        truncate(Utc::now())
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(truncate(start)))
    }

    pub fn set(&self, to: DateTime<Utc>) {
        let mut now = match self.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *now = truncate(to);
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut now = match self.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        match self.0.lock() {
            Ok(guard) => *guard,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

/// Microsecond precision: what PostgreSQL stores, so a value reads back exactly as written
/// (the audit chain hashes timestamps).
pub fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(at)
}

/// The system clock moved on by a number of days read from a file at each call: for browser
/// tests that need to see a date a year ahead (an assurance check falling due). Only used when
/// the `clock_offset_file` setting names a file; never in production.
#[derive(Debug)]
pub struct FileOffsetClock {
    pub file: std::path::PathBuf,
}

impl Clock for FileOffsetClock {
    fn now(&self) -> DateTime<Utc> {
        let days = std::fs::read_to_string(&self.file)
            .ok()
            .and_then(|text| text.trim().parse::<i64>().ok())
            .filter(|days| (-36_500..=36_500).contains(days))
            .unwrap_or(0);
        truncate(Utc::now() + TimeDelta::days(days))
    }
}
