//! The working-day calendar for administrators: which years the holiday data covers, the
//! bank holidays, importing GOV.UK's file, and the partnership's own closure days.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Datelike;
use learnloop_core::{CoreError, FieldError, audit, calendar};
use serde::Deserialize;

use super::layout::{Layout, render};
use crate::auth::csrf::{CsrfForm, checked_multipart};
use crate::auth::{SignedIn, Source, Visitor};
use crate::error::{AppError, PageError, PageResult};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_calendar.html")]
struct CalendarPage {
    layout: Layout,
    first_year: i32,
    last_year: i32,
    holidays: Vec<(String, String)>,
    closures: Vec<(String, String, String)>,
    message: Option<String>,
}

async fn page(
    state: &AppState,
    errors: Vec<FieldError>,
    message: Option<String>,
) -> PageResult<Html<String>> {
    let today = state.clock.now().date_naive();
    let calendar = calendar::store::load(state.db.conn()).await?;
    let (first_year, last_year) = calendar.years().unwrap_or((0, 0));
    let holidays = calendar
        .holidays()
        .filter(|(date, _)| date.year() == today.year() || date.year() == today.year() + 1)
        .map(|(date, title)| (date.format("%a %-d %B %Y").to_string(), title.clone()))
        .collect();
    let closures = calendar
        .closures()
        .map(|(date, title)| {
            (
                date.format("%Y-%m-%d").to_string(),
                date.format("%a %-d %B %Y").to_string(),
                title.clone(),
            )
        })
        .collect();
    render(&CalendarPage {
        layout: Layout::new("Working-day calendar", "/admin/calendar").with_errors(errors),
        first_year,
        last_year,
        holidays,
        closures,
        message,
    })
}

pub async fn show(State(state): State<AppState>) -> PageResult<Html<String>> {
    page(&state, Vec::new(), None).await
}

/// Imports GOV.UK's bank-holidays.json, sent as a file upload with the CSRF token.
pub async fn import(
    State(state): State<AppState>,
    signed_in: SignedIn,
    visitor: Visitor,
    Source(source): Source,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult<Response> {
    let parts = checked_multipart(&visitor, multipart).await?;
    let file = parts
        .into_iter()
        .find(|part| part.name == "file")
        .map(|part| part.bytes);
    let text = match file.map(|bytes| String::from_utf8(bytes.to_vec())) {
        Some(Ok(text)) if !text.trim().is_empty() => text,
        Some(Ok(_)) | None => {
            return Ok(page(
                &state,
                vec![FieldError::new(
                    "file",
                    "Choose GOV.UK's bank-holidays.json file",
                )],
                None,
            )
            .await?
            .into_response());
        }
        Some(Err(_)) => {
            return Ok(page(
                &state,
                vec![FieldError::new(
                    "file",
                    "The file is not text: choose GOV.UK's bank-holidays.json",
                )],
                None,
            )
            .await?
            .into_response());
        }
    };
    let now = state.clock.now();
    let txn = state.db.write().await?;
    match calendar::store::import_govuk(&txn, &text, now).await {
        Ok(summary) => {
            audit::append(
                &txn,
                audit::Event::new("calendar.import", "succeeded")
                    .by(&signed_in.actor)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            let message = format!(
                "Imported {} bank holidays for {} to {}.",
                summary.events, summary.first_year, summary.last_year
            );
            Ok(page(&state, Vec::new(), Some(message))
                .await?
                .into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            // Every error points at the file input, saying where in the file it is.
            let errors = errors
                .into_iter()
                .map(|error| FieldError::new("file", format!("{}: {}", error.field, error.message)))
                .collect();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&state, errors, None).await?,
            )
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct ClosureForm {
    #[serde(default)]
    day: String,
    #[serde(default)]
    title: String,
}

pub async fn add_closure(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    CsrfForm(form): CsrfForm<ClosureForm>,
) -> PageResult<Response> {
    let now = state.clock.now();
    let mut errors = Vec::new();
    let day = learnloop_core::cases::parse_date("day", &form.day, &mut errors);
    let Some(day) = day else {
        // Say everything wrong at once: the title too, if it is missing.
        if form.title.trim().is_empty() {
            errors.push(FieldError::new("title", "Enter the title"));
        }
        return Ok(page(&state, errors, None).await?.into_response());
    };
    let txn = state.db.write().await?;
    match calendar::store::add_closure(&txn, day, &form.title, now).await {
        Ok(()) => {
            audit::append(
                &txn,
                audit::Event::new("calendar.closure_added", "succeeded")
                    .by(&signed_in.actor)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(Redirect::to("/admin/calendar").into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            Ok(page(&state, errors, None).await?.into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn remove_closure(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(day): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    let day = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .map_err(|_| PageError(AppError::not_found()))?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    calendar::store::remove_closure(&txn, day).await?;
    audit::append(
        &txn,
        audit::Event::new("calendar.closure_removed", "succeeded")
            .by(&signed_in.actor)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Redirect::to("/admin/calendar").into_response())
}
