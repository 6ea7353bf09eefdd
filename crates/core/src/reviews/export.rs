//! Reviews in the national Safeguarding Case Review Tracker's shape (S-CRT), as CSV: local
//! reference, review type, converted-from, stage, referral date, partnership, up to three
//! themes, publication date and link.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{Model, entries, stages};
use crate::error::CoreResult;
use crate::{cases, partnerships, review_types, themes};

pub const HEADER: [&str; 11] = [
    "local_reference",
    "review_type",
    "converted_from",
    "stage",
    "referral_date",
    "partnership",
    "theme_1",
    "theme_2",
    "theme_3",
    "publication_date",
    "publication_link",
];

/// One CSV cell: quoted when needed, and made inert (`learnloop_office::defuse_formula`) so a
/// spreadsheet never runs it as a formula.
pub fn cell(value: &str) -> String {
    let value = learnloop_office::defuse_formula(value);
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The rows for these reviews (the caller has chosen the ones the reader may see).
pub async fn tracker_csv(
    db: &impl ConnectionTrait,
    reviews: &[Model],
    link_base: &str,
) -> CoreResult<String> {
    let type_names: HashMap<String, String> = review_types::store::list(db)
        .await?
        .into_iter()
        .map(|t| (t.code, t.name))
        .collect();
    let partnership_names: HashMap<Uuid, String> = partnerships::list(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let taxonomy = themes::list(db).await?;
    let mut out = HEADER.join(",");
    out.push_str("\r\n");
    for review in reviews {
        let review_stages = stages::of_review(db, review.id).await?;
        let review_entries = entries::of_review(db, review.id).await?;
        let leading = entries::leading_themes(&review_entries, &taxonomy);
        let case = cases::get(db, review.case_id).await?.case;
        let converted_from = if review.converted_from_rapid_review_id.is_some() {
            "Rapid review".to_string()
        } else if let Some(from) = review.converted_from_review_id {
            let from = super::get(db, from).await?;
            type_names
                .get(&from.review_type_code)
                .cloned()
                .unwrap_or(from.review_type_code)
        } else {
            String::new()
        };
        let row = [
            review.reference.clone().unwrap_or_default(),
            type_names
                .get(&review.review_type_code)
                .cloned()
                .unwrap_or_else(|| review.review_type_code.clone()),
            converted_from,
            stages::stage_label(&review_stages, &review.status),
            case.aware_on.format("%Y-%m-%d").to_string(),
            review
                .partnership_id
                .and_then(|id| partnership_names.get(&id).cloned())
                .unwrap_or_default(),
            leading.first().cloned().unwrap_or_default(),
            leading.get(1).cloned().unwrap_or_default(),
            leading.get(2).cloned().unwrap_or_default(),
            review
                .published_on
                .map(|on| on.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            if review.published_on.is_some() {
                format!(
                    "{}/learning/reviews/{}",
                    link_base.trim_end_matches('/'),
                    review.id
                )
            } else {
                String::new()
            },
        ];
        out.push_str(
            &row.iter()
                .map(|value| cell(value))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_formulas_made_inert() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a, b"), "\"a, b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn every_formula_start_is_defused_by_the_shared_guard() {
        for start in ["=", "+", "-", "@", "\t", "\r"] {
            let value = format!("{start}1+1");
            let written = cell(&value);
            assert!(
                written.starts_with('\'') || written.starts_with("\"'"),
                "{value:?} became {written:?}"
            );
            assert!(written.contains(&learnloop_office::defuse_formula(&value)));
        }
    }
}
