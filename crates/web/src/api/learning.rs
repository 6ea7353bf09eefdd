//! Learning over the API: learning items with their disseminations and evidence, recording
//! them, and the library's search (each reader sees what they are entitled to).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use learnloop_core::learning::{self, Item, Stage, evidence};
use learnloop_core::library::{self, Reader};
use learnloop_core::{CoreError, audit};
use serde::Serialize;
use uuid::Uuid;

use super::{ApiJson, ApiQuery, ListOf};
use crate::auth::{SignedIn, Source};
use crate::error::{ApiError, ApiResult, AppError, ErrorBody};
use crate::pages::library::SearchQuery;
use crate::pages::parse_id;
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
    signed_in: SignedIn,
) -> ApiResult<Json<ListOf<LearningView>>> {
    let txn = state.db.read().await?;
    let items: Vec<LearningView> = learning::load(&txn, None)
        .await?
        .iter()
        .filter(|i| learning::may_read(&signed_in.actor, i))
        .map(view)
        .collect();
    Ok(Json(items.into()))
}

async fn full(state: &AppState, signed_in: &SignedIn, id: Uuid) -> ApiResult<LearningView> {
    let txn = state.db.read().await?;
    let item = learning::get(&txn, id)
        .await
        .map_err(|_| ApiError(AppError::not_found()))?;
    if !learning::may_read(&signed_in.actor, &item) {
        return Err(ApiError(AppError::not_found()));
    }
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
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<LearningView>> {
    let id = parse_id(&id)?;
    Ok(Json(full(&state, &signed_in, id).await?))
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
    signed_in: SignedIn,
    Source(source): Source,
    ApiJson(body): ApiJson<learning::NewItem>,
) -> ApiResult<Response> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let item = learning::create(&txn, &body, signed_in.person.id, now).await?;
    audit::append(
        &txn,
        audit::Event::new("learning.created", "succeeded")
            .by(&signed_in.actor)
            .on("learning_item", item.id)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(full(&state, &signed_in, item.id).await?),
    )
        .into_response())
}

async fn record<F, Fut>(
    state: &AppState,
    signed_in: &SignedIn,
    source: Option<String>,
    id: Uuid,
    action: &str,
    apply: F,
) -> ApiResult<Response>
where
    F: FnOnce(sea_orm::DatabaseTransaction) -> Fut,
    Fut: std::future::Future<Output = (sea_orm::DatabaseTransaction, Result<(), CoreError>)>,
{
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let item = learning::get(&txn, id)
        .await
        .map_err(|_| ApiError(AppError::not_found()))?;
    if !learning::may_read(&signed_in.actor, &item) {
        return Err(ApiError(AppError::not_found()));
    }
    let (txn, result) = apply(txn).await;
    result?;
    audit::append(
        &txn,
        audit::Event::new(action, "succeeded")
            .by(&signed_in.actor)
            .on("learning_item", id)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(full(state, signed_in, id).await?)).into_response())
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
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<evidence::DisseminationInput>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let by = signed_in.person.id;
    record(
        &state,
        &signed_in,
        source,
        id,
        "learning.disseminated",
        |txn| async move {
            let result = evidence::disseminate(&txn, id, &body, by, now)
                .await
                .map(|_| ());
            (txn, result)
        },
    )
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
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<evidence::EvidenceInput>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let by = signed_in.person.id;
    record(
        &state,
        &signed_in,
        source,
        id,
        "learning.evidence",
        |txn| async move {
            let result = evidence::add(&txn, id, &body, by, now).await.map(|_| ());
            (txn, result)
        },
    )
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
    signed_in: SignedIn,
    Source(source): Source,
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
    let found = match library::search(&txn, &q, &filter, &Reader::of(&signed_in.actor), 50).await {
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
        audit::Event::new("library.searched", "allowed")
            .by(&signed_in.actor)
            .on("library", found.len())
            .from_source(source)
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
