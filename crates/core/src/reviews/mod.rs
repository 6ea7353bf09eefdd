//! Reviews of any type, from commissioning to publication: commissioned from a decision,
//! directly, or converted from a rapid review or another review (the link is kept: the
//! conversion rate is reported nationally). One case can carry several reviews at once, each
//! under its own commissioning partnership.
//!
//! The review's parts live in their own modules: `stages` (the clock and slippage), `people`
//! (reviewer, chair, panel), `contributions` (agency reports), `voices` (family, practitioners),
//! `entries` (lines of enquiry, key practice episodes, findings, recommendations, good
//! practice), `documents` (files with versions), `publication` (the anonymisation check, holds,
//! the public page) and `export` (the national tracker's CSV).

pub mod contributions;
pub mod documents;
pub mod entries;
pub mod export;
pub mod people;
pub mod publication;
pub mod stages;
pub mod voices;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::error::{CoreError, CoreResult};
use crate::{FieldError, calendar, review_types, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub review_type_code: String,
    /// The decision date: the review's clock starts here.
    pub commissioned_on: NaiveDate,
    pub converted_from_rapid_review_id: Option<Uuid>,
    pub converted_from_review_id: Option<Uuid>,
    /// The current stage's key, or "published" or "converted".
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// The partnership's own reference, for example "SAR-2026-003".
    pub reference: Option<String>,
    pub title: String,
    /// The commissioning partnership (board or partnership).
    pub partnership_id: Option<Uuid>,
    pub methodology: String,
    pub terms_of_reference: String,
    /// The child's or adult's own perspective, as its own section.
    pub subject_perspective: String,
    /// The overall clock: when the report is due (six months from the decision for a CSPR).
    pub report_due_on: Option<NaiveDate>,
    /// Why publication is on hold (an inquest, a criminal trial); none when it may go ahead.
    pub hold_reason: Option<String>,
    pub public_title: String,
    pub public_summary: String,
    pub public_report: String,
    pub published_on: Option<NaiveDate>,
    pub published_by: Option<Uuid>,
    /// Who confirmed the motivated-intruder check, with a second factor.
    pub intruder_check_by: Option<Uuid>,
    pub version: i32,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where a new review comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Decision,
    Direct,
    RapidReview(Uuid),
    Review(Uuid),
}

/// The methodologies of seed Appendix C.
pub const METHODOLOGIES: [(&str, &str); 8] = [
    ("scie_systems", "SCIE Learning Together (systems approach)"),
    ("silp", "Significant incident learning process (SILP)"),
    ("root_cause", "Root cause analysis"),
    ("action_learning", "Action learning"),
    ("imr", "Individual management reviews"),
    ("appreciative_inquiry", "Appreciative inquiry"),
    ("case_mapping", "Case mapping"),
    ("blended", "A blend of methods"),
];

pub fn methodology_label(code: &str) -> &'static str {
    METHODOLOGIES
        .iter()
        .find(|(key, _)| *key == code)
        .map(|(_, label)| *label)
        .unwrap_or("Not chosen yet")
}

/// What a new review needs.
pub struct NewReview<'a> {
    /// A fixed id (the demo's); normally none.
    pub id: Option<Uuid>,
    pub case_id: Uuid,
    pub review_type_code: &'a str,
    pub commissioned_on: NaiveDate,
    pub origin: Origin,
    pub partnership_id: Option<Uuid>,
}

/// The last working day on or before `date`.
pub(crate) fn working_day_on_or_before(
    calendar: &calendar::Calendar,
    date: NaiveDate,
) -> NaiveDate {
    let mut day = date;
    for _ in 0..30 {
        if calendar.is_working_day(day) {
            return day;
        }
        day = day.pred_opt().unwrap_or(day);
    }
    date
}

pub(crate) fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(chrono::Months::new(months))
        .unwrap_or(date)
}

/// The partnership's next reference for this type and year, for example "SAR-2026-003".
async fn next_reference(
    db: &impl ConnectionTrait,
    type_code: &str,
    on: NaiveDate,
) -> CoreResult<String> {
    let prefix = format!("{}-{}-", type_code.to_ascii_uppercase(), on.year());
    let taken = Entity::find()
        .filter(Column::Reference.starts_with(prefix.as_str()))
        .count(db)
        .await?;
    Ok(format!("{prefix}{:03}", taken + 1))
}

