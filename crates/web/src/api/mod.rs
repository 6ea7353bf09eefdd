//! The JSON API under `/api/v1`, described by OpenAPI 3.1 generated from the handlers.

pub mod actions;
pub mod agencies;
pub mod calendar;
pub mod groups;
pub mod learning;
pub mod notifications;
pub mod partnerships;
pub mod reviews;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ApiError, AppError, ErrorBody};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "learnloop API",
        description = "The JSON API of learnloop, the learning and improvement system of a local safeguarding partnership. Errors always have the shape {\"error\": {\"code\", \"message\", \"request_id\"}}.",
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerToken),
    tags(
        (name = "reference data", description = "Partnerships, agencies and groups"),
        (name = "notifications", description = "Cases notified to the partnership, their deadlines and the Review Group's decisions"),
        (name = "actions", description = "Actions and their progress updates"),
        (name = "learning", description = "Learning items through the loop, and the library's search"),
        (name = "reviews", description = "Reviews of every type: stages, contributions, findings and recommendations"),
        (name = "calendar", description = "Working-day arithmetic"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// A list of records: `{"items": [...], "total": n}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListOf<T> {
    pub items: Vec<T>,
    pub total: usize,
}

impl<T> From<Vec<T>> for ListOf<T> {
    fn from(items: Vec<T>) -> Self {
        ListOf {
            total: items.len(),
            items,
        }
    }
}

/// A query string whose rejections use the API's error shape (400 naming the parameter).
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("The query string is not valid: {}", rejection.body_text()),
            ))),
        }
    }
}

/// A JSON body whose rejections use the API's error shape: malformed JSON 400, a missing or
/// wrong content type 415, fields of the wrong type, missing or unknown 422, too large 413.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError(json_rejection(rejection))),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::JsonSyntaxError(error) => AppError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("The body is not valid JSON: {}", error.body_text()),
        ),
        JsonRejection::MissingJsonContentType(_) => AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON with the header Content-Type: application/json",
        ),
        JsonRejection::JsonDataError(error) => AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("The body does not fit this endpoint: {}", error.body_text()),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The body is larger than this service accepts",
        ),
        other => AppError::new(
            StatusCode::BAD_REQUEST,
            "unreadable_body",
            format!("The body could not be read: {}", other.body_text()),
        ),
    }
}
