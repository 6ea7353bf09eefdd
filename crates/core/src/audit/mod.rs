//! SECURITY-SENSITIVE. The audit trail: append-only and hash-chained. Each entry is written in
//! the same transaction as the change or read it records: who, agency, role, action, record,
//! UTC time, source address, and a reason where one is required. `verify` names the first
//! entry that was edited, deleted, reordered or cut off.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryOrder, QuerySelect, Set, Statement};
use serde::Serialize;

use crate::error::{CoreError, CoreResult};
use crate::identity::secrets;

pub mod event;
pub mod journal;

pub use event::Event;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_person_id: Option<Uuid>,
    pub actor_agency_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    pub source: Option<String>,
    pub reason: Option<String>,
    /// "allowed", "denied", "succeeded" or "failed".
    pub outcome: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod head {
    use sea_orm::entity::prelude::*;

    /// The newest entry's number and hash, in one row: appending locks it, so entries are
    /// chained one at a time, and cutting entries off the end is detected.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_head")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub seq: i64,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn field(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}

/// The hash of an entry: SHA-256 over the previous hash and every field, separated by a
/// character no field may contain.
pub fn entry_hash(entry: &Model) -> String {
    let uuid = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    let text = [
        entry.prev_hash.clone(),
        entry.seq.to_string(),
        entry
            .at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        uuid(entry.actor_person_id),
        uuid(entry.actor_agency_id),
        field(&entry.actor_role).to_string(),
        entry.action.clone(),
        field(&entry.record_type).to_string(),
        field(&entry.record_id).to_string(),
        field(&entry.source).to_string(),
        field(&entry.reason).to_string(),
        entry.outcome.clone(),
    ]
    .join("\u{1f}");
    secrets::sha256_hex(&text)
}

/// Appends an entry. Call inside the transaction of the request it records.
pub async fn append(
    db: &impl ConnectionTrait,
    event: Event,
    at: DateTime<Utc>,
) -> CoreResult<Model> {
    append_many(db, vec![(event, at)])
        .await?
        .pop()
        .ok_or_else(|| CoreError::Conflict("no audit entry was written".to_string()))
}

/// Appends entries in the order given, chained one after the other: the head is read (and on
/// PostgreSQL locked) once, the entries inserted together and the head moved once.
pub async fn append_many(
    db: &impl ConnectionTrait,
    events: Vec<(Event, DateTime<Utc>)>,
) -> CoreResult<Vec<Model>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let lock = match backend {
        // Row lock: concurrent appenders (other instances too) wait here and then see the new head.
        DatabaseBackend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        // SQLite write transactions begin IMMEDIATE, which already serialises writers.
        _ => "SELECT seq, hash FROM audit_head WHERE id = 1",
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, lock))
        .await?
        .ok_or_else(|| CoreError::Conflict("the audit head is missing".to_string()))?;
    let mut seq: i64 = row.try_get_by_index(0)?;
    let mut prev_hash: String = row.try_get_by_index(1)?;
    let mut entries = Vec::with_capacity(events.len());
    for (event, at) in events {
        seq += 1;
        let mut entry = Model {
            seq,
            at: crate::clock::truncate(at),
            actor_person_id: event.actor_person_id,
            actor_agency_id: event.actor_agency_id,
            actor_role: event.actor_role,
            action: event.action,
            record_type: event.record_type,
            record_id: event.record_id,
            source: event.source,
            reason: event.reason,
            outcome: event.outcome,
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry_hash(&entry);
        prev_hash = entry.hash.clone();
        entries.push(entry);
    }
    // 13 columns a row: 64 rows stay far below SQLite's bound-parameter limit.
    for chunk in entries.chunks(64) {
        Entity::insert_many(chunk.iter().cloned().map(ActiveModel::from))
            .exec_without_returning(db)
            .await?;
    }
    head::Entity::update(head::ActiveModel {
        id: Set(1),
        seq: Set(seq),
        hash: Set(prev_hash),
    })
    .exec(db)
    .await?;
    Ok(entries)
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries_checked: u64,
    /// The first bad entry's number and what is wrong with it.
    pub first_problem: Option<(i64, String)>,
}

