//! Cases (notifications): the list, notifying a new case, and a case's page with its deadlines,
//! decisions, rapid reviews and reviews. Reading a case is recorded in the audit trail.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use learnloop_core::access::{Action, Actor, Record, can};
use learnloop_core::cases::{self, CaseInput, CaseRecord, IncidentKind, SubjectKind};
use learnloop_core::deadlines::{self, Deadline};
use learnloop_core::{
    CoreError, FieldError, agencies, audit, calendar, decisions, partnerships, rapid_reviews,
    review_types, reviews,
};
use serde::Deserialize;
use uuid::Uuid;

use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::CsrfForm;
use crate::auth::{SignedIn, Source};
use crate::error::PageResult;
use crate::state::AppState;

const PAGE_SIZE: u64 = 25;

/// Everything the clocks of a case need, loaded.
pub struct Loaded {
    pub decisions: Vec<decisions::Model>,
    pub rapid_reviews: Vec<rapid_reviews::Full>,
    pub reviews: Vec<reviews::Model>,
    pub reasons: Vec<cases::entity::reasons::Model>,
}

pub async fn load_related(
    db: &impl sea_orm::ConnectionTrait,
    case_id: Uuid,
) -> Result<Loaded, CoreError> {
    Ok(Loaded {
        decisions: decisions::of_case(db, case_id).await?,
        rapid_reviews: rapid_reviews::of_case(db, case_id).await?,
        reviews: reviews::of_case(db, case_id).await?,
        reasons: cases::reasons(db, case_id).await?,
    })
}

/// What the clocks need for many cases at once: four queries per 500 cases, not four per case.
pub async fn load_related_many(
    db: &impl sea_orm::ConnectionTrait,
    case_ids: &[Uuid],
) -> Result<HashMap<Uuid, Loaded>, CoreError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let mut loaded: HashMap<Uuid, Loaded> = case_ids
        .iter()
        .map(|id| {
            (
                *id,
                Loaded {
                    decisions: Vec::new(),
                    rapid_reviews: Vec::new(),
                    reviews: Vec::new(),
                    reasons: Vec::new(),
                },
            )
        })
        .collect();
    for chunk in case_ids.chunks(500) {
        let ids = chunk.to_vec();
        for decision in decisions::Entity::find()
            .filter(decisions::Column::CaseId.is_in(ids.clone()))
            .order_by_asc(decisions::Column::CreatedAt)
            .all(db)
            .await?
        {
            if let Some(entry) = loaded.get_mut(&decision.case_id) {
                entry.decisions.push(decision);
            }
        }
        for rapid in rapid_reviews::entity::Entity::find()
            .filter(rapid_reviews::entity::Column::CaseId.is_in(ids.clone()))
            .order_by_asc(rapid_reviews::entity::Column::CreatedAt)
            .all(db)
            .await?
        {
            let full = rapid_reviews::get(db, rapid.id).await?;
            if let Some(entry) = loaded.get_mut(&rapid.case_id) {
                entry.rapid_reviews.push(full);
            }
        }
        for review in reviews::Entity::find()
            .filter(reviews::Column::CaseId.is_in(ids.clone()))
            .order_by_asc(reviews::Column::CreatedAt)
            .all(db)
            .await?
        {
            if let Some(entry) = loaded.get_mut(&review.case_id) {
                entry.reviews.push(review);
            }
        }
        for reason in cases::entity::reasons::Entity::find()
            .filter(cases::entity::reasons::Column::CaseId.is_in(ids))
            .order_by_asc(cases::entity::reasons::Column::RecordedAt)
            .all(db)
            .await?
        {
            if let Some(entry) = loaded.get_mut(&reason.case_id) {
                entry.reasons.push(reason);
            }
        }
    }
    Ok(loaded)
}

/// The deadlines of a case.
/// What the clocks need from the review types' configuration, read once per request.
pub struct TypeClocks {
    serious_child_case: review_types::Config,
    report_months: HashMap<String, Option<u32>>,
}

