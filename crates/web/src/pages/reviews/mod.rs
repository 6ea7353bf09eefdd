//! A review's pages, one per part of the review: the overview with its stages and clock,
//! people and agency contributions, voices, content, documents and publication. Everyone who
//! may see the review sees these pages; the forms appear to those who may use them, and every
//! change is checked again against the review itself (`changes`).

mod changes;
mod content;
mod documents;
mod overview;
mod people;
mod publication;
mod voices;

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Html;
use chrono::NaiveDate;
use learnloop_core::access::{Action, Actor, Record, can};
use learnloop_core::cases::CaseRecord;
use learnloop_core::reviews::{self, stages};
use learnloop_core::{FieldError, agencies, partnerships, review_types};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::dates;
use super::forms::Pairs;
use super::layout::Layout;
use crate::error::{PageError, PageResult};
use crate::extract::{Caller, RecordId};
use crate::state::AppState;

pub use changes::{Need, ReviewChange, change, check_change, may_change};
pub use content::add_entry;
pub use overview::{RescheduleForm, StageForm, complete_stage, reschedule_stage, update_details};
pub use people::{appoint, request_contribution};
pub use publication::{add_identifier, publish, save_public_text, set_hold};
pub use voices::{add_family, add_practitioner_event};

/// The parts of a review, each its own page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    People,
    Voices,
    Content,
    Documents,
    Publication,
}

impl Tab {
    const ALL: [Tab; 6] = [
        Tab::Overview,
        Tab::People,
        Tab::Voices,
        Tab::Content,
        Tab::Documents,
        Tab::Publication,
    ];

    fn suffix(self) -> &'static str {
        match self {
            Tab::Overview => "",
            Tab::People => "/people",
            Tab::Voices => "/voices",
            Tab::Content => "/content",
            Tab::Documents => "/documents",
            Tab::Publication => "/publication",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview and stages",
            Tab::People => "People and contributions",
            Tab::Voices => "Voices",
            Tab::Content => "Findings and recommendations",
            Tab::Documents => "Documents",
            Tab::Publication => "Publication",
        }
    }

    /// The address of this part of the review.
    pub fn href(self, id: Uuid) -> String {
        format!("/reviews/{id}{}", self.suffix())
    }
}

pub struct TabLink {
    href: String,
    label: &'static str,
    current: bool,
}

/// What every review page shows at its top.
pub struct Head {
    id: String,
    title: String,
    reference: String,
    type_name: String,
    case_id: String,
    pseudonym: String,
    partnership: String,
    stage: String,
    commissioned_on: String,
    report_due_on: String,
    hold_reason: String,
    published_on: String,
    converted_from: Option<(String, String)>,
    tabs: Vec<TabLink>,
    sees_case: bool,
}

/// What the viewer may do on this review.
#[derive(Debug, Clone, Copy)]
pub struct Powers {
    manage: bool,
    publish: bool,
    identity: bool,
}

fn powers(actor: &Actor, review_id: Uuid, agency_ids: &[Uuid]) -> Powers {
    let record = Record::Review {
        review_id,
        agency_ids,
    };
    Powers {
        manage: can(actor, Action::ManageReview, record),
        publish: can(actor, Action::PublishReview, record),
        identity: can(actor, Action::ViewCaseIdentity, Record::Case { agency_ids }),
    }
}

