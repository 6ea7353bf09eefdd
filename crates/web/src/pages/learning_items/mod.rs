//! Learning items through the pages: the list with the loop's measures, a new item (from a
//! review finding or anything else), one item with its journey through the loop (disseminations
//! and each agency's confirmation, evidence of embedding and of impact), the earlier learning
//! most like it, and its 7-minute briefing as a page and as a Word document.

mod briefings;
mod changes;
mod item;
mod list;
mod measures;

pub use briefings::{
    Briefing, briefing, briefing_docx, docx_response, item_briefing, review_briefing_docx,
    review_briefing_page,
};
pub use changes::{add_evidence, confirm, disseminate};
pub use item::show;
pub use list::{ListQuery, NewQuery, create, list, new_form};
pub use measures::{MeasuresView, measures_view};
