//! The agency list a new installation starts from: a CSV or .xlsx file with the columns name,
//! kind and code, read as the action import reads its files (`learnloop_office::read_table`),
//! then checked row by row. Every problem names its row and column; any problem refuses the
//! whole list.

use std::collections::HashMap;

use sea_orm::ActiveEnum;

use crate::agencies::AgencyType;
use crate::validate;

/// The template shipped with the binary (`learnloop init --agency-template`).
pub const TEMPLATE: &str = include_str!("agencies-template.csv");

/// More agencies than any partnership has; a bigger file is a mistake.
pub const MAX_ROWS: usize = 1_000;

/// The columns the list must have, in the template's order.
pub const COLUMNS: [&str; 3] = ["name", "kind", "code"];

/// The list as read from its file: headings and rows of text, not yet checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgencyList {
    /// The file's name, used in every message about it.
    pub file_name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One row's problem: the row as a spreadsheet numbers it (the headings are row 1), the column
/// (name, kind or code) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

impl RowError {
    /// "agencies.csv row 4, column code: AGY1 is already used on row 2".
    pub fn describe(&self, file_name: &str) -> String {
        format!(
            "{file_name} row {}, column {}: {}",
            self.row, self.column, self.message
        )
    }
}

/// A row that passed every check, ready to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyRow {
    pub row: usize,
    pub name: String,
    pub kind: AgencyType,
    /// Cleaned as agencies store codes: trimmed and lower case.
    pub code: String,
}

impl AgencyList {
    /// Reads a CSV or .xlsx file; `Err` says why the file as a whole cannot be read.
    pub fn read(file_name: &str, bytes: &[u8]) -> Result<AgencyList, String> {
        let table = learnloop_office::read_table(file_name, bytes, MAX_ROWS)?;
        Ok(AgencyList {
            file_name: file_name.to_string(),
            headers: table.headers,
            rows: table.rows,
        })
    }

