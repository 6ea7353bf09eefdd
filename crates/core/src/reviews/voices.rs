//! The voices in a review: the family (who was invited, how, when, whether they took part or
//! declined, what they said, with consent recorded) and practitioners (events, numbers,
//! agencies). The child's or adult's own perspective is a section of the review itself.

use chrono::NaiveDate;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::error::{CoreError, CoreResult};
use crate::{FieldError, cases, validate};

pub mod family {
    use chrono::NaiveDate;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "review_family_contacts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub review_id: Uuid,
        /// Their relationship to the child or adult ("mother", "brother").
        pub relationship: String,
        /// Protected like the subject's name; checked against the public text.
        pub name: Option<String>,
        pub invited_how: String,
        pub invited_on: Option<NaiveDate>,
        pub response: String,
        pub what_they_said: String,
        pub consent_recorded: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod practitioners {
    use chrono::NaiveDate;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "review_practitioner_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub review_id: Uuid,
        pub held_on: NaiveDate,
        pub kind: String,
        pub attendees: i32,
        /// The agencies represented, as written.
        pub agencies: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub const INVITED_HOW: [&str; 6] = [
    "Letter",
    "Telephone",
    "Email",
    "In person",
    "Through an advocate",
    "Through the police family liaison officer",
];

pub const RESPONSES: [(&str, &str); 4] = [
    ("awaiting", "Awaiting a reply"),
    ("took_part", "Took part"),
    ("declined", "Declined"),
    ("no_response", "No response"),
];

pub fn response_label(key: &str) -> &'static str {
    RESPONSES
        .iter()
        .find(|(response, _)| *response == key)
        .map(|(_, label)| *label)
        .unwrap_or("Unknown")
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct FamilyInput {
    pub relationship: String,
    pub name: String,
    pub invited_how: String,
    pub invited_on: String,
    pub response: String,
    pub what_they_said: String,
    pub consent_recorded: bool,
}

/// Records a family member's involvement. What they said is kept only with their consent.
pub async fn add_family(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    input: &FamilyInput,
) -> CoreResult<family::Model> {
    super::get(db, review_id).await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let relationship =
        validate::required_text("relationship", &input.relationship, 80, &mut errors);
    let name = validate::optional_text("name", Some(&input.name), 120, &mut errors);
    if !INVITED_HOW.contains(&input.invited_how.as_str()) {
        errors.push(FieldError::new(
            "invited_how",
            "Choose how they were invited",
        ));
    }
    let invited_on = if input.invited_on.trim().is_empty() {
        None
    } else {
        cases::parse_date("invited_on", &input.invited_on, &mut errors)
    };
    if !RESPONSES.iter().any(|(key, _)| *key == input.response) {
        errors.push(FieldError::new("response", "Choose how they responded"));
    }
    let said = input.what_they_said.trim().to_string();
    if said.chars().count() > 20_000 {
        errors.push(FieldError::new(
            "what_they_said",
            "What they said must be 20,000 characters or fewer",
        ));
    }
    if !said.is_empty() && !input.consent_recorded {
        errors.push(FieldError::new(
            "consent_recorded",
            "Record their consent before recording what they said",
        ));
    }
    if !said.is_empty() && input.response != "took_part" {
        errors.push(FieldError::new(
            "what_they_said",
            "Only record what they said when they took part",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    Ok(family::Entity::insert(family::ActiveModel {
        id: Set(Uuid::now_v7()),
        review_id: Set(review_id),
        relationship: Set(relationship),
        name: Set(name),
        invited_how: Set(input.invited_how.clone()),
        invited_on: Set(invited_on),
        response: Set(input.response.clone()),
        what_they_said: Set(said),
        consent_recorded: Set(input.consent_recorded),
    })
    .exec_with_returning(db)
    .await?)
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PractitionerInput {
    pub held_on: String,
    pub kind: String,
    pub attendees: String,
    pub agencies: String,
}

pub async fn add_practitioner_event(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    input: &PractitionerInput,
    today: NaiveDate,
) -> CoreResult<practitioners::Model> {
    super::get(db, review_id).await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let held_on = cases::parse_date("held_on", &input.held_on, &mut errors);
    if held_on.is_some_and(|on| on > today) {
        errors.push(FieldError::new(
            "held_on",
            "The date cannot be in the future",
        ));
    }
    let kind = validate::required_text("kind", &input.kind, 80, &mut errors);
    let attendees = match input.attendees.trim().parse::<i32>() {
        Ok(count) if (1..=10_000).contains(&count) => count,
        _ => {
            errors.push(FieldError::new(
                "attendees",
                "Enter how many practitioners took part, as a whole number from 1",
            ));
            0
        }
    };
    let agencies = validate::required_text("agencies", &input.agencies, 2_000, &mut errors);
    let (Some(held_on), true) = (held_on, errors.is_empty()) else {
        return Err(CoreError::Invalid(errors));
    };
    Ok(practitioners::Entity::insert(practitioners::ActiveModel {
        id: Set(Uuid::now_v7()),
        review_id: Set(review_id),
        held_on: Set(held_on),
        kind: Set(kind),
        attendees: Set(attendees),
        agencies: Set(agencies),
    })
    .exec_with_returning(db)
    .await?)
}

pub async fn family_of(
    db: &impl ConnectionTrait,
    review_id: Uuid,
) -> CoreResult<Vec<family::Model>> {
    Ok(family::Entity::find()
        .filter(family::Column::ReviewId.eq(review_id))
        .order_by_asc(family::Column::Id)
        .all(db)
        .await?)
}

pub async fn practitioner_events_of(
    db: &impl ConnectionTrait,
    review_id: Uuid,
) -> CoreResult<Vec<practitioners::Model>> {
    Ok(practitioners::Entity::find()
        .filter(practitioners::Column::ReviewId.eq(review_id))
        .order_by_asc(practitioners::Column::HeldOn)
        .all(db)
        .await?)
}
