//! Importing an existing action tracker (from .xlsx or CSV, already read into rows of text):
//! a mapping from the file's columns to the action's fields (suggested from the headings), a
//! preview with every row's errors named by row and column, and an all-or-nothing commit.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{Checked, NewAction, SOURCES};
use crate::error::{CoreError, CoreResult};
use crate::{FieldError, agencies, people, themes};

/// The fields a column can fill: (key, label, required).
pub const FIELDS: [(&str, &str, bool); 9] = [
    ("description", "Action (SMART description)", true),
    ("owner_agency", "Owner agency (code or name)", true),
    ("due_on", "Due date", true),
    ("lead_email", "Lead's email address", false),
    ("source_kind", "Source", false),
    ("status", "Status", false),
    ("intended_outcome", "Intended outcome", false),
    ("success_evidence", "How success will be evidenced", false),
    ("themes", "Themes", false),
];

/// Which column (by index) fills which field.
pub type Mapping = HashMap<String, usize>;

fn simplify(text: &str) -> String {
    text.to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// A mapping guessed from the headings (this service's own export maps itself exactly).
pub fn suggest(headers: &[String]) -> Mapping {
    let synonyms: [(&str, &[&str]); 9] = [
        (
            "description",
            &[
                "description",
                "action",
                "actions",
                "smartaction",
                "whatwillbedone",
            ],
        ),
        (
            "owner_agency",
            &[
                "owneragency",
                "agency",
                "owner",
                "leadagency",
                "organisation",
            ],
        ),
        (
            "due_on",
            &["dueon", "due", "duedate", "deadline", "targetdate", "by"],
        ),
        (
            "lead_email",
            &[
                "leademail",
                "lead",
                "leadperson",
                "email",
                "responsibleperson",
            ],
        ),
        ("source_kind", &["source", "sourcekind", "from"]),
        ("status", &["status", "progress", "rag"]),
        (
            "intended_outcome",
            &["intendedoutcome", "outcome", "whatwillbedifferent"],
        ),
        (
            "success_evidence",
            &[
                "successevidence",
                "evidence",
                "howevidenced",
                "measureofsuccess",
            ],
        ),
        ("themes", &["themes", "theme"]),
    ];
    let mut mapping = Mapping::new();
    for (field, names) in synonyms {
        if let Some(index) = headers
            .iter()
            .position(|header| names.contains(&simplify(header).as_str()))
        {
            mapping.insert(field.to_string(), index);
        }
    }
    mapping
}

/// A date as trackers write it: 2026-11-30, 30/11/2026 or 30-11-2026.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
}

/// One row's problem: the row number as the spreadsheet shows it (the heading is row 1), the
/// column's heading, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

impl RowError {
    pub fn describe(&self) -> String {
        format!(
            "Row {}, column “{}”: {}",
            self.row, self.column, self.message
        )
    }
}

/// A row checked: the action it would create, or its errors.
pub struct Previewed {
    pub row: usize,
    pub cells: Vec<String>,
    pub result: Result<Checked, Vec<RowError>>,
}

struct Lookups {
    agencies: HashMap<String, Uuid>,
    people: HashMap<String, Uuid>,
    themes: HashMap<String, String>,
}

async fn lookups(db: &impl ConnectionTrait) -> CoreResult<Lookups> {
    let mut agency_keys = HashMap::new();
    for agency in agencies::list(db).await? {
        agency_keys.insert(agency.code.to_ascii_lowercase(), agency.id);
        agency_keys.insert(agency.name.to_ascii_lowercase(), agency.id);
    }
    let people_keys = people::list(db)
        .await?
        .into_iter()
        .map(|person| (person.email.to_ascii_lowercase(), person.id))
        .collect();
    let mut theme_keys = HashMap::new();
    for theme in themes::list(db).await? {
        theme_keys.insert(theme.code.to_ascii_lowercase(), theme.code.clone());
        theme_keys.insert(theme.label.to_ascii_lowercase(), theme.code);
    }
    Ok(Lookups {
        agencies: agency_keys,
        people: people_keys,
        themes: theme_keys,
    })
}

