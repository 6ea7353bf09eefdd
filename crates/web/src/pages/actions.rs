//! Actions through the pages: the tracker (filtered, paged, exported), one action with its
//! dated updates and evidence, new actions, updates with a version check (a stale save gets
//! 409 showing what changed and keeping what was typed), and sign-off.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use learnloop_core::access::{Action, Actor, Record, can};
use learnloop_core::actions::tracker::{DueWindow, Filter};
use learnloop_core::actions::{self, Rag, Rules, Status, plans, tracker, updates};
use learnloop_core::{CoreError, FieldError, agencies, audit, people, reviews, themes};
use serde::Deserialize;
use uuid::Uuid;

use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::{CsrfForm, checked_multipart};
use crate::auth::{SignedIn, Source, Visitor};
use crate::error::{AppError, PageError, PageResult};
use crate::state::AppState;

/// Rows on one page of the tracker.
pub const PER_PAGE: u64 = 50;
/// The most rows an export holds.
pub const EXPORT_CAP: u64 = 100_000;

/// The tracker's filters as they appear in the address.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrackerQuery {
    /// review, audit, complaint, whistleblowing, risk, assurance or direct.
    #[serde(default)]
    pub source: Option<String>,
    /// An agency's id.
    #[serde(default)]
    pub agency: Option<String>,
    /// not_started, on_track, at_risk, off_track, completed or closed.
    #[serde(default)]
    pub status: Option<String>,
    /// red, amber, green or complete.
    #[serde(default)]
    pub rag: Option<String>,
    /// A theme's code.
    #[serde(default)]
    pub theme: Option<String>,
    /// "overdue", or a number of days ahead.
    #[serde(default)]
    pub due: Option<String>,
    /// An action plan's id.
    #[serde(default)]
    pub plan: Option<String>,
    /// "me": only actions I lead.
    #[serde(default)]
    pub lead: Option<String>,
    /// Page number, from 1.
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Items a page through the API, 1 to 200 (default 50); pages show 50.
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

fn nonempty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl TrackerQuery {
    /// The names of the filters in use ("filters: agency, rag"), for the audit trail: which
    /// filters, never their values.
    pub fn filter_kinds(&self) -> Option<String> {
        let used: Vec<&str> = [
            ("source", &self.source),
            ("agency", &self.agency),
            ("status", &self.status),
            ("rag", &self.rag),
            ("theme", &self.theme),
            ("due", &self.due),
            ("plan", &self.plan),
            ("lead", &self.lead),
        ]
        .into_iter()
        .filter(|(_, value)| nonempty(value).is_some())
        .map(|(name, _)| name)
        .collect();
        (!used.is_empty()).then(|| format!("filters: {}", used.join(", ")))
    }

    /// The filter, within the actor's scope; a value that names nothing is an error naming the
    /// parameter.
    pub fn filter(&self, actor: &Actor, person_id: Uuid) -> Result<Filter, FieldError> {
        let mut filter = Filter {
            agencies: learnloop_core::access::action_scope(actor),
            ..Filter::default()
        };
        if let Some(source) = nonempty(&self.source) {
            if !actions::SOURCES.iter().any(|(key, _)| *key == source) {
                return Err(FieldError::new("source", "is not a source of actions"));
            }
            filter.source = Some(source.to_string());
        }
        if let Some(agency) = nonempty(&self.agency) {
            let id = Uuid::parse_str(agency)
                .map_err(|_| FieldError::new("agency", "is not an agency id"))?;
            filter.agencies = Some(match filter.agencies {
                Some(allowed) => allowed.into_iter().filter(|a| *a == id).collect(),
                None => vec![id],
            });
        }
        if let Some(status) = nonempty(&self.status) {
            filter.status = Some(
                Status::parse(status)
                    .ok_or_else(|| FieldError::new("status", "is not a status"))?,
            );
        }
        if let Some(rag) = nonempty(&self.rag) {
            filter.rag =
                Some(Rag::parse(rag).ok_or_else(|| {
                    FieldError::new("rag", "must be red, amber, green or complete")
                })?);
        }
        if let Some(theme) = nonempty(&self.theme) {
            filter.theme = Some(theme.to_string());
        }
        if let Some(due) = nonempty(&self.due) {
            filter.due = Some(DueWindow::parse(due).ok_or_else(|| {
                FieldError::new(
                    "due",
                    "must be “overdue” or a number of days from 1 to 3650",
                )
            })?);
        }
        if let Some(plan) = nonempty(&self.plan) {
            filter.plan_id = Some(
                Uuid::parse_str(plan)
                    .map_err(|_| FieldError::new("plan", "is not an action plan id"))?,
            );
        }
        if nonempty(&self.lead) == Some("me") {
            filter.lead_person_id = Some(person_id);
        }
        Ok(filter)
    }

    /// The same filters as a query string (for paging and export links).
    pub fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("source", &self.source),
            ("agency", &self.agency),
            ("status", &self.status),
            ("rag", &self.rag),
            ("theme", &self.theme),
            ("due", &self.due),
            ("plan", &self.plan),
            ("lead", &self.lead),
        ] {
            if let Some(value) = nonempty(value) {
                let encoded: String = value
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                    .collect();
                parts.push(format!("{key}={encoded}"));
            }
        }
        parts.join("&")
    }
}