async fn head(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    review: &reviews::Model,
    case: &CaseRecord,
    tab: Tab,
) -> Result<Head, PageError> {
    let type_name = review_types::store::get(db, &review.review_type_code)
        .await
        .map(|t| t.name)
        .unwrap_or_else(|_| review.review_type_code.clone());
    let all_stages = stages::of_review(db, review.id).await?;
    let partnership = match review.partnership_id {
        Some(id) => partnerships::list(db)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .map(|p| p.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let converted_from = match (
        review.converted_from_review_id,
        review.converted_from_rapid_review_id,
    ) {
        (Some(from), _) => Some((
            format!("/reviews/{from}"),
            "the review it was converted from".to_string(),
        )),
        (None, Some(from)) => Some((
            format!("/rapid-reviews/{from}"),
            "the rapid review it came from".to_string(),
        )),
        _ => None,
    };
    Ok(Head {
        id: review.id.to_string(),
        title: review.title.clone(),
        reference: review.reference.clone().unwrap_or_default(),
        type_name,
        case_id: case.case.id.to_string(),
        pseudonym: case.case.pseudonym.clone(),
        partnership,
        stage: stages::stage_label(&all_stages, &review.status),
        commissioned_on: dates::short(review.commissioned_on),
        report_due_on: dates::short_or_blank(review.report_due_on),
        hold_reason: review.hold_reason.clone().unwrap_or_default(),
        published_on: dates::short_or_blank(review.published_on),
        converted_from,
        tabs: Tab::ALL
            .iter()
            .map(|t| TabLink {
                href: t.href(review.id),
                label: t.label(),
                current: *t == tab,
            })
            .collect(),
        sees_case: can(
            actor,
            Action::ViewCase,
            Record::Case {
                agency_ids: &case.agency_ids,
            },
        ),
    })
}

async fn agency_names(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<HashMap<Uuid, String>, PageError> {
    Ok(agencies::list(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

pub struct Choice {
    value: String,
    label: String,
}

fn choices(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<Choice> {
    pairs
        .into_iter()
        .map(|(value, label)| Choice { value, label })
        .collect()
}

/// Every agency to choose from, by name.
fn agency_choices(names: &HashMap<Uuid, String>) -> Vec<Choice> {
    let mut all: Vec<(String, String)> = names
        .iter()
        .map(|(id, name)| (id.to_string(), name.clone()))
        .collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    choices(all)
}

/// Label pairs of a core list of (key, label), as choices.
fn labelled(pairs: &[(&str, &str)]) -> Vec<Choice> {
    choices(pairs.iter().map(|(k, l)| (k.to_string(), l.to_string())))
}

/// The version of the record the form was filled in against (0 if missing: only stale).
fn version_of(pairs: &Pairs) -> i32 {
    super::forms::field(pairs, "version")
        .trim()
        .parse()
        .unwrap_or(0)
}

/// A review opened for the viewer, with what every part's page shows: each part draws its
/// page from this, in the same read transaction.
struct Opened<'a> {
    txn: &'a DatabaseTransaction,
    actor: &'a Actor,
    review: reviews::Model,
    case: CaseRecord,
    powers: Powers,
    head: Head,
    layout: Layout,
    today: NaiveDate,
}

/// Renders one part of the review, with any errors from a refused change. Opening the review
/// records the view, so a form shown again is a recorded read too.
pub async fn render_tab(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    tab: Tab,
    errors: Vec<FieldError>,
    values: Pairs,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let (review, case) =
        reviews::open(&txn, crate::extract::journal(state), &caller.viewer(), id).await?;
    let actor = caller.actor();
    let opened = Opened {
        txn: &txn,
        actor,
        powers: powers(actor, id, &case.agency_ids),
        head: head(&txn, actor, &review, &case, tab).await?,
        layout: Layout::new(format!("{}: {}", tab.label(), review.title), "/reviews")
            .with_errors(errors)
            .with_values(values),
        today: caller.now.date_naive(),
        review,
        case,
    };
    let html = match tab {
        Tab::Overview => overview::page(opened).await?,
        Tab::People => people::page(opened).await?,
        Tab::Voices => voices::page(opened).await?,
        Tab::Content => content::page(opened).await?,
        Tab::Documents => documents::page(opened).await?,
        Tab::Publication => publication::page(opened).await?,
    };
    txn.commit().await?;
    Ok(html)
}

macro_rules! tab_page {
    ($name:ident, $tab:expr) => {
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            RecordId(id): RecordId,
        ) -> PageResult<Html<String>> {
            render_tab(&state, &caller, id, $tab, Vec::new(), Vec::new()).await
        }
    };
}

tab_page!(show, Tab::Overview);
tab_page!(people_page, Tab::People);
tab_page!(voices_page, Tab::Voices);
tab_page!(content_page, Tab::Content);
tab_page!(documents_page, Tab::Documents);
tab_page!(publication_page, Tab::Publication);
