//! The tracker: every action the person may see, filtered and a page at a time.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use learnloop_core::access::{Action, Actor, Record, action_scope, can};
use learnloop_core::actions::tracker::{DueWindow, Filter};
use learnloop_core::actions::{self, Rag, Rules, Status, tracker};
use learnloop_core::{FieldError, themes};
use serde::Deserialize;
use uuid::Uuid;

use super::{Choice, Names, RagTag, Row, choose, row};
use crate::error::{AppError, PageError, PageResult};
use crate::extract::Caller;
use crate::pages::layout::{Layout, render};
use crate::state::AppState;

/// Rows on one page of the tracker.
pub const PER_PAGE: u64 = 50;

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
            agencies: action_scope(actor),
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
    caller: Caller,
    Query(query): Query<TrackerQuery>,
) -> PageResult<Response> {
    let today = caller.now.date_naive();
    let actor = caller.actor();
    let filter = match query.filter(actor, caller.signed_in.person.id) {
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
    let scoped = action_scope(actor);
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
        can_manage: can(actor, Action::ManageActions, Record::None),
        scoped: scoped.is_some(),
    };
    drop(txn);
    // One entry per view of the tracker: which filters were used and how many actions matched.
    crate::audited::record_read(
        &state,
        caller
            .viewer()
            .event("actions.listed", "allowed")
            .on("actions", total)
            .because(query.filter_kinds()),
    )
    .await?;
    Ok(render(&page_view)?.into_response())
}
