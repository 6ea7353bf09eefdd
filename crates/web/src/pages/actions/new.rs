//! A new action: the form (started from a review's recommendation or a plan when it is
//! opened from one) and adding it.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, Response};
use learnloop_core::actions::{self, plans};
use learnloop_core::{FieldError, themes};
use serde::Deserialize;
use uuid::Uuid;

use super::{Choice, Names, choose};
use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::Caller;
use crate::pages::change::{self, Change};
use crate::pages::forms::{self, Pairs};
use crate::pages::layout::{Layout, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/action_new.html")]
struct NewPage {
    layout: Layout,
    plans: Vec<Choice>,
    sources: Vec<Choice>,
    agencies: Vec<Choice>,
    people: Vec<Choice>,
    themes: Vec<Choice>,
    entry_id: String,
    entry_title: String,
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    entry: Option<String>,
    #[serde(default)]
    plan: Option<String>,
}

async fn new_page(
    state: &AppState,
    values: Pairs,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let names = Names::load(&txn).await?;
    let value = |name: &str| forms::field(&values, name);
    let entry_id = value("source_entry_id");
    let entry_title = match Uuid::parse_str(&entry_id) {
        Ok(id) => actions::source_entry(&txn, id)
            .await?
            .map(|entry| entry.title)
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let mut agencies: Vec<(String, String)> = names
        .agencies
        .iter()
        .map(|(id, (name, _))| (id.to_string(), name.clone()))
        .collect();
    agencies.sort_by(|a, b| a.1.cmp(&b.1));
    let mut everyone: Vec<(String, String)> = names
        .people
        .iter()
        .map(|(id, (name, email))| (id.to_string(), format!("{name} ({email})")))
        .collect();
    everyone.sort_by(|a, b| a.1.cmp(&b.1));
    let chosen_themes = forms::all(&values, "themes");
    let page = NewPage {
        layout: Layout::new("New action", "/actions")
            .with_errors(errors)
            .with_values(values.clone()),
        plans: choose(
            plans::list(&txn)
                .await?
                .into_iter()
                .map(|p| (p.id.to_string(), p.title)),
            &value("plan_id"),
        ),
        sources: choose(
            actions::SOURCES
                .iter()
                .map(|(k, l)| (k.to_string(), l.to_string())),
            &value("source_kind"),
        ),
        agencies: choose(agencies, &value("owner_agency_id")),
        people: choose(everyone, &value("lead_person_id")),
        themes: themes::list(&txn)
            .await?
            .into_iter()
            .filter(|t| t.active)
            .map(|t| Choice {
                selected: chosen_themes.contains(&t.code),
                value: t.code,
                label: t.label,
            })
            .collect(),
        entry_title,
        entry_id,
    };
    render(&page)
}

pub async fn new_form(
    State(state): State<AppState>,
    Query(query): Query<NewQuery>,
) -> PageResult<Html<String>> {
    let mut values: Pairs = Vec::new();
    if let Some(entry) = query.entry.filter(|e| Uuid::parse_str(e).is_ok()) {
        values.push(("source_entry_id".to_string(), entry.clone()));
        values.push(("source_kind".to_string(), "review".to_string()));
        let txn = state.db.read().await?;
        if let Ok(id) = Uuid::parse_str(&entry)
            && let Some(found) = actions::source_entry(&txn, id).await?
        {
            values.push(("description".to_string(), found.body));
            for plan_id in found.plan_ids {
                values.push(("plan_id".to_string(), plan_id.to_string()));
            }
            for theme in found.theme_codes {
                values.push(("themes".to_string(), theme));
            }
        }
    }
    if let Some(plan) = query.plan.filter(|p| Uuid::parse_str(p).is_ok()) {
        values.push(("plan_id".to_string(), plan));
    }
    new_page(&state, values, Vec::new()).await
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let field_id = |name: &str| Uuid::parse_str(forms::field(&form, name).trim()).ok();
    let input = actions::NewAction {
        plan_id: field_id("plan_id"),
        source_kind: forms::field(&form, "source_kind"),
        source_entry_id: field_id("source_entry_id"),
        description: forms::field(&form, "description"),
        owner_agency_id: field_id("owner_agency_id"),
        lead_person_id: field_id("lead_person_id"),
        due_on: forms::field(&form, "due_on"),
        intended_outcome: forms::field(&form, "intended_outcome"),
        success_evidence: forms::field(&form, "success_evidence"),
        themes: forms::all(&form, "themes"),
        status: None,
    };
    let id = Uuid::now_v7();
    let person_id = caller.signed_in.person.id;
    change::on_page(
        &state,
        &caller,
        Change::new("action.created", "action", id),
        async |txn| actions::create_with_id(txn, id, &input, person_id, caller.now).await,
        |_| format!("/actions/{id}"),
        async |errors, _| new_page(&state, form, errors).await,
    )
    .await
}