impl TypeClocks {
    pub async fn load(db: &impl sea_orm::ConnectionTrait) -> Result<Self, CoreError> {
        let types = review_types::store::list(db).await?;
        Ok(TypeClocks {
            serious_child_case: types
                .iter()
                .find(|t| t.code == review_types::SERIOUS_CHILD_CASE)
                .map(|t| t.config())
                .unwrap_or_default(),
            report_months: types
                .iter()
                .map(|t| (t.code.clone(), t.config().clocks.report_months))
                .collect(),
        })
    }
}

/// The deadlines of a case.
pub fn deadlines_of(
    record: &CaseRecord,
    loaded: &Loaded,
    types: &TypeClocks,
    calendar: &calendar::Calendar,
    today: chrono::NaiveDate,
) -> Vec<Deadline> {
    let report_months = |code: &str| types.report_months.get(code).copied().flatten();
    let clocks = deadlines::CaseClocks {
        record,
        decisions: &loaded.decisions,
        rapid_reviews: &loaded.rapid_reviews,
        reviews: &loaded.reviews,
        reasons: &loaded.reasons,
        serious_child_case: &types.serious_child_case,
        report_months: &report_months,
    };
    deadlines::for_case(&clocks, calendar, today)
}

/// The open cases the actor may see, each with its deadlines: for the deadlines page, the
/// dashboard and the calendar feed.
pub async fn open_deadlines(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    calendar: &calendar::Calendar,
    today: chrono::NaiveDate,
) -> Result<Vec<(CaseRecord, Vec<Deadline>)>, CoreError> {
    let scope = learnloop_core::access::case_scope(actor);
    let types = TypeClocks::load(db).await?;
    let visible: Vec<CaseRecord> = cases::open_cases(db)
        .await?
        .into_iter()
        .filter(|record| {
            can(
                actor,
                Action::ViewCase,
                Record::Case {
                    agency_ids: &record.agency_ids,
                },
            ) && scope
                .as_ref()
                .is_none_or(|agencies| record.agency_ids.iter().any(|id| agencies.contains(id)))
        })
        .collect();
    let ids: Vec<Uuid> = visible.iter().map(|record| record.case.id).collect();
    let mut loaded = load_related_many(db, &ids).await?;
    let mut found = Vec::new();
    for record in visible {
        if let Some(related) = loaded.remove(&record.case.id) {
            let deadlines = deadlines_of(&record, &related, &types, calendar, today);
            found.push((record, deadlines));
        }
    }
    Ok(found)
}

pub fn subject_label(kind: &str) -> &'static str {
    match SubjectKind::parse(kind) {
        Some(SubjectKind::Child) => "Child",
        _ => "Adult",
    }
}

pub fn incident_label(kind: &str) -> &'static str {
    IncidentKind::parse(kind)
        .map(IncidentKind::label)
        .unwrap_or("Other")
}

struct CaseRow {
    id: String,
    reference: String,
    pseudonym: String,
    subject: &'static str,
    incident: &'static str,
    aware_on: String,
    status: String,
}

#[derive(Template)]
#[template(path = "pages/cases.html")]
struct CasesPage {
    layout: Layout,
    rows: Vec<CaseRow>,
    can_manage: bool,
    page: u64,
    pages: u64,
    total: u64,
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<u64>,
}

