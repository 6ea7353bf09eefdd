//! The working-day calendar for administrators: which years the holiday data covers, the
//! bank holidays, importing GOV.UK's file, and the partnership's own closure days.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::Datelike;
use learnloop_core::{CoreError, FieldError, calendar};
use serde::Deserialize;

use super::change::{self, Change};
use super::layout::{Layout, render};
use crate::auth::Visitor;
use crate::auth::csrf::{CsrfForm, checked_multipart};
use crate::error::{AppError, PageError, PageResult};
use crate::extract::Caller;
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

/// Imports GOV.UK's bank-holidays.json, sent as a file upload with the CSRF token. Answers
/// with the calendar page saying what was imported (not a redirect).
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    visitor: Visitor,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult<Response> {
    let parts = checked_multipart(&visitor, multipart).await?;
    let file = parts
        .into_iter()
        .find(|part| part.name == "file")
        .map(|part| part.bytes);
    let text = match file.map(|bytes| String::from_utf8(bytes.to_vec())) {
        Some(Ok(text)) if !text.trim().is_empty() => Ok(text),
        Some(Ok(_)) | None => Err(FieldError::new(
            "file",
            "Choose GOV.UK's bank-holidays.json file",
        )),
        Some(Err(_)) => Err(FieldError::new(
            "file",
            "The file is not text: choose GOV.UK's bank-holidays.json",
        )),
    };
    // The summary is shown on this answer, so the change's redirect is not followed: `done`
    // keeps it and the page is rendered with it.
    let mut imported = None;
    let outcome = change::on_page(
        &state,
        &caller,
        // The whole calendar, not one record: the entry names none, as it always has.
        Change::creating("calendar.import", "calendar"),
        async |txn| {
            let text = text
                .clone()
                .map_err(|error| CoreError::Invalid(vec![error]))?;
            calendar::store::import_govuk(txn, &text, caller.now)
                .await
                .map_err(|error| match error {
                    // Every error points at the file input, saying where in the file it is.
                    CoreError::Invalid(errors) => CoreError::Invalid(
                        errors
                            .into_iter()
                            .map(|error| {
                                FieldError::new(
                                    "file",
                                    format!("{}: {}", error.field, error.message),
                                )
                            })
                            .collect(),
                    ),
                    other => other,
                })
        },
        |summary| {
            imported = Some(summary);
            "/admin/calendar".to_string()
        },
        async |errors, _| page(&state, errors, None).await,
    )
    .await?;
    let Some(summary) = imported else {
        return Ok(outcome);
    };
    let message = format!(
        "Imported {} bank holidays for {} to {}.",
        summary.events, summary.first_year, summary.last_year
    );
    Ok(page(&state, Vec::new(), Some(message))
        .await?
        .into_response())
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
    caller: Caller,
    CsrfForm(form): CsrfForm<ClosureForm>,
) -> PageResult<Response> {
    let mut errors = Vec::new();
    let day = learnloop_core::cases::parse_date("day", &form.day, &mut errors);
    if day.is_none() && form.title.trim().is_empty() {
        // Say everything wrong at once: the title too, if it is missing.
        errors.push(FieldError::new("title", "Enter the title"));
    }
    change::on_page(
        &state,
        &caller,
        // A day of the calendar, not a record with an id: the entry names none.
        Change::creating("calendar.closure_added", "calendar"),
        async |txn| {
            let Some(day) = day else {
                return Err(CoreError::Invalid(errors.clone()));
            };
            calendar::store::add_closure(txn, day, &form.title, caller.now).await
        },
        |_| "/admin/calendar".to_string(),
        async |errors, _| page(&state, errors, None).await,
    )
    .await
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn remove_closure(
    State(state): State<AppState>,
    caller: Caller,
    Path(day): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    // The path names a day, not a record id: anything but a date is not found.
    let day = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .map_err(|_| PageError(AppError::not_found()))?;
    change::on_page(
        &state,
        &caller,
        Change::creating("calendar.closure_removed", "calendar"),
        async |txn| calendar::store::remove_closure(txn, day).await,
        |_| "/admin/calendar".to_string(),
        async |errors, _| page(&state, errors, None).await,
    )
    .await
}
