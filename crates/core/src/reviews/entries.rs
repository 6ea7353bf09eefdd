//! The content of a review, as entries in order: lines of enquiry, key practice episodes,
//! findings, recommendations (each addressed to at least one agency) and good practice.
//! Findings and recommendations carry themes from the shared taxonomy.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, Set};

use crate::error::{CoreError, CoreResult};
use crate::{FieldError, agencies, library, themes, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub review_id: Uuid,
    pub kind: String,
    pub position: i32,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod addressees {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "review_entry_agencies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub entry_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tags {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "review_entry_themes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub entry_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub theme_code: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The kinds of entry: (key, label, plural heading, carries themes).
pub const KINDS: [(&str, &str, &str, bool); 5] = [
    (
        "line_of_enquiry",
        "Key line of enquiry",
        "Key lines of enquiry",
        false,
    ),
    (
        "key_practice_episode",
        "Key practice episode",
        "Key practice episodes",
        false,
    ),
    ("finding", "Finding", "Findings", true),
    ("recommendation", "Recommendation", "Recommendations", true),
    ("good_practice", "Good practice", "Good practice", true),
];

pub const RECOMMENDATION: &str = "recommendation";
/// Lines of enquiry, episodes, findings, recommendations and good practice together.
pub const MAX_ENTRIES_PER_REVIEW: u64 = 300;
pub const FINDING: &str = "finding";

pub fn kind_label(key: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(kind, ..)| *kind == key)
        .map(|(_, label, ..)| *label)
        .unwrap_or("Entry")
}

/// An entry with its addressees and themes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub entry: Model,
    pub agency_ids: Vec<Uuid>,
    pub theme_codes: Vec<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// The agencies a recommendation is addressed to (at least one for a recommendation).
    #[serde(default)]
    pub agency_ids: Vec<Uuid>,
    /// Theme codes from the taxonomy.
    #[serde(default)]
    pub themes: Vec<String>,
}

