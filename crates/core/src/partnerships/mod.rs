//! Partnerships: the statutory bodies (a children's safeguarding partnership, a safeguarding
//! adults board, a community safety partnership) that one partnership team serves.

pub mod entity;

use chrono::Utc;
use sea_orm::sea_query::StringLen;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};
pub use entity::Model as Partnership;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum PartnershipKind {
    /// A children's safeguarding partnership (Children Act 2004, Working Together).
    #[sea_orm(string_value = "children")]
    Children,
    /// A safeguarding adults board (Care Act 2014).
    #[sea_orm(string_value = "adults")]
    Adults,
    /// A community safety partnership, which commissions domestic homicide reviews.
    #[sea_orm(string_value = "community_safety")]
    CommunitySafety,
}

impl PartnershipKind {
    pub fn label(self) -> &'static str {
        match self {
            PartnershipKind::Children => "Children's safeguarding partnership",
            PartnershipKind::Adults => "Safeguarding adults board",
            PartnershipKind::CommunitySafety => "Community safety partnership",
        }
    }
}

pub async fn list(db: &impl ConnectionTrait) -> CoreResult<Vec<Partnership>> {
    Ok(entity::Entity::find()
        .order_by_asc(entity::Column::Name)
        .all(db)
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<Partnership> {
    entity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}

pub async fn find_by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> CoreResult<Option<Partnership>> {
    Ok(entity::Entity::find()
        .filter(entity::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// Returns the partnership with this code, creating it when it does not exist yet.
pub async fn ensure(
    db: &impl ConnectionTrait,
    code: &str,
    name: &str,
    kind: PartnershipKind,
) -> CoreResult<Partnership> {
    if let Some(existing) = find_by_code(db, code).await? {
        return Ok(existing);
    }
    let model = entity::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code.to_string()),
        name: Set(name.to_string()),
        kind: Set(kind),
        created_at: Set(Utc::now()),
    };
    Ok(entity::Entity::insert(model)
        .exec_with_returning(db)
        .await?)
}
