//! Administration of people: who has an account, their roles and scopes, disabling them, and
//! one-time password reset links. Viewing a person is recorded in the audit trail.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use learnloop_core::access::{Action, Record, Role, can, grants};
use learnloop_core::error::CoreResult;
use learnloop_core::identity::{resets, sessions};
use learnloop_core::people::{self, NewPerson};
use learnloop_core::{CoreError, FieldError, agencies, audit};
use serde::Deserialize;

use super::account::{GrantRow, grant_rows};
use super::change::{self, Change, Created};
use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::CsrfForm;
use crate::error::{AppError, PageError, PageResult};
use crate::extract::{Caller, RecordId};
use crate::state::AppState;

struct PersonRow {
    id: String,
    name: String,
    agency: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "pages/admin_people.html")]
struct PeoplePage {
    layout: Layout,
    rows: Vec<PersonRow>,
    can_manage: bool,
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let agency_names: std::collections::HashMap<uuid::Uuid, String> = agencies::list(&txn)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let rows = people::list(&txn)
        .await?
        .into_iter()
        .filter(|person| {
            can(
                caller.actor(),
                Action::ViewPerson,
                Record::Person {
                    person_id: person.id,
                    agency_id: person.agency_id,
                },
            )
        })
        .map(|person| PersonRow {
            id: person.id.to_string(),
            agency: agency_names
                .get(&person.agency_id)
                .cloned()
                .unwrap_or_default(),
            status: if person.active { "Active" } else { "Disabled" },
            name: person.name,
        })
        .collect();
    txn.commit().await?;
    // Recorded once read, durably, before the list is shown.
    caller
        .viewer()
        .record(state.db.journal(), "people.list")
        .await?;
    render(&PeoplePage {
        layout: Layout::new("People", "/admin/people"),
        rows,
        can_manage: can(caller.actor(), Action::ManagePeople, Record::None),
    })
}

struct RoleOption {
    value: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "pages/admin_person.html")]
struct PersonPage {
    layout: Layout,
    person: people::Person,
    agency: String,
    grants: Vec<(String, GrantRow)>,
    can_manage: bool,
    roles: Vec<RoleOption>,
    reset_link: Option<String>,
}

fn role_options() -> Vec<RoleOption> {
    Role::ALL
        .iter()
        .map(|role| RoleOption {
            value: role.as_str(),
            label: role.label(),
        })
        .collect()
}

/// Loads the person if the caller may see them; another agency's person is not found (404).
async fn visible_person(
    db: &impl sea_orm::ConnectionTrait,
    caller: &Caller,
    id: uuid::Uuid,
) -> CoreResult<people::Person> {
    let person = people::get(db, id).await?;
    let record = Record::Person {
        person_id: person.id,
        agency_id: person.agency_id,
    };
    if can(caller.actor(), Action::ViewPerson, record) {
        Ok(person)
    } else {
        Err(CoreError::NotFound)
    }
}

async fn person_page(
    state: &AppState,
    caller: &Caller,
    id: uuid::Uuid,
    errors: Vec<FieldError>,
    reset_link: Option<String>,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let person = visible_person(&txn, caller, id).await?;
    let agency = agencies::get(&txn, person.agency_id).await?.name;
    let grants = grant_rows(&txn, person.id, caller.now.date_naive())
        .await?
        .into_iter()
        .map(|(row, view)| (row.id.to_string(), view))
        .collect();
    txn.commit().await?;
    // Recorded once read, durably, before the person is shown.
    state
        .db
        .journal()
        .record(
            caller
                .viewer()
                .event("person.view", "allowed")
                .on("person", person.id),
            caller.now,
        )
        .await?;
    render(&PersonPage {
        layout: Layout::new(person.name.clone(), "/admin/people").with_errors(errors),
        agency,
        person,
        grants,
        can_manage: can(caller.actor(), Action::ManagePeople, Record::None),
        roles: role_options(),
        reset_link,
    })
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> PageResult<Html<String>> {
    person_page(&state, &caller, id, Vec::new(), None).await
}

#[derive(Template)]
#[template(path = "pages/admin_person_new.html")]
struct NewPersonPage {
    layout: Layout,
    agencies: Vec<agencies::Agency>,
    roles: Vec<RoleOption>,
    form: NewPersonForm,
}

#[derive(Deserialize, Default, Clone)]
pub struct NewPersonForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    agency_id: String,
    #[serde(default)]
    role: String,
}

