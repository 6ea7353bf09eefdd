//! Identity, access and audit: credentials, role grants, sessions, sign-in attempts, second
//! factors, password resets, and the hash-chained audit log with its head.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    PersonId,
    PasswordHash,
    PasswordSetAt,
    TotpSecret,
    TotpConfirmedAt,
}

#[derive(DeriveIden)]
enum RoleGrants {
    Table,
    Id,
    PersonId,
    Role,
    Scope,
    AgencyId,
    ReviewId,
    StartsOn,
    EndsOn,
    GrantedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    PersonId,
    CsrfToken,
    SecondFactorDone,
    CreatedAt,
    LastSeenAt,
    Source,
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Id,
    EmailKey,
    Succeeded,
    At,
    Source,
}

#[derive(DeriveIden)]
enum TotpUsedSteps {
    Table,
    PersonId,
    Step,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    PersonId,
    CodeHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    TokenHash,
    PersonId,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    At,
    ActorPersonId,
    ActorAgencyId,
    ActorRole,
    Action,
    RecordType,
    RecordId,
    Source,
    Reason,
    Outcome,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}

fn person_fk(
    table: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(People::Table, People::Id)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Credentials::Table)
                    .col(uuid(Credentials::PersonId).primary_key())
                    .col(text_null(Credentials::PasswordHash))
                    .col(timestamp_with_time_zone_null(Credentials::PasswordSetAt))
                    .col(string_len_null(Credentials::TotpSecret, 64))
                    .col(timestamp_with_time_zone_null(Credentials::TotpConfirmedAt))
                    .foreign_key(&mut person_fk(Credentials::Table, Credentials::PersonId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoleGrants::Table)
                    .col(uuid(RoleGrants::Id).primary_key())
                    .col(uuid(RoleGrants::PersonId))
                    .col(string_len(RoleGrants::Role, 32))
                    .col(string_len(RoleGrants::Scope, 16))
                    .col(uuid_null(RoleGrants::AgencyId))
                    .col(uuid_null(RoleGrants::ReviewId))
                    .col(date_null(RoleGrants::StartsOn))
                    .col(date_null(RoleGrants::EndsOn))
                    .col(uuid_null(RoleGrants::GrantedBy))
                    .col(timestamp_with_time_zone(RoleGrants::CreatedAt))
                    .col(timestamp_with_time_zone_null(RoleGrants::RevokedAt))
                    .foreign_key(&mut person_fk(RoleGrants::Table, RoleGrants::PersonId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_role_grants_person")
                    .table(RoleGrants::Table)
                    .col(RoleGrants::PersonId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string_len(Sessions::IdHash, 64).primary_key())
                    .col(uuid(Sessions::PersonId))
                    .col(string_len(Sessions::CsrfToken, 64))
                    .col(boolean(Sessions::SecondFactorDone))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(string_len_null(Sessions::Source, 64))
                    .foreign_key(&mut person_fk(Sessions::Table, Sessions::PersonId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_person")
                    .table(Sessions::Table)
                    .col(Sessions::PersonId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginAttempts::Table)
                    .col(uuid(LoginAttempts::Id).primary_key())
                    .col(string_len(LoginAttempts::EmailKey, 64))
                    .col(boolean(LoginAttempts::Succeeded))
                    .col(timestamp_with_time_zone(LoginAttempts::At))
                    .col(string_len_null(LoginAttempts::Source, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_login_attempts_key_at")
                    .table(LoginAttempts::Table)
                    .col(LoginAttempts::EmailKey)
                    .col(LoginAttempts::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TotpUsedSteps::Table)
                    .col(uuid(TotpUsedSteps::PersonId))
                    .col(big_integer(TotpUsedSteps::Step))
                    .primary_key(
                        Index::create()
                            .col(TotpUsedSteps::PersonId)
                            .col(TotpUsedSteps::Step),
                    )
                    .foreign_key(&mut person_fk(
                        TotpUsedSteps::Table,
                        TotpUsedSteps::PersonId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(uuid(RecoveryCodes::Id).primary_key())
                    .col(uuid(RecoveryCodes::PersonId))
                    .col(string_len(RecoveryCodes::CodeHash, 64))
                    .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                    .foreign_key(&mut person_fk(
                        RecoveryCodes::Table,
                        RecoveryCodes::PersonId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasswordResets::Table)
                    .col(string_len(PasswordResets::TokenHash, 64).primary_key())
                    .col(uuid(PasswordResets::PersonId))
                    .col(uuid_null(PasswordResets::CreatedBy))
                    .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                    .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PasswordResets::UsedAt))
                    .foreign_key(&mut person_fk(
                        PasswordResets::Table,
                        PasswordResets::PersonId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_integer(AuditLog::Seq).primary_key())
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(uuid_null(AuditLog::ActorPersonId))
                    .col(uuid_null(AuditLog::ActorAgencyId))
                    .col(string_len_null(AuditLog::ActorRole, 32))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len_null(AuditLog::RecordType, 32))
                    .col(string_len_null(AuditLog::RecordId, 64))
                    .col(string_len_null(AuditLog::Source, 64))
                    .col(text_null(AuditLog::Reason))
                    .col(string_len(AuditLog::Outcome, 16))
                    .col(string_len(AuditLog::PrevHash, 64))
                    .col(string_len(AuditLog::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_actor")
                    .table(AuditLog::Table)
                    .col(AuditLog::ActorPersonId)
                    .col(AuditLog::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditHead::Table)
                    .col(integer(AuditHead::Id).primary_key())
                    .col(big_integer(AuditHead::Seq))
                    .col(string_len(AuditHead::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(AuditHead::Table)
                    .columns([AuditHead::Id, AuditHead::Seq, AuditHead::Hash])
                    .values_panic([1.into(), 0i64.into(), "0".repeat(64).into()])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m0002 cannot be reversed: the audit trail is never dropped".to_string(),
        ))
    }
}
