//! A review's stages and its clock. Each stage's due date comes from the type's configuration
//! and the working-day calendar; the first planned date is kept, so slippage (a later due date,
//! or completion after the due date) is visible with its recorded reason (regulation 14
//! monitoring). Required stages cannot be skipped.

use chrono::NaiveDate;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use super::{add_months, working_day_on_or_before};
use crate::calendar::Calendar;
use crate::error::{CoreError, CoreResult};
use crate::review_types::{PUBLICATION, StageDue, StageSpec};
use crate::{FieldError, cases};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_stages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub review_id: Uuid,
    pub stage_key: String,
    pub name: String,
    pub position: i32,
    pub required: bool,
    /// The due date first planned; never changed.
    pub planned_due_on: Option<NaiveDate>,
    /// The due date now.
    pub due_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub slippage_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Working days between the first planned date and the date that counts now (the
    /// completion date, else the due date, else today when overdue); 0 when on time.
    pub fn slipped_days(&self, calendar: &Calendar, today: NaiveDate) -> i64 {
        let Some(planned) = self.planned_due_on else {
            return 0;
        };
        let actual = match (self.completed_on, self.due_on) {
            (Some(done), _) => done,
            (None, Some(due)) if today > due => today,
            (None, Some(due)) => due,
            (None, None) => return 0,
        };
        calendar.working_days_until(planned, actual).max(0)
    }

    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.completed_on.is_none() && self.due_on.is_some_and(|due| today > due)
    }
}

/// The due date of a stage, given the commissioning date and the planned publication date.
pub fn due_for(
    due: StageDue,
    commissioned_on: NaiveDate,
    publication_on: Option<NaiveDate>,
    calendar: &Calendar,
) -> Option<NaiveDate> {
    match due {
        StageDue::Unscheduled => None,
        StageDue::Commissioning { working_days } => Some(
            calendar
                .add_working_days(commissioned_on, working_days)
                .date,
        ),
        StageDue::CommissioningMonths { months } => Some(working_day_on_or_before(
            calendar,
            add_months(commissioned_on, months),
        )),
        StageDue::BeforePublication { working_days } => {
            publication_on.map(|on| calendar.subtract_working_days(on, working_days))
        }
        StageDue::Publication => publication_on,
        StageDue::AfterPublication { months } => {
            publication_on.map(|on| working_day_on_or_before(calendar, add_months(on, months)))
        }
    }
}

/// Creates the stages of a newly commissioned review.
pub(crate) async fn plan(
    db: &impl ConnectionTrait,
    review: &super::Model,
    specs: &[StageSpec],
    calendar: &Calendar,
) -> CoreResult<()> {
    for (position, spec) in specs.iter().enumerate() {
        let due = due_for(
            spec.due,
            review.commissioned_on,
            review.report_due_on,
            calendar,
        );
        Entity::insert(ActiveModel {
            id: Set(Uuid::now_v7()),
            review_id: Set(review.id),
            stage_key: Set(spec.key.clone()),
            name: Set(spec.name.clone()),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            required: Set(spec.required),
            planned_due_on: Set(due),
            due_on: Set(due),
            completed_on: Set(None),
            slippage_reason: Set(None),
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

pub async fn of_review(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::ReviewId.eq(review_id))
        .order_by_asc(Column::Position)
        .all(db)
        .await?)
}

/// The stage a review is at: the first required stage not yet completed.
pub fn current(stages: &[Model]) -> Option<&Model> {
    stages
        .iter()
        .find(|stage| stage.required && stage.completed_on.is_none())
}

async fn find(db: &impl ConnectionTrait, review_id: Uuid, key: &str) -> CoreResult<Model> {
    Entity::find()
        .filter(Column::ReviewId.eq(review_id))
        .filter(Column::StageKey.eq(key))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}

/// The first required stage before `stage` that is not complete, if any.
pub fn missing_before<'a>(stages: &'a [Model], stage: &Model) -> Option<&'a Model> {
    stages.iter().find(|earlier| {
        earlier.position < stage.position && earlier.required && earlier.completed_on.is_none()
    })
}

fn reason_for_lateness(
    calendar: &Calendar,
    due: Option<NaiveDate>,
    on: NaiveDate,
    reason: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let reason = reason.trim();
    match due {
        Some(due) if on > due => {
            if reason.is_empty() {
                errors.push(FieldError::new(
                    "slippage_reason",
                    format!(
                        "This is {} working days after the due date: record why (it is reported in regulation 14 monitoring)",
                        calendar.working_days_until(due, on)
                    ),
                ));
            } else if reason.chars().count() > 2_000 {
                errors.push(FieldError::new(
                    "slippage_reason",
                    "The reason must be 2,000 characters or fewer",
                ));
            }
            Some(reason.to_string())
        }
        _ if reason.is_empty() => None,
        _ => Some(reason.to_string()),
    }
}

