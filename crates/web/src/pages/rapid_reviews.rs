//! A rapid review's page: its steps with their working-day due dates, the agency summaries,
//! the outcome and conversion into a review of another type.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use learnloop_core::access::{Action, Record, can};
use learnloop_core::rapid_reviews::{self, Outcome};
use learnloop_core::{CoreError, FieldError, agencies, audit, calendar, review_types};
use serde::Deserialize;
use uuid::Uuid;

use super::forms::rename;
use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::CsrfForm;
use crate::auth::{SignedIn, Source};
use crate::error::{AppError, PageError, PageResult};
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
    signed_in: &SignedIn,
    id: Uuid,
    source: Option<String>,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let today = now.date_naive();
    let txn = state.db.read().await?;
    let full = rapid_reviews::get(&txn, id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    let record = learnloop_core::cases::open(
        &txn,
        crate::extract::journal(state),
        &crate::extract::viewer(signed_in, &source, now),
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
                completed_on: step
                    .completed_on
                    .map(|d| d.format("%-d %b %Y").to_string())
                    .unwrap_or_default(),
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
            due_on: summary.due_on.format("%-d %b %Y").to_string(),
            received_on: summary
                .received_on
                .map(|d| d.format("%-d %b %Y").to_string())
                .unwrap_or_default(),
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
        day_zero: full.review.day_zero.format("%A %-d %B %Y").to_string(),
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
            &signed_in.actor,
            Action::ManageCase,
            Record::Case {
                agency_ids: &record.agency_ids,
            },
        ),
        today: today.format("%Y-%m-%d").to_string(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    page(&state, &signed_in, id, source, Vec::new()).await
}

/// Runs a change to a rapid review the actor may see, records it, and shows the page again
/// (with errors) or returns to it.
async fn change<F, Fut>(
    state: &AppState,
    signed_in: &SignedIn,
    id: Uuid,
    source: Option<String>,
    action: &str,
    apply: F,
) -> PageResult<Response>
where
    F: FnOnce(sea_orm::DatabaseTransaction) -> Fut,
    Fut: std::future::Future<Output = (sea_orm::DatabaseTransaction, Result<(), CoreError>)>,
{
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let full = rapid_reviews::get(&txn, id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    learnloop_core::cases::open(
        &txn,
        learnloop_core::viewer::Recording::InTransaction,
        &crate::extract::viewer(signed_in, &source, now),
        full.review.case_id,
    )
    .await?;
    let (txn, result) = apply(txn).await;
    match result {
        Ok(()) => {
            audit::append(
                &txn,
                audit::Event::new(action, "succeeded")
                    .by(&signed_in.actor)
                    .on("rapid_review", id)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/rapid-reviews/{id}")).into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            Ok(page(state, signed_in, id, source, errors)
                .await?
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct DateForm {
    #[serde(default)]
    on: String,
}

pub async fn complete_step(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path((id, key)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<DateForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let today = state.clock.now().date_naive();
    change(
        &state,
        &signed_in,
        id,
        source,
        "rapid_review.step_completed",
        |txn| async move {
            let result = rapid_reviews::complete_step(&txn, id, &key, &form.on, today)
                .await
                .map_err(|error| rename(error, &[("completed_on", &format!("on-{key}"))]));
            (txn, result)
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
    signed_in: SignedIn,
    Source(source): Source,
    Path((id, key)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    change(
        &state,
        &signed_in,
        id,
        source,
        "rapid_review.step_missed_reason",
        |txn| async move {
            let result = rapid_reviews::record_missed_reason(&txn, id, &key, &form.reason)
                .await
                .map_err(|error| rename(error, &[("reason", &format!("reason-{key}"))]));
            (txn, result)
        },
    )
    .await
}

pub async fn summary_received(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path((id, agency_id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<DateForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let agency_id = parse_id(&agency_id)?;
    let today = state.clock.now().date_naive();
    change(
        &state,
        &signed_in,
        id,
        source,
        "rapid_review.summary_received",
        |txn| async move {
            let result = rapid_reviews::summary_received(&txn, id, agency_id, &form.on, today)
                .await
                .map_err(|error| {
                    rename(error, &[("received_on", &format!("summary-{agency_id}"))])
                });
            (txn, result)
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
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<OutcomeForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let today = state.clock.now().date_naive();
    change(
        &state,
        &signed_in,
        id,
        source,
        "rapid_review.outcome",
        |txn| async move {
            let result =
                rapid_reviews::record_outcome(&txn, id, &form.outcome, &form.outcome_on, today)
                    .await
                    .map(|_| ());
            (txn, result)
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct ConvertForm {
    #[serde(default)]
    review_type: String,
}

pub async fn convert(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ConvertForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    change(
        &state,
        &signed_in,
        id,
        source,
        "rapid_review.converted",
        |txn| async move {
            let result = rapid_reviews::convert(&txn, id, &form.review_type, now.date_naive(), now)
                .await
                .map(|_| ());
            (txn, result)
        },
    )
    .await
}
