//! The audit trail for administrators: newest first, filtered by person, action and date,
//! paged backwards. Looking at the trail is itself recorded.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::NaiveDate;
use learnloop_core::{FieldError, audit, people};
use serde::Deserialize;

use super::layout::{Layout, render};
use crate::auth::{SignedIn, Source};
use crate::error::PageResult;
use crate::state::AppState;

const PAGE_SIZE: u64 = 50;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    person: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: Option<i64>,
}

struct PersonChoice {
    id: String,
    name: String,
    selected: bool,
}

struct EntryRow {
    seq: i64,
    at: String,
    actor: String,
    role: String,
    action: String,
    record: String,
    outcome: String,
    source: String,
}

#[derive(Template)]
#[template(path = "pages/admin_audit.html")]
struct AuditPage {
    layout: Layout,
    query: AuditQuery,
    people: Vec<PersonChoice>,
    rows: Vec<EntryRow>,
    older_link: Option<String>,
}

fn date(field: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    if value.trim().is_empty() {
        return None;
    }
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| {
            errors.push(FieldError::new(
                field,
                "Enter a date in the form 2026-11-30",
            ))
        })
        .ok()
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Query(query): Query<AuditQuery>,
) -> PageResult<Html<String>> {
    let mut errors = Vec::new();
    let from = date("from", &query.from, &mut errors);
    let to = date("to", &query.to, &mut errors);
    let now = state.clock.now();
    let txn = state.db.read().await?;
    let person_id = if query.person.trim().is_empty() {
        None
    } else {
        // People are chosen by id, never by name or email: no personal data in addresses.
        match uuid::Uuid::parse_str(query.person.trim()) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new("person", "Choose a person from the list"));
                None
            }
        }
    };
    let (entries, more) = if errors.is_empty() {
        let filter = audit::Filter {
            person_id,
            action_prefix: Some(query.action.trim().to_string())
                .filter(|action| !action.is_empty()),
            from,
            to,
            before_seq: query.before,
        };
        audit::list(&txn, &filter, PAGE_SIZE).await?
    } else {
        (Vec::new(), false)
    };
    let everyone = people::list(&txn).await?;
    let names: std::collections::HashMap<uuid::Uuid, String> = everyone
        .iter()
        .map(|person| (person.id, person.name.clone()))
        .collect();
    let choices = everyone
        .into_iter()
        .map(|person| PersonChoice {
            selected: Some(person.id) == person_id,
            id: person.id.to_string(),
            name: person.name,
        })
        .collect();
    state
        .db
        .journal()
        .record(
            audit::Event::new("audit.view", "allowed")
                .by(&signed_in.actor)
                .from_source(source),
            now,
        )
        .await?;
    txn.commit().await?;
    let older_link = match (more, entries.last()) {
        (true, Some(last)) => Some(format!(
            "/admin/audit?person={}&action={}&from={}&to={}&before={}",
            encode(&query.person),
            encode(&query.action),
            encode(&query.from),
            encode(&query.to),
            last.seq
        )),
        _ => None,
    };
    let rows = entries
        .into_iter()
        .map(|entry| EntryRow {
            seq: entry.seq,
            at: entry.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: entry
                .actor_person_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "—".to_string()),
            role: entry.actor_role.unwrap_or_default(),
            action: entry.action,
            record: match (entry.record_type, entry.record_id) {
                (Some(kind), Some(id)) => {
                    format!("{kind} {}", id.chars().take(12).collect::<String>())
                }
                _ => String::new(),
            },
            outcome: entry.outcome,
            source: entry.source.unwrap_or_default(),
        })
        .collect();
    render(&AuditPage {
        layout: Layout::new("Audit trail", "/admin/audit").with_errors(errors),
        query,
        people: choices,
        rows,
        older_link,
    })
}
