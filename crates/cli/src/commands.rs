//! What each subcommand does. Errors are returned as one line for `main` to print.

use std::path::Path;

use learnloop_core::access::{Role, grants};
use learnloop_core::db::redact_url;
use learnloop_core::identity::resets;
use learnloop_core::identity::sessions::{self, Lifetimes};
use learnloop_core::{Db, agencies, audit, demo, people, tokens};
use learnloop_web::{AppState, WebSettings};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::settings::{DEFAULT_DATABASE, DEMO_DATABASE, LogFormat, Settings};

fn init_logging(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Creates the folder of a SQLite file so the first run works on a fresh machine.
fn prepare_sqlite_folder(url: &str) -> Result<(), String> {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(());
    };
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(':') {
        return Ok(());
    }
    if let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("cannot create the folder {}: {error}", parent.display()))?;
    }
    Ok(())
}

pub(crate) async fn open(url: &str) -> Result<Db, String> {
    learnloop_core::db::Backend::from_url(url)
        .map_err(|message| format!("cannot open database {}: {message}", redact_url(url)))?;
    prepare_sqlite_folder(url)?;
    let db = Db::connect(url)
        .await
        .map_err(|error| format!("cannot open database {}: {error}", redact_url(url)))?;
    db.migrate()
        .await
        .map_err(|error| format!("cannot migrate database {}: {error}", redact_url(url)))?;
    Ok(db)
}

