//! A rapid review's page: its steps with their working-day due dates, the agency summaries,
//! the outcome and conversion into a review of another type.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use learnloop_core::access::{Action, Record, can};
use learnloop_core::error::CoreResult;
use learnloop_core::rapid_reviews::{self, Outcome};
use learnloop_core::viewer::Recording;
use learnloop_core::{FieldError, agencies, calendar, review_types};
use sea_orm::DatabaseTransaction;
use serde::Deserialize;
use uuid::Uuid;

use super::change::{Change, on_page};
use super::dates;
use super::forms::rename;
use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::CsrfForm;
use crate::error::{AppError, PageError, PageResult};
use crate::extract::{Caller, RecordId};
use crate::state::AppState;

struct StepRow {
    key: String,
    name: String,
    due_on: String,
    remaining: String,
    completed_on: String,
    overdue: bool,
    missed_reason: String,
}

struct SummaryRow {
    agency_id: String,
    agency: String,
    due_on: String,
    received_on: String,
}

struct TypeChoice {
    code: String,
    name: String,
}

#[derive(Template)]
#[template(path = "pages/rapid_review.html")]
struct RapidReviewPage {
    layout: Layout,
    id: String,
    case_id: String,
    pseudonym: String,
    day_zero: String,
    steps: Vec<StepRow>,
    summaries: Vec<SummaryRow>,
    outcome: Option<&'static str>,
    outcomes: Vec<(&'static str, &'static str)>,
    converted: bool,
    conversion_types: Vec<TypeChoice>,
    can_manage: bool,
    today: String,
}

