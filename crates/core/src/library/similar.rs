//! Repeated learning: the earlier findings and lessons most like a new one, by their words
//! (TF-IDF cosine over stemmed words, common words left out) and their themes (overlap).
//! Ranking reads the whole library, so it runs once when a finding or lesson is saved
//! (`remember`) and pages read what was kept (`remembered`), never ranking on a view.

use std::collections::{HashMap, HashSet};

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use super::{Entity, Model, Reader};
use crate::error::CoreResult;

const STOP_WORDS: [&str; 60] = [
    "the", "and", "for", "with", "that", "this", "was", "were", "are", "not", "but", "had", "has",
    "have", "from", "they", "their", "there", "been", "which", "when", "what", "who", "would",
    "could", "should", "into", "about", "than", "them", "then", "also", "its", "his", "her", "she",
    "him", "our", "all", "any", "each", "more", "most", "other", "some", "such", "only", "over",
    "very", "can", "did", "does", "how", "why", "where", "one", "two", "did", "being", "while",
];

/// The words that carry meaning, roughly stemmed so "sharing", "shared" and "shares" meet.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|word| word.chars().count() > 2 && !STOP_WORDS.contains(&word.as_str()))
        .map(|word| {
            for suffix in ["ings", "ing", "ed", "es", "s", "ly"] {
                if let Some(stem) = word.strip_suffix(suffix)
                    && stem.chars().count() >= 4
                {
                    return stem.to_string();
                }
            }
            word
        })
        .collect()
}

fn vector(words: &[String], idf: &HashMap<String, f64>) -> HashMap<String, f64> {
    let mut counts: HashMap<String, f64> = HashMap::new();
    for word in words {
        *counts.entry(word.clone()).or_default() += 1.0;
    }
    counts
        .into_iter()
        .map(|(word, count)| {
            let weight = idf.get(&word).copied().unwrap_or(1.0);
            (word, count * weight)
        })
        .collect()
}

fn cosine(a: &HashMap<String, f64>, b: &HashMap<String, f64>) -> f64 {
    let dot: f64 = a.iter().filter_map(|(w, x)| b.get(w).map(|y| x * y)).sum();
    let norm = |v: &HashMap<String, f64>| v.values().map(|x| x * x).sum::<f64>().sqrt();
    let denominator = norm(a) * norm(b);
    if denominator == 0.0 {
        0.0
    } else {
        dot / denominator
    }
}

/// Ranks `docs` by likeness to the text and themes; returns (index, score) best first, scores
/// above zero only.
pub fn rank(text: &str, themes: &[String], docs: &[Model], limit: usize) -> Vec<(usize, f64)> {
    let doc_words: Vec<Vec<String>> = docs
        .iter()
        .map(|d| tokens(&format!("{} {}", d.title, d.body)))
        .collect();
    let mut document_frequency: HashMap<String, usize> = HashMap::new();
    for words in &doc_words {
        for word in words.iter().collect::<HashSet<_>>() {
            *document_frequency.entry(word.clone()).or_default() += 1;
        }
    }
    let total = docs.len() as f64;
    let idf: HashMap<String, f64> = document_frequency
        .into_iter()
        .map(|(word, df)| (word, ((total + 1.0) / (df as f64 + 1.0)).ln() + 1.0))
        .collect();
    let query = vector(&tokens(text), &idf);
    let query_themes: HashSet<&str> = themes.iter().map(String::as_str).collect();
    let mut scored: Vec<(usize, f64)> = docs
        .iter()
        .zip(doc_words.iter())
        .enumerate()
        .map(|(index, (doc, words))| {
            let text_score = cosine(&query, &vector(words, &idf));
            let doc_themes: HashSet<String> = doc.theme_codes().into_iter().collect();
            let shared = doc_themes
                .iter()
                .filter(|t| query_themes.contains(t.as_str()))
                .count();
            let union = doc_themes.len() + query_themes.len() - shared;
            let theme_score = if union == 0 {
                0.0
            } else {
                shared as f64 / union as f64
            };
            (index, 0.75 * text_score + 0.25 * theme_score)
        })
        .filter(|(_, score)| *score > 0.0)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(limit);
    scored
}

