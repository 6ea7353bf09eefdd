//! The themes taxonomy shared by findings, recommendations and (later) learning items:
//! configuration in the database, seeded with the national panel's recurring practice themes
//! and the common types of abuse (Care Act statutory guidance, Working Together 2023).

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::error::CoreResult;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, utoipa::ToSchema)]
#[sea_orm(table_name = "themes")]
#[schema(as = Theme)]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub label: String,
    /// "practice" (how agencies worked) or "abuse" (the type of abuse or vulnerability).
    pub family: String,
    pub position: i32,
    pub active: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The seeded taxonomy: (code, label, family).
pub const DEFAULTS: [(&str, &str, &str); 24] = [
    ("information_sharing", "Information sharing", "practice"),
    (
        "professional_curiosity",
        "Professional curiosity",
        "practice",
    ),
    (
        "risk_assessment",
        "Risk assessment and decision making",
        "practice",
    ),
    (
        "voice_of_the_person",
        "Voice of the child or adult",
        "practice",
    ),
    ("fathers_male_carers", "Fathers and male carers", "practice"),
    ("multi_agency_working", "Multi-agency working", "practice"),
    ("mental_capacity", "Mental capacity", "practice"),
    (
        "escalation",
        "Escalation and professional challenge",
        "practice",
    ),
    (
        "supervision",
        "Supervision and management oversight",
        "practice",
    ),
    (
        "transitions",
        "Transitions (to adulthood, between services)",
        "practice",
    ),
    (
        "parental_mental_health",
        "Parental mental health and substance use",
        "practice",
    ),
    (
        "neurodiversity",
        "Neurodiversity and disability",
        "practice",
    ),
    (
        "culture_identity",
        "Culture, ethnicity and identity",
        "practice",
    ),
    ("safe_sleep", "Safe sleep", "practice"),
    ("neglect", "Neglect", "abuse"),
    ("self_neglect", "Self-neglect", "abuse"),
    ("physical", "Physical abuse", "abuse"),
    ("sexual", "Sexual abuse", "abuse"),
    ("emotional", "Emotional or psychological abuse", "abuse"),
    ("domestic_abuse", "Domestic abuse", "abuse"),
    ("financial", "Financial or material abuse", "abuse"),
    ("organisational", "Organisational abuse", "abuse"),
    (
        "exploitation",
        "Exploitation (criminal and sexual)",
        "abuse",
    ),
    ("modern_slavery", "Modern slavery", "abuse"),
];

/// Inserts the seeded themes that are missing; edited or retired ones stay as they are.
pub async fn ensure_defaults(db: &impl ConnectionTrait) -> CoreResult<()> {
    for (position, (code, label, family)) in DEFAULTS.iter().enumerate() {
        if Entity::find_by_id(String::from(*code))
            .one(db)
            .await?
            .is_none()
        {
            Entity::insert(ActiveModel {
                code: Set(String::from(*code)),
                label: Set(String::from(*label)),
                family: Set(String::from(*family)),
                position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
                active: Set(true),
            })
            .exec_without_returning(db)
            .await?;
        }
    }
    Ok(())
}

/// Every theme, in the taxonomy's order.
pub async fn list(db: &impl ConnectionTrait) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .order_by_asc(Column::Position)
        .order_by_asc(Column::Code)
        .all(db)
        .await?)
}
