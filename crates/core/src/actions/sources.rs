//! The review entry a new action answers: what the new-action form starts from when it is
//! opened from a review's recommendation.

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::plans;
use crate::error::CoreResult;
use crate::reviews;

/// A review entry as a new action takes it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    pub title: String,
    /// The action's description starts as the entry's text.
    pub body: String,
    /// The plans answering the entry's review.
    pub plan_ids: Vec<Uuid>,
    /// The entry's themes.
    pub theme_codes: Vec<String>,
}

/// The review entry `entry_id`, or `None` when there is none.
pub async fn source_entry(
    db: &impl ConnectionTrait,
    entry_id: Uuid,
) -> CoreResult<Option<SourceEntry>> {
    let Some(found) = reviews::entries::Entity::find_by_id(entry_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let plan_ids = plans::of_review(db, found.review_id)
        .await?
        .into_iter()
        .map(|plan| plan.id)
        .collect();
    let theme_codes = reviews::entries::of_review(db, found.review_id)
        .await?
        .into_iter()
        .filter(|entry| entry.entry.id == entry_id)
        .flat_map(|entry| entry.theme_codes)
        .collect();
    Ok(Some(SourceEntry {
        title: found.title,
        body: found.body,
        plan_ids,
        theme_codes,
    }))
}