/// Registers for SIGTERM and Ctrl-C now (so a signal that arrives as soon as the address is
/// printed is not lost) and returns a future that resolves when one arrives.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static, String> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|error| format!("cannot listen for SIGTERM: {error}"))?;
    Ok(async move {
        #[cfg(unix)]
        let terminated = terminate.recv();
        #[cfg(not(unix))]
        let terminated = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = terminated => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}

fn web_settings(settings: &Settings) -> Result<WebSettings, String> {
    let trusted_proxies =
        learnloop_web::auth::client_address::TrustedProxies::parse(&settings.trusted_proxies)
            .map_err(|error| format!("invalid settings: trusted_proxies: {error}"))?;
    Ok(WebSettings {
        assets_dir: settings.assets_dir.clone(),
        max_body_bytes: settings.max_body_bytes,
        secure_cookies: settings.secure_cookies,
        session_lifetimes: Lifetimes {
            idle: chrono::TimeDelta::minutes(settings.session_idle_minutes),
            absolute: chrono::TimeDelta::hours(settings.session_absolute_hours),
        },
        public_url: settings.public_url.clone(),
        files_dir: settings.files_dir.clone(),
        trusted_proxies,
        secret_key: settings.secret_key.clone(),
        request_timeout: std::time::Duration::from_secs(settings.request_timeout_seconds),
        max_concurrent_requests: settings.max_concurrent_requests,
        password_hashing_slots: settings.password_hashing_slots,
        sign_in_limits: learnloop_core::identity::sign_in::Limits {
            per_client: settings.sign_in_failures_per_address,
            ..Default::default()
        },
    })
}

pub async fn serve(settings: Settings, with_demo: bool) -> Result<(), String> {
    init_logging(&settings);
    let url = settings.database_or(if with_demo {
        DEMO_DATABASE
    } else {
        DEFAULT_DATABASE
    });
    let db = open(&url).await?;
    if with_demo {
        let txn = db
            .write()
            .await
            .map_err(|error| format!("cannot seed the demo: {error}"))?;
        let summary = demo::seed(&txn, chrono::Utc::now())
            .await
            .map_err(|error| format!("cannot seed the demo: {error}"))?;
        txn.commit()
            .await
            .map_err(|error| format!("cannot seed the demo: {error}"))?;
        println!(
            "Demo partnership ready: {} partnerships, {} agencies, {} groups, {} people.",
            summary.partnerships, summary.agencies, summary.groups, summary.people
        );
        println!(
            "Demo people (all fictional), each with the password \"{}\":",
            demo::DEMO_PASSWORD
        );
        for (email, name, _, job_title) in demo::PEOPLE {
            println!("  {email:<40} {name}, {job_title}");
        }
        println!(
            "Their second factor: add the key {} to an authenticator app (TOTP, SHA-1, 6 digits, 30 s).",
            demo::DEMO_TOTP_SECRET
        );
    }
    let listener = TcpListener::bind(settings.bind)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", settings.bind))?;
    let clock: std::sync::Arc<dyn learnloop_core::clock::Clock> = match &settings.clock_offset_file
    {
        Some(file) => {
            tracing::warn!(file = %file.display(), "the clock follows an offset file: for browser tests only");
            std::sync::Arc::new(learnloop_core::clock::FileOffsetClock { file: file.clone() })
        }
        None => std::sync::Arc::new(learnloop_core::clock::SystemClock),
    };
    let state = AppState::with_clock(db.clone(), web_settings(&settings)?, clock.clone()).await;
    match learnloop_web::pages::remove_partial_files(&settings.files_dir) {
        Ok(0) => {}
        Ok(removed) => tracing::info!(
            removed,
            "removed uploads a stopped process left half-written"
        ),
        Err(error) => {
            return Err(format!(
                "cannot read the files folder {}: {error}",
                settings.files_dir.display()
            ));
        }
    }
    crate::backup::schedule(&settings, &url, clock.clone());
    if settings.reminder_interval_seconds > 0 {
        let worker = learnloop_core::reminders::Worker {
            db: db.clone(),
            clock,
            mailer: match settings.mailer.as_str() {
                "smtp" => learnloop_core::mail::Mailer::Smtp(learnloop_core::mail::smtp::Relay {
                    host: settings.smtp_host.clone(),
                    port: settings.smtp_port,
                }),
                _ => learnloop_core::mail::Mailer::Log,
            },
            from: settings.mail_from.clone(),
            public_url: settings.public_url.clone(),
            name: format!("{}-{}", settings.bind, std::process::id()),
        };
        // Each round also runs the daily retention purge, once a day across instances; never
        // on a moved clock (clock_offset_file is for testing), which would purge by a date
        // that has not come.
        let retention = match &settings.clock_offset_file {
            None => Some(settings.files_dir.clone()),
            Some(_) => {
                tracing::info!("clock_offset_file is set: the daily retention purge is off");
                None
            }
        };
        tokio::spawn(worker.run_with_retention(
            std::time::Duration::from_secs(settings.reminder_interval_seconds),
            retention,
        ));
    }
    // The same choice the router makes: a development assets_dir wins over the built-in copy.
    match learnloop_web::assets::AssetSource::choose(&settings.assets_dir) {
        learnloop_web::assets::AssetSource::Disk(dir) => {
            tracing::info!(assets_dir = %dir.display(), "serving /static from assets_dir");
        }
        learnloop_web::assets::AssetSource::Embedded
            if learnloop_web::assets::embedded_has_stylesheet() =>
        {
            tracing::info!("serving /static from the copy built into the binary");
        }
        learnloop_web::assets::AssetSource::Embedded => {
            tracing::warn!(assets_dir = %settings.assets_dir.display(), "no compiled CSS found in assets_dir or built into the binary: run scripts/build-assets, then rebuild");
        }
    }
    let shutdown = shutdown_signal()?;
    let address = listener
        .local_addr()
        .map_err(|error| format!("cannot read the listening address: {error}"))?;
    println!("learnloop is listening on http://{address}");
    tracing::info!(address = %address, database = %redact_url(&url), "listening");
    learnloop_web::serve(listener, state, shutdown)
        .await
        .map_err(|error| format!("the server stopped: {error}"))?;
    db.close()
        .await
        .map_err(|error| format!("cannot close the database: {error}"))?;
    Ok(())
}

/// Seeds the demo, then generates `scale` times the base data, showing progress.
pub async fn generate(settings: Settings, scale: usize) -> Result<(), String> {
    use std::io::Write;
    if !(1..=1_000).contains(&scale) {
        return Err("--scale must be between 1 and 1000".to_string());
    }
    let url = settings.database_or(DEMO_DATABASE);
    let db = open(&url).await?;
    let started = std::time::Instant::now();
    let now = chrono::Utc::now();
    let txn = db.write().await.map_err(|error| error.to_string())?;
    demo::seed(&txn, now)
        .await
        .map_err(|error| format!("cannot seed the demo: {error}"))?;
    let mut progress = |step: &str, done: usize, total: usize| {
        let percent = done * 100 / total.max(1);
        let bar = "#".repeat(percent / 4);
        eprint!("\r{step:<15} [{bar:<25}] {percent:>3}% ({done}/{total})   ");
        if done == total {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    };
    let generated = learnloop_core::generate::generate(&txn, scale, now, &mut progress)
        .await
        .map_err(|error| format!("cannot generate: {error}"))?;
    txn.commit().await.map_err(|error| error.to_string())?;
    println!(
        "Generated at scale {scale} in {:.1} s: {} cases, {} reviews, {} actions with {} updates, {} learning items, {} audit entries.",
        started.elapsed().as_secs_f64(),
        generated.cases,
        generated.reviews,
        generated.actions,
        generated.updates,
        generated.learning_items,
        generated.audit_entries
    );
    Ok(())
}

pub async fn migrate(settings: Settings) -> Result<(), String> {
    init_logging(&settings);
    let url = settings.database_or(DEFAULT_DATABASE);
    open(&url).await?;
    println!("Migrations applied to {}", redact_url(&url));
    Ok(())
}

pub async fn token_create(
    settings: Settings,
    email: &str,
    label: &str,
    days: i64,
) -> Result<(), String> {
    let url = settings.database_or(DEFAULT_DATABASE);
    let db = open(&url).await?;
    if !(1..=366).contains(&days) {
        return Err("--days must be between 1 and 366".to_string());
    }
    let txn = db.write().await.map_err(|error| error.to_string())?;
    let person = people::find_by_email(&txn, email)
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| "no person has this email address".to_string())?;
    let now = chrono::Utc::now();
    let (token, secret) = tokens::create(
        &txn,
        person.id,
        label,
        now + chrono::Duration::days(days),
        now,
    )
    .await
    .map_err(|error| error.to_string())?;
    txn.commit().await.map_err(|error| error.to_string())?;
    println!(
        "Token {} created; it expires on {}.",
        token.id,
        token.expires_at.format("%Y-%m-%d")
    );
    println!("{secret}");
    println!("Keep it safe: it is not stored and cannot be shown again.");
    Ok(())
}

pub async fn token_revoke(settings: Settings, id: &str) -> Result<(), String> {
    let url = settings.database_or(DEFAULT_DATABASE);
    let db = open(&url).await?;
    let id = uuid::Uuid::parse_str(id).map_err(|_| "--id is not a token id".to_string())?;
    let txn = db.write().await.map_err(|error| error.to_string())?;
    tokens::revoke(&txn, id, chrono::Utc::now())
        .await
        .map_err(|error| match error {
            learnloop_core::CoreError::NotFound => "no token has this id".to_string(),
            other => other.to_string(),
        })?;
    txn.commit().await.map_err(|error| error.to_string())?;
    println!("Token {id} revoked.");
    Ok(())
}

pub(crate) fn reset_link(settings: &Settings, secret: &str) -> String {
    format!(
        "{}/password-reset/{secret}",
        settings.public_url.trim_end_matches('/')
    )
}

async fn find_person(
    txn: &impl sea_orm::ConnectionTrait,
    email: &str,
) -> Result<people::Person, String> {
    people::find_by_email(txn, email)
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("no person has the email address {email}"))
}

