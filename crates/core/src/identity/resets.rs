//! Password reset by a one-time link an administrator issues (no self-service email flow, so
//! nobody can probe which addresses have accounts).

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
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

/// Checks a new password against the rules for the token's person (a read; nothing is
/// spent). The caller then hashes it outside any transaction and calls [`redeem`].
pub async fn check_new_password(
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
    Ok(person)
}

/// Spends the token, sets the new password hash and ends the person's sessions. The token is
/// spent by a conditional update, so of two requests presenting it at once exactly one
/// succeeds; the other gets `NotFound`, as for a used or expired link.
pub async fn redeem(
    db: &impl ConnectionTrait,
    secret: &str,
    new_password_hash: String,
    now: DateTime<Utc>,
) -> CoreResult<people::Person> {
    let token_hash = secrets::sha256_hex(secret);
    let spent = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::TokenHash.eq(token_hash.clone()))
        .filter(Column::UsedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if spent.rows_affected != 1 {
        return Err(CoreError::NotFound);
    }
    let row = Entity::find_by_id(token_hash)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    let person = people::get(db, row.person_id).await?;
    if !person.active {
        return Err(CoreError::NotFound);
    }
    credentials::set_password_hash(db, person.id, new_password_hash, now).await?;
    sessions::end_all_for(db, person.id).await?;
    // Tokens were made under the old password, which may be known to someone else.
    crate::tokens::revoke_all_for(db, person.id, now).await?;
    Ok(person)
}
