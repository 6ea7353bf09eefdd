//! The HTML pages. Each page is a typed askama template in `templates/pages/`, named like its
//! module here.

pub mod account;
pub mod action_import;
pub mod action_plans;
pub mod actions;
pub mod admin_audit;
pub mod admin_calendar;
pub mod admin_people;
pub mod admin_review_types;
pub mod agencies;
pub mod api_docs;
pub mod calendar_feed;
pub mod case_attachments;
pub mod cases;
pub mod dashboard;
pub mod deadlines;
pub mod decisions;
pub mod forms;
pub mod groups;
pub mod layout;
pub mod learning;
pub mod learning_items;
pub mod library;
pub mod outbox;
pub mod partnerships;
pub mod rapid_reviews;
pub mod review_documents;
pub mod review_list;
pub mod reviews;
pub mod sign_in;
pub mod tokens;

use uuid::Uuid;

use crate::error::AppError;

/// Ids in addresses are UUIDs; anything else names no record.
pub fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::not_found())
}
