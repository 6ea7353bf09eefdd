//! The public learning page: published reviews, their anonymised summaries and reports, and an
//! open feed (JSON Feed and Atom). No sign-in; only what was published appears here.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use learnloop_core::{published, review_types};
use serde::Serialize;

use super::layout::{Layout, render};
use super::parse_id;
use crate::error::{AppError, PageError, PageResult};
use crate::state::AppState;

struct Item {
    id: String,
    title: String,
    type_name: String,
    published_on: String,
    published_iso: String,
    summary: String,
}

/// The published reviews as they were checked and frozen at publication (never the live
/// review, whose draft may have changed since).
async fn items(state: &AppState) -> Result<Vec<(Item, published::Model)>, PageError> {
    let txn = state.db.read().await?;
    let types = review_types::store::list(&txn).await?;
    Ok(published::reviews(&txn)
        .await?
        .into_iter()
        .map(|public| {
            let item = Item {
                id: public.source_id.to_string(),
                title: public.title.clone(),
                type_name: types
                    .iter()
                    .find(|t| t.code == public.review_type)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                published_on: public.first_published_on.format("%-d %B %Y").to_string(),
                published_iso: public.published_on.format("%Y-%m-%dT00:00:00Z").to_string(),
                summary: public.summary.clone(),
            };
            (item, public)
        })
        .collect())
}

#[derive(Template)]
#[template(path = "pages/learning.html")]
struct LearningPage {
    layout: Layout,
    items: Vec<Item>,
    q: String,
    searched: bool,
    hits: Vec<super::library::Hit>,
}

#[derive(serde::Deserialize)]
pub struct PublicQuery {
    #[serde(default)]
    q: Option<String>,
}

/// The published reviews, and a search of the published learning (nothing restricted).
pub async fn list(
    State(state): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<PublicQuery>,
) -> PageResult<Response> {
    use learnloop_core::library::{self, Filter, Reader};
    let items = items(&state)
        .await?
        .into_iter()
        .map(|(item, _)| item)
        .collect();
    let q = query.q.unwrap_or_default().trim().to_string();
    let mut errors = Vec::new();
    let mut hits = Vec::new();
    if !q.is_empty() {
        let txn = state.db.read().await?;
        let names: std::collections::HashMap<String, String> = learnloop_core::themes::list(&txn)
            .await?
            .into_iter()
            .map(|t| (t.code, t.label))
            .collect();
        match library::search(&txn, &q, &Filter::default(), &Reader::PublishedOnly, 30).await {
            Ok(found) => {
                hits = found
                    .iter()
                    .map(|d| {
                        let mut hit = super::library::hit(d, &names);
                        hit.href = None;
                        hit
                    })
                    .collect()
            }
            Err(learnloop_core::CoreError::Invalid(fields)) => errors = fields,
            Err(other) => return Err(other.into()),
        }
    }
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    let page = render(&LearningPage {
        layout: Layout::new("Published reviews and learning", "/learning").with_errors(errors),
        items,
        searched: !q.is_empty(),
        q,
        hits,
    })?;
    Ok((status, page).into_response())
}

#[derive(Template)]
#[template(path = "pages/learning_review.html")]
struct ReviewPage {
    layout: Layout,
    item: Item,
    summary_paragraphs: Vec<String>,
    report_paragraphs: Vec<String>,
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let id = parse_id(&id)?;
    let (item, public) = items(&state)
        .await?
        .into_iter()
        .find(|(_, public)| public.source_id == id)
        .ok_or(PageError(AppError::not_found()))?;
    render(&ReviewPage {
        layout: Layout::new(item.title.clone(), "/learning"),
        summary_paragraphs: paragraphs(&public.summary),
        report_paragraphs: paragraphs(&public.body),
        item,
    })
}

#[derive(Serialize)]
struct JsonFeed {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    items: Vec<JsonItem>,
}

#[derive(Serialize)]
struct JsonItem {
    id: String,
    url: String,
    title: String,
    summary: String,
    content_text: String,
    date_published: String,
    tags: Vec<String>,
}

fn base(state: &AppState) -> String {
    state.settings.public_url.trim_end_matches('/').to_string()
}

/// JSON Feed 1.1.
pub async fn feed_json(State(state): State<AppState>) -> PageResult<Response> {
    let base = base(&state);
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: format!("{}: published reviews", crate::context::current().team_name),
        home_page_url: format!("{base}/learning"),
        feed_url: format!("{base}/learning/feed.json"),
        items: items(&state)
            .await?
            .into_iter()
            .map(|(item, public)| JsonItem {
                url: format!("{base}/learning/reviews/{}", item.id),
                id: format!("{base}/learning/reviews/{}", item.id),
                title: item.title,
                summary: item.summary,
                content_text: public.body,
                date_published: item.published_iso,
                tags: vec![item.type_name],
            })
            .collect(),
    };
    Ok((
        [(header::CONTENT_TYPE, "application/feed+json")],
        serde_json::to_string(&feed).unwrap_or_default(),
    )
        .into_response())
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Atom 1.0.
pub async fn feed_atom(State(state): State<AppState>) -> PageResult<Response> {
    let base = base(&state);
    let all = items(&state).await?;
    let updated = all
        .first()
        .map(|(item, _)| item.published_iso.clone())
        .unwrap_or_else(|| "2018-01-01T00:00:00Z".to_string());
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>{}</title>\n<id>{base}/learning</id>\n<link href=\"{base}/learning\"/>\n<link rel=\"self\" href=\"{base}/learning/feed.atom\"/>\n<updated>{updated}</updated>\n",
        xml(&format!(
            "{}: published reviews",
            crate::context::current().team_name
        )),
    );
    for (item, _) in all {
        out.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>{base}/learning/reviews/{}</id>\n<link href=\"{base}/learning/reviews/{}\"/>\n<updated>{}</updated>\n<category term=\"{}\"/>\n<summary>{}</summary>\n</entry>\n",
            xml(&item.title),
            item.id,
            item.id,
            item.published_iso,
            xml(&item.type_name),
            xml(&item.summary),
        ));
    }
    out.push_str("</feed>\n");
    Ok(([(header::CONTENT_TYPE, "application/atom+xml")], out).into_response())
}
