//! Recording the Review Group's decision on a case: first the review type's criteria as a
//! checklist, then the recommendation they give and the decision, which confirms it or departs
//! from it with a reason.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, Response};
use learnloop_core::decisions::{self, DecisionInput};
use learnloop_core::review_types::{self, Answers, Config, Recommendation};
use learnloop_core::viewer::Recording;
use learnloop_core::{FieldError, calendar, cases, groups};
use serde::Deserialize;
use uuid::Uuid;

use super::change::{self, Change};
use super::dates;
use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::{Caller, RecordId, journal};
use crate::state::AppState;

struct Question {
    key: String,
    text: String,
    checked: bool,
}

struct GroupChoice {
    id: String,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "pages/decision.html")]
struct DecisionPage {
    layout: Layout,
    case_id: String,
    pseudonym: String,
    type_code: String,
    type_name: String,
    questions: Vec<Question>,
    /// Set on the second step, once the answers have given a recommendation.
    recommendation: Option<&'static str>,
    form: Pairs,
    groups: Vec<GroupChoice>,
    today: String,
}

impl DecisionPage {
    fn value(&self, name: &str) -> String {
        forms::field(&self.form, name)
    }
    fn is(&self, name: &str, value: &str) -> bool {
        forms::field(&self.form, name) == value
    }
}

#[derive(Deserialize)]
pub struct TypeQuery {
    #[serde(default, rename = "type")]
    review_type: String,
}

/// Which step of the decision to show, with what was entered so far.
struct Step {
    form: Pairs,
    /// The answers are in: show the recommendation and the decision form.
    second: bool,
    errors: Vec<FieldError>,
}

/// The criteria's answers ticked on the form.
fn answers_of(config: &Config, form: &Pairs) -> Answers {
    config
        .criteria
        .iter()
        .map(|criterion| {
            (
                criterion.key.clone(),
                forms::checked(form, &format!("answer_{}", criterion.key)),
            )
        })
        .collect()
}

async fn page(
    state: &AppState,
    caller: &Caller,
    case_id: Uuid,
    type_code: &str,
    step: Step,
) -> PageResult<Html<String>> {
    let Step {
        form,
        second: second_step,
        errors,
    } = step;
    let txn = state.db.read().await?;
    let record = cases::open(&txn, journal(state), &caller.viewer(), case_id).await?;
    let review_type = review_types::store::get(&txn, type_code).await?;
    let all_groups = groups::list(&txn).await?;
    txn.commit().await?;
    let config = review_type.config();
    let answers = answers_of(&config, &form);
    let questions = config
        .criteria
        .iter()
        .map(|criterion| Question {
            checked: answers.get(&criterion.key).copied().unwrap_or(false),
            key: criterion.key.clone(),
            text: criterion.question.clone(),
        })
        .collect();
    let chosen_group = forms::field(&form, "group_id");
    let groups = all_groups
        .into_iter()
        .map(|group| GroupChoice {
            selected: chosen_group == group.id.to_string()
                || (chosen_group.is_empty() && group.code == "review-group"),
            id: group.id.to_string(),
            name: group.name,
        })
        .collect();
    let recommendation =
        second_step.then(|| review_types::recommend(&review_type.code, &answers).label());
    render(&DecisionPage {
        layout: Layout::new(format!("Decision: {}", review_type.name), "/cases")
            .with_errors(errors),
        case_id: case_id.to_string(),
        pseudonym: record.case.pseudonym,
        type_code: review_type.code,
        type_name: review_type.name,
        questions,
        recommendation,
        form,
        groups,
        today: dates::iso(caller.now.date_naive()),
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    Query(query): Query<TypeQuery>,
) -> PageResult<Html<String>> {
    let step = Step {
        form: Vec::new(),
        second: false,
        errors: Vec::new(),
    };
    page(&state, &caller, id, &query.review_type, step).await
}

/// Step one posted: show the recommendation and the decision form.
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Html<String>> {
    let code = forms::field(&form, "review_type");
    let step = Step {
        form,
        second: true,
        errors: Vec::new(),
    };
    page(&state, &caller, id, &code, step).await
}

/// The decision as entered, with the answers to `config`'s criteria.
fn input_from(form: &Pairs, code: &str, config: &Config) -> DecisionInput {
    let hold_review = match forms::field(form, "hold_review").as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let optional =
        |name: &str| Some(forms::field(form, name)).filter(|value| !value.trim().is_empty());
    DecisionInput {
        review_type: code.to_string(),
        answers: answers_of(config, form),
        hold_review,
        override_reason: optional("override_reason"),
        rationale: forms::field(form, "rationale"),
        immediate_actions: optional("immediate_actions"),
        decided_on: forms::field(form, "decided_on"),
        group_id: Uuid::parse_str(&forms::field(form, "group_id")).ok(),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let code = forms::field(&form, "review_type");
    let sent = form.clone();
    change::on_page(
        &state,
        &caller,
        Change::new("case.decision", "case", id),
        async |txn| {
            cases::open(txn, Recording::InTransaction, &caller.viewer(), id).await?;
            let config = review_types::store::get(txn, &code)
                .await
                .map(|t| t.config())
                .unwrap_or_default();
            let input = input_from(&sent, &code, &config);
            let calendar = calendar::store::load(txn).await?;
            let person_id = caller.signed_in.person.id;
            decisions::decide(txn, id, input, person_id, &calendar, caller.now).await
        },
        |decided| match decided.rapid_review_id {
            Some(rapid) => format!("/rapid-reviews/{rapid}"),
            None => format!("/cases/{id}"),
        },
        async |errors, _| {
            let step = Step {
                form,
                second: true,
                errors,
            };
            page(&state, &caller, id, &code, step).await
        },
    )
    .await
}

/// The label of a stored recommendation, for pages.
pub fn recommendation_label(value: &str) -> &'static str {
    Recommendation::parse(value)
        .map(Recommendation::label)
        .unwrap_or("")
}
