//! The reference data of a partnership: settings, partnerships, agencies, people, groups, and
//! the API tokens people use.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum Partnerships {
    Table,
    Id,
    Code,
    Name,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Id,
    Code,
    Name,
    AgencyType,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PartnershipAgencies {
    Table,
    PartnershipId,
    AgencyId,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
    Name,
    Email,
    AgencyId,
    JobTitle,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    Code,
    Name,
    Purpose,
    PartnershipId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    GroupId,
    PersonId,
    RoleInGroup,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    PersonId,
    Label,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(string_len(Settings::Key, 64).primary_key())
                    .col(text(Settings::Value))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Partnerships::Table)
                    .col(uuid(Partnerships::Id).primary_key())
                    .col(string_len_uniq(Partnerships::Code, 32))
                    .col(string_len(Partnerships::Name, 200))
                    .col(string_len(Partnerships::Kind, 32))
                    .col(timestamp_with_time_zone(Partnerships::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Agencies::Table)
                    .col(uuid(Agencies::Id).primary_key())
                    .col(string_len_uniq(Agencies::Code, 32))
                    .col(string_len(Agencies::Name, 200))
                    .col(string_len(Agencies::AgencyType, 48))
                    .col(boolean(Agencies::Active).default(true))
                    .col(integer(Agencies::Version).default(1))
                    .col(timestamp_with_time_zone(Agencies::CreatedAt))
                    .col(timestamp_with_time_zone(Agencies::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PartnershipAgencies::Table)
                    .col(uuid(PartnershipAgencies::PartnershipId))
                    .col(uuid(PartnershipAgencies::AgencyId))
                    .primary_key(
                        Index::create()
                            .col(PartnershipAgencies::PartnershipId)
                            .col(PartnershipAgencies::AgencyId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                PartnershipAgencies::Table,
                                PartnershipAgencies::PartnershipId,
                            )
                            .to(Partnerships::Table, Partnerships::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PartnershipAgencies::Table, PartnershipAgencies::AgencyId)
                            .to(Agencies::Table, Agencies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_partnership_agencies_agency")
                    .table(PartnershipAgencies::Table)
                    .col(PartnershipAgencies::AgencyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(People::Table)
                    .col(uuid(People::Id).primary_key())
                    .col(string_len(People::Name, 200))
                    .col(string_len_uniq(People::Email, 254))
                    .col(uuid(People::AgencyId))
                    .col(string_len_null(People::JobTitle, 200))
                    .col(boolean(People::Active).default(true))
                    .col(timestamp_with_time_zone(People::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(People::Table, People::AgencyId)
                            .to(Agencies::Table, Agencies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_people_agency")
                    .table(People::Table)
                    .col(People::AgencyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .col(uuid(Groups::Id).primary_key())
                    .col(string_len_uniq(Groups::Code, 32))
                    .col(string_len(Groups::Name, 200))
                    .col(text(Groups::Purpose))
                    .col(uuid_null(Groups::PartnershipId))
                    .col(integer(Groups::Version).default(1))
                    .col(timestamp_with_time_zone(Groups::CreatedAt))
                    .col(timestamp_with_time_zone(Groups::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Groups::Table, Groups::PartnershipId)
                            .to(Partnerships::Table, Partnerships::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMembers::Table)
                    .col(uuid(GroupMembers::GroupId))
                    .col(uuid(GroupMembers::PersonId))
                    .col(string_len(GroupMembers::RoleInGroup, 32))
                    .primary_key(
                        Index::create()
                            .col(GroupMembers::GroupId)
                            .col(GroupMembers::PersonId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMembers::Table, GroupMembers::GroupId)
                            .to(Groups::Table, Groups::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMembers::Table, GroupMembers::PersonId)
                            .to(People::Table, People::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_members_person")
                    .table(GroupMembers::Table)
                    .col(GroupMembers::PersonId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(uuid(ApiTokens::Id).primary_key())
                    .col(uuid(ApiTokens::PersonId))
                    .col(string_len(ApiTokens::Label, 100))
                    .col(string_len_uniq(ApiTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone(ApiTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiTokens::Table, ApiTokens::PersonId)
                            .to(People::Table, People::Id),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Reference data is never dropped by a migration: restore from a backup instead.
        Err(DbErr::Migration(
            "m0001 cannot be reversed; restore from a backup".to_string(),
        ))
    }
}