/// Walks the whole chain in order, a page at a time, and reports the first problem.
pub async fn verify(
    db: &impl ConnectionTrait,
    mut progress: impl FnMut(u64),
) -> CoreResult<Verification> {
    const PAGE: u64 = 1000;
    let mut checked = 0u64;
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS_HASH.to_string();
    loop {
        let page = Entity::find()
            .filter(Column::Seq.gte(expected_seq))
            .order_by_asc(Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        let done = (page.len() as u64) < PAGE;
        for entry in page {
            if entry.seq != expected_seq {
                return Ok(problem(
                    checked,
                    expected_seq,
                    format!(
                        "entry {expected_seq} is missing (the next one is {})",
                        entry.seq
                    ),
                ));
            }
            if entry.prev_hash != prev_hash {
                return Ok(problem(
                    checked,
                    entry.seq,
                    "does not follow the entry before it (deleted, inserted or reordered)"
                        .to_string(),
                ));
            }
            if entry_hash(&entry) != entry.hash {
                return Ok(problem(
                    checked,
                    entry.seq,
                    "was changed after it was written".to_string(),
                ));
            }
            prev_hash = entry.hash;
            expected_seq += 1;
            checked += 1;
        }
        progress(checked);
        if done {
            break;
        }
    }
    let head = head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| CoreError::Conflict("the audit head is missing".to_string()))?;
    let last_seq = expected_seq - 1;
    if head.seq != last_seq || head.hash != prev_hash {
        return Ok(problem(
            checked,
            last_seq + 1,
            format!(
                "the trail ends at entry {last_seq} but {} were written (cut off)",
                head.seq
            ),
        ));
    }
    Ok(Verification {
        entries_checked: checked,
        first_problem: None,
    })
}

fn problem(checked: u64, seq: i64, what: String) -> Verification {
    Verification {
        entries_checked: checked,
        first_problem: Some((seq, what)),
    }
}

/// Filters for the administrator's view of the trail.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub person_id: Option<Uuid>,
    pub action_prefix: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Entries older than this number (for paging backwards).
    pub before_seq: Option<i64>,
}

/// One page of entries, newest first, and whether there are older ones.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &Filter,
    page_size: u64,
) -> CoreResult<(Vec<Model>, bool)> {
    let mut query = Entity::find().order_by_desc(Column::Seq);
    if let Some(person_id) = filter.person_id {
        query = query.filter(Column::ActorPersonId.eq(person_id));
    }
    if let Some(prefix) = &filter.action_prefix {
        query = query.filter(Column::Action.starts_with(prefix.as_str()));
    }
    if let Some(from) = filter.from {
        query =
            query.filter(Column::At.gte(from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()));
    }
    if let Some(to) = filter.to {
        let end = to
            .succ_opt()
            .unwrap_or(to)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc();
        query = query.filter(Column::At.lt(end));
    }
    if let Some(before) = filter.before_seq {
        query = query.filter(Column::Seq.lt(before));
    }
    let mut rows = query.limit(page_size + 1).all(db).await?;
    let more = rows.len() as u64 > page_size;
    rows.truncate(page_size as usize);
    Ok((rows, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Model {
        Model {
            seq: 1,
            at: DateTime::from_timestamp(1_700_000_000, 123_000).unwrap_or_default(),
            actor_person_id: Some(Uuid::from_u128(1)),
            actor_agency_id: Some(Uuid::from_u128(2)),
            actor_role: Some("business_manager".to_string()),
            action: "person.view".to_string(),
            record_type: Some("person".to_string()),
            record_id: Some("abc".to_string()),
            source: Some("127.0.0.1".to_string()),
            reason: None,
            outcome: "allowed".to_string(),
            prev_hash: GENESIS_HASH.to_string(),
            hash: String::new(),
        }
    }

    #[test]
    fn every_field_is_in_the_hash() {
        let base = entry_hash(&entry());
        let changes: [fn(&mut Model); 8] = [
            |e| e.seq = 2,
            |e| e.at += chrono::Duration::microseconds(1),
            |e| e.actor_person_id = None,
            |e| e.action = "person.edit".to_string(),
            |e| e.record_id = Some("abd".to_string()),
            |e| e.source = None,
            |e| e.reason = Some("x".to_string()),
            |e| e.outcome = "denied".to_string(),
        ];
        for change in changes {
            let mut changed = entry();
            change(&mut changed);
            assert_ne!(entry_hash(&changed), base);
        }
    }
}
