//! SECURITY-SENSITIVE. Route policies: every route in `routes.rs` is registered with one, and
//! this middleware enforces it before the handler runs. Record-level decisions (another
//! agency's record answers 404) are made by the handlers through `access::can`.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use learnloop_core::access::{Action, Record, can};
use learnloop_core::audit;

use super::Visitor;
use crate::error::{ApiError, AppError, PageError};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Anyone, signed in or not.
    Public,
    /// The step between password and second factor.
    SecondFactorStep,
    /// Any fully signed-in person.
    SignedIn,
    /// A fully signed-in person allowed this action.
    Allowed(Action),
}

impl Policy {
    pub fn describe(self) -> String {
        match self {
            Policy::Public => "public".to_string(),
            Policy::SecondFactorStep => "second-factor step".to_string(),
            Policy::SignedIn => "signed in".to_string(),
            Policy::Allowed(action) => format!("{action:?}"),
        }
    }
}

fn refuse(api: bool, error: AppError) -> Response {
    if api {
        ApiError(error).into_response()
    } else {
        PageError(error).into_response()
    }
}

pub async fn enforce(
    State((state, policy)): State<(AppState, Policy)>,
    request: Request,
    next: Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let visitor = request
        .extensions()
        .get::<Visitor>()
        .cloned()
        .unwrap_or(Visitor::Anonymous);
    match (policy, &visitor) {
        (Policy::Public, _) => next.run(request).await,
        (Policy::SecondFactorStep, Visitor::PartlySignedIn { .. }) => next.run(request).await,
        (Policy::SecondFactorStep, Visitor::SignedIn { .. }) => Redirect::to("/").into_response(),
        (_, Visitor::Anonymous) => {
            if api {
                refuse(true, AppError::unauthorised())
            } else {
                Redirect::to("/sign-in").into_response()
            }
        }
        (_, Visitor::PartlySignedIn { .. }) => {
            Redirect::to("/sign-in/second-factor").into_response()
        }
        (Policy::SecondFactorStep, Visitor::Token { .. }) => refuse(api, AppError::not_found()),
        (Policy::SignedIn, _) => next.run(request).await,
        (
            Policy::Allowed(action),
            Visitor::SignedIn { actor, .. } | Visitor::Token { actor, .. },
        ) => {
            if can(actor, action, Record::None) {
                next.run(request).await
            } else {
                let event = audit::Event::new("access.denied", "denied")
                    .by(actor)
                    .on(
                        "route",
                        format!("{} {}", request.method(), matched_path(&request)),
                    )
                    .from_source(super::source(request.extensions()));
                if let Err(error) = record(&state, event).await {
                    tracing::error!(error = %error, "cannot record a denied request");
                }
                refuse(
                    api,
                    AppError::new(
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        "You do not have access to this",
                    ),
                )
            }
        }
    }
}

fn matched_path(request: &Request) -> String {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_default()
}

/// Records a refusal through the audit journal (no write transaction is open here).
async fn record(state: &AppState, event: audit::Event) -> Result<(), learnloop_core::CoreError> {
    state.db.journal().record(event, state.clock.now()).await?;
    Ok(())
}
