//! Retention holds: a case under a hold is never purged by the retention schedule, whatever its
//! age (an inquest, a complaint, a legal claim or a request from the national panel). Holds are
//! lifted, never deleted, so the record of why a case was kept stays with it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RetentionHolds {
    Table,
    Id,
    CaseId,
    Reason,
    PlacedBy,
    PlacedAt,
    LiftedBy,
    LiftedAt,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RetentionHolds::Table)
                    .col(uuid(RetentionHolds::Id).primary_key())
                    .col(uuid(RetentionHolds::CaseId))
                    .col(text(RetentionHolds::Reason))
                    // A person's id; empty when placed from the command line.
                    .col(uuid_null(RetentionHolds::PlacedBy))
                    .col(timestamp_with_time_zone(RetentionHolds::PlacedAt))
                    .col(uuid_null(RetentionHolds::LiftedBy))
                    .col(timestamp_with_time_zone_null(RetentionHolds::LiftedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RetentionHolds::Table, RetentionHolds::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_retention_holds_case")
                    .table(RetentionHolds::Table)
                    .col(RetentionHolds::CaseId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RetentionHolds::Table).to_owned())
            .await
    }
}
