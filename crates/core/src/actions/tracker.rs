//! Lists of actions: the tracker's filters (source, agency, status, RAG, theme, due window,
//! plan, review, lead), done in the database so a page of 50 stays fast at 100,000 actions;
//! and the counts by agency and RAG for the dashboard. The RAG conditions here are the SQL
//! form of `actions::rag`, and a test holds them equal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{Days, NaiveDate};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Order, Query};
use sea_orm::{Condition, ConnectionTrait, QueryOrder, QuerySelect};

use super::{Column, Entity, Model, Rag, Status};
use crate::error::CoreResult;

/// How far ahead (or behind) the due date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueWindow {
    Overdue,
    /// Due from today to this many days ahead.
    Within(u64),
}

impl DueWindow {
    pub fn parse(value: &str) -> Option<DueWindow> {
        match value {
            "overdue" => Some(DueWindow::Overdue),
            other => other
                .parse::<u64>()
                .ok()
                .filter(|days| (1..=3650).contains(days))
                .map(DueWindow::Within),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only actions owned by these agencies (an agency lead's scope, or a chosen agency).
    pub agencies: Option<Vec<Uuid>>,
    pub source: Option<String>,
    pub status: Option<Status>,
    pub rag: Option<Rag>,
    pub theme: Option<String>,
    pub due: Option<DueWindow>,
    pub plan_id: Option<Uuid>,
    pub review_id: Option<Uuid>,
    pub lead_person_id: Option<Uuid>,
}

fn done() -> Condition {
    Condition::all()
        .add(Column::Status.is_in([Status::Completed.as_str(), Status::Closed.as_str()]))
}

/// The statuses of actions not yet done, named rather than negated: `status IN (...)` lets an
/// index that starts with the status answer the count alone, where `NOT IN` scans.
const OPEN: [Status; 4] = [
    Status::NotStarted,
    Status::OnTrack,
    Status::AtRisk,
    Status::OffTrack,
];

fn status_in(statuses: &[Status]) -> Condition {
    Condition::all().add(Column::Status.is_in(statuses.iter().map(|status| status.as_str())))
}

fn not_done() -> Condition {
    status_in(&OPEN)
}

/// The SQL condition for one RAG rating on `today`. Each rating is a union of (statuses, due
/// date range) pairs, so every branch is a range over the status index.
pub fn rag_condition(rag: Rag, today: NaiveDate, window_days: i64) -> Condition {
    let horizon = today
        .checked_add_days(Days::new(u64::try_from(window_days).unwrap_or(0)))
        .unwrap_or(today);
    let not_flagged = [Status::NotStarted, Status::OnTrack];
    match rag {
        Rag::Complete => done(),
        Rag::Red => Condition::any().add(status_in(&[Status::OffTrack])).add(
            status_in(&[Status::NotStarted, Status::OnTrack, Status::AtRisk])
                .add(Column::DueOn.lt(today)),
        ),
        Rag::Amber => Condition::any()
            .add(status_in(&[Status::AtRisk]).add(Column::DueOn.gte(today)))
            .add(
                status_in(&not_flagged)
                    .add(Column::DueOn.gte(today))
                    .add(Column::DueOn.lte(horizon)),
            ),
        Rag::Green => status_in(&not_flagged).add(Column::DueOn.gt(horizon)),
    }
}

fn condition(filter: &Filter, today: NaiveDate, window_days: i64) -> Condition {
    let mut all = Condition::all();
    if let Some(agencies) = &filter.agencies {
        all = all.add(Column::OwnerAgencyId.is_in(agencies.clone()));
    }
    if let Some(source) = &filter.source {
        all = all.add(Column::SourceKind.eq(source.as_str()));
    }
    if let Some(status) = filter.status {
        all = all.add(Column::Status.eq(status.as_str()));
    }
    if let Some(rag) = filter.rag {
        all = all.add(rag_condition(rag, today, window_days));
    }
    if let Some(theme) = &filter.theme {
        all = all.add(
            Column::Id.in_subquery(
                Query::select()
                    .column(super::tags::Column::ActionId)
                    .from(super::tags::Entity)
                    .and_where(super::tags::Column::ThemeCode.eq(theme.as_str()))
                    .to_owned(),
            ),
        );
    }
    match filter.due {
        Some(DueWindow::Overdue) => {
            all = all.add(not_done()).add(Column::DueOn.lt(today));
        }
        Some(DueWindow::Within(days)) => {
            let until = today.checked_add_days(Days::new(days)).unwrap_or(today);
            all = all
                .add(not_done())
                .add(Column::DueOn.gte(today))
                .add(Column::DueOn.lte(until));
        }
        None => {}
    }
    if let Some(plan) = filter.plan_id {
        all = all.add(Column::PlanId.eq(plan));
    }
    if let Some(review) = filter.review_id {
        all = all.add(Column::ReviewId.eq(review));
    }
    if let Some(lead) = filter.lead_person_id {
        all = all.add(Column::LeadPersonId.eq(lead));
    }
    all
}

/// Totals of the tracker's filters, kept for the data version they were counted at: a count
/// over 100,000 actions costs milliseconds, and the same few filters are asked for again and
/// again between changes. The version (bumped by triggers in every changing transaction,
/// `data_version`) is read before the count, so a total is never kept under a version
/// newer than the data it counted.
#[derive(Clone, Debug, Default)]
pub struct KeptTotals {
    kept: Arc<Mutex<(i64, HashMap<String, u64>)>>,
}

/// Enough for every filter a partnership's users ask for in a day; past it, totals are
/// dropped and counted again.
const KEPT_TOTALS_MAX: usize = 4096;

impl KeptTotals {
    fn get(&self, version: i64, key: &str) -> Option<u64> {
        let kept = self.kept.lock().ok()?;
        if kept.0 == version {
            kept.1.get(key).copied()
        } else {
            None
        }
    }

    fn keep(&self, version: i64, key: String, total: u64) {
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        if version > kept.0 || kept.1.len() >= KEPT_TOTALS_MAX {
            kept.1.clear();
            kept.0 = kept.0.max(version);
        }
        if version == kept.0 {
            kept.1.insert(key, total);
        }
    }
}

/// One page of matching actions, by due date, and how many match in all. The page is chosen
/// by ids first (read from the covering indexes), then those rows are loaded, so a broad
/// filter does not sort whole rows.
#[allow(clippy::too_many_arguments)]
pub async fn page(
    db: &impl ConnectionTrait,
    kept: &KeptTotals,
    filter: &Filter,
    today: NaiveDate,
    window_days: i64,
    offset: u64,
    limit: u64,
) -> CoreResult<(Vec<Model>, u64)> {
    let condition = condition(filter, today, window_days);
    let version = crate::data_version::current(db).await?;
    let key = format!("{today}|{window_days}|{filter:?}");
    let total = match kept.get(version, &key) {
        Some(total) => total,
        None => {
            let total = Entity::find().filter(condition.clone()).count(db).await?;
            kept.keep(version, key, total);
            total
        }
    };
    let ids = Query::select()
        .column(Column::Id)
        .from(Entity)
        .cond_where(condition)
        .order_by(Column::DueOn, Order::Asc)
        .order_by(Column::Id, Order::Asc)
        .offset(offset)
        .limit(limit)
        .to_owned();
    let rows = Entity::find()
        .filter(Column::Id.in_subquery(ids))
        .order_by_asc(Column::DueOn)
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// Every matching action, by due date, up to `cap` (exports).
pub async fn all(
    db: &impl ConnectionTrait,
    filter: &Filter,
    today: NaiveDate,
    window_days: i64,
    cap: u64,
) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(condition(filter, today, window_days))
        .order_by_asc(Column::DueOn)
        .order_by_asc(Column::Id)
        .limit(cap)
        .all(db)
        .await?)
}

/// How many actions each agency has at each RAG rating (over the agencies given, or all), in
/// one pass over the actions: rows are grouped by agency, status and where the due date falls,
/// and the RAG rule is applied to each group.
pub async fn counts(
    db: &impl ConnectionTrait,
    agencies: Option<&[Uuid]>,
    today: NaiveDate,
    window_days: i64,
) -> CoreResult<HashMap<(Uuid, Rag), u64>> {
    use sea_orm::sea_query::{Alias, Expr};
    let horizon = today
        .checked_add_days(Days::new(u64::try_from(window_days).unwrap_or(0)))
        .unwrap_or(today);
    // 0: overdue, 1: due within the window, 2: later.
    let bucket = Expr::case(Column::DueOn.lt(today), 0)
        .case(Column::DueOn.lte(horizon), 1)
        .finally(2);
    let mut query = Entity::find()
        .select_only()
        .column(Column::OwnerAgencyId)
        .column(Column::Status)
        .column_as(Expr::Case(Box::new(bucket)), "bucket")
        .column_as(Column::Id.count(), "n")
        .group_by(Column::OwnerAgencyId)
        .group_by(Column::Status)
        .group_by(Expr::col(Alias::new("bucket")));
    if let Some(agencies) = agencies {
        query = query.filter(Column::OwnerAgencyId.is_in(agencies.to_vec()));
    }
    let rows: Vec<(Uuid, String, i32, i64)> = query.into_tuple().all(db).await?;
    let mut counts = HashMap::new();
    for (agency, status, bucket, n) in rows {
        let status = Status::parse(&status).unwrap_or(Status::NotStarted);
        // A due date standing for its bucket, so the one RAG rule decides.
        let due = match bucket {
            0 => today.pred_opt().unwrap_or(today),
            1 => today,
            _ => horizon.succ_opt().unwrap_or(horizon),
        };
        let rag = super::rag(status, due, today, window_days);
        *counts.entry((agency, rag)).or_insert(0) += u64::try_from(n).unwrap_or(0);
    }
    Ok(counts)
}