fn cli_event(action: &str) -> audit::Event {
    audit::Event::new(action, "succeeded").from_source(Some("cli".to_string()))
}

pub async fn user_add(
    settings: Settings,
    email: &str,
    name: &str,
    agency: &str,
    role: &str,
) -> Result<(), String> {
    let db = open(&settings.database_or(DEFAULT_DATABASE)).await?;
    let role = Role::parse(role).ok_or_else(|| format!("--role: {role} is not a role"))?;
    if role == Role::IndependentReviewer {
        return Err("--role: appoint independent reviewers from the people page, with their review and end date".to_string());
    }
    let now = chrono::Utc::now();
    let txn = db.write().await.map_err(|error| error.to_string())?;
    let agency = agencies::find_by_code(&txn, agency)
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("--agency: no agency has the code {agency}"))?;
    let person = people::create(
        &txn,
        people::NewPerson {
            name: name.to_string(),
            email: email.to_string(),
            agency_id: agency.id,
            job_title: None,
        },
    )
    .await
    .map_err(|error| match error {
        learnloop_core::CoreError::Invalid(fields) => fields
            .iter()
            .map(|field| format!("--{}: {}", field.field.replace('_', "-"), field.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    })?;
    grants::grant(
        &txn,
        grants::NewGrant {
            person_id: person.id,
            role,
            agency_id: None,
            review_id: None,
            starts_on: None,
            ends_on: None,
            granted_by: None,
        },
        now,
    )
    .await
    .map_err(|error| error.to_string())?;
    let secret = resets::issue(&txn, person.id, None, now)
        .await
        .map_err(|error| error.to_string())?;
    audit::append(
        &txn,
        cli_event("person.create").on("person", person.id),
        now,
    )
    .await
    .map_err(|error| error.to_string())?;
    audit::append(&txn, cli_event("grant.add").on("person", person.id), now)
        .await
        .map_err(|error| error.to_string())?;
    txn.commit().await.map_err(|error| error.to_string())?;
    println!(
        "Added {} ({}) as {}.",
        person.email,
        agency.name,
        role.label()
    );
    println!("Give them this link to set their password (it works once, for 24 hours):");
    println!("{}", reset_link(&settings, &secret));
    Ok(())
}

pub async fn user_list(settings: Settings) -> Result<(), String> {
    let db = open(&settings.database_or(DEFAULT_DATABASE)).await?;
    let today = chrono::Utc::now().date_naive();
    for person in people::list(db.conn())
        .await
        .map_err(|error| error.to_string())?
    {
        let roles: Vec<&str> = match grants::actor_for(db.conn(), person.id, today)
            .await
            .map_err(|error| error.to_string())?
        {
            Some(actor) => actor.roles().into_iter().map(Role::as_str).collect(),
            None => vec!["(disabled)"],
        };
        println!(
            "{:<40} {:<30} {}",
            person.email,
            person.name,
            roles.join(", ")
        );
    }
    Ok(())
}

pub async fn user_disable(settings: Settings, email: &str) -> Result<(), String> {
    let db = open(&settings.database_or(DEFAULT_DATABASE)).await?;
    let now = chrono::Utc::now();
    let txn = db.write().await.map_err(|error| error.to_string())?;
    let person = find_person(&txn, email).await?;
    people::set_active(&txn, person.id, false)
        .await
        .map_err(|error| error.to_string())?;
    let ended = sessions::end_all_for(&txn, person.id)
        .await
        .map_err(|error| error.to_string())?;
    audit::append(
        &txn,
        cli_event("person.disable").on("person", person.id),
        now,
    )
    .await
    .map_err(|error| error.to_string())?;
    txn.commit().await.map_err(|error| error.to_string())?;
    println!("Disabled {email}; {ended} session(s) ended.");
    Ok(())
}

pub async fn user_reset(settings: Settings, email: &str) -> Result<(), String> {
    let db = open(&settings.database_or(DEFAULT_DATABASE)).await?;
    let now = chrono::Utc::now();
    let txn = db.write().await.map_err(|error| error.to_string())?;
    let person = find_person(&txn, email).await?;
    let secret = resets::issue(&txn, person.id, None, now)
        .await
        .map_err(|error| error.to_string())?;
    audit::append(
        &txn,
        cli_event("password_reset.issue").on("person", person.id),
        now,
    )
    .await
    .map_err(|error| error.to_string())?;
    txn.commit().await.map_err(|error| error.to_string())?;
    println!("{}", reset_link(&settings, &secret));
    Ok(())
}

pub async fn audit_verify(settings: Settings) -> Result<(), String> {
    let db = open(&settings.database_or(DEFAULT_DATABASE)).await?;
    let report = audit::verify(db.conn(), |checked| {
        if checked > 0 && checked % 10_000 == 0 {
            eprintln!("checked {checked} entries...");
        }
    })
    .await
    .map_err(|error| error.to_string())?;
    match report.first_problem {
        None => {
            println!(
                "The audit trail is intact: {} entries checked.",
                report.entries_checked
            );
            Ok(())
        }
        Some((seq, problem)) => Err(format!("the audit trail is broken: entry {seq} {problem}")),
    }
}

pub async fn calendar_import(settings: Settings, file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    let db = open(&settings.database_or(DEFAULT_DATABASE)).await?;
    let now = chrono::Utc::now();
    let txn = db.write().await.map_err(|error| error.to_string())?;
    let summary = learnloop_core::calendar::store::import_govuk(&txn, &text, now)
        .await
        .map_err(|error| match error {
            learnloop_core::CoreError::Invalid(fields) => format!(
                "{} was not imported: {}",
                file.display(),
                fields
                    .iter()
                    .map(|field| format!("{}: {}", field.field, field.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            other => other.to_string(),
        })?;
    audit::append(&txn, cli_event("calendar.import"), now)
        .await
        .map_err(|error| error.to_string())?;
    txn.commit().await.map_err(|error| error.to_string())?;
    println!(
        "Imported {} bank holidays for {} to {}.",
        summary.events, summary.first_year, summary.last_year
    );
    Ok(())
}