/// Checks every row against the mapping. The mapping itself must cover the required fields.
pub async fn preview(
    db: &impl ConnectionTrait,
    headers: &[String],
    rows: &[Vec<String>],
    mapping: &Mapping,
) -> CoreResult<Vec<Previewed>> {
    let mut missing = Vec::new();
    for (field, label, required) in FIELDS {
        match mapping.get(field) {
            Some(index) if *index >= headers.len() => missing.push(FieldError::new(
                field,
                format!("Choose a column for “{label}”"),
            )),
            None if required => missing.push(FieldError::new(
                field,
                format!("Choose the column that holds “{label}”"),
            )),
            _ => {}
        }
    }
    if !missing.is_empty() {
        return Err(CoreError::Invalid(missing));
    }
    let lookups = lookups(db).await?;
    let mut previewed = Vec::new();
    for (index, cells) in rows.iter().enumerate() {
        let row = index + 2;
        let cell = |field: &str| -> String {
            mapping
                .get(field)
                .and_then(|column| cells.get(*column))
                .map(|value| value.trim().to_string())
                .unwrap_or_default()
        };
        let heading = |field: &str| -> String {
            mapping
                .get(field)
                .and_then(|column| headers.get(*column))
                .cloned()
                .unwrap_or_else(|| field.to_string())
        };
        let mut errors = Vec::new();
        let agency_text = cell("owner_agency");
        let owner = lookups
            .agencies
            .get(&agency_text.to_ascii_lowercase())
            .copied();
        if owner.is_none() && !agency_text.is_empty() {
            errors.push(RowError {
                row,
                column: heading("owner_agency"),
                message: format!("“{agency_text}” is not an agency here (use its code or name)"),
            });
        }
        let lead_text = cell("lead_email");
        let lead = if lead_text.is_empty() {
            None
        } else {
            let found = lookups.people.get(&lead_text.to_ascii_lowercase()).copied();
            if found.is_none() {
                errors.push(RowError {
                    row,
                    column: heading("lead_email"),
                    message: format!("nobody has the email address “{lead_text}”"),
                });
            }
            found
        };
        let due_text = cell("due_on");
        let due = parse_date(&due_text);
        if due.is_none() && !due_text.is_empty() {
            errors.push(RowError {
                row,
                column: heading("due_on"),
                message: format!("“{due_text}” is not a date (use 2026-11-30 or 30/11/2026)"),
            });
        }
        let source_text = cell("source_kind");
        let source = if source_text.is_empty() {
            "direct".to_string()
        } else {
            SOURCES
                .iter()
                .find(|(key, label)| {
                    key.eq_ignore_ascii_case(&source_text)
                        || label.eq_ignore_ascii_case(&source_text)
                })
                .map(|(key, _)| key.to_string())
                .unwrap_or(source_text)
        };
        let mut theme_codes = Vec::new();
        for name in cell("themes")
            .split([';', ','])
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            match lookups.themes.get(&name.to_ascii_lowercase()) {
                Some(code) => theme_codes.push(code.clone()),
                None => errors.push(RowError {
                    row,
                    column: heading("themes"),
                    message: format!("“{name}” is not a theme in the taxonomy"),
                }),
            }
        }
        let input = NewAction {
            plan_id: None,
            source_kind: source,
            source_entry_id: None,
            description: cell("description"),
            owner_agency_id: owner,
            lead_person_id: lead,
            due_on: due
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            intended_outcome: cell("intended_outcome"),
            success_evidence: cell("success_evidence"),
            themes: theme_codes,
            status: Some(cell("status")),
        };
        let checked = super::check(db, &input).await;
        let result = match checked {
            Ok(checked) if errors.is_empty() => Ok(checked),
            Ok(_) => Err(errors),
            Err(CoreError::Invalid(fields)) => {
                for field in fields {
                    let column_field = match field.field.as_str() {
                        "owner_agency_id" => "owner_agency",
                        "lead_person_id" => "lead_email",
                        other => other,
                    };
                    // Errors already named above (an unknown agency, lead or date) are not repeated.
                    let already = errors.iter().any(|e| e.column == heading(column_field));
                    if !already {
                        errors.push(RowError {
                            row,
                            column: heading(column_field),
                            message: field.message,
                        });
                    }
                }
                Err(errors)
            }
            Err(other) => return Err(other),
        };
        previewed.push(Previewed {
            row,
            cells: cells.clone(),
            result,
        });
    }
    Ok(previewed)
}

/// Imports every row into the plan (if any), or nothing: any row's error refuses the whole file.
pub async fn commit(
    db: &impl ConnectionTrait,
    headers: &[String],
    rows: &[Vec<String>],
    mapping: &Mapping,
    plan_id: Option<Uuid>,
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<usize> {
    if rows.is_empty() {
        return Err(CoreError::invalid(
            "file",
            "The file has no rows under its headings",
        ));
    }
    let previewed = preview(db, headers, rows, mapping).await?;
    let errors: Vec<FieldError> = previewed
        .iter()
        .filter_map(|p| p.result.as_ref().err())
        .flatten()
        .map(|error| FieldError::new("file", error.describe()))
        .collect();
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    let mut count = 0;
    for row in previewed {
        if let Ok(mut checked) = row.result {
            checked.plan_id = plan_id;
            super::store(db, checked, by, now).await?;
            count += 1;
        }
    }
    Ok(count)
}
