//! Importing an existing tracker from .xlsx or CSV: upload, map the file's columns to the
//! action's fields (suggested from the headings), preview with every row's errors by row and
//! column, then import all the rows or none. Between steps the parsed table waits in a file
//! under `files_dir`, readable only by the person who uploaded it.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use learnloop_core::actions::{import, plans};
use learnloop_core::{CoreError, FieldError, audit};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use crate::auth::Visitor;
use crate::auth::csrf::{CsrfForm, checked_multipart};
use crate::error::{AppError, PageError, PageResult};
use crate::extract::{Caller, RecordId};
use crate::state::AppState;

/// The most rows one import takes.
const MAX_ROWS: usize = 20_000;

#[derive(Serialize, Deserialize)]
struct Pending {
    person_id: Uuid,
    file_name: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn pending_path(state: &AppState, id: Uuid) -> std::path::PathBuf {
    state.settings.files_dir.join(format!("import-{id}.json"))
}

fn load(state: &AppState, caller: &Caller, id: Uuid) -> Result<Pending, PageError> {
    let text =
        std::fs::read(pending_path(state, id)).map_err(|_| PageError(AppError::not_found()))?;
    let pending: Pending =
        serde_json::from_slice(&text).map_err(|_| PageError(AppError::not_found()))?;
    if pending.person_id != caller.signed_in.person.id {
        return Err(PageError(AppError::not_found()));
    }
    Ok(pending)
}

pub struct FieldChoice {
    key: &'static str,
    label: &'static str,
    required: bool,
    chosen: Option<usize>,
}

impl FieldChoice {
    fn is(&self, index: &usize) -> bool {
        self.chosen == Some(*index)
    }
}

pub struct PreviewRow {
    row: usize,
    description: String,
    errors: Vec<String>,
}

pub struct PlanChoice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "pages/action_import.html")]
struct ImportPage {
    layout: Layout,
    /// "upload", "map" or "preview".
    step: &'static str,
    id: String,
    file_name: String,
    headers: Vec<String>,
    fields: Vec<FieldChoice>,
    plans: Vec<PlanChoice>,
    preview: Vec<PreviewRow>,
    good: usize,
    bad: usize,
    row_count: usize,
}

struct View<'a> {
    step: &'static str,
    id: Option<Uuid>,
    pending: Option<&'a Pending>,
    mapping: import::Mapping,
    plan: String,
    preview: Vec<PreviewRow>,
}

async fn page(
    state: &AppState,
    view: View<'_>,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let plans = plans::list(&txn)
        .await?
        .into_iter()
        .map(|p| PlanChoice {
            selected: p.id.to_string() == view.plan,
            value: p.id.to_string(),
            label: p.title,
        })
        .collect();
    let good = view.preview.iter().filter(|r| r.errors.is_empty()).count();
    let bad = view.preview.len() - good;
    render(&ImportPage {
        layout: Layout::new("Import an action tracker", "/actions").with_errors(errors),
        step: view.step,
        id: view.id.map(|id| id.to_string()).unwrap_or_default(),
        file_name: view
            .pending
            .map(|p| p.file_name.clone())
            .unwrap_or_default(),
        headers: view.pending.map(|p| p.headers.clone()).unwrap_or_default(),
        fields: import::FIELDS
            .iter()
            .map(|(key, label, required)| FieldChoice {
                key,
                label,
                required: *required,
                chosen: view.mapping.get(*key).copied(),
            })
            .collect(),
        plans,
        row_count: view.pending.map(|p| p.rows.len()).unwrap_or(0),
        preview: view.preview,
        good,
        bad,
    })
}

pub async fn upload_form(State(state): State<AppState>) -> PageResult<Html<String>> {
    page(
        &state,
        View {
            step: "upload",
            id: None,
            pending: None,
            mapping: Default::default(),
            plan: String::new(),
            preview: Vec::new(),
        },
        Vec::new(),
    )
    .await
}

pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    visitor: Visitor,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult<Response> {
    let parts = checked_multipart(&visitor, multipart).await?;
    let file = parts
        .iter()
        .find(|p| p.name == "file" && !p.bytes.is_empty());
    let refuse = |message: String| async {
        let view = View {
            step: "upload",
            id: None,
            pending: None,
            mapping: Default::default(),
            plan: String::new(),
            preview: Vec::new(),
        };
        let html = page(&state, view, vec![FieldError::new("file", message)]).await?;
        Ok::<Response, PageError>((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    let Some(file) = file else {
        return refuse("Choose an Excel (.xlsx) or CSV file".to_string()).await;
    };
    let name = learnloop_core::cases::attachments::clean_name(
        file.file_name.as_deref().unwrap_or_default(),
    );
    let table = match learnloop_office::read_table(&name, &file.bytes, MAX_ROWS) {
        Ok(table) => table,
        Err(message) => return refuse(message).await,
    };
    let id = Uuid::now_v7();
    let pending = Pending {
        person_id: caller.signed_in.person.id,
        file_name: name,
        headers: table.headers,
        rows: table.rows,
    };
    let bytes = serde_json::to_vec(&pending).map_err(|_| PageError(AppError::internal()))?;
    std::fs::create_dir_all(&state.settings.files_dir)
        .and_then(|()| std::fs::write(pending_path(&state, id), bytes))
        .map_err(|error| {
            tracing::error!(error = %error, "cannot keep an import");
            PageError(AppError::internal())
        })?;
    let mapping = import::suggest(&pending.headers);
    let view = View {
        step: "map",
        id: Some(id),
        pending: Some(&pending),
        mapping,
        plan: String::new(),
        preview: Vec::new(),
    };
    Ok(page(&state, view, Vec::new()).await?.into_response())
}

fn mapping_from(form: &Pairs) -> import::Mapping {
    import::FIELDS
        .iter()
        .filter_map(|(key, _, _)| {
            forms::field(form, key)
                .trim()
                .parse::<usize>()
                .ok()
                .map(|index| (key.to_string(), index))
        })
        .collect()
}

fn preview_rows(
    previewed: Vec<import::Previewed>,
    description_column: Option<usize>,
) -> Vec<PreviewRow> {
    previewed
        .into_iter()
        .map(|p| PreviewRow {
            row: p.row,
            description: description_column
                .and_then(|c| p.cells.get(c).cloned())
                .unwrap_or_default()
                .chars()
                .take(120)
                .collect(),
            errors: p
                .result
                .err()
                .unwrap_or_default()
                .iter()
                .map(|e| e.describe())
                .collect(),
        })
        .collect()
}

pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let pending = load(&state, &caller, id)?;
    let mapping = mapping_from(&form);
    let plan = forms::field(&form, "plan_id");
    let txn = state.db.read().await?;
    let result = import::preview(&txn, &pending.headers, &pending.rows, &mapping).await;
    drop(txn);
    match result {
        Ok(previewed) => {
            let rows = preview_rows(previewed, mapping.get("description").copied());
            let view = View {
                step: "preview",
                id: Some(id),
                pending: Some(&pending),
                mapping,
                plan,
                preview: rows,
            };
            Ok(page(&state, view, Vec::new()).await?.into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            let view = View {
                step: "map",
                id: Some(id),
                pending: Some(&pending),
                mapping,
                plan,
                preview: Vec::new(),
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&state, view, errors).await?,
            )
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// Imports every row or none. Its own transaction, not `change::on_page`: the audit entry
/// names how many actions were imported, not one record.
pub async fn commit(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let pending = load(&state, &caller, id)?;
    let mapping = mapping_from(&form);
    let plan = forms::field(&form, "plan_id");
    let plan_id = Uuid::parse_str(plan.trim()).ok();
    let now = caller.now;
    let txn = state.db.write().await?;
    match import::commit(
        &txn,
        &pending.headers,
        &pending.rows,
        &mapping,
        plan_id,
        caller.signed_in.person.id,
        now,
    )
    .await
    {
        Ok(count) => {
            audit::append(
                &txn,
                caller
                    .viewer()
                    .event("actions.imported", "succeeded")
                    .on("actions", count),
                now,
            )
            .await?;
            txn.commit().await?;
            let _ = std::fs::remove_file(pending_path(&state, id));
            Ok(Redirect::to(&match plan_id {
                Some(plan) => format!("/action-plans/{plan}"),
                None => "/actions".to_string(),
            })
            .into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            let txn = state.db.read().await?;
            let rows = match import::preview(&txn, &pending.headers, &pending.rows, &mapping).await
            {
                Ok(previewed) => preview_rows(previewed, mapping.get("description").copied()),
                Err(_) => Vec::new(),
            };
            drop(txn);
            let view = View {
                step: "preview",
                id: Some(id),
                pending: Some(&pending),
                mapping,
                plan,
                preview: rows,
            };
            let errors = errors
                .into_iter()
                .take(20)
                .map(|mut error| {
                    error.field = "import-preview".to_string();
                    error
                })
                .collect();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&state, view, errors).await?,
            )
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}
