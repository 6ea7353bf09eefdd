//! The site map: every route of learnloop is listed here, pages first, then the JSON API and
//! the operations endpoints.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Extension, Json, Router, middleware as axum_middleware};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::ServeDir;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{self, ApiDoc};
use crate::middleware;
use crate::ops;
use crate::pages::{self, api_docs::ApiDescription};
use crate::state::AppState;

/// The HTML pages.
fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::dashboard::show))
        .route("/partnerships", get(pages::partnerships::list))
        .route("/agencies", get(pages::agencies::list))
        .route("/agencies/{id}", get(pages::agencies::show))
        .route("/groups", get(pages::groups::list))
        .route("/groups/{id}", get(pages::groups::show))
        .route("/api/docs", get(pages::api_docs::show))
}

/// The JSON API and operations endpoints, with their OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::partnerships::list))
        .routes(routes!(api::partnerships::read))
        .routes(routes!(api::agencies::list, api::agencies::create))
        .routes(routes!(api::agencies::read))
        .routes(routes!(api::groups::list, api::groups::create))
        .routes(routes!(api::groups::read))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
}

/// The OpenAPI description as JSON, built once from the routes above.
pub fn openapi_json() -> serde_json::Value {
    let (_, openapi) = api_routes().split_for_parts();
    serde_json::to_value(&openapi).unwrap_or_default()
}

/// The whole application with its layers.
pub fn app(state: AppState) -> Router {
    let (api_router, openapi) = api_routes().split_for_parts();
    let description = Arc::new(serde_json::to_value(&openapi).unwrap_or_default());
    let openapi_document = description.clone();
    let max_body = state.settings.max_body_bytes;
    let assets = ServeDir::new(&state.settings.assets_dir);
    Router::new()
        .merge(page_routes())
        .merge(api_router)
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let document = openapi_document.clone();
                async move { Json((*document).clone()) }
            }),
        )
        .nest_service("/static", assets)
        .route_layer(axum_middleware::from_fn_with_state(
            state.clone(),
            middleware::record_metrics,
        ))
        .fallback(middleware::not_found)
        .layer(Extension(ApiDescription(description)))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum_middleware::from_fn(middleware::security_headers))
        .layer(axum_middleware::from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ))
        .with_state(state)
}
