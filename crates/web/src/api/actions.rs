//! Actions over the API: the tracker's list (with its filters and pages), one action with its
//! updates (its ETag is the version), new actions, and updates with `If-Match` (412 when
//! stale, 428 when missing).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use learnloop_core::access::{Action, Record, can};
use learnloop_core::actions::{self, Rag, Rules, Status, tracker, updates};
use learnloop_core::{CoreError, audit};
use serde::Serialize;
use uuid::Uuid;

use super::{ApiJson, ApiQuery, ListOf};
use crate::auth::{SignedIn, Source};
use crate::error::{ApiError, ApiResult, AppError, ErrorBody};
use crate::pages::actions::TrackerQuery;
use crate::pages::parse_id;
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
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller's roles do not include actions", body = ErrorBody)
    ))]
pub async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    ApiQuery(query): ApiQuery<TrackerQuery>,
) -> ApiResult<Json<ListOf<ActionView>>> {
    let per_page = query.per_page.unwrap_or(50);
    if !(1..=200).contains(&per_page) {
        return Err(ApiError(AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "per_page: must be from 1 to 200",
        )));
    }
    let page = query.page.unwrap_or(1);
    if !(1..=1_000_000).contains(&page) {
        return Err(ApiError(AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "page: must be from 1 to 1000000",
        )));
    }
    let filter = query
        .filter(&signed_in.actor, signed_in.person.id)
        .map_err(|error| {
            ApiError(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("{}: {}", error.field, error.message),
            ))
        })?;
    let today = state.clock.now().date_naive();
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await?;
    let (rows, total) = tracker::page(
        &txn,
        &filter,
        today,
        rules.remind_days_before,
        (page - 1) * per_page,
        per_page,
    )
    .await?;
    drop(txn);
    // One entry per list, as on the tracker page: the kinds of filter and how many matched.
    crate::audited::append_now(
        &state,
        audit::Event::new("actions.listed", "allowed")
            .by(&signed_in.actor)
            .on("actions", total)
            .from_source(source)
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

async fn load(
    state: &AppState,
    signed_in: &SignedIn,
    id: Uuid,
    source: Option<String>,
) -> ApiResult<ActionView> {
    let now = state.clock.now();
    let txn = state.db.read().await?;
    let found = learnloop_core::actions::open(
        &txn,
        crate::extract::journal(state),
        &crate::extract::viewer(signed_in, &source, now),
        id,
    )
    .await;
    txn.commit().await?;
    let action = found.map_err(|error| ApiError(error.into()))?;
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await?;
    let history = updates::of_action(&txn, id).await?;
    let files = updates::evidence_of(&txn, history.iter().map(|u| u.id).collect()).await?;
    let mut shown = view(&action, now.date_naive(), &rules);
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
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    Ok(with_etag(
        StatusCode::OK,
        load(&state, &signed_in, id, source).await?,
    ))
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
    signed_in: SignedIn,
    Source(source): Source,
    ApiJson(body): ApiJson<actions::NewAction>,
) -> ApiResult<Response> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let action = actions::create(&txn, &body, signed_in.person.id, now).await?;
    audit::append(
        &txn,
        audit::Event::new("action.created", "succeeded")
            .by(&signed_in.actor)
            .on("action", action.id)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    let rules = Rules::default();
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await.unwrap_or(rules);
    Ok(with_etag(
        StatusCode::CREATED,
        view(&action, now.date_naive(), &rules),
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
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<updates::UpdateInput>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let found = learnloop_core::actions::open(
        &txn,
        learnloop_core::viewer::Recording::InTransaction,
        &crate::extract::viewer(&signed_in, &source, now),
        id,
    )
    .await;
    let action = match found {
        Ok(action) => action,
        Err(error) => {
            txn.commit().await?;
            return Err(ApiError(error.into()));
        }
    };
    if !can(
        &signed_in.actor,
        Action::UpdateAction,
        Record::Action {
            agency_id: action.owner_agency_id,
        },
    ) {
        txn.rollback().await?;
        return Err(ApiError(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "You cannot update this action",
        )));
    }
    let Some(if_match) = headers
        .get(header::IF_MATCH)
        .and_then(|value| value.to_str().ok())
    else {
        return Err(ApiError(AppError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "if_match_required",
            "Send the ETag you read as If-Match",
        )));
    };
    let version = if_match
        .trim()
        .trim_matches('"')
        .trim_start_matches('v')
        .parse::<i32>()
        .unwrap_or(-1);
    let updated = match updates::add(&txn, id, &body, version, &[], signed_in.person.id, now).await
    {
        Ok(updated) => updated,
        Err(CoreError::Conflict(message)) => {
            return Err(ApiError(AppError::new(
                StatusCode::PRECONDITION_FAILED,
                "stale_version",
                message,
            )));
        }
        Err(other) => return Err(other.into()),
    };
    audit::append(
        &txn,
        audit::Event::new("action.updated", "succeeded")
            .by(&signed_in.actor)
            .on("action", id)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await?;
    Ok(with_etag(
        StatusCode::CREATED,
        view(&updated, now.date_naive(), &rules),
    ))
}
