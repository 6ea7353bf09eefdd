//! Reviews over the API: the list the caller may see, and one review with its stages,
//! contributions, findings and recommendations. Findings and recommendations can be added.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use learnloop_core::access::{Action, Record, can};
use learnloop_core::calendar;
use learnloop_core::reviews::{self, contributions, entries, stages};
use learnloop_core::viewer::{Recording, Subject};
use serde::Serialize;
use uuid::Uuid;

use super::{ApiJson, ListOf};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Caller;
use crate::extract::parse_id;
use crate::pages::change::{Change, in_api};
use crate::state::AppState;
use learnloop_core::reviews::visible_to as visible;

/// A review in a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewSummary {
    pub id: Uuid,
    pub reference: Option<String>,
    pub title: String,
    pub review_type: String,
    pub case_id: Uuid,
    /// The current stage's key, or "complete" or "converted".
    pub stage: String,
    pub commissioned_on: NaiveDate,
    pub report_due_on: Option<NaiveDate>,
    pub converted_from_review_id: Option<Uuid>,
    pub converted_from_rapid_review_id: Option<Uuid>,
    pub partnership_id: Option<Uuid>,
    pub on_hold: bool,
    pub published_on: Option<NaiveDate>,
}

impl From<&reviews::Model> for ReviewSummary {
    fn from(review: &reviews::Model) -> Self {
        ReviewSummary {
            id: review.id,
            reference: review.reference.clone(),
            title: review.title.clone(),
            review_type: review.review_type_code.clone(),
            case_id: review.case_id,
            stage: review.status.clone(),
            commissioned_on: review.commissioned_on,
            report_due_on: review.report_due_on,
            converted_from_review_id: review.converted_from_review_id,
            converted_from_rapid_review_id: review.converted_from_rapid_review_id,
            partnership_id: review.partnership_id,
            on_hold: review.hold_reason.is_some(),
            published_on: review.published_on,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stage {
    pub key: String,
    pub name: String,
    pub required: bool,
    pub planned_due_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    /// Working days between the first planned date and completion (or today, when overdue).
    pub slipped_working_days: i64,
    pub slippage_reason: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Contribution {
    pub id: Uuid,
    pub agency_id: Uuid,
    /// agency_report, chronology or imr.
    pub kind: String,
    pub due_on: NaiveDate,
    pub received_on: Option<NaiveDate>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: Uuid,
    /// line_of_enquiry, key_practice_episode, finding, recommendation or good_practice.
    pub kind: String,
    pub position: i32,
    pub title: String,
    pub body: String,
    /// The agencies a recommendation is addressed to.
    pub agency_ids: Vec<Uuid>,
    pub themes: Vec<String>,
}

impl From<entries::Entry> for Entry {
    fn from(entry: entries::Entry) -> Self {
        Entry {
            id: entry.entry.id,
            kind: entry.entry.kind,
            position: entry.entry.position,
            title: entry.entry.title,
            body: entry.entry.body,
            agency_ids: entry.agency_ids,
            themes: entry.theme_codes,
        }
    }
}

/// One review, whole.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Review {
    #[serde(flatten)]
    pub summary: ReviewSummary,
    pub methodology: String,
    pub terms_of_reference: String,
    pub subject_perspective: String,
    pub stages: Vec<Stage>,
    pub contributions: Vec<Contribution>,
    pub findings: Vec<Entry>,
    pub recommendations: Vec<Entry>,
    /// Lines of enquiry, key practice episodes and good practice.
    pub other_entries: Vec<Entry>,
}

/// The reviews the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "reviews",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reviews the caller may see", body = ListOf<ReviewSummary>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller's roles do not include reviews", body = ErrorBody)
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<ListOf<ReviewSummary>>> {
    let txn = state.db.read().await?;
    let items: Vec<ReviewSummary> = visible(caller.actor(), reviews::list_with_cases(&txn).await?)
        .iter()
        .map(|listed| ReviewSummary::from(&listed.review))
        .collect();
    drop(txn);
    // One entry per list, as on the page: how many reviews were shown.
    crate::audited::append_now(
        &state,
        caller
            .viewer()
            .event("reviews.listed", "allowed")
            .on("reviews", items.len())
            .because(Some("api".to_string())),
    )
    .await?;
    Ok(Json(items.into()))
}

async fn load(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<Review> {
    let txn = state.db.read().await?;
    // The view (or its refusal) is recorded before anything of the review is read.
    let (review, _) =
        reviews::open(&txn, crate::extract::journal(state), &caller.viewer(), id).await?;
    let calendar = calendar::store::load(&txn).await?;
    let today = caller.now.date_naive();
    let stages = stages::of_review(&txn, id)
        .await?
        .into_iter()
        .map(|stage| Stage {
            slipped_working_days: stage.slipped_days(&calendar, today),
            key: stage.stage_key,
            name: stage.name,
            required: stage.required,
            planned_due_on: stage.planned_due_on,
            due_on: stage.due_on,
            completed_on: stage.completed_on,
            slippage_reason: stage.slippage_reason,
        })
        .collect();
    let contributions = contributions::of_review(&txn, id)
        .await?
        .into_iter()
        .map(|c| Contribution {
            id: c.id,
            agency_id: c.agency_id,
            kind: c.kind,
            due_on: c.due_on,
            received_on: c.received_on,
        })
        .collect();
    let mut findings = Vec::new();
    let mut recommendations = Vec::new();
    let mut other_entries = Vec::new();
    for entry in entries::of_review(&txn, id).await? {
        match entry.entry.kind.as_str() {
            entries::FINDING => findings.push(entry.into()),
            entries::RECOMMENDATION => recommendations.push(entry.into()),
            _ => other_entries.push(entry.into()),
        }
    }
    Ok(Review {
        summary: ReviewSummary::from(&review),
        methodology: review.methodology,
        terms_of_reference: review.terms_of_reference,
        subject_perspective: review.subject_perspective,
        stages,
        contributions,
        findings,
        recommendations,
        other_entries,
    })
}

/// One review with its stages, contributions, findings and recommendations.
#[utoipa::path(get, path = "/api/v1/reviews/{id}", tag = "reviews",
    params(("id" = String, Path, description = "The review's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The review", body = Review),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller's roles do not include reviews", body = ErrorBody),
        (status = 404, description = "No review the caller may see has this id", body = ErrorBody)
    ))]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    // Not `RecordId`, which answers a malformed id as a page: the API answers in JSON.
    Path(id): Path<String>,
) -> ApiResult<Json<Review>> {
    let id = parse_id(&id)?;
    Ok(Json(load(&state, &caller, id).await?))
}

/// Add a line of enquiry, key practice episode, finding, recommendation or good practice.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/entries", tag = "reviews",
    params(("id" = String, Path, description = "The review's id")),
    request_body = entries::EntryInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added", body = Entry),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller may not change this review", body = ErrorBody),
        (status = 404, description = "No review the caller may see has this id", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is missing or not valid (a recommendation needs an agency); the error names it", body = ErrorBody)
    ))]
pub async fn add_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<entries::EntryInput>,
) -> ApiResult<Response> {
    const ACTION: &str = "review.entry_added";
    let id = parse_id(&id)?;
    let viewer = caller.viewer();
    let added = in_api(
        &state,
        &caller,
        Change::new(ACTION, "review", id),
        async |txn| {
            let (_, case) = reviews::open(txn, Recording::InTransaction, &viewer, id).await?;
            let allowed = can(
                viewer.actor,
                Action::ManageReview,
                Record::Review {
                    review_id: id,
                    agency_ids: &case.agency_ids,
                },
            );
            viewer.require(
                allowed,
                Subject::new(ACTION, "review", id),
                "You cannot change this review",
            )?;
            entries::add(txn, id, &body, caller.now).await
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Entry::from(added))).into_response())
}
