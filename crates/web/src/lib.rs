//! learnloop's web layer: HTML pages and the JSON API over `learnloop-core`.
//!
//! `routes.rs` is the site map: every route is listed there. Handlers are thin: they extract
//! the input, call the core, and render a page (`pages/`) or JSON (`api/`).

pub mod api;
pub mod assets;
pub mod audited;
pub mod auth;
pub mod context;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod ops;
pub mod pages;
pub mod queries;
pub mod routes;
pub mod state;
pub mod telemetry;

use std::future::Future;

use tokio::net::TcpListener;

pub use state::{AppState, WebSettings};

/// Serves the app on the listener until `shutdown` resolves, then finishes the requests in
/// flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = routes::app(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
