//! The query strings pages and the API share: the tracker's filters and the library's search.
//! Their own module, so neither pages nor the API import the other.

use chrono::NaiveDate;
use learnloop_core::FieldError;
use learnloop_core::access::{Actor, action_scope};
use learnloop_core::actions::tracker::{DueWindow, Filter};
use learnloop_core::actions::{self, Rag, Status};
use serde::Deserialize;
use uuid::Uuid;

/// The tracker's filters as they appear in the address.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrackerQuery {
    /// review, audit, complaint, whistleblowing, risk, assurance or direct.
    #[serde(default)]
    pub source: Option<String>,
    /// An agency's id.
    #[serde(default)]
    pub agency: Option<String>,
    /// not_started, on_track, at_risk, off_track, completed or closed.
    #[serde(default)]
    pub status: Option<String>,
    /// red, amber, green or complete.
    #[serde(default)]
    pub rag: Option<String>,
    /// A theme's code.
    #[serde(default)]
    pub theme: Option<String>,
    /// "overdue", or a number of days ahead.
    #[serde(default)]
    pub due: Option<String>,
    /// An action plan's id.
    #[serde(default)]
    pub plan: Option<String>,
    /// "me": only actions I lead.
    #[serde(default)]
    pub lead: Option<String>,
    /// Page number, from 1.
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Items a page through the API, 1 to 200 (default 50); pages show 50.
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

pub fn nonempty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl TrackerQuery {
    /// The names of the filters in use ("filters: agency, rag"), for the audit trail: which
    /// filters, never their values.
    pub fn filter_kinds(&self) -> Option<String> {
        let used: Vec<&str> = [
            ("source", &self.source),
            ("agency", &self.agency),
            ("status", &self.status),
            ("rag", &self.rag),
            ("theme", &self.theme),
            ("due", &self.due),
            ("plan", &self.plan),
            ("lead", &self.lead),
        ]
        .into_iter()
        .filter(|(_, value)| nonempty(value).is_some())
        .map(|(name, _)| name)
        .collect();
        (!used.is_empty()).then(|| format!("filters: {}", used.join(", ")))
    }

    /// The filter, within the actor's scope; a value that names nothing is an error naming the
    /// parameter.
    pub fn filter(&self, actor: &Actor, person_id: Uuid) -> Result<Filter, FieldError> {
        let mut filter = Filter {
            agencies: action_scope(actor),
            ..Filter::default()
        };
        if let Some(source) = nonempty(&self.source) {
            if !actions::SOURCES.iter().any(|(key, _)| *key == source) {
                return Err(FieldError::new("source", "is not a source of actions"));
            }
            filter.source = Some(source.to_string());
        }
        if let Some(agency) = nonempty(&self.agency) {
            let id = Uuid::parse_str(agency)
                .map_err(|_| FieldError::new("agency", "is not an agency id"))?;
            filter.agencies = Some(match filter.agencies {
                Some(allowed) => allowed.into_iter().filter(|a| *a == id).collect(),
                None => vec![id],
            });
        }
        if let Some(status) = nonempty(&self.status) {
            filter.status = Some(
                Status::parse(status)
                    .ok_or_else(|| FieldError::new("status", "is not a status"))?,
            );
        }
        if let Some(rag) = nonempty(&self.rag) {
            filter.rag =
                Some(Rag::parse(rag).ok_or_else(|| {
                    FieldError::new("rag", "must be red, amber, green or complete")
                })?);
        }
        if let Some(theme) = nonempty(&self.theme) {
            filter.theme = Some(theme.to_string());
        }
        if let Some(due) = nonempty(&self.due) {
            filter.due = Some(DueWindow::parse(due).ok_or_else(|| {
                FieldError::new(
                    "due",
                    "must be “overdue” or a number of days from 1 to 3650",
                )
            })?);
        }
        if let Some(plan) = nonempty(&self.plan) {
            filter.plan_id = Some(
                Uuid::parse_str(plan)
                    .map_err(|_| FieldError::new("plan", "is not an action plan id"))?,
            );
        }
        if nonempty(&self.lead) == Some("me") {
            filter.lead_person_id = Some(person_id);
        }
        Ok(filter)
    }

    /// The same filters as a query string (for paging and export links).
    pub fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("source", &self.source),
            ("agency", &self.agency),
            ("status", &self.status),
            ("rag", &self.rag),
            ("theme", &self.theme),
            ("due", &self.due),
            ("plan", &self.plan),
            ("lead", &self.lead),
        ] {
            if let Some(value) = nonempty(value) {
                parts.push(query_pair(key, value));
            }
        }
        parts.join("&")
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to search for (operators are ignored).
    #[serde(default)]
    pub q: Option<String>,
    /// A theme's code.
    #[serde(default)]
    pub theme: Option<String>,
    /// A review type's code.
    #[serde(default, rename = "type")]
    pub review_type: Option<String>,
    /// An agency's id.
    #[serde(default)]
    pub agency: Option<String>,
    /// From this date (YYYY-MM-DD).
    #[serde(default)]
    pub from: Option<String>,
    /// To this date (YYYY-MM-DD).
    #[serde(default)]
    pub to: Option<String>,
    /// The page of results when browsing without words (from 1).
    #[serde(default)]
    pub page: Option<u64>,
}

/// Documents on one page when browsing the library.
pub const BROWSE_PER_PAGE: u64 = 50;

pub fn clean(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl SearchQuery {
    /// Which parts of the query were used ("words, theme"), for the audit trail.
    pub fn kinds(&self) -> String {
        let used: Vec<&str> = [
            ("words", &self.q),
            ("theme", &self.theme),
            ("type", &self.review_type),
            ("agency", &self.agency),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, value)| clean(value).is_some())
        .map(|(name, _)| name)
        .collect();
        used.join(", ")
    }

    /// The filters again, for the links to other pages (ids, codes and dates only).
    pub fn filter_query_string(&self) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("theme", &self.theme),
            ("type", &self.review_type),
            ("agency", &self.agency),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(value) = clean(value) {
                parts.push(query_pair(key, &value));
            }
        }
        parts.join("&")
    }

    pub fn filter(&self) -> Result<learnloop_core::library::Filter, FieldError> {
        let date = |field: &str, value: &Option<String>| -> Result<Option<NaiveDate>, FieldError> {
            match clean(value) {
                None => Ok(None),
                Some(text) => NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| {
                        FieldError::new(field, "Enter a real date in the form 2026-11-30")
                    }),
            }
        };
        Ok(learnloop_core::library::Filter {
            theme: clean(&self.theme),
            review_type: clean(&self.review_type),
            agency: match clean(&self.agency) {
                None => None,
                Some(text) => Some(
                    Uuid::parse_str(&text)
                        .map_err(|_| FieldError::new("agency", "Choose an agency from the list"))?,
                ),
            },
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
        })
    }
}

/// `key=value` for a link, keeping only the characters of ids, codes and dates.
fn query_pair(key: &str, value: &str) -> String {
    let encoded: String = value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    format!("{key}={encoded}")
}
