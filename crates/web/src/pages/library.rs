//! The learning library: full-text search across findings, recommendations and learning items
//! of every review type and partnership, filtered by theme, type, agency and date, showing each
//! reader only what they are entitled to; and how often each theme recurred, by year.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use learnloop_core::library::{self, Reader};
use learnloop_core::{CoreError, agencies, library_views, review_types, themes};
use uuid::Uuid;

use super::layout::{Layout, render};
use crate::error::{PageError, PageResult};
use crate::extract::Caller;
use crate::state::AppState;

/// One option of a list to choose from, chosen or not.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Options from (value, label) pairs, those in `chosen` chosen.
pub fn choose(pairs: impl IntoIterator<Item = (String, String)>, chosen: &[String]) -> Vec<Choice> {
    pairs
        .into_iter()
        .map(|(value, label)| Choice {
            selected: chosen.contains(&value),
            value,
            label,
        })
        .collect()
}

pub use crate::queries::{BROWSE_PER_PAGE, SearchQuery, clean};

pub struct Hit {
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    pub href: Option<String>,
    pub year: i32,
    pub themes: String,
    pub restricted: bool,
}

pub fn hit(doc: &library::Model, theme_names: &HashMap<String, String>) -> Hit {
    let mut body: String = doc.body.chars().take(300).collect();
    if doc.body.chars().count() > 300 {
        body.push('…');
    }
    Hit {
        kind: match doc.source_kind.as_str() {
            "finding" => "Review finding",
            "recommendation" => "Recommendation",
            _ => "Learning item",
        },
        title: doc.title.clone(),
        body,
        href: (doc.source_kind == "learning_item")
            .then(|| format!("/learning-items/{}", doc.source_id)),
        year: chrono::Datelike::year(&doc.dated_on),
        themes: doc
            .theme_codes()
            .iter()
            .filter_map(|c| theme_names.get(c).cloned())
            .collect::<Vec<_>>()
            .join(", "),
        restricted: !doc.public,
    }
}

#[derive(Template)]
#[template(path = "pages/library.html")]
struct LibraryPage {
    layout: Layout,
    q: String,
    from: String,
    to: String,
    searched: bool,
    hits: Vec<Hit>,
    /// How many match in all (more than `hits` when browsing page by page).
    total: u64,
    page: u64,
    pages: u64,
    query: String,
    themes: Vec<Choice>,
    types: Vec<Choice>,
    agencies: Vec<Choice>,
}

pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SearchQuery>,
) -> PageResult<Response> {
    let txn = state.db.read().await?;
    let taxonomy = themes::list(&txn).await?;
    let names: HashMap<String, String> = taxonomy
        .iter()
        .map(|t| (t.code.clone(), t.label.clone()))
        .collect();
    let mut errors = Vec::new();
    let mut hits = Vec::new();
    let q = clean(&query.q).unwrap_or_default();
    let filtered = [
        &query.theme,
        &query.review_type,
        &query.agency,
        &query.from,
        &query.to,
    ]
    .iter()
    .any(|v| clean(v).is_some());
    let searched = !q.is_empty() || filtered;
    let reader = Reader::of(caller.actor());
    let page = query.page.unwrap_or(1).clamp(1, 100_000);
    let mut total = 0;
    match query.filter() {
        Err(error) => errors.push(error),
        Ok(filter) if !q.is_empty() => {
            match library::search(&txn, &q, &filter, &reader, 50).await {
                Ok(found) => hits = found.iter().map(|d| hit(d, &names)).collect(),
                Err(CoreError::Invalid(fields)) => errors.extend(fields),
                Err(other) => return Err(other.into()),
            }
        }
        Ok(filter) if filtered => {
            let (docs, all) =
                library::browse(&txn, &filter, &reader, page, BROWSE_PER_PAGE).await?;
            total = all;
            hits = docs.iter().map(|d| hit(d, &names)).collect()
        }
        Ok(_) => {}
    }
    let chosen = |value: &Option<String>| clean(value).into_iter().collect::<Vec<_>>();
    let mut agency_list: Vec<(String, String)> = agencies::list(&txn)
        .await?
        .into_iter()
        .map(|a| (a.id.to_string(), a.name))
        .collect();
    agency_list.sort_by(|a, b| a.1.cmp(&b.1));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = LibraryPage {
        layout: Layout::new("Learning library", "/library").with_errors(errors),
        from: clean(&query.from).unwrap_or_default(),
        to: clean(&query.to).unwrap_or_default(),
        q,
        searched,
        total: total.max(hits.len() as u64),
        page,
        pages: total.div_ceil(BROWSE_PER_PAGE).max(1),
        query: query.filter_query_string(),
        hits,
        themes: choose(
            taxonomy.into_iter().map(|t| (t.code, t.label)),
            &chosen(&query.theme),
        ),
        types: choose(
            review_types::store::list(&txn)
                .await?
                .into_iter()
                .map(|t| (t.code, t.name)),
            &chosen(&query.review_type),
        ),
        agencies: choose(agency_list, &chosen(&query.agency)),
    };
    drop(txn);
    if searched {
        // One entry per search or browse: its kind, the filters used and how many hits (and
        // how many restricted), never the words searched for, which may name someone.
        let restricted = page.hits.iter().filter(|hit| hit.restricted).count();
        let kinds = query.kinds();
        let action = if page.q.is_empty() {
            "library.browsed"
        } else {
            "library.searched"
        };
        crate::audited::record_read(
            &state,
            caller
                .viewer()
                .event(action, "allowed")
                .on("library", page.hits.len())
                .because(Some(format!("{kinds}; {restricted} restricted"))),
        )
        .await?;
    }
    Ok((status, render(&page)?).into_response())
}

