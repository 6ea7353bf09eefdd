use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reference: String,
    pub subject_kind: String,
    pub incident_kind: String,
    pub aware_on: NaiveDate,
    pub summary: String,
    pub pseudonym: String,
    pub age_band: String,
    /// Protected: only roles allowed `ViewCaseIdentity` see it.
    pub subject_name: Option<String>,
    /// Protected, like the name.
    pub subject_dob: Option<NaiveDate>,
    pub referrer: String,
    pub inquest: bool,
    pub criminal_proceedings: bool,
    pub police_investigation: bool,
    pub coroner: bool,
    pub national_panel_notified_on: Option<NaiveDate>,
    pub national_panel_notified_by: Option<String>,
    /// "open" or "closed".
    pub status: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod partnerships {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_partnerships")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub partnership_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod agencies {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_agencies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod reasons {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;

    /// Why a deadline was missed, as the partnership recorded it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deadline_reasons")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub case_id: Uuid,
        pub deadline_key: String,
        pub reason: String,
        pub recorded_by: Uuid,
        pub recorded_at: DateTime<Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
