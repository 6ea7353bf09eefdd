//! Learning items through the pages: the list with the loop's measures, a new item (from a
//! review finding or anything else), one item with its journey through the loop (disseminations
//! and each agency's confirmation, evidence of embedding and of impact), the earlier learning
//! most like it, and its 7-minute briefing as a page and as a Word document.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use learnloop_core::access::{Action, Actor, Record, Role, can};
use learnloop_core::learning::{self, Item, Stage, evidence, measures};
use learnloop_core::library::{self, Reader, similar};
use learnloop_core::{CoreError, FieldError, agencies, audit, partnerships, reviews, themes};
use serde::Deserialize;
use uuid::Uuid;

use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::CsrfForm;
use crate::auth::{SignedIn, Source};
use crate::error::{AppError, PageError, PageResult};
use crate::state::AppState;

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choose(pairs: impl IntoIterator<Item = (String, String)>, chosen: &[String]) -> Vec<Choice> {
    pairs
        .into_iter()
        .map(|(value, label)| Choice {
            selected: chosen.contains(&value),
            value,
            label,
        })
        .collect()
}

fn date(on: Option<chrono::NaiveDate>) -> String {
    on.map(|d| d.format("%-d %b %Y").to_string())
        .unwrap_or_default()
}

/// The loop's measures, as shown on the dashboard and the list.
pub struct MeasuresView {
    pub at_stage: Vec<(Stage, usize)>,
    pub to_disseminated: String,
    pub to_embedded: String,
    pub to_evaluated: String,
    pub never_evaluated: String,
    pub not_reached: Vec<String>,
}

pub async fn measures_view(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
) -> Result<MeasuresView, PageError> {
    let measured = measures::for_reader(db, &Reader::of(actor)).await?;
    let names: HashMap<Uuid, String> = agencies::list(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let days = |d: Option<i64>| {
        d.map(|n| format!("{n} days"))
            .unwrap_or_else(|| "No items yet".to_string())
    };
    Ok(MeasuresView {
        at_stage: measured.at_stage,
        to_disseminated: days(measured.median_days_to_disseminated),
        to_embedded: days(measured.median_days_to_embedded),
        to_evaluated: days(measured.median_days_to_evaluated),
        never_evaluated: measured
            .never_evaluated_percent
            .map(|p| format!("{p}%"))
            .unwrap_or_else(|| "No items yet".to_string()),
        not_reached: measured
            .agencies_not_reached
            .iter()
            .filter_map(|a| names.get(a).cloned())
            .collect(),
    })
}

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
    signed_in: SignedIn,
    Source(source): Source,
    Query(query): Query<ListQuery>,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let rows: Vec<ItemRow> = learning::load(&txn, None)
        .await?
        .into_iter()
        .filter(|i| learning::may_read(&signed_in.actor, i))
        .filter(|i| query.stage.is_empty() || i.stage().as_str() == query.stage)
        // The newest; the library searches them all.
        .take(LIST_LIMIT)
        .map(|i| ItemRow {
            id: i.item.id.to_string(),
            title: i.item.title.clone(),
            source: learning::source_label(&i.item.source_kind),
            identified: date(Some(i.item.identified_on)),
            stage: i.stage(),
            published: i.item.published,
        })
        .collect();
    let page = ListPage {
        layout: Layout::new("Learning", "/learning-items"),
        rows,
        measures: measures_view(&txn, &signed_in.actor).await?,
        stages: choose(
            Stage::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), s.label().to_string())),
            std::slice::from_ref(&query.stage),
        ),
        can_manage: can(&signed_in.actor, Action::ManageLearning, Record::None),
    };
    drop(txn);
    // One entry per list: the filter's kind and how many were shown, never the titles.
    crate::audited::record_read(
        &state,
        audit::Event::new("learning_items.listed", "allowed")
            .by(&signed_in.actor)
            .on("learning_items", page.rows.len())
            .from_source(source)
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
        use sea_orm::EntityTrait;
        if let Some(entry) = reviews::entries::Entity::find_by_id(id).one(&txn).await? {
            let review = reviews::get(&txn, entry.review_id).await?;
            let case = learnloop_core::cases::get(&txn, review.case_id).await?;
            values.push(("source_entry_id".to_string(), id.to_string()));
            values.push(("source_kind".to_string(), "review_finding".to_string()));
            values.push(("title".to_string(), entry.title.clone()));
            values.push(("lesson".to_string(), entry.body.clone()));
            for found in reviews::entries::of_review(&txn, review.id)
                .await?
                .into_iter()
                .filter(|e| e.entry.id == id)
            {
                for theme in found.theme_codes {
                    values.push(("themes".to_string(), theme));
                }
            }
            if let Some(p) = review.partnership_id {
                values.push(("partnership_ids".to_string(), p.to_string()));
            }
            for agency in case.agency_ids {
                values.push(("agency_ids".to_string(), agency.to_string()));
            }
        }
    }
    new_page(&state, values, Vec::new()).await
}

