//! A person's own account: who they are, the roles they hold, and their own activity to
//! download.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use learnloop_core::access::grants;
use learnloop_core::{agencies, audit, people};

use super::layout::{Layout, render};
use crate::error::PageResult;
use crate::extract::Caller;
use crate::state::AppState;

pub struct GrantRow {
    pub role: &'static str,
    pub scope: String,
    pub dates: String,
    pub state: &'static str,
    /// For a role that sees case content: "Case access granted on <day> by <name>", so the
    /// person (and their administrators) can see who opened case content to them.
    pub case_access: Option<String>,
}

/// The rows describing a person's grants, for their account page and the admin page.
pub async fn grant_rows(
    db: &impl sea_orm::ConnectionTrait,
    person_id: uuid::Uuid,
    today: chrono::NaiveDate,
) -> Result<Vec<(grants::Model, GrantRow)>, learnloop_core::CoreError> {
    let mut rows = Vec::new();
    for row in grants::of_person(db, person_id).await? {
        let Some(grant) = row.to_grant() else {
            continue;
        };
        let scope = match grant.scope {
            learnloop_core::access::Scope::Partnership => "All partnerships".to_string(),
            learnloop_core::access::Scope::Agency(agency_id) => agencies::get(db, agency_id)
                .await
                .map(|a| a.name)
                .unwrap_or_default(),
            learnloop_core::access::Scope::Review(review_id) => {
                format!("Review {}", &review_id.to_string()[..8])
            }
        };
        let dates = match (grant.starts_on, grant.ends_on) {
            (None, None) => "No end date".to_string(),
            (Some(start), None) => format!("From {start}"),
            (None, Some(end)) => format!("Until {end}"),
            (Some(start), Some(end)) => format!("{start} to {end}"),
        };
        let state = if row.revoked_at.is_some() {
            "Ended"
        } else if grant.active_on(today) {
            "Active"
        } else if grant.starts_on.is_some_and(|start| start > today) {
            "Not started"
        } else {
            "Expired"
        };
        let case_access = if grant.role.sees_case_content() {
            let granted_by = match row.granted_by {
                Some(granter) => people::get(db, granter)
                    .await
                    .map(|person| format!(" by {}", person.name))
                    .unwrap_or_default(),
                None => String::new(),
            };
            Some(format!(
                "Case access granted on {}{granted_by}",
                row.created_at.format("%-d %B %Y")
            ))
        } else {
            None
        };
        rows.push((
            row,
            GrantRow {
                role: grant.role.label(),
                scope,
                dates,
                state,
                case_access,
            },
        ));
    }
    Ok(rows)
}

#[derive(Template)]
#[template(path = "pages/account.html")]
struct AccountPage {
    layout: Layout,
    name: String,
    email: String,
    agency: String,
    grants: Vec<GrantRow>,
}

pub async fn show(State(state): State<AppState>, caller: Caller) -> PageResult<Html<String>> {
    let person = &caller.signed_in.person;
    let txn = state.db.read().await?;
    let agency = agencies::get(&txn, person.agency_id).await?.name;
    let grants = grant_rows(&txn, person.id, caller.now.date_naive())
        .await?
        .into_iter()
        .map(|(_, row)| row)
        .collect();
    txn.commit().await?;
    render(&AccountPage {
        layout: Layout::new("Your account", ""),
        name: person.name.clone(),
        email: person.email.clone(),
        agency,
        grants,
    })
}

fn csv_field(value: &str) -> String {
    // Quote every field, and defuse spreadsheet formulas with the one shared guard.
    let value = learnloop_office::defuse_formula(value);
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// The person's own entries in the audit trail, as CSV.
pub async fn activity_csv(
    State(state): State<AppState>,
    caller: Caller,
    _: crate::auth::step_up::RecentStepUp,
) -> PageResult<Response> {
    let person_id = caller.signed_in.person.id;
    let txn = state.db.read().await?;
    let mut out = String::from("seq,at_utc,action,record_type,record_id,outcome,source\n");
    let mut filter = audit::Filter {
        person_id: Some(person_id),
        ..audit::Filter::default()
    };
    loop {
        let (rows, more) = audit::list(&txn, &filter, 1000).await?;
        for entry in &rows {
            let fields = [
                entry.seq.to_string(),
                entry.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                entry.action.clone(),
                entry.record_type.clone().unwrap_or_default(),
                entry.record_id.clone().unwrap_or_default(),
                entry.outcome.clone(),
                entry.source.clone().unwrap_or_default(),
            ];
            out.push_str(
                &fields
                    .iter()
                    .map(|field| csv_field(field))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
        match (more, rows.last()) {
            (true, Some(last)) => filter.before_seq = Some(last.seq),
            _ => break,
        }
    }
    txn.commit().await?;
    // The export is recorded once the file is read (so the file holds every earlier entry),
    // durably, before it leaves.
    state
        .db
        .journal()
        .record(
            caller
                .viewer()
                .event("activity.export", "allowed")
                .on("person", person_id),
            caller.now,
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"my-activity.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn own_activity_cells_are_quoted_and_defused_by_the_shared_guard() {
        for start in ["=", "+", "-", "@", "\t", "\r"] {
            let value = format!("{start}cmd|' /C calc'!A0");
            assert_eq!(
                csv_field(&value),
                format!("\"'{}\"", value.replace('"', "\"\""))
            );
        }
        assert_eq!(csv_field("plain"), "\"plain\"");
    }
}
