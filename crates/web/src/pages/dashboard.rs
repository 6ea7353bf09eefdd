//! The dashboard: the clocks first (what is overdue, what is due soon), then what the
//! partnership holds.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use learnloop_core::access::{Action, Record, can};
use learnloop_core::actions::{Rag, Rules, tracker};
use learnloop_core::deadlines::State as DeadlineState;
use learnloop_core::{agencies, audit, calendar, groups, partnerships, people};

use super::cases::open_deadlines;
use super::layout::{Layout, render};
use crate::auth::{SignedIn, Source};
use crate::error::PageResult;
use crate::state::AppState;

/// Working days ahead that count as "due soon" on the dashboard.
const DUE_SOON_DAYS: i64 = 5;

/// The clocks across the cases the viewer may see.
struct Clocks {
    open_cases: usize,
    overdue: usize,
    due_soon: usize,
}

/// Actions by RAG, over the actions the viewer may see, in all and by owner agency.
struct ActionCounts {
    totals: Vec<(Rag, u64)>,
    by_agency: Vec<(String, String, Vec<u64>)>,
}

#[derive(Template)]
#[template(path = "pages/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    clocks: Option<Clocks>,
    actions: Option<ActionCounts>,
    measures: Option<super::learning_items::MeasuresView>,
    partnerships: Vec<partnerships::Partnership>,
    agency_count: u64,
    group_count: u64,
    people_count: u64,
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let txn = state.db.read().await?;
    let clocks = if can(&signed_in.actor, Action::ViewCase, Record::None) {
        let calendar = calendar::store::load(&txn).await?;
        let open = open_deadlines(&txn, &signed_in.actor, &calendar, now.date_naive()).await?;
        let deadlines = open.iter().flat_map(|(_, deadlines)| deadlines.iter());
        let overdue = deadlines
            .clone()
            .filter(|d| d.state == DeadlineState::Overdue)
            .count();
        let due_soon = deadlines
            .filter(|d| d.state == DeadlineState::Due && d.working_days_remaining <= DUE_SOON_DAYS)
            .count();
        state
            .db
            .journal()
            .record(
                audit::Event::new("dashboard.view", "allowed")
                    .by(&signed_in.actor)
                    .from_source(source),
                now,
            )
            .await?;
        Some(Clocks {
            open_cases: open.len(),
            overdue,
            due_soon,
        })
    } else {
        None
    };
    let actions = if can(&signed_in.actor, Action::ViewActions, Record::None) {
        let today = now.date_naive();
        let rules = Rules::load(&txn).await?;
        let scope = learnloop_core::access::action_scope(&signed_in.actor);
        let counts =
            tracker::counts(&txn, scope.as_deref(), today, rules.remind_days_before).await?;
        let names: std::collections::HashMap<uuid::Uuid, String> = agencies::list(&txn)
            .await?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect();
        let mut agency_ids: Vec<uuid::Uuid> = counts.keys().map(|(agency, _)| *agency).collect();
        agency_ids.sort();
        agency_ids.dedup();
        let mut by_agency: Vec<(String, String, Vec<u64>)> = agency_ids
            .into_iter()
            .map(|agency| {
                (
                    agency.to_string(),
                    names.get(&agency).cloned().unwrap_or_default(),
                    Rag::ALL
                        .iter()
                        .map(|rag| counts.get(&(agency, *rag)).copied().unwrap_or(0))
                        .collect(),
                )
            })
            .collect();
        by_agency.sort_by(|a, b| a.1.cmp(&b.1));
        Some(ActionCounts {
            totals: Rag::ALL
                .iter()
                .map(|rag| {
                    (
                        *rag,
                        counts
                            .iter()
                            .filter(|((_, r), _)| r == rag)
                            .map(|(_, n)| *n)
                            .sum(),
                    )
                })
                .collect(),
            by_agency,
        })
    } else {
        None
    };
    let measures = if can(&signed_in.actor, Action::ManageLearning, Record::None)
        || signed_in.actor.sees_all_cases()
    {
        Some(super::learning_items::measures_view(&txn, &signed_in.actor).await?)
    } else {
        None
    };
    let page = DashboardPage {
        layout: Layout::new("Dashboard", "/"),
        clocks,
        actions,
        measures,
        partnerships: partnerships::list(&txn).await?,
        agency_count: agencies::count(&txn).await?,
        group_count: groups::count(&txn).await?,
        people_count: people::count(&txn).await?,
    };
    txn.commit().await?;
    render(&page)
}
