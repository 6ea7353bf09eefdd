//! Layers every response passes through: the request id, client address and context, load
//! limits (concurrency and time), metrics, security headers, and a panic turned into an error
//! page that leaks nothing.

use std::any::Any;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::client_address::ClientAddress;
use crate::context::{self, RequestContext};
use crate::error::{ApiError, AppError, PageError};
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives the request a fresh id (never the client's), makes it and the team name available to
/// the handlers and error renderers, decides the client's address once (the TCP peer, or what
/// a trusted proxy forwarded), logs the request by id and route, and returns the id in the
/// `x-request-id` header.
pub async fn request_context(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = request.method().clone();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let client = peer.map(|peer| {
        state
            .settings
            .trusted_proxies
            .client_address(peer, request.headers())
    });
    if let Some(client) = client {
        request.extensions_mut().insert(ClientAddress(client));
    }
    let started = Instant::now();
    let context = RequestContext {
        request_id: request_id.clone(),
        team_name: state.team_name(),
        viewer: None,
    };
    let mut response = context::scope(context, next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    tracing::info!(
        request_id = %request_id,
        client = %client.map(|client| client.to_string()).unwrap_or_default(),
        method = %metric_method(&method),
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// Requests beyond `max_concurrent_requests` wait this long for a slot, then get 503.
const SLOT_WAIT: Duration = Duration::from_secs(2);

/// Bounds the load one instance takes: at most `max_concurrent_requests` at once (others
/// wait briefly, then get 503), and each answered within `request_timeout` (else 503 and its
/// work is dropped, which rolls back any open transaction). `/healthz` is exempt, so a busy
/// instance is not mistaken for a dead one.
pub async fn limit_load(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    let is_api = request.uri().path().starts_with("/api/");
    let busy = |message: &str| {
        let error = AppError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message);
        let mut response = if is_api {
            ApiError(error).into_response()
        } else {
            PageError(error).into_response()
        };
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        response
    };
    let slots = state.request_slots.clone();
    let Ok(Ok(_slot)) = tokio::time::timeout(SLOT_WAIT, slots.acquire_owned()).await else {
        tracing::warn!("all request slots busy: answering 503");
        return busy("The service is busy. Try again in a few seconds.");
    };
    match tokio::time::timeout(state.settings.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(request_id = %context::current().request_id, "request timed out");
            busy("This took too long to answer. Try again in a few seconds.")
        }
    }
}

/// The method as a metrics label: the standard ones by name, anything else `OTHER`, so
/// invented methods cannot grow the series (and memory) without bound.
pub fn metric_method(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// Records the count and latency of matched routes under their route pattern (never the
/// concrete path, which would hold ids) and a bounded method label.
pub async fn record_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = metric_method(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    state.metrics.record(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Security headers on every response; `no-store` on everything but the static assets; HSTS
/// when served over TLS.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_static = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // As docs/SECURITY.md says: addresses hold ids, and none of them need leave the site.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if !is_static {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.settings.secure_cookies {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Turns a panic into a 500 with the request id and nothing of the panic's text.
pub fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    tracing::error!(request_id = %context::current().request_id, "handler panicked");
    PageError(AppError::internal()).into_response()
}

/// Answers unknown addresses: JSON under `/api/`, the "Page not found" page elsewhere.
pub async fn not_found(request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        ApiError(AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "There is no API endpoint at this address",
        ))
        .into_response()
    } else {
        PageError(AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "Page not found",
        ))
        .into_response()
    }
}
