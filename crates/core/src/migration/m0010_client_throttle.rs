//! The sign-in throttle also counts failures by client address: an index for that count.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_login_attempts_source_at")
                    .table(Alias::new("login_attempts"))
                    .col(Alias::new("source"))
                    .col(Alias::new("at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_login_attempts_source_at")
                    .table(Alias::new("login_attempts"))
                    .to_owned(),
            )
            .await
    }
}
