//! The HTML pages. Each page is a typed askama template in `templates/pages/`, named like its
//! module here.

pub mod account;
pub mod action_import;
pub mod action_plans;
pub mod actions;
pub mod admin_audit;
pub mod admin_calendar;
pub mod admin_people;
pub mod admin_retention;
pub mod admin_review_types;
pub mod agencies;
pub mod api_docs;
pub mod calendar_feed;
pub mod case_attachments;
pub mod cases;
pub mod change;
pub mod dashboard;
pub mod dates;
pub mod deadlines;
pub mod decisions;
pub mod forms;
pub mod groups;
pub mod layout;
pub mod learning;
pub mod learning_items;
pub mod learning_publication;
pub mod library;
pub mod outbox;
pub mod partnerships;
pub mod rapid_reviews;
pub mod review_documents;
pub mod review_list;
pub mod reviews;
pub mod sign_in;
pub mod step_up;
pub mod tokens;

use uuid::Uuid;

/// Ids in addresses are UUIDs; anything else names no record.
pub use crate::extract::parse_id;

/// Keeps an uploaded file under `files_dir` by its id: written to a temporary name first, then
/// renamed, so a half-written file never carries the id. Returns where it is.
pub fn store_file(
    files_dir: &std::path::Path,
    id: Uuid,
    bytes: &[u8],
) -> std::io::Result<std::path::PathBuf> {
    let final_path = files_dir.join(id.to_string());
    let temporary = files_dir.join(format!("{id}.part"));
    std::fs::create_dir_all(files_dir)?;
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, &final_path)?;
    Ok(final_path)
}

/// Removes what a process killed mid-upload left under `files_dir`: the temporary `.part`
/// files `store_file` had not yet renamed (no record names them). Run at start, before any
/// request; returns how many went.
pub fn remove_partial_files(files_dir: &std::path::Path) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(files_dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    let mut removed = 0;
    for entry in entries {
        let path = entry?.path();
        if path
            .extension()
            .is_some_and(|extension| extension == "part")
            && path.is_file()
        {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}
