//! One learning item's page: its journey through the loop (disseminations and each agency's
//! confirmation, evidence of embedding and of impact) and the earlier learning most like it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use learnloop_core::access::{Action, Record, Role, can};
use learnloop_core::learning::{self, Stage, evidence};
use learnloop_core::{FieldError, agencies, themes};
use uuid::Uuid;

use crate::error::PageResult;
use crate::extract::{Caller, RecordId};
use crate::pages::dates;
use crate::pages::forms::Pairs;
use crate::pages::layout::{Layout, render};
use crate::pages::library::{Choice, SimilarRow, similar_rows};
use crate::state::AppState;

pub struct ReachedRow {
    agency_id: String,
    agency: String,
    confirmed: String,
    can_confirm: bool,
}

pub struct DisseminationRow {
    id: String,
    channel: &'static str,
    held_on: String,
    audience: String,
    people: i32,
    reached: Vec<ReachedRow>,
}

pub struct EvidenceRow {
    stage: String,
    kind: &'static str,
    details: String,
    on: String,
    level: String,
}

/// One of the two evidence forms (embedded, evaluated).
pub struct EvidenceForm {
    stage_key: &'static str,
    heading: &'static str,
    kinds: Vec<(&'static str, &'static str)>,
}

impl EvidenceForm {
    fn is_evaluated(&self) -> bool {
        self.stage_key == "evaluated"
    }
}

#[derive(Template)]
#[template(path = "pages/learning_item.html")]
struct ItemPage {
    layout: Layout,
    id: String,
    title: String,
    lesson: String,
    source: &'static str,
    review_link: Option<String>,
    stage: Stage,
    published: bool,
    themes: Vec<String>,
    agencies: Vec<String>,
    stages: Vec<(Stage, String)>,
    disseminations: Vec<DisseminationRow>,
    evidence: Vec<EvidenceRow>,
    similar: Vec<SimilarRow>,
    can_manage: bool,
    /// May publish it (the business manager), while it is not yet published.
    can_publish: bool,
    channels: Vec<(&'static str, &'static str)>,
    evidence_forms: Vec<EvidenceForm>,
    agency_choices: Vec<Choice>,
    today: String,
}

fn evidence_row(e: evidence::Model) -> EvidenceRow {
    let evaluated = e.stage == "evaluated";
    EvidenceRow {
        stage: if evaluated { "Evaluated" } else { "Embedded" }.to_string(),
        kind: if evaluated {
            evidence::label(&evidence::EVALUATED_KINDS, &e.kind)
        } else {
            evidence::label(&evidence::EMBEDDED_KINDS, &e.kind)
        },
        details: e.details,
        on: dates::short(e.evidenced_on),
        level: e
            .kirkpatrick_level
            .map(|l| format!("Kirkpatrick level {l}"))
            .unwrap_or_default(),
    }
}

/// The item's page, with any errors from a refused change. Opening the item records the view,
/// so a form shown again is a recorded read too.
pub(super) async fn item_page(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    errors: Vec<FieldError>,
    values: Pairs,
) -> PageResult<Html<String>> {
    let actor = caller.actor();
    let txn = state.db.read().await?;
    let item = learning::open(
        &txn,
        crate::extract::journal(state),
        &caller.viewer(),
        "learning_item.view",
        id,
    )
    .await?;
    let names: HashMap<Uuid, String> = agencies::list(&txn)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let taxonomy: HashMap<String, String> = themes::list(&txn)
        .await?
        .into_iter()
        .map(|t| (t.code, t.label))
        .collect();
    let lead_agencies = actor.agencies_for(Role::AgencyLead);
    let manage = can(actor, Action::ManageLearning, Record::None);
    let disseminations = evidence::disseminations_of(&txn, id)
        .await?
        .into_iter()
        .map(|(d, reached)| DisseminationRow {
            id: d.id.to_string(),
            channel: evidence::label(&evidence::CHANNELS, &d.channel),
            held_on: dates::short(d.held_on),
            audience: d.audience,
            people: d.people_reached,
            reached: reached
                .into_iter()
                .map(|r| ReachedRow {
                    agency_id: r.agency_id.to_string(),
                    agency: names.get(&r.agency_id).cloned().unwrap_or_default(),
                    confirmed: dates::short_or_blank(r.confirmed_on),
                    can_confirm: r.confirmed_on.is_none()
                        && (manage || lead_agencies.contains(&r.agency_id)),
                })
                .collect(),
        })
        .collect();
    let evidence = evidence::of_item(&txn, id)
        .await?
        .into_iter()
        .map(evidence_row)
        .collect();
    let similar = similar_rows(&txn, actor, &[id], 5)
        .await?
        .remove(&id)
        .unwrap_or_default();
    drop(txn);
    let mut agency_choices: Vec<Choice> = names
        .iter()
        .map(|(id, name)| Choice {
            value: id.to_string(),
            label: name.clone(),
            selected: item.agency_ids.contains(id),
        })
        .collect();
    agency_choices.sort_by(|a, b| a.label.cmp(&b.label));
    render(&ItemPage {
        layout: Layout::new(item.item.title.clone(), "/learning-items")
            .with_errors(errors)
            .with_values(values),
        id: id.to_string(),
        title: item.item.title.clone(),
        lesson: item.item.lesson.clone(),
        source: learning::source_label(&item.item.source_kind),
        review_link: item.item.review_id.map(|r| format!("/reviews/{r}/content")),
        stage: item.stage(),
        published: item.item.published,
        themes: item
            .themes
            .iter()
            .filter_map(|c| taxonomy.get(c).cloned())
            .collect(),
        agencies: item
            .agency_ids
            .iter()
            .filter_map(|a| names.get(a).cloned())
            .collect(),
        stages: vec![
            (Stage::Identified, dates::short(item.item.identified_on)),
            (
                Stage::Disseminated,
                dates::short_or_blank(item.disseminated_on),
            ),
            (Stage::Embedded, dates::short_or_blank(item.embedded_on)),
            (Stage::Evaluated, dates::short_or_blank(item.evaluated_on)),
        ],
        disseminations,
        evidence,
        similar,
        can_manage: manage,
        can_publish: !item.item.published && can(actor, Action::PublishLearning, Record::None),
        channels: evidence::CHANNELS.to_vec(),
        evidence_forms: vec![
            EvidenceForm {
                stage_key: "embedded",
                heading: "Record evidence it is embedded",
                kinds: evidence::EMBEDDED_KINDS.to_vec(),
            },
            EvidenceForm {
                stage_key: "evaluated",
                heading: "Record evidence of impact",
                kinds: evidence::EVALUATED_KINDS.to_vec(),
            },
        ],
        agency_choices,
        today: dates::iso(caller.now.date_naive()),
    })
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> PageResult<Html<String>> {
    item_page(&state, &caller, id, Vec::new(), Vec::new()).await
}
