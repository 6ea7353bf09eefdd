//! Notifications and the Review Group's decisions: the calendar's imported days, review types
//! as configuration, cases, decisions, rapid reviews with their steps and agency summaries,
//! reviews (created from a decision or a conversion), missed-deadline reasons and calendar feeds.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CalendarDays {
    Table,
    Day,
    Kind,
    Title,
    CreatedAt,
}
#[derive(DeriveIden)]
enum ReviewTypes {
    Table,
    Code,
    Name,
    Family,
    Statutory,
    Config,
    Version,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    Reference,
    SubjectKind,
    IncidentKind,
    AwareOn,
    Summary,
    Pseudonym,
    AgeBand,
    SubjectName,
    SubjectDob,
    Referrer,
    Inquest,
    CriminalProceedings,
    PoliceInvestigation,
    Coroner,
    NationalPanelNotifiedOn,
    NationalPanelNotifiedBy,
    Status,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}
#[derive(DeriveIden)]
enum CasePartnerships {
    Table,
    CaseId,
    PartnershipId,
}
#[derive(DeriveIden)]
enum CaseAgencies {
    Table,
    CaseId,
    AgencyId,
}
#[derive(DeriveIden)]
enum CaseDecisions {
    Table,
    Id,
    CaseId,
    ReviewTypeCode,
    Answers,
    Recommendation,
    Outcome,
    Overridden,
    OverrideReason,
    Rationale,
    ImmediateActions,
    DecidedBy,
    DecidedOn,
    GroupId,
    CreatedAt,
}
#[derive(DeriveIden)]
enum RapidReviews {
    Table,
    Id,
    CaseId,
    DecisionId,
    DayZero,
    Outcome,
    OutcomeRecordedOn,
    ConvertedReviewId,
    CreatedAt,
    Version,
}
#[derive(DeriveIden)]
enum RapidReviewSteps {
    Table,
    RapidReviewId,
    StepKey,
    Name,
    Position,
    OffsetDays,
    DueOn,
    CompletedOn,
    MissedReason,
}
#[derive(DeriveIden)]
enum RapidReviewSummaries {
    Table,
    RapidReviewId,
    AgencyId,
    DueOn,
    ReceivedOn,
}
#[derive(DeriveIden)]
enum Reviews {
    Table,
    Id,
    CaseId,
    ReviewTypeCode,
    CommissionedOn,
    ConvertedFromRapidReviewId,
    ConvertedFromReviewId,
    Status,
    CreatedAt,
}
#[derive(DeriveIden)]
enum DeadlineReasons {
    Table,
    Id,
    CaseId,
    DeadlineKey,
    Reason,
    RecordedBy,
    RecordedAt,
}
#[derive(DeriveIden)]
enum CalendarFeeds {
    Table,
    TokenHash,
    PersonId,
    CreatedAt,
    RevokedAt,
}
#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Agencies {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Partnerships {
    Table,
    Id,
}