/// Names for ids, loaded once per page.
pub struct Names {
    pub agencies: HashMap<Uuid, (String, String)>,
    pub people: HashMap<Uuid, (String, String)>,
}

impl Names {
    pub async fn load(db: &impl sea_orm::ConnectionTrait) -> Result<Names, PageError> {
        Ok(Names {
            agencies: agencies::list(db)
                .await?
                .into_iter()
                .map(|a| (a.id, (a.name, a.code)))
                .collect(),
            people: people::list(db)
                .await?
                .into_iter()
                .map(|p| (p.id, (p.name, p.email)))
                .collect(),
        })
    }

    pub fn agency(&self, id: Uuid) -> String {
        self.agencies
            .get(&id)
            .map(|(name, _)| name.clone())
            .unwrap_or_default()
    }

    pub fn agency_code(&self, id: Uuid) -> String {
        self.agencies
            .get(&id)
            .map(|(_, code)| code.clone())
            .unwrap_or_default()
    }

    pub fn person(&self, id: Option<Uuid>) -> String {
        id.and_then(|id| self.people.get(&id))
            .map(|(name, _)| name.clone())
            .unwrap_or_default()
    }

    pub fn email(&self, id: Option<Uuid>) -> String {
        id.and_then(|id| self.people.get(&id))
            .map(|(_, email)| email.clone())
            .unwrap_or_default()
    }
}

pub struct Row {
    pub id: String,
    pub reference: String,
    pub description: String,
    pub agency: String,
    pub lead: String,
    pub due: String,
    pub status: &'static str,
    pub rag: Rag,
}

