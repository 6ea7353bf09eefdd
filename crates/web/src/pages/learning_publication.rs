//! Publishing a learning item, on its own page: what the anonymisation check found, the
//! motivated-intruder confirmation and the authenticator code, as for a review. Only those who
//! may publish reach it (the route's policy); what passes is frozen for practitioners and the
//! public learning page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use learnloop_core::learning::{self, publication};
use learnloop_core::reviews::publication::Confirmation;
use learnloop_core::{CoreError, FieldError, audit};
use uuid::Uuid;

use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::CsrfForm;
use crate::auth::{SignedIn, Source};
use crate::error::{AppError, PageError, PageResult};
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
) -> PageResult<Response> {
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
    let status = if errors.is_empty() {
        StatusCode::OK
    } else if errors.iter().any(|e| e.field == "version") {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = render(&PublishPage {
        layout: Layout::new(format!("Publish “{}”", item.item.title), "/learning-items")
            .with_errors(errors)
            .with_values(values),
        id: id.to_string(),
        title: item.item.title.clone(),
        lesson: item.item.lesson.clone(),
        version: item.item.version,
        published: item.item.published,
        findings,
    })?;
    Ok((status, page).into_response())
}

pub async fn form(
    State(state): State<AppState>,
    _signed_in: SignedIn,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    publish_page(&state, id, Vec::new(), Vec::new()).await
}

pub async fn publish(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let confirmation = Confirmation {
        intruder_check: forms::checked(&form, "intruder_check"),
        late_reason: String::new(),
    };
    let version: i32 = forms::field(&form, "version").trim().parse().unwrap_or(-1);
    let code = forms::field(&form, "code").trim().to_string();
    let values: Pairs = form
        .iter()
        .filter(|(key, _)| key != "code")
        .cloned()
        .collect();
    // Checked, counted with the second-factor failures and audited in its own transaction, as
    // at a review's publication: a wrong guess is not rolled back with a refused publication.
    let code_ok =
        crate::auth::step_up::publication_code_ok(&state, &signed_in, &code, source.clone())
            .await?;
    let txn = state.db.write().await?;
    learning::get(&txn, id)
        .await
        .map_err(|_| PageError(AppError::not_found()))?;
    let result = match (
        publication::publish(&txn, id, &confirmation, version).await,
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
    };
    match result {
        Ok(()) => {
            audit::append(
                &txn,
                audit::Event::new("learning.published", "succeeded")
                    .by(&signed_in.actor)
                    .on("learning_item", id)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/learning-items/{id}")).into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            publish_page(&state, id, errors, values).await
        }
        Err(CoreError::Conflict(message)) => {
            txn.rollback().await?;
            publish_page(
                &state,
                id,
                vec![FieldError::new("version", message)],
                values,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

fn wrong_code() -> FieldError {
    FieldError::new("code", "Enter the current code from your authenticator app")
}
