//! Actions through the pages: the tracker (filtered, paged, exported), one action with its
//! dated updates and evidence, new actions, updates with a version check (a stale save gets
//! 409 showing what changed and keeping what was typed), and sign-off.

mod changes;
mod evidence;
mod export;
mod new;
mod page;
mod tracker;

use std::collections::HashMap;

use chrono::NaiveDate;
use learnloop_core::actions::{self, Rag, Rules};
use learnloop_core::{agencies, people};
use uuid::Uuid;

use crate::error::PageError;
use crate::pages::dates;

pub use changes::{add_update, sign_off};
pub use evidence::evidence;
pub use export::{EXPORT_CAP, EXPORT_HEADERS, export_csv, export_xlsx};
pub use new::{create, new_form};
pub use page::show;
pub use tracker::{PER_PAGE, TrackerQuery, tracker_page};

/// How pages show a RAG rating: the GOV.UK tag's colour class (templates call
/// `rag.tag_class()`).
pub trait RagTag {
    fn tag_class(self) -> &'static str;
}

impl RagTag for Rag {
    fn tag_class(self) -> &'static str {
        match self {
            Rag::Red => "govuk-tag--red",
            Rag::Amber => "govuk-tag--orange",
            Rag::Green => "govuk-tag--green",
            Rag::Complete => "govuk-tag--blue",
        }
    }
}

/// Names for ids, loaded once per page.
pub struct Names {
    pub agencies: HashMap<Uuid, (String, String)>,
    pub people: HashMap<Uuid, (String, String)>,
}

impl Names {
    pub async fn load(db: &impl sea_orm::ConnectionTrait) -> Result<Names, PageError> {
        Ok(Names {
            agencies: agencies::list(db)
                .await?
                .into_iter()
                .map(|a| (a.id, (a.name, a.code)))
                .collect(),
            people: people::list(db)
                .await?
                .into_iter()
                .map(|p| (p.id, (p.name, p.email)))
                .collect(),
        })
    }

    pub fn agency(&self, id: Uuid) -> String {
        self.agencies
            .get(&id)
            .map(|(name, _)| name.clone())
            .unwrap_or_default()
    }

    pub fn agency_code(&self, id: Uuid) -> String {
        self.agencies
            .get(&id)
            .map(|(_, code)| code.clone())
            .unwrap_or_default()
    }

    pub fn person(&self, id: Option<Uuid>) -> String {
        id.and_then(|id| self.people.get(&id))
            .map(|(name, _)| name.clone())
            .unwrap_or_default()
    }

    pub fn email(&self, id: Option<Uuid>) -> String {
        id.and_then(|id| self.people.get(&id))
            .map(|(_, email)| email.clone())
            .unwrap_or_default()
    }
}

/// An action as a row of the tracker or of a plan.
pub struct Row {
    pub id: String,
    pub reference: String,
    pub description: String,
    pub agency: String,
    pub lead: String,
    pub due: String,
    pub status: &'static str,
    pub rag: Rag,
}

pub fn row(action: &actions::Model, names: &Names, today: NaiveDate, rules: &Rules) -> Row {
    let mut description: String = action.description.chars().take(140).collect();
    if action.description.chars().count() > 140 {
        description.push('…');
    }
    Row {
        id: action.id.to_string(),
        reference: action.reference.clone(),
        description,
        agency: names.agency(action.owner_agency_id),
        lead: names.person(action.lead_person_id),
        due: dates::short(action.due_on),
        status: action.status().label(),
        rag: action.rag(today, rules.remind_days_before),
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// (value, label) pairs as choices, `chosen` selected.
fn choose(pairs: impl IntoIterator<Item = (String, String)>, chosen: &str) -> Vec<Choice> {
    pairs
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == chosen,
            value,
            label,
        })
        .collect()
}
