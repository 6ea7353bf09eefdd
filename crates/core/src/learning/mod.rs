//! The learning loop (seed §2.2, §12, §13): a learning item is a lesson in plain words, linked
//! to where it came from, with themes, partnerships and the agencies it concerns. It moves
//! through identified → disseminated → embedded → evaluated, and each stage after the first is
//! reached only by recording its evidence: a dissemination, evidence that practice changed,
//! evidence of impact.

pub mod draft;
pub mod evidence;
pub mod measures;
pub mod publication;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};
use serde::Serialize;

use crate::error::{CoreError, CoreResult};
use crate::{FieldError, agencies, library, partnerships, themes, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "learning_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    /// The lesson in plain words.
    pub lesson: String,
    pub source_kind: String,
    /// The review finding it came from.
    pub source_entry_id: Option<Uuid>,
    pub review_id: Option<Uuid>,
    pub why_it_matters: String,
    pub do_differently: String,
    pub supervision_questions: String,
    pub more_info: String,
    /// Published learning is open to practitioners and the public page.
    pub published: bool,
    pub identified_on: NaiveDate,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

macro_rules! link_table {
    ($module:ident, $table:literal, $other:ident, $other_type:ty) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub item_id: Uuid,
                #[sea_orm(primary_key, auto_increment = false)]
                pub $other: $other_type,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

link_table!(item_themes, "learning_item_themes", theme_code, String);
link_table!(
    item_partnerships,
    "learning_item_partnerships",
    partnership_id,
    Uuid
);
link_table!(item_agencies, "learning_item_agencies", agency_id, Uuid);

/// Where learning comes from.
pub const SOURCES: [(&str, &str); 9] = [
    ("review_finding", "A review finding"),
    ("audit", "An audit"),
    ("complaint", "A complaint"),
    ("whistleblowing", "Whistleblowing"),
    ("professional_dispute", "A professional dispute"),
    ("practitioner_feedback", "Practitioner feedback"),
    ("family_feedback", "Family or service user feedback"),
    ("external", "A national review or other external lesson"),
    ("good_practice", "Good practice"),
];

pub fn source_label(key: &str) -> &'static str {
    SOURCES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .unwrap_or("Other")
}

/// The stages of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Identified,
    Disseminated,
    Embedded,
    Evaluated,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Identified,
        Stage::Disseminated,
        Stage::Embedded,
        Stage::Evaluated,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Stage::Identified => "Identified",
            Stage::Disseminated => "Disseminated",
            Stage::Embedded => "Embedded",
            Stage::Evaluated => "Evaluated",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Identified => "identified",
            Stage::Disseminated => "disseminated",
            Stage::Embedded => "embedded",
            Stage::Evaluated => "evaluated",
        }
    }
}

/// A learning item with its links and the dates it reached each stage.
#[derive(Debug, Clone)]
pub struct Item {
    pub item: Model,
    pub themes: Vec<String>,
    pub partnership_ids: Vec<Uuid>,
    pub agency_ids: Vec<Uuid>,
    pub disseminated_on: Option<NaiveDate>,
    pub embedded_on: Option<NaiveDate>,
    pub evaluated_on: Option<NaiveDate>,
}

