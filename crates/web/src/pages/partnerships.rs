//! The partnerships the team serves and their member agencies.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use learnloop_core::{agencies, partnerships};

use super::layout::{Layout, render};
use crate::error::PageResult;
use crate::state::AppState;

struct PartnershipRow {
    name: String,
    kind: &'static str,
    agency_count: usize,
}

#[derive(Template)]
#[template(path = "pages/partnerships.html")]
struct PartnershipsPage {
    layout: Layout,
    rows: Vec<PartnershipRow>,
}

pub async fn list(State(state): State<AppState>) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let all = partnerships::list(&txn).await?;
    let mut agency_counts: HashMap<uuid::Uuid, usize> = HashMap::new();
    for link in agencies::membership::all(&txn).await? {
        *agency_counts.entry(link.partnership_id).or_default() += 1;
    }
    txn.commit().await?;
    let rows = all
        .into_iter()
        .map(|partnership| PartnershipRow {
            agency_count: agency_counts.get(&partnership.id).copied().unwrap_or(0),
            kind: partnership.kind.label(),
            name: partnership.name,
        })
        .collect();
    render(&PartnershipsPage {
        layout: Layout::new("Partnerships", "/partnerships"),
        rows,
    })
}
