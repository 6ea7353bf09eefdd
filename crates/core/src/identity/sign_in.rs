//! Sign-in with email and password. Unknown people and wrong passwords get the same answer in
//! the same time. Failures are counted in the database, so the limits hold across instances:
//! 10 for one address (or one person's second factor) in 5 minutes, and a configurable number
//! (30 by default) from one client network address across every account.
//!
//! An attempt is recorded as a failure *before* it is checked (a [`Reservation`]) and turned
//! into a success afterwards, so concurrent attempts cannot all count the same old total and
//! slip past the limit together.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, PaginatorTrait, Set};

use super::credentials;
use super::passwords::HashingPool;
use super::secrets::{self, ServerKey};
use crate::Db;
use crate::error::CoreResult;
use crate::people;

pub const MAX_FAILURES: u64 = 10;
pub const MAX_FAILURES_PER_CLIENT: u64 = 30;
pub const WINDOW: TimeDelta = TimeDelta::minutes(5);

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// A keyed hash of the lower-cased address (or of a person's second factor): attempts on
    /// unknown addresses store no address.
    pub email_key: String,
    pub succeeded: bool,
    pub at: DateTime<Utc>,
    /// The client's network address.
    pub source: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// How many failures within [`WINDOW`] are allowed before attempts are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// For one email address, or one person's second factor.
    pub per_key: u64,
    /// From one client address, across every account.
    pub per_client: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_key: MAX_FAILURES,
            per_client: MAX_FAILURES_PER_CLIENT,
        }
    }
}

/// Why an attempt was refused without being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    /// Too many failures for this address or person.
    Account,
    /// Too many failures from this client address.
    Client,
}

/// An attempt already counted as a failure; [`settle`] records its real result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Reservation {
    id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The password is right; the person may still need their second factor.
    PasswordAccepted(people::Person, Reservation),
    /// Unknown address, wrong password, disabled person or no password set: one answer.
    Refused(Reservation),
    /// Too many failures recently; the password was not checked.
    Throttled(Throttled),
    /// Every password-hashing slot stayed busy; nothing was checked or counted.
    Busy,
}

/// The key sign-in attempts on an address are counted under.
pub fn email_key(server_key: &ServerKey, email: &str) -> String {
    server_key.keyed_hex("sign-in email", &email.trim().to_lowercase())
}

/// The key second-factor attempts of a person are counted under.
pub fn second_factor_key(person_id: Uuid) -> String {
    secrets::sha256_hex(&format!("second-factor:{person_id}"))
}

pub async fn recent_failures(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
) -> CoreResult<u64> {
    Ok(Entity::find()
        .filter(Column::EmailKey.eq(key))
        .filter(Column::Succeeded.eq(false))
        .filter(Column::At.gt(now - WINDOW))
        .count(db)
        .await?)
}

pub async fn recent_failures_from(
    db: &impl ConnectionTrait,
    source: &str,
    now: DateTime<Utc>,
) -> CoreResult<u64> {
    Ok(Entity::find()
        .filter(Column::Source.eq(source))
        .filter(Column::Succeeded.eq(false))
        .filter(Column::At.gt(now - WINDOW))
        .count(db)
        .await?)
}

/// Counts an attempt as a failure, then checks the limits including it. Call it on the
/// connection pool, outside any transaction: the row must be visible to concurrent attempts
/// (on every instance) before they count, so at most the limit of them get through.
pub async fn reserve(
    db: &impl ConnectionTrait,
    key: &str,
    source: Option<&str>,
    limits: Limits,
    now: DateTime<Utc>,
) -> CoreResult<Result<Reservation, Throttled>> {
    let id = Uuid::now_v7();
    Entity::insert(ActiveModel {
        id: Set(id),
        email_key: Set(key.to_string()),
        succeeded: Set(false),
        at: Set(now),
        source: Set(source.map(str::to_string)),
    })
    .exec_without_returning(db)
    .await?;
    let throttled = if recent_failures(db, key, now).await? > limits.per_key {
        Some(Throttled::Account)
    } else {
        match source {
            Some(source) if recent_failures_from(db, source, now).await? > limits.per_client => {
                Some(Throttled::Client)
            }
            _ => None,
        }
    };
    match throttled {
        Some(reason) => {
            // A refused attempt is not counted, so the window ends 5 minutes after the last
            // real failure even while someone keeps knocking.
            release(db, Reservation { id }).await?;
            Ok(Err(reason))
        }
        None => Ok(Ok(Reservation { id })),
    }
}

/// Records the attempt's result (a failure is already recorded).
pub async fn settle(
    db: &impl ConnectionTrait,
    reservation: &Reservation,
    succeeded: bool,
) -> CoreResult<()> {
    if succeeded {
        Entity::update_many()
            .col_expr(Column::Succeeded, Expr::value(true))
            .filter(Column::Id.eq(reservation.id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Forgets an attempt that was never checked.
pub async fn release(db: &impl ConnectionTrait, reservation: Reservation) -> CoreResult<()> {
    Entity::delete_by_id(reservation.id).exec(db).await?;
    Ok(())
}

/// Checks an email and password. The attempt is counted before the check; the caller records
/// the result with [`settle`] in the transaction that acts on it. Holds no transaction while
/// argon2 runs.
#[allow(clippy::too_many_arguments)]
pub async fn attempt(
    db: &Db,
    hashing: &HashingPool,
    server_key: &ServerKey,
    limits: Limits,
    email: &str,
    password: &str,
    source: Option<&str>,
    now: DateTime<Utc>,
) -> CoreResult<Outcome> {
    let key = email_key(server_key, email);
    let reservation = match reserve(db.conn(), &key, source, limits, now).await? {
        Ok(reservation) => reservation,
        Err(reason) => return Ok(Outcome::Throttled(reason)),
    };
    let (person, stored_hash) = {
        let txn = db.read().await?;
        let person = people::find_by_email(&txn, email).await?;
        let stored_hash = match &person {
            Some(person) => credentials::get(&txn, person.id)
                .await?
                .and_then(|row| row.password_hash),
            None => None,
        };
        txn.commit().await?;
        (person, stored_hash)
    };
    let Ok(matches) = hashing.verify(password, stored_hash).await else {
        release(db.conn(), reservation).await?;
        return Ok(Outcome::Busy);
    };
    Ok(match person {
        Some(person) if matches && person.active => Outcome::PasswordAccepted(person, reservation),
        _ => Outcome::Refused(reservation),
    })
}
