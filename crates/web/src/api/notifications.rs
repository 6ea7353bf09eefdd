//! Notifications (cases) over the API. Reads are recorded in the audit trail like page reads;
//! protected fields appear only for roles allowed to see them; updates need `If-Match`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use learnloop_core::access::{Action, Record, can, case_scope};
use learnloop_core::calendar;
use learnloop_core::cases::{self, CaseInput, CaseRecord};
use learnloop_core::deadlines::{self, Deadline};
use learnloop_core::decisions::{self, DecisionInput};
use learnloop_core::error::CoreResult;
use learnloop_core::viewer::Recording;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ApiJson, ApiQuery, ListOf};
use crate::error::{ApiError, ApiResult, AppError, ErrorBody};
use crate::extract::parse_id;
use crate::extract::{Caller, IfMatch, RecordId, journal};
use crate::pages::change::{self, Change};
use crate::state::AppState;

/// A notification as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: Uuid,
    pub reference: String,
    pub subject_kind: String,
    pub incident_kind: String,
    pub aware_on: chrono::NaiveDate,
    pub summary: String,
    pub pseudonym: String,
    pub age_band: String,
    /// Only for roles allowed to see who the case is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_dob: Option<chrono::NaiveDate>,
    pub referrer: String,
    pub partnership_ids: Vec<Uuid>,
    pub agency_ids: Vec<Uuid>,
    pub inquest: bool,
    pub criminal_proceedings: bool,
    pub police_investigation: bool,
    pub coroner: bool,
    pub national_panel_notified_on: Option<chrono::NaiveDate>,
    pub national_panel_notified_by: Option<String>,
    pub status: String,
    /// Send it back as `If-Match` when updating.
    pub version: i32,
    pub deadlines: Vec<Deadline>,
}

fn view(record: CaseRecord, deadlines: Vec<Deadline>, identity: bool) -> Notification {
    let case = record.case;
    Notification {
        id: case.id,
        reference: case.reference,
        subject_kind: case.subject_kind,
        incident_kind: case.incident_kind,
        aware_on: case.aware_on,
        summary: case.summary,
        pseudonym: case.pseudonym,
        age_band: case.age_band,
        subject_name: if identity { case.subject_name } else { None },
        subject_dob: if identity { case.subject_dob } else { None },
        referrer: case.referrer,
        partnership_ids: record.partnership_ids,
        agency_ids: record.agency_ids,
        inquest: case.inquest,
        criminal_proceedings: case.criminal_proceedings,
        police_investigation: case.police_investigation,
        coroner: case.coroner,
        national_panel_notified_on: case.national_panel_notified_on,
        national_panel_notified_by: case.national_panel_notified_by,
        status: case.status,
        version: case.version,
        deadlines,
    }
}

/// The body to notify or update a case.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationBody {
    /// "child" or "adult".
    #[schema(pattern = "^(child|adult)$")]
    pub subject_kind: String,
    /// "death", "serious_harm" or "other".
    #[schema(pattern = "^(death|serious_harm|other)$")]
    pub incident_kind: String,
    /// YYYY-MM-DD, today or earlier.
    pub aware_on: String,
    pub summary: String,
    pub pseudonym: String,
    pub age_band: String,
    #[serde(default)]
    pub subject_name: Option<String>,
    #[serde(default)]
    pub subject_dob: Option<String>,
    pub referrer: String,
    pub partnership_ids: Vec<Uuid>,
    #[serde(default)]
    pub agency_ids: Vec<Uuid>,
    #[serde(default)]
    pub inquest: bool,
    #[serde(default)]
    pub criminal_proceedings: bool,
    #[serde(default)]
    pub police_investigation: bool,
    #[serde(default)]
    pub coroner: bool,
}

impl From<NotificationBody> for CaseInput {
    fn from(body: NotificationBody) -> Self {
        CaseInput {
            subject_kind: body.subject_kind,
            incident_kind: body.incident_kind,
            aware_on: body.aware_on,
            summary: body.summary,
            pseudonym: body.pseudonym,
            age_band: body.age_band,
            subject_name: body.subject_name,
            subject_dob: body.subject_dob,
            referrer: body.referrer,
            partnership_ids: body.partnership_ids,
            agency_ids: body.agency_ids,
            inquest: body.inquest,
            criminal_proceedings: body.criminal_proceedings,
            police_investigation: body.police_investigation,
            coroner: body.coroner,
        }
    }
}

