//! Settings: built-in defaults, then a TOML file (`--config` or `LEARNLOOP_CONFIG`), then
//! `LEARNLOOP_*` environment variables, then command-line flags. Unknown keys in the file are
//! refused, so a typo never goes unnoticed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub const DEFAULT_DATABASE: &str = "sqlite://data/learnloop.db";
pub const DEMO_DATABASE: &str = "sqlite://data/demo.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`. Unset means the embedded SQLite file
    /// (`data/learnloop.db`, or `data/demo.db` for the demo).
    pub database: Option<String>,
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `learnloop_web=debug,info`.
    pub log_level: String,
    /// Where the compiled CSS and scripts are served from.
    pub assets_dir: PathBuf,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Where uploaded files are kept.
    pub files_dir: PathBuf,
    /// Served over TLS, directly or behind a proxy that terminates it: cookies get `Secure`
    /// and the `__Host-` prefix, and responses carry HSTS.
    pub secure_cookies: bool,
    /// The address people reach the service at (for links the CLI prints).
    pub public_url: String,
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: i64,
    /// A session ends this many hours after sign-in, however active.
    pub session_absolute_hours: i64,
    /// How emails leave: "log" (development: kept in the outbox page, ids in the log) or
    /// "smtp" (through `smtp_host`:`smtp_port`).
    pub mailer: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// The sender of reminders and digests.
    pub mail_from: String,
    /// Seconds between rounds of reminders and sending; 0 turns the background worker off.
    pub reminder_interval_seconds: u64,
    /// Browser tests only: a file holding a number of days to move the clock on by.
    pub clock_offset_file: Option<PathBuf>,
    /// Proxies (addresses or CIDR networks) whose `X-Forwarded-For` names the client. Empty:
    /// the TCP peer is the client and the header is ignored.
    pub trusted_proxies: Vec<String>,
    /// The secret (32+ characters) for keyed hashes of sign-in email keys and recovery codes;
    /// the same on every instance. Unset: a key generated once and kept in the database.
    /// Changing it makes issued recovery codes stop working.
    pub secret_key: Option<String>,
    /// A request unanswered after this many seconds gets 503 and its work is dropped.
    pub request_timeout_seconds: u64,
    /// Requests handled at once by one instance; more wait up to 2 seconds, then get 503.
    pub max_concurrent_requests: usize,
    /// Password hashes (argon2, 19 MiB each) computed at once.
    pub password_hashing_slots: usize,
    /// Failed sign-ins and second factors from one client address, across every account, in
    /// 5 minutes before that address is refused (429) until the window passes.
    pub sign_in_failures_per_address: u64,
    /// Hours between scheduled backups written by `serve` into `backup_dir`; 0 turns them off.
    pub backup_interval_hours: u64,
    /// Where scheduled backups go, one folder each named by its UTC time.
    pub backup_dir: Option<PathBuf>,
    /// How many scheduled backups to keep; older ones are removed.
    pub backup_keep: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: None,
            log_format: LogFormat::Text,
            log_level: "info".to_string(),
            assets_dir: PathBuf::from("static"),
            max_body_bytes: 12 * 1024 * 1024,
            files_dir: PathBuf::from("data/files"),
            secure_cookies: false,
            public_url: "http://127.0.0.1:8080".to_string(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            mailer: "log".to_string(),
            smtp_host: "127.0.0.1".to_string(),
            smtp_port: 25,
            mail_from: "learnloop@localhost".to_string(),
            reminder_interval_seconds: 300,
            clock_offset_file: None,
            trusted_proxies: Vec::new(),
            secret_key: None,
            request_timeout_seconds: 30,
            max_concurrent_requests: 512,
            password_hashing_slots: 2,
            sign_in_failures_per_address: 30,
            backup_interval_hours: 0,
            backup_dir: None,
            backup_keep: 7,
        }
    }
}

