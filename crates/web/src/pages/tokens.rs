//! A person's own API tokens: create one (shown once, after the authenticator code is asked
//! again), see when each expires or whether it is suspended, revoke.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use learnloop_core::{CoreError, FieldError, tokens};
use serde::Deserialize;

use super::change::{self, Change, Created};
use super::layout::{Layout, render};
use crate::auth::csrf::CsrfForm;
use crate::auth::step_up::unless_recent;
use crate::error::PageResult;
use crate::extract::{Caller, RecordId};
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
    caller: &Caller,
    new_secret: Option<String>,
    errors: Vec<FieldError>,
    label: String,
    days: String,
) -> PageResult<Html<String>> {
    let now = caller.now;
    let rows = tokens::of_person(state.db.conn(), caller.signed_in.person.id)
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

pub async fn list(State(state): State<AppState>, caller: Caller) -> PageResult<Html<String>> {
    page(
        &state,
        &caller,
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
    caller: Caller,
    CsrfForm(form): CsrfForm<NewTokenForm>,
) -> PageResult<Response> {
    // After the CSRF check: a forged form is refused, not sent to the step-up page.
    if let Some(redirect) =
        unless_recent(&state, caller.signed_in.session.as_ref(), "/account/tokens").await?
    {
        return Ok(redirect);
    }
    let days = match form.days.trim().parse::<i64>() {
        Ok(days) if (1..=366).contains(&days) => Ok(days),
        _ => Err(FieldError::new(
            "days",
            "Enter a number of days from 1 to 366",
        )),
    };
    let person_id = caller.signed_in.person.id;
    // The secret is shown once, on this answer, so the change's redirect is not followed:
    // `done` keeps it and the list is rendered with it.
    let mut made = None;
    let outcome = change::on_page_creating(
        &state,
        &caller,
        Change::creating("token.create", "api_token").called("token"),
        async |txn| {
            let days = days
                .clone()
                .map_err(|error| CoreError::Invalid(vec![error]))?;
            let expires_at = caller.now + chrono::Duration::days(days);
            let (token, secret) =
                tokens::create(txn, person_id, &form.label, expires_at, caller.now)
                    .await
                    .map_err(|error| match error {
                        // No second factor: said beside the label, not as a stale version.
                        CoreError::Conflict(message) => {
                            CoreError::Invalid(vec![FieldError::new("label", message)])
                        }
                        other => other,
                    })?;
            Ok(Created {
                id: token.id,
                value: secret,
            })
        },
        |created| {
            made = Some(created.value);
            "/account/tokens".to_string()
        },
        async |errors, _| {
            page(
                &state,
                &caller,
                None,
                errors,
                form.label.clone(),
                form.days.clone(),
            )
            .await
        },
    )
    .await?;
    let Some(secret) = made else {
        return Ok(outcome);
    };
    Ok(page(
        &state,
        &caller,
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
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    let person_id = caller.signed_in.person.id;
    change::on_page(
        &state,
        &caller,
        Change::new("token.revoke", "api_token", id).called("token"),
        async |txn| {
            // Only the owner's own tokens: anyone else's answers 404.
            let owned = tokens::of_person(txn, person_id)
                .await?
                .iter()
                .any(|token| token.id == id);
            if !owned {
                return Err(CoreError::NotFound);
            }
            tokens::revoke(txn, id, caller.now).await
        },
        |_| "/account/tokens".to_string(),
        async |errors, _| {
            page(
                &state,
                &caller,
                None,
                errors,
                String::new(),
                "90".to_string(),
            )
            .await
        },
    )
    .await
}
