//! One action: its details, RAG, dated updates with their evidence, and the forms to update
//! it and sign it off.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use learnloop_core::access::{Action, Record, can};
use learnloop_core::actions::{self, Rag, Rules, Status, plans, updates};
use learnloop_core::{FieldError, themes};
use uuid::Uuid;

use super::{Choice, Names, RagTag, choose};
use crate::error::PageResult;
use crate::extract::{Caller, RecordId, journal};
use crate::pages::dates;
use crate::pages::forms::Pairs;
use crate::pages::layout::{Layout, render};
use crate::state::AppState;

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

/// The action's page, with `errors` and what was typed (`values`) when a change was refused.
pub(super) async fn action_page(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    errors: Vec<FieldError>,
    values: Pairs,
) -> PageResult<Html<String>> {
    let today = caller.now.date_naive();
    let actor = caller.actor();
    let txn = state.db.read().await?;
    let action = actions::open(&txn, journal(state), &caller.viewer(), id).await?;
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
        && action.lead_person_id != Some(caller.signed_in.person.id)
        && actions::may_sign_off(&txn, actor, &action).await?;
    let page = ActionPage {
        layout: Layout::new(format!("Action {}", action.reference), "/actions")
            .with_errors(errors)
            .with_values(values),
        id: action.id.to_string(),
        reference: action.reference.clone(),
        description: action.description.clone(),
        agency: names.agency(action.owner_agency_id),
        lead: names.person(action.lead_person_id),
        due: dates::long(action.due_on),
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
        signed_off: dates::long_or_blank(action.signed_off_on),
        escalated: dates::long_or_blank(action.escalated_on),
        updates: history
            .iter()
            .map(|u| UpdateRow {
                when: dates::moment(u.written_at),
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
            actor,
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
    caller: Caller,
    RecordId(id): RecordId,
) -> PageResult<Html<String>> {
    action_page(&state, &caller, id, Vec::new(), Vec::new()).await
}
