//! CSRF protection: every state-changing form carries a token (the session's, or for the
//! sign-in form a double-submit cookie), and every unsafe request to a page must come from
//! this site (Origin, or failing that Sec-Fetch-Site / Referer).

use axum::extract::{FromRequest, Request};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::{Visitor, cookies};
use crate::error::{AppError, PageError};
use crate::state::AppState;

const REFUSED: &str = "This form has expired or did not come from this service. Go back, reload the page and try again.";

fn refused() -> AppError {
    AppError::new(StatusCode::FORBIDDEN, "csrf_refused", REFUSED)
}

/// Refuses cross-site unsafe requests to pages. The API authenticates with bearer tokens,
/// which a browser never sends on its own, so it is exempt.
pub async fn same_origin(request: Request, next: Next) -> Response {
    // Methods that change state; any other is answered by the router (405 when unknown).
    let unsafe_method = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if unsafe_method && !request.uri().path().starts_with("/api/") && !is_same_origin(&request) {
        return PageError(refused()).into_response();
    }
    next.run(request).await
}

fn is_same_origin(request: &Request) -> bool {
    let headers = request.headers();
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let host_of = |url: &str| -> Option<String> {
        let rest = url.split_once("://")?.1;
        Some(rest.split('/').next().unwrap_or_default().to_string())
    };
    // Browsers send `Origin: null` in some privacy modes even for same-site forms; treat it as
    // absent and rely on Sec-Fetch-Site, which a cross-site request always marks.
    if let Some(origin) = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .filter(|origin| *origin != "null")
    {
        return host_of(origin).as_deref() == Some(host);
    }
    if let Some(site) = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
    {
        return site == "same-origin";
    }
    if let Some(referer) = headers
        .get(header::REFERER)
        .and_then(|value| value.to_str().ok())
    {
        return host_of(referer).as_deref() == Some(host);
    }
    false
}

/// A form body whose `csrf_token` field matched; `T` gets the other fields.
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct TokenOnly {
    #[serde(default)]
    csrf_token: String,
}

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned,
{
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let expected = match request
            .extensions()
            .get::<Visitor>()
            .and_then(Visitor::session)
        {
            Some(session) => Some(session.csrf_token.clone()),
            None => cookies::read(
                request.headers(),
                &cookies::csrf_name(state.settings.secure_cookies),
            ),
        };
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|_| {
                PageError(AppError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "The form is too large",
                ))
            })?;
        let presented: TokenOnly = serde_urlencoded_from(&bytes)?;
        let matches = expected.is_some_and(|expected| {
            !presented.csrf_token.is_empty()
                && learnloop_core::identity::secrets::same(&expected, &presented.csrf_token)
        });
        if !matches {
            return Err(PageError(refused()));
        }
        Ok(CsrfForm(serde_urlencoded_from(&bytes)?))
    }
}

fn serde_urlencoded_from<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PageError> {
    serde_urlencoded::from_bytes::<T>(bytes).map_err(|_| {
        PageError(AppError::new(
            StatusCode::BAD_REQUEST,
            "bad_form",
            "The form could not be read",
        ))
    })
}

/// Gives an anonymous visitor a CSRF cookie for the sign-in form, returning its value.
pub fn anonymous_token(
    request_headers: &axum::http::HeaderMap,
    secure: bool,
) -> (String, Option<axum::http::HeaderValue>) {
    match cookies::read(request_headers, &cookies::csrf_name(secure)) {
        Some(existing) if existing.len() == 64 => (existing, None),
        _ => {
            let token = learnloop_core::identity::secrets::random_hex(32);
            let cookie = cookies::set(&cookies::csrf_name(secure), &token, secure);
            (token, Some(cookie))
        }
    }
}

/// One part of a multipart form.
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub bytes: axum::body::Bytes,
}

/// Reads a multipart form (a file upload) and checks its `csrf_token` part against the
/// session's; returns the other parts. A body that is not multipart cannot carry the token, so
/// it is refused the same way.
pub async fn checked_multipart(
    visitor: &Visitor,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Vec<Part>, PageError> {
    let Ok(mut multipart) = multipart else {
        return Err(PageError(refused()));
    };
    let mut parts = Vec::new();
    let mut token = String::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| {
        PageError(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The file is too large or the upload was cut off",
        ))
    })? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(|_| {
            PageError(AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The file is too large or the upload was cut off",
            ))
        })?;
        if name == "csrf_token" {
            token = String::from_utf8_lossy(&bytes).to_string();
        } else {
            parts.push(Part {
                name,
                file_name,
                bytes,
            });
        }
    }
    let expected = visitor
        .session()
        .map(|session| session.csrf_token.clone())
        .unwrap_or_default();
    if token.is_empty()
        || expected.is_empty()
        || !learnloop_core::identity::secrets::same(&expected, &token)
    {
        return Err(PageError(refused()));
    }
    Ok(parts)
}
