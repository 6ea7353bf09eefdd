//! The tracker's export, as .xlsx or CSV: every action the filters match, up to a cap, with
//! the columns the import reads back.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use learnloop_core::actions::{self, Rag, Rules, tracker};
use uuid::Uuid;

use super::{Names, TrackerQuery};
use crate::error::{AppError, PageError, PageResult};
use crate::extract::Caller;
use crate::state::AppState;

/// The most rows an export holds.
pub const EXPORT_CAP: u64 = 100_000;

/// The export's columns; the import reads them back by the same headings.
pub const EXPORT_HEADERS: [&str; 13] = [
    "Reference",
    "Description",
    "Owner agency",
    "Lead email",
    "Due date",
    "Status",
    "RAG",
    "Source",
    "Intended outcome",
    "Success evidence",
    "Themes",
    "Signed off",
    "Escalated",
];

fn rag_colour(rag: Rag) -> u32 {
    match rag {
        Rag::Red => 0xD4351C,
        Rag::Amber => 0xF47738,
        Rag::Green => 0x00703C,
        Rag::Complete => 0x1D70B8,
    }
}

async fn export_rows(
    db: &impl sea_orm::ConnectionTrait,
    list: &[actions::Model],
    today: NaiveDate,
    rules: &Rules,
) -> Result<Vec<Vec<learnloop_office::Cell>>, PageError> {
    use learnloop_office::Cell;
    let names = Names::load(db).await?;
    let ids: Vec<Uuid> = list.iter().map(|a| a.id).collect();
    let mut themes_by_action = actions::themes_of_many(db, &ids).await?;
    Ok(list
        .iter()
        .map(|action| {
            let rag = action.rag(today, rules.remind_days_before);
            let themes = themes_by_action.remove(&action.id).unwrap_or_default();
            vec![
                Cell::Text(action.reference.clone()),
                Cell::Text(action.description.clone()),
                Cell::Text(names.agency_code(action.owner_agency_id)),
                Cell::Text(names.email(action.lead_person_id)),
                Cell::Date(action.due_on),
                Cell::Text(action.status().label().to_string()),
                Cell::Coloured(rag.label().to_string(), rag_colour(rag)),
                Cell::Text(action.source_kind.clone()),
                Cell::Text(action.intended_outcome.clone()),
                Cell::Text(action.success_evidence.clone()),
                Cell::Text(themes.join("; ")),
                action
                    .signed_off_on
                    .map(Cell::Date)
                    .unwrap_or(Cell::Text(String::new())),
                action
                    .escalated_on
                    .map(Cell::Date)
                    .unwrap_or(Cell::Text(String::new())),
            ]
        })
        .collect())
}

async fn export(
    state: &AppState,
    caller: &Caller,
    query: &TrackerQuery,
    xlsx: bool,
) -> PageResult<Response> {
    let today = caller.now.date_naive();
    let filter = query
        .filter(caller.actor(), caller.signed_in.person.id)
        .map_err(|error| {
            PageError(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("The filter “{}” {}", error.field, error.message),
            ))
        })?;
    let txn = state.db.read().await?;
    let rules = Rules::load(&txn).await?;
    let list = tracker::all(&txn, &filter, today, rules.remind_days_before, EXPORT_CAP).await?;
    let rows = export_rows(&txn, &list, today, &rules).await?;
    // Not a change: the entry of what is carried away, durable before it leaves.
    state
        .db
        .journal()
        .record(
            caller
                .viewer()
                .event("actions.exported", "allowed")
                .on("actions", list.len()),
            caller.now,
        )
        .await?;
    txn.commit().await?;
    let failed = |error: String| {
        tracing::error!(error = %error, "export failed");
        PageError(AppError::internal())
    };
    let (bytes, content_type, name) = if xlsx {
        (
            learnloop_office::write_xlsx("Actions", &EXPORT_HEADERS, &rows).map_err(failed)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "actions.xlsx",
        )
    } else {
        (
            learnloop_office::write_csv(&EXPORT_HEADERS, &rows).map_err(failed)?,
            "text/csv; charset=utf-8",
            "actions.csv",
        )
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub async fn export_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    // A download carries data away: the authenticator code is asked again first.
    _: crate::auth::step_up::RecentStepUp,
    Query(query): Query<TrackerQuery>,
) -> PageResult<Response> {
    export(&state, &caller, &query, true).await
}

pub async fn export_csv(
    State(state): State<AppState>,
    caller: Caller,
    _: crate::auth::step_up::RecentStepUp,
    Query(query): Query<TrackerQuery>,
) -> PageResult<Response> {
    export(&state, &caller, &query, false).await
}
