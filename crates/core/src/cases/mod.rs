//! Cases: a serious incident notified to the partnership, the front door of the framework.
//! A case is about a child or an adult known by a pseudonym; their real name and date of birth
//! are protected fields. Deadlines, decisions and rapid reviews hang off the case.

pub mod attachments;
pub mod entity;
mod read;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};
use crate::{FieldError, agencies, partnerships, validate};
pub use entity::Model as Case;
pub use read::{decide, get, list, open, open_cases, reasons, reasons_of_cases};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Child,
    Adult,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Child => "child",
            SubjectKind::Adult => "adult",
        }
    }
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "child" => Some(SubjectKind::Child),
            "adult" => Some(SubjectKind::Adult),
            _ => None,
        }
    }
    /// The age bands a case of this kind may use.
    pub fn age_bands(self) -> &'static [&'static str] {
        match self {
            SubjectKind::Child => &["under 1", "1 to 4", "5 to 9", "10 to 15", "16 to 17"],
            SubjectKind::Adult => &["18 to 24", "25 to 64", "65 to 84", "85 and over"],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    Death,
    SeriousHarm,
    Other,
}

impl IncidentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::Death => "death",
            IncidentKind::SeriousHarm => "serious_harm",
            IncidentKind::Other => "other",
        }
    }
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "death" => Some(IncidentKind::Death),
            "serious_harm" => Some(IncidentKind::SeriousHarm),
            "other" => Some(IncidentKind::Other),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            IncidentKind::Death => "Died",
            IncidentKind::SeriousHarm => "Seriously harmed",
            IncidentKind::Other => "Other",
        }
    }
}

/// What a person supplies to notify a case (strings as typed, checked here).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CaseInput {
    pub subject_kind: String,
    pub incident_kind: String,
    /// YYYY-MM-DD: the day the partnership became aware (day 0 of every clock).
    pub aware_on: String,
    pub summary: String,
    pub pseudonym: String,
    pub age_band: String,
    #[serde(default)]
    pub subject_name: Option<String>,
    /// YYYY-MM-DD.
    #[serde(default)]
    pub subject_dob: Option<String>,
    pub referrer: String,
    #[serde(default)]
    pub partnership_ids: Vec<Uuid>,
    #[serde(default)]
    pub agency_ids: Vec<Uuid>,
    #[serde(default)]
    pub inquest: bool,
    #[serde(default)]
    pub criminal_proceedings: bool,
    #[serde(default)]
    pub police_investigation: bool,
    #[serde(default)]
    pub coroner: bool,
}

/// A case with the partnerships and agencies it concerns.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub case: Case,
    pub partnership_ids: Vec<Uuid>,
    pub agency_ids: Vec<Uuid>,
}

pub fn parse_date(field: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "Enter a real date in the form 2026-11-30",
            ));
            None
        }
    }
}

struct Checked {
    subject_kind: SubjectKind,
    incident_kind: IncidentKind,
    aware_on: NaiveDate,
    summary: String,
    pseudonym: String,
    age_band: String,
    subject_name: Option<String>,
    subject_dob: Option<NaiveDate>,
    referrer: String,
}

