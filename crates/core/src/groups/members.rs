//! Who sits on a group, and in what role.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};
use serde::Serialize;

use crate::error::CoreResult;
use crate::people;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    /// "chair", "vice_chair" or "member".
    pub role_in_group: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "crate::people::entity::Entity",
        from = "Column::PersonId",
        to = "crate::people::entity::Column::Id"
    )]
    Person,
}

impl Related<people::entity::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Person.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// A member as lists show them: the person's name, agency and role in the group.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub person_id: Uuid,
    pub name: String,
    pub agency_id: Uuid,
    pub role_in_group: String,
}

/// Adds the person to the group; adding them twice changes nothing.
pub async fn add(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    person_id: Uuid,
    role_in_group: &str,
) -> CoreResult<()> {
    if Entity::find_by_id((group_id, person_id))
        .one(db)
        .await?
        .is_none()
    {
        Entity::insert(ActiveModel {
            group_id: Set(group_id),
            person_id: Set(person_id),
            role_in_group: Set(role_in_group.to_string()),
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// The group's members with their names, chair first.
pub async fn of_group(db: &impl ConnectionTrait, group_id: Uuid) -> CoreResult<Vec<Member>> {
    let rows = Entity::find()
        .filter(Column::GroupId.eq(group_id))
        .find_also_related(people::entity::Entity)
        .order_by_asc(people::entity::Column::Name)
        .all(db)
        .await?;
    let mut members: Vec<Member> = rows
        .into_iter()
        .filter_map(|(membership, person)| {
            person.map(|person| Member {
                person_id: person.id,
                name: person.name,
                agency_id: person.agency_id,
                role_in_group: membership.role_in_group,
            })
        })
        .collect();
    members.sort_by_key(|member| match member.role_in_group.as_str() {
        "chair" => 0,
        "vice_chair" => 1,
        _ => 2,
    });
    Ok(members)
}
