//! Reviews from commissioning to publication: the review's own record, its stages, people,
//! agency contributions, voices, findings and recommendations with their themes, documents
//! with versions, and the identifiers that must never be published.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Reviews {
    Table,
    Id,
    Reference,
    Title,
    PartnershipId,
    Methodology,
    TermsOfReference,
    SubjectPerspective,
    ReportDueOn,
    HoldReason,
    PublicTitle,
    PublicSummary,
    PublicReport,
    PublishedOn,
    PublishedBy,
    IntruderCheckBy,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Themes {
    Table,
    Code,
    Label,
    Family,
    Position,
    Active,
}

#[derive(DeriveIden)]
enum ReviewStages {
    Table,
    Id,
    ReviewId,
    StageKey,
    Name,
    Position,
    Required,
    PlannedDueOn,
    DueOn,
    CompletedOn,
    SlippageReason,
}

#[derive(DeriveIden)]
enum ReviewPeople {
    Table,
    Id,
    ReviewId,
    PersonId,
    Name,
    Role,
    AgencyId,
    ConflictStatement,
    StartsOn,
    EndsOn,
    GrantId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReviewContributions {
    Table,
    Id,
    ReviewId,
    AgencyId,
    Kind,
    DueOn,
    ReceivedOn,
    DocumentId,
}

#[derive(DeriveIden)]
enum ReviewFamilyContacts {
    Table,
    Id,
    ReviewId,
    Relationship,
    Name,
    InvitedHow,
    InvitedOn,
    Response,
    WhatTheySaid,
    ConsentRecorded,
}

#[derive(DeriveIden)]
enum ReviewPractitionerEvents {
    Table,
    Id,
    ReviewId,
    HeldOn,
    Kind,
    Attendees,
    Agencies,
}

#[derive(DeriveIden)]
enum ReviewEntries {
    Table,
    Id,
    ReviewId,
    Kind,
    Position,
    Title,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReviewEntryAgencies {
    Table,
    EntryId,
    AgencyId,
}

#[derive(DeriveIden)]
enum ReviewEntryThemes {
    Table,
    EntryId,
    ThemeCode,
}

#[derive(DeriveIden)]
enum ReviewDocuments {
    Table,
    Id,
    ReviewId,
    Kind,
    Title,
    AgencyId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReviewDocumentVersions {
    Table,
    Id,
    DocumentId,
    Version,
    FileName,
    ContentType,
    SizeBytes,
    Sha256,
    MetadataRemoved,
    UploadedBy,
    UploadedAt,
}

#[derive(DeriveIden)]
enum CaseIdentifiers {
    Table,
    Id,
    CaseId,
    Kind,
    Value,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
}

fn review_fk<T: IntoIden + 'static>(table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Reviews::Table, Reviews::Id)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
) -> Result<(), DbErr> {
    manager
        .create_index(
            Index::create()
                .name(name)
                .table(table)
                .col(column)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let columns = [
            string_len_null(Reviews::Reference, 40),
            string_len(Reviews::Title, 200).default("").to_owned(),
            uuid_null(Reviews::PartnershipId),
            string_len(Reviews::Methodology, 40).default("").to_owned(),
            text(Reviews::TermsOfReference).default("").to_owned(),
            text(Reviews::SubjectPerspective).default("").to_owned(),
            date_null(Reviews::ReportDueOn),
            text_null(Reviews::HoldReason),
            string_len(Reviews::PublicTitle, 200).default("").to_owned(),
            text(Reviews::PublicSummary).default("").to_owned(),
            text(Reviews::PublicReport).default("").to_owned(),
            date_null(Reviews::PublishedOn),
            uuid_null(Reviews::PublishedBy),
            uuid_null(Reviews::IntruderCheckBy),
            integer(Reviews::Version).default(1).to_owned(),
            timestamp_with_time_zone_null(Reviews::UpdatedAt),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Reviews::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Themes::Table)
                    .col(string_len(Themes::Code, 40).primary_key())
                    .col(string_len(Themes::Label, 120))
                    .col(string_len(Themes::Family, 20))
                    .col(integer(Themes::Position))
                    .col(boolean(Themes::Active))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewStages::Table)
                    .col(uuid(ReviewStages::Id).primary_key())
                    .col(uuid(ReviewStages::ReviewId))
                    .col(string_len(ReviewStages::StageKey, 40))
                    .col(string_len(ReviewStages::Name, 120))
                    .col(integer(ReviewStages::Position))
                    .col(boolean(ReviewStages::Required))
                    .col(date_null(ReviewStages::PlannedDueOn))
                    .col(date_null(ReviewStages::DueOn))
                    .col(date_null(ReviewStages::CompletedOn))
                    .col(text_null(ReviewStages::SlippageReason))
                    .foreign_key(&mut review_fk(ReviewStages::Table, ReviewStages::ReviewId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_review_stages_review",
            ReviewStages::Table,
            ReviewStages::ReviewId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewPeople::Table)
                    .col(uuid(ReviewPeople::Id).primary_key())
                    .col(uuid(ReviewPeople::ReviewId))
                    .col(uuid_null(ReviewPeople::PersonId))
                    .col(string_len(ReviewPeople::Name, 120))
                    .col(string_len(ReviewPeople::Role, 40))
                    .col(uuid_null(ReviewPeople::AgencyId))
                    .col(text(ReviewPeople::ConflictStatement))
                    .col(date_null(ReviewPeople::StartsOn))
                    .col(date_null(ReviewPeople::EndsOn))
                    .col(uuid_null(ReviewPeople::GrantId))
                    .col(timestamp_with_time_zone(ReviewPeople::CreatedAt))
                    .foreign_key(&mut review_fk(ReviewPeople::Table, ReviewPeople::ReviewId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_review_people_review",
            ReviewPeople::Table,
            ReviewPeople::ReviewId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewContributions::Table)
                    .col(uuid(ReviewContributions::Id).primary_key())
                    .col(uuid(ReviewContributions::ReviewId))
                    .col(uuid(ReviewContributions::AgencyId))
                    .col(string_len(ReviewContributions::Kind, 40))
                    .col(date(ReviewContributions::DueOn))
                    .col(date_null(ReviewContributions::ReceivedOn))
                    .col(uuid_null(ReviewContributions::DocumentId))
                    .foreign_key(&mut review_fk(
                        ReviewContributions::Table,
                        ReviewContributions::ReviewId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_review_contributions_review",
            ReviewContributions::Table,
            ReviewContributions::ReviewId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewFamilyContacts::Table)
                    .col(uuid(ReviewFamilyContacts::Id).primary_key())
                    .col(uuid(ReviewFamilyContacts::ReviewId))
                    .col(string_len(ReviewFamilyContacts::Relationship, 80))
                    .col(string_len_null(ReviewFamilyContacts::Name, 120))
                    .col(string_len(ReviewFamilyContacts::InvitedHow, 80))
                    .col(date_null(ReviewFamilyContacts::InvitedOn))
                    .col(string_len(ReviewFamilyContacts::Response, 20))
                    .col(text(ReviewFamilyContacts::WhatTheySaid))
                    .col(boolean(ReviewFamilyContacts::ConsentRecorded))
                    .foreign_key(&mut review_fk(
                        ReviewFamilyContacts::Table,
                        ReviewFamilyContacts::ReviewId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_review_family_review",
            ReviewFamilyContacts::Table,
            ReviewFamilyContacts::ReviewId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewPractitionerEvents::Table)
                    .col(uuid(ReviewPractitionerEvents::Id).primary_key())
                    .col(uuid(ReviewPractitionerEvents::ReviewId))
                    .col(date(ReviewPractitionerEvents::HeldOn))
                    .col(string_len(ReviewPractitionerEvents::Kind, 80))
                    .col(integer(ReviewPractitionerEvents::Attendees))
                    .col(text(ReviewPractitionerEvents::Agencies))
                    .foreign_key(&mut review_fk(
                        ReviewPractitionerEvents::Table,
                        ReviewPractitionerEvents::ReviewId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_review_practitioner_events_review",
            ReviewPractitionerEvents::Table,
            ReviewPractitionerEvents::ReviewId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewEntries::Table)
                    .col(uuid(ReviewEntries::Id).primary_key())
                    .col(uuid(ReviewEntries::ReviewId))
                    .col(string_len(ReviewEntries::Kind, 30))
                    .col(integer(ReviewEntries::Position))
                    .col(string_len(ReviewEntries::Title, 200))
                    .col(text(ReviewEntries::Body))
                    .col(timestamp_with_time_zone(ReviewEntries::CreatedAt))
                    .foreign_key(&mut review_fk(
                        ReviewEntries::Table,
                        ReviewEntries::ReviewId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_review_entries_review",
            ReviewEntries::Table,
            ReviewEntries::ReviewId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewEntryAgencies::Table)
                    .col(uuid(ReviewEntryAgencies::EntryId))
                    .col(uuid(ReviewEntryAgencies::AgencyId))
                    .primary_key(
                        Index::create()
                            .col(ReviewEntryAgencies::EntryId)
                            .col(ReviewEntryAgencies::AgencyId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReviewEntryAgencies::Table, ReviewEntryAgencies::EntryId)
                            .to(ReviewEntries::Table, ReviewEntries::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewEntryThemes::Table)
                    .col(uuid(ReviewEntryThemes::EntryId))
                    .col(string_len(ReviewEntryThemes::ThemeCode, 40))
                    .primary_key(
                        Index::create()
                            .col(ReviewEntryThemes::EntryId)
                            .col(ReviewEntryThemes::ThemeCode),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReviewEntryThemes::Table, ReviewEntryThemes::EntryId)
                            .to(ReviewEntries::Table, ReviewEntries::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReviewEntryThemes::Table, ReviewEntryThemes::ThemeCode)
                            .to(Themes::Table, Themes::Code),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_review_entry_themes_theme",
            ReviewEntryThemes::Table,
            ReviewEntryThemes::ThemeCode,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewDocuments::Table)
                    .col(uuid(ReviewDocuments::Id).primary_key())
                    .col(uuid(ReviewDocuments::ReviewId))
                    .col(string_len(ReviewDocuments::Kind, 40))
                    .col(string_len(ReviewDocuments::Title, 200))
                    .col(uuid_null(ReviewDocuments::AgencyId))
                    .col(timestamp_with_time_zone(ReviewDocuments::CreatedAt))
                    .foreign_key(&mut review_fk(
                        ReviewDocuments::Table,
                        ReviewDocuments::ReviewId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_review_documents_review",
            ReviewDocuments::Table,
            ReviewDocuments::ReviewId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewDocumentVersions::Table)
                    .col(uuid(ReviewDocumentVersions::Id).primary_key())
                    .col(uuid(ReviewDocumentVersions::DocumentId))
                    .col(integer(ReviewDocumentVersions::Version))
                    .col(string_len(ReviewDocumentVersions::FileName, 200))
                    .col(string_len(ReviewDocumentVersions::ContentType, 100))
                    .col(big_integer(ReviewDocumentVersions::SizeBytes))
                    .col(string_len(ReviewDocumentVersions::Sha256, 64))
                    .col(boolean(ReviewDocumentVersions::MetadataRemoved))
                    .col(uuid(ReviewDocumentVersions::UploadedBy))
                    .col(timestamp_with_time_zone(ReviewDocumentVersions::UploadedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ReviewDocumentVersions::Table,
                                ReviewDocumentVersions::DocumentId,
                            )
                            .to(ReviewDocuments::Table, ReviewDocuments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_review_document_versions_unique")
                    .table(ReviewDocumentVersions::Table)
                    .col(ReviewDocumentVersions::DocumentId)
                    .col(ReviewDocumentVersions::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseIdentifiers::Table)
                    .col(uuid(CaseIdentifiers::Id).primary_key())
                    .col(uuid(CaseIdentifiers::CaseId))
                    .col(string_len(CaseIdentifiers::Kind, 20))
                    .col(string_len(CaseIdentifiers::Value, 200))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseIdentifiers::Table, CaseIdentifiers::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_case_identifiers_case",
            CaseIdentifiers::Table,
            CaseIdentifiers::CaseId,
        )
        .await?;
        index(
            manager,
            "idx_reviews_published_on",
            Reviews::Table,
            Reviews::PublishedOn,
        )
        .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m0005 cannot be reversed; restore from a backup".to_string(),
        ))
    }
}
