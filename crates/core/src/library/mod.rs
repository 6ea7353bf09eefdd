//! The library: every finding, recommendation and learning item, of every review type and
//! partnership, in one search index (SQLite FTS5 or PostgreSQL full text, behind `search`),
//! filtered by theme, type, agency and date, and by what the reader is entitled to: published
//! items for everyone, restricted ones only for those who may see them. `similar` finds the
//! earlier learning most like a new finding (repeated learning).

pub mod similar;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseBackend, Set, Statement, Value};

use crate::error::{CoreError, CoreResult};
use crate::reviews::{self, entries};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "library_docs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// "finding", "recommendation" or "learning_item".
    pub source_kind: String,
    pub source_id: Uuid,
    pub title: String,
    pub body: String,
    /// Theme codes, space-separated with a space at each end (" neglect self_neglect ").
    pub themes: String,
    /// The review type's code, or "" for learning not from a review.
    pub review_type: String,
    /// Agency ids, space-separated.
    pub agency_ids: String,
    pub partnership_ids: String,
    pub dated_on: NaiveDate,
    /// Published learning; the rest is restricted.
    pub public: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn theme_codes(&self) -> Vec<String> {
        self.themes.split_whitespace().map(str::to_string).collect()
    }
}

fn spaced<T: ToString>(values: &[T]) -> String {
    if values.is_empty() {
        String::new()
    } else {
        format!(
            " {} ",
            values
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        )
    }
}

async fn upsert(db: &impl ConnectionTrait, doc: Model) -> CoreResult<()> {
    Entity::delete_many()
        .filter(Column::SourceId.eq(doc.source_id))
        .exec(db)
        .await?;
    let active: ActiveModel = ActiveModel {
        id: Set(doc.id),
        source_kind: Set(doc.source_kind),
        source_id: Set(doc.source_id),
        title: Set(doc.title),
        body: Set(doc.body),
        themes: Set(doc.themes),
        review_type: Set(doc.review_type),
        agency_ids: Set(doc.agency_ids),
        partnership_ids: Set(doc.partnership_ids),
        dated_on: Set(doc.dated_on),
        public: Set(doc.public),
    };
    Entity::insert(active).exec_without_returning(db).await?;
    Ok(())
}

/// Indexes a review's findings and recommendations (again), public once the review is.
pub async fn index_review(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<()> {
    let review = reviews::get(db, review_id).await?;
    let case = crate::cases::get(db, review.case_id).await?;
    for entry in entries::of_review(db, review_id).await? {
        if entry.entry.kind != entries::FINDING && entry.entry.kind != entries::RECOMMENDATION {
            continue;
        }
        let mut agency_ids = entry.agency_ids.clone();
        if agency_ids.is_empty() {
            agency_ids = case.agency_ids.clone();
        }
        upsert(
            db,
            Model {
                id: Uuid::now_v7(),
                source_kind: entry.entry.kind.clone(),
                source_id: entry.entry.id,
                title: entry.entry.title.clone(),
                body: entry.entry.body.clone(),
                themes: spaced(&entry.theme_codes),
                review_type: review.review_type_code.clone(),
                agency_ids: spaced(&agency_ids),
                partnership_ids: spaced(&review.partnership_id.into_iter().collect::<Vec<_>>()),
                dated_on: entry.entry.created_at.date_naive(),
                public: review.published_on.is_some(),
            },
        )
        .await?;
    }
    Ok(())
}

/// Indexes a learning item (again).
pub async fn index_item(db: &impl ConnectionTrait, item_id: Uuid) -> CoreResult<()> {
    let item = crate::learning::get(db, item_id).await?;
    let review_type = match item.item.review_id {
        Some(review) => reviews::get(db, review)
            .await
            .map(|r| r.review_type_code)
            .unwrap_or_default(),
        None => String::new(),
    };
    upsert(
        db,
        Model {
            id: Uuid::now_v7(),
            source_kind: "learning_item".to_string(),
            source_id: item.item.id,
            title: item.item.title.clone(),
            body: item.item.lesson.clone(),
            themes: spaced(&item.themes),
            review_type,
            agency_ids: spaced(&item.agency_ids),
            partnership_ids: spaced(&item.partnership_ids),
            dated_on: item.item.identified_on,
            public: item.item.published,
        },
    )
    .await
}

/// Who is reading, for what they may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// The public page, practitioners: published learning only.
    PublishedOnly,
    /// Agency leads: published learning, and restricted learning concerning their agencies.
    Agencies(Vec<Uuid>),
    /// The partnership team: everything.
    Everything,
}

