//! A case's page: its details, deadlines, decisions, rapid reviews, reviews and attachments.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use learnloop_core::access::{Action, Record, can};
use learnloop_core::cases::{self, CaseRecord, SubjectKind};
use learnloop_core::deadlines::{self, Deadline};
use learnloop_core::{
    FieldError, agencies, calendar, partnerships, rapid_reviews, review_types, reviews,
};
use uuid::Uuid;

use super::{incident_label, subject_label};
use crate::error::PageResult;
use crate::extract::{Caller, RecordId, journal};
use crate::pages::dates;
use crate::pages::layout::{Layout, render};
use crate::state::AppState;

/// A deadline as pages show it.
pub struct DeadlineRow {
    pub key: String,
    pub label: String,
    pub due_on: String,
    pub remaining: String,
    pub state: &'static str,
    pub covered: bool,
    pub reason: String,
    /// Overdue or met late: a reason can be recorded.
    pub missed: bool,
}

pub fn deadline_row(deadline: &Deadline) -> DeadlineRow {
    let remaining = match deadline.state {
        deadlines::State::Met | deadlines::State::MetLate => String::new(),
        _ if deadline.working_days_remaining == 0 => "Due today".to_string(),
        _ if deadline.working_days_remaining > 0 => {
            format!("{} working days left", deadline.working_days_remaining)
        }
        _ => format!("{} working days overdue", -deadline.working_days_remaining),
    };
    let state = match deadline.state {
        deadlines::State::Due => "Due",
        deadlines::State::Overdue => "Overdue",
        deadlines::State::Met => "Met",
        deadlines::State::MetLate => "Met late",
    };
    DeadlineRow {
        key: deadline.name.clone(),
        label: deadline.label.clone(),
        // "Mon 5 Jan 2026": the deadlines table's own short form with the weekday, which
        // `dates` does not have.
        due_on: deadline.due_on.format("%a %-d %b %Y").to_string(),
        remaining,
        state,
        covered: deadline.calendar_covered,
        reason: deadline.missed_reason.clone().unwrap_or_default(),
        missed: matches!(
            deadline.state,
            deadlines::State::Overdue | deadlines::State::MetLate
        ),
    }
}

struct DecisionRow {
    review_type: String,
    recommendation: &'static str,
    outcome: &'static str,
    overridden: bool,
    override_reason: String,
    rationale: String,
    immediate_actions: String,
    decided_on: String,
}

struct ReviewRow {
    id: String,
    review_type: String,
    commissioned_on: String,
    status: String,
    converted_from: String,
}

struct TypeLink {
    code: String,
    name: String,
}

