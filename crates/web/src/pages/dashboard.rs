//! The dashboard: the clocks first (what is overdue, what is due soon), then what the
//! partnership holds. Its counts are kept figures (core `figures`): read in a read transaction,
//! recomputed only when the data or the day has moved on, and then kept after the answer.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use learnloop_core::actions::Rag;
use learnloop_core::figures::{self, Clocks, Scope, Shown};
use learnloop_core::{agencies, groups, partnerships, people};
use uuid::Uuid;

use super::layout::{Layout, render};
use super::learning_items::MeasuresView;
use crate::error::PageResult;
use crate::extract::Caller;
use crate::state::AppState;

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
    measures: Option<MeasuresView>,
    /// When the figures were computed, as shown ("14:05 on 30 November 2026").
    computed_at: String,
    partnerships: Vec<partnerships::Partnership>,
    agency_count: u64,
    group_count: u64,
    people_count: u64,
}

fn action_counts(rows: &[(Uuid, String, u64)], names: &HashMap<Uuid, String>) -> ActionCounts {
    let count = |agency: Option<Uuid>, rag: Rag| -> u64 {
        rows.iter()
            .filter(|(a, r, _)| agency.is_none_or(|agency| *a == agency) && r == rag.as_str())
            .map(|(_, _, n)| *n)
            .sum()
    };
    let mut agency_ids: Vec<Uuid> = rows.iter().map(|(agency, _, _)| *agency).collect();
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
                    .map(|rag| count(Some(agency), *rag))
                    .collect(),
            )
        })
        .collect();
    by_agency.sort_by(|a, b| a.1.cmp(&b.1));
    ActionCounts {
        totals: Rag::ALL
            .iter()
            .map(|rag| (*rag, count(None, *rag)))
            .collect(),
        by_agency,
    }
}

pub async fn show(State(state): State<AppState>, caller: Caller) -> PageResult<Html<String>> {
    let scope = Scope::of(caller.actor());
    let txn = state.db.read().await?;
    let shown = figures::for_scope(&txn, &scope, caller.now).await?;
    let names: HashMap<Uuid, String> = agencies::list(&txn)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let partnerships = partnerships::list(&txn).await?;
    let agency_count = agencies::count(&txn).await?;
    let group_count = groups::count(&txn).await?;
    let people_count = people::count(&txn).await?;
    txn.commit().await?;
    if scope.clocks.is_some() {
        // The clocks are drawn from case content: the view is recorded before it is shown.
        caller
            .viewer()
            .record(state.db.journal(), "dashboard.view")
            .await?;
    }
    if !shown.kept {
        keep_later(&state, scope.clone(), shown.clone());
    }
    let Shown { figures, .. } = &shown;
    render(&DashboardPage {
        layout: Layout::new("Dashboard", "/"),
        clocks: figures.clocks.clone(),
        actions: figures
            .actions
            .as_ref()
            .map(|rows| action_counts(rows, &names)),
        measures: figures
            .measures
            .as_ref()
            .map(|kept| MeasuresView::of(kept.measures(), &names)),
        computed_at: shown.computed_at.format("%H:%M on %-d %B %Y").to_string(),
        partnerships,
        agency_count,
        group_count,
        people_count,
    })
}

/// Keeps figures computed for a view, after the view has answered: the request never waits
/// for the write lock. Kept only if no change came in meanwhile (`figures::keep` checks).
fn keep_later(state: &AppState, scope: Scope, shown: Shown) {
    let db = state.db.clone();
    let now = state.clock.now();
    tokio::spawn(async move {
        let kept = async {
            let txn = db.write().await?;
            figures::keep(&txn, &scope, &shown, now).await?;
            txn.commit().await?;
            Ok::<(), learnloop_core::CoreError>(())
        }
        .await;
        if let Err(error) = kept {
            tracing::warn!(error = %error, "cannot keep the dashboard's figures");
        }
    });
}
