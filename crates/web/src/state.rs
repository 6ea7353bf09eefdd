use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use learnloop_core::clock::{Clock, SystemClock};
use learnloop_core::error::CoreResult;
use learnloop_core::identity::passwords::HashingPool;
use learnloop_core::identity::secrets::ServerKey;
use learnloop_core::identity::sessions::Lifetimes;
use learnloop_core::identity::sign_in;
use learnloop_core::{Db, settings};
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use crate::auth::client_address::TrustedProxies;
use crate::telemetry::Metrics;

/// How long a sign-in waits for a password-hashing slot before it is told the service is busy.
const HASHING_WAIT: Duration = Duration::from_secs(5);
/// How long an anonymous sign-in step waits for a sign-in slot before it is told the same.
const SIGN_IN_WAIT: Duration = Duration::from_secs(10);

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
    /// Proxies whose `X-Forwarded-For` names the client (empty: the TCP peer is the client).
    pub trusted_proxies: TrustedProxies,
    /// The secret for keyed hashes (email lookup keys, recovery codes). `None`: a key
    /// generated once and kept in the database.
    pub secret_key: Option<String>,
    /// A request still unanswered after this long gets 503 and its work is dropped.
    pub request_timeout: Duration,
    /// Requests handled at once; more wait briefly, then get 503.
    pub max_concurrent_requests: usize,
    /// Password hashes (argon2, 19 MiB each) computed at once, on the blocking threads.
    pub password_hashing_slots: usize,
    /// Sign-in and second-factor failures allowed in 5 minutes, per account and per client.
    pub sign_in_limits: sign_in::Limits,
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
            trusted_proxies: TrustedProxies::default(),
            secret_key: None,
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 512,
            password_hashing_slots: 2,
            sign_in_limits: sign_in::Limits::default(),
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
    /// Where argon2 runs: off the async runtime, a few at a time.
    pub hashing: HashingPool,
    /// One permit per request in progress (`max_concurrent_requests`).
    pub request_slots: Arc<Semaphore>,
    /// One permit per sign-in step in progress (password, second factor, reset link): however
    /// many anonymous attempts arrive, they hold only a few database connections, and the
    /// signed-in keep the rest.
    sign_in_slots: Arc<Semaphore>,
    /// The tracker's totals per filter, for the data version they were counted at.
    pub tracker_totals: learnloop_core::actions::tracker::KeptTotals,
    server_key: Arc<OnceCell<ServerKey>>,
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
        let server_key = OnceCell::new();
        if let Some(secret) = &settings.secret_key {
            let _ = server_key.set(ServerKey::from_secret(secret));
        }
        Self {
            db,
            hashing: HashingPool::new(settings.password_hashing_slots, HASHING_WAIT),
            request_slots: Arc::new(Semaphore::new(settings.max_concurrent_requests.max(1))),
            sign_in_slots: Arc::new(Semaphore::new((2 * settings.password_hashing_slots).max(4))),
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::default()),
            team_name: Arc::new(std::sync::RwLock::new(team_name)),
            clock,
            tracker_totals: Default::default(),
            server_key: Arc::new(server_key),
        }
    }

    pub fn team_name(&self) -> String {
        match self.team_name.read() {
            Ok(name) => name.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The key for keyed hashes: the configured one, or the one kept in the database (read,
    /// or created, on first use, so a server started before migrations still gets it).
    pub async fn server_key(&self) -> CoreResult<ServerKey> {
        self.server_key
            .get_or_try_init(|| ServerKey::stored(self.db.conn()))
            .await
            .cloned()
    }

    /// Waits for a sign-in slot; `None` when none came free in time (answer "busy").
    pub async fn sign_in_slot(&self) -> Option<OwnedSemaphorePermit> {
        tokio::time::timeout(SIGN_IN_WAIT, self.sign_in_slots.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }
}
