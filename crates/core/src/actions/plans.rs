//! Action plans: the actions that answer one review or audit (or any other source), overseen by
//! a group such as the Practice Improvement group. The group signs off completed actions and
//! then the whole plan; signing off a plan schedules the assurance check (12 months later by
//! default) that asks whether the learning is embedded.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use super::{Rules, Status, checks};
use crate::error::{CoreError, CoreResult};
use crate::{FieldError, groups, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "action_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    pub source_kind: String,
    pub review_id: Option<Uuid>,
    /// The overseeing group.
    pub group_id: Option<Uuid>,
    /// "active", "signed_off" or "reopened".
    pub status: String,
    pub signed_off_on: Option<NaiveDate>,
    pub signed_off_by: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    pub title: String,
    pub source_kind: String,
    #[serde(default)]
    pub review_id: Option<Uuid>,
    #[serde(default)]
    pub group_id: Option<Uuid>,
}

pub async fn create(
    db: &impl ConnectionTrait,
    input: &NewPlan,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    create_with_id(db, Uuid::now_v7(), input, now).await
}

/// Creates a plan under an id the caller chose (so a change can name the plan in its audit
/// entry before it exists).
pub async fn create_with_id(
    db: &impl ConnectionTrait,
    id: Uuid,
    input: &NewPlan,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let mut errors = Vec::new();
    let title = validate::required_text("title", &input.title, 200, &mut errors);
    if !super::SOURCES
        .iter()
        .any(|(key, _)| *key == input.source_kind)
    {
        errors.push(FieldError::new(
            "source_kind",
            "Choose where the plan's actions come from",
        ));
    }
    if let Some(review) = input.review_id
        && crate::reviews::Entity::find_by_id(review)
            .one(db)
            .await?
            .is_none()
    {
        errors.push(FieldError::new("review_id", "No review has this id"));
    }
    if let Some(group) = input.group_id
        && groups::entity::Entity::find_by_id(group)
            .one(db)
            .await?
            .is_none()
    {
        errors.push(FieldError::new("group_id", "No group has this id"));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    Ok(Entity::insert(ActiveModel {
        id: Set(id),
        title: Set(title),
        source_kind: Set(input.source_kind.clone()),
        review_id: Set(input.review_id),
        group_id: Set(input.group_id),
        status: Set("active".to_string()),
        signed_off_on: Set(None),
        signed_off_by: Set(None),
        version: Set(1),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}

pub async fn list(db: &impl ConnectionTrait) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .order_by_desc(Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn of_review(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::ReviewId.eq(review_id))
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?)
}

/// The actions of a plan, by due date.
pub async fn actions_of(db: &impl ConnectionTrait, plan_id: Uuid) -> CoreResult<Vec<super::Model>> {
    Ok(super::Entity::find()
        .filter(super::Column::PlanId.eq(plan_id))
        .order_by_asc(super::Column::DueOn)
        .order_by_asc(super::Column::Reference)
        .all(db)
        .await?)
}

/// Whether the person is a member of the group that oversees the plan.
pub async fn oversees(
    db: &impl ConnectionTrait,
    plan: &Model,
    person_id: Uuid,
) -> CoreResult<bool> {
    let Some(group) = plan.group_id else {
        return Ok(false);
    };
    Ok(groups::members::of_group(db, group)
        .await?
        .iter()
        .any(|member| member.person_id == person_id))
}

/// Signs off a completed or closed action.
pub async fn sign_off_action(
    db: &impl ConnectionTrait,
    action_id: Uuid,
    version: i32,
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<super::Model> {
    let action = super::get(db, action_id).await?;
    if !action.status().is_done() {
        return Err(CoreError::invalid(
            "sign_off",
            "Only a completed or closed action can be signed off",
        ));
    }
    if action.signed_off_on.is_some() {
        return Err(CoreError::invalid(
            "sign_off",
            "The action is already signed off",
        ));
    }
    // Sign-off is oversight: the lead who did the work does not sign it off.
    if action.lead_person_id == Some(by) {
        return Err(CoreError::invalid(
            "sign_off",
            "Someone other than the action's lead signs it off",
        ));
    }
    if action.version != version {
        return Err(CoreError::Conflict(
            "someone else updated this action".to_string(),
        ));
    }
    let mut active: super::ActiveModel = action.clone().into();
    active.signed_off_on = Set(Some(now.date_naive()));
    active.signed_off_by = Set(Some(by));
    active.version = Set(version + 1);
    active.updated_at = Set(now);
    let changed = super::Entity::update_many()
        .set(active)
        .filter(super::Column::Id.eq(action_id))
        .filter(super::Column::Version.eq(version))
        .exec(db)
        .await?;
    if changed.rows_affected == 0 {
        return Err(CoreError::Conflict(
            "someone else updated this action".to_string(),
        ));
    }
    super::get(db, action_id).await
}

/// Signs off a whole plan once every action in it is signed off, and schedules its assurance
/// check `rules.assurance_months` later.
pub async fn sign_off_plan(
    db: &impl ConnectionTrait,
    plan_id: Uuid,
    by: Uuid,
    rules: &Rules,
    now: DateTime<Utc>,
) -> CoreResult<(Model, checks::Model)> {
    let plan = get(db, plan_id).await?;
    if plan.status == "signed_off" {
        return Err(CoreError::invalid(
            "sign_off",
            "The plan is already signed off",
        ));
    }
    let actions = actions_of(db, plan_id).await?;
    if actions.is_empty() {
        return Err(CoreError::invalid(
            "sign_off",
            "The plan has no actions to sign off",
        ));
    }
    let open: Vec<&str> = actions
        .iter()
        .filter(|action| action.signed_off_on.is_none())
        .map(|action| action.reference.as_str())
        .collect();
    if !open.is_empty() {
        return Err(CoreError::invalid(
            "sign_off",
            &format!(
                "Sign off every action first; not yet signed off: {}",
                open.join(", ")
            ),
        ));
    }
    let today = now.date_naive();
    let mut active: ActiveModel = plan.clone().into();
    active.status = Set("signed_off".to_string());
    active.signed_off_on = Set(Some(today));
    active.signed_off_by = Set(Some(by));
    active.version = Set(plan.version + 1);
    let plan = active.update(db).await?;
    let due = today
        .checked_add_months(chrono::Months::new(rules.assurance_months))
        .unwrap_or(today);
    let check = checks::schedule(db, plan_id, due).await?;
    Ok((plan, check))
}

/// Reopens a signed-off plan whose learning was found not embedded: its done actions go back to
/// "at risk" with an update saying why.
pub(crate) async fn reopen(
    db: &impl ConnectionTrait,
    plan_id: Uuid,
    why: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    let plan = get(db, plan_id).await?;
    let mut active: ActiveModel = plan.clone().into();
    active.status = Set("reopened".to_string());
    active.signed_off_on = Set(None);
    active.signed_off_by = Set(None);
    active.version = Set(plan.version + 1);
    active.update(db).await?;
    for action in actions_of(db, plan_id).await? {
        if !action.status().is_done() {
            continue;
        }
        super::updates::Entity::insert(super::updates::ActiveModel {
            id: Set(Uuid::now_v7()),
            action_id: Set(action.id),
            status: Set(Status::AtRisk.as_str().to_string()),
            narrative: Set(format!(
                "Reopened: the assurance check found the learning not embedded. {why}"
            )),
            written_by: Set(by),
            written_at: Set(now),
        })
        .exec_without_returning(db)
        .await?;
        super::updates::set_status(db, &action, Status::AtRisk, action.version, now).await?;
    }
    Ok(())
}