async fn check(
    db: &impl ConnectionTrait,
    input: &CaseInput,
    today: NaiveDate,
) -> CoreResult<Checked> {
    let mut errors = Vec::new();
    let subject_kind = SubjectKind::parse(&input.subject_kind);
    if subject_kind.is_none() {
        errors.push(FieldError::new(
            "subject_kind",
            "Choose whether the case is about a child or an adult",
        ));
    }
    let incident_kind = IncidentKind::parse(&input.incident_kind);
    if incident_kind.is_none() {
        errors.push(FieldError::new("incident_kind", "Choose what happened"));
    }
    let aware_on = parse_date("aware_on", &input.aware_on, &mut errors);
    if aware_on.is_some_and(|date| date > today) {
        errors.push(FieldError::new(
            "aware_on",
            "The date the partnership became aware must be today or in the past",
        ));
    }
    // In the order of the form, so the error summary reads top to bottom.
    let pseudonym = validate::required_text("pseudonym", &input.pseudonym, 64, &mut errors);
    let age_band = input.age_band.trim().to_string();
    if let Some(kind) = subject_kind
        && !kind.age_bands().contains(&age_band.as_str())
    {
        errors.push(FieldError::new("age_band", "Choose an age band"));
    }
    let summary = input.summary.trim().to_string();
    if summary.is_empty() {
        errors.push(FieldError::new("summary", "Enter what happened, in brief"));
    } else if summary.chars().count() > 4000 {
        errors.push(FieldError::new(
            "summary",
            "What happened must be 4000 characters or fewer",
        ));
    }
    let subject_name = validate::optional_text(
        "subject_name",
        input.subject_name.as_deref(),
        200,
        &mut errors,
    );
    let subject_dob = match input.subject_dob.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => {
            let date = parse_date("subject_dob", text, &mut errors);
            if date.is_some_and(|date| date > today) {
                errors.push(FieldError::new(
                    "subject_dob",
                    "The date of birth must be in the past",
                ));
            }
            date
        }
        _ => None,
    };
    let referrer = validate::required_text("referrer", &input.referrer, 200, &mut errors);
    if input.partnership_ids.is_empty() {
        errors.push(FieldError::new(
            "partnership_ids",
            "Choose at least one partnership",
        ));
    }
    for (index, id) in input.partnership_ids.iter().enumerate() {
        if partnerships::entity::Entity::find_by_id(*id)
            .one(db)
            .await?
            .is_none()
        {
            errors.push(FieldError::new(
                format!("partnership_ids[{index}]"),
                "No partnership has this id",
            ));
        }
    }
    for (index, id) in input.agency_ids.iter().enumerate() {
        if agencies::entity::Entity::find_by_id(*id)
            .one(db)
            .await?
            .is_none()
        {
            errors.push(FieldError::new(
                format!("agency_ids[{index}]"),
                "No agency has this id",
            ));
        }
    }
    match (subject_kind, incident_kind, aware_on, errors.is_empty()) {
        (Some(subject_kind), Some(incident_kind), Some(aware_on), true) => Ok(Checked {
            subject_kind,
            incident_kind,
            aware_on,
            summary,
            pseudonym,
            age_band,
            subject_name,
            subject_dob,
            referrer,
        }),
        _ => Err(CoreError::Invalid(errors)),
    }
}

async fn next_reference(db: &impl ConnectionTrait, aware_on: NaiveDate) -> CoreResult<String> {
    let prefix = format!("N-{}-", aware_on.year());
    let taken = entity::Entity::find()
        .filter(entity::Column::Reference.starts_with(prefix.as_str()))
        .count(db)
        .await?;
    Ok(format!("{prefix}{:04}", taken + 1))
}

async fn set_links(
    db: &impl ConnectionTrait,
    case_id: Uuid,
    partnership_ids: &[Uuid],
    agency_ids: &[Uuid],
) -> CoreResult<()> {
    entity::partnerships::Entity::delete_many()
        .filter(entity::partnerships::Column::CaseId.eq(case_id))
        .exec(db)
        .await?;
    entity::agencies::Entity::delete_many()
        .filter(entity::agencies::Column::CaseId.eq(case_id))
        .exec(db)
        .await?;
    let mut seen = Vec::new();
    for partnership_id in partnership_ids {
        if !seen.contains(partnership_id) {
            seen.push(*partnership_id);
            entity::partnerships::Entity::insert(entity::partnerships::ActiveModel {
                case_id: Set(case_id),
                partnership_id: Set(*partnership_id),
            })
            .exec_without_returning(db)
            .await?;
        }
    }
    let mut seen = Vec::new();
    for agency_id in agency_ids {
        if !seen.contains(agency_id) {
            seen.push(*agency_id);
            entity::agencies::Entity::insert(entity::agencies::ActiveModel {
                case_id: Set(case_id),
                agency_id: Set(*agency_id),
            })
            .exec_without_returning(db)
            .await?;
        }
    }
    Ok(())
}

