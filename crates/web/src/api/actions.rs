//! Actions over the API: the tracker's list (with its filters and pages), one action with its
//! updates (its ETag is the version), new actions, and updates with `If-Match` (412 when
//! stale, 428 when missing).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use learnloop_core::access::{Action, Record, can};
use learnloop_core::actions::{self, Rag, Rules, Status, tracker, updates};
use learnloop_core::viewer::{Recording, Subject};
use serde::Serialize;
use uuid::Uuid;

use super::{ApiJson, ApiQuery, ListOf};
use crate::error::{ApiError, ApiResult, AppError, ErrorBody};
use crate::extract::parse_id;
use crate::extract::{ApiPaging, Caller, IfMatch, RecordId, journal};
use crate::pages::change::{self, Change};
use crate::queries::TrackerQuery;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Update {
    pub id: Uuid,
    pub status: String,
    pub narrative: String,
    pub written_by: Uuid,
    pub written_at: chrono::DateTime<chrono::Utc>,
    /// Names of the evidence files.
    pub evidence: Vec<String>,
}

/// An action as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActionView {
    pub id: Uuid,
    pub reference: String,
    pub plan_id: Option<Uuid>,
    pub source_kind: String,
    pub source_entry_id: Option<Uuid>,
    pub review_id: Option<Uuid>,
    pub description: String,
    pub owner_agency_id: Uuid,
    pub lead_person_id: Option<Uuid>,
    pub due_on: NaiveDate,
    pub intended_outcome: String,
    pub success_evidence: String,
    pub status: Status,
    pub rag: Rag,
    pub signed_off_on: Option<NaiveDate>,
    pub escalated_on: Option<NaiveDate>,
    pub version: i32,
    /// Newest first; only when one action is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updates: Option<Vec<Update>>,
}

fn view(action: &actions::Model, today: NaiveDate, rules: &Rules) -> ActionView {
    ActionView {
        id: action.id,
        reference: action.reference.clone(),
        plan_id: action.plan_id,
        source_kind: action.source_kind.clone(),
        source_entry_id: action.source_entry_id,
        review_id: action.review_id,
        description: action.description.clone(),
        owner_agency_id: action.owner_agency_id,
        lead_person_id: action.lead_person_id,
        due_on: action.due_on,
        intended_outcome: action.intended_outcome.clone(),
        success_evidence: action.success_evidence.clone(),
        status: action.status(),
        rag: action.rag(today, rules.remind_days_before),
        signed_off_on: action.signed_off_on,
        escalated_on: action.escalated_on,
        version: action.version,
        updates: None,
    }
}

fn with_etag(status: StatusCode, action: ActionView) -> Response {
    let etag = format!("\"v{}\"", action.version);
    (status, [(header::ETAG, etag)], Json(action)).into_response()
}

/// The actions the caller may see, filtered, a page at a time, by due date.
#[utoipa::path(get, path = "/api/v1/actions", tag = "actions",
    params(TrackerQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of actions; `total` counts every match", body = ListOf<ActionView>),
        (status = 400, description = "A query parameter is not valid; the error names it", body = ErrorBody),
        (status = 422, description = "page or per_page is out of range; the error names it", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller's roles do not include actions", body = ErrorBody)
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<TrackerQuery>,
    paging: ApiPaging,
) -> ApiResult<Json<ListOf<ActionView>>> {
    // `ApiPaging` has no last page; this list's own bound keeps the offset in range.
    if paging.page > 1_000_000 {
        return Err(ApiError(AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "page: must be from 1 to 1000000",
        )));
    }
    let filter = query
        .filter(caller.actor(), caller.signed_in.person.id)
        .map_err(|error| {
            ApiError(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("{}: {}", error.field, error.message),
            ))
        })?;
    let today = caller.now.date_naive();
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await?;
    let (rows, total) = tracker::page(
        &txn,
        &state.tracker_totals,
        &filter,
        today,
        rules.remind_days_before,
        paging.offset(),
        paging.per_page,
    )
    .await?;
    drop(txn);
    // One entry per list, as on the tracker page: the kinds of filter and how many matched.
    crate::audited::append_now(
        &state,
        caller
            .viewer()
            .event("actions.listed", "allowed")
            .on("actions", total)
            .because(Some(format!(
                "api; {}",
                query.filter_kinds().unwrap_or_default()
            ))),
    )
    .await?;
    Ok(Json(ListOf {
        items: rows.iter().map(|a| view(a, today, &rules)).collect(),
        total: usize::try_from(total).unwrap_or(usize::MAX),
    }))
}

