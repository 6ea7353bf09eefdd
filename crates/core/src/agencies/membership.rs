//! Which partnerships an agency is a member of.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use crate::error::CoreResult;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partnership_agencies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub partnership_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub agency_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Adds the agency to the partnership; adding it twice changes nothing.
pub async fn add(
    db: &impl ConnectionTrait,
    partnership_id: Uuid,
    agency_id: Uuid,
) -> CoreResult<()> {
    if Entity::find_by_id((partnership_id, agency_id))
        .one(db)
        .await?
        .is_none()
    {
        Entity::insert(ActiveModel {
            partnership_id: Set(partnership_id),
            agency_id: Set(agency_id),
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// The ids of the partnerships this agency belongs to.
pub async fn partnerships_of(db: &impl ConnectionTrait, agency_id: Uuid) -> CoreResult<Vec<Uuid>> {
    Ok(Entity::find()
        .filter(Column::AgencyId.eq(agency_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.partnership_id)
        .collect())
}

/// Every (partnership, agency) pair, for building lists without one query per agency.
pub async fn all(db: &impl ConnectionTrait) -> CoreResult<Vec<Model>> {
    Ok(Entity::find().all(db).await?)
}
