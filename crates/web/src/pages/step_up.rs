//! "Enter your authenticator code": asked again before an export or a new API token, then
//! back to where the person was going (a path on this site only).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use learnloop_core::FieldError;
use learnloop_core::identity::credentials;
use learnloop_core::step_up::{Outcome, Purpose};
use serde::Deserialize;

use super::layout::{Layout, render};
use crate::auth::csrf::CsrfForm;
use crate::auth::step_up::{check_code, local_next, locked};
use crate::auth::{SignedIn, Source};
use crate::error::{AppError, PageError, PageResult};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/step_up.html")]
struct StepUpPage {
    layout: Layout,
    /// Where to go once the code is right (already checked to be local).
    next: String,
    /// Whether the person has an authenticator app set up at all.
    enrolled: bool,
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    next: String,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> PageResult<Response> {
    let enrolled = credentials::get(state.db.conn(), signed_in.person.id)
        .await?
        .is_some_and(|row| row.has_second_factor());
    let html = render(&StepUpPage {
        layout: Layout::new("Enter your authenticator code", "").with_errors(errors),
        next,
        enrolled,
    })?;
    Ok((status, html).into_response())
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<NextQuery>,
) -> PageResult<Response> {
    page(
        &state,
        &signed_in,
        local_next(&query.next),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct StepUpForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// Creating a token is recorded as such; everything else this page guards is a download.
fn purpose_of(next: &str) -> Purpose {
    if next.starts_with("/account/tokens") {
        Purpose::ApiToken
    } else {
        Purpose::Export
    }
}

pub async fn submit(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    CsrfForm(form): CsrfForm<StepUpForm>,
) -> PageResult<Response> {
    let next = local_next(&form.next);
    // Only a page session can remember a step-up.
    let Some(session) = &signed_in.session else {
        return Err(PageError(AppError::not_found()));
    };
    let outcome = check_code(
        &state,
        &signed_in.actor,
        Some(&session.id_hash),
        &form.code,
        purpose_of(&next),
        source,
    )
    .await?;
    let message = match outcome {
        Outcome::Accepted => return Ok(Redirect::to(&next).into_response()),
        Outcome::Locked => return Err(PageError(locked())),
        Outcome::Empty => "Enter the 6-digit code from your authenticator app",
        Outcome::Refused => "The code is not right or has been used: enter the current code",
        Outcome::NotEnrolled => "You have not set up an authenticator app",
    };
    page(
        &state,
        &signed_in,
        next,
        vec![FieldError::new("code", message)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
