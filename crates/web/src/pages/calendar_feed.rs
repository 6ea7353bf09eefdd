//! A person's calendar feed of the deadlines they may see: a secret, revocable address that
//! calendar apps subscribe to. Events name cases by pseudonym only.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use learnloop_core::access::grants;
use learnloop_core::calendar::feeds;
use learnloop_core::deadlines::State as DeadlineState;
use learnloop_core::{audit, calendar};
use serde::Deserialize;

use super::cases::open_deadlines;
use super::layout::{Layout, render};
use crate::auth::csrf::CsrfForm;
use crate::auth::{SignedIn, Source};
use crate::error::{AppError, PageError, PageResult};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/calendar_feed.html")]
struct FeedPage {
    layout: Layout,
    active: bool,
    new_address: Option<String>,
}

pub async fn show(State(state): State<AppState>, signed_in: SignedIn) -> PageResult<Html<String>> {
    let active = feeds::has_active(state.db.conn(), signed_in.person.id).await?;
    render(&FeedPage {
        layout: Layout::new("Your calendar feed", ""),
        active,
        new_address: None,
    })
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn renew(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let secret = feeds::renew(&txn, signed_in.person.id, now).await?;
    audit::append(
        &txn,
        audit::Event::new("calendar_feed.create", "succeeded")
            .by(&signed_in.actor)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    let address = format!(
        "{}/calendar/{secret}.ics",
        state.settings.public_url.trim_end_matches('/')
    );
    render(&FeedPage {
        layout: Layout::new("Your calendar feed", ""),
        active: true,
        new_address: Some(address),
    })
}

pub async fn revoke(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    feeds::revoke_all(&txn, signed_in.person.id, now).await?;
    audit::append(
        &txn,
        audit::Event::new("calendar_feed.revoke", "succeeded")
            .by(&signed_in.actor)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    render(&FeedPage {
        layout: Layout::new("Your calendar feed", ""),
        active: false,
        new_address: None,
    })
}

/// The feed itself: `GET /calendar/{secret}.ics`. The secret is the only credential.
pub async fn feed(
    State(state): State<AppState>,
    Source(source): Source,
    Path(file): Path<String>,
) -> PageResult<Response> {
    let secret = file.strip_suffix(".ics").unwrap_or(&file);
    let now = state.clock.now();
    let today = now.date_naive();
    // Read first: a wrong secret (anyone can send one) is refused without taking the write
    // lock; only a real subscriber's read is written to the audit trail.
    let txn = state.db.read().await?;
    let person = feeds::person_for(&txn, secret)
        .await?
        .ok_or_else(|| PageError(AppError::not_found()))?;
    let actor = grants::actor_for(&txn, person.id, today)
        .await?
        .filter(|actor| !actor.grants.is_empty())
        .ok_or_else(|| PageError(AppError::not_found()))?;
    let calendar = calendar::store::load(&txn).await?;
    let mut events = Vec::new();
    for (record, deadlines) in open_deadlines(&txn, &actor, &calendar, today).await? {
        for deadline in deadlines {
            if matches!(deadline.state, DeadlineState::Met | DeadlineState::MetLate) {
                continue;
            }
            let caveat = if deadline.calendar_covered {
                ""
            } else {
                "The date falls past the calendar's holiday data."
            };
            events.push(feeds::Event {
                uid: format!("{}-{}@learnloop", record.case.id, deadline.name),
                day: deadline.due_on,
                summary: format!("{}: {}", record.case.pseudonym, deadline.label),
                description: format!("Case {}. {caveat}", record.case.reference),
            });
        }
    }
    txn.commit().await?;
    let txn = state.db.write().await?;
    audit::append(
        &txn,
        audit::Event::new("calendar_feed.read", "allowed")
            .by(&actor)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    let body = feeds::ical(&format!("{} deadlines", state.team_name()), &events, now);
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response())
}
