//! Changes to an action from its page: a dated update with any evidence files, and sign-off.
//! Both are made against the version the person read: a stale one gets 409 with the page as it
//! now is, keeping what they typed.

use std::path::PathBuf;
use std::sync::OnceLock;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use learnloop_core::access::{Action, Record, can};
use learnloop_core::actions::{self, plans, updates};
use learnloop_core::error::CoreResult;
use learnloop_core::viewer::{Recording, Subject};
use learnloop_core::{CoreError, FieldError, reviews};

use super::page::action_page;
use crate::auth::Visitor;
use crate::auth::csrf::{CsrfForm, checked_multipart};
use crate::error::{AppError, PageError, PageResult};
use crate::extract::{Caller, RecordId, refusals_only};
use crate::pages::change::{self, Again, Change};
use crate::pages::forms::{self, Pairs};
use crate::state::AppState;

/// The words of a stale version's conflict, kept from the change so the page can say why
/// nothing was saved in the words it always has.
#[derive(Default)]
struct Stale(OnceLock<String>);

impl Stale {
    fn keep<T>(&self, result: CoreResult<T>) -> CoreResult<T> {
        if let Err(CoreError::Conflict(message)) = &result {
            let _ = self.0.set(message.clone());
        }
        result
    }

    fn message(&self) -> &str {
        self.0.get().map(String::as_str).unwrap_or_default()
    }
}

/// Refuses (403, recording the refusal) a caller who may see the action but not update it.
fn may_update(caller: &Caller, action: &actions::Model) -> CoreResult<()> {
    let allowed = can(
        caller.actor(),
        Action::UpdateAction,
        Record::Action {
            agency_id: action.owner_agency_id,
        },
    );
    caller.viewer().require(
        allowed,
        Subject::new("action.updated", "action", action.id),
        "You cannot update this action",
    )
}

/// Whether a change's answer says it was saved (the redirect after a commit).
fn saved(outcome: &PageResult<Response>) -> bool {
    matches!(outcome, Ok(response) if response.status() == StatusCode::SEE_OTHER)
}

/// Keeps the evidence files under `files_dir`; on a failure, none of them.
fn store_evidence(
    state: &AppState,
    prepared: &[reviews::documents::Prepared],
) -> Result<Vec<PathBuf>, PageError> {
    let mut stored = Vec::new();
    for file in prepared {
        match crate::pages::store_file(&state.settings.files_dir, file.version_id, &file.bytes) {
            Ok(path) => stored.push(path),
            Err(error) => {
                tracing::error!(error = %error, "cannot store evidence");
                remove(stored);
                return Err(PageError(AppError::internal()));
            }
        }
    }
    Ok(stored)
}

fn remove(stored: Vec<PathBuf>) {
    for path in stored {
        let _ = std::fs::remove_file(path);
    }
}

/// Adds an update with any evidence files, if the action is still at the version the person
/// read; otherwise 409 with what changed, keeping what they typed.
pub async fn add_update(
    State(state): State<AppState>,
    caller: Caller,
    visitor: Visitor,
    RecordId(id): RecordId,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult<Response> {
    // Access first: a refused update's body (and its evidence) is never read, let alone parsed.
    {
        let txn = state.db.read().await?;
        let action = actions::open(&txn, refusals_only(&state), &caller.viewer(), id).await?;
        may_update(&caller, &action)?;
    }
    let parts = checked_multipart(&visitor, multipart).await?;
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.file_name.is_none())
            .map(|p| String::from_utf8_lossy(&p.bytes).to_string())
            .unwrap_or_default()
    };
    let values: Pairs = vec![
        ("status".to_string(), text("status")),
        ("narrative".to_string(), text("narrative")),
    ];
    let input = updates::UpdateInput {
        status: text("status"),
        narrative: text("narrative"),
    };
    let version: i32 = text("version").trim().parse().unwrap_or(0);
    let mut prepared = Vec::new();
    for part in parts
        .iter()
        .filter(|p| p.name == "evidence" && !p.bytes.is_empty())
    {
        match reviews::documents::prepare(
            part.file_name.as_deref().unwrap_or_default(),
            &part.bytes,
        ) {
            Ok(file) => prepared.push(file),
            Err(mut error) => {
                error.field = "evidence".to_string();
                let page = action_page(&state, &caller, id, vec![error], values).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            }
        }
    }
    // Written before the write transaction, so the database is not held while the disk is.
    let stored = store_evidence(&state, &prepared)?;
    let files: Vec<updates::EvidenceFile<'_>> = prepared
        .iter()
        .map(|f| updates::EvidenceFile {
            id: f.version_id,
            file_name: &f.file_name,
            content_type: f.content_type,
            bytes: &f.bytes,
        })
        .collect();
    let person_id = caller.signed_in.person.id;
    let stale = Stale::default();
    let outcome = change::on_page(
        &state,
        &caller,
        Change::new("action.updated", "action", id),
        async |txn| {
            let action = actions::open(txn, Recording::InTransaction, &caller.viewer(), id).await?;
            may_update(&caller, &action)?;
            let added = updates::add(txn, id, &input, version, &files, person_id, caller.now);
            stale.keep(added.await)
        },
        |_| format!("/actions/{id}"),
        async |errors, again| {
            let errors = match again {
                Again::Invalid => errors,
                Again::Stale => vec![FieldError::new(
                    "narrative",
                    format!(
                        "Your update was not saved because {}. Check it and save again: what you wrote is below.",
                        stale.message()
                    ),
                )],
            };
            action_page(&state, &caller, id, errors, values).await
        },
    )
    .await;
    if !saved(&outcome) {
        // Nothing half-written: the files go with the update that was not saved.
        remove(stored);
    }
    outcome
}

pub async fn sign_off(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let version: i32 = forms::field(&form, "version").trim().parse().unwrap_or(0);
    let person_id = caller.signed_in.person.id;
    let stale = Stale::default();
    change::on_page(
        &state,
        &caller,
        Change::new("action.signed_off", "action", id),
        async |txn| {
            let viewer = caller.viewer();
            let action = actions::open(txn, Recording::InTransaction, &viewer, id).await?;
            let allowed = actions::may_sign_off(txn, caller.actor(), &action).await?;
            viewer.require(
                allowed,
                Subject::new("action.signed_off", "action", id),
                "Only the overseeing group or the partnership team signs off actions",
            )?;
            let signed = plans::sign_off_action(txn, id, version, person_id, caller.now);
            stale.keep(signed.await)
        },
        |_| format!("/actions/{id}"),
        async |errors, again| {
            let errors = match again {
                Again::Invalid => errors,
                Again::Stale => vec![FieldError::new(
                    "sign_off",
                    format!(
                        "Not signed off because {}; check and try again",
                        stale.message()
                    ),
                )],
            };
            action_page(&state, &caller, id, errors, Vec::new()).await
        },
    )
    .await
}