/// Marks a stage complete on `on_text`. Refused while an earlier required stage is open; a
/// late completion needs a reason. Publication is completed by publishing, not here.
pub async fn complete(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    key: &str,
    on_text: &str,
    reason: &str,
    calendar: &Calendar,
    today: NaiveDate,
) -> CoreResult<Model> {
    let review = super::get(db, review_id).await?;
    let stages = of_review(db, review_id).await?;
    let stage = stages
        .iter()
        .find(|stage| stage.stage_key == key)
        .cloned()
        .ok_or(CoreError::NotFound)?;
    let mut errors = Vec::new();
    if key == PUBLICATION {
        return Err(CoreError::invalid(
            "stage",
            "Publication is completed by publishing the review from its publication section",
        ));
    }
    if stage.completed_on.is_some() {
        return Err(CoreError::invalid(
            "stage",
            &format!("“{}” is already complete", stage.name),
        ));
    }
    if let Some(missing) = missing_before(&stages, &stage) {
        return Err(CoreError::invalid(
            "stage",
            &format!(
                "Complete “{}” first: it is a required stage before “{}”",
                missing.name, stage.name
            ),
        ));
    }
    let on = cases::parse_date("completed_on", on_text, &mut errors);
    if let Some(on) = on {
        if on > today {
            errors.push(FieldError::new(
                "completed_on",
                "The date cannot be in the future",
            ));
        }
        if on < review.commissioned_on {
            errors.push(FieldError::new(
                "completed_on",
                "The date cannot be before the review was commissioned",
            ));
        }
    }
    let reason = on
        .map(|on| reason_for_lateness(calendar, stage.due_on, on, reason, &mut errors))
        .unwrap_or_default();
    let (Some(on), true) = (on, errors.is_empty()) else {
        return Err(CoreError::Invalid(errors));
    };
    let mut active: ActiveModel = stage.into();
    active.completed_on = Set(Some(on));
    if reason.is_some() {
        active.slippage_reason = Set(reason);
    }
    let saved = active.update(db).await?;
    refresh_status(db, review_id).await?;
    Ok(saved)
}

/// Moves a stage's due date. A date later than first planned needs a reason. Moving the
/// publication date moves the stages counted from it (sign-off, the pre-publication notice,
/// the action plan) that are still open.
pub async fn reschedule(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    key: &str,
    due_text: &str,
    reason: &str,
    calendar: &Calendar,
) -> CoreResult<Model> {
    let review = super::get(db, review_id).await?;
    let stage = find(db, review_id, key).await?;
    let mut errors = Vec::new();
    let due = cases::parse_date("due_on", due_text, &mut errors);
    if stage.completed_on.is_some() {
        errors.push(FieldError::new(
            "due_on",
            format!("“{}” is already complete", stage.name),
        ));
    }
    let reason = due
        .map(|due| reason_for_lateness(calendar, stage.planned_due_on, due, reason, &mut errors))
        .unwrap_or_default();
    let (Some(due), true) = (due, errors.is_empty()) else {
        return Err(CoreError::Invalid(errors));
    };
    let mut active: ActiveModel = stage.clone().into();
    active.due_on = Set(Some(due));
    active.slippage_reason = Set(reason.clone());
    let saved = active.update(db).await?;
    if key == PUBLICATION {
        let config = crate::review_types::store::get(db, &review.review_type_code)
            .await?
            .config();
        for spec in config.review_stages() {
            if !matches!(
                spec.due,
                StageDue::BeforePublication { .. } | StageDue::AfterPublication { .. }
            ) {
                continue;
            }
            let Ok(dependent) = find(db, review_id, &spec.key).await else {
                continue;
            };
            if dependent.completed_on.is_some() {
                continue;
            }
            let moved = due_for(spec.due, review.commissioned_on, Some(due), calendar);
            let mut active: ActiveModel = dependent.into();
            active.due_on = Set(moved);
            active.slippage_reason = Set(reason
                .as_ref()
                .map(|why| format!("Follows the publication date: {why}")));
            active.update(db).await?;
        }
    }
    Ok(saved)
}

/// Completes the publication stage on the day of publication (called by `publication`).
pub(crate) async fn complete_publication(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    on: NaiveDate,
    reason: Option<String>,
) -> CoreResult<()> {
    if let Ok(stage) = find(db, review_id, PUBLICATION).await {
        let mut active: ActiveModel = stage.into();
        active.completed_on = Set(Some(on));
        if reason.is_some() {
            active.slippage_reason = Set(reason);
        }
        active.update(db).await?;
    }
    refresh_status(db, review_id).await
}

/// Keeps the review's status on its current stage.
async fn refresh_status(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<()> {
    let review = super::get(db, review_id).await?;
    if review.status == "converted" {
        return Ok(());
    }
    let stages = of_review(db, review_id).await?;
    let status = match current(&stages) {
        Some(stage) => stage.stage_key.clone(),
        None => "complete".to_string(),
    };
    let mut active: super::ActiveModel = review.into();
    active.status = Set(status);
    active.update(db).await?;
    Ok(())
}

/// The key of the stage a review is at, for the tracker: the status, named.
pub fn stage_label(stages: &[Model], status: &str) -> String {
    match status {
        "converted" => "Converted to another review".to_string(),
        "complete" => "Complete".to_string(),
        key => stages
            .iter()
            .find(|stage| stage.stage_key == key)
            .map(|stage| stage.name.clone())
            .unwrap_or_else(|| key.replace('_', " ")),
    }
}
