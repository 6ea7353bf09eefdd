//! A data generator for measuring learnloop at scale: on top of the demo partnership, N times a
//! base of 50 cases, 20 reviews (with their stages, findings and recommendations), 1,000 actions
//! with their updates, 500 learning items and a year of audit trail (5,000 entries), all
//! fictional and written in batches so N = 100 takes minutes, not hours. Deterministic: the
//! same N gives the same data.

use chrono::{DateTime, Datelike, Days, TimeDelta, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::error::{CoreError, CoreResult};
use crate::{
    actions, agencies, audit, cases, learning, library, partnerships, people, reviews, themes,
};

/// The base quantities, multiplied by the scale.
pub const BASE_CASES: usize = 50;
pub const BASE_REVIEWS: usize = 20;
pub const BASE_ACTIONS: usize = 1_000;
pub const BASE_LEARNING: usize = 500;
pub const BASE_AUDIT: usize = 5_000;

/// Rows written per statement.
const BATCH: usize = 500;

/// A small deterministic generator (xorshift), so runs are repeatable.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const PHRASES: [&str; 12] = [
    "agencies did not share what they knew about the risks",
    "the father's role in the household was not explored",
    "repeated refusals of help were not assessed for mental capacity",
    "practitioners accepted explanations for injuries without curiosity",
    "the child's own words were not recorded",
    "supervision did not challenge drift in the plan",
    "missed appointments were not followed up with the GP",
    "hoarding and fire risk were never reported to the fire service",
    "domestic abuse notifications stayed with the police",
    "the escalation procedure was not used when the plan stalled",
    "transition to adult services lost the history of exploitation",
    "financial abuse signs were seen by the bank and social care separately",
];

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generated {
    pub cases: usize,
    pub reviews: usize,
    pub actions: usize,
    pub updates: usize,
    pub learning_items: usize,
    pub audit_entries: usize,
}

async fn insert_batches<A, E>(db: &impl ConnectionTrait, rows: Vec<A>) -> CoreResult<()>
where
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
    E: EntityTrait,
{
    let mut rows = rows;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(BATCH));
        E::insert_many(rows).exec_without_returning(db).await?;
        rows = rest;
    }
    Ok(())
}