    /// Checks every row; returns the agencies, or every problem found.
    pub fn check(&self) -> Result<Vec<AgencyRow>, Vec<RowError>> {
        let mut errors = Vec::new();
        let mut positions = [0usize; 3];
        for (slot, column) in COLUMNS.iter().enumerate() {
            match self
                .headers
                .iter()
                .position(|heading| heading.trim().eq_ignore_ascii_case(column))
            {
                Some(index) => positions[slot] = index,
                None => errors.push(RowError {
                    row: 1,
                    column: column.to_string(),
                    message: format!(
                        "there is no “{column}” heading: the first row must name the columns name, kind, code"
                    ),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if self.rows.is_empty() {
            return Err(vec![RowError {
                row: 2,
                column: "name".to_string(),
                message: "the list has no agencies under its headings".to_string(),
            }]);
        }
        let mut agencies = Vec::new();
        // Each cleaned code and the row that first used it.
        let mut first_use: HashMap<String, usize> = HashMap::new();
        for (index, cells) in self.rows.iter().enumerate() {
            let row = index + 2;
            let cell = |slot: usize| -> &str {
                cells
                    .get(positions[slot])
                    .map(|text| text.trim())
                    .unwrap_or_default()
            };
            let problem = |column: &str, message: String| RowError {
                row,
                column: column.to_string(),
                message,
            };
            let before = errors.len();
            let name = cell(0);
            if name.is_empty() {
                errors.push(problem("name", "enter the agency's name".to_string()));
            } else if name.chars().count() > 200 {
                errors.push(problem(
                    "name",
                    "the name must be 200 characters or fewer".to_string(),
                ));
            }
            let kind_text = cell(1);
            let kind = parse_kind(kind_text);
            if kind.is_none() {
                let message = if kind_text.is_empty() {
                    format!("enter the kind of agency, one of: {}", kinds_list())
                } else {
                    format!(
                        "{kind_text} is not a kind of agency; use one of: {}",
                        kinds_list()
                    )
                };
                errors.push(problem("kind", message));
            }
            let code_text = cell(2);
            let mut code_errors = Vec::new();
            let code = validate::code("code", code_text, &mut code_errors);
            if code_text.is_empty() {
                errors.push(problem(
                    "code",
                    "enter a short code for the agency (2 to 32 letters, digits or hyphens)"
                        .to_string(),
                ));
            } else if !code_errors.is_empty() {
                errors.push(problem(
                    "code",
                    format!("{code_text} is not a code: use 2 to 32 letters, digits or hyphens"),
                ));
            } else if let Some(earlier) = first_use.get(&code) {
                errors.push(problem(
                    "code",
                    format!("{code_text} is already used on row {earlier}"),
                ));
            } else {
                first_use.insert(code.clone(), row);
            }
            if let (Some(kind), true) = (kind, errors.len() == before) {
                agencies.push(AgencyRow {
                    row,
                    name: name.to_string(),
                    kind,
                    code,
                });
            }
        }
        if errors.is_empty() {
            Ok(agencies)
        } else {
            Err(errors)
        }
    }
}

/// A kind as stored (`nhs_acute_trust`) or as labelled (`NHS hospital trust`), in any case.
pub fn parse_kind(text: &str) -> Option<AgencyType> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    AgencyType::ALL.into_iter().find(|kind| {
        kind.to_value().eq_ignore_ascii_case(text) || kind.label().eq_ignore_ascii_case(text)
    })
}

/// The kinds a list may use, as stored, for messages and prompts.
pub fn kinds_list() -> String {
    AgencyType::ALL
        .iter()
        .map(|kind| kind.to_value())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(text: &str) -> AgencyList {
        AgencyList::read("agencies.csv", text.as_bytes()).expect("a readable list")
    }

    #[test]
    fn the_template_passes_its_own_checks() {
        let rows = list(TEMPLATE).check().expect("the template is valid");
        assert!(rows.len() >= 10);
        assert!(
            rows.iter()
                .any(|row| row.kind == AgencyType::PartnershipTeam)
        );
    }

    #[test]
    fn headings_are_found_in_any_order_and_case() {
        let rows = list("Code,Name,Kind\nTEAM,Partnership team,Partnership team\n")
            .check()
            .expect("valid");
        assert_eq!(rows[0].code, "team");
        assert_eq!(rows[0].name, "Partnership team");
        assert_eq!(rows[0].kind, AgencyType::PartnershipTeam);
    }

    #[test]
    fn each_problem_names_its_row_and_column() {
        let errors = list(
            "name,kind,code\n\
             Example Police,police,AGY1\n\
             ,police,agy2\n\
             Example Trust,hospital,agy3\n\
             Example Homes,housing,agy1\n\
             Example Council,childrens_social_care,\n",
        )
        .check()
        .expect_err("refused");
        let described: Vec<String> = errors
            .iter()
            .map(|error| error.describe("agencies.csv"))
            .collect();
        assert_eq!(described.len(), 4, "{described:?}");
        assert_eq!(
            described[0],
            "agencies.csv row 3, column name: enter the agency's name"
        );
        assert!(described[1].starts_with(
            "agencies.csv row 4, column kind: hospital is not a kind of agency; use one of: childrens_social_care,"
        ));
        assert_eq!(
            described[2],
            "agencies.csv row 5, column code: agy1 is already used on row 2"
        );
        assert!(described[3].starts_with("agencies.csv row 6, column code: enter a short code"));
    }

    #[test]
    fn a_missing_heading_is_named() {
        let errors = list("name,type,code\nExample Police,police,pol\n")
            .check()
            .expect_err("refused");
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].row, errors[0].column.as_str()), (1, "kind"));
    }

    #[test]
    fn kinds_are_read_as_stored_or_as_labelled() {
        assert_eq!(
            parse_kind("NHS hospital trust"),
            Some(AgencyType::NhsAcuteTrust)
        );
        assert_eq!(parse_kind(" POLICE "), Some(AgencyType::Police));
        assert_eq!(parse_kind("constabulary"), None);
    }
}
