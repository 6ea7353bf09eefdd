//! Sign-in with email and password. Unknown people and wrong passwords get the same answer in
//! the same time; after 10 failures for one address in 5 minutes the address is throttled.
//! Attempts are counted in the database, so the limit holds across instances.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, Set};

use super::{credentials, passwords, secrets};
use crate::error::CoreResult;
use crate::people;

pub const MAX_FAILURES: u64 = 10;
pub const WINDOW: TimeDelta = TimeDelta::minutes(5);

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// SHA-256 of the lower-cased address: attempts on unknown addresses store no address.
    pub email_key: String,
    pub succeeded: bool,
    pub at: DateTime<Utc>,
    pub source: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The password is right; the person may still need their second factor.
    PasswordAccepted(people::Person),
    /// Unknown address, wrong password, disabled person or no password set: one answer.
    Refused,
    /// Too many failures for this address recently.
    Throttled,
}

pub fn email_key(email: &str) -> String {
    secrets::sha256_hex(&email.trim().to_lowercase())
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

/// Records an attempt against a key (an address, or a person's second factor).
pub async fn record(
    db: &impl ConnectionTrait,
    key: &str,
    succeeded: bool,
    source: Option<String>,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        email_key: Set(key.to_string()),
        succeeded: Set(succeeded),
        at: Set(now),
        source: Set(source),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The key second-factor attempts of a person are counted under.
pub fn second_factor_key(person_id: Uuid) -> String {
    secrets::sha256_hex(&format!("second-factor:{person_id}"))
}

/// Checks an email and password and records the attempt.
pub async fn attempt(
    db: &impl ConnectionTrait,
    email: &str,
    password: &str,
    source: Option<String>,
    now: DateTime<Utc>,
) -> CoreResult<Outcome> {
    let key = email_key(email);
    if recent_failures(db, &key, now).await? >= MAX_FAILURES {
        // Spend the same time as a real check, so throttling is not a timing oracle either.
        passwords::verify_against_nothing(password);
        return Ok(Outcome::Throttled);
    }
    let person = people::find_by_email(db, email).await?;
    let stored_hash = match &person {
        Some(person) => credentials::get(db, person.id)
            .await?
            .and_then(|row| row.password_hash),
        None => None,
    };
    let accepted = match (&person, stored_hash) {
        (Some(person), Some(hash)) => passwords::verify(password, &hash) && person.active,
        _ => {
            passwords::verify_against_nothing(password);
            false
        }
    };
    record(db, &key, accepted, source, now).await?;
    Ok(match (accepted, person) {
        (true, Some(person)) => Outcome::PasswordAccepted(person),
        _ => Outcome::Refused,
    })
}
