//! The loop's measures for the dashboard: how many items sit at each stage, the median days
//! from identified to disseminated, embedded and evaluated, the share never evaluated, and the
//! agencies that learning concerned but no dissemination reached.

use std::collections::{BTreeSet, HashMap};

use sea_orm::ConnectionTrait;
use sea_orm::entity::prelude::*;

use super::{Item, Stage, evidence};
use crate::error::CoreResult;

#[derive(Debug, Clone, PartialEq)]
pub struct Measures {
    pub at_stage: Vec<(Stage, usize)>,
    pub median_days_to_disseminated: Option<i64>,
    pub median_days_to_embedded: Option<i64>,
    pub median_days_to_evaluated: Option<i64>,
    /// Of all items, the share not (yet) evaluated, as a whole percentage.
    pub never_evaluated_percent: Option<u32>,
    /// Agencies concerned by some learning that no dissemination of it reached.
    pub agencies_not_reached: Vec<Uuid>,
}

pub fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let middle = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2
    } else {
        values[middle]
    })
}

pub async fn compute(db: &impl ConnectionTrait, items: &[Item]) -> CoreResult<Measures> {
    let days = |pick: fn(&Item) -> Option<chrono::NaiveDate>| {
        median(
            items
                .iter()
                .filter_map(|item| {
                    pick(item).map(|on| (on - item.item.identified_on).num_days().max(0))
                })
                .collect(),
        )
    };
    let mut reached_by_item: HashMap<Uuid, BTreeSet<Uuid>> = HashMap::new();
    let dissemination_items: HashMap<Uuid, Uuid> = evidence::disseminations::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.item_id))
        .collect();
    for row in evidence::reached::Entity::find().all(db).await? {
        if let Some(item) = dissemination_items.get(&row.dissemination_id) {
            reached_by_item
                .entry(*item)
                .or_default()
                .insert(row.agency_id);
        }
    }
    let mut not_reached = BTreeSet::new();
    for item in items {
        let reached = reached_by_item.get(&item.item.id);
        for agency in &item.agency_ids {
            if reached.is_none_or(|set| !set.contains(agency)) {
                not_reached.insert(*agency);
            }
        }
    }
    Ok(Measures {
        at_stage: Stage::ALL
            .iter()
            .map(|stage| (*stage, items.iter().filter(|i| i.stage() == *stage).count()))
            .collect(),
        median_days_to_disseminated: days(|i| i.disseminated_on),
        median_days_to_embedded: days(|i| i.embedded_on),
        median_days_to_evaluated: days(|i| i.evaluated_on),
        never_evaluated_percent: if items.is_empty() {
            None
        } else {
            let never = items.iter().filter(|i| i.evaluated_on.is_none()).count();
            u32::try_from(never * 100 / items.len()).ok()
        },
        agencies_not_reached: not_reached.into_iter().collect(),
    })
}

