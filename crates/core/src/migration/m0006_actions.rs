//! Action plans and actions with their dated updates, evidence files, themes, sign-off and the
//! assurance checks twelve months on; and the outbox, the queue of emails (reminders,
//! escalations, digests) that background workers send.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ActionPlans {
    Table,
    Id,
    Title,
    SourceKind,
    ReviewId,
    GroupId,
    Status,
    SignedOffOn,
    SignedOffBy,
    Version,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Actions {
    Table,
    Id,
    Reference,
    PlanId,
    SourceKind,
    SourceEntryId,
    ReviewId,
    Description,
    OwnerAgencyId,
    LeadPersonId,
    DueOn,
    IntendedOutcome,
    SuccessEvidence,
    Status,
    StatusOn,
    SignedOffOn,
    SignedOffBy,
    EscalatedOn,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ActionThemes {
    Table,
    ActionId,
    ThemeCode,
}

#[derive(DeriveIden)]
enum ActionUpdates {
    Table,
    Id,
    ActionId,
    Status,
    Narrative,
    WrittenBy,
    WrittenAt,
}

#[derive(DeriveIden)]
enum ActionEvidence {
    Table,
    Id,
    UpdateId,
    FileName,
    ContentType,
    SizeBytes,
    Sha256,
    UploadedAt,
}

#[derive(DeriveIden)]
enum AssuranceChecks {
    Table,
    Id,
    PlanId,
    DueOn,
    CompletedOn,
    Embedded,
    EvidenceKind,
    Evidence,
    Judgement,
    RecordedBy,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    DedupeKey,
    Kind,
    ToPersonId,
    ToEmail,
    Subject,
    Body,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    ClaimedBy,
    SentAt,
    LastError,
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    columns: Vec<Alias>,
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table);
    for column in columns {
        statement.col(column);
    }
    manager.create_index(statement.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ActionPlans::Table)
                    .col(uuid(ActionPlans::Id).primary_key())
                    .col(string_len(ActionPlans::Title, 200))
                    .col(string_len(ActionPlans::SourceKind, 30))
                    .col(uuid_null(ActionPlans::ReviewId))
                    .col(uuid_null(ActionPlans::GroupId))
                    .col(string_len(ActionPlans::Status, 20))
                    .col(date_null(ActionPlans::SignedOffOn))
                    .col(uuid_null(ActionPlans::SignedOffBy))
                    .col(integer(ActionPlans::Version).default(1).to_owned())
                    .col(timestamp_with_time_zone(ActionPlans::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Actions::Table)
                    .col(uuid(Actions::Id).primary_key())
                    .col(string_len(Actions::Reference, 30).unique_key())
                    .col(uuid_null(Actions::PlanId))
                    .col(string_len(Actions::SourceKind, 30))
                    .col(uuid_null(Actions::SourceEntryId))
                    .col(uuid_null(Actions::ReviewId))
                    .col(text(Actions::Description))
                    .col(uuid(Actions::OwnerAgencyId))
                    .col(uuid_null(Actions::LeadPersonId))
                    .col(date(Actions::DueOn))
                    .col(text(Actions::IntendedOutcome))
                    .col(text(Actions::SuccessEvidence))
                    .col(string_len(Actions::Status, 20))
                    .col(date(Actions::StatusOn))
                    .col(date_null(Actions::SignedOffOn))
                    .col(uuid_null(Actions::SignedOffBy))
                    .col(date_null(Actions::EscalatedOn))
                    .col(integer(Actions::Version).default(1).to_owned())
                    .col(timestamp_with_time_zone(Actions::CreatedAt))
                    .col(timestamp_with_time_zone(Actions::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Actions::Table, Actions::PlanId)
                            .to(ActionPlans::Table, ActionPlans::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The tracker filters by agency, status and due date, and pages in due-date order.
        index(
            manager,
            "idx_actions_due",
            Actions::Table,
            vec![Alias::new("due_on"), Alias::new("id")],
        )
        .await?;
        index(
            manager,
            "idx_actions_agency_due",
            Actions::Table,
            vec![Alias::new("owner_agency_id"), Alias::new("due_on")],
        )
        .await?;
        index(
            manager,
            "idx_actions_status_due",
            Actions::Table,
            vec![Alias::new("status"), Alias::new("due_on")],
        )
        .await?;
        index(
            manager,
            "idx_actions_plan",
            Actions::Table,
            vec![Alias::new("plan_id")],
        )
        .await?;
        index(
            manager,
            "idx_actions_review",
            Actions::Table,
            vec![Alias::new("review_id")],
        )
        .await?;
        index(
            manager,
            "idx_actions_lead",
            Actions::Table,
            vec![Alias::new("lead_person_id")],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ActionThemes::Table)
                    .col(uuid(ActionThemes::ActionId))
                    .col(string_len(ActionThemes::ThemeCode, 40))
                    .primary_key(
                        Index::create()
                            .col(ActionThemes::ActionId)
                            .col(ActionThemes::ThemeCode),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActionThemes::Table, ActionThemes::ActionId)
                            .to(Actions::Table, Actions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_action_themes_theme",
            ActionThemes::Table,
            vec![Alias::new("theme_code"), Alias::new("action_id")],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ActionUpdates::Table)
                    .col(uuid(ActionUpdates::Id).primary_key())
                    .col(uuid(ActionUpdates::ActionId))
                    .col(string_len(ActionUpdates::Status, 20))
                    .col(text(ActionUpdates::Narrative))
                    .col(uuid(ActionUpdates::WrittenBy))
                    .col(timestamp_with_time_zone(ActionUpdates::WrittenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActionUpdates::Table, ActionUpdates::ActionId)
                            .to(Actions::Table, Actions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_action_updates_action",
            ActionUpdates::Table,
            vec![Alias::new("action_id"), Alias::new("written_at")],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ActionEvidence::Table)
                    .col(uuid(ActionEvidence::Id).primary_key())
                    .col(uuid(ActionEvidence::UpdateId))
                    .col(string_len(ActionEvidence::FileName, 200))
                    .col(string_len(ActionEvidence::ContentType, 100))
                    .col(big_integer(ActionEvidence::SizeBytes))
                    .col(string_len(ActionEvidence::Sha256, 64))
                    .col(timestamp_with_time_zone(ActionEvidence::UploadedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActionEvidence::Table, ActionEvidence::UpdateId)
                            .to(ActionUpdates::Table, ActionUpdates::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_action_evidence_update",
            ActionEvidence::Table,
            vec![Alias::new("update_id")],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(AssuranceChecks::Table)
                    .col(uuid(AssuranceChecks::Id).primary_key())
                    .col(uuid(AssuranceChecks::PlanId))
                    .col(date(AssuranceChecks::DueOn))
                    .col(date_null(AssuranceChecks::CompletedOn))
                    .col(string_len_null(AssuranceChecks::Embedded, 20))
                    .col(string_len_null(AssuranceChecks::EvidenceKind, 40))
                    .col(text_null(AssuranceChecks::Evidence))
                    .col(text_null(AssuranceChecks::Judgement))
                    .col(uuid_null(AssuranceChecks::RecordedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssuranceChecks::Table, AssuranceChecks::PlanId)
                            .to(ActionPlans::Table, ActionPlans::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_assurance_checks_plan",
            AssuranceChecks::Table,
            vec![Alias::new("plan_id")],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(uuid(Outbox::Id).primary_key())
                    .col(string_len(Outbox::DedupeKey, 200).unique_key())
                    .col(string_len(Outbox::Kind, 30))
                    .col(uuid_null(Outbox::ToPersonId))
                    .col(string_len(Outbox::ToEmail, 254))
                    .col(string_len(Outbox::Subject, 200))
                    .col(text(Outbox::Body))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(integer(Outbox::Attempts).default(0).to_owned())
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::ClaimedUntil))
                    .col(string_len_null(Outbox::ClaimedBy, 64))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .col(text_null(Outbox::LastError))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_outbox_pending",
            Outbox::Table,
            vec![Alias::new("sent_at"), Alias::new("next_attempt_at")],
        )
        .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m0006 cannot be reversed; restore from a backup".to_string(),
        ))
    }
}
