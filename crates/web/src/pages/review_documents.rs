//! A review's files: documents with versions uploaded by those who run the review, an agency's
//! contribution uploaded by its safeguarding lead, and downloads behind the review's access
//! checks, every one recorded.

use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use learnloop_core::reviews::{contributions, documents};
use learnloop_core::{CoreError, FieldError, audit};

use super::parse_id;
use super::reviews::{Change, Need, Tab, change, check_change};
use crate::auth::csrf::{Part, checked_multipart};
use crate::auth::{SignedIn, Source, Visitor};
use crate::error::{AppError, PageError, PageResult};
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

async fn refuse(
    state: &AppState,
    signed_in: &SignedIn,
    id: uuid::Uuid,
    source: Option<String>,
    tab: Tab,
    error: FieldError,
) -> PageResult<Response> {
    // Checks access (and records the view) before showing anything.
    let page =
        super::reviews::render_tab(state, signed_in, id, tab, source, vec![error], Vec::new())
            .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
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
    // Access first: a refused upload's body is never read, let alone unpacked.
    check_change(
        &state,
        &signed_in.actor,
        id,
        source.clone(),
        Need::Manage,
        "review.document_uploaded",
    )
    .await?;
    let parts = checked_multipart(&visitor, multipart).await?;
    let prepared = match prepare(&parts, "file") {
        Ok(prepared) => prepared,
        Err(error) => return refuse(&state, &signed_in, id, source, Tab::Documents, error).await,
    };
    let existing = uuid::Uuid::parse_str(&text(&parts, "document_id")).ok();
    let kind = text(&parts, "kind");
    let title = text(&parts, "title");
    let agency_id = uuid::Uuid::parse_str(&text(&parts, "agency_id")).ok();
    let now = state.clock.now();
    let by = signed_in.person.id;
    let state_for_store = state.clone();
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::Documents,
            need: Need::Manage,
            action: "review.document_uploaded",
            values: text_values(&parts),
        },
        |txn| async move {
            let target = match existing {
                Some(document_id) => documents::Target::Existing(document_id),
                None => documents::Target::New {
                    kind: &kind,
                    title: &title,
                    agency_id,
                },
            };
            let result = async {
                let path = store(&state_for_store, &prepared)?;
                let recorded = documents::record(&txn, id, target, &prepared, by, now).await;
                if recorded.is_err() {
                    let _ = std::fs::remove_file(&path);
                }
                recorded
            }
            .await
            .map(|_| ());
            (txn, result)
        },
    )
    .await
}

/// An agency lead sends their agency's contribution: the file becomes a document of the review
/// and the contribution is marked received today.
pub async fn contribute(
    State(state): State<AppState>,
    signed_in: SignedIn,
    visitor: Visitor,
    Source(source): Source,
    Path((id, contribution_id)): Path<(String, String)>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let contribution_id = parse_id(&contribution_id)?;
    let contribution = {
        let txn = state.db.read().await?;
        contributions::get(&txn, id, contribution_id)
            .await
            .map_err(|_| PageError(AppError::not_found()))?
    };
    // Access first: a refused upload's body is never read, let alone unpacked.
    check_change(
        &state,
        &signed_in.actor,
        id,
        source.clone(),
        Need::Contribute(contribution.agency_id),
        "review.contribution_received",
    )
    .await?;
    let parts = checked_multipart(&visitor, multipart).await?;
    let field = format!("file-{contribution_id}");
    let prepared = match prepare(&parts, &field) {
        Ok(prepared) => prepared,
        Err(error) => return refuse(&state, &signed_in, id, source, Tab::People, error).await,
    };
    let now = state.clock.now();
    let by = signed_in.person.id;
    let state_for_store = state.clone();
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::People,
            need: Need::Contribute(contribution.agency_id),
            action: "review.contribution_received",
            values: Vec::new(),
        },
        |txn| async move {
            let result = async {
                if contribution.received_on.is_some() {
                    return Err(CoreError::invalid(
                        &field,
                        "This contribution has already been received",
                    ));
                }
                let path = store(&state_for_store, &prepared)?;
                let title = contributions::kind_label(&contribution.kind);
                let recorded = documents::record(
                    &txn,
                    id,
                    documents::Target::New {
                        kind: &contribution.kind,
                        title,
                        agency_id: Some(contribution.agency_id),
                    },
                    &prepared,
                    by,
                    now,
                )
                .await;
                let document = match recorded {
                    Ok(document) => document,
                    Err(error) => {
                        let _ = std::fs::remove_file(&path);
                        return Err(error);
                    }
                };
                contributions::received(
                    &txn,
                    contribution,
                    now.date_naive(),
                    Some(document.document.id),
                )
                .await
            }
            .await
            .map(|_| ());
            (txn, result)
        },
    )
    .await
}

pub async fn download(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path((id, version_id)): Path<(String, String)>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let version_id = parse_id(&version_id)?;
    let now = state.clock.now();
    let txn = state.db.read().await?;
    learnloop_core::reviews::open(
        &txn,
        crate::extract::journal(&state),
        &crate::extract::viewer(&signed_in, &source, now),
        id,
    )
    .await?;
    let (_, version) = documents::version(&txn, id, version_id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    let bytes =
        std::fs::read(state.settings.files_dir.join(version.id.to_string())).map_err(|error| {
            tracing::error!(error = %error, "cannot read a review document");
            PageError(AppError::internal())
        })?;
    state.db.journal().record(audit::Event::new("review.document_download", "allowed")
            .by(&signed_in.actor)
            .on("review_document_version", version.id)
            .from_source(source), now).await?;
    txn.commit().await?;
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
