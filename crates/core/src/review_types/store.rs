//! Review types as stored, with optimistic concurrency on edits.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use super::{Config, defaults};
use crate::error::{CoreError, CoreResult};
use crate::{FieldError, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_types")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub family: String,
    pub statutory: bool,
    /// JSON of [`Config`].
    pub config: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn config(&self) -> Config {
        serde_json::from_str(&self.config).unwrap_or_default()
    }
}

/// Inserts the default types that are missing; existing (possibly edited) ones stay.
pub async fn ensure_defaults(db: &impl ConnectionTrait, now: DateTime<Utc>) -> CoreResult<()> {
    for default in defaults() {
        if Entity::find_by_id(default.code.to_string())
            .one(db)
            .await?
            .is_none()
        {
            Entity::insert(ActiveModel {
                code: Set(default.code.to_string()),
                name: Set(default.name.to_string()),
                family: Set(default.family.to_string()),
                statutory: Set(default.statutory),
                config: Set(serde_json::to_string(&default.config).unwrap_or_default()),
                version: Set(1),
                updated_at: Set(now),
            })
            .exec_without_returning(db)
            .await?;
        }
    }
    Ok(())
}

pub async fn list(db: &impl ConnectionTrait) -> CoreResult<Vec<Model>> {
    Ok(Entity::find().order_by_asc(Column::Name).all(db).await?)
}

pub async fn get(db: &impl ConnectionTrait, code: &str) -> CoreResult<Model> {
    Entity::find_by_id(code.to_string())
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}

/// Renames a type and rewords or retimes it. `version` is the version the editor saw: a stale
/// one is refused so nobody's change is silently lost.
pub async fn update(
    db: &impl ConnectionTrait,
    code: &str,
    version: i32,
    name: &str,
    config: Config,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let current = get(db, code).await?;
    if current.version != version {
        return Err(CoreError::Conflict(format!(
            "This review type was changed by someone else (now version {}); reload it and make your change again",
            current.version
        )));
    }
    let mut errors = Vec::new();
    let name = validate::required_text("name", name, 200, &mut errors);
    let old = current.config();
    for (index, criterion) in config.criteria.iter().enumerate() {
        if criterion.question.trim().is_empty() {
            errors.push(FieldError::new(
                format!("question_{index}"),
                "Enter the wording of this question",
            ));
        }
        if old.criteria.get(index).map(|c| &c.key) != Some(&criterion.key) {
            errors.push(FieldError::new(
                format!("question_{index}"),
                "Questions can be reworded, not added or removed",
            ));
        }
    }
    for (index, step) in config.steps.iter().enumerate() {
        if step.offset_days > 120 {
            errors.push(FieldError::new(
                format!("step_{index}"),
                "A step must fall within 120 working days",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    let mut active: ActiveModel = current.into();
    active.name = Set(name);
    active.config = Set(serde_json::to_string(&config).unwrap_or_default());
    active.version = Set(version + 1);
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}
