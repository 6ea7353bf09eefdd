//! Learning over the API: learning items with their disseminations and evidence, recording
//! them, and the library's search (each reader sees what they are entitled to).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use learnloop_core::CoreError;
use learnloop_core::error::CoreResult;
use learnloop_core::learning::{self, Item, Stage, evidence};
use learnloop_core::library::{self, Reader};
use sea_orm::DatabaseTransaction;
use serde::Serialize;
use uuid::Uuid;

use super::{ApiJson, ApiQuery, ListOf};
use crate::error::{ApiError, ApiResult, AppError, ErrorBody};
use crate::extract::Caller;
use crate::extract::parse_id;
use crate::pages::change::{Change, in_api};
use crate::queries::SearchQuery;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Dissemination {
    pub id: Uuid,
    pub channel: String,
    pub held_on: NaiveDate,
    pub audience: String,
    pub people_reached: i32,
    pub agencies_reached: Vec<Uuid>,
    /// The agencies whose safeguarding lead confirmed they passed it on.
    pub agencies_confirmed: Vec<Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Evidence {
    pub id: Uuid,
    /// embedded or evaluated.
    pub stage: String,
    pub kind: String,
    pub details: String,
    pub evidenced_on: NaiveDate,
    pub kirkpatrick_level: Option<i32>,
}

/// A learning item as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LearningView {
    pub id: Uuid,
    pub title: String,
    pub lesson: String,
    pub source_kind: String,
    pub review_id: Option<Uuid>,
    pub published: bool,
    pub stage: Stage,
    pub identified_on: NaiveDate,
    pub disseminated_on: Option<NaiveDate>,
    pub embedded_on: Option<NaiveDate>,
    pub evaluated_on: Option<NaiveDate>,
    pub themes: Vec<String>,
    pub partnership_ids: Vec<Uuid>,
    pub agency_ids: Vec<Uuid>,
    /// Only when one item is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disseminations: Option<Vec<Dissemination>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Vec<Evidence>>,
}

fn view(item: &Item) -> LearningView {
    LearningView {
        id: item.item.id,
        title: item.item.title.clone(),
        lesson: item.item.lesson.clone(),
        source_kind: item.item.source_kind.clone(),
        review_id: item.item.review_id,
        published: item.item.published,
        stage: item.stage(),
        identified_on: item.item.identified_on,
        disseminated_on: item.disseminated_on,
        embedded_on: item.embedded_on,
        evaluated_on: item.evaluated_on,
        themes: item.themes.clone(),
        partnership_ids: item.partnership_ids.clone(),
        agency_ids: item.agency_ids.clone(),
        disseminations: None,
        evidence: None,
    }
}

/// The learning items the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/learning", tag = "learning",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Learning items", body = ListOf<LearningView>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller has no roles", body = ErrorBody)
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<ListOf<LearningView>>> {
    let txn = state.db.read().await?;
    let items: Vec<LearningView> = learning::load(&txn, None)
        .await?
        .iter()
        .filter(|i| learning::may_read(caller.actor(), i))
        .map(view)
        .collect();
    Ok(Json(items.into()))
}

async fn full(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<LearningView> {
    let txn = state.db.read().await?;
    let item = readable(&txn, caller, id).await?;
    let mut shown = view(&item);
    shown.disseminations = Some(
        evidence::disseminations_of(&txn, id)
            .await?
            .into_iter()
            .map(|(d, reached)| Dissemination {
                id: d.id,
                channel: d.channel,
                held_on: d.held_on,
                audience: d.audience,
                people_reached: d.people_reached,
                agencies_confirmed: reached
                    .iter()
                    .filter(|r| r.confirmed_on.is_some())
                    .map(|r| r.agency_id)
                    .collect(),
                agencies_reached: reached.iter().map(|r| r.agency_id).collect(),
            })
            .collect(),
    );
    shown.evidence = Some(
        evidence::of_item(&txn, id)
            .await?
            .into_iter()
            .map(|e| Evidence {
                id: e.id,
                stage: e.stage,
                kind: e.kind,
                details: e.details,
                evidenced_on: e.evidenced_on,
                kirkpatrick_level: e.kirkpatrick_level,
            })
            .collect(),
    );
    Ok(shown)
}

/// One learning item with its disseminations and evidence.
#[utoipa::path(get, path = "/api/v1/learning/{id}", tag = "learning",
    params(("id" = String, Path, description = "The learning item's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The learning item", body = LearningView),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller has no roles", body = ErrorBody),
        (status = 404, description = "No learning item the caller may read has this id", body = ErrorBody)
    ))]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    // Not `RecordId`, which answers a malformed id as a page: the API answers in JSON.
    Path(id): Path<String>,
) -> ApiResult<Json<LearningView>> {
    let id = parse_id(&id)?;
    Ok(Json(full(&state, &caller, id).await?))
}

