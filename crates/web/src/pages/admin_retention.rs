//! The retention schedule for the business manager and the system administrator: how long
//! each kind of record is kept, each period changed on its own page. The purge itself runs
//! daily in the background worker (and `learnloop retention` on the server); retention holds
//! on cases are placed and lifted with `learnloop retention hold` / `lift`.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use learnloop_core::FieldError;
use learnloop_core::retention::{self, Kind, Schedule, Unit};

use super::change::{self, Again, Change};
use super::dates;
use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use crate::auth::csrf::CsrfForm;
use crate::error::{AppError, PageError, PageResult};
use crate::extract::Caller;
use crate::state::AppState;

/// One row of the schedule.
pub struct Row {
    slug: &'static str,
    label: &'static str,
    /// The label inside a sentence ("sessions", "expired or revoked API tokens").
    noun: String,
    period: String,
    counted_from: &'static str,
    condition: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "pages/admin_retention.html")]
struct SchedulePage {
    layout: Layout,
    rows: Vec<Row>,
    last_run: Option<String>,
}

pub async fn show(State(state): State<AppState>) -> PageResult<Html<String>> {
    let schedule = Schedule::load(state.db.conn()).await?;
    let last_run = retention::last_run_on(state.db.conn())
        .await?
        .map(dates::long);
    let rows = Kind::ALL
        .into_iter()
        .map(|kind| Row {
            slug: kind.slug(),
            label: kind.label(),
            noun: in_sentence(kind.label()),
            period: kind.describe(schedule.period(kind)),
            counted_from: kind.counted_from(),
            condition: kind.condition(),
        })
        .collect();
    render(&SchedulePage {
        layout: Layout::new("Retention", "/admin/calendar"),
        rows,
        last_run,
    })
}

#[derive(Template)]
#[template(path = "pages/admin_retention_period.html")]
struct PeriodPage {
    layout: Layout,
    slug: &'static str,
    noun: String,
    /// The period stored when the form was drawn (sent back to detect a stale form).
    seen: String,
    /// What the box shows: the stored period, or what was typed.
    value: String,
    unit: &'static str,
    counted_from: &'static str,
    condition: Option<&'static str>,
    default_period: String,
    conflict: Option<String>,
}

/// A label as it reads inside a sentence: its first letter in lower case.
fn in_sentence(label: &str) -> String {
    let mut chars = label.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn kind_of(slug: &str) -> Result<Kind, PageError> {
    Kind::parse(slug).ok_or(PageError(AppError::not_found()))
}

async fn period_page(
    state: &AppState,
    kind: Kind,
    typed: Option<String>,
    errors: Vec<FieldError>,
    conflict: Option<String>,
) -> PageResult<Html<String>> {
    let current = Schedule::load(state.db.conn()).await?.period(kind);
    render(&PeriodPage {
        layout: Layout::new(
            format!("How long to keep {}", in_sentence(kind.label())),
            "/admin/calendar",
        )
        .with_errors(errors),
        slug: kind.slug(),
        noun: in_sentence(kind.label()),
        seen: current.to_string(),
        value: typed.unwrap_or_else(|| current.to_string()),
        unit: match kind.unit() {
            Unit::Days => "days",
            Unit::Years => "years",
        },
        counted_from: kind.counted_from(),
        condition: kind.condition(),
        default_period: kind.describe(kind.default_period()),
        conflict,
    })
}

pub async fn edit(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> PageResult<Html<String>> {
    let kind = kind_of(&slug)?;
    period_page(&state, kind, None, Vec::new(), None).await
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let kind = kind_of(&slug)?;
    let value = forms::field(&form, "period");
    let seen = forms::field(&form, "seen");
    change::on_page(
        &state,
        &caller,
        Change::keyed("retention.period_changed", "setting", kind.setting_key())
            .called("retention period"),
        async |txn| retention::set_period(txn, kind, &value, &seen).await,
        |_| "/admin/retention".to_string(),
        async |errors, again| match again {
            // 409 with the period now stored, so the person sees it and can choose again.
            Again::Stale => {
                let message = errors.into_iter().next().map(|error| error.message);
                period_page(&state, kind, None, Vec::new(), message).await
            }
            Again::Invalid => period_page(&state, kind, Some(value.clone()), errors, None).await,
        },
    )
    .await
}