impl Reader {
    pub fn of(actor: &crate::access::Actor) -> Reader {
        use crate::access::Role;
        if actor.sees_all_cases() {
            Reader::Everything
        } else if actor.has_role(Role::AgencyLead) {
            Reader::Agencies(actor.agencies_for(Role::AgencyLead))
        } else {
            Reader::PublishedOnly
        }
    }

    pub fn may_read(&self, doc: &Model) -> bool {
        match self {
            Reader::Everything => true,
            _ if doc.public => true,
            Reader::Agencies(ids) => ids
                .iter()
                .any(|id| doc.agency_ids.contains(&id.to_string())),
            Reader::PublishedOnly => false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub theme: Option<String>,
    pub review_type: Option<String>,
    pub agency: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The words of a query, without anything a full-text engine would read as an operator
/// (quotes, brackets, `NEAR`, `*`, `-`): at most 12 words of letters and digits.
pub fn words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .filter(|word| !matches!(word.as_str(), "and" | "or" | "not" | "near"))
        .take(12)
        .collect()
}

/// Full-text search, best matches first.
pub async fn search(
    db: &impl ConnectionTrait,
    query: &str,
    filter: &Filter,
    reader: &Reader,
    limit: u64,
) -> CoreResult<Vec<Model>> {
    let words = words(query);
    if words.is_empty() {
        return Err(CoreError::invalid(
            "q",
            "Enter one or more words to search for",
        ));
    }
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::new();
    let next = |value: Value, values: &mut Vec<Value>| {
        values.push(value);
        match backend {
            DatabaseBackend::Postgres => format!("${}", values.len()),
            _ => "?".to_string(),
        }
    };
    let columns = "d.id, d.source_kind, d.source_id, d.title, d.body, d.themes, d.review_type, d.agency_ids, d.partnership_ids, d.dated_on, d.public";
    let (mut sql, order) = match backend {
        DatabaseBackend::Postgres => {
            let joined = words.join(" ");
            let p = next(Value::from(joined), &mut values);
            (
                format!(
                    "SELECT {columns} FROM library_docs d WHERE d.search @@ plainto_tsquery('english', {p})"
                ),
                format!(
                    " ORDER BY ts_rank(d.search, plainto_tsquery('english', {p})) DESC, d.dated_on DESC"
                ),
            )
        }
        _ => {
            // Every word quoted: FTS5 reads them as plain terms, all required.
            let quoted = words
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" ");
            let p = next(Value::from(quoted), &mut values);
            (
                format!(
                    "SELECT {columns} FROM library_fts JOIN library_docs d ON d.rowid = library_fts.rowid WHERE library_fts MATCH {p}"
                ),
                " ORDER BY bm25(library_fts), d.dated_on DESC".to_string(),
            )
        }
    };
    if let Some(theme) = &filter.theme {
        let p = next(Value::from(format!("% {theme} %")), &mut values);
        sql.push_str(&format!(" AND d.themes LIKE {p}"));
    }
    if let Some(kind) = &filter.review_type {
        let p = next(Value::from(kind.clone()), &mut values);
        sql.push_str(&format!(" AND d.review_type = {p}"));
    }
    if let Some(agency) = filter.agency {
        let p = next(Value::from(format!("% {agency} %")), &mut values);
        sql.push_str(&format!(" AND d.agency_ids LIKE {p}"));
    }
    if let Some(from) = filter.from {
        let p = next(Value::from(from), &mut values);
        sql.push_str(&format!(" AND d.dated_on >= {p}"));
    }
    if let Some(to) = filter.to {
        let p = next(Value::from(to), &mut values);
        sql.push_str(&format!(" AND d.dated_on <= {p}"));
    }
    match reader {
        Reader::Everything => {}
        Reader::PublishedOnly => sql.push_str(" AND d.public = TRUE"),
        Reader::Agencies(ids) => {
            let mut any = vec!["d.public = TRUE".to_string()];
            for id in ids {
                let p = next(Value::from(format!("% {id} %")), &mut values);
                any.push(format!("d.agency_ids LIKE {p}"));
            }
            sql.push_str(&format!(" AND ({})", any.join(" OR ")));
        }
    }
    sql.push_str(&order);
    let p = next(Value::from(i64::try_from(limit).unwrap_or(50)), &mut values);
    sql.push_str(&format!(" LIMIT {p}"));
    Ok(Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await?)
}

/// Without words: the newest documents matching the filters, that the reader may see.
pub async fn browse(
    db: &impl ConnectionTrait,
    filter: &Filter,
    reader: &Reader,
    limit: usize,
) -> CoreResult<Vec<Model>> {
    use sea_orm::QueryOrder;
    let mut query = Entity::find().order_by_desc(Column::DatedOn);
    if let Some(theme) = &filter.theme {
        query = query.filter(Column::Themes.contains(format!(" {theme} ")));
    }
    if let Some(kind) = &filter.review_type {
        query = query.filter(Column::ReviewType.eq(kind.as_str()));
    }
    if let Some(agency) = filter.agency {
        query = query.filter(Column::AgencyIds.contains(format!(" {agency} ")));
    }
    if let Some(from) = filter.from {
        query = query.filter(Column::DatedOn.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(Column::DatedOn.lte(to));
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .filter(|doc| reader.may_read(doc))
        .take(limit)
        .collect())
}

/// How often each theme came up, by year, over what the reader may see: theme code → year →
/// count.
pub async fn themes_by_year(
    db: &impl ConnectionTrait,
    reader: &Reader,
) -> CoreResult<BTreeMap<String, BTreeMap<i32, usize>>> {
    let mut counts: BTreeMap<String, BTreeMap<i32, usize>> = BTreeMap::new();
    for doc in Entity::find().all(db).await? {
        if !reader.may_read(&doc) || doc.source_kind == "recommendation" {
            continue;
        }
        for code in doc.theme_codes() {
            *counts
                .entry(code)
                .or_default()
                .entry(doc.dated_on.year())
                .or_default() += 1;
        }
    }
    Ok(counts)
}

/// What was done about an earlier finding or lesson: the actions that answered it (or its
/// review's recommendations) and how many are closed; for a learning item, its stage.
pub async fn what_was_done(db: &impl ConnectionTrait, doc: &Model) -> CoreResult<(usize, usize)> {
    use crate::actions;
    let list = match doc.source_kind.as_str() {
        "recommendation" => {
            actions::Entity::find()
                .filter(actions::Column::SourceEntryId.eq(doc.source_id))
                .all(db)
                .await?
        }
        "finding" => match entries::Entity::find_by_id(doc.source_id).one(db).await? {
            Some(entry) => {
                actions::Entity::find()
                    .filter(actions::Column::ReviewId.eq(entry.review_id))
                    .all(db)
                    .await?
            }
            None => Vec::new(),
        },
        _ => match crate::learning::Entity::find_by_id(doc.source_id)
            .one(db)
            .await?
        {
            Some(item) => match item.review_id {
                Some(review) => {
                    actions::Entity::find()
                        .filter(actions::Column::ReviewId.eq(review))
                        .all(db)
                        .await?
                }
                None => Vec::new(),
            },
            None => Vec::new(),
        },
    };
    let closed = list.iter().filter(|a| a.status().is_done()).count();
    Ok((list.len(), closed))
}
