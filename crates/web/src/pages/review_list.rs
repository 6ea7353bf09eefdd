//! The list of reviews the viewer may see, commissioning a review directly, and the export in
//! the national tracker's shape.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use learnloop_core::access::{Action, Record, can};
use learnloop_core::reviews::{self};
use learnloop_core::{FieldError, cases, partnerships, review_types};
use serde::Deserialize;
use uuid::Uuid;

use super::dates;
use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::Caller;
use crate::pages::change::{self, Change, Created};
use crate::state::AppState;

pub use learnloop_core::reviews::visible_to as visible;

struct Row {
    id: String,
    reference: String,
    title: String,
    type_name: String,
    pseudonym: String,
    status: String,
    commissioned_on: String,
    report_due_on: String,
    overdue: bool,
    published_on: String,
    on_hold: bool,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "pages/reviews.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    types: Vec<Choice>,
    can_commission: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default, rename = "type")]
    review_type: String,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> PageResult<Html<String>> {
    let today = caller.now.date_naive();
    let txn = state.db.read().await?;
    let types = review_types::store::list(&txn).await?;
    let rows: Vec<Row> = visible(caller.actor(), reviews::list_with_cases(&txn).await?)
        .into_iter()
        .filter(|l| query.review_type.is_empty() || l.review.review_type_code == query.review_type)
        .map(|l| {
            let review = l.review;
            Row {
                id: review.id.to_string(),
                reference: review.reference.clone().unwrap_or_default(),
                title: review.title.clone(),
                type_name: types
                    .iter()
                    .find(|t| t.code == review.review_type_code)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                pseudonym: l.pseudonym,
                status: review.status.replace('_', " "),
                commissioned_on: dates::short(review.commissioned_on),
                report_due_on: dates::short_or_blank(review.report_due_on),
                overdue: review.published_on.is_none()
                    && review.status != "converted"
                    && review.report_due_on.is_some_and(|due| today > due),
                published_on: dates::short_or_blank(review.published_on),
                on_hold: review.hold_reason.is_some(),
            }
        })
        .collect();
    let choices = types
        .iter()
        .filter(|t| t.code != review_types::SERIOUS_CHILD_CASE)
        .map(|t| Choice {
            value: t.code.clone(),
            label: t.name.clone(),
            selected: t.code == query.review_type,
        })
        .collect();
    drop(txn);
    // One entry per list: the filter's kind and how many reviews were shown.
    crate::audited::record_read(
        &state,
        caller
            .viewer()
            .event("reviews.listed", "allowed")
            .on("reviews", rows.len())
            .because((!query.review_type.is_empty()).then(|| "filter: review type".to_string())),
    )
    .await?;
    render(&ListPage {
        layout: Layout::new("Reviews", "/reviews"),
        rows,
        types: choices,
        can_commission: can(caller.actor(), Action::ManageCase, Record::None),
    })
}

#[derive(Template)]
#[template(path = "pages/review_new.html")]
struct NewPage {
    layout: Layout,
    cases: Vec<Choice>,
    types: Vec<Choice>,
    partnerships: Vec<Choice>,
    commissioned_on: String,
}

async fn new_page(
    state: &AppState,
    chosen: &Pairs,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let (all_cases, _) = cases::list(&txn, None, 0, 1_000).await?;
    let case_choice = forms::field(chosen, "case_id");
    let type_choice = forms::field(chosen, "review_type");
    let partnership_choice = forms::field(chosen, "partnership_id");
    let date = forms::field(chosen, "commissioned_on");
    let page = NewPage {
        layout: Layout::new("Commission a review", "/reviews").with_errors(errors),
        cases: all_cases
            .into_iter()
            .map(|c| Choice {
                selected: c.case.id.to_string() == case_choice,
                value: c.case.id.to_string(),
                label: format!("{} ({})", c.case.pseudonym, c.case.reference),
            })
            .collect(),
        types: review_types::store::list(&txn)
            .await?
            .into_iter()
            .filter(|t| t.code != review_types::SERIOUS_CHILD_CASE)
            .map(|t| Choice {
                selected: t.code == type_choice,
                value: t.code,
                label: t.name,
            })
            .collect(),
        partnerships: partnerships::list(&txn)
            .await?
            .into_iter()
            .map(|p| Choice {
                selected: p.id.to_string() == partnership_choice,
                value: p.id.to_string(),
                label: p.name,
            })
            .collect(),
        commissioned_on: if date.is_empty() {
            dates::iso(state.clock.now().date_naive())
        } else {
            date
        },
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    case_id: String,
}

pub async fn new_form(
    State(state): State<AppState>,
    Query(query): Query<NewQuery>,
) -> PageResult<Html<String>> {
    new_page(
        &state,
        &vec![("case_id".to_string(), query.case_id)],
        Vec::new(),
    )
    .await
}

/// Commissions a review.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = caller.now;
    let case_id = Uuid::parse_str(forms::field(&form, "case_id").trim()).ok();
    let partnership_id = Uuid::parse_str(forms::field(&form, "partnership_id").trim()).ok();
    let review_type = forms::field(&form, "review_type");
    let commissioned_on = forms::field(&form, "commissioned_on");
    change::on_page_creating(
        &state,
        &caller,
        Change::creating("review.commissioned", "review"),
        async |txn| {
            let review = reviews::commission_direct(
                txn,
                case_id,
                &review_type,
                &commissioned_on,
                partnership_id,
                now,
            )
            .await?;
            Ok(Created {
                id: review.id,
                value: (),
            })
        },
        |created| format!("/reviews/{}", created.id),
        async |errors, _| new_page(&state, &form, errors).await,
    )
    .await
}

/// The reviews the viewer may see, as CSV in the national tracker's shape.
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    // A download carries data away: the authenticator code is asked again first.
    _: crate::auth::step_up::RecentStepUp,
) -> PageResult<Response> {
    let txn = state.db.read().await?;
    let shown: Vec<reviews::Model> = visible(caller.actor(), reviews::list_with_cases(&txn).await?)
        .into_iter()
        .map(|listed| listed.review)
        .collect();
    let csv = reviews::export::tracker_csv(&txn, &shown, &state.settings.public_url).await?;
    drop(txn);
    // The export is recorded, durably, before it leaves.
    crate::audited::record_read(
        &state,
        caller
            .viewer()
            .event("review.exported", "allowed")
            .on("reviews", shown.len()),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"reviews-tracker.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}