/// The notification `id` as `caller` sees it, its opening recorded as `recording` says.
async fn load_view(
    txn: &sea_orm::DatabaseTransaction,
    recording: Recording<'_>,
    caller: &Caller,
    id: Uuid,
) -> CoreResult<Notification> {
    let record = cases::open(txn, recording, &caller.viewer(), id).await?;
    let calendar = calendar::store::load(txn).await?;
    let (_, deadlines) =
        deadlines::of_case(txn, &record, &calendar, caller.now.date_naive()).await?;
    let identity = can(
        caller.actor(),
        Action::ViewCaseIdentity,
        Record::Case {
            agency_ids: &record.agency_ids,
        },
    );
    Ok(view(record, deadlines, identity))
}

fn with_etag(status: StatusCode, notification: Notification) -> Response {
    let etag = format!("\"v{}\"", notification.version);
    (status, [(header::ETAG, etag)], Json(notification)).into_response()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page number, from 1.
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<u64>,
    /// Items a page, 1 to 100 (default 25).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u64>,
}

/// List the notifications the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of notifications (without deadlines; read one for those)", body = ListOf<Notification>),
        (status = 400, description = "A query parameter is not valid", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller's roles do not include cases", body = ErrorBody)
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<ListOf<Notification>>> {
    // Its own limits, not `ApiPaging`'s: this list has always answered at most 100 a page.
    let per_page = query.per_page.unwrap_or(25);
    let page = query.page.unwrap_or(1);
    if !(1..=100).contains(&per_page) {
        return Err(ApiError(AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "per_page: must be from 1 to 100",
        )));
    }
    if !(1..=1_000_000).contains(&page) {
        return Err(ApiError(AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "page: must be from 1 to 1000000",
        )));
    }
    let actor = caller.actor();
    let txn = state.db.read().await?;
    let scope = case_scope(actor);
    let (records, total) =
        cases::list(&txn, scope.as_deref(), (page - 1) * per_page, per_page).await?;
    caller
        .viewer()
        .record(state.db.journal(), "cases.list")
        .await?;
    txn.commit().await?;
    let items: Vec<Notification> = records
        .into_iter()
        .filter(|record| {
            can(
                actor,
                Action::ViewCase,
                Record::Case {
                    agency_ids: &record.agency_ids,
                },
            )
        })
        .map(|record| {
            let identity = can(
                actor,
                Action::ViewCaseIdentity,
                Record::Case {
                    agency_ids: &record.agency_ids,
                },
            );
            view(record, Vec::new(), identity)
        })
        .collect();
    Ok(Json(ListOf {
        items,
        total: total as usize,
    }))
}

/// Read one notification with its deadlines.
#[utoipa::path(get, path = "/api/v1/notifications/{id}", tag = "notifications",
    params(("id" = String, Path, description = "The notification's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The notification; its ETag is the version", body = Notification),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller's roles do not include cases", body = ErrorBody),
        (status = 404, description = "No notification the caller may see has this id", body = ErrorBody)
    ))]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    // Not `RecordId`: its 404 is a page, and the API answers in JSON.
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let txn = state.db.read().await?;
    let notification = load_view(&txn, journal(&state), &caller, id).await;
    txn.commit().await?;
    Ok(with_etag(StatusCode::OK, notification?))
}