/// Generates N times the base on top of the seeded demo; `progress(step, done, total)` is
/// called as it goes. Call inside one write transaction per call (or none, for speed: each
/// batch is its own statement).
pub async fn generate(
    db: &impl ConnectionTrait,
    scale: usize,
    now: DateTime<Utc>,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> CoreResult<Generated> {
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ u64::try_from(scale).unwrap_or(1));
    let today = now.date_naive();
    let agency_ids: Vec<Uuid> = agencies::list(db)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    let partnership_ids: Vec<Uuid> = partnerships::list(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let person_ids: Vec<Uuid> = people::list(db).await?.into_iter().map(|p| p.id).collect();
    let theme_codes: Vec<String> = themes::list(db)
        .await?
        .into_iter()
        .map(|t| t.code)
        .collect();
    if agency_ids.is_empty() || person_ids.is_empty() || partnership_ids.is_empty() {
        return Err(CoreError::invalid(
            "scale",
            "Seed the demo first: the generator builds on its agencies and people",
        ));
    }
    let author = person_ids[0];
    let mut generated = Generated::default();

    // Cases, spread over twenty years.
    let case_count = BASE_CASES * scale;
    let mut case_rows = Vec::new();
    let mut case_links = Vec::new();
    let mut case_partners = Vec::new();
    let mut case_ids = Vec::new();
    for index in 0..case_count {
        let id = Uuid::now_v7();
        let aware = today - Days::new(u64::try_from(dice.below(7_300)).unwrap_or(0));
        let child = index % 2 == 0;
        case_rows.push(cases::entity::ActiveModel {
            id: Set(id),
            reference: Set(format!("G-{}-{:06}", aware.year(), index + 1)),
            subject_kind: Set(if child { "child" } else { "adult" }.to_string()),
            incident_kind: Set(String::from(*dice.pick(&[
                "death",
                "serious_harm",
                "other",
            ]))),
            aware_on: Set(aware),
            summary: Set(format!("Generated case: {}.", dice.pick(&PHRASES))),
            pseudonym: Set(format!(
                "{} G{}",
                if child { "Child" } else { "Adult" },
                index + 1
            )),
            age_band: Set(if child { "5 to 9" } else { "25 to 64" }.to_string()),
            subject_name: Set(None),
            subject_dob: Set(None),
            referrer: Set("Generated".to_string()),
            inquest: Set(false),
            criminal_proceedings: Set(false),
            police_investigation: Set(false),
            coroner: Set(false),
            national_panel_notified_on: Set(None),
            national_panel_notified_by: Set(None),
            status: Set(if aware < today - Days::new(400) {
                "closed"
            } else {
                "open"
            }
            .to_string()),
            created_by: Set(author),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        });
        let mut chosen: Vec<Uuid> = (0..3).map(|_| *dice.pick(&agency_ids)).collect();
        chosen.sort();
        chosen.dedup();
        for agency in chosen {
            case_links.push(cases::entity::agencies::ActiveModel {
                case_id: Set(id),
                agency_id: Set(agency),
            });
        }
        case_partners.push(cases::entity::partnerships::ActiveModel {
            case_id: Set(id),
            partnership_id: Set(*dice.pick(&partnership_ids)),
        });
        case_ids.push((id, aware));
    }
    insert_batches(db, case_rows).await?;
    insert_batches(db, case_links).await?;
    insert_batches(db, case_partners).await?;
    generated.cases = case_count;
    progress("cases", case_count, case_count);

    // Reviews with stages and entries, indexed in the library.
    let review_count = BASE_REVIEWS * scale;
    let mut review_ids = Vec::new();
    for index in 0..review_count {
        let (case_id, aware) = case_ids[index % case_ids.len()];
        let commissioned = aware + Days::new(20);
        let kind = *dice.pick(&["cspr_local", "sar", "dhr", "learning_review"]);
        let review = reviews::commission(
            db,
            reviews::NewReview {
                id: None,
                case_id,
                review_type_code: kind,
                commissioned_on: commissioned.min(today),
                origin: reviews::Origin::Direct,
                partnership_id: None,
            },
            now,
        )
        .await?;
        review_ids.push(review.id);
        let mut entry_rows = Vec::new();
        let mut tag_rows = Vec::new();
        let mut addressee_rows = Vec::new();
        for (position, kind) in [
            "finding",
            "finding",
            "finding",
            "recommendation",
            "recommendation",
        ]
        .iter()
        .enumerate()
        {
            let id = Uuid::now_v7();
            entry_rows.push(reviews::entries::ActiveModel {
                id: Set(id),
                review_id: Set(review.id),
                kind: Set(String::from(*kind)),
                position: Set(i32::try_from(position).unwrap_or(0)),
                title: Set(format!(
                    "{} {}",
                    if *kind == "finding" {
                        "Finding"
                    } else {
                        "Recommendation"
                    },
                    index * 5 + position + 1
                )),
                body: Set(format!("In this review {}.", dice.pick(&PHRASES))),
                created_at: Set(commissioned
                    .and_hms_opt(12, 0, 0)
                    .map(|t| t.and_utc())
                    .unwrap_or(now)),
            });
            tag_rows.push(reviews::entries::tags::ActiveModel {
                entry_id: Set(id),
                theme_code: Set(dice.pick(&theme_codes).clone()),
            });
            if *kind == "recommendation" {
                addressee_rows.push(reviews::entries::addressees::ActiveModel {
                    entry_id: Set(id),
                    agency_id: Set(*dice.pick(&agency_ids)),
                });
            }
        }
        insert_batches(db, entry_rows).await?;
        insert_batches(db, tag_rows).await?;
        insert_batches(db, addressee_rows).await?;
        reviews::entries::index_in_library(db, review.id).await?;
        if index % 20 == 0 || index + 1 == review_count {
            progress("reviews", index + 1, review_count);
        }
    }
    generated.reviews = review_count;

    // Actions, each with a first update and a progress update.
    let action_count = BASE_ACTIONS * scale;
    let statuses = [
        "not_started",
        "on_track",
        "at_risk",
        "off_track",
        "completed",
        "closed",
    ];
    let mut done = 0;
    while done < action_count {
        let chunk = (action_count - done).min(5_000);
        let mut action_rows = Vec::new();
        let mut update_rows = Vec::new();
        let mut theme_rows = Vec::new();
        for offset in 0..chunk {
            let number = done + offset + 1;
            let id = Uuid::now_v7();
            let due = today + TimeDelta::days(i64::try_from(dice.below(720)).unwrap_or(0) - 360);
            let status = *dice.pick(&statuses);
            action_rows.push(actions::ActiveModel {
                id: Set(id),
                reference: Set(format!("GEN-{number:07}")),
                plan_id: Set(None),
                source_kind: Set(dice.pick(&actions::SOURCES).0.to_string()),
                source_entry_id: Set(None),
                review_id: Set(Some(review_ids[number % review_ids.len().max(1)])),
                description: Set(format!("Make sure that {}", dice.pick(&PHRASES))),
                owner_agency_id: Set(*dice.pick(&agency_ids)),
                lead_person_id: Set(Some(*dice.pick(&person_ids))),
                due_on: Set(due),
                intended_outcome: Set("Practice changes and the change is evidenced".to_string()),
                success_evidence: Set("Re-audit".to_string()),
                status: Set(status.to_string()),
                status_on: Set(today),
                signed_off_on: Set(None),
                signed_off_by: Set(None),
                escalated_on: Set(None),
                version: Set(2),
                created_at: Set(now),
                updated_at: Set(now),
            });
            for (narrative, state) in [
                ("Action agreed.", "not_started"),
                ("Progress reported at the group.", status),
            ] {
                update_rows.push(actions::updates::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    action_id: Set(id),
                    status: Set(state.to_string()),
                    narrative: Set(narrative.to_string()),
                    written_by: Set(author),
                    written_at: Set(now),
                });
            }
            theme_rows.push(actions::tags::ActiveModel {
                action_id: Set(id),
                theme_code: Set(dice.pick(&theme_codes).clone()),
            });
        }
        insert_batches(db, action_rows).await?;
        generated.updates += update_rows.len();
        insert_batches(db, update_rows).await?;
        insert_batches(db, theme_rows).await?;
        done += chunk;
        progress("actions", done, action_count);
    }
    generated.actions = action_count;

    // Learning items over twenty years, indexed in the library.
    let item_count = BASE_LEARNING * scale;
    let mut done = 0;
    while done < item_count {
        let chunk = (item_count - done).min(2_000);
        let mut item_rows = Vec::new();
        let mut theme_rows = Vec::new();
        let mut docs = Vec::new();
        for offset in 0..chunk {
            let id = Uuid::now_v7();
            let identified = today - Days::new(u64::try_from(dice.below(7_300)).unwrap_or(0));
            let phrase = dice.pick(&PHRASES);
            let theme = dice.pick(&theme_codes).clone();
            let published = dice.below(3) > 0;
            let title = format!(
                "Lesson {}: {}",
                done + offset + 1,
                phrase
                    .split_whitespace()
                    .take(5)
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            let lesson = format!("We learned that {phrase}.");
            item_rows.push(learning::ActiveModel {
                id: Set(id),
                title: Set(title.clone()),
                lesson: Set(lesson.clone()),
                source_kind: Set("review_finding".to_string()),
                source_entry_id: Set(None),
                review_id: Set(None),
                why_it_matters: Set(String::new()),
                do_differently: Set(String::new()),
                supervision_questions: Set(String::new()),
                more_info: Set(String::new()),
                published: Set(published),
                identified_on: Set(identified),
                created_by: Set(author),
                created_at: Set(now),
                version: Set(1),
            });
            theme_rows.push(learning::item_themes::ActiveModel {
                item_id: Set(id),
                theme_code: Set(theme.clone()),
            });
            let doc = library::Model {
                id: Uuid::now_v7(),
                source_kind: "learning_item".to_string(),
                source_id: id,
                title,
                body: lesson,
                themes: format!(" {theme} "),
                review_type: String::new(),
                agency_ids: format!(" {} ", dice.pick(&agency_ids)),
                partnership_ids: String::new(),
                dated_on: identified,
                public: published,
                frozen: false,
                published_from: None,
            };
            // Generated lessons count as published through the check: a frozen copy each.
            if published {
                docs.push(library::to_active(library::Model {
                    id: Uuid::now_v7(),
                    frozen: true,
                    published_from: Some(id),
                    ..doc.clone()
                }));
            }
            docs.push(library::to_active(doc));
        }
        insert_batches(db, item_rows).await?;
        insert_batches(db, theme_rows).await?;
        insert_batches(db, docs).await?;
        done += chunk;
        progress("learning items", done, item_count);
    }
    generated.learning_items = item_count;

    // A year of audit trail, chained from the current head.
    let entries = BASE_AUDIT * scale;
    let head = audit::head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| CoreError::Conflict("the audit head is missing".to_string()))?;
    let (mut seq, mut hash) = (head.seq, head.hash);
    let start = now - TimeDelta::days(365);
    let step = TimeDelta::milliseconds(
        (365 * 24 * 3_600_000 / i64::try_from(entries.max(1)).unwrap_or(1)).max(1),
    );
    let mut written = 0;
    while written < entries {
        let chunk = (entries - written).min(5_000);
        let mut rows = Vec::new();
        for offset in 0..chunk {
            seq += 1;
            let mut entry = audit::Model {
                seq,
                at: crate::clock::truncate(
                    start + step * i32::try_from(written + offset).unwrap_or(0),
                ),
                actor_person_id: Some(*dice.pick(&person_ids)),
                actor_agency_id: Some(*dice.pick(&agency_ids)),
                actor_role: Some("business_manager".to_string()),
                action: String::from(*dice.pick(&[
                    "case.view",
                    "review.view",
                    "action.view",
                    "action.updated",
                    "dashboard.view",
                ])),
                record_type: Some("case".to_string()),
                record_id: Some(case_ids[dice.below(case_ids.len())].0.to_string()),
                source: Some("127.0.0.1".to_string()),
                reason: None,
                outcome: "allowed".to_string(),
                prev_hash: hash.clone(),
                hash: String::new(),
            };
            entry.hash = audit::entry_hash(&entry);
            hash = entry.hash.clone();
            rows.push(audit::ActiveModel::from(entry));
        }
        insert_batches(db, rows).await?;
        written += chunk;
        progress("audit trail", written, entries);
    }
    audit::head::Entity::update(audit::head::ActiveModel {
        id: Set(1),
        seq: Set(seq),
        hash: Set(hash),
    })
    .exec(db)
    .await?;
    generated.audit_entries = entries;
    // Fresh statistics, so the first queries after a bulk load are planned for its size
    // rather than for the empty tables autovacuum last saw.
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
    Ok(generated)
}
