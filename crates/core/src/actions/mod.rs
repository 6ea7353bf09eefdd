//! Actions: every recommendation, audit finding, complaint, risk or direct decision becomes
//! actions that an agency owns, with a lead, a due date, the intended outcome and how success
//! will be evidenced. Progress is a series of dated updates, never overwritten; the RAG rating
//! is derived from the latest status and the dates, the same way everywhere (pages, exports,
//! the dashboard, the API).

pub mod assurance;
mod checks;
pub mod import;
pub mod plans;
mod sources;
pub mod tags;
pub mod tracker;
pub mod updates;
mod viewing;

pub use sources::{SourceEntry, source_entry};
pub use tags::{themes_of, themes_of_many};
pub use viewing::{decide, may_sign_off, open};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};
use serde::Serialize;

use crate::error::{CoreError, CoreResult};
use crate::{FieldError, agencies, cases, people, themes, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "actions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// "ACT-2026-00042".
    pub reference: String,
    pub plan_id: Option<Uuid>,
    pub source_kind: String,
    /// The review recommendation it answers, when it came from one.
    pub source_entry_id: Option<Uuid>,
    pub review_id: Option<Uuid>,
    /// The SMART description.
    pub description: String,
    pub owner_agency_id: Uuid,
    pub lead_person_id: Option<Uuid>,
    pub due_on: NaiveDate,
    /// What will be different.
    pub intended_outcome: String,
    /// How success will be evidenced.
    pub success_evidence: String,
    /// The latest update's status (kept here so lists filter without reading the updates).
    pub status: String,
    pub status_on: NaiveDate,
    pub signed_off_on: Option<NaiveDate>,
    pub signed_off_by: Option<Uuid>,
    /// When the overdue action was escalated to the agency's safeguarding lead.
    pub escalated_on: Option<NaiveDate>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where an action comes from.
pub const SOURCES: [(&str, &str); 7] = [
    ("review", "Review recommendation"),
    ("audit", "Audit finding"),
    ("complaint", "Complaint"),
    ("whistleblowing", "Whistleblowing concern"),
    ("risk", "Risk register"),
    ("assurance", "Assurance check"),
    ("direct", "Raised directly"),
];

pub fn source_label(key: &str) -> &'static str {
    SOURCES
        .iter()
        .find(|(source, _)| *source == key)
        .map(|(_, label)| *label)
        .unwrap_or("Other")
}

/// The status an update gives an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotStarted,
    OnTrack,
    AtRisk,
    OffTrack,
    Completed,
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::NotStarted,
        Status::OnTrack,
        Status::AtRisk,
        Status::OffTrack,
        Status::Completed,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotStarted => "not_started",
            Status::OnTrack => "on_track",
            Status::AtRisk => "at_risk",
            Status::OffTrack => "off_track",
            Status::Completed => "completed",
            Status::Closed => "closed",
        }
    }

    pub fn parse(value: &str) -> Option<Status> {
        let value = value.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::NotStarted => "Not started",
            Status::OnTrack => "On track",
            Status::AtRisk => "At risk",
            Status::OffTrack => "Off track",
            Status::Completed => "Completed",
            Status::Closed => "Closed",
        }
    }

    /// Completed or closed: nothing more to do.
    pub fn is_done(self) -> bool {
        matches!(self, Status::Completed | Status::Closed)
    }
}

/// The RAG rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rag {
    Red,
    Amber,
    Green,
    /// Completed or closed.
    Complete,
}

impl Rag {
    pub const ALL: [Rag; 4] = [Rag::Red, Rag::Amber, Rag::Green, Rag::Complete];

    pub fn as_str(self) -> &'static str {
        match self {
            Rag::Red => "red",
            Rag::Amber => "amber",
            Rag::Green => "green",
            Rag::Complete => "complete",
        }
    }

    pub fn parse(value: &str) -> Option<Rag> {
        Rag::ALL.into_iter().find(|rag| rag.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Rag::Red => "Red",
            Rag::Amber => "Amber",
            Rag::Green => "Green",
            Rag::Complete => "Complete",
        }
    }
}

/// The one RAG rule: complete when completed or closed; red when off track or past its due
/// date; amber when at risk or due within `window_days`; green otherwise.
pub fn rag(status: Status, due_on: NaiveDate, today: NaiveDate, window_days: i64) -> Rag {
    if status.is_done() {
        Rag::Complete
    } else if status == Status::OffTrack || due_on < today {
        Rag::Red
    } else if status == Status::AtRisk || (due_on - today).num_days() <= window_days {
        Rag::Amber
    } else {
        Rag::Green
    }
}

