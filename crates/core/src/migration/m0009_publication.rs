//! What the public sees is a frozen copy, made when a person published it after the
//! anonymisation check: `public_texts` holds each published review's (and learning item's)
//! public title, summary and report as confirmed, and the library keeps a frozen copy of every
//! finding, recommendation and lesson that went public beside the live, restricted one.
//!
//! Nothing that was public before this migration passed a check of the findings it made
//! public, so those library copies stop being public, and learning items published with a
//! tick box become unpublished: they go public again only through publication.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
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
    Frozen,
    PublishedFrom,
}

#[derive(DeriveIden, Clone, Copy)]
enum LibraryDocsRebuilt {
    Table,
}

#[derive(DeriveIden)]
enum SimilarLearning {
    Table,
    SourceId,
    SimilarSourceId,
    Score,
}

#[derive(DeriveIden)]
enum PublicTexts {
    Table,
    Id,
    SourceKind,
    SourceId,
    Revision,
    Title,
    Summary,
    Body,
    ReviewType,
    FirstPublishedOn,
    PublishedOn,
    PublishedBy,
}

const SQLITE_TRIGGERS: [&str; 3] = [
    "CREATE TRIGGER library_docs_ai AFTER INSERT ON library_docs BEGIN INSERT INTO library_fts(rowid, title, body) VALUES (new.rowid, new.title, new.body); END",
    "CREATE TRIGGER library_docs_ad AFTER DELETE ON library_docs BEGIN INSERT INTO library_fts(library_fts, rowid, title, body) VALUES ('delete', old.rowid, old.title, old.body); END",
    "CREATE TRIGGER library_docs_au AFTER UPDATE ON library_docs BEGIN INSERT INTO library_fts(library_fts, rowid, title, body) VALUES ('delete', old.rowid, old.title, old.body); INSERT INTO library_fts(rowid, title, body) VALUES (new.rowid, new.title, new.body); END",
];

fn library_docs_rebuilt() -> TableCreateStatement {
    Table::create()
        .table(LibraryDocsRebuilt::Table)
        .col(uuid(LibraryDocs::Id).primary_key())
        .col(string_len(LibraryDocs::SourceKind, 30))
        .col(uuid(LibraryDocs::SourceId))
        .col(string_len(LibraryDocs::Title, 200))
        .col(text(LibraryDocs::Body))
        .col(text(LibraryDocs::Themes))
        .col(string_len(LibraryDocs::ReviewType, 40))
        .col(text(LibraryDocs::AgencyIds))
        .col(text(LibraryDocs::PartnershipIds))
        .col(date(LibraryDocs::DatedOn))
        .col(boolean(LibraryDocs::Public))
        .col(boolean(LibraryDocs::Frozen).default(false))
        .col(uuid_null(LibraryDocs::PublishedFrom))
        .to_owned()
}

fn public_texts() -> TableCreateStatement {
    Table::create()
        .table(PublicTexts::Table)
        .col(uuid(PublicTexts::Id).primary_key())
        .col(string_len(PublicTexts::SourceKind, 30))
        .col(uuid(PublicTexts::SourceId))
        .col(integer(PublicTexts::Revision))
        .col(string_len(PublicTexts::Title, 200))
        .col(text(PublicTexts::Summary))
        .col(text(PublicTexts::Body))
        .col(string_len(PublicTexts::ReviewType, 40))
        .col(date(PublicTexts::FirstPublishedOn))
        .col(date(PublicTexts::PublishedOn))
        .col(uuid_null(PublicTexts::PublishedBy))
        .to_owned()
}

