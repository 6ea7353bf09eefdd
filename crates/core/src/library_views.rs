//! What the library's pages show beside a document that the library itself does not hold: the
//! actions taken on an earlier finding or lesson. This sits above the library and the domains
//! (actions, learning, reviews) so that neither imports the other in a circle; the library and
//! the domains never import it.

use sea_orm::ConnectionTrait;
use sea_orm::entity::prelude::*;

use crate::error::CoreResult;
use crate::reviews::entries;
use crate::{actions, learning, library};

/// What was done about an earlier finding or lesson: the actions that answered it (or its
/// review's recommendations) and how many are closed, as (all, closed).
pub async fn what_was_done(
    db: &impl ConnectionTrait,
    doc: &library::Model,
) -> CoreResult<(usize, usize)> {
    let list = match doc.source_kind.as_str() {
        "recommendation" => {
            actions::Entity::find()
                .filter(actions::Column::SourceEntryId.eq(doc.source_id))
                .all(db)
                .await?
        }
        // A finding is answered by every action of its review.
        "finding" => match entries::Entity::find_by_id(doc.source_id).one(db).await? {
            Some(entry) => {
                actions::Entity::find()
                    .filter(actions::Column::ReviewId.eq(entry.review_id))
                    .all(db)
                    .await?
            }
            None => Vec::new(),
        },
        // A lesson, by the actions of the review it came from (none if from no review).
        _ => match learning::Entity::find_by_id(doc.source_id).one(db).await? {
            Some(item) => match item.review_id {
                Some(review) => {
                    actions::Entity::find()
                        .filter(actions::Column::ReviewId.eq(review))
                        .all(db)
                        .await?
                }
                None => Vec::new(),
            },
            None => Vec::new(),
        },
    };
    let closed = list.iter().filter(|a| a.status().is_done()).count();
    Ok((list.len(), closed))
}
