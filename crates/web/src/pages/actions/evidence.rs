//! Downloading an update's evidence file; every download is recorded.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use learnloop_core::actions::{self, updates};
use learnloop_core::viewer::Subject;

use crate::error::{AppError, PageError, PageResult};
use crate::extract::{Caller, journal};
use crate::pages::parse_id;
use crate::state::AppState;

pub async fn evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, file_id)): Path<(String, String)>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let file_id = parse_id(&file_id)?;
    let viewer = caller.viewer();
    let txn = state.db.read().await?;
    actions::open(&txn, journal(&state), &viewer, id).await?;
    let file = updates::evidence_file(&txn, id, file_id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    let bytes =
        std::fs::read(state.settings.files_dir.join(file.id.to_string())).map_err(|error| {
            tracing::error!(error = %error, "cannot read evidence");
            PageError(AppError::internal())
        })?;
    let subject = Subject::new("action.evidence_download", "action_evidence", file.id);
    state
        .db
        .journal()
        .record(viewer.event_on(subject, "allowed"), viewer.now)
        .await?;
    txn.commit().await?;
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}\"",
                    file.file_name.replace('"', "")
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
