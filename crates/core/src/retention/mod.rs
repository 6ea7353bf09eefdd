//! Retention: how long each kind of record is kept, what is due to go on a given day, and
//! purging it. The periods are settings (defaults below, reasons in docs/DECISIONS.md);
//! `plan` lists what is due and `apply` deletes exactly that in one write transaction, with
//! one `retention.purged` audit entry, then removes the files of what it deleted.
//!
//! Case records go a number of years after their reviews closed, never while any of their
//! actions, plans or assurance checks is open, and never under a retention hold (`holds`).
//! The audit trail is never purged: its entries carry ids, not content.

mod cases;
pub mod holds;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{Condition, ConnectionTrait, PaginatorTrait, QuerySelect, Set};

use crate::access::Actor;
use crate::actions::Status;
use crate::audit::{self, Event};
use crate::error::{CoreError, CoreResult};
use crate::identity::{resets, sessions, sign_in, totp};
use crate::{Db, FieldError, actions, mail, settings, step_up, tokens};

pub use cases::DueCase;

/// The setting that remembers the last day the daily purge ran, on any instance.
pub const LAST_RUN_ON: &str = "retention.last_run_on";

/// A kind of record with its own retention period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Sessions (and what each proved: `session_factors`), from when last used.
    Sessions,
    /// Sign-in attempts (the throttle's rows) and used authenticator steps.
    SignIns,
    /// API tokens, from when they expired or were revoked.
    ApiTokens,
    /// Password reset links, from when they expired or were used.
    ResetLinks,
    /// Tracker imports started and never finished (files under `files_dir`).
    Imports,
    /// Emails the outbox has sent.
    Mail,
    /// Cases with everything that hangs off them, from when their reviews closed.
    Cases,
}

/// How a period is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Days,
    Years,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Sessions,
        Kind::SignIns,
        Kind::ApiTokens,
        Kind::ResetLinks,
        Kind::Imports,
        Kind::Mail,
        Kind::Cases,
    ];

    /// The kind's name in addresses and command output.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Sessions => "sessions",
            Kind::SignIns => "sign-ins",
            Kind::ApiTokens => "api-tokens",
            Kind::ResetLinks => "reset-links",
            Kind::Imports => "imports",
            Kind::Mail => "mail",
            Kind::Cases => "cases",
        }
    }

    pub fn parse(slug: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.slug() == slug)
    }

    pub fn setting_key(self) -> &'static str {
        match self {
            Kind::Sessions => "retention.sessions_days",
            Kind::SignIns => "retention.sign_ins_days",
            Kind::ApiTokens => "retention.api_tokens_days",
            Kind::ResetLinks => "retention.reset_links_days",
            Kind::Imports => "retention.imports_days",
            Kind::Mail => "retention.mail_days",
            Kind::Cases => "retention.case_years",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Sessions => "Sessions",
            Kind::SignIns => "Sign-in attempts and used authenticator codes",
            Kind::ApiTokens => "Expired or revoked API tokens",
            Kind::ResetLinks => "Used or expired password reset links",
            Kind::Imports => "Unfinished action tracker imports",
            Kind::Mail => "Sent emails",
            Kind::Cases => "Case records and their reviews",
        }
    }

    /// What the period is counted from.
    pub fn counted_from(self) -> &'static str {
        match self {
            Kind::Sessions => "after the session was last used",
            Kind::SignIns => "after the attempt",
            Kind::ApiTokens => "after the token expired or was revoked",
            Kind::ResetLinks => "after the link expired or was used",
            Kind::Imports => "after the file was uploaded",
            Kind::Mail => "after the email was sent",
            Kind::Cases => "after the case's reviews closed",
        }
    }

    /// What else must hold before a record of the kind goes.
    pub fn condition(self) -> Option<&'static str> {
        match self {
            Kind::Cases => Some(
                "Never while an action, action plan or assurance check of the case is open, or a retention hold is on it.",
            ),
            _ => None,
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Kind::Cases => Unit::Years,
            _ => Unit::Days,
        }
    }

    /// The period in code, used until a partnership sets its own (reasons in DECISIONS.md).
    pub fn default_period(self) -> u32 {
        match self {
            Kind::Sessions | Kind::SignIns | Kind::Mail => 90,
            Kind::ApiTokens | Kind::ResetLinks => 30,
            Kind::Imports => 1,
            Kind::Cases => 7,
        }
    }

    /// The periods a partnership may choose: never zero, so nothing in use is purged.
    fn allowed(self) -> std::ops::RangeInclusive<u32> {
        match self.unit() {
            Unit::Days => 1..=3650,
            Unit::Years => 1..=100,
        }
    }

    /// "90 days", "1 day", "7 years".
    pub fn describe(self, period: u32) -> String {
        let unit = match (self.unit(), period) {
            (Unit::Days, 1) => "day",
            (Unit::Days, _) => "days",
            (Unit::Years, 1) => "year",
            (Unit::Years, _) => "years",
        };
        format!("{period} {unit}")
    }
}