/// The action `id` with its updates, its opening recorded in the journal.
async fn load(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<ActionView> {
    let txn = state.db.read().await?;
    let found = actions::open(&txn, journal(state), &caller.viewer(), id).await;
    txn.commit().await?;
    let action = found.map_err(|error| ApiError(error.into()))?;
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await?;
    let history = updates::of_action(&txn, id).await?;
    let files = updates::evidence_of(&txn, history.iter().map(|u| u.id).collect()).await?;
    let mut shown = view(&action, caller.now.date_naive(), &rules);
    shown.updates = Some(
        history
            .into_iter()
            .map(|u| Update {
                evidence: files
                    .iter()
                    .filter(|f| f.update_id == u.id)
                    .map(|f| f.file_name.clone())
                    .collect(),
                id: u.id,
                status: u.status,
                narrative: u.narrative,
                written_by: u.written_by,
                written_at: u.written_at,
            })
            .collect(),
    );
    Ok(shown)
}

/// One action with its updates; the ETag is its version.
#[utoipa::path(get, path = "/api/v1/actions/{id}", tag = "actions",
    params(("id" = String, Path, description = "The action's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The action", body = ActionView),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller's roles do not include actions", body = ErrorBody),
        (status = 404, description = "No action the caller may see has this id", body = ErrorBody)
    ))]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    // Not `RecordId`: its 404 is a page, and the API answers in JSON.
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    Ok(with_etag(StatusCode::OK, load(&state, &caller, id).await?))
}

/// Add an action.
#[utoipa::path(post, path = "/api/v1/actions", tag = "actions",
    request_body = actions::NewAction,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added", body = ActionView),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller may not add actions", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is missing or not valid; the error names it", body = ErrorBody)
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<actions::NewAction>,
) -> ApiResult<Response> {
    let id = Uuid::now_v7();
    let person_id = caller.signed_in.person.id;
    let action = change::in_api(
        &state,
        &caller,
        Change::new("action.created", "action", id),
        async |txn| actions::create_with_id(txn, id, &body, person_id, caller.now).await,
    )
    .await?;
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await.unwrap_or_default();
    Ok(with_etag(
        StatusCode::CREATED,
        view(&action, caller.now.date_naive(), &rules),
    ))
}

/// Add a progress update; send the ETag you read as If-Match.
#[utoipa::path(post, path = "/api/v1/actions/{id}/updates", tag = "actions",
    params(("id" = String, Path, description = "The action's id"), ("If-Match" = String, Header, description = "The ETag of the version you are updating")),
    request_body = updates::UpdateInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added; the action as it now is", body = ActionView),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller may not update this action", body = ErrorBody),
        (status = 404, description = "No action the caller may see has this id", body = ErrorBody),
        (status = 412, description = "Someone else updated the action since that version", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is missing or not valid; the error names it", body = ErrorBody),
        (status = 428, description = "No If-Match header", body = ErrorBody)
    ))]
pub async fn add_update(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<updates::UpdateInput>,
) -> ApiResult<Response> {
    let person_id = caller.signed_in.person.id;
    let updated = change::in_api(
        &state,
        &caller,
        Change::new("action.updated", "action", id),
        async |txn| {
            let viewer = caller.viewer();
            let action = actions::open(txn, Recording::InTransaction, &viewer, id).await?;
            let allowed = can(
                caller.actor(),
                Action::UpdateAction,
                Record::Action {
                    agency_id: action.owner_agency_id,
                },
            );
            viewer.require(
                allowed,
                Subject::new("action.updated", "action", id),
                "You cannot update this action",
            )?;
            updates::add(txn, id, &body, version, &[], person_id, caller.now).await
        },
    )
    .await?;
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await?;
    Ok(with_etag(
        StatusCode::CREATED,
        view(&updated, caller.now.date_naive(), &rules),
    ))
}