#[derive(Template)]
#[template(path = "pages/case.html")]
struct CasePage {
    layout: Layout,
    record: CaseRecord,
    subject: &'static str,
    incident: &'static str,
    show_identity: bool,
    can_manage: bool,
    partnerships: Vec<String>,
    agencies: Vec<String>,
    parallel: Vec<&'static str>,
    deadlines: Vec<DeadlineRow>,
    decisions: Vec<DecisionRow>,
    rapid_reviews: Vec<(String, String)>,
    reviews: Vec<ReviewRow>,
    decision_types: Vec<TypeLink>,
    /// (id, name, size in KB, uploaded on) of each attached file.
    attachments: Vec<(String, String, String, String)>,
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> PageResult<Html<String>> {
    case_page(&state, &caller, id, Vec::new()).await
}

/// The names of `ids` from `names`, sorted.
fn names_of(ids: &[Uuid], names: &HashMap<Uuid, String>) -> Vec<String> {
    let mut found: Vec<String> = ids.iter().filter_map(|id| names.get(id).cloned()).collect();
    found.sort();
    found
}

/// The case's page, with `errors` from a change that was refused.
pub async fn case_page(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let today = caller.now.date_naive();
    let txn = state.db.read().await?;
    let record = cases::open(&txn, journal(state), &caller.viewer(), id).await?;
    let calendar = calendar::store::load(&txn).await?;
    let (loaded, deadlines) = deadlines::of_case(&txn, &record, &calendar, today).await?;
    let partnership_names: HashMap<Uuid, String> = partnerships::list(&txn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let agency_names: HashMap<Uuid, String> = agencies::list(&txn)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let attachments = cases::attachments::of_case(&txn, id)
        .await?
        .into_iter()
        .map(|a| {
            (
                a.id.to_string(),
                a.file_name,
                format!("{} KB", (a.size_bytes + 1023) / 1024),
                dates::long(a.uploaded_at.date_naive()),
            )
        })
        .collect();
    let types = review_types::store::list(&txn).await?;
    txn.commit().await?;
    let type_names: HashMap<String, String> = types
        .iter()
        .map(|t| (t.code.clone(), t.name.clone()))
        .collect();
    let type_name = |code: &str| type_names.get(code).cloned().unwrap_or_default();
    let subject = SubjectKind::parse(&record.case.subject_kind).unwrap_or(SubjectKind::Adult);
    let decision_types = types
        .iter()
        .filter(|t| match t.family.as_str() {
            "children" => subject == SubjectKind::Child,
            "adults" => subject == SubjectKind::Adult,
            _ => true,
        })
        .filter(|t| !t.config().criteria.is_empty())
        .map(|t| TypeLink {
            code: t.code.clone(),
            name: t.name.clone(),
        })
        .collect();
    let parallel = [
        (record.case.inquest, "Inquest"),
        (record.case.criminal_proceedings, "Criminal proceedings"),
        (record.case.police_investigation, "Police investigation"),
        (record.case.coroner, "Coroner's investigation"),
    ]
    .into_iter()
    .filter_map(|(on, label)| on.then_some(label))
    .collect();
    let decisions = loaded
        .decisions
        .iter()
        .map(|d| DecisionRow {
            review_type: type_name(&d.review_type_code),
            recommendation: review_types::Recommendation::parse(&d.recommendation)
                .map(|r| r.label())
                .unwrap_or(""),
            outcome: if d.holds_review() {
                "Review"
            } else {
                "No review"
            },
            overridden: d.overridden,
            override_reason: d.override_reason.clone().unwrap_or_default(),
            rationale: d.rationale.clone(),
            immediate_actions: d.immediate_actions.clone().unwrap_or_default(),
            decided_on: dates::long(d.decided_on),
        })
        .collect();
    let rapid = loaded
        .rapid_reviews
        .iter()
        .map(|full| {
            let outcome = full
                .review
                .outcome
                .as_deref()
                .and_then(rapid_reviews::Outcome::parse)
                .map(|o| o.label().to_string())
                .unwrap_or_else(|| "In progress".to_string());
            (full.review.id.to_string(), outcome)
        })
        .collect();
    let reviews = loaded
        .reviews
        .iter()
        .map(|r| review_row(r, &type_name))
        .collect();
    let actor = caller.actor();
    let case_record = Record::Case {
        agency_ids: &record.agency_ids,
    };
    let show_identity = can(actor, Action::ViewCaseIdentity, case_record);
    let can_manage = can(actor, Action::ManageCase, case_record);
    render(&CasePage {
        layout: Layout::new(
            format!("{} ({})", record.case.pseudonym, record.case.reference),
            "/cases",
        )
        .with_errors(errors),
        subject: subject_label(&record.case.subject_kind),
        incident: incident_label(&record.case.incident_kind),
        show_identity,
        can_manage,
        partnerships: names_of(&record.partnership_ids, &partnership_names),
        agencies: names_of(&record.agency_ids, &agency_names),
        record,
        parallel,
        deadlines: deadlines.iter().map(deadline_row).collect(),
        decisions,
        rapid_reviews: rapid,
        reviews,
        decision_types,
        attachments,
    })
}

fn review_row(review: &reviews::Model, type_name: &impl Fn(&str) -> String) -> ReviewRow {
    ReviewRow {
        id: review.id.to_string(),
        review_type: type_name(&review.review_type_code),
        commissioned_on: dates::long(review.commissioned_on),
        status: review.status.replace('_', " "),
        converted_from: if review.converted_from_rapid_review_id.is_some() {
            "Converted from the rapid review".to_string()
        } else if review.converted_from_review_id.is_some() {
            "Converted from another review".to_string()
        } else {
            String::new()
        },
    }
}