pub fn row(action: &actions::Model, names: &Names, today: NaiveDate, rules: &Rules) -> Row {
    let mut description: String = action.description.chars().take(140).collect();
    if action.description.chars().count() > 140 {
        description.push('…');
    }
    Row {
        id: action.id.to_string(),
        reference: action.reference.clone(),
        description,
        agency: names.agency(action.owner_agency_id),
        lead: names.person(action.lead_person_id),
        due: action.due_on.format("%-d %b %Y").to_string(),
        status: action.status().label(),
        rag: action.rag(today, rules.remind_days_before),
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choose(pairs: impl IntoIterator<Item = (String, String)>, chosen: &str) -> Vec<Choice> {
    pairs
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == chosen,
            value,
            label,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pages/actions.html")]
struct TrackerPage {
    layout: Layout,
    rows: Vec<Row>,
    total: u64,
    page: u64,
    pages: u64,
    query: String,
    sources: Vec<Choice>,
    agencies: Vec<Choice>,
    statuses: Vec<Choice>,
    rags: Vec<Choice>,
    themes: Vec<Choice>,
    dues: Vec<Choice>,
    mine: bool,
    can_manage: bool,
    scoped: bool,
}

pub async fn tracker_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Query(query): Query<TrackerQuery>,
) -> PageResult<Response> {
    let today = state.clock.now().date_naive();
    let filter = match query.filter(&signed_in.actor, signed_in.person.id) {
        Ok(filter) => filter,
        Err(error) => {
            return Err(PageError(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("The filter “{}” {}", error.field, error.message),
            )));
        }
    };
    let page = query.page.unwrap_or(1).clamp(1, 100_000);
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await?;
    let (rows, total) = tracker::page(
        &txn,
        &filter,
        today,
        rules.remind_days_before,
        (page - 1) * PER_PAGE,
        PER_PAGE,
    )
    .await?;
    let names = Names::load(&txn).await?;
    let scoped = learnloop_core::access::action_scope(&signed_in.actor);
    let mut agency_choices: Vec<(String, String)> = names
        .agencies
        .iter()
        .filter(|(id, _)| scoped.as_ref().is_none_or(|allowed| allowed.contains(id)))
        .map(|(id, (name, _))| (id.to_string(), name.clone()))
        .collect();
    agency_choices.sort_by(|a, b| a.1.cmp(&b.1));
    let taxonomy = themes::list(&txn).await?;
    let chosen = |value: &Option<String>| nonempty(value).unwrap_or_default().to_string();
    let page_view = TrackerPage {
        layout: Layout::new("Actions", "/actions"),
        rows: rows.iter().map(|a| row(a, &names, today, &rules)).collect(),
        total,
        page,
        pages: total.div_ceil(PER_PAGE).max(1),
        query: query.query_string(),
        sources: choose(
            actions::SOURCES
                .iter()
                .map(|(k, l)| (k.to_string(), l.to_string())),
            &chosen(&query.source),
        ),
        agencies: choose(agency_choices, &chosen(&query.agency)),
        statuses: choose(
            Status::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), s.label().to_string())),
            &chosen(&query.status),
        ),
        rags: choose(
            Rag::ALL
                .iter()
                .map(|r| (r.as_str().to_string(), r.label().to_string())),
            &chosen(&query.rag),
        ),
        themes: choose(
            taxonomy.into_iter().map(|t| (t.code, t.label)),
            &chosen(&query.theme),
        ),
        dues: choose(
            [
                ("overdue", "Overdue"),
                ("14", "Due within 14 days"),
                ("30", "Due within 30 days"),
                ("90", "Due within 90 days"),
            ]
            .iter()
            .map(|(k, l)| (k.to_string(), l.to_string())),
            &chosen(&query.due),
        ),
        mine: nonempty(&query.lead) == Some("me"),
        can_manage: can(&signed_in.actor, Action::ManageActions, Record::None),
        scoped: scoped.is_some(),
    };
    drop(txn);
    // One entry per view of the tracker: which filters were used and how many actions matched.
    crate::audited::record_read(
        &state,
        audit::Event::new("actions.listed", "allowed")
            .by(&signed_in.actor)
            .on("actions", total)
            .from_source(source)
            .because(query.filter_kinds()),
    )
    .await?;
    Ok(render(&page_view)?.into_response())
}

/// The export's columns; the import reads them back by the same headings.
pub const EXPORT_HEADERS: [&str; 13] = [
    "Reference",
    "Description",
    "Owner agency",
    "Lead email",
    "Due date",
    "Status",
    "RAG",
    "Source",
    "Intended outcome",
    "Success evidence",
    "Themes",
    "Signed off",
    "Escalated",
];