#[derive(Template)]
#[template(path = "pages/library_themes.html")]
struct ThemesPage {
    layout: Layout,
    years: Vec<i32>,
    rows: Vec<(String, String, Vec<usize>, usize)>,
}

pub async fn themes_by_year(
    State(state): State<AppState>,
    caller: Caller,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let counts = library::themes_by_year(&txn, &Reader::of(caller.actor())).await?;
    // Counts over restricted findings are a read of them too.
    crate::audited::record_read(
        &state,
        caller
            .viewer()
            .event("library.themes_viewed", "allowed")
            .on("library", counts.len()),
    )
    .await?;
    let names: HashMap<String, String> = themes::list(&txn)
        .await?
        .into_iter()
        .map(|t| (t.code, t.label))
        .collect();
    let years: Vec<i32> = counts
        .values()
        .flat_map(|by_year| by_year.keys().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rows: Vec<(String, String, Vec<usize>, usize)> = counts
        .iter()
        .map(|(code, by_year)| {
            let numbers: Vec<usize> = years
                .iter()
                .map(|y| by_year.get(y).copied().unwrap_or(0))
                .collect();
            let total = numbers.iter().sum();
            (
                code.clone(),
                names.get(code).cloned().unwrap_or_else(|| code.clone()),
                numbers,
                total,
            )
        })
        .collect();
    rows.sort_by(|a, b| b.3.cmp(&a.3).then(a.1.cmp(&b.1)));
    render(&ThemesPage {
        layout: Layout::new("Themes by year", "/library"),
        years,
        rows,
    })
}

/// Earlier learning like a finding or a lesson, described with what was done about it.
pub struct SimilarRow {
    pub source_id: Uuid,
    pub(crate) href: String,
    pub(crate) title: String,
    pub(crate) kind: String,
    pub(crate) year: i32,
    pub(crate) themes: String,
    pub(crate) done: String,
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

/// Earlier learning like each of these findings or lessons (ranked when each was saved), as
/// the reader may see it, described with what was done about it.
pub async fn similar_rows(
    db: &impl sea_orm::ConnectionTrait,
    actor: &learnloop_core::access::Actor,
    source_ids: &[Uuid],
    limit: usize,
) -> Result<HashMap<Uuid, Vec<SimilarRow>>, PageError> {
    let taxonomy: HashMap<String, String> = themes::list(db)
        .await?
        .into_iter()
        .map(|t| (t.code, t.label))
        .collect();
    let mut all = HashMap::new();
    for (source_id, found) in
        library::similar::remembered(db, source_ids, &Reader::of(actor), limit).await?
    {
        let rows: &mut Vec<SimilarRow> = all.entry(source_id).or_default();
        for (doc, _) in found {
            let (actions_total, actions_closed) = library_views::what_was_done(db, &doc).await?;
            let learning_item = doc.source_kind == "learning_item";
            let href = if learning_item {
                format!("/learning-items/{}", doc.source_id)
            } else {
                // A finding has no page of its own: search the library for its first words.
                format!(
                    "/library?q={}",
                    doc.title
                        .split_whitespace()
                        .take(4)
                        .collect::<Vec<_>>()
                        .join("+")
                )
            };
            rows.push(SimilarRow {
                source_id: doc.source_id,
                href,
                title: doc.title.clone(),
                kind: if learning_item {
                    "Learning item"
                } else {
                    "Review finding"
                }
                .to_string(),
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
