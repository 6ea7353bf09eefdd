//! The dashboard's figures, kept rather than recomputed on every view.
//!
//! Every change to a table the figures count bumps the data version in the change's own
//! transaction (a trigger, see migration m0012, whoever makes the change). A viewer's figures are kept per scope (what they may see) with the
//! version they were computed from and the day they are for, so date-driven figures (overdue,
//! due soon) are never served from yesterday. A view reads the version and the kept row in its
//! read transaction: when both match it shows them with the time they were computed; otherwise
//! it computes them there and then, and hands them to be kept (`keep`, after the answer, only
//! if no change came in meanwhile). The background worker refreshes every kept scope whose
//! version or day has passed (`refresh`), and any older than `REFRESH_AFTER`, which also covers
//! changes made outside the web (the CLI).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set, sea_query::OnConflict};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Actor, Reader, Record, action_scope, can, case_scope};
use crate::error::{CoreError, CoreResult};

/// Working days ahead that count as "due soon".
pub const DUE_SOON_DAYS: i64 = 5;
/// Kept figures older than this are recomputed by the worker even if nothing changed through
/// the web.
pub const REFRESH_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// What a viewer's figures cover: the cases, actions and learning they may see. Its JSON is
/// the key of the kept row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Whether the viewer sees case clocks, and for which agencies (`None`: every case).
    pub clocks: Option<Option<Vec<Uuid>>>,
    /// Whether the viewer sees action counts, and for which agencies (`None`: every action).
    pub actions: Option<Option<Vec<Uuid>>>,
    /// Whether the viewer sees the loop's measures, and as which reader.
    pub measures: Option<ReaderScope>,
}

/// `access::Reader` as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReaderScope {
    PublishedOnly,
    Agencies(Vec<Uuid>),
    Everything,
}

impl ReaderScope {
    fn reader(&self) -> Reader {
        match self {
            ReaderScope::PublishedOnly => Reader::PublishedOnly,
            ReaderScope::Agencies(ids) => Reader::Agencies(ids.clone()),
            ReaderScope::Everything => Reader::Everything,
        }
    }
}

fn sorted(ids: Option<Vec<Uuid>>) -> Option<Vec<Uuid>> {
    ids.map(|mut ids| {
        ids.sort();
        ids.dedup();
        ids
    })
}

impl Scope {
    /// What `actor` may see on the dashboard.
    pub fn of(actor: &Actor) -> Scope {
        let clocks = can(actor, Action::ViewCase, Record::None).then(|| sorted(case_scope(actor)));
        let actions =
            can(actor, Action::ViewActions, Record::None).then(|| sorted(action_scope(actor)));
        let measures = (can(actor, Action::ManageLearning, Record::None) || actor.sees_all_cases())
            .then(|| match Reader::of(actor) {
                Reader::Everything => ReaderScope::Everything,
                Reader::Agencies(ids) => {
                    ReaderScope::Agencies(sorted(Some(ids)).unwrap_or_default())
                }
                Reader::PublishedOnly => ReaderScope::PublishedOnly,
            });
        Scope {
            clocks,
            actions,
            measures,
        }
    }

    pub fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The clocks across the cases in scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clocks {
    pub open_cases: usize,
    pub overdue: usize,
    pub due_soon: usize,
}

/// The loop's measures, as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopMeasures {
    /// (stage, items at it), the stage by its `as_str` name.
    pub at_stage: Vec<(String, usize)>,
    pub median_days_to_disseminated: Option<i64>,
    pub median_days_to_embedded: Option<i64>,
    pub median_days_to_evaluated: Option<i64>,
    pub never_evaluated_percent: Option<u32>,
    pub agencies_not_reached: Vec<Uuid>,
}

impl LoopMeasures {
    /// The measures in the learning domain's own terms.
    pub fn measures(&self) -> crate::learning::measures::Measures {
        use crate::learning::Stage;
        crate::learning::measures::Measures {
            at_stage: self
                .at_stage
                .iter()
                .filter_map(|(name, n)| {
                    Stage::ALL
                        .into_iter()
                        .find(|stage| stage.as_str() == name)
                        .map(|stage| (stage, *n))
                })
                .collect(),
            median_days_to_disseminated: self.median_days_to_disseminated,
            median_days_to_embedded: self.median_days_to_embedded,
            median_days_to_evaluated: self.median_days_to_evaluated,
            never_evaluated_percent: self.never_evaluated_percent,
            agencies_not_reached: self.agencies_not_reached.clone(),
        }
    }
}

/// Everything the dashboard counts, for one scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub clocks: Option<Clocks>,
    /// (owner agency, RAG by its `as_str` name, actions).
    pub actions: Option<Vec<(Uuid, String, u64)>>,
    pub measures: Option<LoopMeasures>,
}

/// Figures and when they were computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub figures: Figures,
    pub computed_at: DateTime<Utc>,
    /// Kept figures, not computed for this view.
    pub kept: bool,
    /// The data version they were computed from.
    pub version: i64,
}

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "kept_figures")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope_key: String,
        pub scope: String,
        pub figures: String,
        pub version: i64,
        pub computed_for: chrono::NaiveDate,
        pub computed_at: chrono::DateTime<chrono::Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Computes the figures of `scope` on `today`.
