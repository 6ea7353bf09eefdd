//! The outbox: every email queued (reminders, escalations, digests) and whether it was sent,
//! for the partnership team to see what went out (and, in development, what would have).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use learnloop_core::mail;
use serde::Deserialize;

use super::layout::{Layout, render};
use crate::error::PageResult;
use crate::state::AppState;

const PER_PAGE: u64 = 50;

pub struct Row {
    created: String,
    kind: String,
    to: String,
    subject: String,
    state: String,
}

#[derive(Template)]
#[template(path = "pages/outbox.html")]
struct OutboxPage {
    layout: Layout,
    rows: Vec<Row>,
    total: u64,
    page: u64,
    pages: u64,
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<u64>,
}

pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> PageResult<Html<String>> {
    let page = query.page.unwrap_or(1).clamp(1, 100_000);
    let txn = state.db.read().await?;
    let (emails, total) = mail::recent(&txn, (page - 1) * PER_PAGE, PER_PAGE).await?;
    render(&OutboxPage {
        layout: Layout::new("Outbox", "/actions"),
        rows: emails
            .into_iter()
            .map(|email| Row {
                created: email.created_at.format("%-d %b %Y %H:%M").to_string(),
                kind: email.kind.replace('_', " "),
                to: email.to_email,
                subject: email.subject,
                state: match (email.sent_at, email.last_error) {
                    (Some(at), _) => format!("Sent {}", at.format("%-d %b %H:%M")),
                    (None, Some(error)) => {
                        format!("Not sent yet ({} attempts): {error}", email.attempts)
                    }
                    (None, None) => "Waiting".to_string(),
                },
            })
            .collect(),
        total,
        page,
        pages: total.div_ceil(PER_PAGE).max(1),
    })
}
