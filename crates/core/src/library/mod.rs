//! The library: every finding, recommendation and learning item, of every review type and
//! partnership, in one search index (SQLite FTS5 or PostgreSQL full text, behind `search`),
//! filtered by theme, type, agency and date, and by what the reader is entitled to: published
//! items for everyone, restricted ones only for those who may see them. `similar` finds the
//! earlier learning most like a new finding (repeated learning).
//!
//! The library depends on no domain: reviews and learning hand it their `Document`s (`index`,
//! and `freeze` at a publication), built from their own tables. What is read across both, such
//! as the actions taken on an earlier finding, is in `crate::library_views`, above them.

pub mod similar;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, DatabaseBackend, Set, Statement, Value};

use crate::error::{CoreError, CoreResult};

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
    /// The source has been published (a frozen copy of it is public).
    pub public: bool,
    /// This is the copy frozen at publication, the only text the public and practitioners
    /// see; otherwise it is the live copy, which follows every change and stays restricted.
    pub frozen: bool,
    /// The review or learning item whose publication froze this copy.
    pub published_from: Option<Uuid>,
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

/// Every column set, for an insert.
pub fn to_active(doc: Model) -> ActiveModel {
    ActiveModel {
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
        frozen: Set(doc.frozen),
        published_from: Set(doc.published_from),
    }
}

/// A finding, recommendation or learning item as its domain hands it to the library: the
/// domain builds it from its own tables, so the library reads no domain's tables itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// "finding", "recommendation" or "learning_item".
    pub source_kind: String,
    pub source_id: Uuid,
    pub title: String,
    pub body: String,
    /// Theme codes.
    pub themes: Vec<String>,
    /// The review type's code, or "" for learning not from a review.
    pub review_type: String,
    pub agency_ids: Vec<Uuid>,
    pub partnership_ids: Vec<Uuid>,
    pub dated_on: NaiveDate,
}

impl Document {
    /// A new row for the index, not yet public nor frozen.
    fn row(self) -> Model {
        Model {
            id: Uuid::now_v7(),
            source_kind: self.source_kind,
            source_id: self.source_id,
            title: self.title,
            body: self.body,
            themes: spaced(&self.themes),
            review_type: self.review_type,
            agency_ids: spaced(&self.agency_ids),
            partnership_ids: spaced(&self.partnership_ids),
            dated_on: self.dated_on,
            public: false,
            frozen: false,
            published_from: None,
        }
    }
}