impl Item {
    pub fn stage(&self) -> Stage {
        if self.evaluated_on.is_some() {
            Stage::Evaluated
        } else if self.embedded_on.is_some() {
            Stage::Embedded
        } else if self.disseminated_on.is_some() {
            Stage::Disseminated
        } else {
            Stage::Identified
        }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub title: String,
    pub lesson: String,
    /// review_finding, audit, complaint, whistleblowing, professional_dispute,
    /// practitioner_feedback, family_feedback, external or good_practice.
    pub source_kind: String,
    #[serde(default)]
    pub source_entry_id: Option<Uuid>,
    #[serde(default)]
    pub why_it_matters: String,
    #[serde(default)]
    pub do_differently: String,
    #[serde(default)]
    pub supervision_questions: String,
    #[serde(default)]
    pub more_info: String,
    #[serde(default)]
    pub themes: Vec<String>,
    #[serde(default)]
    pub partnership_ids: Vec<Uuid>,
    #[serde(default)]
    pub agency_ids: Vec<Uuid>,
    #[serde(default)]
    pub published: bool,
    /// YYYY-MM-DD; today when empty.
    #[serde(default)]
    pub identified_on: String,
}

/// Records a learning item; it starts at "identified".
pub async fn create(
    db: &impl ConnectionTrait,
    input: &NewItem,
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let mut errors: Vec<FieldError> = Vec::new();
    let title = validate::required_text("title", &input.title, 200, &mut errors);
    let lesson = validate::required_text("lesson", &input.lesson, 10_000, &mut errors);
    if !SOURCES.iter().any(|(k, _)| *k == input.source_kind) {
        errors.push(FieldError::new(
            "source_kind",
            "Choose where the learning comes from",
        ));
    }
    for (field, value) in [
        ("why_it_matters", &input.why_it_matters),
        ("do_differently", &input.do_differently),
        ("supervision_questions", &input.supervision_questions),
        ("more_info", &input.more_info),
    ] {
        if value.chars().count() > 10_000 {
            errors.push(FieldError::new(
                field,
                "This must be 10,000 characters or fewer",
            ));
        }
    }
    let known: Vec<String> = themes::list(db)
        .await?
        .into_iter()
        .map(|t| t.code)
        .collect();
    for code in &input.themes {
        if !known.contains(code) {
            errors.push(FieldError::new(
                "themes",
                format!("“{code}” is not a theme in the taxonomy"),
            ));
        }
    }
    let all_partnerships: Vec<Uuid> = partnerships::list(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    if input
        .partnership_ids
        .iter()
        .any(|p| !all_partnerships.contains(p))
    {
        errors.push(FieldError::new(
            "partnership_ids",
            "No partnership has this id",
        ));
    }
    for agency in &input.agency_ids {
        if agencies::entity::Entity::find_by_id(*agency)
            .one(db)
            .await?
            .is_none()
        {
            errors.push(FieldError::new("agency_ids", "No agency has this id"));
        }
    }
    let mut review_id = None;
    if let Some(entry) = input.source_entry_id {
        match crate::reviews::entries::Entity::find_by_id(entry)
            .one(db)
            .await?
        {
            Some(found) => review_id = Some(found.review_id),
            None => errors.push(FieldError::new("source_entry_id", "No finding has this id")),
        }
    }
    if input.published {
        // Going public is a publication, with its check, confirmation and second factor.
        errors.push(FieldError::new(
            "published",
            "Record the learning first, then publish it from its page: publication checks it for anything identifying",
        ));
    }
    let today = now.date_naive();
    let identified_on = if input.identified_on.trim().is_empty() {
        Some(today)
    } else {
        crate::cases::parse_date("identified_on", &input.identified_on, &mut errors)
    };
    if identified_on.is_some_and(|on| on > today) {
        errors.push(FieldError::new(
            "identified_on",
            "The date cannot be in the future",
        ));
    }
    let (Some(identified_on), true) = (identified_on, errors.is_empty()) else {
        return Err(CoreError::Invalid(errors));
    };
    let item = Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(title),
        lesson: Set(lesson),
        source_kind: Set(input.source_kind.clone()),
        source_entry_id: Set(input.source_entry_id),
        review_id: Set(review_id),
        why_it_matters: Set(input.why_it_matters.trim().to_string()),
        do_differently: Set(input.do_differently.trim().to_string()),
        supervision_questions: Set(input.supervision_questions.trim().to_string()),
        more_info: Set(input.more_info.trim().to_string()),
        published: Set(false),
        identified_on: Set(identified_on),
        created_by: Set(by),
        created_at: Set(now),
        version: Set(1),
    })
    .exec_with_returning(db)
    .await?;
    let mut codes = input.themes.clone();
    codes.sort();
    codes.dedup();
    for code in codes {
        item_themes::Entity::insert(item_themes::ActiveModel {
            item_id: Set(item.id),
            theme_code: Set(code),
        })
        .exec_without_returning(db)
        .await?;
    }
    let mut ids = input.partnership_ids.clone();
    ids.sort();
    ids.dedup();
    for id in ids {
        item_partnerships::Entity::insert(item_partnerships::ActiveModel {
            item_id: Set(item.id),
            partnership_id: Set(id),
        })
        .exec_without_returning(db)
        .await?;
    }
    let mut ids = input.agency_ids.clone();
    ids.sort();
    ids.dedup();
    for id in ids {
        item_agencies::Entity::insert(item_agencies::ActiveModel {
            item_id: Set(item.id),
            agency_id: Set(id),
        })
        .exec_without_returning(db)
        .await?;
    }
    let document = library_document(db, item.id).await?;
    library::index(db, vec![document]).await?;
    library::similar::remember(
        db,
        item.id,
        &format!("{} {}", item.title, item.lesson),
        &input.themes,
    )
    .await?;
    Ok(item)
}

