//! Password reset by a one-time link an administrator issues (no self-service email flow, so
//! nobody can probe which addresses have accounts).

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use super::{credentials, passwords, secrets, sessions};
use crate::error::{CoreError, CoreResult};
use crate::people;

pub const VALID_FOR: TimeDelta = TimeDelta::hours(24);

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "password_resets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub person_id: Uuid,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Issues a reset token for the person; returns the secret for the link.
pub async fn issue(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    people::get(db, person_id).await?;
    let secret = secrets::random_hex(32);
    Entity::insert(ActiveModel {
        token_hash: Set(secrets::sha256_hex(&secret)),
        person_id: Set(person_id),
        created_by: Set(created_by),
        created_at: Set(now),
        expires_at: Set(now + VALID_FOR),
        used_at: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(secret)
}

/// The person a live, unused token belongs to.
pub async fn person_for(
    db: &impl ConnectionTrait,
    secret: &str,
    now: DateTime<Utc>,
) -> CoreResult<Option<people::Person>> {
    let Some(row) = Entity::find_by_id(secrets::sha256_hex(secret))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.used_at.is_some() || row.expires_at <= now {
        return Ok(None);
    }
    let person = people::get(db, row.person_id).await?;
    Ok(person.active.then_some(person))
}

/// Sets the new password, spends the token, and ends the person's sessions.
pub async fn redeem(
    db: &impl ConnectionTrait,
    secret: &str,
    new_password: &str,
    now: DateTime<Utc>,
) -> CoreResult<people::Person> {
    let person = person_for(db, secret, now)
        .await?
        .ok_or(CoreError::NotFound)?;
    passwords::check_new("password", new_password, &person.email)
        .map_err(|error| CoreError::Invalid(vec![error]))?;
    let hash = passwords::hash(new_password).map_err(CoreError::Conflict)?;
    credentials::set_password_hash(db, person.id, hash, now).await?;
    let row = Entity::find_by_id(secrets::sha256_hex(secret))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    let mut active: ActiveModel = row.into();
    active.used_at = Set(Some(now));
    active.update(db).await?;
    sessions::end_all_for(db, person.id).await?;
    Ok(person)
}