fn rag_colour(rag: Rag) -> u32 {
    match rag {
        Rag::Red => 0xD4351C,
        Rag::Amber => 0xF47738,
        Rag::Green => 0x00703C,
        Rag::Complete => 0x1D70B8,
    }
}

async fn export_rows(
    db: &impl sea_orm::ConnectionTrait,
    list: &[actions::Model],
    today: NaiveDate,
    rules: &Rules,
) -> Result<Vec<Vec<learnloop_office::Cell>>, PageError> {
    use learnloop_office::Cell;
    let names = Names::load(db).await?;
    let ids: Vec<Uuid> = list.iter().map(|a| a.id).collect();
    let mut themes_by_action: HashMap<Uuid, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(5_000) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        for tag in actions::tags::Entity::find()
            .filter(actions::tags::Column::ActionId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            themes_by_action
                .entry(tag.action_id)
                .or_default()
                .push(tag.theme_code);
        }
    }
    Ok(list
        .iter()
        .map(|action| {
            let rag = action.rag(today, rules.remind_days_before);
            let mut themes = themes_by_action.remove(&action.id).unwrap_or_default();
            themes.sort();
            vec![
                Cell::Text(action.reference.clone()),
                Cell::Text(action.description.clone()),
                Cell::Text(names.agency_code(action.owner_agency_id)),
                Cell::Text(names.email(action.lead_person_id)),
                Cell::Date(action.due_on),
                Cell::Text(action.status().label().to_string()),
                Cell::Coloured(rag.label().to_string(), rag_colour(rag)),
                Cell::Text(action.source_kind.clone()),
                Cell::Text(action.intended_outcome.clone()),
                Cell::Text(action.success_evidence.clone()),
                Cell::Text(themes.join("; ")),
                action
                    .signed_off_on
                    .map(Cell::Date)
                    .unwrap_or(Cell::Text(String::new())),
                action
                    .escalated_on
                    .map(Cell::Date)
                    .unwrap_or(Cell::Text(String::new())),
            ]
        })
        .collect())
}

