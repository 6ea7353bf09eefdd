//! Changes made from a case's page: recording the national panel notification and why a
//! deadline was missed. Each returns to the case page, or shows it again with the errors.

use axum::extract::State;
use axum::response::Response;
use learnloop_core::cases;
use learnloop_core::error::CoreResult;
use learnloop_core::viewer::Recording;
use sea_orm::DatabaseTransaction;
use serde::Deserialize;
use uuid::Uuid;

use super::case_page;
use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::{Caller, RecordId};
use crate::pages::change::{self, Change};
use crate::state::AppState;

/// Runs `apply` as a change to a case the caller may see (recorded as `action`), then returns
/// to the case page.
async fn change_case<T>(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    action: &str,
    apply: impl AsyncFnOnce(&DatabaseTransaction) -> CoreResult<T>,
) -> PageResult<Response> {
    change::on_page(
        state,
        caller,
        Change::new(action, "case", id),
        async |txn| {
            cases::open(txn, Recording::InTransaction, &caller.viewer(), id).await?;
            apply(txn).await
        },
        |_| format!("/cases/{id}"),
        async |errors, _| case_page(state, caller, id, errors).await,
    )
    .await
}

#[derive(Deserialize)]
pub struct NotifiedForm {
    #[serde(default)]
    notified_on: String,
    #[serde(default)]
    notified_by: String,
}

pub async fn national_panel(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<NotifiedForm>,
) -> PageResult<Response> {
    change_case(
        &state,
        &caller,
        id,
        "case.national_panel_notified",
        async |txn| {
            cases::record_national_panel_notification(
                txn,
                id,
                &form.notified_on,
                &form.notified_by,
                caller.now,
            )
            .await
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    deadline_key: String,
    #[serde(default)]
    reason: String,
}

pub async fn deadline_reason(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> PageResult<Response> {
    change_case(&state, &caller, id, "case.deadline_reason", async |txn| {
        cases::record_deadline_reason(
            txn,
            id,
            &form.deadline_key,
            &form.reason,
            caller.signed_in.person.id,
            caller.now,
        )
        .await
    })
    .await
}
