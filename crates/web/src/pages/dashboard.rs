//! The dashboard: what the partnership holds, at a glance.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use learnloop_core::{agencies, groups, partnerships, people};

use super::layout::{Layout, render};
use crate::error::PageResult;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    partnerships: Vec<partnerships::Partnership>,
    agency_count: u64,
    group_count: u64,
    people_count: u64,
}

pub async fn show(State(state): State<AppState>) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let page = DashboardPage {
        layout: Layout::new("Dashboard", "/"),
        partnerships: partnerships::list(&txn).await?,
        agency_count: agencies::count(&txn).await?,
        group_count: groups::count(&txn).await?,
        people_count: people::count(&txn).await?,
    };
    txn.commit().await?;
    render(&page)
}