/// The measures over the items this reader may see, without reading every item: the items are
/// counted in the database, and rows are read only for items that reached a stage (their dates)
/// or concern agencies (for the agencies not reached).
pub async fn for_reader(
    db: &impl ConnectionTrait,
    reader: &crate::library::Reader,
) -> CoreResult<Measures> {
    use sea_orm::sea_query::Query;
    use sea_orm::{Condition, QuerySelect};

    use super::{Column, Entity, item_agencies};
    use crate::library::Reader;
    let visible = match reader {
        Reader::Everything => Condition::all(),
        Reader::PublishedOnly => Condition::all().add(Column::Published.eq(true)),
        Reader::Agencies(ids) => Condition::any().add(Column::Published.eq(true)).add(
            Column::Id.in_subquery(
                Query::select()
                    .column(item_agencies::Column::ItemId)
                    .from(item_agencies::Entity)
                    .and_where(item_agencies::Column::AgencyId.is_in(ids.clone()))
                    .to_owned(),
            ),
        ),
    };
    let visible_ids = || {
        let mut query = Query::select();
        query
            .column(Column::Id)
            .from(Entity)
            .cond_where(visible.clone());
        query
    };
    let total = Entity::find().filter(visible.clone()).count(db).await?;
    let first_dissemination: HashMap<Uuid, chrono::NaiveDate> =
        evidence::disseminations::Entity::find()
            .select_only()
            .column(evidence::disseminations::Column::ItemId)
            .column_as(evidence::disseminations::Column::HeldOn.min(), "first")
            .filter(evidence::disseminations::Column::ItemId.in_subquery(visible_ids()))
            .group_by(evidence::disseminations::Column::ItemId)
            .into_tuple::<(Uuid, Option<chrono::NaiveDate>)>()
            .all(db)
            .await?
            .into_iter()
            .filter_map(|(id, on)| on.map(|on| (id, on)))
            .collect();
    let first_evidence = |stage: &'static str| {
        evidence::Entity::find()
            .select_only()
            .column(evidence::Column::ItemId)
            .column_as(evidence::Column::EvidencedOn.min(), "first")
            .filter(evidence::Column::Stage.eq(stage))
            .filter(evidence::Column::ItemId.in_subquery(visible_ids()))
            .group_by(evidence::Column::ItemId)
            .into_tuple::<(Uuid, Option<chrono::NaiveDate>)>()
    };
    let collect =
        |rows: Vec<(Uuid, Option<chrono::NaiveDate>)>| -> HashMap<Uuid, chrono::NaiveDate> {
            rows.into_iter()
                .filter_map(|(id, on)| on.map(|on| (id, on)))
                .collect()
        };
    let embedded = collect(first_evidence("embedded").all(db).await?);
    let evaluated = collect(first_evidence("evaluated").all(db).await?);
    // Identification dates, only for the items that moved on.
    let moved: Vec<Uuid> = first_dissemination.keys().copied().collect();
    let mut identified: HashMap<Uuid, chrono::NaiveDate> = HashMap::new();
    for chunk in moved.chunks(500) {
        let rows: Vec<(Uuid, chrono::NaiveDate)> = Entity::find()
            .select_only()
            .column(Column::Id)
            .column(Column::IdentifiedOn)
            .filter(Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        identified.extend(rows);
    }
    let days = |stage: &HashMap<Uuid, chrono::NaiveDate>| {
        median(
            stage
                .iter()
                .filter_map(|(id, on)| {
                    identified
                        .get(id)
                        .map(|from| (*on - *from).num_days().max(0))
                })
                .collect(),
        )
    };
    let total = usize::try_from(total).unwrap_or(0);
    let disseminated_n = first_dissemination.len();
    let embedded_n = embedded.len();
    let evaluated_n = evaluated.len();
    // Agencies not reached, over the visible items that concern agencies.
    let links: Vec<(Uuid, Uuid)> = item_agencies::Entity::find()
        .select_only()
        .column(item_agencies::Column::ItemId)
        .column(item_agencies::Column::AgencyId)
        .filter(item_agencies::Column::ItemId.in_subquery(visible_ids()))
        .into_tuple()
        .all(db)
        .await?;
    let dissemination_items: HashMap<Uuid, Uuid> = evidence::disseminations::Entity::find()
        .select_only()
        .column(evidence::disseminations::Column::Id)
        .column(evidence::disseminations::Column::ItemId)
        .into_tuple::<(Uuid, Uuid)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut reached: HashMap<Uuid, BTreeSet<Uuid>> = HashMap::new();
    for row in evidence::reached::Entity::find().all(db).await? {
        if let Some(item) = dissemination_items.get(&row.dissemination_id) {
            reached.entry(*item).or_default().insert(row.agency_id);
        }
    }
    let not_reached: BTreeSet<Uuid> = links
        .into_iter()
        .filter(|(item, agency)| reached.get(item).is_none_or(|set| !set.contains(agency)))
        .map(|(_, agency)| agency)
        .collect();
    Ok(Measures {
        at_stage: vec![
            (Stage::Identified, total.saturating_sub(disseminated_n)),
            (
                Stage::Disseminated,
                disseminated_n.saturating_sub(embedded_n),
            ),
            (Stage::Embedded, embedded_n.saturating_sub(evaluated_n)),
            (Stage::Evaluated, evaluated_n),
        ],
        median_days_to_disseminated: days(&first_dissemination),
        median_days_to_embedded: days(&embedded),
        median_days_to_evaluated: days(&evaluated),
        never_evaluated_percent: ((total - evaluated_n.min(total)) * 100)
            .checked_div(total)
            .and_then(|p| u32::try_from(p).ok()),
        agencies_not_reached: not_reached.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5]), Some(5));
        assert_eq!(median(vec![9, 1, 5]), Some(5));
        assert_eq!(median(vec![1, 2, 3, 10]), Some(2));
    }
}
