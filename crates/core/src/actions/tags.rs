//! The themes an action is tagged with, from the partnership's taxonomy.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder};

use crate::error::CoreResult;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "action_themes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub action_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub theme_code: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The theme codes of the action, sorted.
pub async fn themes_of(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<Vec<String>> {
    Ok(Entity::find()
        .filter(Column::ActionId.eq(id))
        .order_by_asc(Column::ThemeCode)
        .all(db)
        .await?
        .into_iter()
        .map(|tag| tag.theme_code)
        .collect())
}

/// The theme codes of each of `ids`, sorted (for exports: one query per 5,000 actions).
pub async fn themes_of_many(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> CoreResult<std::collections::HashMap<Uuid, Vec<String>>> {
    let mut themes: std::collections::HashMap<Uuid, Vec<String>> = std::collections::HashMap::new();
    for chunk in ids.chunks(5_000) {
        for tag in Entity::find()
            .filter(Column::ActionId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            themes
                .entry(tag.action_id)
                .or_default()
                .push(tag.theme_code);
        }
    }
    // Sorted here, not by the database, so every backend's collation gives the same order.
    for codes in themes.values_mut() {
        codes.sort();
    }
    Ok(themes)
}