impl Model {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::NotStarted)
    }

    pub fn rag(&self, today: NaiveDate, window_days: i64) -> Rag {
        rag(self.status(), self.due_on, today, window_days)
    }

    pub fn overdue(&self, today: NaiveDate) -> bool {
        !self.status().is_done() && self.due_on < today
    }
}

/// The reminder and assurance settings, kept in the settings table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Remind the lead this many days before the due date; also the amber window.
    pub remind_days_before: i64,
    /// Escalate to the agency's safeguarding lead this many days after the due date.
    pub escalate_days_overdue: i64,
    /// The assurance check falls due this many months after a plan is signed off.
    pub assurance_months: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            remind_days_before: 14,
            escalate_days_overdue: 14,
            assurance_months: 12,
        }
    }
}

impl Rules {
    pub async fn load(db: &impl ConnectionTrait) -> CoreResult<Rules> {
        let default = Rules::default();
        let number = |value: Option<String>, fallback: i64| {
            value
                .and_then(|text| text.trim().parse::<i64>().ok())
                .filter(|n| (0..=3650).contains(n))
                .unwrap_or(fallback)
        };
        Ok(Rules {
            remind_days_before: number(
                crate::settings::get(db, "actions.remind_days_before").await?,
                default.remind_days_before,
            ),
            escalate_days_overdue: number(
                crate::settings::get(db, "actions.escalate_days_overdue").await?,
                default.escalate_days_overdue,
            ),
            assurance_months: u32::try_from(number(
                crate::settings::get(db, "actions.assurance_months").await?,
                i64::from(default.assurance_months),
            ))
            .unwrap_or(default.assurance_months),
        })
    }
}

/// A new action as entered on a page, through the API or from an imported row.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAction {
    #[serde(default)]
    pub plan_id: Option<Uuid>,
    /// review, audit, complaint, whistleblowing, risk, assurance or direct.
    pub source_kind: String,
    /// The review recommendation it answers.
    #[serde(default)]
    pub source_entry_id: Option<Uuid>,
    pub description: String,
    pub owner_agency_id: Option<Uuid>,
    #[serde(default)]
    pub lead_person_id: Option<Uuid>,
    /// YYYY-MM-DD.
    pub due_on: String,
    #[serde(default)]
    pub intended_outcome: String,
    #[serde(default)]
    pub success_evidence: String,
    #[serde(default)]
    pub themes: Vec<String>,
    /// Its status when it is created (imports carry one); not started by default.
    #[serde(default)]
    pub status: Option<String>,
}

/// An action checked and ready to store.
#[derive(Debug, Clone)]
pub struct Checked {
    pub plan_id: Option<Uuid>,
    pub source_kind: String,
    pub source_entry_id: Option<Uuid>,
    pub review_id: Option<Uuid>,
    pub description: String,
    pub owner_agency_id: Uuid,
    pub lead_person_id: Option<Uuid>,
    pub due_on: NaiveDate,
    pub intended_outcome: String,
    pub success_evidence: String,
    pub themes: Vec<String>,
    pub status: Status,
}

