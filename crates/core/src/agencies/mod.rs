//! Agencies: the partnership's member organisations (council social care, police, NHS bodies,
//! schools, probation, ...). Every person belongs to one agency.

pub mod entity;
pub mod membership;

use chrono::Utc;
use sea_orm::sea_query::StringLen;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};
use crate::validate;
use crate::{FieldError, partnerships};
pub use entity::Model as Agency;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(48))")]
#[serde(rename_all = "snake_case")]
pub enum AgencyType {
    #[sea_orm(string_value = "childrens_social_care")]
    ChildrensSocialCare,
    #[sea_orm(string_value = "adult_social_care")]
    AdultSocialCare,
    #[sea_orm(string_value = "police")]
    Police,
    #[sea_orm(string_value = "integrated_care_board")]
    IntegratedCareBoard,
    #[sea_orm(string_value = "nhs_acute_trust")]
    NhsAcuteTrust,
    #[sea_orm(string_value = "nhs_community_trust")]
    NhsCommunityTrust,
    #[sea_orm(string_value = "nhs_mental_health_trust")]
    NhsMentalHealthTrust,
    #[sea_orm(string_value = "general_practice")]
    GeneralPractice,
    #[sea_orm(string_value = "probation")]
    Probation,
    #[sea_orm(string_value = "education")]
    Education,
    #[sea_orm(string_value = "housing")]
    Housing,
    #[sea_orm(string_value = "ambulance")]
    Ambulance,
    #[sea_orm(string_value = "voluntary_sector")]
    VoluntarySector,
    #[sea_orm(string_value = "partnership_team")]
    PartnershipTeam,
    #[sea_orm(string_value = "other")]
    Other,
}

impl AgencyType {
    pub const ALL: [AgencyType; 15] = [
        AgencyType::ChildrensSocialCare,
        AgencyType::AdultSocialCare,
        AgencyType::Police,
        AgencyType::IntegratedCareBoard,
        AgencyType::NhsAcuteTrust,
        AgencyType::NhsCommunityTrust,
        AgencyType::NhsMentalHealthTrust,
        AgencyType::GeneralPractice,
        AgencyType::Probation,
        AgencyType::Education,
        AgencyType::Housing,
        AgencyType::Ambulance,
        AgencyType::VoluntarySector,
        AgencyType::PartnershipTeam,
        AgencyType::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AgencyType::ChildrensSocialCare => "Children's social care",
            AgencyType::AdultSocialCare => "Adult social care",
            AgencyType::Police => "Police",
            AgencyType::IntegratedCareBoard => "Integrated care board",
            AgencyType::NhsAcuteTrust => "NHS hospital trust",
            AgencyType::NhsCommunityTrust => "NHS community health trust",
            AgencyType::NhsMentalHealthTrust => "NHS mental health trust",
            AgencyType::GeneralPractice => "General practice",
            AgencyType::Probation => "Probation service",
            AgencyType::Education => "Schools and colleges",
            AgencyType::Housing => "Housing",
            AgencyType::Ambulance => "Ambulance service",
            AgencyType::VoluntarySector => "Voluntary sector",
            AgencyType::PartnershipTeam => "Partnership team",
            AgencyType::Other => "Other",
        }
    }
}

/// What a caller supplies to create an agency.
#[derive(Debug, Clone)]
pub struct NewAgency {
    pub code: String,
    pub name: String,
    pub agency_type: AgencyType,
    pub partnership_ids: Vec<Uuid>,
}

pub async fn list(db: &impl ConnectionTrait) -> CoreResult<Vec<Agency>> {
    Ok(entity::Entity::find()
        .order_by_asc(entity::Column::Name)
        .all(db)
        .await?)
}

pub async fn count(db: &impl ConnectionTrait) -> CoreResult<u64> {
    Ok(entity::Entity::find().count(db).await?)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<Agency> {
    entity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}

pub async fn find_by_code(db: &impl ConnectionTrait, code: &str) -> CoreResult<Option<Agency>> {
    Ok(entity::Entity::find()
        .filter(entity::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// Validates and creates an agency with its partnership memberships. Call inside a write
/// transaction so a rejected input writes nothing.
pub async fn create(db: &impl ConnectionTrait, input: NewAgency) -> CoreResult<Agency> {
    let mut errors = Vec::new();
    let code = validate::code("code", &input.code, &mut errors);
    let name = validate::required_text("name", &input.name, 200, &mut errors);
    for (index, partnership_id) in input.partnership_ids.iter().enumerate() {
        if partnerships::entity::Entity::find_by_id(*partnership_id)
            .one(db)
            .await?
            .is_none()
        {
            errors.push(FieldError::new(
                format!("partnership_ids[{index}]"),
                "No partnership has this id",
            ));
        }
    }
    if errors.is_empty() && find_by_code(db, &code).await?.is_some() {
        errors.push(FieldError::new(
            "code",
            "An agency with this code already exists",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    let now = Utc::now();
    let model = entity::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name: Set(name),
        agency_type: Set(input.agency_type),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let agency = entity::Entity::insert(model)
        .exec_with_returning(db)
        .await?;
    for partnership_id in input.partnership_ids {
        membership::add(db, partnership_id, agency.id).await?;
    }
    Ok(agency)
}

/// Returns the agency with this code, creating it when it does not exist yet.
pub async fn ensure(db: &impl ConnectionTrait, input: NewAgency) -> CoreResult<Agency> {
    match find_by_code(db, &input.code).await? {
        Some(existing) => {
            for partnership_id in input.partnership_ids {
                membership::add(db, partnership_id, existing.id).await?;
            }
            Ok(existing)
        }
        None => create(db, input).await,
    }
}