/// The periods in force, and where uploaded files live (their removal needs it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    periods: BTreeMap<Kind, u32>,
    files_dir: Option<PathBuf>,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            periods: Kind::ALL
                .into_iter()
                .map(|kind| (kind, kind.default_period()))
                .collect(),
            files_dir: None,
        }
    }
}

impl Schedule {
    /// The stored periods, or the defaults for any not set (or stored out of range).
    pub async fn load(db: &impl ConnectionTrait) -> CoreResult<Schedule> {
        let mut schedule = Schedule::default();
        for kind in Kind::ALL {
            if let Some(text) = settings::get(db, kind.setting_key()).await? {
                match text.trim().parse::<u32>() {
                    Ok(period) if kind.allowed().contains(&period) => {
                        schedule.periods.insert(kind, period);
                    }
                    _ => tracing::warn!(
                        setting = kind.setting_key(),
                        "a stored retention period is not valid; using the default"
                    ),
                }
            }
        }
        Ok(schedule)
    }

    /// Where uploaded files and unfinished imports are kept. Without it, records are purged
    /// but no file is touched and no import counted.
    pub fn with_files_dir(mut self, files_dir: impl Into<PathBuf>) -> Schedule {
        self.files_dir = Some(files_dir.into());
        self
    }

    pub fn period(&self, kind: Kind) -> u32 {
        self.periods
            .get(&kind)
            .copied()
            .unwrap_or_else(|| kind.default_period())
    }

    /// The moment before which records of a kind counted in days are due.
    fn cutoff(&self, kind: Kind, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_sub_days(Days::new(u64::from(self.period(kind))))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The last day on which a case may have closed to be due on `today`.
    fn case_cutoff(&self, today: NaiveDate) -> NaiveDate {
        today
            .checked_sub_months(Months::new(self.period(Kind::Cases).saturating_mul(12)))
            .unwrap_or(NaiveDate::MIN)
    }
}

/// Changes one period. `seen` is the period the form showed: if the stored one has changed
/// since, nothing is saved (`Conflict`, a stale form).
pub async fn set_period(
    db: &impl ConnectionTrait,
    kind: Kind,
    value: &str,
    seen: &str,
) -> CoreResult<u32> {
    let current = Schedule::load(db).await?.period(kind);
    if seen.trim() != current.to_string() {
        return Err(CoreError::Conflict(format!(
            "it is now {}",
            kind.describe(current)
        )));
    }
    let allowed = kind.allowed();
    let unit = match kind.unit() {
        Unit::Days => "days",
        Unit::Years => "years",
    };
    let period = match value.trim().parse::<u32>() {
        Ok(period) if allowed.contains(&period) => period,
        _ => {
            return Err(CoreError::Invalid(vec![FieldError::new(
                "period",
                format!(
                    "Enter a whole number of {unit} from {} to {}",
                    allowed.start(),
                    allowed.end()
                ),
            )]));
        }
    };
    settings::set(db, kind.setting_key(), &period.to_string()).await?;
    Ok(period)
}

/// The last day the daily purge ran, if it ever has.
pub async fn last_run_on(db: &impl ConnectionTrait) -> CoreResult<Option<NaiveDate>> {
    Ok(settings::get(db, LAST_RUN_ON)
        .await?
        .and_then(|text| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok()))
}

/// What is due to go of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub kind: Kind,
    /// How many records (for cases: how many cases, each with everything of it).
    pub count: u64,
    /// The cases, by id and reference (never a name); empty for other kinds.
    pub cases: Vec<DueCase>,
}

/// Who purges: the audit entry's actor.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    /// The background worker's daily run.
    System,
    /// `learnloop retention` on the server.
    CommandLine,
    Person(&'a Actor),
}

