//! How a review changes through its pages: `pages::change::on_page`, with the review opened
//! for the caller in the change's transaction and the power the change needs checked against
//! this review (seeing it is not enough). Done, it returns to the part of the review the change
//! belongs to; refused input shows that part again with the errors.

use axum::response::Response;
use learnloop_core::access::{Action, Actor, Record, can};
use learnloop_core::error::CoreResult;
use learnloop_core::reviews;
use learnloop_core::viewer::{Recording, Subject};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::{Tab, render_tab};
use crate::error::PageResult;
use crate::extract::Caller;
use crate::pages::change::{Change, on_page};
use crate::pages::forms::Pairs;
use crate::state::AppState;

/// The answer to a change the caller may not make, on a review they may see.
const REFUSED: &str = "You cannot make this change to this review";

/// What a change needs beyond seeing the review.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    Manage,
    Publish,
    Identity,
    Contribute(Uuid),
}

/// Whether the actor has the power a change needs on this review (seeing it is checked apart).
pub fn may_change(actor: &Actor, need: Need, review_id: Uuid, agency_ids: &[Uuid]) -> bool {
    let review_record = Record::Review {
        review_id,
        agency_ids,
    };
    match need {
        Need::Manage => can(actor, Action::ManageReview, review_record),
        Need::Publish => can(actor, Action::PublishReview, review_record),
        Need::Identity => can(actor, Action::ManageCase, Record::Case { agency_ids }),
        Need::Contribute(agency_id) => can(
            actor,
            Action::ContributeToReview,
            Record::Contribution {
                review_id,
                agency_id,
            },
        ),
    }
}

/// Checks, before an upload's body is read, that the caller may see the review and has the
/// power the change needs: a refused upload is never read, let alone parsed. Both refusals are
/// recorded; the allowed read is recorded later, with the change.
pub async fn check_change(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    need: Need,
    action: &str,
) -> PageResult<()> {
    let viewer = caller.viewer();
    let txn = state.db.read().await?;
    let (_, case) = reviews::open(&txn, crate::extract::refusals_only(state), &viewer, id).await?;
    drop(txn);
    // A refusal carries its "denied" entry, written when the error is answered.
    viewer.require(
        may_change(viewer.actor, need, id, &case.agency_ids),
        Subject::new(action, "review", id),
        REFUSED,
    )?;
    Ok(())
}

/// One change to a review: the part it belongs to, what it needs, its name in the audit trail,
/// and the form as sent (shown again if refused).
pub struct ReviewChange<'a> {
    pub tab: Tab,
    pub need: Need,
    pub action: &'a str,
    pub values: Pairs,
}

/// Makes one change to a review (see the module's comment).
pub async fn change<T>(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    change: ReviewChange<'_>,
    apply: impl AsyncFnOnce(&DatabaseTransaction) -> CoreResult<T>,
) -> PageResult<Response> {
    let ReviewChange {
        tab,
        need,
        action,
        values,
    } = change;
    let viewer = caller.viewer();
    on_page(
        state,
        caller,
        Change::new(action, "review", id),
        async move |txn| {
            let (_, case) = reviews::open(txn, Recording::InTransaction, &viewer, id).await?;
            viewer.require(
                may_change(viewer.actor, need, id, &case.agency_ids),
                Subject::new(action, "review", id),
                REFUSED,
            )?;
            apply(txn).await
        },
        |_| tab.href(id),
        async move |errors, _| render_tab(state, caller, id, tab, errors, values).await,
    )
    .await
}
