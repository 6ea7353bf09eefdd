//! The library: every finding, recommendation and learning item, of every review type and
//! partnership, in one search index (SQLite FTS5 or PostgreSQL full text, behind `search`),
//! filtered by theme, type, agency and date, and by what the reader is entitled to: published
//! items for everyone, restricted ones only for those who may see them. `similar` finds the
//! earlier learning most like a new finding (repeated learning).

pub mod similar;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
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

/// Replaces the live copy of a source; its frozen copy, if any, is never touched here.
async fn upsert_live(db: &impl ConnectionTrait, doc: Model) -> CoreResult<()> {
    Entity::delete_many()
        .filter(Column::SourceId.eq(doc.source_id))
        .filter(Column::Frozen.eq(false))
        .exec(db)
        .await?;
    Entity::insert(to_active(doc))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The live copies of a review's findings and recommendations, as they are now.
async fn review_docs(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<Vec<Model>> {
    let review = reviews::get(db, review_id).await?;
    let case = crate::cases::get(db, review.case_id).await?;
    let frozen: Vec<Uuid> = Entity::find()
        .filter(Column::PublishedFrom.eq(review_id))
        .filter(Column::Frozen.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|doc| doc.source_id)
        .collect();
    let mut docs = Vec::new();
    for entry in entries::of_review(db, review_id).await? {
        if entry.entry.kind != entries::FINDING && entry.entry.kind != entries::RECOMMENDATION {
            continue;
        }
        let mut agency_ids = entry.agency_ids.clone();
        if agency_ids.is_empty() {
            agency_ids = case.agency_ids.clone();
        }
        docs.push(Model {
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
            public: frozen.contains(&entry.entry.id),
            frozen: false,
            published_from: None,
        });
    }
    Ok(docs)
}

/// Indexes a review's findings and recommendations (again), restricted: they become public
/// only through `freeze_review`, at a publication.
pub async fn index_review(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<()> {
    for doc in review_docs(db, review_id).await? {
        upsert_live(db, doc).await?;
    }
    Ok(())
}

/// Indexes one new entry of a review, restricted.
pub async fn index_entry(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    entry_id: Uuid,
) -> CoreResult<()> {
    for doc in review_docs(db, review_id).await? {
        if doc.source_id == entry_id {
            upsert_live(db, doc).await?;
        }
    }
    Ok(())
}

/// At a publication that passed the anonymisation check: the review's findings and
/// recommendations as they are now become its public copies, replacing those of any earlier
/// publication. Returns how many went public.
pub async fn freeze_review(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<usize> {
    let docs = review_docs(db, review_id).await?;
    Entity::delete_many()
        .filter(Column::PublishedFrom.eq(review_id))
        .filter(Column::Frozen.eq(true))
        .exec(db)
        .await?;
    let count = docs.len();
    for doc in docs {
        let source_id = doc.source_id;
        Entity::insert(to_active(Model {
            id: Uuid::now_v7(),
            public: true,
            frozen: true,
            published_from: Some(review_id),
            ..doc
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

async fn item_doc(db: &impl ConnectionTrait, item_id: Uuid) -> CoreResult<Model> {
    let item = crate::learning::get(db, item_id).await?;
    let review_type = match item.item.review_id {
        Some(review) => reviews::get(db, review)
            .await
            .map(|r| r.review_type_code)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(Model {
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
        frozen: false,
        published_from: None,
    })
}

/// Indexes a learning item (again), restricted.
pub async fn index_item(db: &impl ConnectionTrait, item_id: Uuid) -> CoreResult<()> {
    let doc = item_doc(db, item_id).await?;
    upsert_live(db, doc).await
}

/// At the publication of a learning item that passed the check: its public copy.
pub async fn freeze_item(db: &impl ConnectionTrait, item_id: Uuid) -> CoreResult<()> {
    let doc = item_doc(db, item_id).await?;
    Entity::delete_many()
        .filter(Column::PublishedFrom.eq(item_id))
        .filter(Column::Frozen.eq(true))
        .exec(db)
        .await?;
    Entity::insert(to_active(Model {
        id: Uuid::now_v7(),
        public: true,
        frozen: true,
        published_from: Some(item_id),
        ..doc
    }))
    .exec_without_returning(db)
    .await?;
    Entity::update_many()
        .col_expr(Column::Public, Expr::value(true))
        .filter(Column::SourceId.eq(item_id))
        .exec(db)
        .await?;
    Ok(())
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
