//! Reviews of any type, commissioned from a decision or converted from a rapid review or
//! another review. The conversion link is kept: the conversion rate is reported nationally.
//! (The review's own stages, people and content arrive with issue 5.)

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::error::{CoreError, CoreResult};
use crate::review_types;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub review_type_code: String,
    pub commissioned_on: NaiveDate,
    pub converted_from_rapid_review_id: Option<Uuid>,
    pub converted_from_review_id: Option<Uuid>,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where a new review comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Decision,
    RapidReview(Uuid),
    Review(Uuid),
}

pub async fn commission(
    db: &impl ConnectionTrait,
    case_id: Uuid,
    review_type_code: &str,
    commissioned_on: NaiveDate,
    origin: Origin,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    review_types::store::get(db, review_type_code).await?;
    let (from_rapid, from_review) = match origin {
        Origin::Decision => (None, None),
        Origin::RapidReview(id) => (Some(id), None),
        Origin::Review(id) => (None, Some(id)),
    };
    Ok(Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        review_type_code: Set(review_type_code.to_string()),
        commissioned_on: Set(commissioned_on),
        converted_from_rapid_review_id: Set(from_rapid),
        converted_from_review_id: Set(from_review),
        status: Set("scoping".to_string()),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await?)
}

/// Converts a review into a review of another type (for example a SAR that becomes a domestic
/// abuse related death review); the new one links back to it.
pub async fn convert(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    to_type: &str,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let from = get(db, review_id).await?;
    if from.review_type_code == to_type {
        return Err(CoreError::invalid(
            "review_type",
            "Choose a different type of review",
        ));
    }
    let mut active: ActiveModel = from.clone().into();
    active.status = Set("converted".to_string());
    active.update(db).await?;
    commission(
        db,
        from.case_id,
        to_type,
        on,
        Origin::Review(review_id),
        now,
    )
    .await
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}

pub async fn of_case(db: &impl ConnectionTrait, case_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::CaseId.eq(case_id))
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?)
}
