use std::path::PathBuf;
use std::sync::Arc;

use learnloop_core::clock::{Clock, SystemClock};
use learnloop_core::identity::sessions::Lifetimes;
use learnloop_core::{Db, settings};

use crate::telemetry::Metrics;

/// Settings of the web layer that come from the configuration.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Where the compiled CSS and scripts are (`scripts/build-assets` writes them).
    pub assets_dir: PathBuf,
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// Served over TLS (directly or behind a proxy that terminates it): cookies get `Secure`
    /// and the `__Host-` prefix, and responses carry HSTS.
    pub secure_cookies: bool,
    pub session_lifetimes: Lifetimes,
    /// The address people reach the service at, for links printed by the CLI.
    pub public_url: String,
    /// Where uploaded files are kept (each under its id, never its uploaded name).
    pub files_dir: PathBuf,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            assets_dir: PathBuf::from("static"),
            max_body_bytes: 2 * 1024 * 1024,
            secure_cookies: false,
            session_lifetimes: Lifetimes::default(),
            public_url: "http://127.0.0.1:8080".to_string(),
            files_dir: PathBuf::from("data/files"),
        }
    }
}

/// Everything a handler needs, shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<WebSettings>,
    pub metrics: Arc<Metrics>,
    pub team_name: Arc<std::sync::RwLock<String>>,
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// Builds the state, reading the settings kept in the database once. A database that
    /// cannot be read yet (for example before migrations) gives the default name; `/readyz`
    /// reports the problem.
    pub async fn new(db: Db, settings: WebSettings) -> Self {
        Self::with_clock(db, settings, Arc::new(SystemClock)).await
    }

    /// Like [`AppState::new`] with a clock of the caller's (tests move time with it).
    pub async fn with_clock(db: Db, settings: WebSettings, clock: Arc<dyn Clock>) -> Self {
        let team_name = match settings::team_name(db.conn()).await {
            Ok(name) => name,
            Err(error) => {
                tracing::warn!(error = %error, "cannot read the team name; using the default");
                settings::DEFAULT_TEAM_NAME.to_string()
            }
        };
        Self {
            db,
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::default()),
            team_name: Arc::new(std::sync::RwLock::new(team_name)),
            clock,
        }
    }

    pub fn team_name(&self) -> String {
        match self.team_name.read() {
            Ok(name) => name.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}
