//! One migration history that produces both the SQLite and the PostgreSQL schema.

use sea_orm_migration::prelude::*;

mod m0001_reference_data;
mod m0002_identity;
mod m0003_notifications;
mod m0004_case_attachments;
mod m0005_reviews;
mod m0006_actions;
mod m0007_learning;
mod m0008_indexes;
mod m0009_publication;
mod m0010_client_throttle;
mod m0011_step_up;
mod m0012_kept_figures;
mod m0013_tracker_indexes;
mod m0014_retention;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let all: Vec<Box<dyn MigrationTrait>> = vec![
            Box::new(m0001_reference_data::Migration),
            Box::new(m0002_identity::Migration),
            Box::new(m0003_notifications::Migration),
            Box::new(m0004_case_attachments::Migration),
            Box::new(m0005_reviews::Migration),
            Box::new(m0006_actions::Migration),
            Box::new(m0007_learning::Migration),
            Box::new(m0008_indexes::Migration),
            Box::new(m0009_publication::Migration),
            Box::new(m0010_client_throttle::Migration),
            Box::new(m0011_step_up::Migration),
            Box::new(m0012_kept_figures::Migration),
            Box::new(m0013_tracker_indexes::Migration),
            Box::new(m0014_retention::Migration),
        ];
        all.into_iter()
            .map(|migration| Box::new(Whole(migration)) as Box<dyn MigrationTrait>)
            .collect()
    }
}

/// A migration applied in one transaction with its record in `seaql_migrations`, on SQLite
/// too (the library's default there is none): an upgrade that fails part way changes nothing,
/// and the next start tries the same migration again.
struct Whole(Box<dyn MigrationTrait>);

impl MigrationName for Whole {
    fn name(&self) -> &str {
        self.0.name()
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Whole {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        self.0.up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        self.0.down(manager).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
