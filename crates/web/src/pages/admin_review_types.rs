//! Review types as configuration: a partnership renames types (for example "Domestic abuse
//! related death review"), rewords criteria and sets clocks when guidance changes.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use learnloop_core::FieldError;
use learnloop_core::review_types::{self, Config, StageDue};

use super::forms::{self, Pairs};
use super::layout::{Layout, render};
use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::Caller;
use crate::pages::change::{self, Again, Change};
use crate::state::AppState;

struct TypeRow {
    code: String,
    name: String,
    statutory: bool,
    clocks: String,
}

#[derive(Template)]
#[template(path = "pages/admin_review_types.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<TypeRow>,
}

fn describe(config: &Config) -> String {
    let clocks = &config.clocks;
    let mut parts = Vec::new();
    if let Some(days) = clocks.notification_days {
        parts.push(format!("notify within {days} working days"));
    }
    if let Some(days) = clocks.rapid_review_days {
        parts.push(format!("rapid review within {days} working days"));
    }
    if let Some(months) = clocks.report_months {
        parts.push(format!("report within {months} months"));
    }
    if let Some(days) = clocks.pre_publication_days {
        parts.push(format!(
            "to the national panel {days} working days before publication"
        ));
    }
    if parts.is_empty() {
        "No clock".to_string()
    } else {
        parts.join("; ")
    }
}

pub async fn list(State(state): State<AppState>) -> PageResult<Html<String>> {
    let rows = review_types::store::list(state.db.conn())
        .await?
        .into_iter()
        .map(|t| TypeRow {
            clocks: describe(&t.config()),
            code: t.code,
            name: t.name,
            statutory: t.statutory,
        })
        .collect();
    render(&ListPage {
        layout: Layout::new("Review types", "/admin/calendar"),
        rows,
    })
}

#[derive(Template)]
#[template(path = "pages/admin_review_type.html")]
struct EditPage {
    layout: Layout,
    code: String,
    version: i32,
    name: String,
    /// (field, label, value) of each clock.
    clock_fields: Vec<(&'static str, &'static str, String)>,
    /// (field, label, value, error) of each criterion's wording and each step's day.
    questions: Vec<(String, String, String, Option<String>)>,
    steps: Vec<(String, String, String, Option<String>)>,
    /// The stages of a review of this type.
    stages: Vec<StageField>,
    conflict: Option<String>,
}

fn number(value: &Option<u32>) -> String {
    value.map(|n| n.to_string()).unwrap_or_default()
}

fn clock_fields(config: &Config) -> Vec<(&'static str, &'static str, String)> {
    let clocks = &config.clocks;
    vec![
        (
            "notification_days",
            "Notify the national panel within (working days)",
            number(&clocks.notification_days),
        ),
        (
            "rapid_review_days",
            "Complete the rapid review within (working days)",
            number(&clocks.rapid_review_days),
        ),
        (
            "report_months",
            "Report expected within (months of the decision)",
            number(&clocks.report_months),
        ),
        (
            "pre_publication_days",
            "Send to the national panel before publication (working days)",
            number(&clocks.pre_publication_days),
        ),
    ]
}

/// One stage of a review type, as the form shows it.
pub struct StageField {
    index: usize,
    name: String,
    required: bool,
    rule: &'static str,
    number: Option<String>,
    name_error: Option<String>,
    due_error: Option<String>,
}

fn due_rule(due: StageDue) -> &'static str {
    match due {
        StageDue::Unscheduled => "No due date of its own",
        StageDue::Commissioning { .. } => "Working days after the decision",
        StageDue::CommissioningMonths { .. } => "Months after the decision",
        StageDue::BeforePublication { .. } => "Working days before publication",
        StageDue::Publication => "Due on the planned publication date",
        StageDue::AfterPublication { .. } => "Months after publication",
    }
}

fn due_number(due: StageDue) -> Option<u32> {
    match due {
        StageDue::Commissioning { working_days } | StageDue::BeforePublication { working_days } => {
            Some(working_days)
        }
        StageDue::CommissioningMonths { months } | StageDue::AfterPublication { months } => {
            Some(months)
        }
        StageDue::Unscheduled | StageDue::Publication => None,
    }
}

fn with_number(due: StageDue, number: u32) -> StageDue {
    match due {
        StageDue::Commissioning { .. } => StageDue::Commissioning {
            working_days: number,
        },
        StageDue::BeforePublication { .. } => StageDue::BeforePublication {
            working_days: number,
        },
        StageDue::CommissioningMonths { .. } => StageDue::CommissioningMonths { months: number },
        StageDue::AfterPublication { .. } => StageDue::AfterPublication { months: number },
        other => other,
    }
}

