//! One way to change a record, for every page and (in `api`) every API endpoint.
//!
//! A change is one write transaction. `apply` opens the record for the caller
//! (`Recording::InTransaction`: the read is recorded with the change), checks the power the
//! change needs (`Viewer::require`, a refusal carrying its "denied" entry), and changes it. Then:
//!
//! | outcome | page | API |
//! | --- | --- | --- |
//! | done | "succeeded" entry appended in the same transaction, commit, 303 to `done` | the same, then the answer |
//! | invalid input | nothing written, the form again with its error summary, 422 | 422 naming the fields |
//! | a stale version | nothing written, the form again saying someone else saved it, 409 | 412 |
//! | refused / not found | the error page; the refusal's entry written after the rollback | the same as JSON |
//!
//! The API's missing `If-Match` (428) is answered by the `IfMatch` extractor before a change
//! begins.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use learnloop_core::error::CoreResult;
use learnloop_core::{CoreError, FieldError, audit};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, AppError, PageResult};
use crate::extract::Caller;
use crate::state::AppState;

/// What is changed, as the audit trail names it, and how people name the record.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// The audit action, for example "review.details_changed".
    pub action: &'a str,
    /// The record's type in the audit trail ("review") and its id; `None` for a record being
    /// created, whose id `apply` returns (see `Created`).
    pub record_type: &'a str,
    pub record_id: Option<String>,
    /// The record as people call it, for the "someone else saved this …" message.
    pub noun: &'a str,
}

impl<'a> Change<'a> {
    pub fn new(action: &'a str, record_type: &'a str, record_id: Uuid) -> Self {
        Self::keyed(action, record_type, &record_id.to_string())
    }

    /// A record known by a text key rather than an id (a review type by its code).
    pub fn keyed(action: &'a str, record_type: &'a str, key: &str) -> Self {
        Change {
            action,
            record_type,
            record_id: Some(key.to_string()),
            noun: record_type,
        }
    }

    /// A record being created: its id comes from what `apply` returns (`Created`).
    pub fn creating(action: &'a str, record_type: &'a str) -> Self {
        Change {
            action,
            record_type,
            record_id: None,
            noun: record_type,
        }
    }

    pub fn called(mut self, noun: &'a str) -> Self {
        self.noun = noun;
        self
    }

    fn succeeded(&self, caller: &Caller, created: Option<Uuid>) -> audit::Event {
        let event = caller.viewer().event(self.action, "succeeded");
        match self.record_id.clone().or(created.map(|id| id.to_string())) {
            Some(id) => event.on(self.record_type, id),
            None => event,
        }
    }

    fn stale_error(&self, message: &str) -> FieldError {
        FieldError::new(
            "version",
            format!(
                "Someone else saved this {} while you were editing ({message}). Your changes were not saved: check the page and try again",
                self.noun
            ),
        )
    }
}

/// What a creation returns: the new record's id (for its audit entry) and the value to go on
/// with. `on_page` and `in_api` take it when the change was made with `Change::creating`.
pub struct Created<T> {
    pub id: Uuid,
    pub value: T,
}

/// Why the form is shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Again {
    /// The input was refused (422).
    Invalid,
    /// Someone else saved the record first (409).
    Stale,
}

/// Runs `apply` in one write transaction and answers as a page (see the module's table).
/// `done` names where to go once it is saved; `form_again` renders the form with the errors.
pub async fn on_page<T, A, D, R>(
    state: &AppState,
    caller: &Caller,
    change: Change<'_>,
    apply: A,
    done: D,
    form_again: R,
) -> PageResult<Response>
where
    A: AsyncFnOnce(&DatabaseTransaction) -> CoreResult<T>,
    D: FnOnce(T) -> String,
    R: AsyncFnOnce(Vec<FieldError>, Again) -> PageResult<Html<String>>,
{
    let ran = run(state, caller, &change, apply, |_| None).await;
    page_answer(ran, change, done, form_again).await
}

/// Runs `apply` in one write transaction and answers as the API does (see the module's
/// table): the value `apply` returned, or the error as JSON.
pub async fn in_api<T, A>(
    state: &AppState,
    caller: &Caller,
    change: Change<'_>,
    apply: A,
) -> ApiResult<T>
where
    A: AsyncFnOnce(&DatabaseTransaction) -> CoreResult<T>,
{
    api_answer(run(state, caller, &change, apply, |_| None).await)
}

/// `on_page` for a creation: `apply` returns the new record's id with the value.
pub async fn on_page_creating<T, A, D, R>(
    state: &AppState,
    caller: &Caller,
    change: Change<'_>,
    apply: A,
    done: D,
    form_again: R,
) -> PageResult<Response>
where
    A: AsyncFnOnce(&DatabaseTransaction) -> CoreResult<Created<T>>,
    D: FnOnce(Created<T>) -> String,
    R: AsyncFnOnce(Vec<FieldError>, Again) -> PageResult<Html<String>>,
{
    let ran = run(state, caller, &change, apply, |created: &Created<T>| {
        Some(created.id)
    })
    .await;
    page_answer(ran, change, done, form_again).await
}

/// How a page answers the outcome of a change (see the module's table).
async fn page_answer<T, D, R>(
    ran: CoreResult<T>,
    change: Change<'_>,
    done: D,
    form_again: R,
) -> PageResult<Response>
where
    D: FnOnce(T) -> String,
    R: AsyncFnOnce(Vec<FieldError>, Again) -> PageResult<Html<String>>,
{
    match ran {
        Ok(value) => Ok(Redirect::to(&done(value)).into_response()),
        Err(CoreError::Invalid(errors)) => {
            let page = form_again(errors, Again::Invalid).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(CoreError::Conflict(message)) => {
            let page = form_again(vec![change.stale_error(&message)], Again::Stale).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// `in_api` for a creation: `apply` returns the new record's id with the value.
pub async fn in_api_creating<T, A>(
    state: &AppState,
    caller: &Caller,
    change: Change<'_>,
    apply: A,
) -> ApiResult<Created<T>>
where
    A: AsyncFnOnce(&DatabaseTransaction) -> CoreResult<Created<T>>,
{
    api_answer(
        run(state, caller, &change, apply, |created: &Created<T>| {
            Some(created.id)
        })
        .await,
    )
}

fn api_answer<T>(ran: CoreResult<T>) -> ApiResult<T> {
    match ran {
        Ok(value) => Ok(value),
        Err(CoreError::Conflict(message)) => Err(ApiError(AppError::new(
            StatusCode::PRECONDITION_FAILED,
            "stale_version",
            message,
        ))),
        Err(other) => Err(other.into()),
    }
}

/// The transaction both twins share: apply, record, commit; or roll back (by dropping the
/// transaction) and hand back the error.
async fn run<T, A>(
    state: &AppState,
    caller: &Caller,
    change: &Change<'_>,
    apply: A,
    created_id: impl FnOnce(&T) -> Option<Uuid>,
) -> CoreResult<T>
where
    A: AsyncFnOnce(&DatabaseTransaction) -> CoreResult<T>,
{
    let txn = state.db.write().await?;
    let value = apply(&txn).await?;
    audit::append(
        &txn,
        change.succeeded(caller, created_id(&value)),
        caller.now,
    )
    .await?;
    txn.commit().await?;
    Ok(value)
}
