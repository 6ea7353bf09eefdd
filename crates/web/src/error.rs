//! One error type, two renderers: an HTML page showing the request id, or JSON
//! `{"error": {"code", "message", "request_id"}}`. Database details are logged, never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use learnloop_core::{CoreError, FieldError};
use serde::Serialize;

use crate::context;

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
    /// The "denied" audit entry of a refusal, written when the error is answered (see
    /// `audited`), outside the handler's transaction that the error rolls back.
    pub refusal: Option<Box<learnloop_core::audit::Event>>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            refusal: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is no record at this address",
        )
    }

    pub fn unauthorised() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "Sign in or present a valid API token",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Sorry, something went wrong. Quote the request id if you contact the team.",
        )
    }
}

impl From<CoreError> for AppError {
    fn from(error: CoreError) -> Self {
        match error {
            CoreError::NotFound => AppError::not_found(),
            CoreError::Invalid(fields) => AppError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid_input",
                message: fields
                    .iter()
                    .map(|field| format!("{}: {}", field.field, field.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                fields,
                refusal: None,
            },
            CoreError::Conflict(message) => {
                AppError::new(StatusCode::CONFLICT, "conflict", message)
            }
            CoreError::Unauthorised => AppError::unauthorised(),
            CoreError::Refused { answer, entry } => {
                let mut error = AppError::from(*answer);
                error.refusal = Some(entry);
                error
            }
            CoreError::Forbidden(message) => {
                AppError::new(StatusCode::FORBIDDEN, "forbidden", message)
            }
            CoreError::Database(db_error) => {
                tracing::error!(request_id = %context::current().request_id, error = %db_error, "database error");
                AppError::internal()
            }
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(error: sea_orm::DbErr) -> Self {
        AppError::from(CoreError::Database(error))
    }
}

/// The JSON error body, as documented in the OpenAPI description.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable snake_case code, for example `not_found` or `invalid_input`.
    pub code: String,
    pub message: String,
    /// Quote this when reporting a problem; it is in the server's logs too.
    pub request_id: String,
    /// The fields that were refused, when the input was not valid.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// An error rendered as JSON, for the API.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let AppError {
            status,
            code,
            message,
            fields,
            refusal,
        } = self.0;
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message,
                request_id: context::current().request_id,
                fields,
            },
        };
        with_refusal((status, axum::Json(body)).into_response(), refusal)
    }
}

/// An error rendered as an HTML page, for people.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(error: E) -> Self {
        PageError(error.into())
    }
}

// `impl IntoResponse for PageError` is in `pages/layout.rs`, beside the error page it renders:
// errors are a lower layer than pages, and never import them.

/// The audit entry of a refusal, travelling on the response to `audited::record_refusals`.
#[derive(Debug, Clone)]
pub struct Refusal(pub learnloop_core::audit::Event);

/// Hands a refusal's audit entry to `audited::record_refusals` on the response.
pub(crate) fn with_refusal(
    mut response: Response,
    refusal: Option<Box<learnloop_core::audit::Event>>,
) -> Response {
    if let Some(event) = refusal {
        response.extensions_mut().insert(Refusal(*event));
    }
    response
}

pub type ApiResult<T> = Result<T, ApiError>;
pub type PageResult<T> = Result<T, PageError>;