pub async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = state.clock.now();
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
    let txn = state.db.write().await?;
    match learning::create(&txn, &input, signed_in.person.id, now).await {
        Ok(item) => {
            audit::append(
                &txn,
                audit::Event::new("learning.created", "succeeded")
                    .by(&signed_in.actor)
                    .on("learning_item", item.id)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/learning-items/{}", item.id)).into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            let page = new_page(&state, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

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

impl SimilarRow {
    pub fn href(&self) -> &str {
        &self.href
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    /// "Learning item, 2023; Information sharing. 2 of 3 actions closed."
    pub fn summary(&self) -> String {
        let themes = if self.themes.is_empty() {
            String::new()
        } else {
            format!("; {}", self.themes)
        };
        format!("{}, {}{}. {}.", self.kind, self.year, themes, self.done)
    }
}

impl EvidenceForm {
    fn is_evaluated(&self) -> bool {
        self.stage_key == "evaluated"
    }
}

pub struct SimilarRow {
    pub source_id: Uuid,
    href: String,
    title: String,
    kind: String,
    year: i32,
    themes: String,
    done: String,
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

/// Earlier learning like each of these findings or lessons (ranked when each was saved),
/// described with what was done about it.
pub async fn similar_rows(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    source_ids: &[Uuid],
    limit: usize,
) -> Result<HashMap<Uuid, Vec<SimilarRow>>, PageError> {
    let taxonomy: HashMap<String, String> = themes::list(db)
        .await?
        .into_iter()
        .map(|t| (t.code, t.label))
        .collect();
    let mut all = HashMap::new();
    for (source_id, found) in similar::remembered(db, source_ids, &Reader::of(actor), limit).await?
    {
        let rows: &mut Vec<SimilarRow> = all.entry(source_id).or_default();
        for (doc, _) in found {
            let (actions_total, actions_closed) = library::what_was_done(db, &doc).await?;
            let href = match doc.source_kind.as_str() {
                "learning_item" => format!("/learning-items/{}", doc.source_id),
                _ => format!(
                    "/library?q={}",
                    doc.title
                        .split_whitespace()
                        .take(4)
                        .collect::<Vec<_>>()
                        .join("+")
                ),
            };
            rows.push(SimilarRow {
                source_id: doc.source_id,
                href,
                title: doc.title.clone(),
                kind: match doc.source_kind.as_str() {
                    "learning_item" => "Learning item".to_string(),
                    _ => "Review finding".to_string(),
                },
                year: chrono::Datelike::year(&doc.dated_on),
                themes: doc
                    .theme_codes()
                    .iter()
                    .filter_map(|c| taxonomy.get(c).cloned())
                    .collect::<Vec<_>>()
                    .join(", "),
                done: if actions_total == 0 {
                    "No actions recorded".to_string()
                } else {
                    format!("{actions_closed} of {actions_total} actions closed")
                },
            });
        }
    }
    Ok(all)
}

async fn item_page(
    state: &AppState,
    signed_in: &SignedIn,
    id: Uuid,
    source: Option<String>,
    errors: Vec<FieldError>,
    values: Pairs,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let viewer = crate::extract::viewer(signed_in, &source, state.clock.now());
    let item = learning::open(
        &txn,
        crate::extract::journal(state),
        &viewer,
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
    let lead_agencies = signed_in.actor.agencies_for(Role::AgencyLead);
    let manage = can(&signed_in.actor, Action::ManageLearning, Record::None);
    let disseminations = evidence::disseminations_of(&txn, id)
        .await?
        .into_iter()
        .map(|(d, reached)| DisseminationRow {
            id: d.id.to_string(),
            channel: evidence::label(&evidence::CHANNELS, &d.channel),
            held_on: date(Some(d.held_on)),
            audience: d.audience,
            people: d.people_reached,
            reached: reached
                .into_iter()
                .map(|r| ReachedRow {
                    agency_id: r.agency_id.to_string(),
                    agency: names.get(&r.agency_id).cloned().unwrap_or_default(),
                    confirmed: date(r.confirmed_on),
                    can_confirm: r.confirmed_on.is_none()
                        && (manage || lead_agencies.contains(&r.agency_id)),
                })
                .collect(),
        })
        .collect();
    let evidence = evidence::of_item(&txn, id)
        .await?
        .into_iter()
        .map(|e| EvidenceRow {
            stage: if e.stage == "evaluated" {
                "Evaluated".to_string()
            } else {
                "Embedded".to_string()
            },
            kind: if e.stage == "evaluated" {
                evidence::label(&evidence::EVALUATED_KINDS, &e.kind)
            } else {
                evidence::label(&evidence::EMBEDDED_KINDS, &e.kind)
            },
            details: e.details,
            on: date(Some(e.evidenced_on)),
            level: e
                .kirkpatrick_level
                .map(|l| format!("Kirkpatrick level {l}"))
                .unwrap_or_default(),
        })
        .collect();
    let similar = similar_rows(&txn, &signed_in.actor, &[id], 5)
        .await?
        .remove(&id)
        .unwrap_or_default();
    let mut agency_choices: Vec<Choice> = names
        .iter()
        .map(|(id, name)| Choice {
            value: id.to_string(),
            label: name.clone(),
            selected: item.agency_ids.contains(id),
        })
        .collect();
    agency_choices.sort_by(|a, b| a.label.cmp(&b.label));
    let page = ItemPage {
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
            (Stage::Identified, date(Some(item.item.identified_on))),
            (Stage::Disseminated, date(item.disseminated_on)),
            (Stage::Embedded, date(item.embedded_on)),
            (Stage::Evaluated, date(item.evaluated_on)),
        ],
        disseminations,
        evidence,
        similar,
        can_manage: manage,
        can_publish: !item.item.published
            && can(&signed_in.actor, Action::PublishLearning, Record::None),
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
        today: state
            .clock
            .now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string(),
    };
    drop(txn);
    render(&page)
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    item_page(&state, &signed_in, id, source, Vec::new(), Vec::new()).await
}

async fn change<F, Fut>(
    state: &AppState,
    signed_in: &SignedIn,
    id: Uuid,
    source: Option<String>,
    action: &str,
    values: Pairs,
    apply: F,
) -> PageResult<Response>
where
    F: FnOnce(sea_orm::DatabaseTransaction) -> Fut,
    Fut: std::future::Future<Output = (sea_orm::DatabaseTransaction, Result<(), CoreError>)>,
{
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let viewer = crate::extract::viewer(signed_in, &source, now);
    learning::open(
        &txn,
        learnloop_core::viewer::Recording::InTransaction,
        &viewer,
        "learning_item.view",
        id,
    )
    .await?;
    let (txn, result) = apply(txn).await;
    match result {
        Ok(()) => {
            audit::append(
                &txn,
                audit::Event::new(action, "succeeded")
                    .by(&signed_in.actor)
                    .on("learning_item", id)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/learning-items/{id}")).into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            let page = item_page(state, signed_in, id, source, errors, values).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn disseminate(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let by = signed_in.person.id;
    let input = evidence::DisseminationInput {
        channel: forms::field(&form, "channel"),
        held_on: forms::field(&form, "held_on"),
        audience: forms::field(&form, "audience"),
        people_reached: forms::field(&form, "people_reached"),
        agency_ids: forms::ids(&form, "agency_ids"),
    };
    change(
        &state,
        &signed_in,
        id,
        source,
        "learning.disseminated",
        form,
        |txn| async move {
            let result = evidence::disseminate(&txn, id, &input, by, now)
                .await
                .map(|_| ());
            (txn, result)
        },
    )
    .await
}

pub async fn confirm(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path((id, dissemination_id, agency_id)): Path<(String, String, String)>,
    CsrfForm(_form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let dissemination_id = parse_id(&dissemination_id)?;
    let agency_id = parse_id(&agency_id)?;
    let allowed = can(&signed_in.actor, Action::ManageLearning, Record::None)
        || signed_in
            .actor
            .agencies_for(Role::AgencyLead)
            .contains(&agency_id);
    if !allowed {
        return Err(PageError(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Only the agency's safeguarding lead confirms for their agency",
        )));
    }
    let now = state.clock.now();
    let by = signed_in.person.id;
    change(
        &state,
        &signed_in,
        id,
        source,
        "learning.dissemination_confirmed",
        Vec::new(),
        |txn| async move {
            let result = async {
                let belongs = evidence::disseminations_of(&txn, id)
                    .await?
                    .iter()
                    .any(|(d, _)| d.id == dissemination_id);
                if !belongs {
                    return Err(CoreError::NotFound);
                }
                evidence::confirm(&txn, dissemination_id, agency_id, by, now.date_naive()).await
            }
            .await;
            (txn, result)
        },
    )
    .await
}

pub async fn add_evidence(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let by = signed_in.person.id;
    let stage = forms::field(&form, "stage");
    let prefix = if stage == "evaluated" {
        "evaluated"
    } else {
        "embedded"
    };
    let input = evidence::EvidenceInput {
        stage: stage.clone(),
        kind: forms::field(&form, "kind"),
        details: forms::field(&form, "details"),
        evidenced_on: forms::field(&form, "evidenced_on"),
        kirkpatrick_level: Some(forms::field(&form, "kirkpatrick_level")),
    };
    let action = format!("learning.{prefix}");
    let values: Pairs = form
        .iter()
        .map(|(k, v)| (format!("{prefix}_{k}"), v.clone()))
        .collect();
    change(
        &state,
        &signed_in,
        id,
        source,
        &action,
        values,
        |txn| async move {
            let result = evidence::add(&txn, id, &input, by, now)
                .await
                .map(|_| ())
                .map_err(|error| match error {
                    CoreError::Invalid(fields) => CoreError::Invalid(
                        fields
                            .into_iter()
                            .map(|mut f| {
                                f.field = format!("{prefix}_{}", f.field);
                                f
                            })
                            .collect(),
                    ),
                    other => other,
                });
            (txn, result)
        },
    )
    .await
}

// ----- 7-minute briefings -----

/// The six parts of a 7-minute briefing.
pub struct Briefing {
    pub title: String,
    pub sections: Vec<(&'static str, Vec<String>)>,
}

fn lines(text: &str) -> Vec<String> {
    text.split('\n')
        .map(|l| {
            l.trim()
                .trim_start_matches(['-', '*', '•'])
                .trim()
                .to_string()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

const DEFAULT_QUESTIONS: &str = "What would you have done in this situation?\nWhose voice is missing from your current cases?\nWho else needs to know what you know?";

pub fn item_briefing(item: &Item, case_in_brief: String) -> Briefing {
    let or = |text: &str, fallback: &str| {
        if text.trim().is_empty() {
            lines(fallback)
        } else {
            lines(text)
        }
    };
    Briefing {
        title: item.item.title.clone(),
        sections: vec![
            ("The case in brief", lines(&case_in_brief)),
            (
                "Why it matters",
                or(
                    &item.item.why_it_matters,
                    "Learning that is not acted on comes back in the next review.",
                ),
            ),
            ("What we learned", lines(&item.item.lesson)),
            (
                "What to do differently",
                or(
                    &item.item.do_differently,
                    "Discuss this learning in your next team meeting and agree one change.",
                ),
            ),
            (
                "Questions for supervision",
                or(&item.item.supervision_questions, DEFAULT_QUESTIONS),
            ),
            (
                "Where to find more",
                or(
                    &item.item.more_info,
                    "The partnership's learning library and published reviews.",
                ),
            ),
        ],
    }
}

async fn item_case(db: &impl sea_orm::ConnectionTrait, item: &Item) -> Result<String, PageError> {
    Ok(match item.item.review_id {
        Some(review) => {
            let review = reviews::get(db, review).await?;
            if review.public_summary.is_empty() {
                format!(
                    "Learning from a {}.",
                    learnloop_core::review_types::store::get(db, &review.review_type_code)
                        .await
                        .map(|t| t.name.to_lowercase())
                        .unwrap_or_default()
                )
            } else {
                review.public_summary
            }
        }
        None => format!(
            "Learning identified from {}.",
            learning::source_label(&item.item.source_kind).to_lowercase()
        ),
    })
}

#[derive(Template)]
#[template(path = "pages/briefing.html")]
struct BriefingPage {
    layout: Layout,
    briefing: Briefing,
    docx_href: String,
    back_href: String,
}

pub async fn briefing(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    let txn = state.db.read().await?;
    let viewer = crate::extract::viewer(&signed_in, &source, state.clock.now());
    let item = learning::open(
        &txn,
        crate::extract::journal(&state),
        &viewer,
        "learning_item.briefing",
        id,
    )
    .await?;
    let briefing = item_briefing(&item, item_case(&txn, &item).await?);
    drop(txn);
    render(&BriefingPage {
        layout: Layout::new(
            format!("7-minute briefing: {}", briefing.title),
            "/learning-items",
        ),
        briefing,
        docx_href: format!("/learning-items/{id}/briefing.docx"),
        back_href: format!("/learning-items/{id}"),
    })
}

pub fn docx_response(briefing: &Briefing, name: &str) -> PageResult<Response> {
    use learnloop_office::Block;
    let mut blocks = vec![Block::Title(format!(
        "7-minute briefing: {}",
        briefing.title
    ))];
    for (heading, lines) in &briefing.sections {
        blocks.push(Block::Heading((*heading).to_string()));
        let bullets = lines.len() > 1;
        for line in lines {
            blocks.push(if bullets {
                Block::Bullet(line.clone())
            } else {
                Block::Paragraph(line.clone())
            });
        }
    }
    let bytes = learnloop_office::write_docx(&blocks).map_err(|error| {
        tracing::error!(error = %error, "briefing failed");
        PageError(AppError::internal())
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    .to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub async fn briefing_docx(
    State(state): State<AppState>,
    signed_in: SignedIn,
    // A download carries data away: the authenticator code is asked again first.
    _: crate::auth::step_up::RecentStepUp,
    Source(source): Source,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let txn = state.db.read().await?;
    let viewer = crate::extract::viewer(&signed_in, &source, state.clock.now());
    let item = learning::open(
        &txn,
        crate::extract::journal(&state),
        &viewer,
        "learning_item.briefing_download",
        id,
    )
    .await?;
    let briefing = item_briefing(&item, item_case(&txn, &item).await?);
    drop(txn);
    docx_response(&briefing, "7-minute-briefing.docx")
}

/// A review's briefing: its summary, its findings and recommendations.
async fn review_briefing(
    db: &impl sea_orm::ConnectionTrait,
    review: &reviews::Model,
) -> Result<Briefing, PageError> {
    let all = reviews::entries::of_review(db, review.id).await?;
    let pick = |kind: &str| -> Vec<String> {
        all.iter()
            .filter(|e| e.entry.kind == kind)
            .map(|e| e.entry.title.clone())
            .collect()
    };
    let case = learnloop_core::cases::get(db, review.case_id).await?;
    let summary = if review.public_summary.is_empty() {
        case.case.summary.clone()
    } else {
        review.public_summary.clone()
    };
    Ok(Briefing {
        title: if review.public_title.is_empty() {
            review.title.clone()
        } else {
            review.public_title.clone()
        },
        sections: vec![
            ("The case in brief", lines(&summary)),
            (
                "Why it matters",
                lines(&review.subject_perspective)
                    .into_iter()
                    .take(2)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .chain(std::iter::once(
                        "The review asks every agency to change how it works.".to_string(),
                    ))
                    .collect(),
            ),
            ("What we learned", pick(reviews::entries::FINDING)),
            (
                "What to do differently",
                pick(reviews::entries::RECOMMENDATION),
            ),
            ("Questions for supervision", lines(DEFAULT_QUESTIONS)),
            (
                "Where to find more",
                vec![if review.published_on.is_some() {
                    format!("The published report: /learning/reviews/{}", review.id)
                } else {
                    "The review's pages in learnloop.".to_string()
                }],
            ),
        ],
    })
}

pub async fn review_briefing_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let txn = state.db.read().await?;
    let (review, _) = learnloop_core::reviews::open(
        &txn,
        crate::extract::journal(&state),
        &crate::extract::viewer(&signed_in, &source, now),
        id,
    )
    .await?;
    let briefing = review_briefing(&txn, &review).await?;
    txn.commit().await?;
    render(&BriefingPage {
        layout: Layout::new(format!("7-minute briefing: {}", briefing.title), "/reviews"),
        briefing,
        docx_href: format!("/reviews/{id}/briefing.docx"),
        back_href: format!("/reviews/{id}"),
    })
}

pub async fn review_briefing_docx(
    State(state): State<AppState>,
    signed_in: SignedIn,
    _: crate::auth::step_up::RecentStepUp,
    Source(source): Source,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let txn = state.db.read().await?;
    let (review, _) = learnloop_core::reviews::open(
        &txn,
        crate::extract::journal(&state),
        &crate::extract::viewer(&signed_in, &source, now),
        id,
    )
    .await?;
    let briefing = review_briefing(&txn, &review).await?;
    txn.commit().await?;
    docx_response(&briefing, "7-minute-briefing.docx")
}
