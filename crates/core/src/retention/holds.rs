//! Retention holds: while a hold is on a case, retention never purges it (an inquest, a civil
//! claim, a complaint to the ombudsman, a request from the national panel). A hold is lifted,
//! not deleted, so the case keeps the record of why it was kept; the holds go with the case
//! when it is purged in the end.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, Set};

use crate::error::{CoreError, CoreResult};
use crate::{FieldError, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_holds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub reason: String,
    /// The person who placed it; `None` from the command line.
    pub placed_by: Option<Uuid>,
    pub placed_at: DateTime<Utc>,
    pub lifted_by: Option<Uuid>,
    pub lifted_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn is_active(&self) -> bool {
        self.lifted_at.is_none()
    }
}

/// Places a hold on the case, with the reason it must be kept.
pub async fn place(
    db: &impl ConnectionTrait,
    case_id: Uuid,
    reason: &str,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    crate::cases::entity::Entity::find_by_id(case_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let reason = validate::required_text("reason", reason, 2000, &mut errors);
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    Ok(Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        reason: Set(reason),
        placed_by: Set(by),
        placed_at: Set(now),
        lifted_by: Set(None),
        lifted_at: Set(None),
    })
    .exec_with_returning(db)
    .await?)
}

/// Lifts every hold on the case; how many were lifted (0 when it had none).
pub async fn lift(
    db: &impl ConnectionTrait,
    case_id: Uuid,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> CoreResult<u64> {
    Ok(Entity::update_many()
        .col_expr(Column::LiftedAt, Expr::value(Some(now)))
        .col_expr(Column::LiftedBy, Expr::value(by))
        .filter(Column::CaseId.eq(case_id))
        .filter(Column::LiftedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// The holds of a case, newest first, lifted ones too.
pub async fn of_case(db: &impl ConnectionTrait, case_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::CaseId.eq(case_id))
        .order_by_desc(Column::PlacedAt)
        .all(db)
        .await?)
}

/// The cases with a hold in force.
pub async fn held_cases(db: &impl ConnectionTrait) -> CoreResult<HashSet<Uuid>> {
    Ok(Entity::find()
        .select_only()
        .column(Column::CaseId)
        .filter(Column::LiftedAt.is_null())
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The id of the case with this reference ("N-2019-12").
pub async fn case_by_reference(db: &impl ConnectionTrait, reference: &str) -> CoreResult<Uuid> {
    use crate::cases::entity::{Column as CaseColumn, Entity as Cases};
    Cases::find()
        .select_only()
        .column(CaseColumn::Id)
        .filter(CaseColumn::Reference.eq(reference.trim()))
        .into_tuple::<Uuid>()
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}
