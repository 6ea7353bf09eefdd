//! Reading cases: one case, a page of them, every open one, their missed-deadline reasons,
//! and opening a case for a viewer.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{Case, CaseRecord, entity};
use crate::error::{CoreError, CoreResult};

pub async fn reasons(
    db: &impl ConnectionTrait,
    case_id: Uuid,
) -> CoreResult<Vec<entity::reasons::Model>> {
    Ok(entity::reasons::Entity::find()
        .filter(entity::reasons::Column::CaseId.eq(case_id))
        .order_by_asc(entity::reasons::Column::RecordedAt)
        .all(db)
        .await?)
}

/// The missed-deadline reasons of any of `case_ids`, oldest first (callers pass at most a few
/// hundred ids).
pub async fn reasons_of_cases(
    db: &impl ConnectionTrait,
    case_ids: &[Uuid],
) -> CoreResult<Vec<entity::reasons::Model>> {
    Ok(entity::reasons::Entity::find()
        .filter(entity::reasons::Column::CaseId.is_in(case_ids.to_vec()))
        .order_by_asc(entity::reasons::Column::RecordedAt)
        .all(db)
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<CaseRecord> {
    let case = entity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    let partnership_ids = entity::partnerships::Entity::find()
        .filter(entity::partnerships::Column::CaseId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.partnership_id)
        .collect();
    let agency_ids = entity::agencies::Entity::find()
        .filter(entity::agencies::Column::CaseId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.agency_id)
        .collect();
    Ok(CaseRecord {
        case,
        partnership_ids,
        agency_ids,
    })
}

/// Cases, newest awareness first, a page at a time, with the agencies of each (for access
/// filtering). `only_agencies` limits the list to cases involving those agencies.
pub async fn list(
    db: &impl ConnectionTrait,
    only_agencies: Option<&[Uuid]>,
    offset: u64,
    limit: u64,
) -> CoreResult<(Vec<CaseRecord>, u64)> {
    let mut query = entity::Entity::find();
    if let Some(agency_ids) = only_agencies {
        // A subquery, not a list of ids: an agency can be involved in thousands of cases.
        query = query.filter(
            entity::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(entity::agencies::Column::CaseId)
                    .from(entity::agencies::Entity)
                    .and_where(entity::agencies::Column::AgencyId.is_in(agency_ids.to_vec()))
                    .to_owned(),
            ),
        );
    }
    let total = query.clone().count(db).await?;
    let cases = query
        .order_by_desc(entity::Column::AwareOn)
        .order_by_desc(entity::Column::Reference)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((with_links(db, cases).await?, total))
}

/// The cases with their agencies and partnerships (two queries per 500 cases).
async fn with_links(db: &impl ConnectionTrait, cases: Vec<Case>) -> CoreResult<Vec<CaseRecord>> {
    let mut agencies: std::collections::HashMap<Uuid, Vec<Uuid>> = std::collections::HashMap::new();
    let mut partnerships: std::collections::HashMap<Uuid, Vec<Uuid>> =
        std::collections::HashMap::new();
    let ids: Vec<Uuid> = cases.iter().map(|case| case.id).collect();
    for chunk in ids.chunks(500) {
        for link in entity::agencies::Entity::find()
            .filter(entity::agencies::Column::CaseId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            agencies
                .entry(link.case_id)
                .or_default()
                .push(link.agency_id);
        }
        for link in entity::partnerships::Entity::find()
            .filter(entity::partnerships::Column::CaseId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            partnerships
                .entry(link.case_id)
                .or_default()
                .push(link.partnership_id);
        }
    }
    Ok(cases
        .into_iter()
        .map(|case| CaseRecord {
            agency_ids: agencies.remove(&case.id).unwrap_or_default(),
            partnership_ids: partnerships.remove(&case.id).unwrap_or_default(),
            case,
        })
        .collect())
}

/// Every open case with its agencies (for the due-and-overdue view and the calendar feed).
pub async fn open_cases(db: &impl ConnectionTrait) -> CoreResult<Vec<CaseRecord>> {
    let open = entity::Entity::find()
        .filter(entity::Column::Status.eq("open"))
        .order_by_desc(entity::Column::AwareOn)
        .order_by_desc(entity::Column::Reference)
        .all(db)
        .await?;
    with_links(db, open).await
}

// ----- Opening a case for a viewer -----

/// Whether `actor` may see the case: the case, or not found.
pub async fn decide(
    db: &impl ConnectionTrait,
    actor: &crate::access::Actor,
    id: Uuid,
) -> CoreResult<crate::viewer::Decision<CaseRecord>> {
    use crate::access::{Action, Record, can};
    let record = get(db, id).await?;
    let allowed = can(
        actor,
        Action::ViewCase,
        Record::Case {
            agency_ids: &record.agency_ids,
        },
    );
    Ok(crate::viewer::Decision::hidden_unless(allowed, record))
}

/// Opens a case for a viewer: the decision ("case.view", allowed or denied) is recorded as
/// `recording` says before the case is returned. Another agency's case is not found.
pub async fn open(
    db: &impl ConnectionTrait,
    recording: crate::viewer::Recording<'_>,
    viewer: &crate::viewer::Viewer<'_>,
    id: Uuid,
) -> CoreResult<CaseRecord> {
    let subject = crate::viewer::Subject::new("case.view", "case", id);
    viewer
        .settle(db, recording, subject, decide(db, viewer.actor, id).await)
        .await
}
