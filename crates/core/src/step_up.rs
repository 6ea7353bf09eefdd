//! SECURITY-SENSITIVE. Step-up: the authenticator code asked again before something that
//! cannot be taken back or that carries case data away (publication, exports, a new API
//! token), and the record of which sessions passed a second factor at all.
//!
//! Wrong step-up codes count with the sign-in second-factor failures of the same person (one
//! key in `login_attempts`), so guessing is limited to 10 codes in 5 minutes across both forms
//! and every instance. Every attempt is audited. A successful step-up is remembered on the
//! session for [`REMEMBERED_FOR`], so several downloads in a row ask once.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, Set};

use crate::Db;
use crate::access::Actor;
use crate::audit;
use crate::error::CoreResult;
use crate::identity::{credentials, sign_in, totp};
use crate::tokens;

/// How long a successful step-up is remembered on the session.
pub const REMEMBERED_FOR: TimeDelta = TimeDelta::minutes(5);

/// What a session has proved beyond the password. The row goes with its session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_id_hash: String,
    /// When this session passed the second factor at sign-in; `None` for a session that
    /// signed in with the password alone (someone whose roles did not need a second factor).
    pub second_factor_at: Option<DateTime<Utc>>,
    /// When the authenticator code was last asked again and given right.
    pub step_up_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Why the code is asked again, recorded as the audit entry's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A download of case, action or learning data, or of one's own activity.
    Export,
    /// Creating an API token.
    ApiToken,
    /// Publishing a review.
    Publication,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Export => "export",
            Purpose::ApiToken => "api_token",
            Purpose::Publication => "publication",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    /// Wrong or already used code (counted and audited).
    Refused,
    /// Nothing entered: not an attempt, so neither counted nor audited.
    Empty,
    /// Too many failures in the window: refused whatever the code (audited).
    Locked,
    /// The person has no confirmed second factor, so there is nothing to ask.
    NotEnrolled,
}

/// Records that the session has just passed the second factor (the sign-in step), and lifts
/// any suspension of the person's API tokens.
pub async fn second_factor_passed(
    db: &impl ConnectionTrait,
    session_id_hash: &str,
    person_id: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    upsert(db, session_id_hash, Column::SecondFactorAt, now).await?;
    tokens::resume_all_for(db, person_id).await?;
    Ok(())
}

/// Whether the session passed a second factor at sign-in.
pub async fn session_passed_second_factor(
    db: &impl ConnectionTrait,
    session_id_hash: &str,
) -> CoreResult<bool> {
    Ok(Entity::find_by_id(session_id_hash.to_string())
        .one(db)
        .await?
        .is_some_and(|row| row.second_factor_at.is_some()))
}

/// Whether the session stepped up within the last [`REMEMBERED_FOR`].
pub async fn is_recent(
    db: &impl ConnectionTrait,
    session_id_hash: &str,
    now: DateTime<Utc>,
) -> CoreResult<bool> {
    Ok(Entity::find_by_id(session_id_hash.to_string())
        .one(db)
        .await?
        .and_then(|row| row.step_up_at)
        .is_some_and(|at| at <= now && now - at < REMEMBERED_FOR))
}

/// Remembers a successful step-up on the session.
pub async fn remember(
    db: &impl ConnectionTrait,
    session_id_hash: &str,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    upsert(db, session_id_hash, Column::StepUpAt, now).await
}

async fn upsert(
    db: &impl ConnectionTrait,
    session_id_hash: &str,
    column: Column,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    let mut row = ActiveModel {
        session_id_hash: Set(session_id_hash.to_string()),
        second_factor_at: Set(None),
        step_up_at: Set(None),
    };
    match column {
        Column::SecondFactorAt => row.second_factor_at = Set(Some(now)),
        _ => row.step_up_at = Set(Some(now)),
    }
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::SessionIdHash)
                .update_column(column)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Checks an authenticator code asked again, counts a failure with the person's second-factor
/// failures, audits the attempt and, on success, remembers it on the session (when there is
/// one). The code is spent: it works once. Runs its own transactions, committed whatever the
/// outcome, so a failure is never rolled back with the action it guarded.
#[allow(clippy::too_many_arguments)]
pub async fn verify(
    db: &Db,
    limits: sign_in::Limits,
    actor: &Actor,
    session_id_hash: Option<&str>,
    code: &str,
    purpose: Purpose,
    source: Option<String>,
    now: DateTime<Utc>,
) -> CoreResult<Outcome> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(Outcome::Empty);
    }
    let person_id = actor.person_id;
    let event = |action: &str, outcome: &str| {
        audit::Event::new(action, outcome)
            .by(actor)
            .on("person", person_id)
            .from_source(source.clone())
            .because(Some(purpose.as_str().to_string()))
    };
    let key = sign_in::second_factor_key(person_id);
    // Counted as a failure before it is checked, outside any transaction, so that concurrent
    // guesses (on any instance) all see each other.
    let reservation =
        match sign_in::reserve(db.conn(), &key, source.as_deref(), limits, now).await? {
            Ok(reservation) => reservation,
            Err(_) => {
                let txn = db.write().await?;
                audit::append(&txn, event("step_up.throttled", "denied"), now).await?;
                txn.commit().await?;
                return Ok(Outcome::Locked);
            }
        };
    let txn = db.write().await?;
    let Some(secret) = credentials::get(&txn, person_id)
        .await?
        .filter(credentials::Model::has_second_factor)
        .and_then(|row| row.totp_secret)
    else {
        txn.rollback().await?;
        sign_in::release(db.conn(), reservation).await?;
        return Ok(Outcome::NotEnrolled);
    };
    let accepted = totp::verify_once(&txn, person_id, &secret, code, now).await?;
    sign_in::settle(&txn, &reservation, accepted).await?;
    let outcome = if accepted {
        // Passing the second factor again lifts a suspension of the person's tokens too.
        tokens::resume_all_for(&txn, person_id).await?;
        if let Some(id_hash) = session_id_hash {
            remember(&txn, id_hash, now).await?;
        }
        audit::append(&txn, event("step_up.succeeded", "succeeded"), now).await?;
        Outcome::Accepted
    } else {
        audit::append(&txn, event("step_up.failed", "failed"), now).await?;
        Outcome::Refused
    };
    txn.commit().await?;
    Ok(outcome)
}
