//! Settings a partnership team changes at run time, kept in the database (for example the
//! team's name shown in every page header).

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set, sea_query::OnConflict};

use crate::error::CoreResult;

pub const TEAM_NAME: &str = "team_name";
pub const DEFAULT_TEAM_NAME: &str = "learnloop";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub value: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn get(db: &impl ConnectionTrait, key: &str) -> CoreResult<Option<String>> {
    Ok(Entity::find_by_id(key.to_string())
        .one(db)
        .await?
        .map(|row| row.value))
}

pub async fn set(db: &impl ConnectionTrait, key: &str, value: &str) -> CoreResult<()> {
    Entity::insert(ActiveModel {
        key: Set(key.to_string()),
        value: Set(value.to_string()),
    })
    .on_conflict(
        OnConflict::column(Column::Key)
            .update_column(Column::Value)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The name shown in the header: the stored team name, or "learnloop" until one is set.
pub async fn team_name(db: &impl ConnectionTrait) -> CoreResult<String> {
    Ok(get(db, TEAM_NAME)
        .await?
        .unwrap_or_else(|| DEFAULT_TEAM_NAME.to_string()))
}
