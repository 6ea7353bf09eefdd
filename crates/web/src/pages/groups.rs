//! The partnership's groups and who sits on them.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use learnloop_core::groups::{self, members};
use learnloop_core::{agencies, partnerships};

use super::layout::{Layout, render};
use super::parse_id;
use crate::error::PageResult;
use crate::state::AppState;

struct GroupRow {
    id: String,
    name: String,
    purpose: String,
    serves: String,
}

#[derive(Template)]
#[template(path = "pages/groups.html")]
struct GroupsPage {
    layout: Layout,
    rows: Vec<GroupRow>,
}

fn serves(partnership_name: Option<String>) -> String {
    partnership_name.unwrap_or_else(|| "All partnerships".to_string())
}

pub async fn list(State(state): State<AppState>) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let all = groups::list(&txn).await?;
    let partnership_names: HashMap<uuid::Uuid, String> = partnerships::list(&txn)
        .await?
        .into_iter()
        .map(|partnership| (partnership.id, partnership.name))
        .collect();
    txn.commit().await?;
    let rows = all
        .into_iter()
        .map(|group| GroupRow {
            id: group.id.to_string(),
            serves: serves(
                group
                    .partnership_id
                    .and_then(|id| partnership_names.get(&id).cloned()),
            ),
            name: group.name,
            purpose: group.purpose,
        })
        .collect();
    render(&GroupsPage {
        layout: Layout::new("Groups", "/groups"),
        rows,
    })
}

struct MemberRow {
    name: String,
    agency: String,
    role: &'static str,
}

#[derive(Template)]
#[template(path = "pages/group.html")]
struct GroupPage {
    layout: Layout,
    group: groups::Group,
    serves: String,
    members: Vec<MemberRow>,
}

fn role_label(role: &str) -> &'static str {
    match role {
        "chair" => "Chair",
        "vice_chair" => "Vice-chair",
        _ => "Member",
    }
}

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    let txn = state.db.read().await?;
    let group = groups::get(&txn, id).await?;
    let serves_name = match group.partnership_id {
        Some(partnership_id) => Some(partnerships::get(&txn, partnership_id).await?.name),
        None => None,
    };
    let agency_names: HashMap<uuid::Uuid, String> = agencies::list(&txn)
        .await?
        .into_iter()
        .map(|agency| (agency.id, agency.name))
        .collect();
    let members = members::of_group(&txn, id)
        .await?
        .into_iter()
        .map(|member| MemberRow {
            agency: agency_names
                .get(&member.agency_id)
                .cloned()
                .unwrap_or_default(),
            role: role_label(&member.role_in_group),
            name: member.name,
        })
        .collect();
    txn.commit().await?;
    render(&GroupPage {
        layout: Layout::new(group.name.clone(), "/groups"),
        serves: serves(serves_name),
        group,
        members,
    })
}