/// Notifies a new case. Call inside a write transaction.
pub async fn create(
    db: &impl ConnectionTrait,
    input: CaseInput,
    created_by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<CaseRecord> {
    create_with_id(db, Uuid::now_v7(), input, created_by, now).await
}

/// Notifies a new case under an id the caller chose (so a change can name the record in its
/// audit entry before the case exists).
pub async fn create_with_id(
    db: &impl ConnectionTrait,
    id: Uuid,
    input: CaseInput,
    created_by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<CaseRecord> {
    let checked = check(db, &input, now.date_naive()).await?;
    let reference = next_reference(db, checked.aware_on).await?;
    let case = entity::Entity::insert(entity::ActiveModel {
        id: Set(id),
        reference: Set(reference),
        subject_kind: Set(checked.subject_kind.as_str().to_string()),
        incident_kind: Set(checked.incident_kind.as_str().to_string()),
        aware_on: Set(checked.aware_on),
        summary: Set(checked.summary),
        pseudonym: Set(checked.pseudonym),
        age_band: Set(checked.age_band),
        subject_name: Set(checked.subject_name),
        subject_dob: Set(checked.subject_dob),
        referrer: Set(checked.referrer),
        inquest: Set(input.inquest),
        criminal_proceedings: Set(input.criminal_proceedings),
        police_investigation: Set(input.police_investigation),
        coroner: Set(input.coroner),
        national_panel_notified_on: Set(None),
        national_panel_notified_by: Set(None),
        status: Set("open".to_string()),
        created_by: Set(created_by),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    })
    .exec_with_returning(db)
    .await?;
    set_links(db, case.id, &input.partnership_ids, &input.agency_ids).await?;
    get(db, case.id).await
}

/// Replaces a case's details. `version` is the version the editor saw; a stale one is
/// refused with [`CoreError::Conflict`].
pub async fn update(
    db: &impl ConnectionTrait,
    id: Uuid,
    version: i32,
    input: CaseInput,
    now: DateTime<Utc>,
) -> CoreResult<CaseRecord> {
    let current = get(db, id).await?.case;
    if current.version != version {
        return Err(CoreError::Conflict(format!(
            "This case was changed by someone else since you opened it (version {version}, now {})",
            current.version
        )));
    }
    let checked = check(db, &input, now.date_naive()).await?;
    let mut active: entity::ActiveModel = current.into();
    active.subject_kind = Set(checked.subject_kind.as_str().to_string());
    active.incident_kind = Set(checked.incident_kind.as_str().to_string());
    active.aware_on = Set(checked.aware_on);
    active.summary = Set(checked.summary);
    active.pseudonym = Set(checked.pseudonym);
    active.age_band = Set(checked.age_band);
    active.subject_name = Set(checked.subject_name);
    active.subject_dob = Set(checked.subject_dob);
    active.referrer = Set(checked.referrer);
    active.inquest = Set(input.inquest);
    active.criminal_proceedings = Set(input.criminal_proceedings);
    active.police_investigation = Set(input.police_investigation);
    active.coroner = Set(input.coroner);
    active.updated_at = Set(now);
    active.version = Set(version + 1);
    // The version in the WHERE clause makes the check and the write one step: of two
    // concurrent editors of the same version, exactly one succeeds.
    let updated = entity::Entity::update_many()
        .set(active)
        .filter(entity::Column::Id.eq(id))
        .filter(entity::Column::Version.eq(version))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(CoreError::Conflict(
            "This case was changed by someone else since you opened it".to_string(),
        ));
    }
    set_links(db, id, &input.partnership_ids, &input.agency_ids).await?;
    get(db, id).await
}

/// Records that the national panel was notified, when and by whom.
pub async fn record_national_panel_notification(
    db: &impl ConnectionTrait,
    id: Uuid,
    on: &str,
    by: &str,
    now: DateTime<Utc>,
) -> CoreResult<Case> {
    let case = get(db, id).await?.case;
    let mut errors = Vec::new();
    let date = parse_date("notified_on", on, &mut errors);
    if date.is_some_and(|date| date > now.date_naive() || date < case.aware_on) {
        errors.push(FieldError::new(
            "notified_on",
            "The date must be between the day the partnership became aware and today",
        ));
    }
    let by = validate::required_text("notified_by", by, 200, &mut errors);
    let Some(date) = date.filter(|_| errors.is_empty()) else {
        return Err(CoreError::Invalid(errors));
    };
    let version = case.version;
    let mut active: entity::ActiveModel = case.into();
    active.national_panel_notified_on = Set(Some(date));
    active.national_panel_notified_by = Set(Some(by));
    active.updated_at = Set(now);
    active.version = Set(version + 1);
    Ok(sea_orm::ActiveModelTrait::update(active, db).await?)
}

/// Records why a deadline was missed.
pub async fn record_deadline_reason(
    db: &impl ConnectionTrait,
    case_id: Uuid,
    deadline_key: &str,
    reason: &str,
    recorded_by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    let mut errors = Vec::new();
    if deadline_key.trim().is_empty() || deadline_key.len() > 64 {
        errors.push(FieldError::new("deadline_key", "Choose the deadline"));
    }
    let reason = validate::required_text("reason", reason, 2000, &mut errors);
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    get(db, case_id).await?;
    entity::reasons::Entity::insert(entity::reasons::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        deadline_key: Set(deadline_key.to_string()),
        reason: Set(reason),
        recorded_by: Set(recorded_by),
        recorded_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}
