//! SECURITY-SENSITIVE. Authentication at the edge: the session cookie (pages) or a bearer
//! token (API) becomes a [`Visitor`]; `policy` then lets the request through or not, and
//! `csrf` guards every state-changing form. Authorisation of records stays in the core
//! (`learnloop_core::access::can`).

pub mod client_address;
pub mod cookies;
pub mod csrf;
pub mod policy;
pub mod step_up;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use learnloop_core::access::{Actor, grants};
use learnloop_core::identity::sessions;
use learnloop_core::{people, step_up as core_step_up, tokens};

use crate::error::AppError;
use crate::state::AppState;

/// Who is making the request, as far as authentication goes.
#[derive(Debug, Clone)]
pub enum Visitor {
    Anonymous,
    /// Password accepted, second factor still to come.
    PartlySignedIn {
        session: sessions::Model,
        person: people::Person,
    },
    /// Fully signed in through the pages.
    SignedIn {
        session: sessions::Model,
        person: people::Person,
        actor: Actor,
    },
    /// Acting through a personal API token.
    Token {
        person: people::Person,
        actor: Actor,
    },
}

impl Visitor {
    pub fn actor(&self) -> Option<&Actor> {
        match self {
            Visitor::SignedIn { actor, .. } | Visitor::Token { actor, .. } => Some(actor),
            _ => None,
        }
    }

    pub fn session(&self) -> Option<&sessions::Model> {
        match self {
            Visitor::PartlySignedIn { session, .. } | Visitor::SignedIn { session, .. } => {
                Some(session)
            }
            _ => None,
        }
    }

    pub fn person(&self) -> Option<&people::Person> {
        match self {
            Visitor::PartlySignedIn { person, .. }
            | Visitor::SignedIn { person, .. }
            | Visitor::Token { person, .. } => Some(person),
            Visitor::Anonymous => None,
        }
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .unwrap_or(Visitor::Anonymous))
    }
}

/// The signed-in actor; routes whose policy requires sign-in can rely on it.
pub struct SignedIn {
    pub actor: Actor,
    pub person: people::Person,
    pub session: Option<sessions::Model>,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Visitor>() {
            Some(Visitor::SignedIn {
                session,
                person,
                actor,
            }) => Ok(SignedIn {
                actor: actor.clone(),
                person: person.clone(),
                session: Some(session.clone()),
            }),
            Some(Visitor::Token { person, actor }) => Ok(SignedIn {
                actor: actor.clone(),
                person: person.clone(),
                session: None,
            }),
            _ => Err(if parts.uri.path().starts_with("/api/") {
                crate::error::ApiError(AppError::unauthorised()).into_response()
            } else {
                axum::response::Redirect::to("/sign-in").into_response()
            }),
        }
    }
}

/// The client's address, for the audit trail: the TCP peer, or behind a trusted proxy the
/// address it forwarded (see [`client_address`]).
pub fn source(parts_or_request: &axum::http::Extensions) -> Option<String> {
    client_address::from_extensions(parts_or_request)
}

/// The source address of the current request, as an extractor.
pub struct Source(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(source(&parts.extensions)))
    }
}

/// Resolves the visitor from the session cookie or the bearer token. A session whose person
/// is disabled or holds no role in force any more is ended on the spot; one whose person now
/// holds a role needing a second factor, not passed in this session, is only partly signed in
/// (sent to enrol or enter the code). A token acts only for someone with a second factor.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let headers = request.headers().clone();
    let visitor = match resolve(&state, is_api, &headers).await {
        Ok(visitor) => visitor,
        Err(error) => {
            tracing::error!(error = %error, "authentication lookup failed");
            Visitor::Anonymous
        }
    };
    let mut context = crate::context::current();
    context.viewer = match &visitor {
        Visitor::SignedIn {
            session,
            person,
            actor,
        } => Some(crate::context::Viewer {
            name: person.name.clone(),
            csrf_token: session.csrf_token.clone(),
            actor: Some(actor.clone()),
        }),
        Visitor::PartlySignedIn { session, person } => Some(crate::context::Viewer {
            name: person.name.clone(),
            csrf_token: session.csrf_token.clone(),
            actor: None,
        }),
        _ => None,
    };
    request.extensions_mut().insert(visitor);
    crate::context::scope(context, next.run(request)).await
}

async fn resolve(
    state: &AppState,
    is_api: bool,
    headers: &axum::http::HeaderMap,
) -> Result<Visitor, learnloop_core::CoreError> {
    let now = state.clock.now();
    let today = now.date_naive();
    let db = state.db.conn();
    if is_api {
        let presented = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(presented) = presented else {
            return Ok(Visitor::Anonymous);
        };
        let Some(person) = tokens::authenticate(db, presented, now).await? else {
            return Ok(Visitor::Anonymous);
        };
        return Ok(match grants::actor_for(db, person.id, today).await? {
            Some(actor) if !actor.grants.is_empty() => Visitor::Token { person, actor },
            _ => Visitor::Anonymous,
        });
    }
    let Some(cookie) = cookies::read(
        headers,
        &cookies::session_name(state.settings.secure_cookies),
    ) else {
        return Ok(Visitor::Anonymous);
    };
    let Some(session) = sessions::find(db, &cookie, now, state.settings.session_lifetimes).await?
    else {
        return Ok(Visitor::Anonymous);
    };
    let person = people::get(db, session.person_id).await?;
    let actor = grants::actor_for(db, person.id, today).await?;
    let actor = match actor {
        Some(actor) if !actor.grants.is_empty() => actor,
        _ => {
            // Disabled, or every role has ended: the session ends now.
            sessions::end_all_for(db, person.id).await?;
            return Ok(Visitor::Anonymous);
        }
    };
    sessions::touch(db, &session, now).await?;
    // Checked on every request, not only at sign-in: a role needing a second factor may have
    // been granted, or come into force, after this session signed in with the password alone.
    let fully_signed_in = session.second_factor_done
        && (!actor.needs_second_factor()
            || core_step_up::session_passed_second_factor(db, &session.id_hash).await?);
    if fully_signed_in {
        Ok(Visitor::SignedIn {
            session,
            person,
            actor,
        })
    } else {
        Ok(Visitor::PartlySignedIn { session, person })
    }
}
