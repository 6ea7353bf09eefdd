//! Typed extractors every handler shares: who is calling (actor, the request's time, the source
//! address), a record's id from the path (malformed: 404), and API paging with one maximum.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use learnloop_core::viewer::{Recording, Viewer};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::SignedIn;
use crate::error::{AppError, PageError};
use crate::state::AppState;

/// The signed-in caller of a request: who, from where, and the request's time (read once from
/// the clock, so every rule in the request sees the same instant).
pub struct Caller {
    pub signed_in: SignedIn,
    pub source: Option<String>,
    pub now: DateTime<Utc>,
}

impl Caller {
    /// The viewer core opens records for.
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer {
            actor: &self.signed_in.actor,
            source: self.source.as_deref(),
            now: self.now,
        }
    }

    pub fn actor(&self) -> &learnloop_core::access::Actor {
        &self.signed_in.actor
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        Ok(Caller {
            signed_in,
            source: crate::auth::source(&parts.extensions),
            now: state.clock.now(),
        })
    }
}

/// The viewer of a request from its parts (for handlers that extract them apart).
pub fn viewer<'a>(
    signed_in: &'a SignedIn,
    source: &'a Option<String>,
    now: DateTime<Utc>,
) -> Viewer<'a> {
    Viewer {
        actor: &signed_in.actor,
        source: source.as_deref(),
        now,
    }
}

/// Where a check before an upload records a refusal: the journal; an allowance is recorded
/// later, with the change.
pub fn refusals_only(state: &AppState) -> Recording<'_> {
    Recording::RefusalsOnly(state.db.journal())
}

/// Where a read records its access decision: the state's audit journal.
pub fn journal(state: &AppState) -> Recording<'_> {
    Recording::Journal(state.db.journal())
}

/// A record's id from a path with one parameter. Anything but a UUID is "not found", as a
/// record that does not exist is: a page under the site, JSON under `/api/`.
pub struct RecordId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for RecordId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let is_api = parts.uri.path().starts_with("/api/");
        let not_found = || {
            if is_api {
                crate::error::ApiError(AppError::not_found()).into_response()
            } else {
                PageError(AppError::not_found()).into_response()
            }
        };
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found())?;
        Uuid::parse_str(&raw).map(RecordId).map_err(|_| not_found())
    }
}

/// The most rows one API page returns, and the default.
pub const API_PAGE_MAX: u64 = 200;
pub const API_PAGE_DEFAULT: u64 = 50;

/// `?page=&per_page=` on an API list: page from 1, per_page from 1 to `API_PAGE_MAX`; a value
/// outside answers 422 naming the field.
#[derive(Debug, Clone, Copy)]
pub struct ApiPaging {
    pub page: u64,
    pub per_page: u64,
}

impl ApiPaging {
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.per_page
    }
}

#[derive(Deserialize)]
struct RawPaging {
    page: Option<u64>,
    per_page: Option<u64>,
}

impl<S: Send + Sync> FromRequestParts<S> for ApiPaging {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let refuse = |field: &str, message: &str| {
            crate::error::ApiError(AppError::from(learnloop_core::CoreError::invalid(
                field, message,
            )))
            .into_response()
        };
        let Query(raw) = Query::<RawPaging>::from_request_parts(parts, state)
            .await
            .map_err(|_| refuse("per_page", "page and per_page must be whole numbers"))?;
        let page = raw.page.unwrap_or(1);
        if page < 1 {
            return Err(refuse("page", "must be 1 or more"));
        }
        let per_page = raw.per_page.unwrap_or(API_PAGE_DEFAULT);
        if !(1..=API_PAGE_MAX).contains(&per_page) {
            return Err(refuse("per_page", "must be from 1 to 200"));
        }
        Ok(ApiPaging { page, per_page })
    }
}

/// The version an API change is made against, from `If-Match` (the ETag the client read, as
/// `"v3"`). Missing answers 428; one that is not a version of ours can only be stale.
pub struct IfMatch(pub i32);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts
            .headers
            .get(axum::http::header::IF_MATCH)
            .and_then(|value| value.to_str().ok())
        else {
            return Err(crate::error::ApiError(AppError::new(
                axum::http::StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "Send the ETag you read as If-Match",
            ))
            .into_response());
        };
        Ok(IfMatch(
            value
                .trim()
                .trim_matches('"')
                .trim_start_matches('v')
                .parse::<i32>()
                .unwrap_or(-1),
        ))
    }
}

/// A record's id from a path segment, where a handler takes several: anything but a UUID is
/// "not found".
pub fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::not_found())
}
