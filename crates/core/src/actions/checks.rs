//! The assurance checks' table: one row per check, scheduled when a plan is signed off and
//! completed when its finding is recorded. Plans schedule checks and `assurance` records
//! findings; both build on this module, so neither needs the other's (see `assurance`).

use chrono::NaiveDate;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::error::CoreResult;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assurance_checks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    pub due_on: NaiveDate,
    pub completed_on: Option<NaiveDate>,
    /// "yes", "partly" or "no".
    pub embedded: Option<String>,
    pub evidence_kind: Option<String>,
    pub evidence: Option<String>,
    pub judgement: Option<String>,
    pub recorded_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Schedules the check of a plan, due on `due_on`.
pub(crate) async fn schedule(
    db: &impl ConnectionTrait,
    plan_id: Uuid,
    due_on: NaiveDate,
) -> CoreResult<Model> {
    Ok(Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan_id),
        due_on: Set(due_on),
        completed_on: Set(None),
        embedded: Set(None),
        evidence_kind: Set(None),
        evidence: Set(None),
        judgement: Set(None),
        recorded_by: Set(None),
    })
    .exec_with_returning(db)
    .await?)
}

pub async fn of_plan(db: &impl ConnectionTrait, plan_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::PlanId.eq(plan_id))
        .order_by_asc(Column::DueOn)
        .all(db)
        .await?)
}

/// Checks not yet recorded that are due on or before `today`.
pub async fn due(db: &impl ConnectionTrait, today: NaiveDate) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::CompletedOn.is_null())
        .filter(Column::DueOn.lte(today))
        .order_by_asc(Column::DueOn)
        .all(db)
        .await?)
}
