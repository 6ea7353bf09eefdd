//! Files attached to a case: uploaded by those who manage cases, downloaded by anyone who may
//! see the case, every download recorded.

use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use learnloop_core::cases::{self, attachments};
use learnloop_core::viewer::{Recording, Subject};
use learnloop_core::{CoreError, FieldError};
use uuid::Uuid;

use super::cases::case_page;
use super::change::{self, Change};
use super::parse_id;
use crate::auth::Visitor;
use crate::auth::csrf::checked_multipart;
use crate::error::{AppError, PageError, PageResult};
use crate::extract::{Caller, RecordId, journal, refusals_only};
use crate::state::AppState;

fn storage_error(error: std::io::Error) -> PageError {
    tracing::error!(error = %error, "cannot store an attachment");
    PageError(AppError::internal())
}

pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    visitor: Visitor,
    RecordId(id): RecordId,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult<Response> {
    // Access first: a refused upload's body is never read, let alone checked.
    {
        let txn = state.db.read().await?;
        cases::open(&txn, refusals_only(&state), &caller.viewer(), id).await?;
    }
    let parts = checked_multipart(&visitor, multipart).await?;
    let file = parts.into_iter().find(|part| part.name == "file");
    let checked = match &file {
        Some(part) => {
            attachments::check(part.file_name.as_deref().unwrap_or_default(), &part.bytes)
        }
        None => Err(FieldError::new("file", "Choose a file")),
    };
    let bytes = file.map(|part| part.bytes).unwrap_or_default();
    let attachment_id = Uuid::now_v7();
    // Only a file that passed the check is kept, and before the write transaction, so the
    // database is not held while the disk is written.
    let stored = match &checked {
        Ok(_) => Some(
            super::store_file(&state.settings.files_dir, attachment_id, &bytes)
                .map_err(storage_error)?,
        ),
        Err(_) => None,
    };
    let person_id = caller.signed_in.person.id;
    let outcome = change::on_page(
        &state,
        &caller,
        Change::new("case.attachment_upload", "case_attachment", attachment_id),
        async |txn| {
            cases::open(txn, Recording::InTransaction, &caller.viewer(), id).await?;
            let (file_name, content_type) =
                checked.map_err(|error| CoreError::Invalid(vec![error]))?;
            let upload = attachments::Upload {
                id: attachment_id,
                case_id: id,
                file_name: &file_name,
                content_type,
                bytes: &bytes,
                uploaded_by: person_id,
            };
            attachments::record(txn, upload, caller.now).await
        },
        |_| format!("/cases/{id}"),
        async |errors, _| case_page(&state, &caller, id, errors).await,
    )
    .await;
    if !matches!(&outcome, Ok(response) if response.status() == StatusCode::SEE_OTHER)
        && let Some(path) = stored
    {
        // Nothing half-written: the file goes with the record that was not saved.
        let _ = std::fs::remove_file(path);
    }
    outcome
}

pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, attachment_id)): Path<(String, String)>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let attachment_id = parse_id(&attachment_id)?;
    let viewer = caller.viewer();
    let txn = state.db.read().await?;
    cases::open(&txn, journal(&state), &viewer, id).await?;
    let attachment = attachments::get(&txn, id, attachment_id).await?;
    let bytes = std::fs::read(state.settings.files_dir.join(attachment.id.to_string()))
        .map_err(storage_error)?;
    let subject = Subject::new("case.attachment_download", "case_attachment", attachment.id);
    state
        .db
        .journal()
        .record(viewer.event_on(subject, "allowed"), viewer.now)
        .await?;
    txn.commit().await?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        attachment.file_name.replace('"', "")
    );
    Ok((
        [
            (header::CONTENT_TYPE, attachment.content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