async fn export(
    state: &AppState,
    signed_in: &SignedIn,
    source: Option<String>,
    query: &TrackerQuery,
    xlsx: bool,
) -> PageResult<Response> {
    let now = state.clock.now();
    let today = now.date_naive();
    let filter = query
        .filter(&signed_in.actor, signed_in.person.id)
        .map_err(|error| {
            PageError(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("The filter “{}” {}", error.field, error.message),
            ))
        })?;
    let txn = state.db.write().await?;
    let rules = Rules::load(&txn).await?;
    let list = tracker::all(&txn, &filter, today, rules.remind_days_before, EXPORT_CAP).await?;
    let rows = export_rows(&txn, &list, today, &rules).await?;
    audit::append(
        &txn,
        audit::Event::new("actions.exported", "allowed")
            .by(&signed_in.actor)
            .on("actions", list.len())
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    let failed = |error: String| {
        tracing::error!(error = %error, "export failed");
        PageError(AppError::internal())
    };
    let (bytes, content_type, name) = if xlsx {
        (
            learnloop_office::write_xlsx("Actions", &EXPORT_HEADERS, &rows).map_err(failed)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "actions.xlsx",
        )
    } else {
        (
            learnloop_office::write_csv(&EXPORT_HEADERS, &rows).map_err(failed)?,
            "text/csv; charset=utf-8",
            "actions.csv",
        )
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub async fn export_xlsx(
    State(state): State<AppState>,
    signed_in: SignedIn,
    // A download carries data away: the authenticator code is asked again first.
    _: crate::auth::step_up::RecentStepUp,
    Source(source): Source,
    Query(query): Query<TrackerQuery>,
) -> PageResult<Response> {
    export(&state, &signed_in, source, &query, true).await
}

pub async fn export_csv(
    State(state): State<AppState>,
    signed_in: SignedIn,
    _: crate::auth::step_up::RecentStepUp,
    Source(source): Source,
    Query(query): Query<TrackerQuery>,
) -> PageResult<Response> {
    export(&state, &signed_in, source, &query, false).await
}

// ----- One action -----

pub struct EvidenceLink {
    id: String,
    name: String,
}

pub struct UpdateRow {
    when: String,
    who: String,
    status: &'static str,
    narrative: String,
    evidence: Vec<EvidenceLink>,
}

#[derive(Template)]
#[template(path = "pages/action.html")]
struct ActionPage {
    layout: Layout,
    id: String,
    reference: String,
    description: String,
    agency: String,
    lead: String,
    due: String,
    status: &'static str,
    rag: Rag,
    source: &'static str,
    review_link: Option<String>,
    plan_link: Option<(String, String)>,
    intended_outcome: String,
    success_evidence: String,
    themes: Vec<String>,
    signed_off: String,
    escalated: String,
    updates: Vec<UpdateRow>,
    statuses: Vec<Choice>,
    version: i32,
    can_update: bool,
    can_sign_off: bool,
}

async fn action_page(
    state: &AppState,
    signed_in: &SignedIn,
    id: Uuid,
    source: Option<String>,
    errors: Vec<FieldError>,
    values: Pairs,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let today = now.date_naive();
    let txn = state.db.read().await?;
    let action = learnloop_core::actions::open(
        &txn,
        crate::extract::journal(state),
        &crate::extract::viewer(signed_in, &source, now),
        id,
    )
    .await?;
    let rules = Rules::load(&txn).await?;
    let names = Names::load(&txn).await?;
    let history = updates::of_action(&txn, id).await?;
    let files = updates::evidence_of(&txn, history.iter().map(|u| u.id).collect()).await?;
    let taxonomy: HashMap<String, String> = themes::list(&txn)
        .await?
        .into_iter()
        .map(|t| (t.code, t.label))
        .collect();
    let plan_link = match action.plan_id {
        Some(plan) => Some((
            format!("/action-plans/{plan}"),
            plans::get(&txn, plan).await?.title,
        )),
        None => None,
    };
    let can_sign_off = action.status().is_done()
        && action.signed_off_on.is_none()
        && action.lead_person_id != Some(signed_in.person.id)
        && learnloop_core::actions::may_sign_off(&txn, &signed_in.actor, &action).await?;
    let page = ActionPage {
        layout: Layout::new(format!("Action {}", action.reference), "/actions")
            .with_errors(errors)
            .with_values(values),
        id: action.id.to_string(),
        reference: action.reference.clone(),
        description: action.description.clone(),
        agency: names.agency(action.owner_agency_id),
        lead: names.person(action.lead_person_id),
        due: action.due_on.format("%-d %B %Y").to_string(),
        status: action.status().label(),
        rag: action.rag(today, rules.remind_days_before),
        source: actions::source_label(&action.source_kind),
        review_link: action.review_id.map(|r| format!("/reviews/{r}/content")),
        plan_link,
        intended_outcome: action.intended_outcome.clone(),
        success_evidence: action.success_evidence.clone(),
        themes: actions::themes_of(&txn, id)
            .await?
            .into_iter()
            .filter_map(|c| taxonomy.get(&c).cloned())
            .collect(),
        signed_off: action
            .signed_off_on
            .map(|d| d.format("%-d %B %Y").to_string())
            .unwrap_or_default(),
        escalated: action
            .escalated_on
            .map(|d| d.format("%-d %B %Y").to_string())
            .unwrap_or_default(),
        updates: history
            .iter()
            .map(|u| UpdateRow {
                when: u.written_at.format("%-d %b %Y %H:%M").to_string(),
                who: names.person(Some(u.written_by)),
                status: Status::parse(&u.status).map(Status::label).unwrap_or(""),
                narrative: u.narrative.clone(),
                evidence: files
                    .iter()
                    .filter(|f| f.update_id == u.id)
                    .map(|f| EvidenceLink {
                        id: f.id.to_string(),
                        name: f.file_name.clone(),
                    })
                    .collect(),
            })
            .collect(),
        statuses: choose(
            Status::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), s.label().to_string())),
            action.status().as_str(),
        ),
        version: action.version,
        can_update: can(
            &signed_in.actor,
            Action::UpdateAction,
            Record::Action {
                agency_id: action.owner_agency_id,
            },
        ),
        can_sign_off,
    };
    txn.commit().await?;
    render(&page)
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    action_page(&state, &signed_in, id, source, Vec::new(), Vec::new()).await
}

