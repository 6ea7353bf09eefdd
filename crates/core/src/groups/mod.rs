//! Groups: the Review Group, Quality Assurance, Practice Improvement, the Executive and the
//! other sub-groups through which the partnership works. A group serves one partnership or,
//! with no partnership set, both.

pub mod entity;
pub mod members;

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};
use crate::{FieldError, partnerships, validate};
pub use entity::Model as Group;

#[derive(Debug, Clone)]
pub struct NewGroup {
    pub code: String,
    pub name: String,
    pub purpose: String,
    pub partnership_id: Option<Uuid>,
}

pub async fn list(db: &impl ConnectionTrait) -> CoreResult<Vec<Group>> {
    Ok(entity::Entity::find()
        .order_by_asc(entity::Column::Name)
        .all(db)
        .await?)
}

pub async fn count(db: &impl ConnectionTrait) -> CoreResult<u64> {
    Ok(entity::Entity::find().count(db).await?)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<Group> {
    entity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}

pub async fn find_by_code(db: &impl ConnectionTrait, code: &str) -> CoreResult<Option<Group>> {
    Ok(entity::Entity::find()
        .filter(entity::Column::Code.eq(code))
        .one(db)
        .await?)
}

pub async fn create(db: &impl ConnectionTrait, input: NewGroup) -> CoreResult<Group> {
    let mut errors = Vec::new();
    let code = validate::code("code", &input.code, &mut errors);
    let name = validate::required_text("name", &input.name, 200, &mut errors);
    let purpose = validate::required_text("purpose", &input.purpose, 2000, &mut errors);
    if let Some(partnership_id) = input.partnership_id
        && partnerships::entity::Entity::find_by_id(partnership_id)
            .one(db)
            .await?
            .is_none()
    {
        errors.push(FieldError::new(
            "partnership_id",
            "No partnership has this id",
        ));
    }
    if errors.is_empty() && find_by_code(db, &code).await?.is_some() {
        errors.push(FieldError::new(
            "code",
            "A group with this code already exists",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    let now = Utc::now();
    let model = entity::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name: Set(name),
        purpose: Set(purpose),
        partnership_id: Set(input.partnership_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(entity::Entity::insert(model)
        .exec_with_returning(db)
        .await?)
}

/// Returns the group with this code, creating it when it does not exist yet.
pub async fn ensure(db: &impl ConnectionTrait, input: NewGroup) -> CoreResult<Group> {
    match find_by_code(db, &input.code).await? {
        Some(existing) => Ok(existing),
        None => create(db, input).await,
    }
}
