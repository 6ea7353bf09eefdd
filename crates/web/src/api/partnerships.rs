use axum::Json;
use axum::extract::{Path, State};
use learnloop_core::partnerships::{self, Partnership};

use super::ListOf;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::parse_id;
use crate::state::AppState;

/// List the partnerships the team serves.
#[utoipa::path(get, path = "/api/v1/partnerships", tag = "reference data",
    responses((status = 200, description = "The partnerships", body = ListOf<Partnership>)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<ListOf<Partnership>>> {
    Ok(Json(partnerships::list(state.db.conn()).await?.into()))
}

/// Read one partnership.
#[utoipa::path(get, path = "/api/v1/partnerships/{id}", tag = "reference data",
    params(("id" = String, Path, description = "The partnership's id (a UUID)")),
    responses(
        (status = 200, description = "The partnership", body = Partnership),
        (status = 404, description = "No partnership has this id", body = ErrorBody)
    ))]
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Partnership>> {
    let id = parse_id(&id)?;
    Ok(Json(partnerships::get(state.db.conn(), id).await?))
}