/// Commissions a review: plans its stages and its overall clock from the type's configuration
/// and the working-day calendar.
pub async fn commission(
    db: &impl ConnectionTrait,
    new: NewReview<'_>,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let review_type = review_types::store::get(db, new.review_type_code).await?;
    let config = review_type.config();
    let calendar = calendar::store::load(db).await?;
    let (from_rapid, from_review) = match new.origin {
        Origin::Decision | Origin::Direct => (None, None),
        Origin::RapidReview(id) => (Some(id), None),
        Origin::Review(id) => (None, Some(id)),
    };
    let report_due_on = config
        .clocks
        .report_months
        .map(|months| working_day_on_or_before(&calendar, add_months(new.commissioned_on, months)));
    let case = crate::cases::entity::Entity::find_by_id(new.case_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    let partnership_id = match new.partnership_id {
        Some(id) => Some(id),
        None => crate::cases::entity::partnerships::Entity::find()
            .filter(crate::cases::entity::partnerships::Column::CaseId.eq(new.case_id))
            .one(db)
            .await?
            .map(|link| link.partnership_id),
    };
    let id = new.id.unwrap_or_else(Uuid::now_v7);
    let review = Entity::insert(ActiveModel {
        id: Set(id),
        case_id: Set(new.case_id),
        review_type_code: Set(new.review_type_code.to_string()),
        commissioned_on: Set(new.commissioned_on),
        converted_from_rapid_review_id: Set(from_rapid),
        converted_from_review_id: Set(from_review),
        status: Set("scoping".to_string()),
        created_at: Set(now),
        reference: Set(Some(
            next_reference(db, new.review_type_code, new.commissioned_on).await?,
        )),
        title: Set(format!("{}: {}", review_type.name, case.pseudonym)),
        partnership_id: Set(partnership_id),
        methodology: Set(String::new()),
        terms_of_reference: Set(String::new()),
        subject_perspective: Set(String::new()),
        report_due_on: Set(report_due_on),
        hold_reason: Set(None),
        public_title: Set(String::new()),
        public_summary: Set(String::new()),
        public_report: Set(String::new()),
        published_on: Set(None),
        published_by: Set(None),
        intruder_check_by: Set(None),
        version: Set(1),
        updated_at: Set(Some(now)),
    })
    .exec_with_returning(db)
    .await?;
    stages::plan(db, &review, &config.review_stages(), &calendar).await?;
    Ok(review)
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
        NewReview {
            id: None,
            case_id: from.case_id,
            review_type_code: to_type,
            commissioned_on: on,
            origin: Origin::Review(review_id),
            partnership_id: from.partnership_id,
        },
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

/// Every review, newest first (the caller filters by what the reader may see).
pub async fn list(db: &impl ConnectionTrait) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .order_by_desc(Column::CommissionedOn)
        .order_by_desc(Column::CreatedAt)
        .all(db)
        .await?)
}

/// The review's own description, as edited on its page or through the API.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct DetailsInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub methodology: String,
    #[serde(default)]
    pub terms_of_reference: String,
    #[serde(default)]
    pub subject_perspective: String,
}

