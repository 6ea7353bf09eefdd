//! Read model: what a new learning item taken from a review finding starts with.

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::error::CoreResult;
use crate::reviews::{self, entries};

/// A finding's words and what it belongs to, to fill in a new learning item with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromFinding {
    pub entry_id: Uuid,
    pub title: String,
    pub lesson: String,
    pub themes: Vec<String>,
    /// The partnership that commissioned the review, if one did.
    pub partnership_id: Option<Uuid>,
    /// The agencies involved in the review's case.
    pub agency_ids: Vec<Uuid>,
}

/// The finding (or other review entry) `entry_id` as a new learning item's start, or `None`
/// when there is no such entry.
pub async fn from_finding(
    db: &impl ConnectionTrait,
    entry_id: Uuid,
) -> CoreResult<Option<FromFinding>> {
    let Some(entry) = entries::Entity::find_by_id(entry_id).one(db).await? else {
        return Ok(None);
    };
    let review = reviews::get(db, entry.review_id).await?;
    let case = crate::cases::get(db, review.case_id).await?;
    let themes = entries::of_review(db, review.id)
        .await?
        .into_iter()
        .filter(|found| found.entry.id == entry_id)
        .flat_map(|found| found.theme_codes)
        .collect();
    Ok(Some(FromFinding {
        entry_id,
        title: entry.title,
        lesson: entry.body,
        themes,
        partnership_id: review.partnership_id,
        agency_ids: case.agency_ids,
    }))
}
