//! Cases (notifications): the list, notifying a new case, and a case's page with its deadlines,
//! decisions, rapid reviews and reviews. Reading a case is recorded in the audit trail.

mod changes;
mod form;
mod list;
mod page;

use learnloop_core::cases::{IncidentKind, SubjectKind};

pub use changes::{deadline_reason, national_panel};
pub use form::{create, edit_form, new_form, update};
// The clocks' read model lives in core; this keeps its old address for pages that use it.
pub use learnloop_core::deadlines::open_deadlines;
pub use list::list;
pub use page::{DeadlineRow, case_page, deadline_row, show};

pub fn subject_label(kind: &str) -> &'static str {
    match SubjectKind::parse(kind) {
        Some(SubjectKind::Child) => "Child",
        _ => "Adult",
    }
}

pub fn incident_label(kind: &str) -> &'static str {
    IncidentKind::parse(kind)
        .map(IncidentKind::label)
        .unwrap_or("Other")
}
