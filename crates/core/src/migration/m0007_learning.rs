//! The learning loop: learning items with their themes, partnerships and agencies;
//! disseminations (with each agency's confirmation that it passed the learning on); evidence
//! that learning is embedded and evaluated; and the library's search index (SQLite FTS5 or
//! PostgreSQL full text, behind one interface).

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LearningItems {
    Table,
    Id,
    Title,
    Lesson,
    SourceKind,
    SourceEntryId,
    ReviewId,
    WhyItMatters,
    DoDifferently,
    SupervisionQuestions,
    MoreInfo,
    Published,
    IdentifiedOn,
    CreatedBy,
    CreatedAt,
    Version,
}

#[derive(DeriveIden)]
enum LearningItemThemes {
    Table,
    ItemId,
    ThemeCode,
}

#[derive(DeriveIden, Clone, Copy)]
enum LearningItemPartnerships {
    Table,
    ItemId,
    PartnershipId,
}

#[derive(DeriveIden, Clone, Copy)]
enum LearningItemAgencies {
    Table,
    ItemId,
    AgencyId,
}

#[derive(DeriveIden)]
enum Disseminations {
    Table,
    Id,
    ItemId,
    Channel,
    HeldOn,
    Audience,
    PeopleReached,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DisseminationAgencies {
    Table,
    DisseminationId,
    AgencyId,
    ConfirmedBy,
    ConfirmedOn,
}

#[derive(DeriveIden)]
enum LearningEvidence {
    Table,
    Id,
    ItemId,
    Stage,
    Kind,
    Details,
    EvidencedOn,
    KirkpatrickLevel,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LibraryDocs {
    Table,
    Id,
    SourceKind,
    SourceId,
    Title,
    Body,
    Themes,
    ReviewType,
    AgencyIds,
    PartnershipIds,
    DatedOn,
    Public,
}

fn pair(
    table: impl IntoIden + Clone + 'static,
    a: impl IntoIden + Clone + 'static,
    b: impl IntoIden + Clone + 'static,
) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(uuid(a.clone()))
        .col(uuid(b.clone()))
        .primary_key(Index::create().col(a).col(b))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LearningItems::Table)
                    .col(uuid(LearningItems::Id).primary_key())
                    .col(string_len(LearningItems::Title, 200))
                    .col(text(LearningItems::Lesson))
                    .col(string_len(LearningItems::SourceKind, 40))
                    .col(uuid_null(LearningItems::SourceEntryId))
                    .col(uuid_null(LearningItems::ReviewId))
                    .col(text(LearningItems::WhyItMatters))
                    .col(text(LearningItems::DoDifferently))
                    .col(text(LearningItems::SupervisionQuestions))
                    .col(text(LearningItems::MoreInfo))
                    .col(boolean(LearningItems::Published))
                    .col(date(LearningItems::IdentifiedOn))
                    .col(uuid(LearningItems::CreatedBy))
                    .col(timestamp_with_time_zone(LearningItems::CreatedAt))
                    .col(integer(LearningItems::Version).default(1).to_owned())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LearningItemThemes::Table)
                    .col(uuid(LearningItemThemes::ItemId))
                    .col(string_len(LearningItemThemes::ThemeCode, 40))
                    .primary_key(
                        Index::create()
                            .col(LearningItemThemes::ItemId)
                            .col(LearningItemThemes::ThemeCode),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(pair(
                LearningItemPartnerships::Table,
                LearningItemPartnerships::ItemId,
                LearningItemPartnerships::PartnershipId,
            ))
            .await?;
        manager
            .create_table(pair(
                LearningItemAgencies::Table,
                LearningItemAgencies::ItemId,
                LearningItemAgencies::AgencyId,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Disseminations::Table)
                    .col(uuid(Disseminations::Id).primary_key())
                    .col(uuid(Disseminations::ItemId))
                    .col(string_len(Disseminations::Channel, 40))
                    .col(date(Disseminations::HeldOn))
                    .col(string_len(Disseminations::Audience, 400))
                    .col(integer(Disseminations::PeopleReached))
                    .col(uuid(Disseminations::CreatedBy))
                    .col(timestamp_with_time_zone(Disseminations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_disseminations_item")
                    .table(Disseminations::Table)
                    .col(Disseminations::ItemId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DisseminationAgencies::Table)
                    .col(uuid(DisseminationAgencies::DisseminationId))
                    .col(uuid(DisseminationAgencies::AgencyId))
                    .col(uuid_null(DisseminationAgencies::ConfirmedBy))
                    .col(date_null(DisseminationAgencies::ConfirmedOn))
                    .primary_key(
                        Index::create()
                            .col(DisseminationAgencies::DisseminationId)
                            .col(DisseminationAgencies::AgencyId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LearningEvidence::Table)
                    .col(uuid(LearningEvidence::Id).primary_key())
                    .col(uuid(LearningEvidence::ItemId))
                    .col(string_len(LearningEvidence::Stage, 20))
                    .col(string_len(LearningEvidence::Kind, 40))
                    .col(text(LearningEvidence::Details))
                    .col(date(LearningEvidence::EvidencedOn))
                    .col(integer_null(LearningEvidence::KirkpatrickLevel))
                    .col(uuid(LearningEvidence::CreatedBy))
                    .col(timestamp_with_time_zone(LearningEvidence::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_learning_evidence_item")
                    .table(LearningEvidence::Table)
                    .col(LearningEvidence::ItemId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LibraryDocs::Table)
                    .col(uuid(LibraryDocs::Id).primary_key())
                    .col(string_len(LibraryDocs::SourceKind, 30))
                    .col(uuid(LibraryDocs::SourceId).unique_key())
                    .col(string_len(LibraryDocs::Title, 200))
                    .col(text(LibraryDocs::Body))
                    .col(text(LibraryDocs::Themes))
                    .col(string_len(LibraryDocs::ReviewType, 40))
                    .col(text(LibraryDocs::AgencyIds))
                    .col(text(LibraryDocs::PartnershipIds))
                    .col(date(LibraryDocs::DatedOn))
                    .col(boolean(LibraryDocs::Public))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_library_docs_dated")
                    .table(LibraryDocs::Table)
                    .col(LibraryDocs::DatedOn)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => {
                for statement in [
                    "CREATE VIRTUAL TABLE library_fts USING fts5(title, body, content='library_docs', content_rowid='rowid', tokenize='porter unicode61')",
                    "CREATE TRIGGER library_docs_ai AFTER INSERT ON library_docs BEGIN INSERT INTO library_fts(rowid, title, body) VALUES (new.rowid, new.title, new.body); END",
                    "CREATE TRIGGER library_docs_ad AFTER DELETE ON library_docs BEGIN INSERT INTO library_fts(library_fts, rowid, title, body) VALUES ('delete', old.rowid, old.title, old.body); END",
                    "CREATE TRIGGER library_docs_au AFTER UPDATE ON library_docs BEGIN INSERT INTO library_fts(library_fts, rowid, title, body) VALUES ('delete', old.rowid, old.title, old.body); INSERT INTO library_fts(rowid, title, body) VALUES (new.rowid, new.title, new.body); END",
                ] {
                    db.execute_unprepared(statement).await?;
                }
            }
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE library_docs ADD COLUMN search tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(body, '')), 'B')) STORED",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX idx_library_docs_search ON library_docs USING GIN (search)",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m0007 cannot be reversed; restore from a backup".to_string(),
        ))
    }
}
