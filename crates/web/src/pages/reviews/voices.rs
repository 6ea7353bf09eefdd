//! Voices: how the family was involved and what they said, and the practitioner events held.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};
use learnloop_core::reviews::voices;

use super::{Choice, Head, Need, Opened, Powers, ReviewChange, Tab, change, choices, labelled};
use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::{Caller, RecordId};
use crate::pages::dates;
use crate::pages::forms::{self, Pairs, rename};
use crate::pages::layout::{Layout, render};
use crate::state::AppState;

pub struct FamilyRow {
    relationship: String,
    name: String,
    invited: String,
    response: &'static str,
    what_they_said: String,
    consent: bool,
}

pub struct EventRow {
    held_on: String,
    kind: String,
    attendees: i32,
    agencies: String,
}

#[derive(Template)]
#[template(path = "pages/review_voices.html")]
struct VoicesPage {
    layout: Layout,
    head: Head,
    powers: Powers,
    family: Vec<FamilyRow>,
    events: Vec<EventRow>,
    subject_perspective: String,
    invited_how: Vec<Choice>,
    responses: Vec<Choice>,
    today: String,
}

pub(super) async fn page(opened: Opened<'_>) -> PageResult<Html<String>> {
    let Opened {
        txn,
        review,
        powers,
        head,
        layout,
        today,
        ..
    } = opened;
    let family = voices::family_of(txn, review.id)
        .await?
        .into_iter()
        .map(|f| FamilyRow {
            relationship: f.relationship,
            // Names are identifying: only those who run the review see them.
            name: if powers.manage {
                f.name.unwrap_or_default()
            } else {
                String::new()
            },
            invited: format!(
                "{}{}",
                f.invited_how,
                f.invited_on
                    .map(|d| format!(", {}", dates::short(d)))
                    .unwrap_or_default()
            ),
            response: voices::response_label(&f.response),
            what_they_said: f.what_they_said,
            consent: f.consent_recorded,
        })
        .collect();
    let events = voices::practitioner_events_of(txn, review.id)
        .await?
        .into_iter()
        .map(|e| EventRow {
            held_on: dates::short(e.held_on),
            kind: e.kind,
            attendees: e.attendees,
            agencies: e.agencies,
        })
        .collect();
    render(&VoicesPage {
        layout,
        head,
        powers,
        family,
        events,
        subject_perspective: review.subject_perspective,
        invited_how: choices(
            voices::INVITED_HOW
                .iter()
                .map(|h| (h.to_string(), h.to_string())),
        ),
        responses: labelled(&voices::RESPONSES),
        today: dates::iso(today),
    })
}

pub async fn add_family(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let input = voices::FamilyInput {
        relationship: forms::field(&form, "relationship"),
        name: forms::field(&form, "name"),
        invited_how: forms::field(&form, "invited_how"),
        invited_on: forms::field(&form, "invited_on"),
        response: forms::field(&form, "response"),
        what_they_said: forms::field(&form, "what_they_said"),
        consent_recorded: forms::checked(&form, "consent_recorded"),
    };
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::Voices,
            need: Need::Manage,
            action: "review.family_involvement_recorded",
            values: form.clone(),
        },
        async |txn| voices::add_family(txn, id, &input).await,
    )
    .await
}

pub async fn add_practitioner_event(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let today = caller.now.date_naive();
    let input = voices::PractitionerInput {
        held_on: forms::field(&form, "held_on"),
        kind: forms::field(&form, "event_kind"),
        attendees: forms::field(&form, "attendees"),
        agencies: forms::field(&form, "event_agencies"),
    };
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::Voices,
            need: Need::Manage,
            action: "review.practitioner_event_recorded",
            values: form.clone(),
        },
        async |txn| {
            voices::add_practitioner_event(txn, id, &input, today)
                .await
                .map_err(|error| {
                    // The family's form shares the page: name this form's fields apart.
                    rename(
                        error,
                        &[("kind", "event_kind"), ("agencies", "event_agencies")],
                    )
                })
        },
    )
    .await
}