fn fk(
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CalendarDays::Table)
                    .col(date(CalendarDays::Day).primary_key())
                    .col(string_len(CalendarDays::Kind, 16))
                    .col(string_len(CalendarDays::Title, 200))
                    .col(timestamp_with_time_zone(CalendarDays::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewTypes::Table)
                    .col(string_len(ReviewTypes::Code, 32).primary_key())
                    .col(string_len(ReviewTypes::Name, 200))
                    .col(string_len(ReviewTypes::Family, 16))
                    .col(boolean(ReviewTypes::Statutory))
                    .col(text(ReviewTypes::Config))
                    .col(integer(ReviewTypes::Version).default(1))
                    .col(timestamp_with_time_zone(ReviewTypes::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Cases::Table)
                    .col(uuid(Cases::Id).primary_key())
                    .col(string_len_uniq(Cases::Reference, 32))
                    .col(string_len(Cases::SubjectKind, 8))
                    .col(string_len(Cases::IncidentKind, 16))
                    .col(date(Cases::AwareOn))
                    .col(text(Cases::Summary))
                    .col(string_len(Cases::Pseudonym, 64))
                    .col(string_len(Cases::AgeBand, 16))
                    .col(string_len_null(Cases::SubjectName, 200))
                    .col(date_null(Cases::SubjectDob))
                    .col(string_len(Cases::Referrer, 200))
                    .col(boolean(Cases::Inquest).default(false))
                    .col(boolean(Cases::CriminalProceedings).default(false))
                    .col(boolean(Cases::PoliceInvestigation).default(false))
                    .col(boolean(Cases::Coroner).default(false))
                    .col(date_null(Cases::NationalPanelNotifiedOn))
                    .col(string_len_null(Cases::NationalPanelNotifiedBy, 200))
                    .col(string_len(Cases::Status, 16))
                    .col(uuid(Cases::CreatedBy))
                    .col(timestamp_with_time_zone(Cases::CreatedAt))
                    .col(timestamp_with_time_zone(Cases::UpdatedAt))
                    .col(integer(Cases::Version).default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_cases_aware_on")
                    .table(Cases::Table)
                    .col(Cases::AwareOn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CasePartnerships::Table)
                    .col(uuid(CasePartnerships::CaseId))
                    .col(uuid(CasePartnerships::PartnershipId))
                    .primary_key(
                        Index::create()
                            .col(CasePartnerships::CaseId)
                            .col(CasePartnerships::PartnershipId),
                    )
                    .foreign_key(&mut fk(
                        (CasePartnerships::Table, CasePartnerships::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .foreign_key(&mut fk(
                        (CasePartnerships::Table, CasePartnerships::PartnershipId),
                        (Partnerships::Table, Partnerships::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseAgencies::Table)
                    .col(uuid(CaseAgencies::CaseId))
                    .col(uuid(CaseAgencies::AgencyId))
                    .primary_key(
                        Index::create()
                            .col(CaseAgencies::CaseId)
                            .col(CaseAgencies::AgencyId),
                    )
                    .foreign_key(&mut fk(
                        (CaseAgencies::Table, CaseAgencies::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .foreign_key(&mut fk(
                        (CaseAgencies::Table, CaseAgencies::AgencyId),
                        (Agencies::Table, Agencies::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_case_agencies_agency")
                    .table(CaseAgencies::Table)
                    .col(CaseAgencies::AgencyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseDecisions::Table)
                    .col(uuid(CaseDecisions::Id).primary_key())
                    .col(uuid(CaseDecisions::CaseId))
                    .col(string_len(CaseDecisions::ReviewTypeCode, 32))
                    .col(text(CaseDecisions::Answers))
                    .col(string_len(CaseDecisions::Recommendation, 32))
                    .col(string_len(CaseDecisions::Outcome, 16))
                    .col(boolean(CaseDecisions::Overridden))
                    .col(text_null(CaseDecisions::OverrideReason))
                    .col(text(CaseDecisions::Rationale))
                    .col(text_null(CaseDecisions::ImmediateActions))
                    .col(uuid(CaseDecisions::DecidedBy))
                    .col(date(CaseDecisions::DecidedOn))
                    .col(uuid_null(CaseDecisions::GroupId))
                    .col(timestamp_with_time_zone(CaseDecisions::CreatedAt))
                    .foreign_key(&mut fk(
                        (CaseDecisions::Table, CaseDecisions::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .foreign_key(&mut fk(
                        (CaseDecisions::Table, CaseDecisions::ReviewTypeCode),
                        (ReviewTypes::Table, ReviewTypes::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_case_decisions_case")
                    .table(CaseDecisions::Table)
                    .col(CaseDecisions::CaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RapidReviews::Table)
                    .col(uuid(RapidReviews::Id).primary_key())
                    .col(uuid(RapidReviews::CaseId))
                    .col(uuid_null(RapidReviews::DecisionId))
                    .col(date(RapidReviews::DayZero))
                    .col(string_len_null(RapidReviews::Outcome, 32))
                    .col(date_null(RapidReviews::OutcomeRecordedOn))
                    .col(uuid_null(RapidReviews::ConvertedReviewId))
                    .col(timestamp_with_time_zone(RapidReviews::CreatedAt))
                    .col(integer(RapidReviews::Version).default(1))
                    .foreign_key(&mut fk(
                        (RapidReviews::Table, RapidReviews::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rapid_reviews_case")
                    .table(RapidReviews::Table)
                    .col(RapidReviews::CaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RapidReviewSteps::Table)
                    .col(uuid(RapidReviewSteps::RapidReviewId))
                    .col(string_len(RapidReviewSteps::StepKey, 48))
                    .col(string_len(RapidReviewSteps::Name, 200))
                    .col(integer(RapidReviewSteps::Position))
                    .col(integer(RapidReviewSteps::OffsetDays))
                    .col(date(RapidReviewSteps::DueOn))
                    .col(date_null(RapidReviewSteps::CompletedOn))
                    .col(text_null(RapidReviewSteps::MissedReason))
                    .primary_key(
                        Index::create()
                            .col(RapidReviewSteps::RapidReviewId)
                            .col(RapidReviewSteps::StepKey),
                    )
                    .foreign_key(&mut fk(
                        (RapidReviewSteps::Table, RapidReviewSteps::RapidReviewId),
                        (RapidReviews::Table, RapidReviews::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RapidReviewSummaries::Table)
                    .col(uuid(RapidReviewSummaries::RapidReviewId))
                    .col(uuid(RapidReviewSummaries::AgencyId))
                    .col(date(RapidReviewSummaries::DueOn))
                    .col(date_null(RapidReviewSummaries::ReceivedOn))
                    .primary_key(
                        Index::create()
                            .col(RapidReviewSummaries::RapidReviewId)
                            .col(RapidReviewSummaries::AgencyId),
                    )
                    .foreign_key(&mut fk(
                        (
                            RapidReviewSummaries::Table,
                            RapidReviewSummaries::RapidReviewId,
                        ),
                        (RapidReviews::Table, RapidReviews::Id),
                    ))
                    .foreign_key(&mut fk(
                        (RapidReviewSummaries::Table, RapidReviewSummaries::AgencyId),
                        (Agencies::Table, Agencies::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reviews::Table)
                    .col(uuid(Reviews::Id).primary_key())
                    .col(uuid(Reviews::CaseId))
                    .col(string_len(Reviews::ReviewTypeCode, 32))
                    .col(date(Reviews::CommissionedOn))
                    .col(uuid_null(Reviews::ConvertedFromRapidReviewId))
                    .col(uuid_null(Reviews::ConvertedFromReviewId))
                    .col(string_len(Reviews::Status, 32))
                    .col(timestamp_with_time_zone(Reviews::CreatedAt))
                    .foreign_key(&mut fk(
                        (Reviews::Table, Reviews::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Reviews::Table, Reviews::ReviewTypeCode),
                        (ReviewTypes::Table, ReviewTypes::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_reviews_case")
                    .table(Reviews::Table)
                    .col(Reviews::CaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DeadlineReasons::Table)
                    .col(uuid(DeadlineReasons::Id).primary_key())
                    .col(uuid(DeadlineReasons::CaseId))
                    .col(string_len(DeadlineReasons::DeadlineKey, 64))
                    .col(text(DeadlineReasons::Reason))
                    .col(uuid(DeadlineReasons::RecordedBy))
                    .col(timestamp_with_time_zone(DeadlineReasons::RecordedAt))
                    .foreign_key(&mut fk(
                        (DeadlineReasons::Table, DeadlineReasons::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CalendarFeeds::Table)
                    .col(string_len(CalendarFeeds::TokenHash, 64).primary_key())
                    .col(uuid(CalendarFeeds::PersonId))
                    .col(timestamp_with_time_zone(CalendarFeeds::CreatedAt))
                    .col(timestamp_with_time_zone_null(CalendarFeeds::RevokedAt))
                    .foreign_key(&mut fk(
                        (CalendarFeeds::Table, CalendarFeeds::PersonId),
                        (People::Table, People::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "m0003 cannot be reversed; restore from a backup".to_string(),
        ))
    }
}