pub async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Query(query): Query<PageQuery>,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let page = query.page.unwrap_or(1).max(1);
    let txn = state.db.read().await?;
    let scope = learnloop_core::access::case_scope(&signed_in.actor);
    let (records, total) =
        cases::list(&txn, scope.as_deref(), (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
    state
        .db
        .journal()
        .record(
            audit::Event::new("cases.list", "allowed")
                .by(&signed_in.actor)
                .from_source(source),
            now,
        )
        .await?;
    txn.commit().await?;
    let rows = records
        .into_iter()
        .filter(|record| {
            can(
                &signed_in.actor,
                Action::ViewCase,
                Record::Case {
                    agency_ids: &record.agency_ids,
                },
            )
        })
        .map(|record| CaseRow {
            id: record.case.id.to_string(),
            reference: record.case.reference,
            pseudonym: record.case.pseudonym,
            subject: subject_label(&record.case.subject_kind),
            incident: incident_label(&record.case.incident_kind),
            aware_on: record.case.aware_on.format("%-d %B %Y").to_string(),
            status: record.case.status,
        })
        .collect();
    render(&CasesPage {
        layout: Layout::new("Cases", "/cases"),
        rows,
        can_manage: can(&signed_in.actor, Action::ManageCase, Record::None),
        page,
        pages: total.div_ceil(PAGE_SIZE).max(1),
        total,
    })
}

struct Choice {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "pages/case_new.html")]
struct NewCasePage {
    layout: Layout,
    /// Where the form posts, its heading and button: notifying and editing share the form.
    action: String,
    heading: String,
    button: &'static str,
    /// The version being edited (editing only).
    version: Option<i32>,
    /// After a conflict: what someone else changed, as (field, their value).
    changes: Vec<(&'static str, String)>,
    form: Pairs,
    partnerships: Vec<Choice>,
    agencies: Vec<Choice>,
    child_bands: Vec<&'static str>,
    adult_bands: Vec<&'static str>,
}

impl NewCasePage {
    fn value(&self, name: &str) -> String {
        forms::field(&self.form, name)
    }
    fn is(&self, name: &str, value: &str) -> bool {
        forms::field(&self.form, name) == value
    }
    fn ticked(&self, name: &str) -> bool {
        forms::checked(&self.form, name)
    }
}

/// The case form: notifying a new case, or editing one (`editing` holds its id and version,
/// and any changes someone else made meanwhile).
struct Editing {
    id: Uuid,
    version: i32,
    changes: Vec<(&'static str, String)>,
}

async fn new_case_page(
    state: &AppState,
    form: Pairs,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    case_form_page(state, form, errors, None).await
}

async fn case_form_page(
    state: &AppState,
    form: Pairs,
    errors: Vec<FieldError>,
    editing: Option<Editing>,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let chosen_partnerships = forms::all(&form, "partnership_ids");
    let chosen_agencies = forms::all(&form, "agency_ids");
    let partnerships = partnerships::list(&txn)
        .await?
        .into_iter()
        .map(|p| Choice {
            checked: chosen_partnerships.contains(&p.id.to_string()),
            value: p.id.to_string(),
            label: p.name,
        })
        .collect();
    let agencies = agencies::list(&txn)
        .await?
        .into_iter()
        .map(|a| Choice {
            checked: chosen_agencies.contains(&a.id.to_string()),
            value: a.id.to_string(),
            label: a.name,
        })
        .collect();
    txn.commit().await?;
    let (title, action, button, version, changes) = match editing {
        Some(editing) => (
            "Change the case".to_string(),
            format!("/cases/{}/edit", editing.id),
            "Save the changes",
            Some(editing.version),
            editing.changes,
        ),
        None => (
            "Notify a case".to_string(),
            "/cases/new".to_string(),
            "Notify the case",
            None,
            Vec::new(),
        ),
    };
    render(&NewCasePage {
        layout: Layout::new(title.clone(), "/cases").with_errors(errors),
        action,
        heading: title,
        button,
        version,
        changes,
        form,
        partnerships,
        agencies,
        child_bands: SubjectKind::Child.age_bands().to_vec(),
        adult_bands: SubjectKind::Adult.age_bands().to_vec(),
    })
}

pub async fn new_form(State(state): State<AppState>) -> PageResult<Html<String>> {
    new_case_page(&state, Vec::new(), Vec::new()).await
}

pub fn input_from(form: &Pairs) -> CaseInput {
    let optional =
        |name: &str| Some(forms::field(form, name)).filter(|value| !value.trim().is_empty());
    let subject_kind = forms::field(form, "subject_kind");
    let band_field = if subject_kind == "adult" {
        "age_band_adult"
    } else {
        "age_band_child"
    };
    CaseInput {
        subject_kind,
        incident_kind: forms::field(form, "incident_kind"),
        aware_on: forms::field(form, "aware_on"),
        summary: forms::field(form, "summary"),
        pseudonym: forms::field(form, "pseudonym"),
        age_band: forms::field(form, band_field),
        subject_name: optional("subject_name"),
        subject_dob: optional("subject_dob"),
        referrer: forms::field(form, "referrer"),
        partnership_ids: forms::ids(form, "partnership_ids"),
        agency_ids: forms::ids(form, "agency_ids"),
        inquest: forms::checked(form, "inquest"),
        criminal_proceedings: forms::checked(form, "criminal_proceedings"),
        police_investigation: forms::checked(form, "police_investigation"),
        coroner: forms::checked(form, "coroner"),
    }
}

pub async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    match cases::create(&txn, input_from(&form), signed_in.person.id, now).await {
        Ok(record) => {
            audit::append(
                &txn,
                audit::Event::new("case.create", "succeeded")
                    .by(&signed_in.actor)
                    .on("case", record.case.id)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/cases/{}", record.case.id)).into_response())
        }
        Err(CoreError::Invalid(mut errors)) => {
            txn.rollback().await?;
            for error in &mut errors {
                if error.field == "age_band" {
                    error.field = if forms::field(&form, "subject_kind") == "adult" {
                        "age_band_adult"
                    } else {
                        "age_band_child"
                    }
                    .to_string();
                }
                if error.field.starts_with("partnership_ids") {
                    error.field = "partnership_ids".to_string();
                }
            }
            Ok(new_case_page(&state, form, errors).await?.into_response())
        }
        Err(other) => Err(other.into()),
    }
}

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
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    case_page(&state, &signed_in, id, source, Vec::new()).await
}

pub async fn case_page(
    state: &AppState,
    signed_in: &SignedIn,
    id: Uuid,
    source: Option<String>,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let today = now.date_naive();
    let txn = state.db.read().await?;
    let record = learnloop_core::cases::open(
        &txn,
        crate::extract::journal(state),
        &crate::extract::viewer(signed_in, &source, now),
        id,
    )
    .await?;
    let calendar = calendar::store::load(&txn).await?;
    let loaded = load_related(&txn, id).await?;
    let deadlines = deadlines_of(
        &record,
        &loaded,
        &TypeClocks::load(&txn).await?,
        &calendar,
        today,
    );
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
                a.uploaded_at.format("%-d %B %Y").to_string(),
            )
        })
        .collect();
    let types = review_types::store::list(&txn).await?;
    let type_names: HashMap<String, String> = types
        .iter()
        .map(|t| (t.code.clone(), t.name.clone()))
        .collect();
    txn.commit().await?;
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
    let mut parallel = Vec::new();
    if record.case.inquest {
        parallel.push("Inquest");
    }
    if record.case.criminal_proceedings {
        parallel.push("Criminal proceedings");
    }
    if record.case.police_investigation {
        parallel.push("Police investigation");
    }
    if record.case.coroner {
        parallel.push("Coroner's investigation");
    }
    let deadlines = deadlines.iter().map(deadline_row).collect();
    let decisions = loaded
        .decisions
        .iter()
        .map(|d| DecisionRow {
            review_type: type_names
                .get(&d.review_type_code)
                .cloned()
                .unwrap_or_default(),
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
            decided_on: d.decided_on.format("%-d %B %Y").to_string(),
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
        .map(|r| ReviewRow {
            id: r.id.to_string(),
            review_type: type_names
                .get(&r.review_type_code)
                .cloned()
                .unwrap_or_default(),
            commissioned_on: r.commissioned_on.format("%-d %B %Y").to_string(),
            status: r.status.replace('_', " "),
            converted_from: if r.converted_from_rapid_review_id.is_some() {
                "Converted from the rapid review".to_string()
            } else if r.converted_from_review_id.is_some() {
                "Converted from another review".to_string()
            } else {
                String::new()
            },
        })
        .collect();
    let mut partnerships: Vec<String> = record
        .partnership_ids
        .iter()
        .filter_map(|id| partnership_names.get(id).cloned())
        .collect();
    partnerships.sort();
    let mut agencies: Vec<String> = record
        .agency_ids
        .iter()
        .filter_map(|id| agency_names.get(id).cloned())
        .collect();
    agencies.sort();
    render(&CasePage {
        layout: Layout::new(
            format!("{} ({})", record.case.pseudonym, record.case.reference),
            "/cases",
        )
        .with_errors(errors),
        subject: subject_label(&record.case.subject_kind),
        incident: incident_label(&record.case.incident_kind),
        show_identity: can(
            &signed_in.actor,
            Action::ViewCaseIdentity,
            Record::Case {
                agency_ids: &record.agency_ids,
            },
        ),
        can_manage: can(
            &signed_in.actor,
            Action::ManageCase,
            Record::Case {
                agency_ids: &record.agency_ids,
            },
        ),
        record,
        partnerships,
        agencies,
        parallel,
        deadlines,
        decisions,
        rapid_reviews: rapid,
        reviews,
        decision_types,
        attachments,
    })
}

#[derive(Deserialize)]
pub struct NotifiedForm {
    #[serde(default)]
    notified_on: String,
    #[serde(default)]
    notified_by: String,
}

/// Runs a change to a case the actor may see, records it in the audit trail, and returns to
/// the case page (or shows it again with the field errors).
async fn change_case<F, Fut>(
    state: &AppState,
    signed_in: &SignedIn,
    id: Uuid,
    source: Option<String>,
    action: &str,
    apply: F,
) -> PageResult<Response>
where
    F: FnOnce(sea_orm::DatabaseTransaction) -> Fut,
    Fut: std::future::Future<Output = (sea_orm::DatabaseTransaction, Result<(), CoreError>)>,
{
    let now = state.clock.now();
    let txn = state.db.write().await?;
    learnloop_core::cases::open(
        &txn,
        learnloop_core::viewer::Recording::InTransaction,
        &crate::extract::viewer(signed_in, &source, now),
        id,
    )
    .await?;
    let (txn, result) = apply(txn).await;
    match result {
        Ok(()) => {
            let event = audit::Event::new(action, "succeeded")
                .by(&signed_in.actor)
                .on("case", id)
                .from_source(source);
            audit::append(&txn, event, now).await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/cases/{id}")).into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            Ok(case_page(state, signed_in, id, source, errors)
                .await?
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn national_panel(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<NotifiedForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    change_case(
        &state,
        &signed_in,
        id,
        source,
        "case.national_panel_notified",
        |txn| async move {
            let result = cases::record_national_panel_notification(
                &txn,
                id,
                &form.notified_on,
                &form.notified_by,
                now,
            )
            .await
            .map(|_| ());
            (txn, result)
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    deadline_key: String,
    #[serde(default)]
    reason: String,
}

pub async fn deadline_reason(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let person_id = signed_in.person.id;
    change_case(
        &state,
        &signed_in,
        id,
        source,
        "case.deadline_reason",
        |txn| async move {
            let result = cases::record_deadline_reason(
                &txn,
                id,
                &form.deadline_key,
                &form.reason,
                person_id,
                now,
            )
            .await;
            (txn, result)
        },
    )
    .await
}

/// The case as the form's fields, to edit it.
fn form_of(record: &CaseRecord) -> Pairs {
    let case = &record.case;
    let mut pairs: Pairs = vec![
        ("subject_kind".to_string(), case.subject_kind.clone()),
        ("incident_kind".to_string(), case.incident_kind.clone()),
        (
            "aware_on".to_string(),
            case.aware_on.format("%Y-%m-%d").to_string(),
        ),
        ("pseudonym".to_string(), case.pseudonym.clone()),
        (
            if case.subject_kind == "adult" {
                "age_band_adult"
            } else {
                "age_band_child"
            }
            .to_string(),
            case.age_band.clone(),
        ),
        ("summary".to_string(), case.summary.clone()),
        ("referrer".to_string(), case.referrer.clone()),
        (
            "subject_name".to_string(),
            case.subject_name.clone().unwrap_or_default(),
        ),
        (
            "subject_dob".to_string(),
            case.subject_dob
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        ),
    ];
    for (flag, on) in [
        ("inquest", case.inquest),
        ("criminal_proceedings", case.criminal_proceedings),
        ("police_investigation", case.police_investigation),
        ("coroner", case.coroner),
    ] {
        if on {
            pairs.push((flag.to_string(), "yes".to_string()));
        }
    }
    pairs.extend(
        record
            .partnership_ids
            .iter()
            .map(|id| ("partnership_ids".to_string(), id.to_string())),
    );
    pairs.extend(
        record
            .agency_ids
            .iter()
            .map(|id| ("agency_ids".to_string(), id.to_string())),
    );
    pairs
}

pub async fn edit_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let txn = state.db.read().await?;
    let record = learnloop_core::cases::open(
        &txn,
        crate::extract::journal(&state),
        &crate::extract::viewer(&signed_in, &source, now),
        id,
    )
    .await?;
    txn.commit().await?;
    let editing = Editing {
        id,
        version: record.case.version,
        changes: Vec::new(),
    };
    case_form_page(&state, form_of(&record), Vec::new(), Some(editing)).await
}

/// The fields someone else changed: where the current case differs from what this person saw
/// and sent, with the current value.
fn changed_fields(current: &Pairs, sent: &Pairs) -> Vec<(&'static str, String)> {
    const LABELS: [(&str, &str); 9] = [
        ("subject_kind", "Child or adult"),
        ("incident_kind", "What happened"),
        ("aware_on", "Date the partnership became aware"),
        ("pseudonym", "Pseudonym"),
        ("summary", "What happened, in brief"),
        ("referrer", "Who referred it"),
        ("subject_name", "Real name"),
        ("subject_dob", "Date of birth"),
        ("age_band_child", "Age band"),
    ];
    LABELS
        .iter()
        .filter(|(field, _)| {
            forms::field(current, field).trim() != forms::field(sent, field).trim()
        })
        .map(|(field, label)| (*label, forms::field(current, field)))
        .collect()
}

pub async fn update(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let version = forms::field(&form, "version").parse::<i32>().unwrap_or(0);
    let txn = state.db.write().await?;
    learnloop_core::cases::open(
        &txn,
        learnloop_core::viewer::Recording::InTransaction,
        &crate::extract::viewer(&signed_in, &source, now),
        id,
    )
    .await?;
    match cases::update(&txn, id, version, input_from(&form), now).await {
        Ok(_) => {
            let event = audit::Event::new("case.update", "succeeded")
                .by(&signed_in.actor)
                .on("case", id)
                .from_source(source);
            audit::append(&txn, event, now).await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/cases/{id}")).into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            let editing = Editing {
                id,
                version,
                changes: Vec::new(),
            };
            Ok(case_form_page(&state, form, errors, Some(editing))
                .await?
                .into_response())
        }
        Err(CoreError::Conflict(_)) => {
            txn.rollback().await?;
            // 409: show what changed; the form keeps this person's values, now against the
            // current version, so saving again is a deliberate choice.
            let current = cases::get(state.db.conn(), id).await?;
            let editing = Editing {
                id,
                version: current.case.version,
                changes: changed_fields(&form_of(&current), &form),
            };
            let page = case_form_page(&state, form, Vec::new(), Some(editing)).await?;
            Ok((axum::http::StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
