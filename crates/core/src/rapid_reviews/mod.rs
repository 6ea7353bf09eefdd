//! Rapid reviews: the day-0-to-15 process of a serious child safeguarding case, as steps with
//! working-day offsets from configuration, agency summaries due from each agency involved, an
//! outcome, and conversion into a review of another type.

pub mod entity;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::Calendar;
use crate::error::{CoreError, CoreResult};
use crate::review_types::{self, Config};
use crate::reviews::{self, Origin};
use crate::{FieldError, validate};
pub use entity::Model as RapidReview;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    LocalCspr,
    NoCspr,
    NationalReviewRecommended,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::LocalCspr => "local_cspr",
            Outcome::NoCspr => "no_cspr",
            Outcome::NationalReviewRecommended => "national_review_recommended",
        }
    }
    pub fn parse(value: &str) -> Option<Self> {
        [
            Outcome::LocalCspr,
            Outcome::NoCspr,
            Outcome::NationalReviewRecommended,
        ]
        .into_iter()
        .find(|outcome| outcome.as_str() == value)
    }
    pub fn label(self) -> &'static str {
        match self {
            Outcome::LocalCspr => "Local child safeguarding practice review",
            Outcome::NoCspr => "No child safeguarding practice review",
            Outcome::NationalReviewRecommended => "National review recommended",
        }
    }
}

/// A rapid review with its steps and agency summaries.
#[derive(Debug, Clone)]
pub struct Full {
    pub review: RapidReview,
    pub steps: Vec<entity::steps::Model>,
    pub summaries: Vec<entity::summaries::Model>,
}

/// Starts a rapid review for a case: every configured step gets its due date counted in
/// working days from day 0, and each agency involved owes a summary by the
/// `agency_summaries` step.
/// What a rapid review starts from.
pub struct Start<'a> {
    pub case_id: Uuid,
    pub decision_id: Option<Uuid>,
    /// The day the partnership became aware.
    pub day_zero: NaiveDate,
    /// The agencies involved, each of which owes a summary.
    pub agency_ids: &'a [Uuid],
}