/// Indexes documents (again) as live copies, each replacing the live copy of its source; its
/// frozen copy, if any, is never touched here. A live copy is restricted, and marked public
/// only when its source has gone public already (a frozen copy of it exists): a new finding
/// or lesson becomes public only through `freeze`, at a publication.
pub async fn index(db: &impl ConnectionTrait, docs: Vec<Document>) -> CoreResult<()> {
    if docs.is_empty() {
        return Ok(());
    }
    // One query for which of them went public, however many there are.
    let published: Vec<Uuid> = Entity::find()
        .filter(Column::SourceId.is_in(docs.iter().map(|doc| doc.source_id).collect::<Vec<_>>()))
        .filter(Column::Frozen.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|doc| doc.source_id)
        .collect();
    for doc in docs {
        let public = published.contains(&doc.source_id);
        Entity::delete_many()
            .filter(Column::SourceId.eq(doc.source_id))
            .filter(Column::Frozen.eq(false))
            .exec(db)
            .await?;
        Entity::insert(to_active(Model {
            public,
            ..doc.row()
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// At a publication that passed the anonymisation check: the documents of what was published
/// (a review's findings and recommendations, or a learning item), as they are now, become its
/// public copies, replacing those of any earlier publication from the same source. Every copy
/// of each is public from then on. Returns how many went public.
pub async fn freeze(
    db: &impl ConnectionTrait,
    published_from: Uuid,
    docs: Vec<Document>,
) -> CoreResult<usize> {
    Entity::delete_many()
        .filter(Column::PublishedFrom.eq(published_from))
        .filter(Column::Frozen.eq(true))
        .exec(db)
        .await?;
    let count = docs.len();
    for doc in docs {
        let source_id = doc.source_id;
        Entity::insert(to_active(Model {
            public: true,
            frozen: true,
            published_from: Some(published_from),
            ..doc.row()
        }))
        .exec_without_returning(db)
        .await?;
        Entity::update_many()
            .col_expr(Column::Public, Expr::value(true))
            .filter(Column::SourceId.eq(source_id))
            .exec(db)
            .await?;
    }
    Ok(count)
}

/// How many frozen copies the last publication from this source left (to tell whether what
/// is live has changed since).
pub async fn frozen_count(db: &impl ConnectionTrait, published_from: Uuid) -> CoreResult<u64> {
    Ok(Entity::find()
        .filter(Column::PublishedFrom.eq(published_from))
        .filter(Column::Frozen.eq(true))
        .count(db)
        .await?)
}

pub use crate::access::Reader;

impl Reader {
    pub fn may_read(&self, doc: &Model) -> bool {
        match self {
            Reader::Everything => !doc.frozen,
            Reader::PublishedOnly => doc.frozen,
            Reader::Agencies(ids) => {
                let concerns = ids
                    .iter()
                    .any(|id| doc.agency_ids.contains(&format!(" {id} ")));
                concerns != doc.frozen
            }
        }
    }

    /// The same rule as `may_read`, as SQL over `library_docs d`.
    fn condition(&self, params: &mut Params) -> String {
        match self {
            Reader::Everything => "d.frozen = FALSE".to_string(),
            Reader::PublishedOnly => "d.frozen = TRUE".to_string(),
            Reader::Agencies(ids) if ids.is_empty() => "d.frozen = TRUE".to_string(),
            Reader::Agencies(ids) => {
                // Written twice with its own parameters each time: SQLite's `?` are positional.
                let mut concerns = || {
                    ids.iter()
                        .map(|id| {
                            let p = params.push(Value::from(format!("% {id} %")));
                            format!("d.agency_ids LIKE {p}")
                        })
                        .collect::<Vec<_>>()
                        .join(" OR ")
                };
                let live = concerns();
                let frozen = concerns();
                format!("((d.frozen = FALSE AND ({live})) OR (d.frozen = TRUE AND NOT ({frozen})))")
            }
        }
    }
}

/// Bound values of a raw statement, numbered for PostgreSQL.
struct Params {
    backend: DatabaseBackend,
    values: Vec<Value>,
}

impl Params {
    fn new(backend: DatabaseBackend) -> Params {
        Params {
            backend,
            values: Vec::new(),
        }
    }

    fn push(&mut self, value: Value) -> String {
        self.values.push(value);
        match self.backend {
            DatabaseBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_string(),
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

impl Filter {
    fn conditions(&self, params: &mut Params) -> String {
        let mut sql = String::new();
        if let Some(theme) = &self.theme {
            let p = params.push(Value::from(format!("% {theme} %")));
            sql.push_str(&format!(" AND d.themes LIKE {p}"));
        }
        if let Some(kind) = &self.review_type {
            let p = params.push(Value::from(kind.clone()));
            sql.push_str(&format!(" AND d.review_type = {p}"));
        }
        if let Some(agency) = self.agency {
            let p = params.push(Value::from(format!("% {agency} %")));
            sql.push_str(&format!(" AND d.agency_ids LIKE {p}"));
        }
        if let Some(from) = self.from {
            let p = params.push(Value::from(from));
            sql.push_str(&format!(" AND d.dated_on >= {p}"));
        }
        if let Some(to) = self.to {
            let p = params.push(Value::from(to));
            sql.push_str(&format!(" AND d.dated_on <= {p}"));
        }
        sql
    }
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

const COLUMNS: &str = "d.id, d.source_kind, d.source_id, d.title, d.body, d.themes, d.review_type, d.agency_ids, d.partnership_ids, d.dated_on, d.public, d.frozen, d.published_from";

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
    let mut params = Params::new(backend);
    let (mut sql, order) = match backend {
        DatabaseBackend::Postgres => {
            let p = params.push(Value::from(words.join(" ")));
            (
                format!(
                    "SELECT {COLUMNS} FROM library_docs d WHERE d.search @@ plainto_tsquery('english', {p})"
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
            let p = params.push(Value::from(quoted));
            (
                format!(
                    "SELECT {COLUMNS} FROM library_fts JOIN library_docs d ON d.rowid = library_fts.rowid WHERE library_fts MATCH {p}"
                ),
                " ORDER BY bm25(library_fts), d.dated_on DESC".to_string(),
            )
        }
    };
    sql.push_str(&filter.conditions(&mut params));
    let visible = reader.condition(&mut params);
    sql.push_str(&format!(" AND {visible}"));
    sql.push_str(&order);
    let p = params.push(Value::from(i64::try_from(limit).unwrap_or(50)));
    sql.push_str(&format!(" LIMIT {p}"));
    Ok(Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, params.values))
        .all(db)
        .await?)
}

/// One page of the library without words: the newest documents matching the filters that the
/// reader may see, and how many there are in all.
pub async fn browse(
    db: &impl ConnectionTrait,
    filter: &Filter,
    reader: &Reader,
    page: u64,
    per_page: u64,
) -> CoreResult<(Vec<Model>, u64)> {
    let backend = db.get_database_backend();
    let mut params = Params::new(backend);
    let mut conditions = filter.conditions(&mut params);
    conditions.push_str(&format!(" AND {}", reader.condition(&mut params)));
    let count_values = params.values.clone();
    let total = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT COUNT(*) AS n FROM library_docs d WHERE 1 = 1{conditions}"),
            count_values,
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    let limit = params.push(Value::from(i64::try_from(per_page).unwrap_or(50)));
    let offset = params.push(Value::from(
        i64::try_from(page.saturating_sub(1).saturating_mul(per_page)).unwrap_or(0),
    ));
    let sql = format!(
        "SELECT {COLUMNS} FROM library_docs d WHERE 1 = 1{conditions} ORDER BY d.dated_on DESC, d.id DESC LIMIT {limit} OFFSET {offset}"
    );
    let docs = Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, params.values))
        .all(db)
        .await?;
    Ok((docs, u64::try_from(total).unwrap_or(0)))
}

/// How often each theme came up, by year, over what the reader may see: theme code → year →
/// count. Counted in the database by theme set and year; only the sets are split here.
pub async fn themes_by_year(
    db: &impl ConnectionTrait,
    reader: &Reader,
) -> CoreResult<BTreeMap<String, BTreeMap<i32, usize>>> {
    let backend = db.get_database_backend();
    let mut params = Params::new(backend);
    let visible = reader.condition(&mut params);
    let year = match backend {
        DatabaseBackend::Postgres => "CAST(EXTRACT(YEAR FROM d.dated_on) AS INTEGER)",
        _ => "CAST(strftime('%Y', d.dated_on) AS INTEGER)",
    };
    let sql = format!(
        "SELECT d.themes AS themes, {year} AS year, COUNT(*) AS n FROM library_docs d \
         WHERE d.source_kind <> 'recommendation' AND d.themes <> '' AND {visible} \
         GROUP BY d.themes, {year}"
    );
    let mut counts: BTreeMap<String, BTreeMap<i32, usize>> = BTreeMap::new();
    for row in db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, params.values))
        .await?
    {
        let themes: String = row.try_get("", "themes")?;
        let year: i32 = row.try_get("", "year")?;
        let n: i64 = row.try_get("", "n")?;
        for code in themes.split_whitespace() {
            *counts
                .entry(code.to_string())
                .or_default()
                .entry(year)
                .or_default() += usize::try_from(n).unwrap_or(0);
        }
    }
    Ok(counts)
}
