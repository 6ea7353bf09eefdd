//! Role grants as stored: who holds which role, in which scope, from when to when.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use super::{Actor, Grant, Role, Scope, ScopeKind};
use crate::error::{CoreError, CoreResult};
use crate::identity::sessions;
use crate::{FieldError, agencies, people, tokens};

/// The message when someone tries to give themselves a role.
pub const SELF_GRANT_REFUSED: &str = "You cannot give yourself a role: ask another administrator";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub role: String,
    /// "partnership", "agency" or "review".
    pub scope: String,
    pub agency_id: Option<Uuid>,
    pub review_id: Option<Uuid>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub granted_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Whether holding this grant lets the person read case content.
    pub fn sees_case_content(&self) -> bool {
        Role::parse(&self.role).is_some_and(Role::sees_case_content)
    }

    /// The grant as the access rules see it; `None` for a row naming an unknown role.
    pub fn to_grant(&self) -> Option<Grant> {
        let role = Role::parse(&self.role)?;
        let scope = match (self.scope.as_str(), self.agency_id, self.review_id) {
            ("partnership", _, _) => Scope::Partnership,
            ("agency", Some(agency_id), _) => Scope::Agency(agency_id),
            ("review", _, Some(review_id)) => Scope::Review(review_id),
            _ => return None,
        };
        Some(Grant {
            id: self.id,
            role,
            scope,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
        })
    }
}

/// What a caller asks to grant.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub person_id: Uuid,
    pub role: Role,
    /// For agency-scoped roles; defaults to the person's own agency.
    pub agency_id: Option<Uuid>,
    /// For independent reviewers: the review they lead.
    pub review_id: Option<Uuid>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub granted_by: Option<Uuid>,
}

/// Grants a role. Nobody grants a role to themselves. A role that sees case content ends the
/// person's sessions and suspends their API tokens: both were authenticated for the roles held
/// before, perhaps without a second factor, and must not reach case content until the person
/// passes one. The caller audits the grant.
pub async fn grant(
    db: &impl ConnectionTrait,
    input: NewGrant,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    if input.granted_by == Some(input.person_id) {
        return Err(CoreError::Invalid(vec![FieldError::new(
            "role",
            SELF_GRANT_REFUSED,
        )]));
    }
    let person = people::get(db, input.person_id).await?;
    let mut errors = Vec::new();
    let (scope, agency_id, review_id) = match input.role.scope_kind() {
        ScopeKind::Partnership => ("partnership", None, None),
        ScopeKind::Agency => {
            let agency_id = input.agency_id.unwrap_or(person.agency_id);
            if agencies::entity::Entity::find_by_id(agency_id)
                .one(db)
                .await?
                .is_none()
            {
                errors.push(FieldError::new("agency_id", "No agency has this id"));
            }
            ("agency", Some(agency_id), None)
        }
        ScopeKind::Review => {
            if input.review_id.is_none() {
                errors.push(FieldError::new(
                    "review_id",
                    "Choose the review this reviewer leads",
                ));
            }
            if input.ends_on.is_none() {
                errors.push(FieldError::new(
                    "ends_on",
                    "Enter the last day of the reviewer's access",
                ));
            }
            ("review", None, input.review_id)
        }
    };
    if let (Some(start), Some(end)) = (input.starts_on, input.ends_on)
        && end < start
    {
        errors.push(FieldError::new(
            "ends_on",
            "The end date must be on or after the start date",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    if input.role.sees_case_content() {
        sessions::end_all_for(db, person.id).await?;
        tokens::suspend_all_for(db, person.id, now).await?;
    }
    Ok(Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(person.id),
        role: Set(input.role.as_str().to_string()),
        scope: Set(scope.to_string()),
        agency_id: Set(agency_id),
        review_id: Set(review_id),
        starts_on: Set(input.starts_on),
        ends_on: Set(input.ends_on),
        granted_by: Set(input.granted_by),
        created_at: Set(now),
        revoked_at: Set(None),
    })
    .exec_with_returning(db)
    .await?)
}

/// Ends a grant now. The caller also ends the person's sessions.
pub async fn revoke(
    db: &impl ConnectionTrait,
    grant_id: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let row = Entity::find_by_id(grant_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    let mut active: ActiveModel = row.into();
    active.revoked_at = Set(Some(now));
    Ok(active.update(db).await?)
}

pub async fn get(db: &impl ConnectionTrait, grant_id: Uuid) -> CoreResult<Model> {
    Entity::find_by_id(grant_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}

/// Every grant to one review (its independent reviewers), by id.
pub async fn of_review(
    db: &impl ConnectionTrait,
    review_id: Uuid,
) -> CoreResult<std::collections::HashMap<Uuid, Model>> {
    Ok(Entity::find()
        .filter(Column::ReviewId.eq(review_id))
        .all(db)
        .await?
        .into_iter()
        .map(|grant| (grant.id, grant))
        .collect())
}

/// Every grant the person has held, newest first, revoked ones included.
pub async fn of_person(db: &impl ConnectionTrait, person_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::PersonId.eq(person_id))
        .order_by_desc(Column::CreatedAt)
        .all(db)
        .await?)
}

/// The person as an actor on `today`: their agency and the grants in force. `None` for a
/// disabled person.
pub async fn actor_for(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    today: NaiveDate,
) -> CoreResult<Option<Actor>> {
    let person = people::get(db, person_id).await?;
    if !person.active {
        return Ok(None);
    }
    let grants = Entity::find()
        .filter(Column::PersonId.eq(person_id))
        .filter(Column::RevokedAt.is_null())
        .all(db)
        .await?
        .iter()
        .filter_map(Model::to_grant)
        .filter(|grant| grant.active_on(today))
        .collect();
    Ok(Some(Actor {
        person_id,
        agency_id: person.agency_id,
        grants,
    }))
}