pub async fn start(
    db: &impl ConnectionTrait,
    from: Start<'_>,
    config: &Config,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> CoreResult<Full> {
    let Start {
        case_id,
        decision_id,
        day_zero,
        agency_ids,
    } = from;
    let review = entity::Entity::insert(entity::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        decision_id: Set(decision_id),
        day_zero: Set(day_zero),
        outcome: Set(None),
        outcome_recorded_on: Set(None),
        converted_review_id: Set(None),
        created_at: Set(now),
        version: Set(1),
    })
    .exec_with_returning(db)
    .await?;
    let mut summaries_due = calendar.add_working_days(day_zero, 10).date;
    for (position, step) in config.steps.iter().enumerate() {
        let due_on = calendar.add_working_days(day_zero, step.offset_days).date;
        if step.key == "agency_summaries" {
            summaries_due = due_on;
        }
        entity::steps::Entity::insert(entity::steps::ActiveModel {
            rapid_review_id: Set(review.id),
            step_key: Set(step.key.clone()),
            name: Set(step.name.clone()),
            position: Set(position as i32),
            offset_days: Set(step.offset_days as i32),
            due_on: Set(due_on),
            completed_on: Set(None),
            missed_reason: Set(None),
        })
        .exec_without_returning(db)
        .await?;
    }
    for agency_id in agency_ids {
        entity::summaries::Entity::insert(entity::summaries::ActiveModel {
            rapid_review_id: Set(review.id),
            agency_id: Set(*agency_id),
            due_on: Set(summaries_due),
            received_on: Set(None),
        })
        .exec_without_returning(db)
        .await?;
    }
    get(db, review.id).await
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<Full> {
    let review = entity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    let steps = entity::steps::Entity::find()
        .filter(entity::steps::Column::RapidReviewId.eq(id))
        .order_by_asc(entity::steps::Column::Position)
        .all(db)
        .await?;
    let summaries = entity::summaries::Entity::find()
        .filter(entity::summaries::Column::RapidReviewId.eq(id))
        .all(db)
        .await?;
    Ok(Full {
        review,
        steps,
        summaries,
    })
}

pub async fn of_case(db: &impl ConnectionTrait, case_id: Uuid) -> CoreResult<Vec<Full>> {
    let reviews = entity::Entity::find()
        .filter(entity::Column::CaseId.eq(case_id))
        .order_by_asc(entity::Column::CreatedAt)
        .all(db)
        .await?;
    let mut full = Vec::with_capacity(reviews.len());
    for review in reviews {
        full.push(get(db, review.id).await?);
    }
    Ok(full)
}

fn check_date(
    field: &str,
    value: &str,
    not_before: NaiveDate,
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Option<NaiveDate> {
    let date = crate::cases::parse_date(field, value, errors)?;
    if date > today || date < not_before {
        errors.push(FieldError::new(
            field,
            "The date must be between day 0 of the rapid review and today",
        ));
        return None;
    }
    Some(date)
}

/// Marks a step done on a date.
pub async fn complete_step(
    db: &impl ConnectionTrait,
    id: Uuid,
    step_key: &str,
    on: &str,
    today: NaiveDate,
) -> CoreResult<()> {
    let full = get(db, id).await?;
    let step = full
        .steps
        .into_iter()
        .find(|step| step.step_key == step_key)
        .ok_or(CoreError::NotFound)?;
    let mut errors = Vec::new();
    let Some(date) = check_date("completed_on", on, full.review.day_zero, today, &mut errors)
    else {
        return Err(CoreError::Invalid(errors));
    };
    let mut active: entity::steps::ActiveModel = step.into();
    active.completed_on = Set(Some(date));
    sea_orm::ActiveModelTrait::update(active, db).await?;
    Ok(())
}

/// Records why a step's deadline was missed.
pub async fn record_missed_reason(
    db: &impl ConnectionTrait,
    id: Uuid,
    step_key: &str,
    reason: &str,
) -> CoreResult<()> {
    let full = get(db, id).await?;
    let step = full
        .steps
        .into_iter()
        .find(|step| step.step_key == step_key)
        .ok_or(CoreError::NotFound)?;
    let mut errors = Vec::new();
    let reason = validate::required_text("reason", reason, 2000, &mut errors);
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    let mut active: entity::steps::ActiveModel = step.into();
    active.missed_reason = Set(Some(reason));
    sea_orm::ActiveModelTrait::update(active, db).await?;
    Ok(())
}

/// Records that an agency's summary came in.
pub async fn summary_received(
    db: &impl ConnectionTrait,
    id: Uuid,
    agency_id: Uuid,
    on: &str,
    today: NaiveDate,
) -> CoreResult<()> {
    let full = get(db, id).await?;
    let summary = full
        .summaries
        .into_iter()
        .find(|summary| summary.agency_id == agency_id)
        .ok_or(CoreError::NotFound)?;
    let mut errors = Vec::new();
    let Some(date) = check_date("received_on", on, full.review.day_zero, today, &mut errors) else {
        return Err(CoreError::Invalid(errors));
    };
    let mut active: entity::summaries::ActiveModel = summary.into();
    active.received_on = Set(Some(date));
    sea_orm::ActiveModelTrait::update(active, db).await?;
    Ok(())
}

/// Records the outcome the statutory partners signed off.
pub async fn record_outcome(
    db: &impl ConnectionTrait,
    id: Uuid,
    outcome: &str,
    on: &str,
    today: NaiveDate,
) -> CoreResult<RapidReview> {
    let full = get(db, id).await?;
    let mut errors = Vec::new();
    let parsed = Outcome::parse(outcome);
    if parsed.is_none() {
        errors.push(FieldError::new(
            "outcome",
            "Choose the outcome of the rapid review",
        ));
    }
    let date = check_date("outcome_on", on, full.review.day_zero, today, &mut errors);
    let (Some(parsed), Some(date)) = (parsed, date) else {
        return Err(CoreError::Invalid(errors));
    };
    let version = full.review.version;
    let mut active: entity::ActiveModel = full.review.into();
    active.outcome = Set(Some(parsed.as_str().to_string()));
    active.outcome_recorded_on = Set(Some(date));
    active.version = Set(version + 1);
    Ok(sea_orm::ActiveModelTrait::update(active, db).await?)
}

/// Converts the rapid review into a review of another type (a local or national CSPR, or a
/// SAR or domestic abuse related death review when the case crosses into adult or domestic
/// abuse territory). The link is kept both ways.
pub async fn convert(
    db: &impl ConnectionTrait,
    id: Uuid,
    to_type: &str,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> CoreResult<reviews::Model> {
    let full = get(db, id).await?;
    if full.review.converted_review_id.is_some() {
        return Err(CoreError::Conflict(
            "This rapid review has already been converted".to_string(),
        ));
    }
    if to_type == review_types::SERIOUS_CHILD_CASE {
        return Err(CoreError::invalid(
            "review_type",
            "Choose a type of review to convert to",
        ));
    }
    review_types::store::get(db, to_type)
        .await
        .map_err(|_| CoreError::invalid("review_type", "Choose a type of review to convert to"))?;
    let review = reviews::commission(
        db,
        reviews::NewReview {
            id: None,
            case_id: full.review.case_id,
            review_type_code: to_type,
            commissioned_on: on,
            origin: Origin::RapidReview(id),
            partnership_id: None,
        },
        now,
    )
    .await?;
    let version = full.review.version;
    let mut active: entity::ActiveModel = full.review.into();
    active.converted_review_id = Set(Some(review.id));
    active.version = Set(version + 1);
    sea_orm::ActiveModelTrait::update(active, db).await?;
    Ok(review)
}
