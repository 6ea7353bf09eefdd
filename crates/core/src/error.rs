use serde::Serialize;

/// A problem with one field of the input, named as the user or API client named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The one error type of the core. The web layer renders it as a page or as JSON.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("not found")]
    NotFound,
    #[error("the input is not valid: {}", describe(.0))]
    Invalid(Vec<FieldError>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not authorised")]
    Unauthorised,
    /// The viewer may see the record but not do this to it; the message says what was refused.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A refusal made inside a write transaction, which the failing request rolls back: the
    /// answer to give, and the "denied" entry the web layer records once that transaction is
    /// gone.
    #[error("{answer}")]
    Refused {
        answer: Box<CoreError>,
        entry: Box<crate::audit::event::Event>,
    },
    /// Database failures are logged and never shown to users.
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

fn describe(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|field| format!("{}: {}", field.field, field.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl CoreError {
    pub fn invalid(field: &str, message: &str) -> Self {
        CoreError::Invalid(vec![FieldError::new(field, message)])
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