/// Changes the description; `version` must be the one the editor read.
pub async fn update_details(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    input: &DetailsInput,
    version: i32,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let review = get(db, review_id).await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let title = validate::required_text("title", &input.title, 200, &mut errors);
    let methodology = input.methodology.trim().to_string();
    if !methodology.is_empty() && !METHODOLOGIES.iter().any(|(key, _)| *key == methodology) {
        errors.push(FieldError::new(
            "methodology",
            "Choose a methodology from the list",
        ));
    }
    let terms = input.terms_of_reference.trim().to_string();
    if terms.chars().count() > 20_000 {
        errors.push(FieldError::new(
            "terms_of_reference",
            "The terms of reference must be 20,000 characters or fewer",
        ));
    }
    let perspective = input.subject_perspective.trim().to_string();
    if perspective.chars().count() > 20_000 {
        errors.push(FieldError::new(
            "subject_perspective",
            "The child's or adult's perspective must be 20,000 characters or fewer",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    bump(db, &review, version, now, |active| {
        active.title = Set(title);
        active.methodology = Set(methodology);
        active.terms_of_reference = Set(terms);
        active.subject_perspective = Set(perspective);
    })
    .await
}

/// Saves a change to the review row if nobody changed it since `version` was read.
pub(crate) async fn bump(
    db: &impl ConnectionTrait,
    review: &Model,
    version: i32,
    now: DateTime<Utc>,
    change: impl FnOnce(&mut ActiveModel),
) -> CoreResult<Model> {
    if review.version != version {
        return Err(CoreError::Conflict(format!(
            "the review was changed by someone else (now version {})",
            review.version
        )));
    }
    let mut active: ActiveModel = review.clone().into();
    change(&mut active);
    active.version = Set(review.version + 1);
    active.updated_at = Set(Some(now));
    let updated = Entity::update_many()
        .set(active)
        .filter(Column::Id.eq(review.id))
        .filter(Column::Version.eq(version))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(CoreError::Conflict(
            "the review was changed by someone else".to_string(),
        ));
    }
    get(db, review.id).await
}

/// A review with what the access rules and lists need from its case.
#[derive(Debug, Clone)]
pub struct Listed {
    pub review: Model,
    pub pseudonym: String,
    pub case_agency_ids: Vec<Uuid>,
}

/// Every review with its case's pseudonym and agencies, in three queries.
/// The listed reviews `actor` may see.
pub fn visible_to(actor: &crate::access::Actor, all: Vec<Listed>) -> Vec<Listed> {
    use crate::access::{Action, Record, can};
    all.into_iter()
        .filter(|listed| {
            can(
                actor,
                Action::ViewReview,
                Record::Review {
                    review_id: listed.review.id,
                    agency_ids: &listed.case_agency_ids,
                },
            )
        })
        .collect()
}

pub async fn list_with_cases(db: &impl ConnectionTrait) -> CoreResult<Vec<Listed>> {
    use crate::cases::entity as case_entity;
    let reviews = list(db).await?;
    let case_ids: Vec<Uuid> = reviews.iter().map(|review| review.case_id).collect();
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    let pseudonyms: std::collections::HashMap<Uuid, String> = case_entity::Entity::find()
        .filter(case_entity::Column::Id.is_in(case_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|case| (case.id, case.pseudonym))
        .collect();
    let mut agencies: std::collections::HashMap<Uuid, Vec<Uuid>> = std::collections::HashMap::new();
    for row in case_entity::agencies::Entity::find()
        .filter(case_entity::agencies::Column::CaseId.is_in(case_ids))
        .all(db)
        .await?
    {
        agencies.entry(row.case_id).or_default().push(row.agency_id);
    }
    Ok(reviews
        .into_iter()
        .map(|review| Listed {
            pseudonym: pseudonyms.get(&review.case_id).cloned().unwrap_or_default(),
            case_agency_ids: agencies.get(&review.case_id).cloned().unwrap_or_default(),
            review,
        })
        .collect())
}

/// Commissions a review directly (not from a decision), as entered on the new review page or
/// through the API.
pub async fn commission_direct(
    db: &impl ConnectionTrait,
    case_id: Option<Uuid>,
    type_code: &str,
    commissioned_on: &str,
    partnership_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let mut errors = Vec::new();
    let case = match case_id {
        Some(id) => crate::cases::entity::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    if case.is_none() {
        errors.push(FieldError::new(
            "case_id",
            "Choose the case the review is about",
        ));
    }
    let known_type = review_types::store::get(db, type_code).await.ok();
    if known_type.is_none() || type_code == review_types::SERIOUS_CHILD_CASE {
        errors.push(FieldError::new("review_type", "Choose the type of review"));
    }
    let on = crate::cases::parse_date("commissioned_on", commissioned_on, &mut errors);
    if on.is_some_and(|on| on > now.date_naive()) {
        errors.push(FieldError::new(
            "commissioned_on",
            "The date cannot be in the future",
        ));
    }
    if let Some(id) = partnership_id
        && crate::partnerships::entity::Entity::find_by_id(id)
            .one(db)
            .await?
            .is_none()
    {
        errors.push(FieldError::new(
            "partnership_id",
            "No partnership has this id",
        ));
    }
    let (Some(case), Some(on), true) = (case, on, errors.is_empty()) else {
        return Err(CoreError::Invalid(errors));
    };
    commission(
        db,
        NewReview {
            id: None,
            case_id: case.id,
            review_type_code: type_code,
            commissioned_on: on,
            origin: Origin::Direct,
            partnership_id,
        },
        now,
    )
    .await
}

// ----- Opening a review for a viewer -----

/// Whether `actor` may see the review: the review and its case, or not found.
pub async fn decide(
    db: &impl ConnectionTrait,
    actor: &crate::access::Actor,
    id: Uuid,
) -> CoreResult<crate::viewer::Decision<(Model, crate::cases::CaseRecord)>> {
    use crate::access::{Action, Record, can};
    let review = get(db, id).await?;
    let case = crate::cases::get(db, review.case_id).await?;
    let allowed = can(
        actor,
        Action::ViewReview,
        Record::Review {
            review_id: id,
            agency_ids: &case.agency_ids,
        },
    );
    Ok(crate::viewer::Decision::hidden_unless(
        allowed,
        (review, case),
    ))
}

/// Opens a review for a viewer: the decision ("review.view") is durable in the audit trail
/// before the review is returned. A review the viewer may not see is not found.
pub async fn open(
    db: &impl ConnectionTrait,
    recording: crate::viewer::Recording<'_>,
    viewer: &crate::viewer::Viewer<'_>,
    id: Uuid,
) -> CoreResult<(Model, crate::cases::CaseRecord)> {
    let subject = crate::viewer::Subject::new("review.view", "review", id);
    viewer
        .settle(db, recording, subject, decide(db, viewer.actor, id).await)
        .await
}
