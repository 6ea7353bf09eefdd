//! A review's files: documents with versions uploaded by those who run the review, an agency's
//! contribution uploaded by its safeguarding lead, and downloads behind the review's access
//! checks, every one recorded.

use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use learnloop_core::reviews::{self, contributions, documents};
use learnloop_core::{CoreError, FieldError};
use uuid::Uuid;

use super::parse_id;
use super::reviews::{Need, ReviewChange, Tab, change, check_change, render_tab};
use crate::auth::Visitor;
use crate::auth::csrf::{Part, checked_multipart};
use crate::error::{AppError, PageError, PageResult};
use crate::extract::{Caller, RecordId};
use crate::state::AppState;

fn text(parts: &[Part], name: &str) -> String {
    parts
        .iter()
        .find(|part| part.name == name)
        .map(|part| String::from_utf8_lossy(&part.bytes).trim().to_string())
        .unwrap_or_default()
}

/// The text fields of the form, to show again if it is refused.
fn text_values(parts: &[Part]) -> Vec<(String, String)> {
    parts
        .iter()
        .filter(|part| part.file_name.is_none())
        .map(|part| {
            (
                part.name.clone(),
                String::from_utf8_lossy(&part.bytes).to_string(),
            )
        })
        .collect()
}

/// Checks and cleans the uploaded file, or says why it is refused (under `field`).
fn prepare(parts: &[Part], field: &str) -> Result<documents::Prepared, FieldError> {
    let file = parts
        .iter()
        .find(|part| part.name == "file" && !part.bytes.is_empty());
    match file {
        Some(part) => {
            documents::prepare(part.file_name.as_deref().unwrap_or_default(), &part.bytes)
        }
        None => Err(FieldError::new("file", "Choose a file")),
    }
    .map_err(|mut error| {
        error.field = field.to_string();
        error
    })
}

/// Keeps the cleaned bytes under the version's id.
fn store(
    state: &AppState,
    prepared: &documents::Prepared,
) -> Result<std::path::PathBuf, CoreError> {
    super::store_file(
        &state.settings.files_dir,
        prepared.version_id,
        &prepared.bytes,
    )
    .map_err(|error| {
        tracing::error!(error = %error, "cannot store a review document");
        CoreError::Database(sea_orm::DbErr::Custom(
            "the file could not be stored".to_string(),
        ))
    })
}

/// The part of the review again with the file's error (422). Opening it checks access and
/// records the view before anything is shown.
async fn refuse(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    tab: Tab,
    error: FieldError,
) -> PageResult<Response> {
    let page = render_tab(state, caller, id, tab, vec![error], Vec::new()).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// Removes a stored file whose record was not written, so no file is kept without one.
fn forget(path: &std::path::Path) {
    if let Err(error) = std::fs::remove_file(path) {
        tracing::warn!(error = %error, "cannot remove an unrecorded review document");
    }
}

pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    visitor: Visitor,
    RecordId(id): RecordId,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult<Response> {
    const ACTION: &str = "review.document_uploaded";
    // Access first: a refused upload's body is never read, let alone unpacked.
    check_change(&state, &caller, id, Need::Manage, ACTION).await?;
    let parts = checked_multipart(&visitor, multipart).await?;
    let prepared = match prepare(&parts, "file") {
        Ok(prepared) => prepared,
        Err(error) => return refuse(&state, &caller, id, Tab::Documents, error).await,
    };
    let existing = Uuid::parse_str(&text(&parts, "document_id")).ok();
    let kind = text(&parts, "kind");
    let title = text(&parts, "title");
    let agency_id = Uuid::parse_str(&text(&parts, "agency_id")).ok();
    let now = caller.now;
    let by = caller.signed_in.person.id;
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::Documents,
            need: Need::Manage,
            action: ACTION,
            values: text_values(&parts),
        },
        async |txn| {
            let target = match existing {
                Some(document_id) => documents::Target::Existing(document_id),
                None => documents::Target::New {
                    kind: &kind,
                    title: &title,
                    agency_id,
                },
            };
            let path = store(&state, &prepared)?;
            let recorded = documents::record(txn, id, target, &prepared, by, now).await;
            if recorded.is_err() {
                forget(&path);
            }
            recorded
        },
    )
    .await
}

/// An agency lead sends their agency's contribution: the file becomes a document of the review
/// and the contribution is marked received today.
pub async fn contribute(
    State(state): State<AppState>,
    caller: Caller,
    visitor: Visitor,
    Path((id, contribution_id)): Path<(String, String)>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult<Response> {
    const ACTION: &str = "review.contribution_received";
    let id = parse_id(&id)?;
    let contribution_id = parse_id(&contribution_id)?;
    let contribution = {
        let txn = state.db.read().await?;
        contributions::get(&txn, id, contribution_id)
            .await
            .map_err(|_| PageError(AppError::not_found()))?
    };
    let need = Need::Contribute(contribution.agency_id);
    // Access first: a refused upload's body is never read, let alone unpacked.
    check_change(&state, &caller, id, need, ACTION).await?;
    let parts = checked_multipart(&visitor, multipart).await?;
    let field = format!("file-{contribution_id}");
    let prepared = match prepare(&parts, &field) {
        Ok(prepared) => prepared,
        Err(error) => return refuse(&state, &caller, id, Tab::People, error).await,
    };
    let now = caller.now;
    let by = caller.signed_in.person.id;
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::People,
            need,
            action: ACTION,
            values: Vec::new(),
        },
        async |txn| {
            if contribution.received_on.is_some() {
                return Err(CoreError::invalid(
                    &field,
                    "This contribution has already been received",
                ));
            }
            let path = store(&state, &prepared)?;
            let target = documents::Target::New {
                kind: &contribution.kind,
                title: contributions::kind_label(&contribution.kind),
                agency_id: Some(contribution.agency_id),
            };
            let document = match documents::record(txn, id, target, &prepared, by, now).await {
                Ok(document) => document,
                Err(error) => {
                    forget(&path);
                    return Err(error);
                }
            };
            contributions::received(
                txn,
                contribution,
                now.date_naive(),
                Some(document.document.id),
            )
            .await
        },
    )
    .await
}

pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, version_id)): Path<(String, String)>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let version_id = parse_id(&version_id)?;
    let viewer = caller.viewer();
    let txn = state.db.read().await?;
    reviews::open(&txn, crate::extract::journal(&state), &viewer, id).await?;
    let (_, version) = documents::version(&txn, id, version_id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    drop(txn);
    let bytes =
        std::fs::read(state.settings.files_dir.join(version.id.to_string())).map_err(|error| {
            tracing::error!(error = %error, "cannot read a review document");
            PageError(AppError::internal())
        })?;
    // The download is recorded, durably, before the file leaves.
    crate::audited::record_read(
        &state,
        viewer
            .event("review.document_download", "allowed")
            .on("review_document_version", version.id),
    )
    .await?;
    let disposition = format!(
        "attachment; filename=\"v{}-{}\"",
        version.version,
        version.file_name.replace('"', "")
    );
    Ok((
        [
            (header::CONTENT_TYPE, version.content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
