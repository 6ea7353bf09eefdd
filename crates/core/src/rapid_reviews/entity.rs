use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rapid_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub decision_id: Option<Uuid>,
    /// The day the partnership became aware: day 0 of every step.
    pub day_zero: NaiveDate,
    pub outcome: Option<String>,
    pub outcome_recorded_on: Option<NaiveDate>,
    pub converted_review_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod steps {
    use chrono::NaiveDate;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rapid_review_steps")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub rapid_review_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub step_key: String,
        pub name: String,
        pub position: i32,
        pub offset_days: i32,
        pub due_on: NaiveDate,
        pub completed_on: Option<NaiveDate>,
        pub missed_reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod summaries {
    use chrono::NaiveDate;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rapid_review_summaries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub rapid_review_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: Uuid,
        pub due_on: NaiveDate,
        pub received_on: Option<NaiveDate>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
