//! Publishing a learning item, on its own page: what the anonymisation check found, the
//! motivated-intruder confirmation and the authenticator code, as for a review. Only those who
//! may publish reach it (the route's policy); what passes is frozen for practitioners and the
//! public learning page.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};
use learnloop_core::learning::{self, publication};
use learnloop_core::reviews::publication::Confirmation;
use learnloop_core::{CoreError, FieldError};
use uuid::Uuid;

use super::change::{Change, on_page};
use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use crate::auth::csrf::CsrfForm;
use crate::error::{AppError, PageError, PageResult};
use crate::extract::{Caller, RecordId};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/learning_item_publish.html")]
struct PublishPage {
    layout: Layout,
    id: String,
    title: String,
    lesson: String,
    version: i32,
    published: bool,
    findings: Vec<String>,
}

async fn publish_page(
    state: &AppState,
    id: Uuid,
    errors: Vec<FieldError>,
    values: Pairs,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let item = learning::get(&txn, id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    // Only the business manager publishes, and may see the case's identity: the words found
    // are named so they can be removed.
    let findings = publication::check(&txn, &item)
        .await?
        .iter()
        .map(|finding| finding.describe())
        .collect();
    drop(txn);
    render(&PublishPage {
        layout: Layout::new(format!("Publish “{}”", item.item.title), "/learning-items")
            .with_errors(errors)
            .with_values(values),
        id: id.to_string(),
        title: item.item.title.clone(),
        lesson: item.item.lesson.clone(),
        version: item.item.version,
        published: item.item.published,
        findings,
    })
}

pub async fn form(
    State(state): State<AppState>,
    _caller: Caller,
    RecordId(id): RecordId,
) -> PageResult<Html<String>> {
    publish_page(&state, id, Vec::new(), Vec::new()).await
}

fn wrong_code() -> FieldError {
    FieldError::new("code", "Enter the current code from your authenticator app")
}

pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let confirmation = Confirmation {
        intruder_check: forms::checked(&form, "intruder_check"),
        late_reason: String::new(),
    };
    let version: i32 = forms::field(&form, "version").trim().parse().unwrap_or(-1);
    let code = forms::field(&form, "code").trim().to_string();
    // The code is never shown again.
    let values: Pairs = form
        .iter()
        .filter(|(key, _)| key != "code")
        .cloned()
        .collect();
    // Checked, counted with the second-factor failures and audited in its own transaction, as
    // at a review's publication: a wrong guess is not rolled back with a refused publication.
    let code_ok = crate::auth::step_up::publication_code_ok(
        &state,
        &caller.signed_in,
        &code,
        caller.source.clone(),
    )
    .await?;
    on_page(
        &state,
        &caller,
        Change::new("learning.published", "learning_item", id).called("learning item"),
        async |txn| {
            learning::get(txn, id)
                .await
                .map_err(|_| CoreError::NotFound)?;
            // A wrong code refuses the publication, with whatever else is wrong with it.
            match (
                publication::publish(txn, id, &confirmation, version).await,
                code_ok,
            ) {
                (Ok(_), true) => Ok(()),
                (Ok(_), false) => Err(CoreError::Invalid(vec![wrong_code()])),
                (Err(CoreError::Invalid(mut errors)), ok) => {
                    if !ok {
                        errors.push(wrong_code());
                    }
                    Err(CoreError::Invalid(errors))
                }
                (Err(other), _) => Err(other),
            }
        },
        |()| format!("/learning-items/{id}"),
        async |errors, _| publish_page(&state, id, errors, values).await,
    )
    .await
}
