//! People and contributions: who is appointed to the review (an account appointed as
//! independent reviewer is granted access to it), and the agencies' contributions asked for.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};
use learnloop_core::access::{Action, Record, Role, can};
use learnloop_core::audit;
use learnloop_core::people;
use learnloop_core::reviews::{contributions, people as review_people};
use uuid::Uuid;

use super::{
    Choice, Head, Need, Opened, Powers, ReviewChange, Tab, agency_choices, agency_names, change,
    choices, labelled,
};
use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::{Caller, RecordId};
use crate::pages::dates;
use crate::pages::forms::{self, Pairs, rename};
use crate::pages::layout::{Layout, render};
use crate::state::AppState;

pub struct PersonRow {
    name: String,
    role: &'static str,
    agency: String,
    conflict_statement: String,
    access: String,
}

pub struct ContributionRow {
    id: String,
    agency: String,
    kind: &'static str,
    due: String,
    received: String,
    overdue: bool,
    can_upload: bool,
}

#[derive(Template)]
#[template(path = "pages/review_people.html")]
struct PeoplePage {
    layout: Layout,
    head: Head,
    powers: Powers,
    people: Vec<PersonRow>,
    contributions: Vec<ContributionRow>,
    roles: Vec<Choice>,
    accounts: Vec<Choice>,
    agencies: Vec<Choice>,
    contribution_kinds: Vec<Choice>,
    case_agencies: Vec<Choice>,
}

/// Whether the actor is of the partnership team, who pick from everyone's accounts (and so
/// grant access by appointing).
fn partnership_team(actor: &learnloop_core::access::Actor) -> bool {
    actor.has_role(Role::BusinessManager) || actor.has_role(Role::ReviewGroupMember)
}

pub(super) async fn page(opened: Opened<'_>) -> PageResult<Html<String>> {
    let Opened {
        txn,
        actor,
        review,
        case,
        powers,
        head,
        layout,
        today,
    } = opened;
    let id = review.id;
    let names = agency_names(txn).await?;
    let grants = learnloop_core::access::grants::of_review(txn, id).await?;
    let people_rows = review_people::of_review(txn, id)
        .await?
        .into_iter()
        .map(|person| PersonRow {
            role: review_people::role_label(&person.role),
            agency: person
                .agency_id
                .and_then(|a| names.get(&a).cloned())
                .unwrap_or_default(),
            conflict_statement: person.conflict_statement.clone(),
            access: match person.grant_id.and_then(|g| grants.get(&g)) {
                Some(grant) if grant.revoked_at.is_some() => "Access ended".to_string(),
                Some(grant) => format!(
                    "Access to this review{}{}",
                    grant
                        .starts_on
                        .map(|d| format!(" from {}", dates::short(d)))
                        .unwrap_or_default(),
                    grant
                        .ends_on
                        .map(|d| format!(" until {}", dates::short(d)))
                        .unwrap_or_default()
                ),
                None => String::new(),
            },
            name: person.name,
        })
        .collect();
    let contributions = contributions::of_review(txn, id)
        .await?
        .into_iter()
        .map(|c| ContributionRow {
            id: c.id.to_string(),
            agency: names.get(&c.agency_id).cloned().unwrap_or_default(),
            kind: contributions::kind_label(&c.kind),
            due: dates::short(c.due_on),
            received: dates::short_or_blank(c.received_on),
            overdue: c.received_on.is_none() && today > c.due_on,
            can_upload: c.received_on.is_none()
                && can(
                    actor,
                    Action::ContributeToReview,
                    Record::Contribution {
                        review_id: id,
                        agency_id: c.agency_id,
                    },
                ),
        })
        .collect();
    let accounts = if partnership_team(actor) {
        choices(
            people::list(txn)
                .await?
                .into_iter()
                .filter(|p| p.active)
                .map(|p| (p.id.to_string(), format!("{} ({})", p.name, p.email))),
        )
    } else {
        Vec::new()
    };
    let case_agencies = choices(
        case.agency_ids
            .iter()
            .map(|a| (a.to_string(), names.get(a).cloned().unwrap_or_default())),
    );
    render(&PeoplePage {
        layout,
        head,
        powers,
        people: people_rows,
        contributions,
        roles: choices(
            review_people::ROLES
                .iter()
                .map(|(k, l, _)| (k.to_string(), l.to_string())),
        ),
        accounts,
        agencies: agency_choices(&names),
        contribution_kinds: labelled(&contributions::KINDS),
        case_agencies,
    })
}

fn optional_id(pairs: &Pairs, name: &str) -> Option<Uuid> {
    Uuid::parse_str(forms::field(pairs, name).trim()).ok()
}

pub async fn appoint(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = caller.now;
    let viewer = caller.viewer();
    let input = review_people::AppointmentInput {
        role: forms::field(&form, "role"),
        person_id: optional_id(&form, "person_id"),
        name: forms::field(&form, "name"),
        agency_id: optional_id(&form, "agency_id"),
        conflict_statement: forms::field(&form, "conflict_statement"),
        starts_on: forms::field(&form, "starts_on"),
        ends_on: forms::field(&form, "ends_on"),
    };
    // Choosing an account grants access: only the partnership team may do that.
    let need = if input.person_id.is_some() && !partnership_team(viewer.actor) {
        Need::Publish
    } else {
        Need::Manage
    };
    let by = caller.signed_in.person.id;
    if input.person_id == Some(by) {
        // The core refuses a self-appointment (nobody grants themselves access); record it.
        // Through the journal, before the change's write transaction begins.
        crate::audited::append_now(
            &state,
            viewer
                .event("grant.add", "denied")
                .on("person", by)
                .because(Some(format!("self-appointment to review {id}"))),
        )
        .await?;
    }
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::People,
            need,
            action: "review.person_appointed",
            values: form.clone(),
        },
        async |txn| {
            let appointed = review_people::appoint(txn, id, &input, by, now).await?;
            // An account appointed as independent reviewer now sees case content.
            if let (Some(person_id), Some(grant_id)) = (appointed.person_id, appointed.grant_id) {
                let event = viewer
                    .event("grant.case_access_added", "succeeded")
                    .on("person", person_id)
                    .because(Some(format!(
                        "independent_reviewer (review {id}), grant {grant_id}"
                    )));
                audit::append(txn, event, now).await?;
            }
            Ok(())
        },
    )
    .await
}

pub async fn request_contribution(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let agency_id = optional_id(&form, "contribution_agency");
    let kind = forms::field(&form, "contribution_kind");
    let due = forms::field(&form, "contribution_due");
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::People,
            need: Need::Manage,
            action: "review.contribution_requested",
            values: form.clone(),
        },
        async |txn| {
            contributions::request(txn, id, agency_id, &kind, &due)
                .await
                .map_err(|error| {
                    // The page has several forms: point the errors at this one's fields.
                    rename(
                        error,
                        &[
                            ("agency_id", "contribution_agency"),
                            ("kind", "contribution_kind"),
                            ("due_on", "contribution_due"),
                        ],
                    )
                })
        },
    )
    .await
}
