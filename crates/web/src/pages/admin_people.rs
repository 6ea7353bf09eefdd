//! Administration of people: who has an account, their roles and scopes, disabling them, and
//! one-time password reset links. Viewing a person is recorded in the audit trail.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use learnloop_core::access::{Action, Record, Role, can, grants};
use learnloop_core::identity::{resets, sessions};
use learnloop_core::people::{self, NewPerson};
use learnloop_core::{CoreError, FieldError, agencies, audit};
use serde::Deserialize;

use super::account::{GrantRow, grant_rows};
use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::CsrfForm;
use crate::auth::{SignedIn, Source};
use crate::error::{AppError, PageError, PageResult};
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

pub async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
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
                &signed_in.actor,
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
    state
        .db
        .journal()
        .record(
            audit::Event::new("people.list", "allowed")
                .by(&signed_in.actor)
                .from_source(source),
            now,
        )
        .await?;
    txn.commit().await?;
    render(&PeoplePage {
        layout: Layout::new("People", "/admin/people"),
        rows,
        can_manage: can(&signed_in.actor, Action::ManagePeople, Record::None),
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

/// Loads the person if the viewer may see them; another agency's person answers 404.
async fn visible_person(
    db: &impl sea_orm::ConnectionTrait,
    signed_in: &SignedIn,
    id: uuid::Uuid,
) -> Result<people::Person, PageError> {
    let person = people::get(db, id).await?;
    let record = Record::Person {
        person_id: person.id,
        agency_id: person.agency_id,
    };
    if can(&signed_in.actor, Action::ViewPerson, record) {
        Ok(person)
    } else {
        Err(PageError(AppError::not_found()))
    }
}

async fn person_page(
    state: &AppState,
    signed_in: &SignedIn,
    id: uuid::Uuid,
    source: Option<String>,
    errors: Vec<FieldError>,
    reset_link: Option<String>,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let txn = state.db.read().await?;
    let person = visible_person(&txn, signed_in, id).await?;
    let agency = agencies::get(&txn, person.agency_id).await?.name;
    let grants = grant_rows(&txn, person.id, now.date_naive())
        .await?
        .into_iter()
        .map(|(row, view)| (row.id.to_string(), view))
        .collect();
    state
        .db
        .journal()
        .record(
            audit::Event::new("person.view", "allowed")
                .by(&signed_in.actor)
                .on("person", person.id)
                .from_source(source),
            now,
        )
        .await?;
    txn.commit().await?;
    render(&PersonPage {
        layout: Layout::new(person.name.clone(), "/admin/people").with_errors(errors),
        agency,
        person,
        grants,
        can_manage: can(&signed_in.actor, Action::ManagePeople, Record::None),
        roles: role_options(),
        reset_link,
    })
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    person_page(&state, &signed_in, id, source, Vec::new(), None).await
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
    signed_in: SignedIn,
    Source(source): Source,
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
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let created = match (agency_id, role, errors.is_empty()) {
        (Some(agency_id), Some(role), true) => {
            match people::create(
                &txn,
                NewPerson {
                    name: form.name.clone(),
                    email: form.email.clone(),
                    agency_id,
                    job_title: None,
                },
            )
            .await
            {
                Ok(person) => {
                    let grant = grants::grant(
                        &txn,
                        grants::NewGrant {
                            person_id: person.id,
                            role,
                            agency_id: None,
                            review_id: None,
                            starts_on: None,
                            ends_on: None,
                            granted_by: Some(signed_in.person.id),
                        },
                        now,
                    )
                    .await?;
                    Some((person, grant))
                }
                Err(CoreError::Invalid(more)) => {
                    errors.extend(more);
                    None
                }
                Err(other) => return Err(other.into()),
            }
        }
        _ => None,
    };
    let Some((person, grant)) = created else {
        txn.rollback().await?;
        return Ok(new_person_page(&state, form, errors).await?.into_response());
    };
    audit::append(
        &txn,
        audit::Event::new("person.create", "succeeded")
            .by(&signed_in.actor)
            .on("person", person.id)
            .from_source(source.clone()),
        now,
    )
    .await?;
    audit::append(
        &txn,
        audit::Event::new("grant.add", "succeeded")
            .by(&signed_in.actor)
            .on("person", person.id)
            .from_source(source.clone()),
        now,
    )
    .await?;
    if grant.sees_case_content() {
        audit::append(&txn, case_access_event(&signed_in, &grant, source), now).await?;
    }
    txn.commit().await?;
    Ok(Redirect::to(&format!("/admin/people/{}", person.id)).into_response())
}

/// The distinct entry for a grant that opens case content to someone: on the grantee, with
/// the role and scope as its reason, so "who was given case access, by whom" is one filter.
fn case_access_event(
    signed_in: &SignedIn,
    grant: &grants::Model,
    source: Option<String>,
) -> audit::Event {
    let scope = match (grant.agency_id, grant.review_id) {
        (_, Some(review_id)) => format!("review {review_id}"),
        (Some(agency_id), None) => format!("agency {agency_id}"),
        (None, None) => "partnership".to_string(),
    };
    audit::Event::new("grant.case_access_added", "succeeded")
        .by(&signed_in.actor)
        .on("person", grant.person_id)
        .from_source(source)
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
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<GrantForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
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
    let now = state.clock.now();
    if id == signed_in.person.id {
        // Nobody widens their own access, not even the administrator who manages everyone
        // else's: a second person must agree. Refused and recorded as denied.
        crate::audited::append_now(
            &state,
            audit::Event::new("grant.add", "denied")
                .by(&signed_in.actor)
                .on("person", id)
                .from_source(source.clone())
                .because(Some(format!("self-grant of {}", form.role.trim()))),
        )
        .await?;
        let errors = vec![FieldError::new("role", grants::SELF_GRANT_REFUSED)];
        let page = person_page(&state, &signed_in, id, source, errors, None).await?;
        return Ok((StatusCode::FORBIDDEN, page).into_response());
    }
    if let Some(role) = role.filter(|_| errors.is_empty()) {
        let txn = state.db.write().await?;
        let person = visible_person(&txn, &signed_in, id).await?;
        let input = grants::NewGrant {
            person_id: person.id,
            role,
            agency_id: None,
            review_id,
            starts_on,
            ends_on,
            granted_by: Some(signed_in.person.id),
        };
        match grants::grant(&txn, input, now).await {
            Ok(grant) => {
                audit::append(
                    &txn,
                    audit::Event::new("grant.add", "succeeded")
                        .by(&signed_in.actor)
                        .on("role_grant", grant.id)
                        .from_source(source.clone()),
                    now,
                )
                .await?;
                if grant.sees_case_content() {
                    audit::append(&txn, case_access_event(&signed_in, &grant, source), now).await?;
                }
                txn.commit().await?;
                return Ok(Redirect::to(&format!("/admin/people/{id}")).into_response());
            }
            Err(CoreError::Invalid(more)) => {
                txn.rollback().await?;
                errors.extend(more);
            }
            Err(other) => return Err(other.into()),
        }
    }
    let page = person_page(&state, &signed_in, id, source, errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn revoke_grant(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path((id, grant_id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let grant_id = parse_id(&grant_id)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let person = visible_person(&txn, &signed_in, id).await?;
    let grant = grants::get(&txn, grant_id).await?;
    if grant.person_id != person.id {
        return Err(PageError(AppError::not_found()));
    }
    grants::revoke(&txn, grant_id, now).await?;
    // Ending a role ends the person's sessions at once; they sign in again with what is left.
    sessions::end_all_for(&txn, person.id).await?;
    audit::append(
        &txn,
        audit::Event::new("grant.revoke", "succeeded")
            .by(&signed_in.actor)
            .on("role_grant", grant_id)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Redirect::to(&format!("/admin/people/{id}")).into_response())
}

async fn set_active(
    state: &AppState,
    signed_in: &SignedIn,
    source: Option<String>,
    id: &str,
    active: bool,
) -> PageResult<Response> {
    let id = parse_id(id)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let person = visible_person(&txn, signed_in, id).await?;
    if person.id == signed_in.person.id && !active {
        return Err(PageError(AppError::new(
            StatusCode::CONFLICT,
            "conflict",
            "You cannot disable your own account",
        )));
    }
    people::set_active(&txn, person.id, active).await?;
    if !active {
        sessions::end_all_for(&txn, person.id).await?;
    }
    let action = if active {
        "person.enable"
    } else {
        "person.disable"
    };
    audit::append(
        &txn,
        audit::Event::new(action, "succeeded")
            .by(&signed_in.actor)
            .on("person", person.id)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Redirect::to(&format!("/admin/people/{id}")).into_response())
}

pub async fn disable(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    set_active(&state, &signed_in, source, &id, false).await
}

pub async fn enable(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    set_active(&state, &signed_in, source, &id, true).await
}

pub async fn reset_link(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let person = visible_person(&txn, &signed_in, id).await?;
    let secret = resets::issue(&txn, person.id, Some(signed_in.person.id), now).await?;
    audit::append(
        &txn,
        audit::Event::new("password_reset.issue", "succeeded")
            .by(&signed_in.actor)
            .on("person", person.id)
            .from_source(source.clone()),
        now,
    )
    .await?;
    txn.commit().await?;
    let link = format!(
        "{}/password-reset/{secret}",
        state.settings.public_url.trim_end_matches('/')
    );
    person_page(&state, &signed_in, id, source, Vec::new(), Some(link)).await
}