/// 403 when the actor may see the action but not update it, recording the refusal.
fn refuse_update(
    actor: &Actor,
    action: &actions::Model,
    source: Option<String>,
) -> Result<(), PageError> {
    if can(
        actor,
        Action::UpdateAction,
        Record::Action {
            agency_id: action.owner_agency_id,
        },
    ) {
        return Ok(());
    }
    Err(crate::audited::refused(
        AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "You cannot update this action",
        ),
        audit::Event::new("action.updated", "denied")
            .by(actor)
            .on("action", action.id)
            .from_source(source),
    ))
}

/// Adds an update with any evidence files, if the action is still at the version the person
/// read; otherwise 409 with what changed, keeping what they typed.
pub async fn add_update(
    State(state): State<AppState>,
    signed_in: SignedIn,
    visitor: Visitor,
    Source(source): Source,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    // Access first: a refused update's body (and its evidence) is never read, let alone parsed.
    {
        let txn = state.db.read().await?;
        let action = learnloop_core::actions::open(
            &txn,
            crate::extract::refusals_only(&state),
            &crate::extract::viewer(&signed_in, &source, state.clock.now()),
            id,
        )
        .await?;
        refuse_update(&signed_in.actor, &action, source.clone())?;
    }
    let parts = checked_multipart(&visitor, multipart).await?;
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.file_name.is_none())
            .map(|p| String::from_utf8_lossy(&p.bytes).to_string())
            .unwrap_or_default()
    };
    let values: Pairs = vec![
        ("status".to_string(), text("status")),
        ("narrative".to_string(), text("narrative")),
    ];
    let input = updates::UpdateInput {
        status: text("status"),
        narrative: text("narrative"),
    };
    let version: i32 = text("version").trim().parse().unwrap_or(0);
    let mut prepared = Vec::new();
    for part in parts
        .iter()
        .filter(|p| p.name == "evidence" && !p.bytes.is_empty())
    {
        match reviews::documents::prepare(
            part.file_name.as_deref().unwrap_or_default(),
            &part.bytes,
        ) {
            Ok(file) => prepared.push(file),
            Err(mut error) => {
                error.field = "evidence".to_string();
                let page = action_page(&state, &signed_in, id, source, vec![error], values).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            }
        }
    }
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let action = learnloop_core::actions::open(
        &txn,
        learnloop_core::viewer::Recording::InTransaction,
        &crate::extract::viewer(&signed_in, &source, now),
        id,
    )
    .await?;
    refuse_update(&signed_in.actor, &action, source.clone())?;
    let mut stored = Vec::new();
    for file in &prepared {
        let path = super::store_file(&state.settings.files_dir, file.version_id, &file.bytes)
            .map_err(|error| {
                tracing::error!(error = %error, "cannot store evidence");
                PageError(AppError::internal())
            })?;
        stored.push(path);
    }
    let files: Vec<updates::EvidenceFile<'_>> = prepared
        .iter()
        .map(|f| updates::EvidenceFile {
            id: f.version_id,
            file_name: &f.file_name,
            content_type: f.content_type,
            bytes: &f.bytes,
        })
        .collect();
    let result = updates::add(&txn, id, &input, version, &files, signed_in.person.id, now).await;
    let outcome = match result {
        Ok(_) => {
            audit::append(
                &txn,
                audit::Event::new("action.updated", "succeeded")
                    .by(&signed_in.actor)
                    .on("action", id)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            return Ok(Redirect::to(&format!("/actions/{id}")).into_response());
        }
        Err(error) => error,
    };
    txn.rollback().await?;
    for path in stored {
        let _ = std::fs::remove_file(path);
    }
    match outcome {
        CoreError::Invalid(errors) => {
            let page = action_page(&state, &signed_in, id, source, errors, values).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        CoreError::Conflict(message) => {
            let errors = vec![FieldError::new(
                "narrative",
                format!(
                    "Your update was not saved because {message}. Check it and save again: what you wrote is below."
                ),
            )];
            let page = action_page(&state, &signed_in, id, source, errors, values).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        other => Err(other.into()),
    }
}

pub async fn evidence(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path((id, file_id)): Path<(String, String)>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let file_id = parse_id(&file_id)?;
    let now = state.clock.now();
    let txn = state.db.read().await?;
    learnloop_core::actions::open(
        &txn,
        crate::extract::journal(&state),
        &crate::extract::viewer(&signed_in, &source, now),
        id,
    )
    .await?;
    let file = updates::evidence_file(&txn, id, file_id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    let bytes =
        std::fs::read(state.settings.files_dir.join(file.id.to_string())).map_err(|error| {
            tracing::error!(error = %error, "cannot read evidence");
            PageError(AppError::internal())
        })?;
    state.db.journal().record(audit::Event::new("action.evidence_download", "allowed")
            .by(&signed_in.actor)
            .on("action_evidence", file.id)
            .from_source(source), now).await?;
    txn.commit().await?;
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}\"",
                    file.file_name.replace('"', "")
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub async fn sign_off(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let version: i32 = forms::field(&form, "version").trim().parse().unwrap_or(0);
    let txn = state.db.write().await?;
    let action = learnloop_core::actions::open(
        &txn,
        learnloop_core::viewer::Recording::InTransaction,
        &crate::extract::viewer(&signed_in, &source, now),
        id,
    )
    .await?;
    if !learnloop_core::actions::may_sign_off(&txn, &signed_in.actor, &action).await? {
        txn.rollback().await?;
        return Err(PageError(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Only the overseeing group or the partnership team signs off actions",
        )));
    }
    match plans::sign_off_action(&txn, id, version, signed_in.person.id, now).await {
        Ok(_) => {
            audit::append(
                &txn,
                audit::Event::new("action.signed_off", "succeeded")
                    .by(&signed_in.actor)
                    .on("action", id)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/actions/{id}")).into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            let page = action_page(&state, &signed_in, id, source, errors, Vec::new()).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(CoreError::Conflict(message)) => {
            txn.rollback().await?;
            let page = action_page(
                &state,
                &signed_in,
                id,
                source,
                vec![FieldError::new(
                    "sign_off",
                    format!("Not signed off because {message}; check and try again"),
                )],
                Vec::new(),
            )
            .await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

// ----- A new action -----

#[derive(Template)]
#[template(path = "pages/action_new.html")]
struct NewPage {
    layout: Layout,
    plans: Vec<Choice>,
    sources: Vec<Choice>,
    agencies: Vec<Choice>,
    people: Vec<Choice>,
    themes: Vec<Choice>,
    entry_id: String,
    entry_title: String,
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    entry: Option<String>,
    #[serde(default)]
    plan: Option<String>,
}

async fn new_page(
    state: &AppState,
    values: Pairs,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let names = Names::load(&txn).await?;
    let value = |name: &str| forms::field(&values, name);
    let entry_id = value("source_entry_id");
    let entry_title = match Uuid::parse_str(&entry_id) {
        Ok(id) => {
            use sea_orm::EntityTrait;
            reviews::entries::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .map(|e| e.title)
                .unwrap_or_default()
        }
        Err(_) => String::new(),
    };
    let mut agencies: Vec<(String, String)> = names
        .agencies
        .iter()
        .map(|(id, (name, _))| (id.to_string(), name.clone()))
        .collect();
    agencies.sort_by(|a, b| a.1.cmp(&b.1));
    let mut everyone: Vec<(String, String)> = names
        .people
        .iter()
        .map(|(id, (name, email))| (id.to_string(), format!("{name} ({email})")))
        .collect();
    everyone.sort_by(|a, b| a.1.cmp(&b.1));
    let chosen_themes = forms::all(&values, "themes");
    let page = NewPage {
        layout: Layout::new("New action", "/actions")
            .with_errors(errors)
            .with_values(values.clone()),
        plans: choose(
            plans::list(&txn)
                .await?
                .into_iter()
                .map(|p| (p.id.to_string(), p.title)),
            &value("plan_id"),
        ),
        sources: choose(
            actions::SOURCES
                .iter()
                .map(|(k, l)| (k.to_string(), l.to_string())),
            &value("source_kind"),
        ),
        agencies: choose(agencies, &value("owner_agency_id")),
        people: choose(everyone, &value("lead_person_id")),
        themes: themes::list(&txn)
            .await?
            .into_iter()
            .filter(|t| t.active)
            .map(|t| Choice {
                selected: chosen_themes.contains(&t.code),
                value: t.code,
                label: t.label,
            })
            .collect(),
        entry_title,
        entry_id,
    };
    render(&page)
}

pub async fn new_form(
    State(state): State<AppState>,
    Query(query): Query<NewQuery>,
) -> PageResult<Html<String>> {
    let mut values: Pairs = Vec::new();
    if let Some(entry) = query.entry.filter(|e| Uuid::parse_str(e).is_ok()) {
        values.push(("source_entry_id".to_string(), entry.clone()));
        values.push(("source_kind".to_string(), "review".to_string()));
        let txn = state.db.read().await?;
        if let Ok(id) = Uuid::parse_str(&entry) {
            use sea_orm::EntityTrait;
            if let Some(found) = reviews::entries::Entity::find_by_id(id).one(&txn).await? {
                values.push(("description".to_string(), found.body.clone()));
                for plan in plans::of_review(&txn, found.review_id).await? {
                    values.push(("plan_id".to_string(), plan.id.to_string()));
                }
                for theme in reviews::entries::of_review(&txn, found.review_id)
                    .await?
                    .into_iter()
                    .filter(|e| e.entry.id == id)
                    .flat_map(|e| e.theme_codes)
                {
                    values.push(("themes".to_string(), theme));
                }
            }
        }
    }
    if let Some(plan) = query.plan.filter(|p| Uuid::parse_str(p).is_ok()) {
        values.push(("plan_id".to_string(), plan));
    }
    new_page(&state, values, Vec::new()).await
}

pub async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = state.clock.now();
    let id = |name: &str| Uuid::parse_str(forms::field(&form, name).trim()).ok();
    let input = actions::NewAction {
        plan_id: id("plan_id"),
        source_kind: forms::field(&form, "source_kind"),
        source_entry_id: id("source_entry_id"),
        description: forms::field(&form, "description"),
        owner_agency_id: id("owner_agency_id"),
        lead_person_id: id("lead_person_id"),
        due_on: forms::field(&form, "due_on"),
        intended_outcome: forms::field(&form, "intended_outcome"),
        success_evidence: forms::field(&form, "success_evidence"),
        themes: forms::all(&form, "themes"),
        status: None,
    };
    let txn = state.db.write().await?;
    match actions::create(&txn, &input, signed_in.person.id, now).await {
        Ok(action) => {
            audit::append(
                &txn,
                audit::Event::new("action.created", "succeeded")
                    .by(&signed_in.actor)
                    .on("action", action.id)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/actions/{}", action.id)).into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            let page = new_page(&state, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
