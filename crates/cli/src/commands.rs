//! What each subcommand does. Errors are returned as one line for `main` to print.

use std::path::Path;

use learnloop_core::db::redact_url;
use learnloop_core::{Db, demo, people, tokens};
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

async fn open(url: &str) -> Result<Db, String> {
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
        let summary = demo::seed(&txn)
            .await
            .map_err(|error| format!("cannot seed the demo: {error}"))?;
        txn.commit()
            .await
            .map_err(|error| format!("cannot seed the demo: {error}"))?;
        println!(
            "Demo partnership ready: {} partnerships, {} agencies, {} groups, {} people.",
            summary.partnerships, summary.agencies, summary.groups, summary.people
        );
        println!("Demo people (all fictional):");
        for (email, name, _, job_title) in demo::PEOPLE {
            println!("  {email:<40} {name}, {job_title}");
        }
    }
    let listener = TcpListener::bind(settings.bind)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", settings.bind))?;
    let state = AppState::new(
        db.clone(),
        WebSettings {
            assets_dir: settings.assets_dir.clone(),
            max_body_bytes: settings.max_body_bytes,
        },
    )
    .await;
    if !settings.assets_dir.join("app.css").is_file() {
        tracing::warn!(assets_dir = %settings.assets_dir.display(), "no compiled CSS found: run scripts/build-assets");
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
