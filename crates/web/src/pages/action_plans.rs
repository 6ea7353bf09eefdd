//! Action plans: the plans list, a new plan, and one plan's page with its actions and their
//! RAG, sign-off of the whole plan by the overseeing group, and the assurance check that
//! falls due twelve months later.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use learnloop_core::access::{Action, Record, action_scope as scope, can};
use learnloop_core::actions::{Rag, Rules, assurance, plans};
use learnloop_core::error::CoreResult;
use learnloop_core::viewer::Subject;
use learnloop_core::{CoreError, FieldError, groups, reviews};
use sea_orm::DatabaseTransaction;
use serde::Deserialize;
use uuid::Uuid;

use super::actions::{Choice, Names, RagTag, Row, row};
use super::change::{self, Change};
use super::dates;
use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::CsrfForm;
use crate::error::{AppError, PageError, PageResult};
use crate::extract::{Caller, RecordId};
use crate::state::AppState;

pub struct PlanRow {
    id: String,
    title: String,
    status: String,
    signed_off: String,
    counts: Vec<(Rag, usize)>,
}

#[derive(Template)]
#[template(path = "pages/action_plans.html")]
struct ListPage {
    layout: Layout,
    plans: Vec<PlanRow>,
    can_manage: bool,
}

fn status_label(status: &str) -> String {
    match status {
        "signed_off" => "Signed off".to_string(),
        "reopened" => "Reopened".to_string(),
        _ => "Active".to_string(),
    }
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> PageResult<Html<String>> {
    let today = caller.now.date_naive();
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await?;
    let allowed = scope(caller.actor());
    let mut rows = Vec::new();
    for plan in plans::list(&txn).await? {
        let actions = plans::actions_of(&txn, plan.id).await?;
        let visible: Vec<_> = actions
            .iter()
            .filter(|a| {
                allowed
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&a.owner_agency_id))
            })
            .collect();
        if allowed.is_some() && visible.is_empty() {
            continue;
        }
        let counts = Rag::ALL
            .iter()
            .map(|rag| {
                (
                    *rag,
                    visible
                        .iter()
                        .filter(|a| a.rag(today, rules.remind_days_before) == *rag)
                        .count(),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        rows.push(PlanRow {
            id: plan.id.to_string(),
            title: plan.title,
            status: status_label(&plan.status),
            signed_off: dates::short_or_blank(plan.signed_off_on),
            counts,
        });
    }
    render(&ListPage {
        layout: Layout::new("Action plans", "/actions"),
        plans: rows,
        can_manage: can(caller.actor(), Action::ManageActions, Record::None),
    })
}

#[derive(Template)]
#[template(path = "pages/action_plan_new.html")]
struct NewPage {
    layout: Layout,
    sources: Vec<Choice>,
    reviews: Vec<Choice>,
    groups: Vec<Choice>,
}

async fn new_page(
    state: &AppState,
    values: Pairs,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let chosen = |name: &str| forms::field(&values, name);
    let choose = |pairs: Vec<(String, String)>, picked: String| -> Vec<Choice> {
        pairs
            .into_iter()
            .map(|(value, label)| Choice {
                selected: value == picked,
                value,
                label,
            })
            .collect()
    };
    let page = NewPage {
        sources: choose(
            learnloop_core::actions::SOURCES
                .iter()
                .map(|(k, l)| (k.to_string(), l.to_string()))
                .collect(),
            chosen("source_kind"),
        ),
        reviews: choose(
            reviews::list(&txn)
                .await?
                .into_iter()
                .map(|r| (r.id.to_string(), r.title))
                .collect(),
            chosen("review_id"),
        ),
        groups: choose(
            groups::list(&txn)
                .await?
                .into_iter()
                .map(|g| (g.id.to_string(), g.name))
                .collect(),
            chosen("group_id"),
        ),
        layout: Layout::new("New action plan", "/actions")
            .with_errors(errors)
            .with_values(values),
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    review: Option<String>,
}

pub async fn new_form(
    State(state): State<AppState>,
    Query(query): Query<NewQuery>,
) -> PageResult<Html<String>> {
    let mut values = Vec::new();
    if let Some(review) = query.review.filter(|r| Uuid::parse_str(r).is_ok()) {
        values.push(("review_id".to_string(), review));
        values.push(("source_kind".to_string(), "review".to_string()));
    }
    new_page(&state, values, Vec::new()).await
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let field_id = |name: &str| Uuid::parse_str(forms::field(&form, name).trim()).ok();
    let input = plans::NewPlan {
        title: forms::field(&form, "title"),
        source_kind: forms::field(&form, "source_kind"),
        review_id: field_id("review_id"),
        group_id: field_id("group_id"),
    };
    let id = Uuid::now_v7();
    change::on_page(
        &state,
        &caller,
        Change::new("action_plan.created", "action_plan", id),
        async |txn| plans::create_with_id(txn, id, &input, caller.now).await,
        |_| format!("/action-plans/{id}"),
        async |errors, _| new_page(&state, form, errors).await,
    )
    .await
}

pub struct CheckRow {
    id: String,
    due: String,
    due_now: bool,
    completed: String,
    embedded: String,
    evidence: String,
    judgement: String,
}

#[derive(Template)]
#[template(path = "pages/action_plan.html")]
struct PlanPage {
    layout: Layout,
    id: String,
    title: String,
    status: String,
    signed_off: String,
    group: String,
    review_link: Option<String>,
    rows: Vec<Row>,
    checks: Vec<CheckRow>,
    can_sign_off: bool,
    can_add: bool,
    embedded_choices: Vec<(&'static str, &'static str)>,
    evidence_kinds: Vec<(&'static str, &'static str)>,
}

async fn plan_page(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    errors: Vec<FieldError>,
    values: Pairs,
) -> PageResult<Html<String>> {
    let today = caller.now.date_naive();
    let actor = caller.actor();
    let viewer = caller.viewer();
    let subject = Subject::new("action_plan.view", "action_plan", id);
    let txn = state.db.read().await?;
    let plan = plans::get(&txn, id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    let rules = Rules::load(&txn).await?;
    let names = Names::load(&txn).await?;
    let allowed = scope(actor);
    let actions = plans::actions_of(&txn, id).await?;
    let visible: Vec<_> = actions
        .iter()
        .filter(|a| {
            allowed
                .as_ref()
                .is_none_or(|ids| ids.contains(&a.owner_agency_id))
        })
        .collect();
    if allowed.is_some() && visible.is_empty() {
        return Err(crate::audited::refused(
            AppError::not_found(),
            viewer.event_on(subject, "denied"),
        ));
    }
    state
        .db
        .journal()
        .record(viewer.event_on(subject, "allowed"), viewer.now)
        .await?;
    let may_sign_off = can(actor, Action::SignOffActions, Record::None)
        || plans::oversees(&txn, &plan, caller.signed_in.person.id).await?;
    let group = match plan.group_id {
        Some(group) => groups::get(&txn, group)
            .await
            .map(|g| g.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let label = |list: &[(&str, &str)], key: &Option<String>| {
        key.as_deref()
            .and_then(|k| list.iter().find(|(code, _)| *code == k))
            .map(|(_, l)| l.to_string())
            .unwrap_or_default()
    };
    let checks = assurance::of_plan(&txn, id)
        .await?
        .into_iter()
        .map(|c| CheckRow {
            id: c.id.to_string(),
            due: dates::long(c.due_on),
            due_now: c.completed_on.is_none() && today >= c.due_on,
            completed: dates::long_or_blank(c.completed_on),
            embedded: label(&assurance::EMBEDDED, &c.embedded),
            evidence: format!(
                "{}{}",
                label(&assurance::EVIDENCE_KINDS, &c.evidence_kind),
                c.evidence.map(|e| format!(": {e}")).unwrap_or_default()
            ),
            judgement: c.judgement.unwrap_or_default(),
        })
        .collect();
    let page = PlanPage {
        layout: Layout::new(plan.title.clone(), "/actions")
            .with_errors(errors)
            .with_values(values),
        id: plan.id.to_string(),
        title: plan.title.clone(),
        status: status_label(&plan.status),
        signed_off: dates::long_or_blank(plan.signed_off_on),
        group,
        review_link: plan.review_id.map(|r| format!("/reviews/{r}")),
        rows: visible
            .iter()
            .map(|a| row(a, &names, today, &rules))
            .collect(),
        checks,
        can_sign_off: may_sign_off && plan.status != "signed_off",
        can_add: can(actor, Action::ManageActions, Record::None),
        embedded_choices: assurance::EMBEDDED.to_vec(),
        evidence_kinds: assurance::EVIDENCE_KINDS.to_vec(),
    };
    txn.commit().await?;
    render(&page)
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> PageResult<Html<String>> {
    plan_page(&state, &caller, id, Vec::new(), Vec::new()).await
}

/// Runs `apply` on the plan `id` as a change recorded as `audit_action`, for those who oversee
/// it (the partnership team or the overseeing group), then returns to the plan's page, or
/// shows it again with the errors and what was typed (`values`).
async fn change_plan<T>(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    audit_action: &str,
    values: Pairs,
    apply: impl AsyncFnOnce(&DatabaseTransaction, plans::Model) -> CoreResult<T>,
) -> PageResult<Response> {
    change::on_page(
        state,
        caller,
        Change::new(audit_action, "action_plan", id),
        async |txn| {
            let plan = plans::get(txn, id).await?;
            let allowed = can(caller.actor(), Action::SignOffActions, Record::None)
                || plans::oversees(txn, &plan, caller.signed_in.person.id).await?;
            caller.viewer().require(
                allowed,
                Subject::new(audit_action, "action_plan", id),
                "Only the overseeing group or the partnership team does this",
            )?;
            apply(txn, plan).await
        },
        |_| format!("/action-plans/{id}"),
        async |errors, _| plan_page(state, caller, id, errors, values).await,
    )
    .await
}

pub async fn sign_off(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let by = caller.signed_in.person.id;
    change_plan(
        &state,
        &caller,
        id,
        "action_plan.signed_off",
        form,
        async |txn, _| {
            let rules = Rules::load(txn).await?;
            plans::sign_off_plan(txn, id, by, &rules, caller.now).await
        },
    )
    .await
}

pub async fn record_assurance(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, check_id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let check_id = parse_id(&check_id)?;
    let by = caller.signed_in.person.id;
    let finding = assurance::Finding {
        embedded: forms::field(&form, "embedded"),
        evidence_kind: forms::field(&form, "evidence_kind"),
        evidence: forms::field(&form, "evidence"),
        judgement: forms::field(&form, "judgement"),
    };
    change_plan(
        &state,
        &caller,
        id,
        "assurance_check.recorded",
        form,
        async |txn, plan| {
            let checks = assurance::of_plan(txn, plan.id).await?;
            if !checks.iter().any(|c| c.id == check_id) {
                return Err(CoreError::NotFound);
            }
            assurance::record(txn, check_id, &finding, by, caller.now).await
        },
    )
    .await
}
