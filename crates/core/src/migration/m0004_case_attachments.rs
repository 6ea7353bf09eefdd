//! Files attached to a case.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseAttachments {
    Table,
    Id,
    CaseId,
    FileName,
    ContentType,
    SizeBytes,
    Sha256,
    UploadedBy,
    UploadedAt,
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
                    .table(CaseAttachments::Table)
                    .col(uuid(CaseAttachments::Id).primary_key())
                    .col(uuid(CaseAttachments::CaseId))
                    .col(string_len(CaseAttachments::FileName, 200))
                    .col(string_len(CaseAttachments::ContentType, 100))
                    .col(big_integer(CaseAttachments::SizeBytes))
                    .col(string_len(CaseAttachments::Sha256, 64))
                    .col(uuid(CaseAttachments::UploadedBy))
                    .col(timestamp_with_time_zone(CaseAttachments::UploadedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseAttachments::Table, CaseAttachments::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_case_attachments_case")
                    .table(CaseAttachments::Table)
                    .col(CaseAttachments::CaseId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m0004 cannot be reversed; restore from a backup".to_string(),
        ))
    }
}
