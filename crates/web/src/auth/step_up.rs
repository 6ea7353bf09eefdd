//! SECURITY-SENSITIVE. Step-up at the edge: a handler that takes [`RecentStepUp`] runs only
//! for a session that gave its authenticator code again in the last few minutes
//! (`learnloop_core::step_up::REMEMBERED_FOR`). Others are sent to `/step-up?next=<this
//! address>`, which sends them back here once the code is right.
//!
//! API tokens never step up (there is no second factor on a token): a route that needs a
//! step-up refuses them with 403. No API route needs one today; exports are pages.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use learnloop_core::access::Actor;
use learnloop_core::step_up::{self, Outcome, Purpose};

use super::Visitor;
use crate::error::{ApiError, AppError, PageError};
use crate::state::AppState;

/// Proof that the session stepped up recently; take it as a handler argument.
pub struct RecentStepUp;

impl FromRequestParts<AppState> for RecentStepUp {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Visitor>() {
            Some(Visitor::SignedIn { session, .. }) => {
                match step_up::is_recent(state.db.conn(), &session.id_hash, state.clock.now())
                    .await
                {
                    Ok(true) => Ok(RecentStepUp),
                    Ok(false) => Err(Redirect::to(&step_up_address(&parts.uri)).into_response()),
                    Err(error) => Err(PageError(error.into()).into_response()),
                }
            }
            Some(Visitor::Token { .. }) => Err(ApiError(AppError::new(
                StatusCode::FORBIDDEN,
                "step_up_required",
                "This needs the authenticator code again, which an API token cannot give: use the pages",
            ))
            .into_response()),
            _ => Err(Redirect::to("/sign-in").into_response()),
        }
    }
}

/// For a form handler, after its CSRF check: `None` when the session stepped up recently,
/// otherwise the redirect to the step-up page, which then sends the person to `next`.
pub async fn unless_recent(
    state: &AppState,
    session: Option<&learnloop_core::identity::sessions::Model>,
    next: &str,
) -> Result<Option<Response>, AppError> {
    let recent = match session {
        Some(session) => {
            step_up::is_recent(state.db.conn(), &session.id_hash, state.clock.now()).await?
        }
        None => false,
    };
    if recent {
        return Ok(None);
    }
    let address = match next.parse::<Uri>() {
        Ok(uri) => step_up_address(&uri),
        Err(_) => "/step-up".to_string(),
    };
    Ok(Some(Redirect::to(&address).into_response()))
}

/// `/step-up?next=<the path and query of this request>`.
pub fn step_up_address(uri: &Uri) -> String {
    let here = uri
        .path_and_query()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    match serde_urlencoded::to_string([("next", here.as_str())]) {
        Ok(query) => format!("/step-up?{query}"),
        Err(_) => "/step-up".to_string(),
    }
}

/// `next` as a path on this site, or `/account` when it is anything else: an absolute or
/// scheme-relative address (`//evil.example`, `/\evil.example`), or one with spaces or control
/// characters, would make the step-up page an open redirect.
pub fn local_next(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 2000
        && next.chars().all(|c| c.is_ascii_graphic());
    if local {
        next.to_string()
    } else {
        "/account".to_string()
    }
}

/// Checks a code asked again (counted, audited, and remembered on the session when right).
/// Its transactions are committed whatever the outcome: the failure count and the audit entry
/// stay even when the guarded action is refused or rolled back.
pub async fn check_code(
    state: &AppState,
    actor: &Actor,
    session_id_hash: Option<&str>,
    code: &str,
    purpose: Purpose,
    source: Option<String>,
) -> Result<Outcome, AppError> {
    Ok(step_up::verify(
        &state.db,
        state.settings.sign_in_limits,
        actor,
        session_id_hash,
        code,
        purpose,
        source,
        state.clock.now(),
    )
    .await?)
}

/// The code asked again at a publication: right (true) or wrong (false), checked through
/// `check_code`; a person whose attempts are locked is answered 429 at once.
pub async fn publication_code_ok(
    state: &AppState,
    signed_in: &crate::auth::SignedIn,
    code: &str,
    source: Option<String>,
) -> Result<bool, PageError> {
    match check_code(
        state,
        &signed_in.actor,
        None,
        code,
        Purpose::Publication,
        source,
    )
    .await?
    {
        Outcome::Accepted => Ok(true),
        Outcome::Locked => Err(PageError(locked())),
        _ => Ok(false),
    }
}

/// The answer while the person's second-factor attempts are locked.
pub fn locked() -> AppError {
    AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "throttled",
        "There have been too many wrong codes. Wait 5 minutes and try again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        assert_eq!(
            local_next("/reviews/export.csv?x=1"),
            "/reviews/export.csv?x=1"
        );
        for outside in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "evil.example",
            "/a b",
            "/a\r\nLocation: x",
            "",
        ] {
            assert_eq!(local_next(outside), "/account", "{outside:?}");
        }
    }

    #[test]
    fn the_step_up_address_carries_this_request() {
        let uri: Uri = "/actions/export.csv?rag=red&agency=x"
            .parse()
            .unwrap_or_default();
        assert_eq!(
            step_up_address(&uri),
            "/step-up?next=%2Factions%2Fexport.csv%3Frag%3Dred%26agency%3Dx"
        );
    }
}