async fn new_person_page(
    state: &AppState,
    form: NewPersonForm,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let agencies = agencies::list(state.db.conn()).await?;
    render(&NewPersonPage {
        layout: Layout::new("Add a person", "/admin/people").with_errors(errors),
        agencies,
        roles: role_options(),
        form,
    })
}

pub async fn new_form(State(state): State<AppState>) -> PageResult<Html<String>> {
    new_person_page(&state, NewPersonForm::default(), Vec::new()).await
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(form): CsrfForm<NewPersonForm>,
) -> PageResult<Response> {
    let mut errors = Vec::new();
    let agency_id = uuid::Uuid::parse_str(&form.agency_id).ok();
    if agency_id.is_none() {
        errors.push(FieldError::new("agency_id", "Choose the person's agency"));
    }
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.push(FieldError::new("role", "Choose a role"));
    }
    if role == Some(Role::IndependentReviewer) {
        errors.push(FieldError::new("role", "Add an independent reviewer first with another role, or appoint them from their review"));
    }
    if !errors.is_empty() {
        // The core checks these when it creates the person; say everything wrong at once.
        let mut field_errors = Vec::new();
        learnloop_core::validate::required_text("name", &form.name, 200, &mut field_errors);
        people::parse_email("email", &form.email, &mut field_errors);
        field_errors.append(&mut errors);
        errors = field_errors;
    }
    let by = caller.signed_in.person.id;
    let mut response = change::on_page_creating(
        &state,
        &caller,
        Change::creating("person.create", "person"),
        async |txn| {
            let (Some(agency_id), Some(role), true) = (agency_id, role, errors.is_empty()) else {
                return Err(CoreError::Invalid(errors.clone()));
            };
            let new = NewPerson {
                name: form.name.clone(),
                email: form.email.clone(),
                agency_id,
                job_title: None,
            };
            let person = people::create(txn, new).await?;
            let grant = grants::NewGrant {
                person_id: person.id,
                role,
                agency_id: None,
                review_id: None,
                starts_on: None,
                ends_on: None,
                granted_by: Some(by),
            };
            let grant = grants::grant(txn, grant, caller.now).await?;
            // The first role is recorded as a grant too (and case access on its own), in
            // this transaction; the helper adds "person.create" after them.
            let added = caller
                .viewer()
                .event("grant.add", "succeeded")
                .on("person", person.id);
            audit::append(txn, added, caller.now).await?;
            if grant.sees_case_content() {
                audit::append(txn, case_access_event(&caller, &grant), caller.now).await?;
            }
            Ok(Created {
                id: person.id,
                value: (),
            })
        },
        |created| format!("/admin/people/{}", created.id),
        async |errors, _| new_person_page(&state, form.clone(), errors).await,
    )
    .await?;
    // This form has always been shown again with 200, and a test pins that (a form from
    // `Origin: null` re-shown with its errors); the other outcomes are the helper's.
    if response.status() == StatusCode::UNPROCESSABLE_ENTITY {
        *response.status_mut() = StatusCode::OK;
    }
    Ok(response)
}

/// The distinct entry for a grant that opens case content to someone: on the grantee, with
/// the role and scope as its reason, so "who was given case access, by whom" is one filter.
/// Appended in the grant's own transaction.
fn case_access_event(caller: &Caller, grant: &grants::Model) -> audit::Event {
    let scope = match (grant.agency_id, grant.review_id) {
        (_, Some(review_id)) => format!("review {review_id}"),
        (Some(agency_id), None) => format!("agency {agency_id}"),
        (None, None) => "partnership".to_string(),
    };
    caller
        .viewer()
        .event("grant.case_access_added", "succeeded")
        .on("person", grant.person_id)
        .because(Some(format!(
            "{} ({scope}), grant {}",
            grant.role, grant.id
        )))
}

#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    review_id: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
}

fn parse_date(field: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "Enter a date in the form 2027-03-31",
            ));
            None
        }
    }
}

