//! Each agency's contribution to a review (an agency report, a chronology, an individual
//! management review), with its due date and whether it came in.

use chrono::NaiveDate;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::error::{CoreError, CoreResult};
use crate::{FieldError, agencies, cases};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_contributions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub review_id: Uuid,
    pub agency_id: Uuid,
    pub kind: String,
    pub due_on: NaiveDate,
    pub received_on: Option<NaiveDate>,
    /// The document that answered it, when it came in through learnloop.
    pub document_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const KINDS: [(&str, &str); 3] = [
    ("agency_report", "Agency report"),
    ("chronology", "Chronology"),
    ("imr", "Individual management review"),
];

pub fn kind_label(key: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(kind, _)| *kind == key)
        .map(|(_, label)| *label)
        .unwrap_or("Contribution")
}

/// Asks an agency for a contribution by a date.
pub async fn request(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    agency_id: Option<Uuid>,
    kind: &str,
    due_text: &str,
) -> CoreResult<Model> {
    let review = super::get(db, review_id).await?;
    let mut errors = Vec::new();
    match agency_id {
        Some(id)
            if agencies::entity::Entity::find_by_id(id)
                .one(db)
                .await?
                .is_some() => {}
        _ => errors.push(FieldError::new("agency_id", "Choose the agency")),
    }
    if !KINDS.iter().any(|(key, _)| *key == kind) {
        errors.push(FieldError::new(
            "kind",
            "Choose what the agency is asked for",
        ));
    }
    let due = cases::parse_date("due_on", due_text, &mut errors);
    if let Some(due) = due
        && due < review.commissioned_on
    {
        errors.push(FieldError::new(
            "due_on",
            "The due date cannot be before the review was commissioned",
        ));
    }
    let (Some(agency_id), Some(due), true) = (agency_id, due, errors.is_empty()) else {
        return Err(CoreError::Invalid(errors));
    };
    Ok(Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        review_id: Set(review_id),
        agency_id: Set(agency_id),
        kind: Set(kind.to_string()),
        due_on: Set(due),
        received_on: Set(None),
        document_id: Set(None),
    })
    .exec_with_returning(db)
    .await?)
}

pub async fn get(db: &impl ConnectionTrait, review_id: Uuid, id: Uuid) -> CoreResult<Model> {
    Entity::find_by_id(id)
        .filter(Column::ReviewId.eq(review_id))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}

/// Records that the contribution came in, with the document that carried it.
pub async fn received(
    db: &impl ConnectionTrait,
    contribution: Model,
    on: NaiveDate,
    document_id: Option<Uuid>,
) -> CoreResult<Model> {
    let mut active: ActiveModel = contribution.into();
    active.received_on = Set(Some(on));
    if document_id.is_some() {
        active.document_id = Set(document_id);
    }
    Ok(active.update(db).await?)
}

pub async fn of_review(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::ReviewId.eq(review_id))
        .order_by_asc(Column::DueOn)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}