const ENV_KEYS: [&str; 26] = [
    "backup_interval_hours",
    "backup_dir",
    "backup_keep",
    "trusted_proxies",
    "secret_key",
    "request_timeout_seconds",
    "max_concurrent_requests",
    "password_hashing_slots",
    "sign_in_failures_per_address",
    "mailer",
    "smtp_host",
    "smtp_port",
    "mail_from",
    "reminder_interval_seconds",
    "clock_offset_file",
    "files_dir",
    "bind",
    "database",
    "log_format",
    "log_level",
    "assets_dir",
    "max_body_bytes",
    "secure_cookies",
    "public_url",
    "session_idle_minutes",
    "session_absolute_hours",
];

/// Overrides given on the command line.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

impl Settings {
    /// Loads the settings; the error is one line naming the key or file at fault.
    pub fn load(config_file: Option<&Path>, overrides: &Overrides) -> Result<Settings, String> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = config_file {
            if !path.is_file() {
                return Err(format!("config file {} does not exist", path.display()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment
            .merge(Env::prefixed("LEARNLOOP_").only(&ENV_KEYS))
            .merge(Serialized::defaults(overrides));
        figment
            .extract::<Settings>()
            .map_err(|error| format!("invalid settings: {}", one_line(&error.to_string())))?
            .validate()
    }

    /// The database URL to use, with the given fallback when none is configured.
    pub fn database_or(&self, fallback: &str) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| fallback.to_string())
    }

    /// Checks values a type alone cannot.
    pub fn validate(self) -> Result<Settings, String> {
        if !(1..=1440).contains(&self.session_idle_minutes) {
            return Err(
                "invalid settings: session_idle_minutes must be between 1 and 1440".to_string(),
            );
        }
        if !(1..=168).contains(&self.session_absolute_hours) {
            return Err(
                "invalid settings: session_absolute_hours must be between 1 and 168".to_string(),
            );
        }
        if self.mailer != "log" && self.mailer != "smtp" {
            return Err("invalid settings: mailer must be \"log\" or \"smtp\"".to_string());
        }
        if self.mail_from.contains(['\r', '\n', '<', '>']) || !self.mail_from.contains('@') {
            return Err("invalid settings: mail_from must be an email address".to_string());
        }
        learnloop_web::auth::client_address::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|error| format!("invalid settings: trusted_proxies: {error}"))?;
        if self
            .secret_key
            .as_ref()
            .is_some_and(|key| key.chars().count() < 32)
        {
            return Err("invalid settings: secret_key must be at least 32 characters".to_string());
        }
        if !(1..=600).contains(&self.request_timeout_seconds) {
            return Err(
                "invalid settings: request_timeout_seconds must be between 1 and 600".to_string(),
            );
        }
        if self.max_concurrent_requests == 0 {
            return Err("invalid settings: max_concurrent_requests must be at least 1".to_string());
        }
        if !(1..=64).contains(&self.password_hashing_slots) {
            return Err(
                "invalid settings: password_hashing_slots must be between 1 and 64".to_string(),
            );
        }
        if self.sign_in_failures_per_address == 0 {
            return Err(
                "invalid settings: sign_in_failures_per_address must be at least 1".to_string(),
            );
        }
        if self.backup_interval_hours > 8760 {
            return Err(
                "invalid settings: backup_interval_hours must be between 0 and 8760".to_string(),
            );
        }
        if self.backup_interval_hours > 0 && self.backup_dir.is_none() {
            return Err(
                "invalid settings: backup_dir must be set when backup_interval_hours is not 0"
                    .to_string(),
            );
        }
        if !(1..=1000).contains(&self.backup_keep) {
            return Err("invalid settings: backup_keep must be between 1 and 1000".to_string());
        }
        Ok(self)
    }

    /// The effective settings as TOML, with any database password replaced by `***`.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database = Some(learnloop_core::db::redact_url(
            &self.database_or(DEFAULT_DATABASE),
        ));
        shown.secret_key = self.secret_key.as_ref().map(|_| "***".to_string());
        toml_lines(&shown)
    }
}