/// Checks a new action, naming each bad field.
pub async fn check(db: &impl ConnectionTrait, input: &NewAction) -> CoreResult<Checked> {
    let mut errors: Vec<FieldError> = Vec::new();
    let source = input.source_kind.trim();
    if !SOURCES.iter().any(|(key, _)| *key == source) {
        errors.push(FieldError::new(
            "source_kind",
            "Choose where the action comes from",
        ));
    }
    let description =
        validate::required_text("description", &input.description, 4_000, &mut errors);
    let owner = match input.owner_agency_id {
        Some(id)
            if agencies::entity::Entity::find_by_id(id)
                .one(db)
                .await?
                .is_some() =>
        {
            Some(id)
        }
        Some(_) => {
            errors.push(FieldError::new("owner_agency_id", "No agency has this id"));
            None
        }
        None => {
            errors.push(FieldError::new(
                "owner_agency_id",
                "Choose the agency that owns the action",
            ));
            None
        }
    };
    if let Some(lead) = input.lead_person_id
        && people::entity::Entity::find_by_id(lead)
            .one(db)
            .await?
            .is_none()
    {
        errors.push(FieldError::new("lead_person_id", "No person has this id"));
    }
    let due = cases::parse_date("due_on", &input.due_on, &mut errors);
    let outcome = input.intended_outcome.trim().to_string();
    let evidence = input.success_evidence.trim().to_string();
    for (field, value) in [
        ("intended_outcome", &outcome),
        ("success_evidence", &evidence),
    ] {
        if value.chars().count() > 4_000 {
            errors.push(FieldError::new(
                field,
                "This must be 4,000 characters or fewer",
            ));
        }
    }
    let status = match &input.status {
        None => Some(Status::NotStarted),
        Some(text) if text.trim().is_empty() => Some(Status::NotStarted),
        Some(text) => Status::parse(text),
    };
    if status.is_none() {
        errors.push(FieldError::new(
            "status",
            "The status must be one of: not started, on track, at risk, off track, completed, closed",
        ));
    }
    let mut theme_codes: Vec<String> = input
        .themes
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    theme_codes.sort();
    theme_codes.dedup();
    if !theme_codes.is_empty() {
        let known: Vec<String> = themes::list(db)
            .await?
            .into_iter()
            .map(|t| t.code)
            .collect();
        for code in &theme_codes {
            if !known.contains(code) {
                errors.push(FieldError::new(
                    "themes",
                    format!("“{code}” is not a theme in the taxonomy"),
                ));
            }
        }
    }
    if let Some(plan) = input.plan_id
        && plans::Entity::find_by_id(plan).one(db).await?.is_none()
    {
        errors.push(FieldError::new("plan_id", "No action plan has this id"));
    }
    let mut review_id = None;
    if let Some(entry_id) = input.source_entry_id {
        match crate::reviews::entries::Entity::find_by_id(entry_id)
            .one(db)
            .await?
        {
            Some(entry) if entry.kind == crate::reviews::entries::RECOMMENDATION => {
                review_id = Some(entry.review_id);
            }
            _ => errors.push(FieldError::new(
                "source_entry_id",
                "No recommendation has this id",
            )),
        }
    }
    let (Some(owner), Some(due), Some(status), true) = (owner, due, status, errors.is_empty())
    else {
        return Err(CoreError::Invalid(errors));
    };
    Ok(Checked {
        plan_id: input.plan_id,
        source_kind: source.to_string(),
        source_entry_id: input.source_entry_id,
        review_id,
        description,
        owner_agency_id: owner,
        lead_person_id: input.lead_person_id,
        due_on: due,
        intended_outcome: outcome,
        success_evidence: evidence,
        themes: theme_codes,
        status,
    })
}

/// The next reference for the year: "ACT-2026-00042".
async fn next_reference(db: &impl ConnectionTrait, year: i32) -> CoreResult<String> {
    let prefix = format!("ACT-{year}-");
    let last = Entity::find()
        .filter(Column::Reference.starts_with(prefix.as_str()))
        .order_by_desc(Column::Reference)
        .one(db)
        .await?
        .and_then(|action| action.reference[prefix.len()..].parse::<u32>().ok())
        .unwrap_or(0);
    Ok(format!("{prefix}{:05}", last + 1))
}

/// Stores a checked action, with a first update recording how it started.
pub async fn store(
    db: &impl ConnectionTrait,
    checked: Checked,
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    store_with_id(db, Uuid::now_v7(), checked, by, now).await
}

/// `store` under an id the caller chose (so a change can name the action in its audit entry
/// before it exists).
async fn store_with_id(
    db: &impl ConnectionTrait,
    id: Uuid,
    checked: Checked,
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let today = now.date_naive();
    let action = Entity::insert(ActiveModel {
        id: Set(id),
        reference: Set(next_reference(db, today.year()).await?),
        plan_id: Set(checked.plan_id),
        source_kind: Set(checked.source_kind),
        source_entry_id: Set(checked.source_entry_id),
        review_id: Set(checked.review_id),
        description: Set(checked.description),
        owner_agency_id: Set(checked.owner_agency_id),
        lead_person_id: Set(checked.lead_person_id),
        due_on: Set(checked.due_on),
        intended_outcome: Set(checked.intended_outcome),
        success_evidence: Set(checked.success_evidence),
        status: Set(checked.status.as_str().to_string()),
        status_on: Set(today),
        signed_off_on: Set(None),
        signed_off_by: Set(None),
        escalated_on: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_with_returning(db)
    .await?;
    for code in &checked.themes {
        tags::Entity::insert(tags::ActiveModel {
            action_id: Set(action.id),
            theme_code: Set(code.clone()),
        })
        .exec_without_returning(db)
        .await?;
    }
    updates::Entity::insert(updates::ActiveModel {
        id: Set(Uuid::now_v7()),
        action_id: Set(action.id),
        status: Set(checked.status.as_str().to_string()),
        narrative: Set("Action agreed.".to_string()),
        written_by: Set(by),
        written_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(action)
}

/// Checks and stores a new action.
pub async fn create(
    db: &impl ConnectionTrait,
    input: &NewAction,
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    create_with_id(db, Uuid::now_v7(), input, by, now).await
}

/// Checks and stores a new action under an id the caller chose.
pub async fn create_with_id(
    db: &impl ConnectionTrait,
    id: Uuid,
    input: &NewAction,
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let checked = check(db, input).await?;
    store_with_id(db, id, checked, by, now).await
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}
