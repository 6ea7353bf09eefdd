//! The overview: the review's details and its stages on the working-day clock, completing a
//! stage (late, with the reason) and moving one.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use learnloop_core::calendar;
use learnloop_core::reviews::{self, stages};
use serde::Deserialize;

use super::{Choice, Head, Need, Opened, Powers, ReviewChange, Tab, change, labelled, version_of};
use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::{Caller, RecordId};
use crate::pages::dates;
use crate::pages::forms::{self, Pairs, rename};
use crate::pages::layout::{Layout, render};
use crate::pages::parse_id;
use crate::state::AppState;

pub struct StageRow {
    key: String,
    name: String,
    required: bool,
    planned: String,
    due: String,
    completed: String,
    overdue: bool,
    slipped: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "pages/review.html")]
struct OverviewPage {
    layout: Layout,
    head: Head,
    powers: Powers,
    version: i32,
    title: String,
    methodology: String,
    methodology_label: &'static str,
    methodologies: Vec<Choice>,
    terms_of_reference: String,
    subject_perspective: String,
    stages: Vec<StageRow>,
    slipped_total: i64,
    today: String,
}

pub(super) async fn page(opened: Opened<'_>) -> PageResult<Html<String>> {
    let Opened {
        txn,
        review,
        powers,
        head,
        layout,
        today,
        ..
    } = opened;
    let calendar = calendar::store::load(txn).await?;
    let rows = stages::of_review(txn, review.id).await?;
    let slipped_total = rows
        .iter()
        .map(|stage| stage.slipped_days(&calendar, today))
        .sum();
    let stages = rows
        .iter()
        .map(|stage| {
            let slipped = stage.slipped_days(&calendar, today);
            StageRow {
                key: stage.stage_key.clone(),
                name: stage.name.clone(),
                required: stage.required,
                planned: dates::short_or_blank(stage.planned_due_on),
                due: dates::short_or_blank(stage.due_on),
                completed: dates::short_or_blank(stage.completed_on),
                overdue: stage.overdue(today),
                slipped: if slipped > 0 {
                    format!("{slipped} working days")
                } else {
                    String::new()
                },
                reason: stage.slippage_reason.clone().unwrap_or_default(),
            }
        })
        .collect();
    render(&OverviewPage {
        layout,
        head,
        powers,
        version: review.version,
        methodology_label: reviews::methodology_label(&review.methodology),
        methodologies: labelled(&reviews::METHODOLOGIES),
        title: review.title,
        methodology: review.methodology,
        terms_of_reference: review.terms_of_reference,
        subject_perspective: review.subject_perspective,
        stages,
        slipped_total,
        today: dates::iso(today),
    })
}

pub async fn update_details(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = caller.now;
    let input = reviews::DetailsInput {
        title: forms::field(&form, "title"),
        methodology: forms::field(&form, "methodology"),
        terms_of_reference: forms::field(&form, "terms_of_reference"),
        subject_perspective: forms::field(&form, "subject_perspective"),
    };
    let version = version_of(&form);
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::Overview,
            need: Need::Manage,
            action: "review.details_changed",
            values: form.clone(),
        },
        async |txn| reviews::update_details(txn, id, &input, version, now).await,
    )
    .await
}

#[derive(Deserialize)]
pub struct StageForm {
    #[serde(default)]
    on: String,
    #[serde(default)]
    reason: String,
}

pub async fn complete_stage(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, key)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<StageForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let today = caller.now.date_naive();
    // Each stage has its own form: its errors are named after the stage.
    let on = format!("on-{key}");
    let reason = format!("reason-{key}");
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::Overview,
            need: Need::Manage,
            action: "review.stage_completed",
            values: Vec::new(),
        },
        async |txn| {
            let calendar = calendar::store::load(txn).await?;
            stages::complete(txn, id, &key, &form.on, &form.reason, &calendar, today)
                .await
                .map_err(|error| {
                    rename(
                        error,
                        &[
                            ("completed_on", on.as_str()),
                            ("stage", on.as_str()),
                            ("slippage_reason", reason.as_str()),
                        ],
                    )
                })
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct RescheduleForm {
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    reason: String,
}

pub async fn reschedule_stage(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, key)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RescheduleForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let due = format!("due-{key}");
    let reason = format!("due-reason-{key}");
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::Overview,
            need: Need::Manage,
            action: "review.stage_rescheduled",
            values: Vec::new(),
        },
        async |txn| {
            let calendar = calendar::store::load(txn).await?;
            stages::reschedule(txn, id, &key, &form.due_on, &form.reason, &calendar)
                .await
                .map_err(|error| {
                    rename(
                        error,
                        &[
                            ("due_on", due.as_str()),
                            ("slippage_reason", reason.as_str()),
                        ],
                    )
                })
        },
    )
    .await
}