/// The earlier findings and lessons most like this text and these themes, that the reader may
/// see, leaving out `exclude` (the item itself).
pub async fn similar(
    db: &impl ConnectionTrait,
    text: &str,
    themes: &[String],
    exclude: Option<Uuid>,
    reader: &Reader,
    limit: usize,
) -> CoreResult<Vec<(Model, f64)>> {
    let docs: Vec<Model> = Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|doc| {
            Some(doc.source_id) != exclude
                && reader.may_read(doc)
                && doc.source_kind != "recommendation"
        })
        .collect();
    let ranked = rank(text, themes, &docs, limit);
    Ok(ranked
        .into_iter()
        .map(|(index, score)| (docs[index].clone(), score))
        .collect())
}

/// The earlier learning kept for each finding and lesson when it was saved.
pub mod kept {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "similar_learning")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub source_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub similar_source_id: Uuid,
        pub score: f64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// How many of the most similar are kept per finding or lesson: enough for any reader after
/// what they may not see is left out.
const KEPT: usize = 20;

/// Ranks the library against a finding or lesson as it is saved and keeps the best.
pub async fn remember(
    db: &impl ConnectionTrait,
    source_id: Uuid,
    text: &str,
    themes: &[String],
) -> CoreResult<()> {
    let found = similar(db, text, themes, Some(source_id), &Reader::Everything, KEPT).await?;
    kept::Entity::delete_many()
        .filter(kept::Column::SourceId.eq(source_id))
        .exec(db)
        .await?;
    for (doc, score) in found {
        kept::Entity::insert(kept::ActiveModel {
            source_id: Set(source_id),
            similar_source_id: Set(doc.source_id),
            score: Set(score),
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Ranks every finding and lesson again against the whole library (after seeding or an
/// import, when they were saved before the learning they resemble).
pub async fn remember_everything(db: &impl ConnectionTrait) -> CoreResult<()> {
    let live: Vec<Model> = Entity::find()
        .filter(super::Column::Frozen.eq(false))
        .filter(super::Column::SourceKind.ne("recommendation"))
        .all(db)
        .await?;
    for doc in live {
        remember(
            db,
            doc.source_id,
            &format!("{} {}", doc.title, doc.body),
            &doc.theme_codes(),
        )
        .await?;
    }
    Ok(())
}

/// What was kept for each of `source_ids`, in the copies this reader may see, best first.
pub async fn remembered(
    db: &impl ConnectionTrait,
    source_ids: &[Uuid],
    reader: &Reader,
    limit: usize,
) -> CoreResult<HashMap<Uuid, Vec<(Model, f64)>>> {
    let mut result: HashMap<Uuid, Vec<(Model, f64)>> = HashMap::new();
    if source_ids.is_empty() {
        return Ok(result);
    }
    let rows = kept::Entity::find()
        .filter(kept::Column::SourceId.is_in(source_ids.to_vec()))
        .order_by_desc(kept::Column::Score)
        .all(db)
        .await?;
    let wanted: HashSet<Uuid> = rows.iter().map(|row| row.similar_source_id).collect();
    let docs: HashMap<Uuid, Model> = Entity::find()
        .filter(super::Column::SourceId.is_in(wanted.into_iter().collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .filter(|doc| reader.may_read(doc))
        .map(|doc| (doc.source_id, doc))
        .collect();
    for row in rows {
        let list = result.entry(row.source_id).or_default();
        if list.len() < limit
            && let Some(doc) = docs.get(&row.similar_source_id)
        {
            list.push((doc.clone(), row.score));
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::tokens;

    #[test]
    fn words_are_stemmed_and_common_words_dropped() {
        assert_eq!(
            tokens("The sharing of information was shared"),
            ["shar", "information", "shar"]
        );
    }
}
