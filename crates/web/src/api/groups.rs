use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use learnloop_core::groups::{self, Group, NewGroup, members};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ApiJson, ListOf};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, RecordId};
use crate::pages::change::{self, Change, Created};
use crate::state::AppState;

/// A group with its members.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupView {
    #[serde(flatten)]
    pub group: Group,
    pub members: Vec<members::Member>,
}

/// The body of a request to add a group.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    /// A short unique code: 2 to 32 letters, digits or hyphens.
    #[schema(pattern = "^[A-Za-z0-9-]{2,32}$")]
    pub code: String,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub purpose: String,
    /// The partnership the group serves; leave out for a group serving all of them.
    #[serde(default)]
    pub partnership_id: Option<Uuid>,
}

/// List the groups.
#[utoipa::path(get, path = "/api/v1/groups", tag = "reference data",
    responses((status = 200, description = "The groups", body = ListOf<Group>)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<ListOf<Group>>> {
    Ok(Json(groups::list(state.db.conn()).await?.into()))
}

/// Read one group with its members.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "reference data",
    params(("id" = String, Path, description = "The group's id (a UUID)")),
    responses(
        (status = 200, description = "The group", body = GroupView),
        (status = 404, description = "No group has this id", body = ErrorBody)
    ))]
pub async fn read(
    State(state): State<AppState>,
    RecordId(id): RecordId,
) -> ApiResult<Json<GroupView>> {
    let txn = state.db.read().await?;
    let group = groups::get(&txn, id).await?;
    let members = members::of_group(&txn, id).await?;
    txn.commit().await?;
    Ok(Json(GroupView { group, members }))
}

/// Add a group. Needs an API token.
#[utoipa::path(post, path = "/api/v1/groups", tag = "reference data",
    request_body = CreateGroup,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The group was added", body = Group),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is missing, unknown, of the wrong type or not valid; the error names it", body = ErrorBody)
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateGroup>,
) -> ApiResult<(StatusCode, [(header::HeaderName, String); 1], Json<Group>)> {
    let created = change::in_api_creating(
        &state,
        &caller,
        Change::creating("group.created", "group"),
        async |txn| {
            let new = NewGroup {
                code: body.code,
                name: body.name,
                purpose: body.purpose,
                partnership_id: body.partnership_id,
            };
            let group = groups::create(txn, new).await?;
            Ok(Created {
                id: group.id,
                value: group,
            })
        },
    )
    .await?;
    let location = format!("/api/v1/groups/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created.value),
    ))
}