fn similar_learning() -> TableCreateStatement {
    Table::create()
        .table(SimilarLearning::Table)
        .col(uuid(SimilarLearning::SourceId))
        .col(uuid(SimilarLearning::SimilarSourceId))
        .col(double(SimilarLearning::Score))
        .primary_key(
            Index::create()
                .col(SimilarLearning::SourceId)
                .col(SimilarLearning::SimilarSourceId),
        )
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        // One live copy and at most one frozen copy of each source.
        Index::create()
            .name("idx_library_docs_source_frozen")
            .table(LibraryDocs::Table)
            .col(LibraryDocs::SourceId)
            .col(LibraryDocs::Frozen)
            .unique()
            .to_owned(),
        Index::create()
            .name("idx_library_docs_published_from")
            .table(LibraryDocs::Table)
            .col(LibraryDocs::PublishedFrom)
            .to_owned(),
        Index::create()
            .name("idx_public_texts_source")
            .table(PublicTexts::Table)
            .col(PublicTexts::SourceKind)
            .col(PublicTexts::SourceId)
            .unique()
            .to_owned(),
        Index::create()
            .name("idx_public_texts_published")
            .table(PublicTexts::Table)
            .col(PublicTexts::SourceKind)
            .col(PublicTexts::FirstPublishedOn)
            .to_owned(),
    ]
}

const DATA: [&str; 3] = [
    // The public text of a published review was checked: it stays public, frozen.
    "INSERT INTO public_texts (id, source_kind, source_id, revision, title, summary, body, review_type, first_published_on, published_on, published_by) \
     SELECT id, 'review', id, 1, public_title, public_summary, public_report, review_type_code, published_on, published_on, published_by FROM reviews WHERE published_on IS NOT NULL",
    // Findings and ticked learning items were never checked: not public any more.
    "UPDATE library_docs SET public = FALSE",
    "UPDATE learning_items SET published = FALSE",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let mut statements: Vec<String> = Vec::new();
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => {
                // SQLite cannot drop the unique constraint on source_id: rebuild the table,
                // keeping each row's rowid so the FTS5 index (keyed by rowid) stays right.
                statements.push(library_docs_rebuilt().to_string(SqliteQueryBuilder));
                statements.extend(
                    [
                        "INSERT INTO library_docs_rebuilt (rowid, id, source_kind, source_id, title, body, themes, review_type, agency_ids, partnership_ids, dated_on, public, frozen, published_from) SELECT rowid, id, source_kind, source_id, title, body, themes, review_type, agency_ids, partnership_ids, dated_on, public, FALSE, NULL FROM library_docs",
                        "DROP TRIGGER library_docs_ai",
                        "DROP TRIGGER library_docs_ad",
                        "DROP TRIGGER library_docs_au",
                        "DROP TABLE library_docs",
                        "ALTER TABLE library_docs_rebuilt RENAME TO library_docs",
                        "CREATE INDEX idx_library_docs_dated ON library_docs (dated_on)",
                    ]
                    .map(String::from),
                );
                statements.extend(SQLITE_TRIGGERS.map(String::from));
                statements.push(public_texts().to_string(SqliteQueryBuilder));
                statements.push(similar_learning().to_string(SqliteQueryBuilder));
                statements.extend(indexes().iter().map(|i| i.to_string(SqliteQueryBuilder)));
            }
            _ => {
                statements.push(
                    "DO $$ DECLARE name text; BEGIN \
                     FOR name IN SELECT conname FROM pg_constraint WHERE conrelid = 'library_docs'::regclass AND contype = 'u' LOOP \
                     EXECUTE 'ALTER TABLE library_docs DROP CONSTRAINT ' || quote_ident(name); \
                     END LOOP; END $$"
                        .to_string(),
                );
                statements.push(
                    "ALTER TABLE library_docs ADD COLUMN frozen boolean NOT NULL DEFAULT FALSE, ADD COLUMN published_from uuid NULL"
                        .to_string(),
                );
                statements.push(public_texts().to_string(PostgresQueryBuilder));
                statements.push(similar_learning().to_string(PostgresQueryBuilder));
                statements.extend(indexes().iter().map(|i| i.to_string(PostgresQueryBuilder)));
            }
        }
        statements.extend(DATA.map(String::from));
        // One batch, so every statement runs on one connection and sees the schema as the
        // statements before it left it (a pooled SQLite connection may hold an older one).
        db.execute_unprepared(&statements.join(";\n"))
            .await
            .map_err(|error| DbErr::Migration(format!("m0009: {error}")))?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m0009 cannot be reversed; restore from a backup".to_string(),
        ))
    }
}