impl By<'_> {
    fn event(&self, action: &str) -> Event {
        let event = Event::new(action, "succeeded");
        match self {
            By::System => Event {
                actor_role: Some("system".to_string()),
                source: Some("worker".to_string()),
                ..event
            },
            By::CommandLine => event.from_source(Some("cli".to_string())),
            By::Person(actor) => event.by(actor),
        }
    }
}

/// What `apply` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// What was deleted, kind by kind, as `plan` listed it.
    pub purged: Vec<Due>,
    /// Files removed after the commit (uploads of purged records, unfinished imports).
    pub files_removed: usize,
    /// Files that could not be removed (logged; the records are gone all the same).
    pub files_left: Vec<PathBuf>,
    /// The number of the `retention.purged` audit entry.
    pub audit_seq: i64,
}

/// Everything due on `now`, kind by kind (every kind listed, with 0 when nothing is due).
pub async fn plan(
    db: &impl ConnectionTrait,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> CoreResult<Vec<Due>> {
    Ok(select(db, schedule, now).await?.due())
}

/// Deletes everything due on `now` in one write transaction, records one `retention.purged`
/// entry with the counts, commits, and only then removes the files of what was deleted.
pub async fn apply(
    db: &Db,
    schedule: &Schedule,
    now: DateTime<Utc>,
    by: By<'_>,
) -> CoreResult<Applied> {
    let txn = db.write().await?;
    let purged = purge(&txn, schedule, now, by).await?;
    txn.commit().await?;
    Ok(purged.remove_files())
}

/// The daily run, at most once per day across every instance and restart: the day is claimed
/// by a conditional update of `retention.last_run_on` in the purge's own transaction, so of two
/// instances one purges and the other finds the day taken (and a failed purge leaves the day
/// unclaimed, to be tried again). `None` when today's run has happened already.
pub async fn run_daily(
    db: &Db,
    files_dir: Option<&Path>,
    now: DateTime<Utc>,
) -> CoreResult<Option<Applied>> {
    let today = now.date_naive().format("%Y-%m-%d").to_string();
    let txn = db.write().await?;
    let inserted = settings::Entity::insert(settings::ActiveModel {
        key: Set(LAST_RUN_ON.to_string()),
        value: Set(String::new()),
    })
    .on_conflict(
        OnConflict::column(settings::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await;
    match inserted {
        Ok(_) | Err(DbErr::RecordNotInserted) => {}
        Err(error) => return Err(error.into()),
    }
    // ISO dates sort as text; a clock moved back never runs a day twice.
    let claimed = settings::Entity::update_many()
        .col_expr(
            settings::Column::Value,
            sea_orm::sea_query::Expr::value(today.clone()),
        )
        .filter(settings::Column::Key.eq(LAST_RUN_ON))
        .filter(settings::Column::Value.lt(today))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(None);
    }
    let mut schedule = Schedule::load(&txn).await?;
    if let Some(dir) = files_dir {
        schedule = schedule.with_files_dir(dir);
    }
    let purged = purge(&txn, &schedule, now, By::System).await?;
    txn.commit().await?;
    Ok(Some(purged.remove_files()))
}

/// What is due, found once and then either counted (`plan`) or deleted (`apply`).
struct Selection {
    sessions: u64,
    sign_ins: u64,
    api_tokens: u64,
    reset_links: u64,
    imports: Vec<PathBuf>,
    mail: Vec<Uuid>,
    cases: Vec<DueCase>,
}

impl Selection {
    fn due(&self) -> Vec<Due> {
        Kind::ALL
            .into_iter()
            .map(|kind| Due {
                kind,
                count: match kind {
                    Kind::Sessions => self.sessions,
                    Kind::SignIns => self.sign_ins,
                    Kind::ApiTokens => self.api_tokens,
                    Kind::ResetLinks => self.reset_links,
                    Kind::Imports => self.imports.len() as u64,
                    Kind::Mail => self.mail.len() as u64,
                    Kind::Cases => self.cases.len() as u64,
                },
                cases: if kind == Kind::Cases {
                    self.cases.clone()
                } else {
                    Vec::new()
                },
            })
            .collect()
    }
}

fn old_sessions(cutoff: DateTime<Utc>) -> Condition {
    Condition::all().add(sessions::Column::LastSeenAt.lt(cutoff))
}

fn old_tokens(cutoff: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(tokens::Column::ExpiresAt.lt(cutoff))
        .add(tokens::Column::RevokedAt.lt(cutoff))
}

fn old_reset_links(cutoff: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(resets::Column::ExpiresAt.lt(cutoff))
        .add(resets::Column::UsedAt.lt(cutoff))
}

/// The authenticator step that was current at `cutoff`: earlier steps are due.
fn step_at(cutoff: DateTime<Utc>) -> i64 {
    cutoff.timestamp().div_euclid(totp::STEP_SECONDS)
}

async fn select(
    db: &impl ConnectionTrait,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> CoreResult<Selection> {
    let sessions = sessions::Entity::find()
        .filter(old_sessions(schedule.cutoff(Kind::Sessions, now)))
        .count(db)
        .await?;
    let sign_in_cutoff = schedule.cutoff(Kind::SignIns, now);
    let sign_ins = sign_in::Entity::find()
        .filter(sign_in::Column::At.lt(sign_in_cutoff))
        .count(db)
        .await?
        + totp::Entity::find()
            .filter(totp::Column::Step.lt(step_at(sign_in_cutoff)))
            .count(db)
            .await?;
    let api_tokens = tokens::Entity::find()
        .filter(old_tokens(schedule.cutoff(Kind::ApiTokens, now)))
        .count(db)
        .await?;
    let reset_links = resets::Entity::find()
        .filter(old_reset_links(schedule.cutoff(Kind::ResetLinks, now)))
        .count(db)
        .await?;
    let imports = match &schedule.files_dir {
        Some(dir) => unfinished_imports(dir, schedule.cutoff(Kind::Imports, now)),
        None => Vec::new(),
    };
    let mail = sent_mail(db, schedule.cutoff(Kind::Mail, now)).await?;
    let cases = cases::due(db, schedule.case_cutoff(now.date_naive())).await?;
    Ok(Selection {
        sessions,
        sign_ins,
        api_tokens,
        reset_links,
        imports,
        mail,
        cases,
    })
}

/// The files an unfinished import left (`import-<id>.json`, see `pages/action_import.rs`),
/// uploaded before `cutoff`; the id is a UUID v7, so it tells when the upload happened.
fn unfinished_imports(files_dir: &Path, cutoff: DateTime<Utc>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(files_dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let id = name.strip_prefix("import-")?.strip_suffix(".json")?;
            let (seconds, nanos) = Uuid::parse_str(id).ok()?.get_timestamp()?.to_unix();
            let uploaded = DateTime::from_timestamp(i64::try_from(seconds).ok()?, nanos)?;
            (uploaded < cutoff).then(|| entry.path())
        })
        .collect();
    found.sort();
    found
}

/// Sent emails older than `cutoff`, except a reminder about an action that is still open:
/// its dedupe key ("overdue:<action>:<due>") is what stops the reminder being queued again.
async fn sent_mail(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> CoreResult<Vec<Uuid>> {
    let old: Vec<(Uuid, String)> = mail::Entity::find()
        .select_only()
        .column(mail::Column::Id)
        .column(mail::Column::DedupeKey)
        .filter(mail::Column::SentAt.lt(cutoff))
        .into_tuple()
        .all(db)
        .await?;
    if old.is_empty() {
        return Ok(Vec::new());
    }
    let open: HashSet<Uuid> = actions::Entity::find()
        .select_only()
        .column(actions::Column::Id)
        .filter(
            actions::Column::Status
                .is_not_in([Status::Completed.as_str(), Status::Closed.as_str()]),
        )
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(old
        .into_iter()
        .filter(|(_, key)| {
            !key.split(':')
                .nth(1)
                .and_then(|id| Uuid::parse_str(id).ok())
                .is_some_and(|id| open.contains(&id))
        })
        .map(|(id, _)| id)
        .collect())
}

/// What a purge deleted and the files to remove once it is committed.
struct Purged {
    due: Vec<Due>,
    files: Vec<PathBuf>,
    audit_seq: i64,
}

impl Purged {
    /// Removes the files of what was deleted. Called after the commit: a rolled-back purge
    /// must not have lost a file. A file already gone counts as removed.
    fn remove_files(self) -> Applied {
        let mut removed = 0;
        let mut left = Vec::new();
        for path in self.files {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => removed += 1,
                Err(error) => {
                    tracing::warn!(file = %path.display(), error = %error, "retention could not remove a file");
                    left.push(path);
                }
            }
        }
        Applied {
            purged: self.due,
            files_removed: removed,
            files_left: left,
            audit_seq: self.audit_seq,
        }
    }
}

/// Deletes what is due, in the caller's write transaction, and appends the audit entry.
async fn purge(
    txn: &impl ConnectionTrait,
    schedule: &Schedule,
    now: DateTime<Utc>,
    by: By<'_>,
) -> CoreResult<Purged> {
    let selection = select(txn, schedule, now).await?;
    let session_cutoff = schedule.cutoff(Kind::Sessions, now);
    // A session's factors first: they refer to it.
    step_up::Entity::delete_many()
        .filter(
            step_up::Column::SessionIdHash.in_subquery(
                Query::select()
                    .column(sessions::Column::IdHash)
                    .from(sessions::Entity)
                    .cond_where(old_sessions(session_cutoff))
                    .to_owned(),
            ),
        )
        .exec(txn)
        .await?;
    sessions::Entity::delete_many()
        .filter(old_sessions(session_cutoff))
        .exec(txn)
        .await?;
    let sign_in_cutoff = schedule.cutoff(Kind::SignIns, now);
    sign_in::Entity::delete_many()
        .filter(sign_in::Column::At.lt(sign_in_cutoff))
        .exec(txn)
        .await?;
    totp::Entity::delete_many()
        .filter(totp::Column::Step.lt(step_at(sign_in_cutoff)))
        .exec(txn)
        .await?;
    tokens::Entity::delete_many()
        .filter(old_tokens(schedule.cutoff(Kind::ApiTokens, now)))
        .exec(txn)
        .await?;
    resets::Entity::delete_many()
        .filter(old_reset_links(schedule.cutoff(Kind::ResetLinks, now)))
        .exec(txn)
        .await?;
    for chunk in selection.mail.chunks(cases::CHUNK) {
        mail::Entity::delete_many()
            .filter(mail::Column::Id.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    let case_ids: Vec<Uuid> = selection.cases.iter().map(|case| case.id).collect();
    let file_ids = cases::purge(txn, &case_ids).await?;
    let due = selection.due();
    let audit_seq = audit::append(
        txn,
        by.event("retention.purged").because(Some(summary(&due))),
        now,
    )
    .await?
    .seq;
    let mut files: Vec<PathBuf> = match &schedule.files_dir {
        Some(dir) => file_ids.iter().map(|id| dir.join(id.to_string())).collect(),
        None => Vec::new(),
    };
    files.extend(selection.imports);
    Ok(Purged {
        due,
        files,
        audit_seq,
    })
}

/// The audit entry's reason: the count of each kind, and the ids of the purged cases (ids,
/// not references or names, like every other entry).
fn summary(due: &[Due]) -> String {
    let counts = due
        .iter()
        .map(|due| format!("{} {}", due.kind.slug(), due.count))
        .collect::<Vec<_>>()
        .join(", ");
    let ids: Vec<String> = due
        .iter()
        .flat_map(|due| due.cases.iter().map(|case| case.id.to_string()))
        .collect();
    if ids.is_empty() {
        counts
    } else {
        format!("{counts}; cases {}", ids.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_slug_a_setting_and_a_default_it_allows() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.slug()), Some(kind));
            assert!(kind.setting_key().starts_with("retention."));
            assert!(kind.allowed().contains(&kind.default_period()));
        }
        assert_eq!(Kind::Cases.describe(7), "7 years");
        assert_eq!(Kind::Imports.describe(1), "1 day");
    }

    #[test]
    fn imports_are_dated_by_their_id() {
        let dir = std::env::temp_dir().join(format!("ll-retention-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let old = Uuid::now_v7();
        std::fs::write(dir.join(format!("import-{old}.json")), b"{}").unwrap();
        std::fs::write(dir.join("notes.txt"), b"").unwrap();
        std::fs::write(dir.join("import-not-an-id.json"), b"").unwrap();
        let now = Utc::now();
        let later = now + chrono::TimeDelta::days(2);
        assert!(unfinished_imports(&dir, now - chrono::TimeDelta::days(1)).is_empty());
        assert_eq!(
            unfinished_imports(&dir, later - chrono::TimeDelta::days(1)),
            vec![dir.join(format!("import-{old}.json"))]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_summary_names_counts_and_case_ids_only() {
        let id = Uuid::nil();
        let due = vec![
            Due {
                kind: Kind::Sessions,
                count: 3,
                cases: Vec::new(),
            },
            Due {
                kind: Kind::Cases,
                count: 1,
                cases: vec![DueCase {
                    id,
                    reference: "N-2019-1".to_string(),
                    closed_on: NaiveDate::MIN,
                }],
            },
        ];
        assert_eq!(summary(&due), format!("sessions 3, cases 1; cases {id}"));
    }
}