/// Record a learning item (it starts at "identified").
#[utoipa::path(post, path = "/api/v1/learning", tag = "learning",
    request_body = learning::NewItem,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = LearningView),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller may not record learning", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is missing or not valid; the error names it", body = ErrorBody)
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<learning::NewItem>,
) -> ApiResult<Response> {
    let by = caller.signed_in.person.id;
    let created = crate::pages::change::in_api_creating(
        &state,
        &caller,
        crate::pages::change::Change::creating("learning.created", "learning_item"),
        async |txn| {
            let item = learning::create(txn, &body, by, caller.now).await?;
            Ok(crate::pages::change::Created {
                id: item.id,
                value: (),
            })
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(full(&state, &caller, created.id).await?),
    )
        .into_response())
}

/// The item, if the caller may read it; not found otherwise (as if it did not exist).
async fn readable(
    db: &impl sea_orm::ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<Item, CoreError> {
    let item = learning::get(db, id)
        .await
        .map_err(|_| CoreError::NotFound)?;
    if learning::may_read(caller.actor(), &item) {
        Ok(item)
    } else {
        Err(CoreError::NotFound)
    }
}

/// Records something about an item the caller may read (`change::in_api`), then answers 201
/// with the item as it now is.
async fn record<T>(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    action: &str,
    apply: impl AsyncFnOnce(&DatabaseTransaction) -> CoreResult<T>,
) -> ApiResult<Response> {
    in_api(
        state,
        caller,
        Change::new(action, "learning_item", id).called("learning item"),
        async move |txn| {
            readable(txn, caller, id).await?;
            apply(txn).await
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(full(state, caller, id).await?)).into_response())
}

/// Record a dissemination (channel, date and audience required).
#[utoipa::path(post, path = "/api/v1/learning/{id}/disseminations", tag = "learning",
    params(("id" = String, Path, description = "The learning item's id")),
    request_body = evidence::DisseminationInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded; the item as it now is", body = LearningView),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller may not record learning", body = ErrorBody),
        (status = 404, description = "No learning item the caller may read has this id", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is missing or not valid; the error names it", body = ErrorBody)
    ))]
pub async fn disseminate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<evidence::DisseminationInput>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let now = caller.now;
    let by = caller.signed_in.person.id;
    record(&state, &caller, id, "learning.disseminated", async |txn| {
        evidence::disseminate(txn, id, &body, by, now).await
    })
    .await
}

/// Record evidence that the learning is embedded, or of its impact.
#[utoipa::path(post, path = "/api/v1/learning/{id}/evidence", tag = "learning",
    params(("id" = String, Path, description = "The learning item's id")),
    request_body = evidence::EvidenceInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded; the item as it now is", body = LearningView),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller may not record learning", body = ErrorBody),
        (status = 404, description = "No learning item the caller may read has this id", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "Missing evidence, or a stage before its turn; the error names the field", body = ErrorBody)
    ))]
pub async fn add_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<evidence::EvidenceInput>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let now = caller.now;
    let by = caller.signed_in.person.id;
    record(&state, &caller, id, "learning.evidence", async |txn| {
        evidence::add(txn, id, &body, by, now).await
    })
    .await
}

/// One search result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LibraryHit {
    /// finding, recommendation or learning_item.
    pub kind: String,
    pub source_id: Uuid,
    pub title: String,
    pub body: String,
    pub themes: Vec<String>,
    pub review_type: String,
    pub dated_on: NaiveDate,
    pub public: bool,
}

/// Search the library; words only (operators are ignored), with optional filters.
#[utoipa::path(get, path = "/api/v1/library/search", tag = "learning",
    params(SearchQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Best matches first, at most 50", body = ListOf<LibraryHit>),
        (status = 400, description = "No words to search for, or a filter that is not valid; the error names it", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller has no roles", body = ErrorBody)
    ))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<Json<ListOf<LibraryHit>>> {
    let filter = query.filter().map_err(|e| {
        ApiError(AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("{}: {}", e.field, e.message),
        ))
    })?;
    let q = query.q.clone().unwrap_or_default();
    let txn = state.db.read().await?;
    let found = match library::search(&txn, &q, &filter, &Reader::of(caller.actor()), 50).await {
        Ok(found) => found,
        Err(CoreError::Invalid(fields)) => {
            let message = fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(ApiError(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                message,
            )));
        }
        Err(other) => return Err(other.into()),
    };
    drop(txn);
    // One entry per search, as on the page: the kinds of filter and the count, never the words.
    let restricted = found.iter().filter(|d| !d.frozen).count();
    crate::audited::append_now(
        &state,
        caller
            .viewer()
            .event("library.searched", "allowed")
            .on("library", found.len())
            .because(Some(format!(
                "api; {}; {restricted} restricted",
                query.kinds()
            ))),
    )
    .await?;
    let items: Vec<LibraryHit> = found
        .into_iter()
        .map(|d| LibraryHit {
            themes: d.theme_codes(),
            kind: d.source_kind,
            source_id: d.source_id,
            title: d.title,
            body: d.body,
            review_type: d.review_type,
            dated_on: d.dated_on,
            public: d.public,
        })
        .collect();
    Ok(Json(items.into()))
}
