//! Personal calendar feeds: a secret address per person that calendar apps subscribe to. Only
//! the hash of the secret is stored; revoking it (or making a new one) stops the old address.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use crate::error::CoreResult;
use crate::identity::secrets;
use crate::people;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_feeds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub person_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Revokes the person's feeds and makes a new one; returns its secret.
pub async fn renew(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    revoke_all(db, person_id, now).await?;
    let secret = secrets::random_hex(32);
    Entity::insert(ActiveModel {
        token_hash: Set(secrets::sha256_hex(&secret)),
        person_id: Set(person_id),
        created_at: Set(now),
        revoked_at: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(secret)
}

pub async fn revoke_all(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    Entity::update_many()
        .col_expr(Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(Column::PersonId.eq(person_id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn has_active(db: &impl ConnectionTrait, person_id: Uuid) -> CoreResult<bool> {
    Ok(Entity::find()
        .filter(Column::PersonId.eq(person_id))
        .filter(Column::RevokedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

/// The active person a feed secret belongs to.
pub async fn person_for(
    db: &impl ConnectionTrait,
    secret: &str,
) -> CoreResult<Option<people::Person>> {
    let Some(feed) = Entity::find_by_id(secrets::sha256_hex(secret))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if feed.revoked_at.is_some() {
        return Ok(None);
    }
    let person = people::get(db, feed.person_id).await?;
    Ok(person.active.then_some(person))
}

/// One all-day event.
pub struct Event {
    pub uid: String,
    pub day: NaiveDate,
    pub summary: String,
    pub description: String,
}

/// A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped; CRLF, LF and a
/// bare CR each become the escaped line break `\n`, so no value can end its content line and
/// start a property of its own; other control characters (not allowed in TEXT) are dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(character) = chars.next() {
        match character {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets, as RFC 5545 asks, without splitting a character.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    for character in line.chars() {
        let width = character.len_utf8();
        if count + width > 75 {
            out.push_str("\r\n ");
            count = 1;
        }
        out.push(character);
        count += width;
    }
    out.push_str("\r\n");
    out
}

/// An iCalendar document of all-day events.
pub fn ical(name: &str, events: &[Event], now: DateTime<Utc>) -> String {
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//learnloop//deadlines//EN",
        "CALSCALE:GREGORIAN",
    ] {
        out.push_str(&fold(line));
    }
    out.push_str(&fold(&format!("X-WR-CALNAME:{}", escape(name))));
    for event in events {
        out.push_str(&fold("BEGIN:VEVENT"));
        out.push_str(&fold(&format!("UID:{}", escape(&event.uid))));
        out.push_str(&fold(&format!("DTSTAMP:{stamp}")));
        out.push_str(&fold(&format!(
            "DTSTART;VALUE=DATE:{}",
            event.day.format("%Y%m%d")
        )));
        out.push_str(&fold(&format!(
            "DTEND;VALUE=DATE:{}",
            event.day.succ_opt().unwrap_or(event.day).format("%Y%m%d")
        )));
        out.push_str(&fold(&format!("SUMMARY:{}", escape(&event.summary))));
        out.push_str(&fold(&format!(
            "DESCRIPTION:{}",
            escape(&event.description)
        )));
        out.push_str(&fold("END:VEVENT"));
    }
    out.push_str(&fold("END:VCALENDAR"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_escaped_and_lines_folded() {
        let event = Event {
            uid: "x@learnloop".to_string(),
            day: NaiveDate::from_ymd_opt(2026, 12, 29).unwrap_or_default(),
            summary: "Child R; notify, now".to_string(),
            description: "a".repeat(100),
        };
        let text = ical(
            "Deadlines",
            &[event],
            DateTime::from_timestamp(0, 0).unwrap_or_default(),
        );
        assert!(text.contains("SUMMARY:Child R\\; notify\\, now\r\n"));
        assert!(text.contains("DTSTART;VALUE=DATE:20261229\r\n"));
        assert!(text.contains("DTEND;VALUE=DATE:20261230\r\n"));
        assert!(text.lines().all(|line| line.len() <= 75), "folded");
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn carriage_returns_cannot_start_a_property() {
        let event = Event {
            uid: "x@learnloop\rATTACH:http://evil.example".to_string(),
            day: NaiveDate::from_ymd_opt(2026, 12, 29).unwrap_or_default(),
            summary: "Review\rEND:VEVENT\r\nBEGIN:VEVENT".to_string(),
            description: "one\r\ntwo\rthree\nfour\u{0}".to_string(),
        };
        let text = ical(
            "Team\rX-INJECTED:1",
            &[event],
            DateTime::from_timestamp(0, 0).unwrap_or_default(),
        );
        // Every CR in the document is part of a CRLF the writer put there.
        assert!(!text.replace("\r\n", "").contains(['\r', '\n']), "{text:?}");
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines.iter().filter(|l| **l == "BEGIN:VEVENT").count(), 1);
        assert_eq!(lines.iter().filter(|l| **l == "END:VEVENT").count(), 1);
        assert!(text.contains("SUMMARY:Review\\nEND:VEVENT\\nBEGIN:VEVENT\r\n"));
        assert!(text.contains("DESCRIPTION:one\\ntwo\\nthree\\nfour\r\n"));
        assert!(text.contains("X-WR-CALNAME:Team\\nX-INJECTED:1\r\n"));
        assert!(!text.contains("\r\nATTACH:"), "{text:?}");
    }
}
