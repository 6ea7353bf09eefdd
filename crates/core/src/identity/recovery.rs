//! Recovery codes: ten one-use codes given at second-factor enrolment, for when the
//! authenticator is lost. Stored as hashes.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use super::secrets;
use crate::error::CoreResult;

pub const COUNT: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recovery_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub code_hash: String,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

/// Replaces the person's codes with ten new ones and returns them (shown once).
pub async fn issue(db: &impl ConnectionTrait, person_id: Uuid) -> CoreResult<Vec<String>> {
    Entity::delete_many()
        .filter(Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    let mut codes = Vec::with_capacity(COUNT);
    for _ in 0..COUNT {
        let raw = secrets::random_hex(5);
        let shown = format!("{}-{}", &raw[..5], &raw[5..]);
        Entity::insert(ActiveModel {
            id: Set(Uuid::now_v7()),
            person_id: Set(person_id),
            code_hash: Set(secrets::sha256_hex(&normalise(&shown))),
            used_at: Set(None),
        })
        .exec_without_returning(db)
        .await?;
        codes.push(shown);
    }
    Ok(codes)
}

/// Spends a recovery code: true only the first time.
pub async fn redeem(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    code: &str,
    now: DateTime<Utc>,
) -> CoreResult<bool> {
    let hash = secrets::sha256_hex(&normalise(code));
    let Some(row) = Entity::find()
        .filter(Column::PersonId.eq(person_id))
        .filter(Column::CodeHash.eq(hash))
        .filter(Column::UsedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let mut active: ActiveModel = row.into();
    active.used_at = Set(Some(now));
    active.update(db).await?;
    Ok(true)
}
