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

/// The measures over the items this reader may see, read lean: one row per item (its date and
/// whether it is published), the first date of each stage grouped in the database, and the
/// agency links; never the items' text or themes.
pub async fn for_reader(
    db: &impl ConnectionTrait,
    reader: &crate::library::Reader,
) -> CoreResult<Measures> {
    use sea_orm::QuerySelect;

    use super::{Column, Entity, item_agencies};
    let rows: Vec<(Uuid, chrono::NaiveDate, bool)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::IdentifiedOn)
        .column(Column::Published)
        .into_tuple()
        .all(db)
        .await?;
    let links: Vec<(Uuid, Uuid)> = item_agencies::Entity::find()
        .select_only()
        .column(item_agencies::Column::ItemId)
        .column(item_agencies::Column::AgencyId)
        .into_tuple()
        .all(db)
        .await?;
    let mut agencies: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (item, agency) in links {
        agencies.entry(item).or_default().push(agency);
    }
    let first = |rows: Vec<(Uuid, Option<chrono::NaiveDate>)>| -> HashMap<Uuid, chrono::NaiveDate> {
        rows.into_iter()
            .filter_map(|(id, on)| on.map(|on| (id, on)))
            .collect()
    };
    let disseminated = first(
        evidence::disseminations::Entity::find()
            .select_only()
            .column(evidence::disseminations::Column::ItemId)
            .column_as(evidence::disseminations::Column::HeldOn.min(), "first")
            .group_by(evidence::disseminations::Column::ItemId)
            .into_tuple()
            .all(db)
            .await?,
    );
    let stage_first = |stage: &'static str| {
        evidence::Entity::find()
            .select_only()
            .column(evidence::Column::ItemId)
            .column_as(evidence::Column::EvidencedOn.min(), "first")
            .filter(evidence::Column::Stage.eq(stage))
            .group_by(evidence::Column::ItemId)
            .into_tuple::<(Uuid, Option<chrono::NaiveDate>)>()
    };
    let embedded = first(stage_first("embedded").all(db).await?);
    let evaluated = first(stage_first("evaluated").all(db).await?);
    let items: Vec<Item> = rows
        .into_iter()
        .filter(|(id, _, published)| match reader {
            crate::library::Reader::Everything => true,
            _ if *published => true,
            crate::library::Reader::Agencies(ids) => agencies
                .get(id)
                .is_some_and(|list| list.iter().any(|a| ids.contains(a))),
            crate::library::Reader::PublishedOnly => false,
        })
        .map(|(id, identified_on, published)| Item {
            item: super::Model {
                id,
                title: String::new(),
                lesson: String::new(),
                source_kind: String::new(),
                source_entry_id: None,
                review_id: None,
                why_it_matters: String::new(),
                do_differently: String::new(),
                supervision_questions: String::new(),
                more_info: String::new(),
                published,
                identified_on,
                created_by: Uuid::nil(),
                created_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
                version: 0,
            },
            themes: Vec::new(),
            partnership_ids: Vec::new(),
            agency_ids: agencies.get(&id).cloned().unwrap_or_default(),
            disseminated_on: disseminated.get(&id).copied(),
            embedded_on: embedded.get(&id).copied(),
            evaluated_on: evaluated.get(&id).copied(),
        })
        .collect();
    compute(db, &items).await
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
