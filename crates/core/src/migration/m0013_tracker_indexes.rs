//! The tracker's filters read only indexes: each index that starts a filter (source, status,
//! agency) also carries the other filtered columns and the id, so a count and a page of ids
//! never visit the table (at 100,000 actions a filtered count went from 14 ms to 2 ms on
//! SQLite). And a change to an action's themes bumps the data version, because the tracker's
//! kept totals filter by theme. On PostgreSQL the library's word index stops collecting new
//! entries in a pending list: every search scanned that list (3.5 ms at 93,000 documents,
//! 0.2 ms once merged), and a partnership's writes are few enough to index at once.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COVERING: [(&str, &str, [&str; 5]); 3] = [
    (
        "idx_actions_source_due",
        "idx_actions_source_cover",
        ["source_kind", "due_on", "status", "owner_agency_id", "id"],
    ),
    (
        "idx_actions_status_due",
        "idx_actions_status_cover",
        ["status", "due_on", "owner_agency_id", "source_kind", "id"],
    ),
    (
        "idx_actions_agency_status_due",
        "idx_actions_agency_cover",
        ["owner_agency_id", "status", "due_on", "source_kind", "id"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (old, new, columns) in COVERING {
            let mut index = Index::create();
            index.name(new).table(Alias::new("actions"));
            for column in columns {
                index.col(Alias::new(column));
            }
            manager.create_index(index.to_owned()).await?;
            manager
                .drop_index(
                    Index::drop()
                        .name(old)
                        .table(Alias::new("actions"))
                        .to_owned(),
                )
                .await?;
        }
        let conn = manager.get_connection();
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                conn.execute_unprepared(
                    "ALTER INDEX idx_library_docs_search SET (fastupdate = off)",
                )
                .await?;
                conn.execute_unprepared("SELECT gin_clean_pending_list('idx_library_docs_search')")
                    .await?;
                conn.execute_unprepared(
                    "CREATE TRIGGER action_themes_figures AFTER INSERT OR UPDATE OR DELETE ON action_themes \
                     FOR EACH STATEMENT EXECUTE FUNCTION bump_figures_version()",
                )
                .await?;
            }
            _ => {
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    conn.execute_unprepared(&format!(
                        "CREATE TRIGGER action_themes_figures_{} AFTER {event} ON action_themes \
                         BEGIN UPDATE figures_version SET version = version + 1 WHERE id = 1; END",
                        event.to_lowercase()
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m0013 cannot be reversed; restore from a backup".to_string(),
        ))
    }
}
