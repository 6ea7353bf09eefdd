//! The clocks' read model: loading what the deadlines of one case, or of every open case in a
//! scope, depend on, and working them out. Pages, the API, the calendar feed and the
//! dashboard's figures all read deadlines through here, so they agree.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{CaseClocks, Deadline, for_case};
use crate::access::{Action, Actor, Record, can, case_scope};
use crate::calendar::Calendar;
use crate::cases::{self, CaseRecord};
use crate::error::CoreResult;
use crate::{decisions, rapid_reviews, review_types, reviews};

/// Cases per query when loading many (well under every database's parameter limit).
const CHUNK: usize = 500;

/// Everything the clocks of a case need, loaded.
#[derive(Debug, Default)]
pub struct Loaded {
    pub decisions: Vec<decisions::Model>,
    pub rapid_reviews: Vec<rapid_reviews::Full>,
    pub reviews: Vec<reviews::Model>,
    pub reasons: Vec<cases::entity::reasons::Model>,
}

/// What the clocks of one case need.
pub async fn load_related(db: &impl ConnectionTrait, case_id: Uuid) -> CoreResult<Loaded> {
    Ok(Loaded {
        decisions: decisions::of_case(db, case_id).await?,
        rapid_reviews: rapid_reviews::of_case(db, case_id).await?,
        reviews: reviews::of_case(db, case_id).await?,
        reasons: cases::reasons(db, case_id).await?,
    })
}

/// What the clocks need for many cases at once: a few queries per 500 cases, not per case.
pub async fn load_related_many(
    db: &impl ConnectionTrait,
    case_ids: &[Uuid],
) -> CoreResult<HashMap<Uuid, Loaded>> {
    let mut loaded: HashMap<Uuid, Loaded> =
        case_ids.iter().map(|id| (*id, Loaded::default())).collect();
    for chunk in case_ids.chunks(CHUNK) {
        let ids = chunk.to_vec();
        for decision in decisions::of_cases(db, &ids).await? {
            if let Some(entry) = loaded.get_mut(&decision.case_id) {
                entry.decisions.push(decision);
            }
        }
        for rapid in rapid_reviews::entity::Entity::find()
            .filter(rapid_reviews::entity::Column::CaseId.is_in(ids.clone()))
            .order_by_asc(rapid_reviews::entity::Column::CreatedAt)
            .all(db)
            .await?
        {
            let full = rapid_reviews::get(db, rapid.id).await?;
            if let Some(entry) = loaded.get_mut(&rapid.case_id) {
                entry.rapid_reviews.push(full);
            }
        }
        for review in reviews::Entity::find()
            .filter(reviews::Column::CaseId.is_in(ids.clone()))
            .order_by_asc(reviews::Column::CreatedAt)
            .all(db)
            .await?
        {
            if let Some(entry) = loaded.get_mut(&review.case_id) {
                entry.reviews.push(review);
            }
        }
        for reason in cases::reasons_of_cases(db, &ids).await? {
            if let Some(entry) = loaded.get_mut(&reason.case_id) {
                entry.reasons.push(reason);
            }
        }
    }
    Ok(loaded)
}

/// What the clocks need from the review types' configuration, read once per request.
pub struct TypeClocks {
    serious_child_case: review_types::Config,
    report_months: HashMap<String, Option<u32>>,
}

impl TypeClocks {
    pub async fn load(db: &impl ConnectionTrait) -> CoreResult<Self> {
        let types = review_types::store::list(db).await?;
        Ok(TypeClocks {
            serious_child_case: types
                .iter()
                .find(|t| t.code == review_types::SERIOUS_CHILD_CASE)
                .map(|t| t.config())
                .unwrap_or_default(),
            report_months: types
                .iter()
                .map(|t| (t.code.clone(), t.config().clocks.report_months))
                .collect(),
        })
    }
}

/// The deadlines of a case, from what was loaded for it.
pub fn deadlines_of(
    record: &CaseRecord,
    loaded: &Loaded,
    types: &TypeClocks,
    calendar: &Calendar,
    today: NaiveDate,
) -> Vec<Deadline> {
    let report_months = |code: &str| types.report_months.get(code).copied().flatten();
    let clocks = CaseClocks {
        record,
        decisions: &loaded.decisions,
        rapid_reviews: &loaded.rapid_reviews,
        reviews: &loaded.reviews,
        reasons: &loaded.reasons,
        serious_child_case: &types.serious_child_case,
        report_months: &report_months,
    };
    for_case(&clocks, calendar, today)
}

/// The deadlines of one case, everything they depend on read here.
pub async fn of_case(
    db: &impl ConnectionTrait,
    record: &CaseRecord,
    calendar: &Calendar,
    today: NaiveDate,
) -> CoreResult<(Loaded, Vec<Deadline>)> {
    let loaded = load_related(db, record.case.id).await?;
    let types = TypeClocks::load(db).await?;
    let deadlines = deadlines_of(record, &loaded, &types, calendar, today);
    Ok((loaded, deadlines))
}

/// Each of `records` with its deadlines, in the same order.
async fn with_deadlines(
    db: &impl ConnectionTrait,
    records: Vec<CaseRecord>,
    calendar: &Calendar,
    today: NaiveDate,
) -> CoreResult<Vec<(CaseRecord, Vec<Deadline>)>> {
    let types = TypeClocks::load(db).await?;
    let ids: Vec<Uuid> = records.iter().map(|record| record.case.id).collect();
    let mut loaded = load_related_many(db, &ids).await?;
    Ok(records
        .into_iter()
        .filter_map(|record| {
            let related = loaded.remove(&record.case.id)?;
            let deadlines = deadlines_of(&record, &related, &types, calendar, today);
            Some((record, deadlines))
        })
        .collect())
}

fn involves(record: &CaseRecord, agencies: Option<&[Uuid]>) -> bool {
    agencies.is_none_or(|agencies| record.agency_ids.iter().any(|id| agencies.contains(id)))
}

/// The open cases involving any of `agencies` (`None`: every open case), each with its
/// deadlines: for figures kept per scope.
pub async fn open_case_deadlines(
    db: &impl ConnectionTrait,
    agencies: Option<&[Uuid]>,
    calendar: &Calendar,
    today: NaiveDate,
) -> CoreResult<Vec<(CaseRecord, Vec<Deadline>)>> {
    let open: Vec<CaseRecord> = cases::open_cases(db)
        .await?
        .into_iter()
        .filter(|record| involves(record, agencies))
        .collect();
    with_deadlines(db, open, calendar, today).await
}

/// The open cases `actor` may see, each with its deadlines: for the deadlines page, the
/// dashboard and the calendar feed.
pub async fn open_deadlines(
    db: &impl ConnectionTrait,
    actor: &Actor,
    calendar: &Calendar,
    today: NaiveDate,
) -> CoreResult<Vec<(CaseRecord, Vec<Deadline>)>> {
    let scope = case_scope(actor);
    let visible: Vec<CaseRecord> = cases::open_cases(db)
        .await?
        .into_iter()
        .filter(|record| {
            can(
                actor,
                Action::ViewCase,
                Record::Case {
                    agency_ids: &record.agency_ids,
                },
            ) && involves(record, scope.as_deref())
        })
        .collect();
    with_deadlines(db, visible, calendar, today).await
}
