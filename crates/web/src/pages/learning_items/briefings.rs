//! 7-minute briefings, of a learning item and of a review: a page and a Word document. Each
//! opens its record for the caller, so every briefing read or downloaded is recorded.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use learnloop_core::learning::{self, Item};
use learnloop_core::reviews;

use crate::error::{AppError, PageError, PageResult};
use crate::extract::{Caller, RecordId};
use crate::pages::layout::{Layout, render};
use crate::state::AppState;

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

/// "The case in brief" of an item: its review's public summary, or where it came from.
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

/// An item's briefing, the item opened under `action` (the page or the download).
async fn of_item(
    state: &AppState,
    caller: &Caller,
    id: uuid::Uuid,
    action: &str,
) -> PageResult<Briefing> {
    let txn = state.db.read().await?;
    let item = learning::open(
        &txn,
        crate::extract::journal(state),
        &caller.viewer(),
        action,
        id,
    )
    .await?;
    Ok(item_briefing(&item, item_case(&txn, &item).await?))
}

pub async fn briefing(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> PageResult<Html<String>> {
    let briefing = of_item(&state, &caller, id, "learning_item.briefing").await?;
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
    caller: Caller,
    // A download carries data away: the authenticator code is asked again first.
    _: crate::auth::step_up::RecentStepUp,
    RecordId(id): RecordId,
) -> PageResult<Response> {
    let briefing = of_item(&state, &caller, id, "learning_item.briefing_download").await?;
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

/// A review's briefing, the review opened for the caller (and the view recorded).
async fn of_review(state: &AppState, caller: &Caller, id: uuid::Uuid) -> PageResult<Briefing> {
    let txn = state.db.read().await?;
    let (review, _) =
        reviews::open(&txn, crate::extract::journal(state), &caller.viewer(), id).await?;
    let briefing = review_briefing(&txn, &review).await?;
    txn.commit().await?;
    Ok(briefing)
}

pub async fn review_briefing_page(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> PageResult<Html<String>> {
    let briefing = of_review(&state, &caller, id).await?;
    render(&BriefingPage {
        layout: Layout::new(format!("7-minute briefing: {}", briefing.title), "/reviews"),
        briefing,
        docx_href: format!("/reviews/{id}/briefing.docx"),
        back_href: format!("/reviews/{id}"),
    })
}

pub async fn review_briefing_docx(
    State(state): State<AppState>,
    caller: Caller,
    _: crate::auth::step_up::RecentStepUp,
    RecordId(id): RecordId,
) -> PageResult<Response> {
    let briefing = of_review(&state, &caller, id).await?;
    docx_response(&briefing, "7-minute-briefing.docx")
}