pub async fn add_grant(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<GrantForm>,
) -> PageResult<Response> {
    let mut errors = Vec::new();
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.push(FieldError::new("role", "Choose a role"));
    }
    let review_id = if form.review_id.trim().is_empty() {
        None
    } else {
        match uuid::Uuid::parse_str(form.review_id.trim()) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new("review_id", "Enter the review's id"));
                None
            }
        }
    };
    let starts_on = parse_date("starts_on", &form.starts_on, &mut errors);
    let ends_on = parse_date("ends_on", &form.ends_on, &mut errors);
    let by = caller.signed_in.person.id;
    if id == by {
        // Nobody widens their own access, not even the administrator who manages everyone
        // else's: a second person must agree. Refused and recorded as denied, before any
        // write transaction (the journal needs the writer).
        crate::audited::append_now(
            &state,
            caller
                .viewer()
                .event("grant.add", "denied")
                .on("person", id)
                .because(Some(format!("self-grant of {}", form.role.trim()))),
        )
        .await?;
        let errors = vec![FieldError::new("role", grants::SELF_GRANT_REFUSED)];
        let page = person_page(&state, &caller, id, errors, None).await?;
        return Ok((StatusCode::FORBIDDEN, page).into_response());
    }
    change::on_page_creating(
        &state,
        &caller,
        Change::creating("grant.add", "role_grant"),
        async |txn| {
            let Some(role) = role.filter(|_| errors.is_empty()) else {
                return Err(CoreError::Invalid(errors.clone()));
            };
            let person = visible_person(txn, &caller, id).await?;
            let input = grants::NewGrant {
                person_id: person.id,
                role,
                agency_id: None,
                review_id,
                starts_on,
                ends_on,
                granted_by: Some(by),
            };
            let grant = grants::grant(txn, input, caller.now).await?;
            if grant.sees_case_content() {
                audit::append(txn, case_access_event(&caller, &grant), caller.now).await?;
            }
            Ok(Created {
                id: grant.id,
                value: (),
            })
        },
        |_| format!("/admin/people/{id}"),
        async |errors, _| person_page(&state, &caller, id, errors, None).await,
    )
    .await
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn revoke_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, grant_id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    // Two ids in the path: `RecordId` takes one, so each is parsed here (malformed: 404).
    let id = parse_id(&id)?;
    let grant_id = parse_id(&grant_id)?;
    change::on_page(
        &state,
        &caller,
        Change::new("grant.revoke", "role_grant", grant_id).called("role"),
        async |txn| {
            let person = visible_person(txn, &caller, id).await?;
            let grant = grants::get(txn, grant_id).await?;
            if grant.person_id != person.id {
                return Err(CoreError::NotFound);
            }
            grants::revoke(txn, grant_id, caller.now).await?;
            // Ending a role ends the person's sessions at once; they sign in again with what
            // is left.
            sessions::end_all_for(txn, person.id).await?;
            Ok(())
        },
        |_| format!("/admin/people/{id}"),
        async |errors, _| person_page(&state, &caller, id, errors, None).await,
    )
    .await
}

async fn set_active(
    state: &AppState,
    caller: &Caller,
    id: uuid::Uuid,
    active: bool,
) -> PageResult<Response> {
    // Checked before the change: nobody locks themselves out. (Anyone may see themselves, so
    // this answers as the person check would have let it through.)
    if id == caller.signed_in.person.id && !active {
        return Err(PageError(AppError::new(
            StatusCode::CONFLICT,
            "conflict",
            "You cannot disable your own account",
        )));
    }
    let action = if active {
        "person.enable"
    } else {
        "person.disable"
    };
    change::on_page(
        state,
        caller,
        Change::new(action, "person", id),
        async |txn| {
            let person = visible_person(txn, caller, id).await?;
            people::set_active(txn, person.id, active).await?;
            if !active {
                sessions::end_all_for(txn, person.id).await?;
            }
            Ok(())
        },
        |_| format!("/admin/people/{id}"),
        async |errors, _| person_page(state, caller, id, errors, None).await,
    )
    .await
}

pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    set_active(&state, &caller, id, false).await
}

pub async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    set_active(&state, &caller, id, true).await
}

pub async fn reset_link(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    let by = caller.signed_in.person.id;
    // The link is shown once, on this answer, so the change's redirect is not followed: `done`
    // keeps the secret and the person's page is rendered with it.
    let mut issued = None;
    let outcome = change::on_page(
        &state,
        &caller,
        Change::new("password_reset.issue", "person", id),
        async |txn| {
            let person = visible_person(txn, &caller, id).await?;
            resets::issue(txn, person.id, Some(by), caller.now).await
        },
        |secret| {
            issued = Some(secret);
            format!("/admin/people/{id}")
        },
        async |errors, _| person_page(&state, &caller, id, errors, None).await,
    )
    .await?;
    let Some(secret) = issued else {
        return Ok(outcome);
    };
    let link = format!(
        "{}/password-reset/{secret}",
        state.settings.public_url.trim_end_matches('/')
    );
    Ok(person_page(&state, &caller, id, Vec::new(), Some(link))
        .await?
        .into_response())
}
