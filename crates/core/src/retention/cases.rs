//! Which cases are due to go, and deleting a case with everything that hangs off it, children
//! before parents so the foreign keys of both databases hold at every statement.
//!
//! A case is closed when every review of it is complete (every required stage done) or was
//! converted into another; it closed on the last day any stage of those reviews was completed.
//! A case without a review is closed only when its status says so (the day it last changed).
//! What was published stays: `public_texts` and the library's frozen copies were checked for
//! identifiers before they went public, and they are the partnership's public record.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, QuerySelect};

use super::holds;
use crate::actions::{self, Status, assurance, plans};
use crate::cases::entity as cases;
use crate::error::CoreResult;
use crate::reviews::{self, stages};

/// Ids per statement: far below either database's limit on bound parameters.
pub(super) const CHUNK: usize = 500;

/// A case due to be purged: its id and reference (never the subject's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCase {
    pub id: Uuid,
    pub reference: String,
    /// The day its reviews closed.
    pub closed_on: NaiveDate,
}

/// Cases closed on or before `cutoff`, without open work or a hold, oldest first.
pub(super) async fn due(db: &impl ConnectionTrait, cutoff: NaiveDate) -> CoreResult<Vec<DueCase>> {
    let all_reviews: Vec<(Uuid, Uuid, String)> = reviews::Entity::find()
        .select_only()
        .column(reviews::Column::Id)
        .column(reviews::Column::CaseId)
        .column(reviews::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let last_stage: HashMap<Uuid, NaiveDate> = stages::Entity::find()
        .select_only()
        .column(stages::Column::ReviewId)
        .column_as(stages::Column::CompletedOn.max(), "last")
        .group_by(stages::Column::ReviewId)
        .into_tuple::<(Uuid, Option<NaiveDate>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(review, last)| last.map(|day| (review, day)))
        .collect();
    let mut by_case: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
    for (review, case, status) in all_reviews {
        by_case.entry(case).or_default().push((review, status));
    }
    let held: HashSet<Uuid> = holds::held_cases(db).await?;
    let all_cases: Vec<(Uuid, String, String, chrono::DateTime<chrono::Utc>)> =
        cases::Entity::find()
            .select_only()
            .column(cases::Column::Id)
            .column(cases::Column::Reference)
            .column(cases::Column::Status)
            .column(cases::Column::UpdatedAt)
            .into_tuple()
            .all(db)
            .await?;
    let mut due = Vec::new();
    for (id, reference, status, updated_at) in all_cases {
        if held.contains(&id) {
            continue;
        }
        let closed_on = match by_case.get(&id) {
            None if status == "closed" => updated_at.date_naive(),
            None => continue,
            Some(list) => {
                if !list
                    .iter()
                    .all(|(_, status)| status == "complete" || status == "converted")
                {
                    continue;
                }
                list.iter()
                    .filter_map(|(review, _)| last_stage.get(review).copied())
                    .max()
                    .unwrap_or_else(|| updated_at.date_naive())
            }
        };
        if closed_on > cutoff {
            continue;
        }
        let graph = Graph::of(db, &[id]).await?;
        if graph.has_open_work(db).await? {
            continue;
        }
        due.push(DueCase {
            id,
            reference,
            closed_on,
        });
    }
    due.sort_by(|a, b| (a.closed_on, &a.reference).cmp(&(b.closed_on, &b.reference)));
    Ok(due)
}

/// A set of cases and every record that hangs off them, by id.
struct Graph {
    cases: Vec<Uuid>,
    reviews: Vec<Uuid>,
    rapid_reviews: Vec<Uuid>,
    entries: Vec<Uuid>,
    documents: Vec<Uuid>,
    versions: Vec<Uuid>,
    plans: Vec<Uuid>,
    actions: Vec<Uuid>,
    updates: Vec<Uuid>,
    evidence: Vec<Uuid>,
    attachments: Vec<Uuid>,
}

impl Graph {
    async fn of(db: &impl ConnectionTrait, case_ids: &[Uuid]) -> CoreResult<Graph> {
        let reviews = ids(db, "reviews", "id", "case_id", case_ids).await?;
        let rapid_reviews = ids(db, "rapid_reviews", "id", "case_id", case_ids).await?;
        let entries = ids(db, "review_entries", "id", "review_id", &reviews).await?;
        let documents = ids(db, "review_documents", "id", "review_id", &reviews).await?;
        let versions = ids(
            db,
            "review_document_versions",
            "id",
            "document_id",
            &documents,
        )
        .await?;
        let plans = ids(db, "action_plans", "id", "review_id", &reviews).await?;
        // An action is the case's when it answers one of its reviews, sits in one of its
        // plans, or answers one of its recommendations.
        let mut actions = ids(db, "actions", "id", "review_id", &reviews).await?;
        actions.extend(ids(db, "actions", "id", "plan_id", &plans).await?);
        actions.extend(ids(db, "actions", "id", "source_entry_id", &entries).await?);
        actions.sort();
        actions.dedup();
        let updates = ids(db, "action_updates", "id", "action_id", &actions).await?;
        let evidence = ids(db, "action_evidence", "id", "update_id", &updates).await?;
        let attachments = ids(db, "case_attachments", "id", "case_id", case_ids).await?;
        Ok(Graph {
            cases: case_ids.to_vec(),
            reviews,
            rapid_reviews,
            entries,
            documents,
            versions,
            plans,
            actions,
            updates,
            evidence,
            attachments,
        })
    }

    /// An action not completed or closed, a plan not signed off, or an assurance check not
    /// recorded: the learning from the case is still being acted on.
    async fn has_open_work(&self, db: &impl ConnectionTrait) -> CoreResult<bool> {
        for chunk in self.actions.chunks(CHUNK) {
            let open = actions::Entity::find()
                .filter(actions::Column::Id.is_in(chunk.iter().copied()))
                .filter(
                    actions::Column::Status
                        .is_not_in([Status::Completed.as_str(), Status::Closed.as_str()]),
                )
                .one(db)
                .await?;
            if open.is_some() {
                return Ok(true);
            }
        }
        for chunk in self.plans.chunks(CHUNK) {
            let open = plans::Entity::find()
                .filter(plans::Column::Id.is_in(chunk.iter().copied()))
                .filter(plans::Column::Status.ne("signed_off"))
                .one(db)
                .await?;
            if open.is_some() {
                return Ok(true);
            }
            let unchecked = assurance::Entity::find()
                .filter(assurance::Column::PlanId.is_in(chunk.iter().copied()))
                .filter(assurance::Column::CompletedOn.is_null())
                .one(db)
                .await?;
            if unchecked.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The ids of the files that go with the records: case attachments, document versions and
    /// action evidence are each stored under `files_dir` by their id.
    fn file_ids(&self) -> Vec<Uuid> {
        let mut files = self.attachments.clone();
        files.extend(&self.versions);
        files.extend(&self.evidence);
        files
    }
}

/// Deletes the cases and everything of theirs; returns the ids of their files, to remove once
/// the transaction has committed.
pub(super) async fn purge(db: &impl ConnectionTrait, case_ids: &[Uuid]) -> CoreResult<Vec<Uuid>> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    let graph = Graph::of(db, case_ids).await?;
    // Actions and plans.
    delete(db, "action_evidence", "update_id", &graph.updates).await?;
    delete(db, "action_updates", "action_id", &graph.actions).await?;
    delete(db, "action_themes", "action_id", &graph.actions).await?;
    delete(db, "actions", "id", &graph.actions).await?;
    delete(db, "assurance_checks", "plan_id", &graph.plans).await?;
    delete(db, "action_plans", "id", &graph.plans).await?;
    // Learning items are the partnership's, not the case's: they stay, without the link to a
    // review that no longer exists.
    clear(db, "learning_items", "review_id", &graph.reviews).await?;
    clear(db, "learning_items", "source_entry_id", &graph.entries).await?;
    // The library's live copies of the findings and recommendations; frozen (published)
    // copies stay with the published report.
    delete(db, "similar_learning", "source_id", &graph.entries).await?;
    delete(db, "similar_learning", "similar_source_id", &graph.entries).await?;
    for chunk in graph.entries.chunks(CHUNK) {
        let statement = Query::delete()
            .from_table(Alias::new("library_docs"))
            .and_where(Expr::col(Alias::new("source_id")).is_in(chunk.iter().copied()))
            .and_where(Expr::col(Alias::new("frozen")).eq(Expr::value(false)))
            .to_owned();
        db.execute(&statement).await?;
    }
    // Reviews.
    delete(db, "review_entry_agencies", "entry_id", &graph.entries).await?;
    delete(db, "review_entry_themes", "entry_id", &graph.entries).await?;
    delete(db, "review_entries", "review_id", &graph.reviews).await?;
    delete(db, "review_contributions", "review_id", &graph.reviews).await?;
    delete(
        db,
        "review_document_versions",
        "document_id",
        &graph.documents,
    )
    .await?;
    delete(db, "review_documents", "review_id", &graph.reviews).await?;
    for table in [
        "review_people",
        "review_family_contacts",
        "review_practitioner_events",
        "review_stages",
    ] {
        delete(db, table, "review_id", &graph.reviews).await?;
    }
    delete(db, "reviews", "id", &graph.reviews).await?;
    // Rapid reviews.
    delete(
        db,
        "rapid_review_steps",
        "rapid_review_id",
        &graph.rapid_reviews,
    )
    .await?;
    delete(
        db,
        "rapid_review_summaries",
        "rapid_review_id",
        &graph.rapid_reviews,
    )
    .await?;
    delete(db, "rapid_reviews", "id", &graph.rapid_reviews).await?;
    // The case itself.
    for table in [
        "case_decisions",
        "case_partnerships",
        "case_agencies",
        "deadline_reasons",
        "case_attachments",
        "case_identifiers",
        "retention_holds",
    ] {
        delete(db, table, "case_id", &graph.cases).await?;
    }
    delete(db, "cases", "id", &graph.cases).await?;
    Ok(graph.file_ids())
}

/// The `id` column of the rows of `table` whose `column` is one of `values`.
async fn ids(
    db: &impl ConnectionTrait,
    table: &str,
    id: &str,
    column: &str,
    values: &[Uuid],
) -> CoreResult<Vec<Uuid>> {
    let mut found = Vec::new();
    for chunk in values.chunks(CHUNK) {
        let query = Query::select()
            .column(Alias::new(id))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(column)).is_in(chunk.iter().copied()))
            .to_owned();
        for row in db.query_all(&query).await? {
            found.push(row.try_get_by_index::<Uuid>(0)?);
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

async fn delete(
    db: &impl ConnectionTrait,
    table: &str,
    column: &str,
    values: &[Uuid],
) -> CoreResult<()> {
    for chunk in values.chunks(CHUNK) {
        let statement = Query::delete()
            .from_table(Alias::new(table))
            .and_where(Expr::col(Alias::new(column)).is_in(chunk.iter().copied()))
            .to_owned();
        db.execute(&statement).await?;
    }
    Ok(())
}

/// Empties a link column where it names one of `values`.
async fn clear(
    db: &impl ConnectionTrait,
    table: &str,
    column: &str,
    values: &[Uuid],
) -> CoreResult<()> {
    for chunk in values.chunks(CHUNK) {
        let statement = Query::update()
            .table(Alias::new(table))
            .value(Alias::new(column), Expr::value(Option::<Uuid>::None))
            .and_where(Expr::col(Alias::new(column)).is_in(chunk.iter().copied()))
            .to_owned();
        db.execute(&statement).await?;
    }
    Ok(())
}
