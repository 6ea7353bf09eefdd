//! SECURITY-SENSITIVE. A viewer: who is reading or changing case content, from where, and
//! when. Every domain opens its records for a viewer: it asks `access::can`, and `settle`
//! records the decision, allowed or denied, in the audit journal before anything of the record
//! is returned. A denial's entry is durable even though the request then fails.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::access::Actor;
use crate::audit::{self, journal::Journal};
use crate::error::{CoreError, CoreResult};

/// Who reads, from which address, at what time (the request's clock).
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub actor: &'a Actor,
    pub source: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// What a decision was about: the audit action ("case.view") and the record.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub action: &'a str,
    pub record_type: &'a str,
    pub record_id: Uuid,
}

impl<'a> Subject<'a> {
    pub fn new(action: &'a str, record_type: &'a str, record_id: Uuid) -> Self {
        Subject {
            action,
            record_type,
            record_id,
        }
    }
}

impl Viewer<'_> {
    /// The audit entry of this viewer's act.
    pub fn event(&self, action: &str, outcome: &str) -> audit::Event {
        audit::Event::new(action, outcome)
            .by(self.actor)
            .from_source(self.source.map(str::to_string))
    }

    /// The audit entry of this viewer's act on one record.
    pub fn event_on(&self, subject: Subject<'_>, outcome: &str) -> audit::Event {
        self.event(subject.action, outcome)
            .on(subject.record_type, subject.record_id)
    }

    /// Records the outcome of an access decision and returns it. A record that does not exist
    /// at all is not recorded (there is nothing to protect).
    ///
    /// - `Recording::Journal`: a read. The record is returned once its "allowed" entry is
    ///   durable, the refusal once its "denied" entry is.
    /// - `Recording::InTransaction`: a change, whose write transaction is `db`. The "allowed"
    ///   entry is appended there (atomic with the change); a refusal comes back as
    ///   `CoreError::Refused` carrying its entry, which the web layer records after the
    ///   transaction is rolled back.
    pub async fn settle<T>(
        &self,
        db: &impl ConnectionTrait,
        recording: Recording<'_>,
        subject: Subject<'_>,
        decision: CoreResult<Decision<T>>,
    ) -> CoreResult<T> {
        match (decision?, recording) {
            (Decision::Allowed(record), Recording::Journal(journal)) => {
                journal
                    .record(self.event_on(subject, "allowed"), self.now)
                    .await?;
                Ok(record)
            }
            (Decision::Allowed(record), Recording::RefusalsOnly(_)) => Ok(record),
            (
                Decision::Denied(refusal),
                Recording::Journal(journal) | Recording::RefusalsOnly(journal),
            ) => {
                journal
                    .record(self.event_on(subject, "denied"), self.now)
                    .await?;
                Err(refusal)
            }
            (Decision::Allowed(record), Recording::InTransaction) => {
                audit::append(db, self.event_on(subject, "allowed"), self.now).await?;
                Ok(record)
            }
            (Decision::Denied(refusal), Recording::InTransaction) => Err(CoreError::Refused {
                answer: Box::new(refusal),
                entry: Box::new(self.event_on(subject, "denied")),
            }),
        }
    }

    /// Inside a change's transaction: `Ok` when `allowed`, otherwise a refusal answering 403
    /// with `message`, carrying the "denied" entry of `subject`.
    pub fn require(&self, allowed: bool, subject: Subject<'_>, message: &str) -> CoreResult<()> {
        if allowed {
            Ok(())
        } else {
            Err(CoreError::Refused {
                answer: Box::new(CoreError::Forbidden(message.to_string())),
                entry: Box::new(self.event_on(subject, "denied")),
            })
        }
    }

    /// Records an allowed read that is not of one record (a list, a search, the dashboard).
    pub async fn record(&self, journal: &Journal, action: &str) -> CoreResult<()> {
        journal
            .record(self.event(action, "allowed"), self.now)
            .await?;
        Ok(())
    }
}

/// Where an access decision is recorded.
#[derive(Debug, Clone, Copy)]
pub enum Recording<'a> {
    /// A read: the audit journal, durable before the record is returned.
    Journal(&'a Journal),
    /// A change: the write transaction the record was opened in.
    InTransaction,
    /// A check before a longer request (an upload is read only after it): a refusal is
    /// recorded in the journal; an allowed read is not, the change records it later.
    RefusalsOnly(&'a Journal),
}

/// The answer of an access check: the record, or the error to answer with (`NotFound` for a
/// record the viewer may not know exists, `Forbidden` for one they see but may not change).
#[derive(Debug)]
pub enum Decision<T> {
    Allowed(T),
    Denied(CoreError),
}

impl<T> Decision<T> {
    /// Allowed when `allowed`, otherwise answered as not found.
    pub fn hidden_unless(allowed: bool, record: T) -> Self {
        if allowed {
            Decision::Allowed(record)
        } else {
            Decision::Denied(CoreError::NotFound)
        }
    }
}
