//! The `learnloop` binary: init, serve, demo, generate, migrate, config, token, user, audit,
//! calendar, backup, restore, retention.

mod backup;
mod commands;
mod init;
mod retention;
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
    /// Seed the demo, then generate N times a base of fictional data for measuring at scale
    /// (50 cases, 20 reviews, 1,000 actions, 500 learning items, a year of audit trail).
    Generate {
        /// How many times the base to generate.
        #[arg(long, default_value_t = 1)]
        scale: usize,
        #[arg(long)]
        database: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long)]
        database: Option<String>,
    },
    /// Set up a new installation: the team, its partnerships and agencies, the standard groups,
    /// and the first administrator and business manager (each given a one-time link). Runs once.
    Init(init::InitArgs),
    /// Print the effective settings, with secrets redacted.
    Config,
    /// Manage personal API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage people and their roles.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The working-day calendar.
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Take a consistent backup while the service runs: the database, the uploaded files and
    /// a manifest of their SHA-256 checksums and row counts, into a new folder.
    Backup {
        /// A new or empty folder.
        #[arg(long)]
        to: PathBuf,
        #[arg(long)]
        database: Option<String>,
    },
    /// Restore a backup folder into an empty database and an empty files folder, after
    /// checking every file against the manifest; then check the audit trail.
    Restore {
        #[arg(long)]
        from: PathBuf,
        #[arg(long)]
        database: Option<String>,
    },
    /// The retention schedule: purge what is due today (`--dry-run` lists it and changes
    /// nothing), or place and lift retention holds on cases.
    Retention(retention::RetentionArgs),
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Import GOV.UK's bank-holidays.json: each year in the file replaces that year's bank
    /// holidays. A file with any error changes nothing.
    Import {
        file: PathBuf,
        #[arg(long)]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person with a first role and print a one-time link to set their password.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The code of the person's agency (see `learnloop user list` or the agencies page).
        #[arg(long)]
        agency: String,
        /// One of: business_manager, review_group_member, agency_lead, executive, auditor,
        /// practitioner, system_administrator.
        #[arg(long)]
        role: String,
        #[arg(long)]
        database: Option<String>,
    },
    /// List people with their roles.
    List {
        #[arg(long)]
        database: Option<String>,
    },
    /// Disable a person and end their sessions.
    Disable {
        #[arg(long)]
        email: String,
        #[arg(long)]
        database: Option<String>,
    },
    /// Print a one-time link for the person to set a new password.
    Reset {
        #[arg(long)]
        email: String,
        #[arg(long)]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain and name the first entry that was tampered with.
    Verify {
        #[arg(long)]
        database: Option<String>,
    },
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
        | Command::Generate { database, .. }
        | Command::Token(TokenCommand::Create { database, .. })
        | Command::Token(TokenCommand::Revoke { database, .. })
        | Command::User(UserCommand::Add { database, .. })
        | Command::User(UserCommand::List { database })
        | Command::User(UserCommand::Disable { database, .. })
        | Command::User(UserCommand::Reset { database, .. })
        | Command::Audit(AuditCommand::Verify { database })
        | Command::Calendar(CalendarCommand::Import { database, .. })
        | Command::Backup { database, .. }
        | Command::Restore { database, .. } => Overrides {
            bind: None,
            database: database.clone(),
        },
        Command::Init(args) => Overrides {
            bind: None,
            database: args.database.clone(),
        },
        Command::Retention(args) => Overrides {
            bind: None,
            database: args.database.clone(),
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
            Command::Generate { scale, .. } => commands::generate(settings, scale).await,
            Command::Init(args) => init::run(settings, args).await,
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
            Command::User(UserCommand::Add {
                email,
                name,
                agency,
                role,
                ..
            }) => commands::user_add(settings, &email, &name, &agency, &role).await,
            Command::User(UserCommand::List { .. }) => commands::user_list(settings).await,
            Command::User(UserCommand::Disable { email, .. }) => {
                commands::user_disable(settings, &email).await
            }
            Command::User(UserCommand::Reset { email, .. }) => {
                commands::user_reset(settings, &email).await
            }
            Command::Audit(AuditCommand::Verify { .. }) => commands::audit_verify(settings).await,
            Command::Calendar(CalendarCommand::Import { file, .. }) => {
                commands::calendar_import(settings, &file).await
            }
            Command::Backup { to, .. } => backup::backup(settings, &to).await,
            Command::Restore { from, .. } => backup::restore(settings, &from).await,
            Command::Retention(args) => retention::run(settings, args).await,
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