/// Notify a case.
#[utoipa::path(post, path = "/api/v1/notifications", tag = "notifications",
    request_body = NotificationBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Notified", body = Notification),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller may not notify cases", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is missing, unknown or not valid; the error names it", body = ErrorBody)
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NotificationBody>,
) -> ApiResult<Response> {
    let id = Uuid::now_v7();
    let person_id = caller.signed_in.person.id;
    let notification = change::in_api(
        &state,
        &caller,
        Change::new("case.create", "case", id),
        async |txn| {
            cases::create_with_id(txn, id, body.into(), person_id, caller.now).await?;
            load_view(txn, Recording::InTransaction, &caller, id).await
        },
    )
    .await?;
    let mut response = with_etag(StatusCode::CREATED, notification);
    if let Ok(location) = format!("/api/v1/notifications/{id}").parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Replace a notification's details. Send the ETag you read as `If-Match`.
#[utoipa::path(put, path = "/api/v1/notifications/{id}", tag = "notifications",
    params(("id" = String, Path, description = "The notification's id"), ("If-Match" = String, Header, description = "The ETag of the version you are changing")),
    request_body = NotificationBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = Notification),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller may not change cases", body = ErrorBody),
        (status = 404, description = "No notification the caller may see has this id", body = ErrorBody),
        (status = 412, description = "Someone changed it since your ETag: read it again", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is not valid; the error names it", body = ErrorBody),
        (status = 428, description = "If-Match is missing", body = ErrorBody)
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<NotificationBody>,
) -> ApiResult<Response> {
    let notification = change::in_api(
        &state,
        &caller,
        Change::new("case.update", "case", id),
        async |txn| {
            load_view(txn, Recording::InTransaction, &caller, id).await?;
            cases::update(txn, id, version, body.into(), caller.now).await?;
            load_view(txn, Recording::InTransaction, &caller, id).await
        },
    )
    .await?;
    Ok(with_etag(StatusCode::OK, notification))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    pub id: Uuid,
    pub review_type: String,
    pub answers: std::collections::BTreeMap<String, bool>,
    pub recommendation: String,
    /// "review" or "no_review".
    pub outcome: String,
    pub overridden: bool,
    pub override_reason: Option<String>,
    pub rationale: String,
    pub immediate_actions: Option<String>,
    pub decided_on: chrono::NaiveDate,
    pub rapid_review_id: Option<Uuid>,
    pub review_id: Option<Uuid>,
}

fn decision_view(
    decision: decisions::Model,
    rapid_review_id: Option<Uuid>,
    review_id: Option<Uuid>,
) -> DecisionView {
    DecisionView {
        id: decision.id,
        answers: decision.answers(),
        review_type: decision.review_type_code,
        recommendation: decision.recommendation,
        outcome: decision.outcome,
        overridden: decision.overridden,
        override_reason: decision.override_reason,
        rationale: decision.rationale,
        immediate_actions: decision.immediate_actions,
        decided_on: decision.decided_on,
        rapid_review_id,
        review_id,
    }
}

/// The decisions on a notification.
#[utoipa::path(get, path = "/api/v1/notifications/{id}/decisions", tag = "notifications",
    params(("id" = String, Path, description = "The notification's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decisions, oldest first", body = ListOf<DecisionView>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller's roles do not include cases", body = ErrorBody),
        (status = 404, description = "No notification the caller may see has this id", body = ErrorBody)
    ))]
pub async fn decisions_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ListOf<DecisionView>>> {
    let id = parse_id(&id)?;
    let txn = state.db.read().await?;
    cases::open(&txn, journal(&state), &caller.viewer(), id).await?;
    let items: Vec<DecisionView> = decisions::of_case(&txn, id)
        .await?
        .into_iter()
        .map(|d| decision_view(d, None, None))
        .collect();
    txn.commit().await?;
    Ok(Json(items.into()))
}

/// Record a decision: criteria answers, the decision, its rationale.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/decisions", tag = "notifications",
    params(("id" = String, Path, description = "The notification's id")),
    request_body = DecisionInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Decided; a rapid review or review was started if the decision holds one", body = DecisionView),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The caller may not decide", body = ErrorBody),
        (status = 404, description = "No notification the caller may see has this id", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is not valid (a missing rationale, an override without a reason); the error names it", body = ErrorBody)
    ))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionInput>,
) -> ApiResult<(StatusCode, Json<DecisionView>)> {
    let id = parse_id(&id)?;
    let person_id = caller.signed_in.person.id;
    let decided = change::in_api(
        &state,
        &caller,
        Change::new("case.decision", "case", id),
        async |txn| {
            cases::open(txn, Recording::InTransaction, &caller.viewer(), id).await?;
            let calendar = calendar::store::load(txn).await?;
            decisions::decide(txn, id, body, person_id, &calendar, caller.now).await
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(decision_view(
            decided.decision,
            decided.rapid_review_id,
            decided.review_id,
        )),
    ))
}
