//! The `learnloop` binary: serve, demo, migrate, config, token.

mod commands;
mod settings;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use settings::{Overrides, Settings};

#[derive(Parser)]
#[command(
    name = "learnloop",
    version,
    about = "The learning and improvement system of a local safeguarding partnership"
)]
struct Cli {
    /// A TOML settings file.
    #[arg(long, global = true, env = "LEARNLOOP_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct ServerArgs {
    /// Address and port to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    bind: Option<std::net::SocketAddr>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long)]
    database: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve(ServerArgs),
    /// Seed the fictional Fernbridge demo partnership (idempotent) and run the service on it.
    Demo(ServerArgs),
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long)]
        database: Option<String>,
    },
    /// Print the effective settings, with secrets redacted.
    Config,
    /// Manage personal API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token for a person; it is printed once and never shown again.
    Create {
        /// The email address of the person the token acts for.
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "API token")]
        label: String,
        /// Days until the token expires.
        #[arg(long, default_value_t = 90)]
        days: i64,
        #[arg(long)]
        database: Option<String>,
    },
    /// Revoke a token by its id.
    Revoke {
        #[arg(long)]
        id: String,
        #[arg(long)]
        database: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = match &cli.command {
        Command::Serve(args) | Command::Demo(args) => Overrides {
            bind: args.bind,
            database: args.database.clone(),
        },
        Command::Migrate { database }
        | Command::Token(TokenCommand::Create { database, .. })
        | Command::Token(TokenCommand::Revoke { database, .. }) => Overrides {
            bind: None,
            database: database.clone(),
        },
        Command::Config => Overrides::default(),
    };
    let settings = match Settings::load(cli.config.as_deref(), &overrides) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("learnloop: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("learnloop: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Serve(_) => commands::serve(settings, false).await,
            Command::Demo(_) => commands::serve(settings, true).await,
            Command::Migrate { .. } => commands::migrate(settings).await,
            Command::Config => {
                print!("{}", settings.redacted_toml());
                Ok(())
            }
            Command::Token(TokenCommand::Create {
                email, label, days, ..
            }) => commands::token_create(settings, &email, &label, days).await,
            Command::Token(TokenCommand::Revoke { id, .. }) => {
                commands::token_revoke(settings, &id).await
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("learnloop: {message}");
            ExitCode::FAILURE
        }
    }
}
