//! Action plans: the plans list, a new plan, and one plan's page with its actions and their
//! RAG, sign-off of the whole plan by the overseeing group, and the assurance check that
//! falls due twelve months later.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use learnloop_core::access::{Action, Record, can};
use learnloop_core::actions::{Rag, Rules, assurance, plans};
use learnloop_core::{CoreError, FieldError, audit, groups, reviews};
use serde::Deserialize;
use uuid::Uuid;

use super::actions::{Choice, Names, Row, row};
use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::CsrfForm;
use crate::auth::{SignedIn, Source};
use crate::error::{AppError, PageError, PageResult};
use crate::state::AppState;
use learnloop_core::access::action_scope as scope;

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

pub async fn list(State(state): State<AppState>, signed_in: SignedIn) -> PageResult<Html<String>> {
    let today = state.clock.now().date_naive();
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await?;
    let allowed = scope(&signed_in.actor);
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
            signed_off: plan
                .signed_off_on
                .map(|d| d.format("%-d %b %Y").to_string())
                .unwrap_or_default(),
            counts,
        });
    }
    render(&ListPage {
        layout: Layout::new("Action plans", "/actions"),
        plans: rows,
        can_manage: can(&signed_in.actor, Action::ManageActions, Record::None),
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
    signed_in: SignedIn,
    Source(source): Source,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = state.clock.now();
    let id = |name: &str| Uuid::parse_str(forms::field(&form, name).trim()).ok();
    let input = plans::NewPlan {
        title: forms::field(&form, "title"),
        source_kind: forms::field(&form, "source_kind"),
        review_id: id("review_id"),
        group_id: id("group_id"),
    };
    let txn = state.db.write().await?;
    match plans::create(&txn, &input, now).await {
        Ok(plan) => {
            audit::append(
                &txn,
                audit::Event::new("action_plan.created", "succeeded")
                    .by(&signed_in.actor)
                    .on("action_plan", plan.id)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/action-plans/{}", plan.id)).into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            let page = new_page(&state, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
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
    signed_in: &SignedIn,
    id: Uuid,
    source: Option<String>,
    errors: Vec<FieldError>,
    values: Pairs,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let today = now.date_naive();
    let txn = state.db.read().await?;
    let plan = plans::get(&txn, id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    let rules = Rules::load(&txn).await?;
    let names = Names::load(&txn).await?;
    let allowed = scope(&signed_in.actor);
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
            audit::Event::new("action_plan.view", "denied")
                .by(&signed_in.actor)
                .on("action_plan", id)
                .from_source(source),
        ));
    }
    state
        .db
        .journal()
        .record(
            audit::Event::new("action_plan.view", "allowed")
                .by(&signed_in.actor)
                .on("action_plan", id)
                .from_source(source),
            now,
        )
        .await?;
    let may_sign_off = can(&signed_in.actor, Action::SignOffActions, Record::None)
        || plans::oversees(&txn, &plan, signed_in.person.id).await?;
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
            due: c.due_on.format("%-d %B %Y").to_string(),
            due_now: c.completed_on.is_none() && today >= c.due_on,
            completed: c
                .completed_on
                .map(|d| d.format("%-d %B %Y").to_string())
                .unwrap_or_default(),
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
        signed_off: plan
            .signed_off_on
            .map(|d| d.format("%-d %B %Y").to_string())
            .unwrap_or_default(),
        group,
        review_link: plan.review_id.map(|r| format!("/reviews/{r}")),
        rows: visible
            .iter()
            .map(|a| row(a, &names, today, &rules))
            .collect(),
        checks,
        can_sign_off: may_sign_off && plan.status != "signed_off",
        can_add: can(&signed_in.actor, Action::ManageActions, Record::None),
        embedded_choices: assurance::EMBEDDED.to_vec(),
        evidence_kinds: assurance::EVIDENCE_KINDS.to_vec(),
    };
    txn.commit().await?;
    render(&page)
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    plan_page(&state, &signed_in, id, source, Vec::new(), Vec::new()).await
}

async fn change<F, Fut>(
    state: &AppState,
    signed_in: &SignedIn,
    id: Uuid,
    source: Option<String>,
    audit_action: &str,
    values: Pairs,
    apply: F,
) -> PageResult<Response>
where
    F: FnOnce(sea_orm::DatabaseTransaction, plans::Model) -> Fut,
    Fut: std::future::Future<Output = (sea_orm::DatabaseTransaction, Result<(), CoreError>)>,
{
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let plan = plans::get(&txn, id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    let allowed = can(&signed_in.actor, Action::SignOffActions, Record::None)
        || plans::oversees(&txn, &plan, signed_in.person.id).await?;
    if !allowed {
        audit::append(
            &txn,
            audit::Event::new(audit_action, "denied")
                .by(&signed_in.actor)
                .on("action_plan", id)
                .from_source(source),
            now,
        )
        .await?;
        txn.commit().await?;
        return Err(PageError(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Only the overseeing group or the partnership team does this",
        )));
    }
    let (txn, result) = apply(txn, plan).await;
    match result {
        Ok(()) => {
            audit::append(
                &txn,
                audit::Event::new(audit_action, "succeeded")
                    .by(&signed_in.actor)
                    .on("action_plan", id)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/action-plans/{id}")).into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            let page = plan_page(state, signed_in, id, source, errors, values).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn sign_off(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let by = signed_in.person.id;
    change(
        &state,
        &signed_in,
        id,
        source,
        "action_plan.signed_off",
        form,
        |txn, _| async move {
            let result = async {
                let rules = Rules::load(&txn).await?;
                plans::sign_off_plan(&txn, id, by, &rules, now).await
            }
            .await
            .map(|_| ());
            (txn, result)
        },
    )
    .await
}

pub async fn record_assurance(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path((id, check_id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let check_id = parse_id(&check_id)?;
    let now = state.clock.now();
    let by = signed_in.person.id;
    let finding = assurance::Finding {
        embedded: forms::field(&form, "embedded"),
        evidence_kind: forms::field(&form, "evidence_kind"),
        evidence: forms::field(&form, "evidence"),
        judgement: forms::field(&form, "judgement"),
    };
    change(
        &state,
        &signed_in,
        id,
        source,
        "assurance_check.recorded",
        form,
        |txn, plan| async move {
            let result = async {
                let checks = assurance::of_plan(&txn, plan.id).await?;
                if !checks.iter().any(|c| c.id == check_id) {
                    return Err(CoreError::NotFound);
                }
                assurance::record(&txn, check_id, &finding, by, now).await
            }
            .await
            .map(|_| ());
            (txn, result)
        },
    )
    .await
}