pub async fn compute(
    db: &impl ConnectionTrait,
    scope: &Scope,
    today: NaiveDate,
) -> CoreResult<Figures> {
    let clocks = match &scope.clocks {
        Some(agencies) => {
            let calendar = crate::calendar::store::load(db).await?;
            let open =
                crate::deadlines::open_case_deadlines(db, agencies.as_deref(), &calendar, today)
                    .await?;
            let all = open.iter().flat_map(|(_, deadlines)| deadlines.iter());
            Some(Clocks {
                open_cases: open.len(),
                overdue: all
                    .clone()
                    .filter(|d| d.state == crate::deadlines::State::Overdue)
                    .count(),
                due_soon: all
                    .filter(|d| {
                        d.state == crate::deadlines::State::Due
                            && d.working_days_remaining <= DUE_SOON_DAYS
                    })
                    .count(),
            })
        }
        None => None,
    };
    let actions = match &scope.actions {
        Some(agencies) => {
            let rules = crate::actions::Rules::load(db).await?;
            let counts = crate::actions::tracker::counts(
                db,
                agencies.as_deref(),
                today,
                rules.remind_days_before,
            )
            .await?;
            let mut rows: Vec<(Uuid, String, u64)> = counts
                .into_iter()
                .map(|((agency, rag), n)| (agency, rag.as_str().to_string(), n))
                .collect();
            rows.sort();
            Some(rows)
        }
        None => None,
    };
    let measures = match &scope.measures {
        Some(reader) => {
            let measured = crate::learning::measures::for_reader(db, &reader.reader()).await?;
            Some(LoopMeasures {
                at_stage: measured
                    .at_stage
                    .iter()
                    .map(|(stage, n)| (stage.as_str().to_string(), *n))
                    .collect(),
                median_days_to_disseminated: measured.median_days_to_disseminated,
                median_days_to_embedded: measured.median_days_to_embedded,
                median_days_to_evaluated: measured.median_days_to_evaluated,
                never_evaluated_percent: measured.never_evaluated_percent,
                agencies_not_reached: measured.agencies_not_reached,
            })
        }
        None => None,
    };
    Ok(Figures {
        clocks,
        actions,
        measures,
    })
}

/// The figures a viewer sees: kept ones when they are for this data version and day,
/// otherwise computed now (the caller hands those to `keep` once it has answered).
pub async fn for_scope(
    db: &impl ConnectionTrait,
    scope: &Scope,
    now: DateTime<Utc>,
) -> CoreResult<Shown> {
    let today = now.date_naive();
    let version = crate::data_version::current(db).await?;
    if let Some(row) = entity::Entity::find_by_id(scope.key()).one(db).await?
        && row.version == version
        && row.computed_for == today
        && let Ok(figures) = serde_json::from_str::<Figures>(&row.figures)
    {
        return Ok(Shown {
            figures,
            computed_at: row.computed_at,
            kept: true,
            version,
        });
    }
    Ok(Shown {
        figures: compute(db, scope, today).await?,
        computed_at: now,
        kept: false,
        version,
    })
}

/// Keeps figures computed from data `version`, unless the data has changed since (then they
/// are already out of date and the next view or round computes them again).
pub async fn keep(
    db: &impl ConnectionTrait,
    scope: &Scope,
    shown: &Shown,
    now: DateTime<Utc>,
) -> CoreResult<bool> {
    if crate::data_version::current(db).await? != shown.version {
        return Ok(false);
    }
    let figures = serde_json::to_string(&shown.figures)
        .map_err(|error| CoreError::Conflict(format!("cannot keep the figures: {error}")))?;
    let scope_json = serde_json::to_string(scope)
        .map_err(|error| CoreError::Conflict(format!("cannot keep the figures: {error}")))?;
    entity::Entity::insert(entity::ActiveModel {
        scope_key: Set(scope.key()),
        scope: Set(scope_json),
        figures: Set(figures),
        version: Set(shown.version),
        computed_for: Set(now.date_naive()),
        computed_at: Set(crate::clock::truncate(shown.computed_at)),
    })
    .on_conflict(
        OnConflict::column(entity::Column::ScopeKey)
            .update_columns([
                entity::Column::Figures,
                entity::Column::Version,
                entity::Column::ComputedFor,
                entity::Column::ComputedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(true)
}

/// The worker's round: recomputes every kept scope whose data version or day has passed, or
/// that is older than `REFRESH_AFTER`. Returns how many it recomputed.
pub async fn refresh(db: &crate::Db, now: DateTime<Utc>) -> CoreResult<usize> {
    let today = now.date_naive();
    let rows = entity::Entity::find()
        .order_by_asc(entity::Column::ScopeKey)
        .all(db.conn())
        .await?;
    let mut refreshed = 0;
    for row in rows {
        let current = crate::data_version::current(db.conn()).await?;
        let fresh = row.version == current
            && row.computed_for == today
            && now - row.computed_at < REFRESH_AFTER;
        if fresh {
            continue;
        }
        let Ok(scope) = serde_json::from_str::<Scope>(&row.scope) else {
            continue;
        };
        // Computed in a read transaction: the worker does not hold the write lock to count.
        let txn = db.read().await?;
        let shown = Shown {
            figures: compute(&txn, &scope, today).await?,
            computed_at: now,
            kept: false,
            version: crate::data_version::current(&txn).await?,
        };
        txn.commit().await?;
        let txn = db.write().await?;
        if keep(&txn, &scope, &shown, now).await? {
            refreshed += 1;
        }
        txn.commit().await?;
    }
    Ok(refreshed)
}
