//! Email, through an outbox kept in the database: reminders and digests are queued with a
//! dedupe key (so two instances scanning at once queue one email), then workers claim each
//! email with a conditional update (so one instance sends it), send it, and mark it sent;
//! a failure is retried later with a growing delay. Logs carry ids, never addresses or names.

pub mod smtp;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{Condition, ConnectionTrait, QueryOrder, QuerySelect, Set};

use crate::error::CoreResult;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// What makes this email unique ("overdue:<action>:<due date>").
    pub dedupe_key: String,
    pub kind: String,
    pub to_person_id: Option<Uuid>,
    pub to_email: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub claimed_by: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// An email to queue.
pub struct Email<'a> {
    pub dedupe_key: &'a str,
    pub kind: &'a str,
    pub to_person_id: Option<Uuid>,
    pub to_email: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Queues an email unless one with the same dedupe key was ever queued; true when queued.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    email: Email<'_>,
    now: DateTime<Utc>,
) -> CoreResult<bool> {
    let result = Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        dedupe_key: Set(email.dedupe_key.to_string()),
        kind: Set(email.kind.to_string()),
        to_person_id: Set(email.to_person_id),
        to_email: Set(email.to_email.to_string()),
        subject: Set(email.subject.to_string()),
        body: Set(email.body.to_string()),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        claimed_by: Set(None),
        sent_at: Set(None),
        last_error: Set(None),
    })
    .on_conflict(
        OnConflict::column(Column::DedupeKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await;
    match result {
        Ok(rows) => Ok(rows > 0),
        Err(DbErr::RecordNotInserted) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// One email as a mailer sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub outbox_id: Uuid,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// How emails leave.
#[derive(Clone)]
pub enum Mailer {
    /// Development: the email stays in the outbox page and the log records its id.
    Log,
    /// Through an SMTP relay.
    Smtp(smtp::Relay),
    /// Tests: kept in memory to count.
    Memory(Arc<Mutex<Vec<Sent>>>),
}

impl Mailer {
    async fn send(&self, email: &Model, from: &str) -> Result<(), String> {
        match self {
            Mailer::Log => {
                tracing::info!(outbox_id = %email.id, kind = %email.kind, "email ready (log mailer: not sent anywhere)");
                Ok(())
            }
            Mailer::Smtp(relay) => {
                relay
                    .send(from, &email.to_email, &email.subject, &email.body)
                    .await
            }
            Mailer::Memory(sent) => {
                sent.lock()
                    .map_err(|_| "the test mailbox is poisoned".to_string())?
                    .push(Sent {
                        outbox_id: email.id,
                        to: email.to_email.clone(),
                        subject: email.subject.clone(),
                        body: email.body.clone(),
                    });
                Ok(())
            }
        }
    }
}

/// Claims and sends up to `batch` due emails; returns how many this worker sent.
pub async fn deliver(
    db: &impl ConnectionTrait,
    mailer: &Mailer,
    from: &str,
    worker: &str,
    now: DateTime<Utc>,
    batch: u64,
) -> CoreResult<usize> {
    let claimable = || {
        Condition::all()
            .add(Column::SentAt.is_null())
            .add(Column::NextAttemptAt.lte(now))
            .add(Column::Attempts.lt(10))
            .add(
                Condition::any()
                    .add(Column::ClaimedUntil.is_null())
                    .add(Column::ClaimedUntil.lt(now)),
            )
    };
    let candidates: Vec<Uuid> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(claimable())
        .order_by_asc(Column::NextAttemptAt)
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    let mut sent = 0;
    for id in candidates {
        // The claim is one conditional update: of two workers, only one changes the row.
        let claimed = Entity::update_many()
            .col_expr(
                Column::ClaimedUntil,
                sea_orm::sea_query::Expr::value(now + TimeDelta::minutes(5)),
            )
            .col_expr(
                Column::ClaimedBy,
                sea_orm::sea_query::Expr::value(worker.to_string()),
            )
            .filter(Column::Id.eq(id))
            .filter(claimable())
            .exec(db)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let Some(email) = Entity::find_by_id(id).one(db).await? else {
            continue;
        };
        let mut active: ActiveModel = email.clone().into();
        active.claimed_until = Set(None);
        match mailer.send(&email, from).await {
            Ok(()) => {
                active.sent_at = Set(Some(now));
                active.attempts = Set(email.attempts + 1);
                active.update(db).await?;
                tracing::info!(outbox_id = %id, kind = %email.kind, "email sent");
                sent += 1;
            }
            Err(error) => {
                let attempts = email.attempts + 1;
                active.attempts = Set(attempts);
                active.last_error = Set(Some(error.chars().take(500).collect()));
                active.next_attempt_at = Set(now
                    + TimeDelta::minutes(2_i64.pow(u32::try_from(attempts.min(10)).unwrap_or(10))));
                active.update(db).await?;
                tracing::warn!(outbox_id = %id, attempts, "email not sent; will retry");
            }
        }
    }
    Ok(sent)
}

/// The outbox, newest first, a page at a time.
pub async fn recent(
    db: &impl ConnectionTrait,
    offset: u64,
    limit: u64,
) -> CoreResult<(Vec<Model>, u64)> {
    let total = Entity::find().count(db).await?;
    let rows = Entity::find()
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows, total))
}
