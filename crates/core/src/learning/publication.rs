//! Publishing a learning item is the same act as publishing a review: its title and lesson go
//! to practitioners and the public learning page, so they pass the same anonymisation check
//! (against everything recorded on the case of the review it came from), a person confirms
//! the motivated-intruder check, and the caller has asked for the authenticator code again.
//! What passed is frozen in the library; the item cannot be un-published.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use super::{ActiveModel, Entity, Item};
use crate::anonymise::{self, Hit};
use crate::error::{CoreError, CoreResult};
use crate::reviews::publication::{Confirmation, Finding};
use crate::{FieldError, reviews};

/// Checks the item's text against the identifiers of the case it came from (if any).
pub async fn check(db: &impl ConnectionTrait, item: &Item) -> CoreResult<Vec<Finding>> {
    let identifiers = match item.item.review_id {
        Some(review_id) => {
            let review = reviews::get(db, review_id).await?;
            reviews::publication::gather(db, &review).await?
        }
        None => Vec::new(),
    };
    let mut findings = Vec::new();
    for (field, place, text) in [
        ("title", "the title", &item.item.title),
        ("lesson", "the lesson", &item.item.lesson),
        (
            "why_it_matters",
            "why it matters",
            &item.item.why_it_matters,
        ),
        (
            "do_differently",
            "what to do differently",
            &item.item.do_differently,
        ),
        (
            "supervision_questions",
            "the supervision questions",
            &item.item.supervision_questions,
        ),
        ("more_info", "where to find more", &item.item.more_info),
    ] {
        for Hit {
            kind,
            offset,
            found,
        } in anonymise::check(text, &identifiers)
        {
            findings.push(Finding {
                field: field.to_string(),
                place: place.to_string(),
                kind,
                offset,
                found,
            });
        }
    }
    Ok(findings)
}

/// Publishes the item: refused while anything identifying is found or the motivated-intruder
/// check is not confirmed. `version` is the one the person saw.
pub async fn publish(
    db: &impl ConnectionTrait,
    item_id: Uuid,
    confirmation: &Confirmation,
    version: i32,
) -> CoreResult<Item> {
    let item = super::get(db, item_id).await?;
    if item.item.published {
        return Err(CoreError::invalid(
            "publish",
            "The learning is already published",
        ));
    }
    let stale = || {
        CoreError::Conflict("The learning changed since you opened it: check it again".to_string())
    };
    if item.item.version != version {
        return Err(stale());
    }
    let mut errors = Vec::new();
    for finding in check(db, &item).await? {
        errors.push(FieldError::new(
            finding.field.clone(),
            format!("Remove {} before publishing", finding.describe()),
        ));
    }
    if !confirmation.intruder_check {
        errors.push(FieldError::new(
            "intruder_check",
            "Confirm that you read the learning as a motivated intruder would, and nothing identifies anyone",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    let updated = Entity::update_many()
        .set(ActiveModel {
            published: Set(true),
            version: Set(version + 1),
            ..Default::default()
        })
        .filter(super::Column::Id.eq(item_id))
        .filter(super::Column::Version.eq(version))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(stale());
    }
    // What passed the check becomes the library's public copy of the lesson.
    let document = super::library_document(db, item_id).await?;
    crate::library::freeze(db, item_id, vec![document]).await?;
    super::get(db, item_id).await
}
