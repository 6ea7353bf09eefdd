//! What the public sees: the public title, summary and report of each published review, as the
//! person who published it checked and confirmed them, frozen. The public learning page, its
//! search and its feeds read only this and the library's frozen copies; both are written only
//! by a publication that passed the anonymisation check. Editing the review afterwards changes
//! its draft, never this, until it is published again.

use chrono::NaiveDate;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::error::{CoreError, CoreResult};

pub const REVIEW: &str = "review";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "public_texts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source_kind: String,
    pub source_id: Uuid,
    /// 1 at the first publication, one more at each publication after it.
    pub revision: i32,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub review_type: String,
    pub first_published_on: NaiveDate,
    /// The day of the latest publication.
    pub published_on: NaiveDate,
    pub published_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The text that passed the check, as it goes public.
#[derive(Debug, Clone)]
pub struct Checked<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    pub body: &'a str,
    pub review_type: &'a str,
}

/// Freezes checked text as the public copy of a source: a first publication, or the next
/// revision of an earlier one. Only a publication calls this, after its check passed.
pub async fn freeze(
    db: &impl ConnectionTrait,
    source_kind: &str,
    source_id: Uuid,
    text: &Checked<'_>,
    by: Uuid,
    today: NaiveDate,
) -> CoreResult<Model> {
    let earlier = of(db, source_kind, source_id).await?;
    let (revision, first_published_on) = match &earlier {
        Some(earlier) => (earlier.revision + 1, earlier.first_published_on),
        None => (1, today),
    };
    if let Some(earlier) = earlier {
        Entity::delete_by_id(earlier.id).exec(db).await?;
    }
    Ok(Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        source_kind: Set(source_kind.to_string()),
        source_id: Set(source_id),
        revision: Set(revision),
        title: Set(text.title.to_string()),
        summary: Set(text.summary.to_string()),
        body: Set(text.body.to_string()),
        review_type: Set(text.review_type.to_string()),
        first_published_on: Set(first_published_on),
        published_on: Set(today),
        published_by: Set(Some(by)),
    })
    .exec_with_returning(db)
    .await?)
}

/// The public copy of a source, if it was published.
pub async fn of(
    db: &impl ConnectionTrait,
    source_kind: &str,
    source_id: Uuid,
) -> CoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::SourceKind.eq(source_kind))
        .filter(Column::SourceId.eq(source_id))
        .one(db)
        .await?)
}

/// Published reviews as published, newest first: the public learning page and its feeds.
pub async fn reviews(db: &impl ConnectionTrait) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::SourceKind.eq(REVIEW))
        .order_by_desc(Column::FirstPublishedOn)
        .order_by_desc(Column::SourceId)
        .all(db)
        .await?)
}

/// One published review as published, or not found (unpublished reviews do not exist here).
pub async fn review(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<Model> {
    of(db, REVIEW, review_id).await?.ok_or(CoreError::NotFound)
}
