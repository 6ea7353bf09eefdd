use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use learnloop_core::agencies::{self, AgencyType, NewAgency};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ApiJson, ListOf};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, RecordId};
use crate::pages::change::{self, Change, Created};
use crate::state::AppState;

/// An agency with the partnerships it belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgencyView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub agency_type: AgencyType,
    pub active: bool,
    pub version: i32,
    pub partnership_ids: Vec<Uuid>,
}

impl AgencyView {
    fn new(agency: agencies::Agency, partnership_ids: Vec<Uuid>) -> Self {
        AgencyView {
            id: agency.id,
            code: agency.code,
            name: agency.name,
            agency_type: agency.agency_type,
            active: agency.active,
            version: agency.version,
            partnership_ids,
        }
    }
}

/// The body of a request to add an agency.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgency {
    /// A short unique code: 2 to 32 letters, digits or hyphens.
    #[schema(pattern = "^[A-Za-z0-9-]{2,32}$")]
    pub code: String,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
    pub agency_type: AgencyType,
    /// The partnerships the agency is a member of.
    #[serde(default)]
    pub partnership_ids: Vec<Uuid>,
}

/// List the member agencies.
#[utoipa::path(get, path = "/api/v1/agencies", tag = "reference data",
    responses((status = 200, description = "The agencies", body = ListOf<AgencyView>)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<ListOf<AgencyView>>> {
    let txn = state.db.read().await?;
    let all = agencies::list(&txn).await?;
    let links = agencies::membership::all(&txn).await?;
    txn.commit().await?;
    let items: Vec<AgencyView> = all
        .into_iter()
        .map(|agency| {
            let ids = links
                .iter()
                .filter(|link| link.agency_id == agency.id)
                .map(|link| link.partnership_id)
                .collect();
            AgencyView::new(agency, ids)
        })
        .collect();
    Ok(Json(items.into()))
}

/// Read one agency.
#[utoipa::path(get, path = "/api/v1/agencies/{id}", tag = "reference data",
    params(("id" = String, Path, description = "The agency's id (a UUID)")),
    responses(
        (status = 200, description = "The agency", body = AgencyView),
        (status = 404, description = "No agency has this id", body = ErrorBody)
    ))]
pub async fn read(
    State(state): State<AppState>,
    RecordId(id): RecordId,
) -> ApiResult<Json<AgencyView>> {
    let txn = state.db.read().await?;
    let agency = agencies::get(&txn, id).await?;
    let partnership_ids = agencies::membership::partnerships_of(&txn, id).await?;
    txn.commit().await?;
    Ok(Json(AgencyView::new(agency, partnership_ids)))
}

/// Add a member agency. Needs an API token.
#[utoipa::path(post, path = "/api/v1/agencies", tag = "reference data",
    request_body = CreateAgency,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The agency was added", body = AgencyView),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is missing, unknown, of the wrong type or not valid; the error names it", body = ErrorBody)
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateAgency>,
) -> ApiResult<(
    StatusCode,
    [(header::HeaderName, String); 1],
    Json<AgencyView>,
)> {
    let created = change::in_api_creating(
        &state,
        &caller,
        Change::creating("agency.created", "agency"),
        async |txn| {
            let new = NewAgency {
                code: body.code,
                name: body.name,
                agency_type: body.agency_type,
                partnership_ids: body.partnership_ids,
            };
            let agency = agencies::create(txn, new).await?;
            // As stored, so the answer shows the memberships the core kept.
            let partnership_ids = agencies::membership::partnerships_of(txn, agency.id).await?;
            Ok(Created {
                id: agency.id,
                value: AgencyView::new(agency, partnership_ids),
            })
        },
    )
    .await?;
    let location = format!("/api/v1/agencies/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created.value),
    ))
}
