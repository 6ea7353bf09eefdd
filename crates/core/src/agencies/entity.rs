use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use serde::Serialize;

use super::AgencyType;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, utoipa::ToSchema)]
#[sea_orm(table_name = "agencies")]
#[schema(as = Agency)]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub agency_type: AgencyType,
    pub active: bool,
    /// Increases with every change; a stale write is refused.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
