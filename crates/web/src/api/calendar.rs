use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use learnloop_core::calendar;
use serde::{Deserialize, Serialize};

use crate::error::{ApiResult, AppError, ErrorBody};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkingDaysQuery {
    /// Day 0, as YYYY-MM-DD.
    #[serde(default)]
    from: String,
    /// How many working days after day 0 (0 to 366).
    #[serde(default)]
    days: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkingDays {
    pub from: NaiveDate,
    pub days: u32,
    /// The `days`-th working day after `from`.
    pub date: NaiveDate,
    /// False when the date falls past the calendar's bank holiday data.
    pub calendar_covered: bool,
}

fn bad(field: &str, message: &str) -> AppError {
    let mut error = AppError::new(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        format!("{field}: {message}"),
    );
    error.fields = vec![learnloop_core::FieldError::new(field, message)];
    error
}

/// Count working days (England and Wales bank holidays and the partnership's closure days excluded).
#[utoipa::path(get, path = "/api/v1/calendar/working-days", tag = "calendar",
    params(WorkingDaysQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The due date", body = WorkingDays),
        (status = 400, description = "A parameter is missing or not valid; the error names it", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody)
    ))]
pub async fn working_days(
    State(state): State<AppState>,
    super::ApiQuery(query): super::ApiQuery<WorkingDaysQuery>,
) -> ApiResult<Json<WorkingDays>> {
    let from = NaiveDate::parse_from_str(query.from.trim(), "%Y-%m-%d")
        .map_err(|_| bad("from", "must be a date in the form YYYY-MM-DD"))?;
    let days = query
        .days
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|days| *days <= 366)
        .ok_or_else(|| bad("days", "must be a whole number from 0 to 366"))?;
    let calendar = calendar::store::load(state.db.conn()).await?;
    let deadline = calendar.add_working_days(from, days);
    Ok(Json(WorkingDays {
        from,
        days,
        date: deadline.date,
        calendar_covered: deadline.calendar_covered,
    }))
}
