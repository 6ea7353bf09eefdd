//! `learnloop retention`: what the retention schedule would purge today (`--dry-run`), purging
//! it, and placing or lifting a retention hold on a case.

use clap::{Args, Subcommand};
use learnloop_core::retention::{self, By, Due, Kind, Schedule, holds};
use learnloop_core::{CoreError, audit};

use crate::commands::open;
use crate::settings::{DEFAULT_DATABASE, Settings};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RetentionArgs {
    /// List what would be purged (kind, how many, case references) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, global = true)]
    pub database: Option<String>,
    #[command(subcommand)]
    pub hold: Option<HoldCommand>,
}

#[derive(Subcommand)]
pub enum HoldCommand {
    /// Keep a case whatever its age, until the hold is lifted (an inquest, a claim, a
    /// request from the national panel).
    Hold {
        /// The case's reference, for example N-2019-12.
        #[arg(long = "case")]
        reference: String,
        /// Why the case must be kept.
        #[arg(long)]
        reason: String,
    },
    /// Lift the holds on a case: retention may purge it again when it is due.
    Lift {
        #[arg(long = "case")]
        reference: String,
    },
}

pub async fn run(settings: Settings, args: RetentionArgs) -> Result<(), String> {
    let db = open(&settings.database_or(DEFAULT_DATABASE)).await?;
    let now = chrono::Utc::now();
    match args.hold {
        Some(HoldCommand::Hold { reference, reason }) => {
            let txn = db.write().await.map_err(|error| error.to_string())?;
            let case_id = find_case(&txn, &reference).await?;
            holds::place(&txn, case_id, &reason, None, now)
                .await
                .map_err(|error| match error {
                    CoreError::Invalid(_) => "--reason: say why the case must be kept".to_string(),
                    other => other.to_string(),
                })?;
            audit::append(
                &txn,
                cli_event("retention.hold_placed")
                    .on("case", case_id)
                    .because(Some(reason.trim().to_string())),
                now,
            )
            .await
            .map_err(|error| error.to_string())?;
            txn.commit().await.map_err(|error| error.to_string())?;
            println!("Retention hold placed on {reference}: it is kept until the hold is lifted.");
            Ok(())
        }
        Some(HoldCommand::Lift { reference }) => {
            let txn = db.write().await.map_err(|error| error.to_string())?;
            let case_id = find_case(&txn, &reference).await?;
            let lifted = holds::lift(&txn, case_id, None, now)
                .await
                .map_err(|error| error.to_string())?;
            if lifted == 0 {
                return Err(format!("{reference} has no retention hold to lift"));
            }
            audit::append(
                &txn,
                cli_event("retention.hold_lifted").on("case", case_id),
                now,
            )
            .await
            .map_err(|error| error.to_string())?;
            txn.commit().await.map_err(|error| error.to_string())?;
            println!("Retention hold lifted on {reference}.");
            Ok(())
        }
        None => {
            let schedule = Schedule::load(db.conn())
                .await
                .map_err(|error| error.to_string())?
                .with_files_dir(&settings.files_dir);
            if args.dry_run {
                let txn = db.read().await.map_err(|error| error.to_string())?;
                let due = retention::plan(&txn, &schedule, now)
                    .await
                    .map_err(|error| error.to_string())?;
                txn.commit().await.map_err(|error| error.to_string())?;
                println!("Would purge today ({}):", now.date_naive());
                print_due(&schedule, &due);
                return Ok(());
            }
            let applied = retention::apply(&db, &schedule, now, By::CommandLine)
                .await
                .map_err(|error| error.to_string())?;
            println!("Purged ({}):", now.date_naive());
            print_due(&schedule, &applied.purged);
            println!(
                "{} file(s) removed; audit entry {}.",
                applied.files_removed, applied.audit_seq
            );
            if !applied.files_left.is_empty() {
                return Err(format!(
                    "{} file(s) of purged records could not be removed: {}",
                    applied.files_left.len(),
                    applied
                        .files_left
                        .iter()
                        .map(|path| path.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Ok(())
        }
    }
}

fn print_due(schedule: &Schedule, due: &[Due]) {
    for item in due {
        println!(
            "  {:<50} {:>6}   (kept {} {})",
            item.kind.label(),
            item.count,
            item.kind.describe(schedule.period(item.kind)),
            item.kind.counted_from()
        );
        if item.kind == Kind::Cases {
            for case in &item.cases {
                println!("    {} (reviews closed {})", case.reference, case.closed_on);
            }
        }
    }
}

async fn find_case(
    txn: &impl sea_orm::ConnectionTrait,
    reference: &str,
) -> Result<uuid::Uuid, String> {
    holds::case_by_reference(txn, reference)
        .await
        .map_err(|error| match error {
            CoreError::NotFound => format!("--case: no case has the reference {reference}"),
            other => other.to_string(),
        })
}

fn cli_event(action: &str) -> audit::Event {
    audit::Event::new(action, "succeeded").from_source(Some("cli".to_string()))
}
