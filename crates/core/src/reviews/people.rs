//! The people of a review: the independent chair, reviewer or author (each with a declared
//! conflict-of-interest statement) and the panel. Appointing an independent reviewer who has an
//! account grants them access to this review only, from a start to an end date.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::access::{Role, grants};
use crate::error::{CoreError, CoreResult};
use crate::{FieldError, cases, people, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_people")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub review_id: Uuid,
    /// The account, when the person signs in to learnloop.
    pub person_id: Option<Uuid>,
    pub name: String,
    pub role: String,
    pub agency_id: Option<Uuid>,
    pub conflict_statement: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// The access grant made on appointment.
    pub grant_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The roles on a review: (key, label, independent).
pub const ROLES: [(&str, &str, bool); 4] = [
    ("reviewer", "Independent reviewer", true),
    ("chair", "Independent chair", true),
    ("author", "Independent author", true),
    ("panel_member", "Panel member", false),
];

pub fn role_label(key: &str) -> &'static str {
    ROLES
        .iter()
        .find(|(role, _, _)| *role == key)
        .map(|(_, label, _)| *label)
        .unwrap_or("Member")
}

/// An appointment as entered.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AppointmentInput {
    pub role: String,
    /// An existing account (independent roles who will sign in).
    pub person_id: Option<Uuid>,
    /// The name, when there is no account (panel members from agencies).
    pub name: String,
    pub agency_id: Option<Uuid>,
    pub conflict_statement: String,
    pub starts_on: String,
    pub ends_on: String,
}

/// Appoints someone to a review. An independent role needs a conflict-of-interest statement;
/// with an account it also needs an end date, and a grant to this review is made.
pub async fn appoint(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    input: &AppointmentInput,
    granted_by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    super::get(db, review_id).await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let role = ROLES.iter().find(|(key, _, _)| *key == input.role.trim());
    if role.is_none() {
        errors.push(FieldError::new("role", "Choose the role on the review"));
    }
    let independent = role.is_some_and(|(_, _, independent)| *independent);
    let person = match input.person_id {
        Some(id) => match people::get(db, id).await {
            Ok(person) => Some(person),
            Err(_) => {
                errors.push(FieldError::new("person_id", "No person has this id"));
                None
            }
        },
        None => None,
    };
    let name = match &person {
        Some(person) => person.name.clone(),
        None => validate::required_text("name", &input.name, 120, &mut errors),
    };
    let statement = input.conflict_statement.trim().to_string();
    if independent && statement.is_empty() {
        errors.push(FieldError::new(
            "conflict_statement",
            "Enter the reviewer's declaration of any conflict of interest (or that there is none)",
        ));
    }
    if statement.chars().count() > 4_000 {
        errors.push(FieldError::new(
            "conflict_statement",
            "The statement must be 4,000 characters or fewer",
        ));
    }
    let starts_on = if input.starts_on.trim().is_empty() {
        None
    } else {
        cases::parse_date("starts_on", &input.starts_on, &mut errors)
    };
    let ends_on = if input.ends_on.trim().is_empty() {
        None
    } else {
        cases::parse_date("ends_on", &input.ends_on, &mut errors)
    };
    if independent && person.is_some() && ends_on.is_none() && input.ends_on.trim().is_empty() {
        errors.push(FieldError::new(
            "ends_on",
            "Enter the last day of the reviewer's access to this review",
        ));
    }
    if let (Some(start), Some(end)) = (starts_on, ends_on)
        && end < start
    {
        errors.push(FieldError::new(
            "ends_on",
            "The end date must be on or after the start date",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    let grant_id = match (&person, independent) {
        (Some(person), true) => Some(
            grants::grant(
                db,
                grants::NewGrant {
                    person_id: person.id,
                    role: Role::IndependentReviewer,
                    agency_id: None,
                    review_id: Some(review_id),
                    starts_on,
                    ends_on,
                    granted_by: Some(granted_by),
                },
                now,
            )
            .await?
            .id,
        ),
        _ => None,
    };
    Ok(Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        review_id: Set(review_id),
        person_id: Set(person.as_ref().map(|person| person.id)),
        name: Set(name),
        role: Set(input.role.trim().to_string()),
        agency_id: Set(input.agency_id.or(person.as_ref().map(|p| p.agency_id))),
        conflict_statement: Set(statement),
        starts_on: Set(starts_on),
        ends_on: Set(ends_on),
        grant_id: Set(grant_id),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await?)
}

pub async fn of_review(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::ReviewId.eq(review_id))
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?)
}
