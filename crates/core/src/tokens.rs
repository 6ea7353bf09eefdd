//! Personal API tokens: shown once when created, stored only as a SHA-256 hash, with an expiry,
//! revocable. A token acts as its owner, and only while its owner has a second factor: a token
//! is a password that never meets the second factor, so it must not outrank one. A grant that
//! adds case access suspends the owner's tokens until they next pass their second factor, and a
//! password reset revokes them.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};
use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};
use crate::identity::credentials;
use crate::{FieldError, people, validate};

const PREFIX: &str = "ll_";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub label: String,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Set when a grant added case access; cleared when the owner next passes a second factor.
    pub suspended_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let body: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{PREFIX}{body}")
}

/// What a token is now, for its owner's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Suspended,
    Expired,
    Revoked,
}

impl Model {
    pub fn status(&self, now: DateTime<Utc>) -> Status {
        if self.revoked_at.is_some() {
            Status::Revoked
        } else if self.expires_at <= now {
            Status::Expired
        } else if self.suspended_at.is_some() {
            Status::Suspended
        } else {
            Status::Active
        }
    }
}

async fn has_second_factor(db: &impl ConnectionTrait, person_id: Uuid) -> CoreResult<bool> {
    Ok(credentials::get(db, person_id)
        .await?
        .is_some_and(|row| row.has_second_factor()))
}

/// Creates a token for the person and returns its record and the secret, which is never
/// stored and cannot be shown again. Refused for someone without a second factor.
pub async fn create(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    label: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> CoreResult<(Model, String)> {
    let mut errors = Vec::new();
    let label = validate::required_text("label", label, 100, &mut errors);
    if expires_at <= now {
        errors.push(FieldError::new(
            "expires_at",
            "The expiry must be in the future",
        ));
    }
    people::get(db, person_id).await?;
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    if !has_second_factor(db, person_id).await? {
        return Err(CoreError::Conflict(
            "API tokens are only for people who have set up a second factor".to_string(),
        ));
    }
    let secret = generate();
    let model = Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(person_id),
        label: Set(label),
        token_hash: Set(hash(&secret)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        suspended_at: Set(None),
    })
    .exec_with_returning(db)
    .await?;
    Ok((model, secret))
}

/// The active person a presented token belongs to, or `None` when the token is unknown,
/// expired, revoked or suspended, or its owner is disabled or has no second factor.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    presented: &str,
    now: DateTime<Utc>,
) -> CoreResult<Option<people::Person>> {
    if !presented.starts_with(PREFIX) {
        return Ok(None);
    }
    let Some(token) = Entity::find()
        .filter(Column::TokenHash.eq(hash(presented)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if token.status(now) != Status::Active || !has_second_factor(db, token.person_id).await? {
        return Ok(None);
    }
    let person = people::get(db, token.person_id).await?;
    Ok(person.active.then_some(person))
}

/// The person's tokens, newest first (revoked and expired ones included).
pub async fn of_person(db: &impl ConnectionTrait, person_id: Uuid) -> CoreResult<Vec<Model>> {
    use sea_orm::QueryOrder;
    Ok(Entity::find()
        .filter(Column::PersonId.eq(person_id))
        .order_by_desc(Column::CreatedAt)
        .all(db)
        .await?)
}

/// Revokes the token; revoking it again changes nothing.
pub async fn revoke(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> CoreResult<()> {
    let token = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    if token.revoked_at.is_none() {
        let mut active: ActiveModel = token.into();
        active.revoked_at = Set(Some(now));
        active.update(db).await?;
    }
    Ok(())
}

/// Suspends the person's live tokens (a grant added case access); returns how many.
pub async fn suspend_all_for(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<u64> {
    Ok(Entity::update_many()
        .col_expr(Column::SuspendedAt, Expr::value(Some(now)))
        .filter(Column::PersonId.eq(person_id))
        .filter(Column::RevokedAt.is_null())
        .filter(Column::SuspendedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Lifts the suspension of the person's tokens: they have just passed their second factor.
pub async fn resume_all_for(db: &impl ConnectionTrait, person_id: Uuid) -> CoreResult<u64> {
    Ok(Entity::update_many()
        .col_expr(
            Column::SuspendedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::PersonId.eq(person_id))
        .filter(Column::SuspendedAt.is_not_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Revokes every token of the person (their password was reset); returns how many.
pub async fn revoke_all_for(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<u64> {
    Ok(Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(Some(now)))
        .filter(Column::PersonId.eq(person_id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_are_hex() {
        let first = generate();
        let second = generate();
        assert_ne!(first, second);
        assert!(first.starts_with(PREFIX));
        assert_eq!(hash(&first).len(), 64);
        assert_ne!(hash(&first), hash(&second));
    }
}
