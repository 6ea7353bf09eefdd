//! The member agencies: a list, and a page for each.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use learnloop_core::{agencies, partnerships, people};

use super::layout::{Layout, render};
use super::parse_id;
use crate::error::PageResult;
use crate::state::AppState;

struct AgencyRow {
    id: String,
    name: String,
    agency_type: &'static str,
    partnerships: String,
}

#[derive(Template)]
#[template(path = "pages/agencies.html")]
struct AgenciesPage {
    layout: Layout,
    rows: Vec<AgencyRow>,
}

pub async fn list(State(state): State<AppState>) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let all = agencies::list(&txn).await?;
    let partnership_names: HashMap<uuid::Uuid, String> = partnerships::list(&txn)
        .await?
        .into_iter()
        .map(|partnership| (partnership.id, partnership.name))
        .collect();
    let mut memberships: HashMap<uuid::Uuid, Vec<String>> = HashMap::new();
    for link in agencies::membership::all(&txn).await? {
        if let Some(name) = partnership_names.get(&link.partnership_id) {
            memberships
                .entry(link.agency_id)
                .or_default()
                .push(name.clone());
        }
    }
    txn.commit().await?;
    let rows = all
        .into_iter()
        .map(|agency| {
            let mut names = memberships.remove(&agency.id).unwrap_or_default();
            names.sort();
            AgencyRow {
                id: agency.id.to_string(),
                name: agency.name,
                agency_type: agency.agency_type.label(),
                partnerships: names.join(", "),
            }
        })
        .collect();
    render(&AgenciesPage {
        layout: Layout::new("Agencies", "/agencies"),
        rows,
    })
}

#[derive(Template)]
#[template(path = "pages/agency.html")]
struct AgencyPage {
    layout: Layout,
    agency: agencies::Agency,
    agency_type: &'static str,
    partnerships: Vec<String>,
    people_count: usize,
}

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    let txn = state.db.read().await?;
    let agency = agencies::get(&txn, id).await?;
    let mut names = Vec::new();
    for partnership_id in agencies::membership::partnerships_of(&txn, id).await? {
        names.push(partnerships::get(&txn, partnership_id).await?.name);
    }
    names.sort();
    let people_count = people::list_by_agency(&txn, id).await?.len();
    txn.commit().await?;
    render(&AgencyPage {
        layout: Layout::new(agency.name.clone(), "/agencies"),
        agency_type: agency.agency_type.label(),
        agency,
        partnerships: names,
        people_count,
    })
}
