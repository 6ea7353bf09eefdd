//! A person's own API tokens: create one (shown once, after the authenticator code is asked
//! again), see when each expires or whether it is suspended, revoke.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use learnloop_core::{FieldError, audit, tokens};
use serde::Deserialize;

use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::CsrfForm;
use crate::auth::step_up::unless_recent;
use crate::auth::{SignedIn, Source};
use crate::error::{AppError, PageError, PageResult};
use crate::state::AppState;

struct TokenRow {
    id: String,
    label: String,
    created: String,
    expires: String,
    status: &'static str,
    revocable: bool,
}

#[derive(Template)]
#[template(path = "pages/tokens.html")]
struct TokensPage {
    layout: Layout,
    rows: Vec<TokenRow>,
    new_secret: Option<String>,
    label: String,
    days: String,
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    new_secret: Option<String>,
    errors: Vec<FieldError>,
    label: String,
    days: String,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let rows = tokens::of_person(state.db.conn(), signed_in.person.id)
        .await?
        .into_iter()
        .map(|token| TokenRow {
            id: token.id.to_string(),
            revocable: matches!(
                token.status(now),
                tokens::Status::Active | tokens::Status::Suspended
            ),
            status: match token.status(now) {
                tokens::Status::Active => "Active",
                tokens::Status::Suspended => "Suspended until you next sign in",
                tokens::Status::Expired => "Expired",
                tokens::Status::Revoked => "Revoked",
            },
            label: token.label,
            created: token.created_at.format("%Y-%m-%d").to_string(),
            expires: token.expires_at.format("%Y-%m-%d").to_string(),
        })
        .collect();
    render(&TokensPage {
        layout: Layout::new("Your API tokens", "").with_errors(errors),
        rows,
        new_secret,
        label,
        days,
    })
}

pub async fn list(State(state): State<AppState>, signed_in: SignedIn) -> PageResult<Html<String>> {
    page(
        &state,
        &signed_in,
        None,
        Vec::new(),
        String::new(),
        "90".to_string(),
    )
    .await
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    days: String,
}

/// Creates a token; only after the code was asked again (ASVS 7.5.3), since a token acts as
/// its owner for months without a second factor.
pub async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    CsrfForm(form): CsrfForm<NewTokenForm>,
) -> PageResult<Response> {
    // After the CSRF check: a forged form is refused, not sent to the step-up page.
    if let Some(redirect) =
        unless_recent(&state, signed_in.session.as_ref(), "/account/tokens").await?
    {
        return Ok(redirect);
    }
    let now = state.clock.now();
    let days = match form.days.trim().parse::<i64>() {
        Ok(days) if (1..=366).contains(&days) => days,
        _ => {
            let errors = vec![FieldError::new(
                "days",
                "Enter a number of days from 1 to 366",
            )];
            return Ok(
                page(&state, &signed_in, None, errors, form.label, form.days)
                    .await?
                    .into_response(),
            );
        }
    };
    let txn = state.db.write().await?;
    let created = tokens::create(
        &txn,
        signed_in.person.id,
        &form.label,
        now + chrono::Duration::days(days),
        now,
    )
    .await;
    let (token, secret) = match created {
        Ok(created) => created,
        Err(learnloop_core::CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            return Ok(
                page(&state, &signed_in, None, errors, form.label, form.days)
                    .await?
                    .into_response(),
            );
        }
        Err(learnloop_core::CoreError::Conflict(message)) => {
            txn.rollback().await?;
            let errors = vec![FieldError::new("label", message)];
            return Ok(
                page(&state, &signed_in, None, errors, form.label, form.days)
                    .await?
                    .into_response(),
            );
        }
        Err(other) => return Err(other.into()),
    };
    audit::append(
        &txn,
        audit::Event::new("token.create", "succeeded")
            .by(&signed_in.actor)
            .on("api_token", token.id)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(page(
        &state,
        &signed_in,
        Some(secret),
        Vec::new(),
        String::new(),
        "90".to_string(),
    )
    .await?
    .into_response())
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn revoke(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    // Only the owner's own tokens: anyone else's answers 404.
    let owned = tokens::of_person(&txn, signed_in.person.id)
        .await?
        .iter()
        .any(|token| token.id == id);
    if !owned {
        return Err(PageError(AppError::not_found()));
    }
    tokens::revoke(&txn, id, now).await?;
    audit::append(
        &txn,
        audit::Event::new("token.revoke", "succeeded")
            .by(&signed_in.actor)
            .on("api_token", id)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Redirect::to("/account/tokens").into_response())
}
