//! The case form: notifying a new case, and editing one against the version the editor read
//! (a stale save gets 409 showing what someone else changed, keeping what was typed).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};
use learnloop_core::cases::{self, CaseInput, CaseRecord, SubjectKind};
use learnloop_core::viewer::Recording;
use learnloop_core::{FieldError, agencies, partnerships};
use uuid::Uuid;

use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::{Caller, RecordId, journal};
use crate::pages::change::{self, Again, Change};
use crate::pages::dates;
use crate::pages::forms::{self, Pairs};
use crate::pages::layout::{Layout, render};
use crate::state::AppState;

struct Choice {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "pages/case_new.html")]
struct NewCasePage {
    layout: Layout,
    /// Where the form posts, its heading and button: notifying and editing share the form.
    action: String,
    heading: String,
    button: &'static str,
    /// The version being edited (editing only).
    version: Option<i32>,
    /// After a conflict: what someone else changed, as (field, their value).
    changes: Vec<(&'static str, String)>,
    form: Pairs,
    partnerships: Vec<Choice>,
    agencies: Vec<Choice>,
    child_bands: Vec<&'static str>,
    adult_bands: Vec<&'static str>,
}

impl NewCasePage {
    fn value(&self, name: &str) -> String {
        forms::field(&self.form, name)
    }
    fn is(&self, name: &str, value: &str) -> bool {
        forms::field(&self.form, name) == value
    }
    fn ticked(&self, name: &str) -> bool {
        forms::checked(&self.form, name)
    }
}

/// The case being edited: its id and version, and any changes someone else made meanwhile.
struct Editing {
    id: Uuid,
    version: i32,
    changes: Vec<(&'static str, String)>,
}

/// The case form: notifying a new case (`editing` is `None`), or editing one.
async fn case_form_page(
    state: &AppState,
    form: Pairs,
    errors: Vec<FieldError>,
    editing: Option<Editing>,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let chosen_partnerships = forms::all(&form, "partnership_ids");
    let chosen_agencies = forms::all(&form, "agency_ids");
    let partnerships = partnerships::list(&txn)
        .await?
        .into_iter()
        .map(|p| Choice {
            checked: chosen_partnerships.contains(&p.id.to_string()),
            value: p.id.to_string(),
            label: p.name,
        })
        .collect();
    let agencies = agencies::list(&txn)
        .await?
        .into_iter()
        .map(|a| Choice {
            checked: chosen_agencies.contains(&a.id.to_string()),
            value: a.id.to_string(),
            label: a.name,
        })
        .collect();
    txn.commit().await?;
    let (title, action, button, version, changes) = match editing {
        Some(editing) => (
            "Change the case".to_string(),
            format!("/cases/{}/edit", editing.id),
            "Save the changes",
            Some(editing.version),
            editing.changes,
        ),
        None => (
            "Notify a case".to_string(),
            "/cases/new".to_string(),
            "Notify the case",
            None,
            Vec::new(),
        ),
    };
    render(&NewCasePage {
        layout: Layout::new(title.clone(), "/cases").with_errors(errors),
        action,
        heading: title,
        button,
        version,
        changes,
        form,
        partnerships,
        agencies,
        child_bands: SubjectKind::Child.age_bands().to_vec(),
        adult_bands: SubjectKind::Adult.age_bands().to_vec(),
    })
}

pub async fn new_form(State(state): State<AppState>) -> PageResult<Html<String>> {
    case_form_page(&state, Vec::new(), Vec::new(), None).await
}

/// The age band's field: the form has one per kind of subject.
fn band_field(form: &Pairs) -> &'static str {
    if forms::field(form, "subject_kind") == "adult" {
        "age_band_adult"
    } else {
        "age_band_child"
    }
}

fn input_from(form: &Pairs) -> CaseInput {
    let optional =
        |name: &str| Some(forms::field(form, name)).filter(|value| !value.trim().is_empty());
    CaseInput {
        subject_kind: forms::field(form, "subject_kind"),
        incident_kind: forms::field(form, "incident_kind"),
        aware_on: forms::field(form, "aware_on"),
        summary: forms::field(form, "summary"),
        pseudonym: forms::field(form, "pseudonym"),
        age_band: forms::field(form, band_field(form)),
        subject_name: optional("subject_name"),
        subject_dob: optional("subject_dob"),
        referrer: forms::field(form, "referrer"),
        partnership_ids: forms::ids(form, "partnership_ids"),
        agency_ids: forms::ids(form, "agency_ids"),
        inquest: forms::checked(form, "inquest"),
        criminal_proceedings: forms::checked(form, "criminal_proceedings"),
        police_investigation: forms::checked(form, "police_investigation"),
        coroner: forms::checked(form, "coroner"),
    }
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = Uuid::now_v7();
    let input = input_from(&form);
    let person_id = caller.signed_in.person.id;
    change::on_page(
        &state,
        &caller,
        Change::new("case.create", "case", id),
        async |txn| cases::create_with_id(txn, id, input, person_id, caller.now).await,
        |_| format!("/cases/{id}"),
        async |mut errors, _| {
            // Core names the fields of the input; the form has its own names for two of them.
            for error in &mut errors {
                if error.field == "age_band" {
                    error.field = band_field(&form).to_string();
                }
                if error.field.starts_with("partnership_ids") {
                    error.field = "partnership_ids".to_string();
                }
            }
            case_form_page(&state, form, errors, None).await
        },
    )
    .await
}

/// The case as the form's fields, to edit it.
fn form_of(record: &CaseRecord) -> Pairs {
    let case = &record.case;
    let mut pairs: Pairs = vec![
        ("subject_kind".to_string(), case.subject_kind.clone()),
        ("incident_kind".to_string(), case.incident_kind.clone()),
        ("aware_on".to_string(), dates::iso(case.aware_on)),
        ("pseudonym".to_string(), case.pseudonym.clone()),
        (
            if case.subject_kind == "adult" {
                "age_band_adult"
            } else {
                "age_band_child"
            }
            .to_string(),
            case.age_band.clone(),
        ),
        ("summary".to_string(), case.summary.clone()),
        ("referrer".to_string(), case.referrer.clone()),
        (
            "subject_name".to_string(),
            case.subject_name.clone().unwrap_or_default(),
        ),
        (
            "subject_dob".to_string(),
            case.subject_dob.map(dates::iso).unwrap_or_default(),
        ),
    ];
    for (flag, on) in [
        ("inquest", case.inquest),
        ("criminal_proceedings", case.criminal_proceedings),
        ("police_investigation", case.police_investigation),
        ("coroner", case.coroner),
    ] {
        if on {
            pairs.push((flag.to_string(), "yes".to_string()));
        }
    }
    pairs.extend(
        record
            .partnership_ids
            .iter()
            .map(|id| ("partnership_ids".to_string(), id.to_string())),
    );
    pairs.extend(
        record
            .agency_ids
            .iter()
            .map(|id| ("agency_ids".to_string(), id.to_string())),
    );
    pairs
}

pub async fn edit_form(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> PageResult<Html<String>> {
    let txn = state.db.read().await?;
    let record = cases::open(&txn, journal(&state), &caller.viewer(), id).await?;
    txn.commit().await?;
    let editing = Editing {
        id,
        version: record.case.version,
        changes: Vec::new(),
    };
    case_form_page(&state, form_of(&record), Vec::new(), Some(editing)).await
}

/// The fields someone else changed: where the current case differs from what this person saw
/// and sent, with the current value.
fn changed_fields(current: &Pairs, sent: &Pairs) -> Vec<(&'static str, String)> {
    const LABELS: [(&str, &str); 9] = [
        ("subject_kind", "Child or adult"),
        ("incident_kind", "What happened"),
        ("aware_on", "Date the partnership became aware"),
        ("pseudonym", "Pseudonym"),
        ("summary", "What happened, in brief"),
        ("referrer", "Who referred it"),
        ("subject_name", "Real name"),
        ("subject_dob", "Date of birth"),
        ("age_band_child", "Age band"),
    ];
    LABELS
        .iter()
        .filter(|(field, _)| {
            forms::field(current, field).trim() != forms::field(sent, field).trim()
        })
        .map(|(field, label)| (*label, forms::field(current, field)))
        .collect()
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let version = forms::field(&form, "version").parse::<i32>().unwrap_or(0);
    let input = input_from(&form);
    change::on_page(
        &state,
        &caller,
        Change::new("case.update", "case", id),
        async |txn| {
            cases::open(txn, Recording::InTransaction, &caller.viewer(), id).await?;
            cases::update(txn, id, version, input, caller.now).await
        },
        |_| format!("/cases/{id}"),
        async |errors, again| match again {
            Again::Invalid => {
                let editing = Editing {
                    id,
                    version,
                    changes: Vec::new(),
                };
                case_form_page(&state, form, errors, Some(editing)).await
            }
            Again::Stale => {
                // Show what changed; the form keeps this person's values, now against the
                // current version, so saving again is a deliberate choice.
                let current = cases::get(state.db.conn(), id).await?;
                let editing = Editing {
                    id,
                    version: current.case.version,
                    changes: changed_fields(&form_of(&current), &form),
                };
                case_form_page(&state, form, Vec::new(), Some(editing)).await
            }
        },
    )
    .await
}
