//! A person's password hash and second-factor secret.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use crate::error::CoreResult;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    pub password_hash: Option<String>,
    pub password_set_at: Option<DateTime<Utc>>,
    /// Base32 TOTP secret; confirmed once the person has entered a code from it.
    pub totp_secret: Option<String>,
    pub totp_confirmed_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn has_second_factor(&self) -> bool {
        self.totp_secret.is_some() && self.totp_confirmed_at.is_some()
    }
}

pub async fn get(db: &impl ConnectionTrait, person_id: Uuid) -> CoreResult<Option<Model>> {
    Ok(Entity::find_by_id(person_id).one(db).await?)
}

/// Returns the person's credentials row, creating an empty one first if needed.
pub async fn ensure(db: &impl ConnectionTrait, person_id: Uuid) -> CoreResult<Model> {
    if let Some(existing) = get(db, person_id).await? {
        return Ok(existing);
    }
    Ok(Entity::insert(ActiveModel {
        person_id: Set(person_id),
        password_hash: Set(None),
        password_set_at: Set(None),
        totp_secret: Set(None),
        totp_confirmed_at: Set(None),
    })
    .exec_with_returning(db)
    .await?)
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    hash: String,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    let mut row: ActiveModel = ensure(db, person_id).await?.into();
    row.password_hash = Set(Some(hash));
    row.password_set_at = Set(Some(now));
    row.update(db).await?;
    Ok(())
}

/// Stores a new, unconfirmed second-factor secret (enrolment starts again).
pub async fn set_totp_secret(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    secret: &str,
) -> CoreResult<()> {
    let mut row: ActiveModel = ensure(db, person_id).await?.into();
    row.totp_secret = Set(Some(secret.to_string()));
    row.totp_confirmed_at = Set(None);
    row.update(db).await?;
    Ok(())
}

pub async fn confirm_totp(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    let mut row: ActiveModel = ensure(db, person_id).await?.into();
    row.totp_confirmed_at = Set(Some(now));
    row.update(db).await?;
    Ok(())
}
