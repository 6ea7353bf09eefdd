//! Files attached to a case: uploaded by those who manage cases, downloaded by anyone who may
//! see the case, every download recorded.

use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use learnloop_core::cases::attachments;
use learnloop_core::{FieldError, audit};

use super::cases::case_page;
use super::parse_id;
use crate::auth::csrf::checked_multipart;
use crate::auth::{SignedIn, Source, Visitor};
use crate::error::{AppError, PageError, PageResult};
use crate::state::AppState;

fn storage_error(error: std::io::Error) -> PageError {
    tracing::error!(error = %error, "cannot store an attachment");
    PageError(AppError::internal())
}

pub async fn upload(
    State(state): State<AppState>,
    signed_in: SignedIn,
    visitor: Visitor,
    Source(source): Source,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    // Access first: a refused upload's body is never read, let alone checked.
    {
        let txn = state.db.read().await?;
        learnloop_core::cases::open(
            &txn,
            crate::extract::refusals_only(&state),
            &crate::extract::viewer(&signed_in, &source, state.clock.now()),
            id,
        )
        .await?;
    }
    let parts = checked_multipart(&visitor, multipart).await?;
    let file = parts.into_iter().find(|part| part.name == "file");
    let now = state.clock.now();
    let txn = state.db.write().await?;
    learnloop_core::cases::open(
        &txn,
        learnloop_core::viewer::Recording::InTransaction,
        &crate::extract::viewer(&signed_in, &source, now),
        id,
    )
    .await?;
    let checked = match &file {
        Some(part) => {
            attachments::check(part.file_name.as_deref().unwrap_or_default(), &part.bytes)
        }
        None => Err(FieldError::new("file", "Choose a file")),
    };
    let (file_name, content_type) = match checked {
        Ok(checked) => checked,
        Err(error) => {
            txn.rollback().await?;
            let page = case_page(&state, &signed_in, id, source, vec![error]).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let bytes = file.map(|part| part.bytes).unwrap_or_default();
    let attachment_id = uuid::Uuid::now_v7();
    let final_path = super::store_file(&state.settings.files_dir, attachment_id, &bytes)
        .map_err(storage_error)?;
    let upload = attachments::Upload {
        id: attachment_id,
        case_id: id,
        file_name: &file_name,
        content_type,
        bytes: &bytes,
        uploaded_by: signed_in.person.id,
    };
    let recorded: Result<(), learnloop_core::CoreError> = async {
        attachments::record(&txn, upload, now).await?;
        let event = audit::Event::new("case.attachment_upload", "succeeded")
            .by(&signed_in.actor)
            .on("case_attachment", attachment_id)
            .from_source(source);
        audit::append(&txn, event, now).await?;
        txn.commit().await.map_err(learnloop_core::CoreError::from)
    }
    .await;
    if let Err(error) = recorded {
        // Nothing half-written: the file goes with the failed record.
        let _ = std::fs::remove_file(&final_path);
        return Err(PageError::from(error));
    }
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

pub async fn download(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path((id, attachment_id)): Path<(String, String)>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let attachment_id = parse_id(&attachment_id)?;
    let now = state.clock.now();
    let txn = state.db.read().await?;
    learnloop_core::cases::open(
        &txn,
        crate::extract::journal(&state),
        &crate::extract::viewer(&signed_in, &source, now),
        id,
    )
    .await?;
    let attachment = attachments::get(&txn, id, attachment_id).await?;
    let bytes = std::fs::read(state.settings.files_dir.join(attachment.id.to_string()))
        .map_err(storage_error)?;
    let event = audit::Event::new("case.attachment_download", "allowed")
        .by(&signed_in.actor)
        .on("case_attachment", attachment.id)
        .from_source(source);
    state.db.journal().record(event, now).await?;
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
