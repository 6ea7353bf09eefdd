//! A person's calendar feed of the deadlines they may see: a secret, revocable address that
//! calendar apps subscribe to. Events name cases by pseudonym only.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use learnloop_core::access::grants;
use learnloop_core::calendar::feeds;
use learnloop_core::deadlines::State as DeadlineState;
use learnloop_core::{FieldError, audit, calendar};
use serde::Deserialize;

use super::cases::open_deadlines;
use super::change::{self, Change};
use super::layout::{Layout, render};
use crate::auth::Source;
use crate::auth::csrf::CsrfForm;
use crate::error::{AppError, PageError, PageResult};
use crate::extract::Caller;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/calendar_feed.html")]
struct FeedPage {
    layout: Layout,
    active: bool,
    new_address: Option<String>,
}

fn feed_page(
    active: bool,
    new_address: Option<String>,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    render(&FeedPage {
        layout: Layout::new("Your calendar feed", "").with_errors(errors),
        active,
        new_address,
    })
}

pub async fn show(State(state): State<AppState>, caller: Caller) -> PageResult<Html<String>> {
    let active = feeds::has_active(state.db.conn(), caller.signed_in.person.id).await?;
    feed_page(active, None, Vec::new())
}

/// The feed page again, as it now is, with what was refused.
async fn again(
    state: &AppState,
    caller: &Caller,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let active = feeds::has_active(state.db.conn(), caller.signed_in.person.id).await?;
    feed_page(active, None, errors)
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn renew(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    let person_id = caller.signed_in.person.id;
    // The address is shown once, on this answer, so the change's redirect is not followed:
    // `done` keeps the secret and the page is rendered with it.
    let mut renewed = None;
    let outcome = change::on_page(
        &state,
        &caller,
        // The person's feed, not a record with an id of its own: the entry names none.
        Change::creating("calendar_feed.create", "calendar_feed").called("calendar feed"),
        async |txn| feeds::renew(txn, person_id, caller.now).await,
        |secret| {
            renewed = Some(secret);
            "/account/calendar".to_string()
        },
        async |errors, _| again(&state, &caller, errors).await,
    )
    .await?;
    let Some(secret) = renewed else {
        return Ok(outcome);
    };
    let address = format!(
        "{}/calendar/{secret}.ics",
        state.settings.public_url.trim_end_matches('/')
    );
    Ok(feed_page(true, Some(address), Vec::new())?.into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    let person_id = caller.signed_in.person.id;
    // Answered with the page itself (stopped), not a redirect, as it always has been.
    let mut revoked = false;
    let outcome = change::on_page(
        &state,
        &caller,
        Change::creating("calendar_feed.revoke", "calendar_feed").called("calendar feed"),
        async |txn| feeds::revoke_all(txn, person_id, caller.now).await,
        |_| {
            revoked = true;
            "/account/calendar".to_string()
        },
        async |errors, _| again(&state, &caller, errors).await,
    )
    .await?;
    if !revoked {
        return Ok(outcome);
    }
    Ok(feed_page(false, None, Vec::new())?.into_response())
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
    // Recorded once read, durably, before the feed is sent.
    state
        .db
        .journal()
        .record(
            audit::Event::new("calendar_feed.read", "allowed")
                .by(&actor)
                .from_source(source),
            now,
        )
        .await?;
    let body = feeds::ical(&format!("{} deadlines", state.team_name()), &events, now);
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response())
}
