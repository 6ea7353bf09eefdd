//! Indexes the benchmark at scale asked for: open cases, actions by source and due date,
//! learning by agency and evidence by stage.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in [
            ("idx_cases_status", "cases", &["status", "aware_on"][..]),
            // Covers the dashboard's grouped count of actions by agency, status and due date.
            (
                "idx_actions_agency_status_due",
                "actions",
                &["owner_agency_id", "status", "due_on"][..],
            ),
            (
                "idx_actions_source_due",
                "actions",
                &["source_kind", "due_on"][..],
            ),
            (
                "idx_learning_item_agencies_agency",
                "learning_item_agencies",
                &["agency_id", "item_id"][..],
            ),
            (
                "idx_learning_evidence_stage",
                "learning_evidence",
                &["stage", "item_id"][..],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Alias::new(table));
            for column in columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m0008 cannot be reversed; restore from a backup".to_string(),
        ))
    }
}
