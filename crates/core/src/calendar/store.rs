//! The calendar as stored: imported bank holidays (replacing the built-in ones year by year)
//! and local closure days.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use super::Calendar;
use crate::error::{CoreError, CoreResult};
use crate::validate;

pub const BANK_HOLIDAY: &str = "bank_holiday";
pub const LOCAL_CLOSURE: &str = "local_closure";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: NaiveDate,
    /// "bank_holiday" or "local_closure".
    pub kind: String,
    pub title: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The effective calendar: built in, with imported years replacing built-in ones, and local
/// closures.
pub async fn load(db: &impl ConnectionTrait) -> CoreResult<Calendar> {
    let rows = Entity::find().order_by_asc(Column::Day).all(db).await?;
    let mut calendar = Calendar::built_in();
    let imported: Vec<(NaiveDate, String)> = rows
        .iter()
        .filter(|row| row.kind == BANK_HOLIDAY)
        .map(|row| (row.day, row.title.clone()))
        .collect();
    calendar.replace_years(&imported);
    for row in rows.iter().filter(|row| row.kind == LOCAL_CLOSURE) {
        calendar.add_closure(row.day, &row.title);
    }
    Ok(calendar)
}

/// What an import changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub events: usize,
    pub first_year: i32,
    pub last_year: i32,
}

/// Imports a GOV.UK file: every year it holds replaces that year's bank holidays. Call inside
/// a write transaction; a file with any error changes nothing.
pub async fn import_govuk(
    db: &impl ConnectionTrait,
    text: &str,
    now: DateTime<Utc>,
) -> CoreResult<ImportSummary> {
    let events = super::govuk::parse(text).map_err(CoreError::Invalid)?;
    let years: std::collections::BTreeSet<i32> =
        events.iter().map(|(date, _)| date.year()).collect();
    for year in &years {
        let start = NaiveDate::from_ymd_opt(*year, 1, 1).unwrap_or_default();
        let end = NaiveDate::from_ymd_opt(*year, 12, 31).unwrap_or_default();
        Entity::delete_many()
            .filter(Column::Kind.eq(BANK_HOLIDAY))
            .filter(Column::Day.between(start, end))
            .exec(db)
            .await?;
    }
    for (day, title) in &events {
        if let Some(existing) = Entity::find_by_id(*day).one(db).await? {
            // A local closure on a bank holiday becomes the bank holiday.
            Entity::delete_by_id(existing.day).exec(db).await?;
        }
        Entity::insert(ActiveModel {
            day: Set(*day),
            kind: Set(BANK_HOLIDAY.to_string()),
            title: Set(title.clone()),
            created_at: Set(now),
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(ImportSummary {
        events: events.len(),
        first_year: years.iter().next().copied().unwrap_or_default(),
        last_year: years.iter().next_back().copied().unwrap_or_default(),
    })
}

/// Adds a local closure day (for example the office's Christmas closure).
pub async fn add_closure(
    db: &impl ConnectionTrait,
    day: NaiveDate,
    title: &str,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    let mut errors = Vec::new();
    let title = validate::required_text("title", title, 200, &mut errors);
    if Entity::find_by_id(day).one(db).await?.is_some() {
        errors.push(crate::FieldError::new(
            "day",
            "This day is already in the calendar",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    Entity::insert(ActiveModel {
        day: Set(day),
        kind: Set(LOCAL_CLOSURE.to_string()),
        title: Set(title),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn remove_closure(db: &impl ConnectionTrait, day: NaiveDate) -> CoreResult<()> {
    Entity::delete_many()
        .filter(Column::Day.eq(day))
        .filter(Column::Kind.eq(LOCAL_CLOSURE))
        .exec(db)
        .await?;
    Ok(())
}
