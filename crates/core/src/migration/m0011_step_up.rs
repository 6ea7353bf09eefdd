//! Second factors per session and step-up: which sessions passed a second factor and when the
//! authenticator code was last asked again, and API tokens suspended until their owner passes
//! a second factor.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
}

#[derive(DeriveIden)]
enum SessionFactors {
    Table,
    SessionIdHash,
    SecondFactorAt,
    StepUpAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    SuspendedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SessionFactors::Table)
                    .col(string_len(SessionFactors::SessionIdHash, 64).primary_key())
                    .col(timestamp_with_time_zone_null(
                        SessionFactors::SecondFactorAt,
                    ))
                    .col(timestamp_with_time_zone_null(SessionFactors::StepUpAt))
                    // Ending a session (sign-out, a new id, a role change) forgets its factors.
                    .foreign_key(
                        ForeignKey::create()
                            .from(SessionFactors::Table, SessionFactors::SessionIdHash)
                            .to(Sessions::Table, Sessions::IdHash)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Sessions live when this runs: a person with a confirmed second factor always passed
        // it at sign-in, so their fully signed-in sessions keep working.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO session_factors (session_id_hash, second_factor_at) \
                 SELECT sessions.id_hash, sessions.created_at FROM sessions \
                 JOIN credentials ON credentials.person_id = sessions.person_id \
                 WHERE sessions.second_factor_done = TRUE \
                 AND credentials.totp_confirmed_at IS NOT NULL",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiTokens::Table)
                    .add_column(timestamp_with_time_zone_null(ApiTokens::SuspendedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m0011 cannot be reversed; restore from a backup".to_string(),
        ))
    }
}
