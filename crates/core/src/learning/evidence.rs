//! What moves a learning item along the loop: disseminations (channel, date, audience, the
//! agencies reached and how many people, and each agency's confirmation that it passed the
//! learning on), then evidence that it is embedded, then evidence of its impact. A stage is
//! never marked without its evidence, and never before the stage before it.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::error::{CoreError, CoreResult};
use crate::{FieldError, agencies, cases, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "learning_evidence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub item_id: Uuid,
    /// "embedded" or "evaluated".
    pub stage: String,
    pub kind: String,
    pub details: String,
    pub evidenced_on: NaiveDate,
    /// For training evaluations: Kirkpatrick level 1 (reaction) to 4 (results).
    pub kirkpatrick_level: Option<i32>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod disseminations {
    use chrono::{DateTime, NaiveDate, Utc};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "disseminations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub item_id: Uuid,
        pub channel: String,
        pub held_on: NaiveDate,
        pub audience: String,
        pub people_reached: i32,
        pub created_by: Uuid,
        pub created_at: DateTime<Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod reached {
    use chrono::NaiveDate;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dissemination_agencies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub dissemination_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: Uuid,
        /// The agency's safeguarding lead who confirmed they passed it on.
        pub confirmed_by: Option<Uuid>,
        pub confirmed_on: Option<NaiveDate>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub const CHANNELS: [(&str, &str); 10] = [
    ("seven_minute_briefing", "7-minute briefing"),
    ("multi_agency_briefing", "Multi-agency briefing"),
    ("single_agency_briefing", "Single agency briefing"),
    ("training_course", "Training course"),
    ("conference", "Conference"),
    ("workshop", "Workshop"),
    ("newsletter", "Newsletter"),
    ("website", "Website"),
    ("social_media", "Social media"),
    ("publication", "Publication"),
];

pub const EMBEDDED_KINDS: [(&str, &str); 5] = [
    ("policy_changed", "Policy or procedure changed"),
    ("training_updated", "Training content updated"),
    ("supervision", "Used in supervision"),
    ("joint_working", "Joint working arrangements changed"),
    ("actions_completed", "Linked actions completed"),
];

pub const EVALUATED_KINDS: [(&str, &str); 5] = [
    ("re_audit", "Re-audit result"),
    ("indicator", "Change in an indicator"),
    ("practitioner_feedback", "Practitioner feedback"),
    ("training_evaluation", "Training evaluation (Kirkpatrick)"),
    ("tracking", "Tracking of individual children or adults"),
];

pub fn label(list: &[(&'static str, &'static str)], key: &str) -> &'static str {
    list.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .unwrap_or("Other")
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisseminationInput {
    pub channel: String,
    /// YYYY-MM-DD.
    pub held_on: String,
    pub audience: String,
    /// How many people it reached.
    pub people_reached: String,
    #[serde(default)]
    pub agency_ids: Vec<Uuid>,
}

/// Records a dissemination: a channel, a date and an audience are required.
pub async fn disseminate(
    db: &impl ConnectionTrait,
    item_id: Uuid,
    input: &DisseminationInput,
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<disseminations::Model> {
    let item = super::Entity::find_by_id(item_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    let mut errors = Vec::new();
    if !CHANNELS.iter().any(|(k, _)| *k == input.channel) {
        errors.push(FieldError::new(
            "channel",
            "Choose how the learning was disseminated",
        ));
    }
    let held_on = if input.held_on.trim().is_empty() {
        errors.push(FieldError::new(
            "held_on",
            "Enter the date it was disseminated",
        ));
        None
    } else {
        cases::parse_date("held_on", &input.held_on, &mut errors)
    };
    if held_on.is_some_and(|on| on > now.date_naive()) {
        errors.push(FieldError::new(
            "held_on",
            "The date cannot be in the future",
        ));
    }
    if held_on.is_some_and(|on| on < item.identified_on) {
        errors.push(FieldError::new(
            "held_on",
            "The date cannot be before the learning was identified",
        ));
    }
    let audience = validate::required_text("audience", &input.audience, 400, &mut errors);
    let people = match input.people_reached.trim().parse::<i32>() {
        Ok(n) if (1..=1_000_000).contains(&n) => n,
        _ => {
            errors.push(FieldError::new(
                "people_reached",
                "Enter how many people it reached, as a whole number from 1",
            ));
            0
        }
    };
    for agency in &input.agency_ids {
        if agencies::entity::Entity::find_by_id(*agency)
            .one(db)
            .await?
            .is_none()
        {
            errors.push(FieldError::new("agency_ids", "No agency has this id"));
        }
    }
    let (Some(held_on), true) = (held_on, errors.is_empty()) else {
        return Err(CoreError::Invalid(errors));
    };
    let saved = disseminations::Entity::insert(disseminations::ActiveModel {
        id: Set(Uuid::now_v7()),
        item_id: Set(item_id),
        channel: Set(input.channel.clone()),
        held_on: Set(held_on),
        audience: Set(audience),
        people_reached: Set(people),
        created_by: Set(by),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await?;
    let mut ids = input.agency_ids.clone();
    ids.sort();
    ids.dedup();
    for agency in ids {
        reached::Entity::insert(reached::ActiveModel {
            dissemination_id: Set(saved.id),
            agency_id: Set(agency),
            confirmed_by: Set(None),
            confirmed_on: Set(None),
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(saved)
}

/// An agency's safeguarding lead confirms they passed the learning on in their agency.
pub async fn confirm(
    db: &impl ConnectionTrait,
    dissemination_id: Uuid,
    agency_id: Uuid,
    by: Uuid,
    today: NaiveDate,
) -> CoreResult<()> {
    let row = reached::Entity::find_by_id((dissemination_id, agency_id))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    if row.confirmed_on.is_some() {
        return Err(CoreError::invalid(
            "confirm",
            "This agency has already confirmed",
        ));
    }
    let mut active: reached::ActiveModel = row.into();
    active.confirmed_by = Set(Some(by));
    active.confirmed_on = Set(Some(today));
    active.update(db).await?;
    Ok(())
}

pub async fn disseminations_of(
    db: &impl ConnectionTrait,
    item_id: Uuid,
) -> CoreResult<Vec<(disseminations::Model, Vec<reached::Model>)>> {
    let list = disseminations::Entity::find()
        .filter(disseminations::Column::ItemId.eq(item_id))
        .order_by_asc(disseminations::Column::HeldOn)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for dissemination in list {
        let agencies = reached::Entity::find()
            .filter(reached::Column::DisseminationId.eq(dissemination.id))
            .all(db)
            .await?;
        out.push((dissemination, agencies));
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceInput {
    /// "embedded" or "evaluated".
    pub stage: String,
    pub kind: String,
    pub details: String,
    /// YYYY-MM-DD.
    pub evidenced_on: String,
    /// 1 to 4, for a training evaluation.
    #[serde(default)]
    pub kirkpatrick_level: Option<String>,
}

/// Records evidence that the learning is embedded, or of its impact. Embedded needs a
/// dissemination first; evaluated needs embedded first.
pub async fn add(
    db: &impl ConnectionTrait,
    item_id: Uuid,
    input: &EvidenceInput,
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let item = super::get(db, item_id).await?;
    let mut errors = Vec::new();
    let kinds: &[(&str, &str)] = match input.stage.as_str() {
        "embedded" => &EMBEDDED_KINDS,
        "evaluated" => &EVALUATED_KINDS,
        _ => {
            return Err(CoreError::invalid(
                "stage",
                "Choose whether this shows the learning embedded or evaluated",
            ));
        }
    };
    if input.stage == "embedded" && item.disseminated_on.is_none() {
        errors.push(FieldError::new(
            "stage",
            "Record how the learning was disseminated before it can be embedded",
        ));
    }
    if input.stage == "evaluated" && item.embedded_on.is_none() {
        errors.push(FieldError::new(
            "stage",
            "Record evidence that the learning is embedded before evaluating its impact",
        ));
    }
    if !kinds.iter().any(|(k, _)| *k == input.kind) {
        errors.push(FieldError::new("kind", "Choose the kind of evidence"));
    }
    let details = input.details.trim().to_string();
    if details.is_empty() {
        errors.push(FieldError::new("details", "Enter the evidence"));
    } else if details.chars().count() > 10_000 {
        errors.push(FieldError::new(
            "details",
            "The evidence must be 10,000 characters or fewer",
        ));
    }
    let on = if input.evidenced_on.trim().is_empty() {
        errors.push(FieldError::new(
            "evidenced_on",
            "Enter the date of the evidence",
        ));
        None
    } else {
        cases::parse_date("evidenced_on", &input.evidenced_on, &mut errors)
    };
    if on.is_some_and(|on| on > now.date_naive()) {
        errors.push(FieldError::new(
            "evidenced_on",
            "The date cannot be in the future",
        ));
    }
    let level = match input
        .kirkpatrick_level
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None if input.kind == "training_evaluation" => {
            errors.push(FieldError::new(
                "kirkpatrick_level",
                "Choose the Kirkpatrick level the evaluation reached",
            ));
            None
        }
        None => None,
        Some(text) => match text.parse::<i32>() {
            Ok(level) if (1..=4).contains(&level) => Some(level),
            _ => {
                errors.push(FieldError::new(
                    "kirkpatrick_level",
                    "The Kirkpatrick level is 1, 2, 3 or 4",
                ));
                None
            }
        },
    };
    let (Some(on), true) = (on, errors.is_empty()) else {
        return Err(CoreError::Invalid(errors));
    };
    Ok(Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        item_id: Set(item_id),
        stage: Set(input.stage.clone()),
        kind: Set(input.kind.clone()),
        details: Set(details),
        evidenced_on: Set(on),
        kirkpatrick_level: Set(level),
        created_by: Set(by),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await?)
}

pub async fn of_item(db: &impl ConnectionTrait, item_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::ItemId.eq(item_id))
        .order_by_asc(Column::EvidencedOn)
        .all(db)
        .await?)
}
