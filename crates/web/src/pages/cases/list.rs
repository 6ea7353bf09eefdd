//! The list of cases the person may see, a page at a time.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use learnloop_core::access::{Action, Record, can, case_scope};
use learnloop_core::cases;
use serde::Deserialize;

use super::{incident_label, subject_label};
use crate::error::PageResult;
use crate::extract::Caller;
use crate::pages::dates;
use crate::pages::layout::{Layout, render};
use crate::state::AppState;

const PAGE_SIZE: u64 = 25;

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
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> PageResult<Html<String>> {
    let page = query.page.unwrap_or(1).max(1);
    let actor = caller.actor();
    let txn = state.db.read().await?;
    let scope = case_scope(actor);
    let (records, total) =
        cases::list(&txn, scope.as_deref(), (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
    caller
        .viewer()
        .record(state.db.journal(), "cases.list")
        .await?;
    txn.commit().await?;
    let rows = records
        .into_iter()
        .filter(|record| {
            can(
                actor,
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
            aware_on: dates::long(record.case.aware_on),
            status: record.case.status,
        })
        .collect();
    render(&CasesPage {
        layout: Layout::new("Cases", "/cases"),
        rows,
        can_manage: can(actor, Action::ManageCase, Record::None),
        page,
        pages: total.div_ceil(PAGE_SIZE).max(1),
        total,
    })
}