/// Items with their links and stage dates; `ids` none means every item.
pub async fn load(db: &impl ConnectionTrait, ids: Option<Vec<Uuid>>) -> CoreResult<Vec<Item>> {
    let mut query = Entity::find()
        .order_by_desc(Column::IdentifiedOn)
        .order_by_desc(Column::Id);
    if let Some(ids) = &ids {
        query = query.filter(Column::Id.is_in(ids.clone()));
    }
    let items = query.all(db).await?;
    // With ids, only their links are read; without, every row once (never a query per item).
    let only = ids
        .as_ref()
        .map(|_| items.iter().map(|i| i.id).collect::<Vec<_>>());
    let mut themes: HashMap<Uuid, Vec<String>> = HashMap::new();
    let mut query = item_themes::Entity::find();
    if let Some(ids) = &only {
        query = query.filter(item_themes::Column::ItemId.is_in(ids.clone()));
    }
    for row in query.all(db).await? {
        themes.entry(row.item_id).or_default().push(row.theme_code);
    }
    let mut partnerships: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut query = item_partnerships::Entity::find();
    if let Some(ids) = &only {
        query = query.filter(item_partnerships::Column::ItemId.is_in(ids.clone()));
    }
    for row in query.all(db).await? {
        partnerships
            .entry(row.item_id)
            .or_default()
            .push(row.partnership_id);
    }
    let mut agencies: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut query = item_agencies::Entity::find();
    if let Some(ids) = &only {
        query = query.filter(item_agencies::Column::ItemId.is_in(ids.clone()));
    }
    for row in query.all(db).await? {
        agencies.entry(row.item_id).or_default().push(row.agency_id);
    }
    let mut disseminated: HashMap<Uuid, NaiveDate> = HashMap::new();
    let mut query = evidence::disseminations::Entity::find();
    if let Some(ids) = &only {
        query = query.filter(evidence::disseminations::Column::ItemId.is_in(ids.clone()));
    }
    for row in query.all(db).await? {
        let entry = disseminated.entry(row.item_id).or_insert(row.held_on);
        *entry = (*entry).min(row.held_on);
    }
    let mut embedded: HashMap<Uuid, NaiveDate> = HashMap::new();
    let mut evaluated: HashMap<Uuid, NaiveDate> = HashMap::new();
    let mut query = evidence::Entity::find();
    if let Some(ids) = &only {
        query = query.filter(evidence::Column::ItemId.is_in(ids.clone()));
    }
    for row in query.all(db).await? {
        let map = if row.stage == "evaluated" {
            &mut evaluated
        } else {
            &mut embedded
        };
        let entry = map.entry(row.item_id).or_insert(row.evidenced_on);
        *entry = (*entry).min(row.evidenced_on);
    }
    Ok(items
        .into_iter()
        .map(|item| Item {
            themes: themes.remove(&item.id).unwrap_or_default(),
            partnership_ids: partnerships.remove(&item.id).unwrap_or_default(),
            agency_ids: agencies.remove(&item.id).unwrap_or_default(),
            disseminated_on: disseminated.get(&item.id).copied(),
            embedded_on: embedded.get(&item.id).copied(),
            evaluated_on: evaluated.get(&item.id).copied(),
            item,
        })
        .collect())
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<Item> {
    load(db, Some(vec![id]))
        .await?
        .into_iter()
        .next()
        .ok_or(CoreError::NotFound)
}

/// The item as the library indexes it: its lesson, links, and the type of the review it came
/// from ("" if none).
pub async fn library_document(
    db: &impl ConnectionTrait,
    item_id: Uuid,
) -> CoreResult<library::Document> {
    let item = get(db, item_id).await?;
    let review_type = match item.item.review_id {
        // A review that cannot be read leaves the type empty, as for learning not from one.
        Some(review) => crate::reviews::get(db, review)
            .await
            .map(|r| r.review_type_code)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(library::Document {
        source_kind: "learning_item".to_string(),
        source_id: item.item.id,
        title: item.item.title,
        body: item.item.lesson,
        themes: item.themes,
        review_type,
        agency_ids: item.agency_ids,
        partnership_ids: item.partnership_ids,
        dated_on: item.item.identified_on,
    })
}

// ----- Opening a learning item for a viewer -----

/// Whether `actor` may read the item: the item, or not found.
pub async fn decide(
    db: &impl ConnectionTrait,
    actor: &crate::access::Actor,
    id: Uuid,
) -> CoreResult<crate::viewer::Decision<Item>> {
    let item = get(db, id).await?;
    let allowed = may_read(actor, &item);
    Ok(crate::viewer::Decision::hidden_unless(allowed, item))
}

/// Whether `actor` may read the item (published, or theirs to see).
pub fn may_read(actor: &crate::access::Actor, item: &Item) -> bool {
    use crate::access::{Action, Record, can};
    can(
        actor,
        Action::ViewLearning,
        Record::LearningItem {
            published: item.item.published,
            agency_ids: &item.agency_ids,
        },
    )
}

/// Opens a learning item for a viewer under `action` (the page, its briefing, the briefing's
/// document): the decision is durable in the audit trail before the item is returned.
pub async fn open(
    db: &impl ConnectionTrait,
    recording: crate::viewer::Recording<'_>,
    viewer: &crate::viewer::Viewer<'_>,
    action: &str,
    id: Uuid,
) -> CoreResult<Item> {
    let decision = decide(db, viewer.actor, id).await?;
    // Every refusal is recorded as a refused view of the item, whichever part was asked for.
    let action = match decision {
        crate::viewer::Decision::Allowed(_) => action,
        crate::viewer::Decision::Denied(_) => "learning_item.view",
    };
    let subject = crate::viewer::Subject::new(action, "learning_item", id);
    viewer.settle(db, recording, subject, Ok(decision)).await
}
