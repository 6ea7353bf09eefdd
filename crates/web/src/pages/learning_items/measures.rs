//! The loop's measures, as the dashboard and the list show them.

use std::collections::HashMap;

use learnloop_core::access::Actor;
use learnloop_core::agencies;
use learnloop_core::learning::{Stage, measures};
use learnloop_core::library::Reader;
use uuid::Uuid;

use crate::error::PageError;

/// The loop's measures over the items the reader may see.
pub struct MeasuresView {
    pub at_stage: Vec<(Stage, usize)>,
    pub to_disseminated: String,
    pub to_embedded: String,
    pub to_evaluated: String,
    pub never_evaluated: String,
    pub not_reached: Vec<String>,
}

pub async fn measures_view(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
) -> Result<MeasuresView, PageError> {
    let measured = measures::for_reader(db, &Reader::of(actor)).await?;
    let names: HashMap<Uuid, String> = agencies::list(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    Ok(MeasuresView::of(measured, &names))
}

impl MeasuresView {
    /// The measures as shown, the agencies by name.
    pub fn of(measured: measures::Measures, names: &HashMap<Uuid, String>) -> MeasuresView {
        let days = |d: Option<i64>| {
            d.map(|n| format!("{n} days"))
                .unwrap_or_else(|| "No items yet".to_string())
        };
        MeasuresView {
            at_stage: measured.at_stage,
            to_disseminated: days(measured.median_days_to_disseminated),
            to_embedded: days(measured.median_days_to_embedded),
            to_evaluated: days(measured.median_days_to_evaluated),
            never_evaluated: measured
                .never_evaluated_percent
                .map(|p| format!("{p}%"))
                .unwrap_or_else(|| "No items yet".to_string()),
            not_reached: measured
                .agencies_not_reached
                .iter()
                .filter_map(|a| names.get(a).cloned())
                .collect(),
        }
    }
}
