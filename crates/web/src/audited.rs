//! SECURITY-SENSITIVE. Recording authorisation decisions on case content that a request's own
//! transaction cannot carry:
//!
//! - A refusal. The handler's transaction is dropped with the error it returns, so an entry
//!   appended there would be rolled back. Instead the error carries its entry (`refused`), the
//!   renderers put it on the response, and `record_refusals` writes it in a short write
//!   transaction of its own after the handler has finished (and so released its connection and,
//!   on SQLite, its write lock), before the response leaves.
//! - A read served from a read-only transaction (lists, searches, briefings): `record_read`
//!   hands the entry to the audit journal once the read has succeeded, and the page is not shown
//!   until it is durable (nor at all if it cannot be recorded).
//!
//! Records opened for a viewer (`cases::open`, `reviews::open`, ...) record their own decision;
//! a refusal inside a change's transaction comes back as `CoreError::Refused`, which becomes an
//! error carrying its entry, written here.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use learnloop_core::CoreError;
use learnloop_core::audit;

use crate::error::{AppError, PageError};
use crate::state::AppState;

pub use crate::error::Refusal;

/// An error that records `event` (a "denied" entry) when it is answered.
pub fn refused(mut error: AppError, event: audit::Event) -> PageError {
    error.refusal = Some(Box::new(event));
    PageError(error)
}

/// Appends one entry through the audit journal and waits until it is durable. Never call it
/// while holding a write transaction: on SQLite the journal needs the one writer connection.
pub async fn append_now(state: &AppState, event: audit::Event) -> Result<(), CoreError> {
    state.db.journal().record(event, state.clock.now()).await?;
    Ok(())
}

/// Records an allowed read that was served from a read-only transaction. Call it after the
/// read and before answering: if the entry cannot be written, the page is not shown.
pub async fn record_read(state: &AppState, event: audit::Event) -> Result<(), PageError> {
    append_now(state, event).await.map_err(PageError::from)
}

/// Writes the refusal a handler's error carries. A refusal whose entry cannot be written is
/// still refused (the answer does not change), and the failure is logged.
pub async fn record_refusals(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if let Some(Refusal(event)) = response.extensions_mut().remove::<Refusal>()
        && let Err(error) = append_now(&state, event).await
    {
        tracing::error!(error = %error, "cannot record a refused read");
    }
    response
}
