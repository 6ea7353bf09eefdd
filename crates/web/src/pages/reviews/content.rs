//! Content: lines of enquiry, key practice episodes, findings, recommendations and good
//! practice, each finding with the earlier learning most like it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};
use learnloop_core::access::{Action, Record, can};
use learnloop_core::reviews::entries;
use learnloop_core::themes;
use uuid::Uuid;

use super::{
    Choice, Head, Need, Opened, Powers, ReviewChange, Tab, agency_choices, agency_names, change,
    choices,
};
use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::{Caller, RecordId};
use crate::pages::forms::{self, Pairs};
use crate::pages::layout::{Layout, render};
use crate::pages::library::{SimilarRow, similar_rows};
use crate::state::AppState;

pub struct EntryRow {
    id: String,
    actionable: bool,
    finding: bool,
    similar: Vec<SimilarRow>,
    title: String,
    body: String,
    agencies: Vec<String>,
    themes: Vec<String>,
}

pub struct EntrySection {
    id: &'static str,
    heading: &'static str,
    entries: Vec<EntryRow>,
}

#[derive(Template)]
#[template(path = "pages/review_content.html")]
struct ContentPage {
    layout: Layout,
    head: Head,
    powers: Powers,
    sections: Vec<EntrySection>,
    kinds: Vec<Choice>,
    agencies: Vec<Choice>,
    practice_themes: Vec<Choice>,
    abuse_themes: Vec<Choice>,
    /// May create actions and plans from the recommendations.
    can_act: bool,
    can_learn: bool,
    action_plans: Vec<Choice>,
}

/// Earlier learning like each finding, from other reviews and lessons (not this review's own
/// entries), at most three each.
async fn similar_to_findings(
    opened: &Opened<'_>,
    all: &[entries::Entry],
) -> PageResult<HashMap<Uuid, Vec<SimilarRow>>> {
    let own: Vec<Uuid> = all.iter().map(|e| e.entry.id).collect();
    let findings: Vec<Uuid> = all
        .iter()
        .filter(|e| e.entry.kind == entries::FINDING)
        .map(|e| e.entry.id)
        .collect();
    Ok(similar_rows(opened.txn, opened.actor, &findings, 8)
        .await?
        .into_iter()
        .map(|(finding, rows)| {
            let rows = rows
                .into_iter()
                .filter(|row| !own.contains(&row.source_id))
                .take(3)
                .collect();
            (finding, rows)
        })
        .collect())
}

pub(super) async fn page(opened: Opened<'_>) -> PageResult<Html<String>> {
    let id = opened.review.id;
    let txn = opened.txn;
    let actor = opened.actor;
    let names = agency_names(txn).await?;
    let taxonomy = themes::list(txn).await?;
    let theme_names: HashMap<String, String> = taxonomy
        .iter()
        .map(|t| (t.code.clone(), t.label.clone()))
        .collect();
    let all = entries::of_review(txn, id).await?;
    let mut similar = similar_to_findings(&opened, &all).await?;
    let sections = entries::KINDS
        .iter()
        .map(|(kind, _, heading, _)| EntrySection {
            id: kind,
            heading,
            entries: all
                .iter()
                .filter(|e| e.entry.kind == *kind)
                .map(|e| EntryRow {
                    id: e.entry.id.to_string(),
                    actionable: e.entry.kind == entries::RECOMMENDATION,
                    finding: e.entry.kind == entries::FINDING,
                    similar: similar.remove(&e.entry.id).unwrap_or_default(),
                    title: e.entry.title.clone(),
                    body: e.entry.body.clone(),
                    agencies: e
                        .agency_ids
                        .iter()
                        .filter_map(|a| names.get(a).cloned())
                        .collect(),
                    themes: e
                        .theme_codes
                        .iter()
                        .filter_map(|t| theme_names.get(t).cloned())
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let theme_choices = |family: &str| {
        choices(
            taxonomy
                .iter()
                .filter(|t| t.active && t.family == family)
                .map(|t| (t.code.clone(), t.label.clone())),
        )
    };
    let action_plans = choices(
        learnloop_core::actions::plans::of_review(txn, id)
            .await?
            .into_iter()
            .map(|p| (p.id.to_string(), p.title)),
    );
    render(&ContentPage {
        sections,
        kinds: choices(
            entries::KINDS
                .iter()
                .map(|(k, l, _, _)| (k.to_string(), l.to_string())),
        ),
        agencies: agency_choices(&names),
        practice_themes: theme_choices("practice"),
        abuse_themes: theme_choices("abuse"),
        can_act: can(actor, Action::ManageActions, Record::None),
        can_learn: can(actor, Action::ManageLearning, Record::None),
        action_plans,
        layout: opened.layout,
        head: opened.head,
        powers: opened.powers,
    })
}

pub async fn add_entry(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = caller.now;
    let input = entries::EntryInput {
        kind: forms::field(&form, "kind"),
        title: forms::field(&form, "title"),
        body: forms::field(&form, "body"),
        agency_ids: forms::ids(&form, "agency_ids"),
        themes: forms::all(&form, "themes"),
    };
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::Content,
            need: Need::Manage,
            action: "review.entry_added",
            values: form.clone(),
        },
        async |txn| entries::add(txn, id, &input, now).await,
    )
    .await
}