async fn page(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let today = caller.now.date_naive();
    let txn = state.db.read().await?;
    let full = rapid_reviews::get(&txn, id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    // Seeing a rapid review is seeing its case, and recorded as that.
    let record = learnloop_core::cases::open(
        &txn,
        crate::extract::journal(state),
        &caller.viewer(),
        full.review.case_id,
    )
    .await?;
    let calendar = calendar::store::load(&txn).await?;
    let agency_names: HashMap<Uuid, String> = agencies::list(&txn)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let types = review_types::store::list(&txn).await?;
    txn.commit().await?;
    let steps = full
        .steps
        .iter()
        .map(|step| {
            let remaining = calendar.working_days_until(today, step.due_on);
            StepRow {
                key: step.step_key.clone(),
                name: step.name.clone(),
                due_on: format!(
                    "Day {}: {}",
                    step.offset_days,
                    step.due_on.format("%a %-d %b %Y")
                ),
                remaining: match (step.completed_on, remaining) {
                    (Some(_), _) => String::new(),
                    (None, 0) => "Due today".to_string(),
                    (None, days) if days > 0 => format!("{days} working days left"),
                    (None, days) => format!("{} working days overdue", -days),
                },
                completed_on: dates::short_or_blank(step.completed_on),
                overdue: step.completed_on.is_none_or(|done| done > step.due_on)
                    && today > step.due_on,
                missed_reason: step.missed_reason.clone().unwrap_or_default(),
            }
        })
        .collect();
    let summaries = full
        .summaries
        .iter()
        .map(|summary| SummaryRow {
            agency_id: summary.agency_id.to_string(),
            agency: agency_names
                .get(&summary.agency_id)
                .cloned()
                .unwrap_or_default(),
            due_on: dates::short(summary.due_on),
            received_on: dates::short_or_blank(summary.received_on),
        })
        .collect();
    let conversion_types = types
        .into_iter()
        .filter(|t| {
            t.code != review_types::SERIOUS_CHILD_CASE && t.code != review_types::CHILD_DEATH_REVIEW
        })
        .map(|t| TypeChoice {
            code: t.code,
            name: t.name,
        })
        .collect();
    render(&RapidReviewPage {
        layout: Layout::new(format!("Rapid review: {}", record.case.pseudonym), "/cases")
            .with_errors(errors),
        id: id.to_string(),
        case_id: record.case.id.to_string(),
        pseudonym: record.case.pseudonym.clone(),
        day_zero: dates::with_weekday(full.review.day_zero),
        steps,
        summaries,
        outcome: full
            .review
            .outcome
            .as_deref()
            .and_then(Outcome::parse)
            .map(Outcome::label),
        outcomes: [
            Outcome::LocalCspr,
            Outcome::NoCspr,
            Outcome::NationalReviewRecommended,
        ]
        .into_iter()
        .map(|o| (o.as_str(), o.label()))
        .collect(),
        converted: full.review.converted_review_id.is_some(),
        conversion_types,
        can_manage: can(
            caller.actor(),
            Action::ManageCase,
            Record::Case {
                agency_ids: &record.agency_ids,
            },
        ),
        today: dates::iso(today),
    })
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> PageResult<Html<String>> {
    page(&state, &caller, id, Vec::new()).await
}

/// Makes a change to a rapid review the caller may see (its case, opened in the change's
/// transaction; the route asks the power to manage cases), then returns to its page, or shows
/// it again with the errors.
async fn change<T>(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    action: &str,
    apply: impl AsyncFnOnce(&DatabaseTransaction) -> CoreResult<T>,
) -> PageResult<Response> {
    let viewer = caller.viewer();
    on_page(
        state,
        caller,
        Change::new(action, "rapid_review", id).called("rapid review"),
        async move |txn| {
            let full = rapid_reviews::get(txn, id).await?;
            learnloop_core::cases::open(
                txn,
                Recording::InTransaction,
                &viewer,
                full.review.case_id,
            )
            .await?;
            apply(txn).await
        },
        |_| format!("/rapid-reviews/{id}"),
        async |errors, _| page(state, caller, id, errors).await,
    )
    .await
}

#[derive(Deserialize)]
pub struct DateForm {
    #[serde(default)]
    on: String,
}

pub async fn complete_step(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, key)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<DateForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let today = caller.now.date_naive();
    let field = format!("on-{key}");
    change(
        &state,
        &caller,
        id,
        "rapid_review.step_completed",
        async |txn| {
            rapid_reviews::complete_step(txn, id, &key, &form.on, today)
                .await
                .map_err(|error| rename(error, &[("completed_on", &field)]))
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

pub async fn step_reason(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, key)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let field = format!("reason-{key}");
    change(
        &state,
        &caller,
        id,
        "rapid_review.step_missed_reason",
        async |txn| {
            rapid_reviews::record_missed_reason(txn, id, &key, &form.reason)
                .await
                .map_err(|error| rename(error, &[("reason", &field)]))
        },
    )
    .await
}

pub async fn summary_received(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, agency_id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<DateForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let agency_id = parse_id(&agency_id)?;
    let today = caller.now.date_naive();
    let field = format!("summary-{agency_id}");
    change(
        &state,
        &caller,
        id,
        "rapid_review.summary_received",
        async |txn| {
            rapid_reviews::summary_received(txn, id, agency_id, &form.on, today)
                .await
                .map_err(|error| rename(error, &[("received_on", &field)]))
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct OutcomeForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    outcome_on: String,
}

pub async fn outcome(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<OutcomeForm>,
) -> PageResult<Response> {
    let today = caller.now.date_naive();
    change(&state, &caller, id, "rapid_review.outcome", async |txn| {
        rapid_reviews::record_outcome(txn, id, &form.outcome, &form.outcome_on, today).await
    })
    .await
}

#[derive(Deserialize)]
pub struct ConvertForm {
    #[serde(default)]
    review_type: String,
}

pub async fn convert(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<ConvertForm>,
) -> PageResult<Response> {
    let now = caller.now;
    change(&state, &caller, id, "rapid_review.converted", async |txn| {
        rapid_reviews::convert(txn, id, &form.review_type, now.date_naive(), now).await
    })
    .await
}
