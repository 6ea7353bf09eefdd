//! Deadlines due and overdue across every case the person may see.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use learnloop_core::calendar;
use learnloop_core::deadlines::{State as DeadlineState, open_deadlines};
use serde::Deserialize;

use super::cases::{DeadlineRow, deadline_row};
use super::layout::{Layout, render};
use crate::error::PageResult;
use crate::extract::Caller;
use crate::state::AppState;

struct Row {
    case_id: String,
    reference: String,
    pseudonym: String,
    deadline: DeadlineRow,
}

#[derive(Template)]
#[template(path = "pages/deadlines.html")]
struct DeadlinesPage {
    layout: Layout,
    window: i64,
    /// What the person typed, shown back in the field.
    typed: String,
    /// "Overdue" and "Due soon", each with its rows.
    sections: Vec<(&'static str, Vec<Row>)>,
}

#[derive(Deserialize)]
pub struct WindowQuery {
    /// Working days ahead to show; text, so a bad value is a field error on the page.
    #[serde(default)]
    window: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<WindowQuery>,
) -> PageResult<Html<String>> {
    let typed = query.window.unwrap_or_default();
    let mut errors = Vec::new();
    let window = if typed.trim().is_empty() {
        10
    } else {
        match typed.trim().parse::<i64>() {
            Ok(days) if (1..=60).contains(&days) => days,
            _ => {
                errors.push(learnloop_core::FieldError::new(
                    "window",
                    "Enter a number of working days from 1 to 60",
                ));
                10
            }
        }
    };
    let today = caller.now.date_naive();
    let txn = state.db.read().await?;
    let calendar = calendar::store::load(&txn).await?;
    let (mut overdue, mut due) = (Vec::new(), Vec::new());
    for (record, deadlines) in open_deadlines(&txn, caller.actor(), &calendar, today).await? {
        for deadline in deadlines {
            let row = |deadline| Row {
                case_id: record.case.id.to_string(),
                reference: record.case.reference.clone(),
                pseudonym: record.case.pseudonym.clone(),
                deadline,
            };
            match deadline.state {
                DeadlineState::Overdue => overdue.push(row(deadline_row(&deadline))),
                DeadlineState::Due if deadline.working_days_remaining <= window => {
                    due.push(row(deadline_row(&deadline)))
                }
                _ => {}
            }
        }
    }
    caller
        .viewer()
        .record(state.db.journal(), "deadlines.view")
        .await?;
    txn.commit().await?;
    render(&DeadlinesPage {
        layout: Layout::new("Deadlines due and overdue", "/deadlines").with_errors(errors),
        window,
        typed: if typed.trim().is_empty() {
            window.to_string()
        } else {
            typed
        },
        sections: vec![("Overdue", overdue), ("Due soon", due)],
    })
}
