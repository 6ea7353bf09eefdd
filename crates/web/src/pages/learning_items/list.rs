//! The list of learning items with the loop's measures, and recording a new item.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, Response};
use learnloop_core::access::{Action, Record, can};
use learnloop_core::learning::{self, Stage};
use learnloop_core::{FieldError, agencies, partnerships, themes};
use serde::Deserialize;
use uuid::Uuid;

use super::MeasuresView;
use super::measures::measures_view;
use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::Caller;
use crate::pages::change::{self, Change, Created};
use crate::pages::dates;
use crate::pages::forms::{self, Pairs};
use crate::pages::layout::{Layout, render};
use crate::pages::library::{Choice, choose};
use crate::state::AppState;

/// The most learning items the list shows.
const LIST_LIMIT: usize = 200;

pub struct ItemRow {
    id: String,
    title: String,
    source: &'static str,
    identified: String,
    stage: Stage,
    published: bool,
}

#[derive(Template)]
#[template(path = "pages/learning_items.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<ItemRow>,
    measures: MeasuresView,
    stages: Vec<Choice>,
    can_manage: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    stage: String,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> PageResult<Html<String>> {
    let actor = caller.actor();
    let txn = state.db.read().await?;
    let rows: Vec<ItemRow> = learning::load(&txn, None)
        .await?
        .into_iter()
        .filter(|i| learning::may_read(actor, i))
        .filter(|i| query.stage.is_empty() || i.stage().as_str() == query.stage)
        // The newest; the library searches them all.
        .take(LIST_LIMIT)
        .map(|i| ItemRow {
            id: i.item.id.to_string(),
            title: i.item.title.clone(),
            source: learning::source_label(&i.item.source_kind),
            identified: dates::short(i.item.identified_on),
            stage: i.stage(),
            published: i.item.published,
        })
        .collect();
    let page = ListPage {
        layout: Layout::new("Learning", "/learning-items"),
        rows,
        measures: measures_view(&txn, actor).await?,
        stages: choose(
            Stage::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), s.label().to_string())),
            std::slice::from_ref(&query.stage),
        ),
        can_manage: can(actor, Action::ManageLearning, Record::None),
    };
    drop(txn);
    // One entry per list: the filter's kind and how many were shown, never the titles.
    crate::audited::record_read(
        &state,
        caller
            .viewer()
            .event("learning_items.listed", "allowed")
            .on("learning_items", page.rows.len())
            .because((!query.stage.is_empty()).then(|| "filter: stage".to_string())),
    )
    .await?;
    render(&page)
}

#[derive(Template)]
#[template(path = "pages/learning_item_new.html")]
struct NewPage {
    layout: Layout,
    sources: Vec<Choice>,
    themes: Vec<Choice>,
    partnerships: Vec<Choice>,
    agencies: Vec<Choice>,
    entry_id: String,
}

async fn new_page(
    state: &AppState,
    values: Pairs,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let all = |name: &str| forms::all(&values, name);
    let mut agency_list: Vec<(String, String)> = agencies::list(&txn)
        .await?
        .into_iter()
        .map(|a| (a.id.to_string(), a.name))
        .collect();
    agency_list.sort_by(|a, b| a.1.cmp(&b.1));
    let page = NewPage {
        sources: choose(
            learning::SOURCES
                .iter()
                .map(|(k, l)| (k.to_string(), l.to_string())),
            &all("source_kind"),
        ),
        themes: choose(
            themes::list(&txn)
                .await?
                .into_iter()
                .filter(|t| t.active)
                .map(|t| (t.code, t.label)),
            &all("themes"),
        ),
        partnerships: choose(
            partnerships::list(&txn)
                .await?
                .into_iter()
                .map(|p| (p.id.to_string(), p.name)),
            &all("partnership_ids"),
        ),
        agencies: choose(agency_list, &all("agency_ids")),
        entry_id: forms::field(&values, "source_entry_id"),
        layout: Layout::new("New learning item", "/learning-items")
            .with_errors(errors)
            .with_values(values),
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    entry: Option<String>,
}

pub async fn new_form(
    State(state): State<AppState>,
    Query(query): Query<NewQuery>,
) -> PageResult<Html<String>> {
    let mut values: Pairs = Vec::new();
    if let Some(id) = query.entry.and_then(|e| Uuid::parse_str(&e).ok()) {
        let txn = state.db.read().await?;
        // From a review finding: the form starts with its words, themes and agencies.
        if let Some(found) = learning::draft::from_finding(&txn, id).await? {
            let mut push = |name: &str, value: String| values.push((name.to_string(), value));
            push("source_entry_id", found.entry_id.to_string());
            push("source_kind", "review_finding".to_string());
            push("title", found.title);
            push("lesson", found.lesson);
            for theme in found.themes {
                push("themes", theme);
            }
            if let Some(partnership) = found.partnership_id {
                push("partnership_ids", partnership.to_string());
            }
            for agency in found.agency_ids {
                push("agency_ids", agency.to_string());
            }
        }
    }
    new_page(&state, values, Vec::new()).await
}

/// Records a new item.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = caller.now;
    let input = learning::NewItem {
        title: forms::field(&form, "title"),
        lesson: forms::field(&form, "lesson"),
        source_kind: forms::field(&form, "source_kind"),
        source_entry_id: Uuid::parse_str(forms::field(&form, "source_entry_id").trim()).ok(),
        why_it_matters: forms::field(&form, "why_it_matters"),
        do_differently: forms::field(&form, "do_differently"),
        supervision_questions: forms::field(&form, "supervision_questions"),
        more_info: forms::field(&form, "more_info"),
        themes: forms::all(&form, "themes"),
        partnership_ids: forms::ids(&form, "partnership_ids"),
        agency_ids: forms::ids(&form, "agency_ids"),
        // Publishing is its own page, with the check and the second factor.
        published: false,
        identified_on: forms::field(&form, "identified_on"),
    };
    let by = caller.signed_in.person.id;
    change::on_page_creating(
        &state,
        &caller,
        Change::creating("learning.created", "learning_item"),
        async |txn| {
            let item = learning::create(txn, &input, by, now).await?;
            Ok(Created {
                id: item.id,
                value: (),
            })
        },
        |created| format!("/learning-items/{}", created.id),
        async |errors, _| new_page(&state, form.clone(), errors).await,
    )
    .await
}
