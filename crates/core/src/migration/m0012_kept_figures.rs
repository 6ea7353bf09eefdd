//! The dashboard's kept figures: one row per viewer scope, with the version of the data they
//! were computed from and the day they are valid for; and the data version, which a trigger on
//! every table the figures count bumps in the changing transaction itself, whoever changes it
//! (a page, the API, the CLI, another instance).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables the dashboard's figures count: the clocks of open cases (and the calendar and
/// review types they run on), actions, and the learning loop.
pub const COUNTED_TABLES: [&str; 17] = [
    "cases",
    "case_agencies",
    "case_decisions",
    "deadline_reasons",
    "rapid_reviews",
    "rapid_review_steps",
    "reviews",
    "review_stages",
    "review_types",
    "calendar_days",
    "settings",
    "actions",
    "learning_items",
    "learning_item_agencies",
    "disseminations",
    "dissemination_agencies",
    "learning_evidence",
];

#[derive(DeriveIden)]
enum FiguresVersion {
    Table,
    Id,
    Version,
}

#[derive(DeriveIden)]
enum KeptFigures {
    Table,
    ScopeKey,
    Scope,
    Figures,
    Version,
    ComputedFor,
    ComputedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FiguresVersion::Table)
                    .col(integer(FiguresVersion::Id).primary_key())
                    .col(big_integer(FiguresVersion::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO figures_version (id, version) VALUES (1, 0)")
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(KeptFigures::Table)
                    .col(string_len(KeptFigures::ScopeKey, 2000).primary_key())
                    .col(text(KeptFigures::Scope))
                    .col(text(KeptFigures::Figures))
                    .col(big_integer(KeptFigures::Version))
                    .col(date(KeptFigures::ComputedFor))
                    .col(timestamp_with_time_zone(KeptFigures::ComputedAt))
                    .to_owned(),
            )
            .await?;
        let backend = manager.get_database_backend();
        let conn = manager.get_connection();
        if backend == sea_orm::DatabaseBackend::Postgres {
            conn.execute_unprepared(
                "CREATE FUNCTION bump_figures_version() RETURNS trigger AS $$ \
                 BEGIN UPDATE figures_version SET version = version + 1 WHERE id = 1; \
                 RETURN NULL; END; $$ LANGUAGE plpgsql",
            )
            .await?;
        }
        for table in COUNTED_TABLES {
            match backend {
                sea_orm::DatabaseBackend::Postgres => {
                    // Once per statement: a bulk insert bumps the version once.
                    conn.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_figures AFTER INSERT OR UPDATE OR DELETE ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION bump_figures_version()"
                    ))
                    .await?;
                }
                _ => {
                    for event in ["INSERT", "UPDATE", "DELETE"] {
                        conn.execute_unprepared(&format!(
                            "CREATE TRIGGER {table}_figures_{} AFTER {event} ON {table} \
                             BEGIN UPDATE figures_version SET version = version + 1 WHERE id = 1; END",
                            event.to_lowercase()
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let conn = manager.get_connection();
        for table in COUNTED_TABLES {
            if backend == sea_orm::DatabaseBackend::Postgres {
                conn.execute_unprepared(&format!(
                    "DROP TRIGGER IF EXISTS {table}_figures ON {table}"
                ))
                .await?;
            } else {
                for event in ["insert", "update", "delete"] {
                    conn.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS {table}_figures_{event}"
                    ))
                    .await?;
                }
            }
        }
        if backend == sea_orm::DatabaseBackend::Postgres {
            conn.execute_unprepared("DROP FUNCTION IF EXISTS bump_figures_version()")
                .await?;
        }
        manager
            .drop_table(Table::drop().table(KeptFigures::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(FiguresVersion::Table).to_owned())
            .await
    }
}