/// Adds an entry at the end of its kind. A recommendation with no addressee is refused.
pub async fn add(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    input: &EntryInput,
    now: DateTime<Utc>,
) -> CoreResult<Entry> {
    super::get(db, review_id).await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let kind = KINDS.iter().find(|(key, ..)| *key == input.kind.trim());
    if kind.is_none() {
        errors.push(FieldError::new("kind", "Choose what kind of entry this is"));
    }
    let title = validate::required_text("title", &input.title, 200, &mut errors);
    let body = input.body.trim().to_string();
    if body.chars().count() > 20_000 {
        errors.push(FieldError::new(
            "body",
            "The text must be 20,000 characters or fewer",
        ));
    }
    let mut agency_ids = input.agency_ids.clone();
    agency_ids.sort();
    agency_ids.dedup();
    for agency_id in &agency_ids {
        if agencies::entity::Entity::find_by_id(*agency_id)
            .one(db)
            .await?
            .is_none()
        {
            errors.push(FieldError::new("agency_ids", "No agency has this id"));
        }
    }
    if input.kind.trim() == RECOMMENDATION && agency_ids.is_empty() {
        errors.push(FieldError::new(
            "agency_ids",
            "Choose at least one agency this recommendation is addressed to",
        ));
    }
    let mut theme_codes = input.themes.clone();
    theme_codes.sort();
    theme_codes.dedup();
    if !theme_codes.is_empty() {
        let known: Vec<String> = themes::list(db)
            .await?
            .into_iter()
            .filter(|theme| theme.active)
            .map(|theme| theme.code)
            .collect();
        for code in &theme_codes {
            if !known.contains(code) {
                errors.push(FieldError::new(
                    "themes",
                    format!("“{code}” is not a theme in the taxonomy"),
                ));
            }
        }
        if kind.is_some_and(|(_, _, _, themed)| !themed) {
            errors.push(FieldError::new(
                "themes",
                "Themes are for findings, recommendations and good practice",
            ));
        }
    }
    // A cap keeps every page and check over a review's entries bounded.
    let held = Entity::find()
        .filter(Column::ReviewId.eq(review_id))
        .count(db)
        .await?;
    if held >= MAX_ENTRIES_PER_REVIEW {
        errors.push(FieldError::new(
            "title",
            format!("A review holds at most {MAX_ENTRIES_PER_REVIEW} entries"),
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    let last = Entity::find()
        .filter(Column::ReviewId.eq(review_id))
        .filter(Column::Kind.eq(input.kind.trim()))
        .select_only()
        .column_as(Column::Position.max(), "last")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0);
    let entry = Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        review_id: Set(review_id),
        kind: Set(input.kind.trim().to_string()),
        position: Set(last + 1),
        title: Set(title),
        body: Set(body),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await?;
    for agency_id in &agency_ids {
        addressees::Entity::insert(addressees::ActiveModel {
            entry_id: Set(entry.id),
            agency_id: Set(*agency_id),
        })
        .exec_without_returning(db)
        .await?;
    }
    for code in &theme_codes {
        tags::Entity::insert(tags::ActiveModel {
            entry_id: Set(entry.id),
            theme_code: Set(code.clone()),
        })
        .exec_without_returning(db)
        .await?;
    }
    let added = Entry {
        entry,
        agency_ids,
        theme_codes,
    };
    // Indexed as the library would read it back (themes in code order), restricted.
    let documents: Vec<library::Document> = library_documents(db, review_id)
        .await?
        .into_iter()
        .filter(|doc| doc.source_id == added.entry.id)
        .collect();
    library::index(db, documents).await?;
    if added.entry.kind == FINDING {
        library::similar::remember(
            db,
            added.entry.id,
            &format!("{} {}", added.entry.title, added.entry.body),
            &added.theme_codes,
        )
        .await?;
    }
    Ok(added)
}

/// Every entry of the review, by kind then position, with addressees and themes (three
/// queries whatever the number of entries).
pub async fn of_review(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<Vec<Entry>> {
    let entries = Entity::find()
        .filter(Column::ReviewId.eq(review_id))
        .order_by_asc(Column::Kind)
        .order_by_asc(Column::Position)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = entries.iter().map(|entry| entry.id).collect();
    let mut agencies_by_entry: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut themes_by_entry: HashMap<Uuid, Vec<String>> = HashMap::new();
    if !ids.is_empty() {
        for row in addressees::Entity::find()
            .filter(addressees::Column::EntryId.is_in(ids.clone()))
            .all(db)
            .await?
        {
            agencies_by_entry
                .entry(row.entry_id)
                .or_default()
                .push(row.agency_id);
        }
        for row in tags::Entity::find()
            .filter(tags::Column::EntryId.is_in(ids))
            .order_by_asc(tags::Column::ThemeCode)
            .all(db)
            .await?
        {
            themes_by_entry
                .entry(row.entry_id)
                .or_default()
                .push(row.theme_code);
        }
    }
    let mut result: Vec<Entry> = entries
        .into_iter()
        .map(|entry| Entry {
            agency_ids: agencies_by_entry.remove(&entry.id).unwrap_or_default(),
            theme_codes: themes_by_entry.remove(&entry.id).unwrap_or_default(),
            entry,
        })
        .collect();
    let order = |kind: &str| KINDS.iter().position(|(key, ..)| *key == kind);
    result.sort_by_key(|item| (order(&item.entry.kind), item.entry.position));
    Ok(result)
}

// ----- In the library -----

/// The review's findings and recommendations as the library indexes them: with the review's
/// type and partnership, and the case's agencies for an entry addressed to none.
pub async fn library_documents(
    db: &impl ConnectionTrait,
    review_id: Uuid,
) -> CoreResult<Vec<library::Document>> {
    let review = super::get(db, review_id).await?;
    let case = crate::cases::get(db, review.case_id).await?;
    Ok(of_review(db, review_id)
        .await?
        .into_iter()
        .filter(|entry| entry.entry.kind == FINDING || entry.entry.kind == RECOMMENDATION)
        .map(|entry| library::Document {
            agency_ids: if entry.agency_ids.is_empty() {
                case.agency_ids.clone()
            } else {
                entry.agency_ids
            },
            source_kind: entry.entry.kind,
            source_id: entry.entry.id,
            title: entry.entry.title,
            body: entry.entry.body,
            themes: entry.theme_codes,
            review_type: review.review_type_code.clone(),
            partnership_ids: review.partnership_id.into_iter().collect(),
            dated_on: entry.entry.created_at.date_naive(),
        })
        .collect())
}

/// Indexes the review's findings and recommendations (again), restricted: they become public
/// only when a publication freezes them (`publication::publish`).
pub async fn index_in_library(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<()> {
    let documents = library_documents(db, review_id).await?;
    library::index(db, documents).await
}

/// The review's leading themes for the national tracker: up to three, the types of abuse
/// first, then the most used.
pub fn leading_themes(entries: &[Entry], taxonomy: &[themes::Model]) -> Vec<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for entry in entries {
        for code in &entry.theme_codes {
            *counts.entry(code.as_str()).or_default() += 1;
        }
    }
    let mut ranked: Vec<(&themes::Model, usize)> = taxonomy
        .iter()
        .filter_map(|theme| counts.get(theme.code.as_str()).map(|count| (theme, *count)))
        .collect();
    ranked.sort_by_key(|(theme, count)| {
        (
            theme.family != "abuse",
            std::cmp::Reverse(*count),
            theme.position,
        )
    });
    ranked
        .into_iter()
        .take(3)
        .map(|(theme, _)| theme.label.clone())
        .collect()
}