fn toml_lines(settings: &Settings) -> String {
    let trusted_proxies = settings
        .trusted_proxies
        .iter()
        .map(|entry| format!("\"{entry}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let secret_key = match &settings.secret_key {
        Some(shown) => format!("secret_key = \"{shown}\"\n"),
        None => "# secret_key unset: a key generated once is kept in the database\n".to_string(),
    };
    let security = format!(
        "trusted_proxies = [{trusted_proxies}]\n{secret_key}request_timeout_seconds = {}\nmax_concurrent_requests = {}\npassword_hashing_slots = {}\nsign_in_failures_per_address = {}\n",
        settings.request_timeout_seconds,
        settings.max_concurrent_requests,
        settings.password_hashing_slots,
        settings.sign_in_failures_per_address
    );
    let general = format!(
        "bind = \"{}\"\ndatabase = \"{}\"\nlog_format = \"{}\"\nlog_level = \"{}\"\nassets_dir = \"{}\"\nmax_body_bytes = {}\nfiles_dir = \"{}\"\nsecure_cookies = {}\npublic_url = \"{}\"\nsession_idle_minutes = {}\nsession_absolute_hours = {}\nmailer = \"{}\"\nsmtp_host = \"{}\"\nsmtp_port = {}\nmail_from = \"{}\"\nreminder_interval_seconds = {}\n",
        settings.bind,
        settings.database.clone().unwrap_or_default(),
        match settings.log_format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        },
        settings.log_level,
        settings.assets_dir.display(),
        settings.max_body_bytes,
        settings.files_dir.display(),
        settings.secure_cookies,
        settings.public_url,
        settings.session_idle_minutes,
        settings.session_absolute_hours,
        settings.mailer,
        settings.smtp_host,
        settings.smtp_port,
        settings.mail_from,
        settings.reminder_interval_seconds
    );
    let backup_dir = match &settings.backup_dir {
        Some(dir) => format!("backup_dir = \"{}\"\n", dir.display()),
        None => "# backup_dir unset: no scheduled backups\n".to_string(),
    };
    let backups = format!(
        "backup_interval_hours = {}\n{backup_dir}backup_keep = {}\n",
        settings.backup_interval_hours, settings.backup_keep
    );
    general + &security + &backups
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_and_the_secret_key_are_checked_and_the_key_never_printed() {
        let mut settings = Settings {
            trusted_proxies: vec!["10.0.0.0/8".to_string(), "192.0.2.1".to_string()],
            secret_key: Some("a long enough secret for the keyed hashes".to_string()),
            ..Settings::default()
        };
        let shown = settings
            .clone()
            .validate()
            .map(|valid| valid.redacted_toml());
        assert!(
            shown
                .as_ref()
                .is_ok_and(|text| text.contains("secret_key = \"***\""))
        );
        assert!(
            shown
                .as_ref()
                .is_ok_and(|text| !text.contains("long enough secret"))
        );
        assert!(
            shown.as_ref().is_ok_and(
                |text| text.contains("trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]")
            )
        );
        settings.trusted_proxies = vec!["proxy.internal".to_string()];
        assert!(settings.clone().validate().is_err());
        settings.trusted_proxies = Vec::new();
        settings.secret_key = Some("short".to_string());
        assert!(settings.clone().validate().is_err());
        settings.secret_key = None;
        settings.request_timeout_seconds = 0;
        assert!(settings.validate().is_err());
    }

    #[test]
    fn scheduled_backups_need_a_folder_and_are_listed() {
        let settings = Settings {
            backup_interval_hours: 24,
            ..Settings::default()
        };
        assert!(settings.clone().validate().is_err());
        let settings = Settings {
            backup_dir: Some(PathBuf::from("/var/backups/learnloop")),
            ..settings
        };
        let shown = settings
            .clone()
            .validate()
            .map(|valid| valid.redacted_toml());
        assert!(shown.is_ok_and(|text| text.contains(
            "backup_interval_hours = 24\nbackup_dir = \"/var/backups/learnloop\"\nbackup_keep = 7\n"
        )));
        assert!(
            Settings {
                backup_keep: 0,
                ..settings
            }
            .validate()
            .is_err()
        );
    }
}