async fn edit_page(
    state: &AppState,
    code: &str,
    errors: Vec<FieldError>,
    conflict: Option<String>,
) -> PageResult<Html<String>> {
    let review_type = review_types::store::get(state.db.conn(), code).await?;
    let layout =
        Layout::new(format!("Change {}", review_type.name), "/admin/calendar").with_errors(errors);
    let config = review_type.config();
    let error_of = |field: &str| layout.error_for(field).map(str::to_string);
    let questions = config
        .criteria
        .iter()
        .enumerate()
        .map(|(index, criterion)| {
            let field = format!("question_{index}");
            (
                field.clone(),
                format!("Question {}", index + 1),
                criterion.question.clone(),
                error_of(&field),
            )
        })
        .collect();
    let steps = config
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let field = format!("step_{index}");
            (
                field.clone(),
                step.name.clone(),
                step.offset_days.to_string(),
                error_of(&field),
            )
        })
        .collect();
    let stages = if code == review_types::SERIOUS_CHILD_CASE {
        Vec::new()
    } else {
        config
            .review_stages()
            .iter()
            .enumerate()
            .map(|(index, stage)| StageField {
                index,
                name: stage.name.clone(),
                required: stage.required,
                rule: due_rule(stage.due),
                number: due_number(stage.due).map(|n| n.to_string()),
                name_error: error_of(&format!("stage_name_{index}")),
                due_error: error_of(&format!("stage_due_{index}")),
            })
            .collect()
    };
    render(&EditPage {
        layout,
        questions,
        steps,
        stages,
        clock_fields: clock_fields(&config),
        code: review_type.code,
        version: review_type.version,
        name: review_type.name,
        conflict,
    })
}

pub async fn edit(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult<Html<String>> {
    edit_page(&state, &code, Vec::new(), None).await
}

fn optional_number(form: &Pairs, field: &str, errors: &mut Vec<FieldError>) -> Option<u32> {
    let text = forms::field(form, field);
    if text.trim().is_empty() {
        return None;
    }
    match text.trim().parse::<u32>() {
        Ok(value) if value <= 366 => Some(value),
        _ => {
            errors.push(FieldError::new(
                field,
                "Enter a whole number from 0 to 366, or leave it empty",
            ));
            None
        }
    }
}

/// Saves a review type. Its own transaction, not `change::on_page`: a review type is named by
/// its code, not a UUID, and its audit entry names that code.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = caller.now;
    let current = review_types::store::get(state.db.conn(), &code).await?;
    let mut config = current.config();
    let mut errors = Vec::new();
    config.clocks.notification_days = optional_number(&form, "notification_days", &mut errors);
    config.clocks.rapid_review_days = optional_number(&form, "rapid_review_days", &mut errors);
    config.clocks.report_months = optional_number(&form, "report_months", &mut errors);
    config.clocks.pre_publication_days =
        optional_number(&form, "pre_publication_days", &mut errors);
    for (index, criterion) in config.criteria.iter_mut().enumerate() {
        criterion.question = forms::field(&form, &format!("question_{index}"));
    }
    for (index, step) in config.steps.iter_mut().enumerate() {
        match optional_number(&form, &format!("step_{index}"), &mut errors) {
            Some(days) => step.offset_days = days,
            None => errors.push(FieldError::new(
                format!("step_{index}"),
                "Enter the step's working day",
            )),
        }
    }
    if code != review_types::SERIOUS_CHILD_CASE {
        // The stages as configured (or the defaults), changed as the form says.
        let mut stages = config.review_stages();
        for (index, stage) in stages.iter_mut().enumerate() {
            let name = forms::field(&form, &format!("stage_name_{index}"));
            if name.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("stage_name_{index}"),
                    "Enter the stage's name",
                ));
            } else {
                stage.name = name.trim().chars().take(120).collect();
            }
            stage.required = forms::checked(&form, &format!("stage_required_{index}"));
            if due_number(stage.due).is_some() {
                match optional_number(&form, &format!("stage_due_{index}"), &mut errors) {
                    Some(number) => stage.due = with_number(stage.due, number),
                    None => errors.push(FieldError::new(
                        format!("stage_due_{index}"),
                        "Enter when the stage falls due",
                    )),
                }
            }
        }
        config.stages = stages;
    }
    if !errors.is_empty() {
        let page = edit_page(&state, &code, errors, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let version = forms::field(&form, "version").parse::<i32>().unwrap_or(0);
    let name = forms::field(&form, "name");
    change::on_page(
        &state,
        &caller,
        Change::keyed("review_type.update", "review_type", &code).called("review type"),
        async |txn| {
            review_types::store::update(txn, &code, version, &name, config, now).await?;
            Ok(())
        },
        |()| "/admin/review-types".to_string(),
        async |errors, again| match again {
            // 409 with the current values, so the person sees what changed and can redo theirs.
            Again::Stale => {
                let message = errors.into_iter().next().map(|error| error.message);
                edit_page(&state, &code, Vec::new(), message).await
            }
            Again::Invalid => edit_page(&state, &code, errors, None).await,
        },
    )
    .await
}
