//! Opening an action for a viewer, and who may sign one off.

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{Model, get, plans};
use crate::error::CoreResult;

/// Whether `actor` may see the action: the action, or not found.
pub async fn decide(
    db: &impl ConnectionTrait,
    actor: &crate::access::Actor,
    id: Uuid,
) -> CoreResult<crate::viewer::Decision<Model>> {
    use crate::access::{Action, Record, can};
    let action = get(db, id).await?;
    let allowed = can(
        actor,
        Action::ViewActions,
        Record::Action {
            agency_id: action.owner_agency_id,
        },
    );
    Ok(crate::viewer::Decision::hidden_unless(allowed, action))
}

/// Opens an action for a viewer: the decision ("action.view") is durable in the audit trail
/// before the action is returned. Another agency's action is not found.
pub async fn open(
    db: &impl ConnectionTrait,
    recording: crate::viewer::Recording<'_>,
    viewer: &crate::viewer::Viewer<'_>,
    id: Uuid,
) -> CoreResult<Model> {
    let subject = crate::viewer::Subject::new("action.view", "action", id);
    viewer
        .settle(db, recording, subject, decide(db, viewer.actor, id).await)
        .await
}

/// Whether `actor` may sign the action off: the partnership team, or a member of the group
/// overseeing its plan.
pub async fn may_sign_off(
    db: &impl ConnectionTrait,
    actor: &crate::access::Actor,
    action: &Model,
) -> CoreResult<bool> {
    use crate::access::{Action, Record, can};
    let actor_oversees_plan = match action.plan_id {
        Some(plan_id) if !can(actor, Action::SignOffActions, Record::None) => {
            let plan = plans::get(db, plan_id).await?;
            plans::oversees(db, &plan, actor.person_id).await?
        }
        _ => false,
    };
    Ok(can(
        actor,
        Action::SignOffActions,
        Record::OverseenAction {
            actor_oversees_plan,
        },
    ))
}
