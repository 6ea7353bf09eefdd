//! The tracker: every action the person may see, filtered and a page at a time.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use learnloop_core::access::{Action, Record, action_scope, can};
use learnloop_core::actions::{self, Rag, Rules, Status, tracker};
use learnloop_core::themes;

use super::{Choice, Names, RagTag, Row, choose, row};
use crate::error::{AppError, PageError, PageResult};
use crate::extract::Caller;
use crate::pages::layout::{Layout, render};
use crate::state::AppState;

/// Rows on one page of the tracker.
pub const PER_PAGE: u64 = 50;

pub use crate::queries::{TrackerQuery, nonempty};

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
        &state.tracker_totals,
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
