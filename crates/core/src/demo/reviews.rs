//! The demo's reviews, one in each part of the journey: scoping, information gathering,
//! analysis with the demo reviewer appointed, sign-off held for a criminal trial, published
//! with its action plan under way, and complete. Every name, place and reference is fictional.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use super::DEMO_REVIEW_ID;
use crate::access::grants;
use crate::calendar::Calendar;
use crate::error::CoreResult;
use crate::review_types as types;
use crate::reviews::{
    self, NewReview, Origin, contributions, entries, people as review_people, publication, stages,
    voices,
};
use crate::{CoreError, agencies, partnerships, people};

/// A demo review: (pseudonym, child, type, working days since commissioning, stage to stop
/// before, published).
struct Seed {
    pseudonym: &'static str,
    child: bool,
    incident: &'static str,
    band: &'static str,
    agency_codes: &'static [&'static str],
    summary: &'static str,
    review_type: &'static str,
    days_ago: u32,
    stop_before: &'static str,
    publish: bool,
    hold: Option<&'static str>,
}

const SEEDS: [Seed; 5] = [
    Seed {
        pseudonym: "Adult D",
        child: false,
        incident: "death",
        band: "65 to 84",
        agency_codes: &["fbc-adults", "wch-nhs", "fgp-fed", "wealdshire-police"],
        summary: "Man living alone died after a long period of self-neglect; several agencies had raised concerns that were not brought together.",
        review_type: types::SAR,
        days_ago: 80,
        stop_before: "analysis",
        publish: false,
        hold: None,
    },
    Seed {
        pseudonym: "Child B",
        child: true,
        incident: "serious_harm",
        band: "1 to 4",
        agency_codes: &["fbc-childrens", "wch-nhs", "fgp-fed", "wealdshire-police"],
        summary: "Toddler suffered serious injuries from neglect; the father's role in the household was not known to agencies.",
        review_type: types::CSPR_LOCAL,
        days_ago: 520,
        stop_before: "",
        publish: true,
        hold: None,
    },
    Seed {
        pseudonym: "Adult H",
        child: false,
        incident: "death",
        band: "25 to 64",
        agency_codes: &["fbc-adults", "wmh-nhs", "fb-homes"],
        summary: "Woman with mental health needs died in a house fire; questions about mental capacity assessments and hoarding.",
        review_type: types::SAR,
        days_ago: 200,
        stop_before: "action_plan",
        publish: true,
        hold: None,
    },
    Seed {
        pseudonym: "Adult G",
        child: false,
        incident: "death",
        band: "25 to 64",
        agency_codes: &["wealdshire-police", "probation-wealdshire", "fb-voluntary"],
        summary: "Woman killed by her partner; a domestic abuse related death review awaits the criminal trial.",
        review_type: types::DHR,
        days_ago: 150,
        stop_before: "sign_off",
        publish: false,
        hold: Some(
            "Criminal trial of the alleged perpetrator is listed; publication waits for the verdict",
        ),
    },
    Seed {
        pseudonym: "Child E",
        child: true,
        incident: "other",
        band: "10 to 15",
        agency_codes: &["fbc-childrens", "fb-schools"],
        summary: "Near miss: a child missing from education for a term before anyone shared the concern.",
        review_type: types::LEARNING_REVIEW,
        days_ago: 60,
        stop_before: "information_gathering",
        publish: false,
        hold: None,
    },
];

fn text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

async fn agency_id(db: &impl ConnectionTrait, code: &str) -> CoreResult<Uuid> {
    Ok(agencies::find_by_code(db, code)
        .await?
        .ok_or(CoreError::NotFound)?
        .id)
}

/// Completes the stages in order up to `stop_before` (all of them when empty), each on its due
/// date or `today` if that is earlier; publication is left to `publication::publish`.
async fn advance(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    stop_before: &str,
    calendar: &Calendar,
    today: NaiveDate,
) -> CoreResult<()> {
    for stage in stages::of_review(db, review_id).await? {
        if stage.completed_on.is_some() {
            continue;
        }
        if stage.stage_key == stop_before || stage.stage_key == types::PUBLICATION {
            return Ok(());
        }
        let on = stage.due_on.unwrap_or(today).min(today);
        stages::complete(
            db,
            review_id,
            &stage.stage_key,
            &text(on),
            "",
            calendar,
            today,
        )
        .await?;
    }
    Ok(())
}

async fn content(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    seed: &Seed,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    let first = agency_id(db, seed.agency_codes[0]).await?;
    let second = agency_id(db, seed.agency_codes[1]).await?;
    let (themes_a, themes_b): (&[&str], &[&str]) = if seed.child {
        (
            &["neglect", "fathers_male_carers"],
            &["information_sharing", "professional_curiosity"],
        )
    } else if seed.review_type == types::DHR {
        (
            &["domestic_abuse", "risk_assessment"],
            &["multi_agency_working"],
        )
    } else {
        (
            &["self_neglect", "mental_capacity"],
            &["information_sharing", "escalation"],
        )
    };
    let add = |kind: &str, title: &str, body: &str, agency_ids: Vec<Uuid>, themes: &[&str]| {
        entries::EntryInput {
            kind: kind.to_string(),
            title: title.to_string(),
            body: body.to_string(),
            agency_ids,
            themes: themes.iter().map(|t| String::from(*t)).collect(),
        }
    };
    for input in [
        add(
            "line_of_enquiry",
            "How well did agencies share what they knew?",
            "",
            vec![],
            &[],
        ),
        add(
            "key_practice_episode",
            "The missed home visit",
            "A planned visit did not happen and was not rearranged for six weeks.",
            vec![],
            &[],
        ),
        add(
            "finding",
            "Concerns were held separately by each agency",
            "Each agency knew part of the picture; no meeting brought the concerns together, and nobody owned the whole.",
            vec![],
            themes_b,
        ),
        add(
            "finding",
            "The person's own view was not sought",
            "Records describe the person through others' eyes; there is little of what they wanted.",
            vec![],
            themes_a,
        ),
        add(
            "recommendation",
            "Agree a multi-agency escalation route",
            "The partnership should agree and publish how practitioners escalate shared concerns when a single agency's action has not worked.",
            vec![first, second],
            themes_b,
        ),
        add(
            "good_practice",
            "Persistent outreach by the community nurse",
            "The nurse kept visiting and recorded the person's words carefully.",
            vec![],
            &[],
        ),
    ] {
        entries::add(db, review_id, &input, now).await?;
    }
    Ok(())
}

/// Seeds the demo reviews once (the demo reviewer's review marks that it was done).
pub async fn seed(db: &impl ConnectionTrait, now: DateTime<Utc>, manager: Uuid) -> CoreResult<()> {
    if reviews::Entity::find_by_id(DEMO_REVIEW_ID)
        .one(db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let calendar = crate::calendar::store::load(db).await?;
    let today = now.date_naive();
    let children = partnerships::find_by_code(db, "fernbridge-cssp")
        .await?
        .ok_or(CoreError::NotFound)?;
    let adults = partnerships::find_by_code(db, "fernbridge-sab")
        .await?
        .ok_or(CoreError::NotFound)?;
    let community = partnerships::find_by_code(db, "fernbridge-csp")
        .await?
        .ok_or(CoreError::NotFound)?;
    for seed in &SEEDS {
        let mut agency_ids = Vec::new();
        for code in seed.agency_codes {
            agency_ids.push(agency_id(db, code).await?);
        }
        let commissioned = calendar.subtract_working_days(today, seed.days_ago);
        let aware = calendar.subtract_working_days(commissioned, 15);
        let partnership = if seed.child {
            children.id
        } else if seed.review_type == types::DHR {
            community.id
        } else {
            adults.id
        };
        let record = crate::cases::create(
            db,
            crate::cases::CaseInput {
                subject_kind: if seed.child { "child" } else { "adult" }.to_string(),
                incident_kind: seed.incident.to_string(),
                aware_on: text(aware),
                summary: seed.summary.to_string(),
                pseudonym: seed.pseudonym.to_string(),
                age_band: seed.band.to_string(),
                subject_name: Some(format!(
                    "Demo Quennell {}",
                    &seed.pseudonym[seed.pseudonym.len() - 1..]
                )),
                subject_dob: Some("1960-04-02".to_string()),
                referrer: "Adult social care".to_string(),
                partnership_ids: vec![partnership],
                agency_ids: agency_ids.clone(),
                inquest: seed.incident == "death",
                criminal_proceedings: seed.hold.is_some(),
                police_investigation: seed.hold.is_some(),
                coroner: seed.incident == "death",
            },
            manager,
            now,
        )
        .await?;
        let case_id = record.case.id;
        publication::add_identifier(db, case_id, "address", "7 Quillon Terrace").await?;
        publication::add_identifier(db, case_id, "postcode", "FB3 9ZZ").await?;
        publication::add_identifier(db, case_id, "school", "Wrenfield Academy").await?;
        let review = reviews::commission(
            db,
            NewReview {
                id: (seed.pseudonym == "Adult D").then_some(DEMO_REVIEW_ID),
                case_id,
                review_type_code: seed.review_type,
                commissioned_on: commissioned,
                origin: Origin::Direct,
                partnership_id: Some(partnership),
            },
            now,
        )
        .await?;
        let methodology = if seed.child { "scie_systems" } else { "silp" };
        let review = reviews::update_details(
            db,
            review.id,
            &reviews::DetailsInput {
                title: review.title.clone(),
                methodology: methodology.to_string(),
                terms_of_reference: "To understand how agencies worked together, what got in the way of sharing concerns, and what would make a difference now.".to_string(),
                subject_perspective: "Family and the community nurse describe someone proud, private and wary of services, who wanted to stay in their own home.".to_string(),
            },
            review.version,
            now,
        )
        .await?;
        // Agency contributions: the first two in, the third overdue when there is one.
        for (index, agency) in agency_ids.iter().enumerate().take(3) {
            let due = calendar.add_working_days(commissioned, 30).date;
            let contribution =
                contributions::request(db, review.id, Some(*agency), "agency_report", &text(due))
                    .await?;
            if index < 2 && due <= today {
                contributions::received(db, contribution, due, None).await?;
            }
        }
        voices::add_family(
            db,
            review.id,
            &voices::FamilyInput {
                relationship: if seed.child {
                    "Grandmother"
                } else {
                    "Daughter"
                }
                .to_string(),
                name: "Demo Relative Ashdown".to_string(),
                invited_how: "Letter".to_string(),
                invited_on: text(calendar.add_working_days(commissioned, 10).date.min(today)),
                response: "took_part".to_string(),
                what_they_said: "Everyone visited but nobody seemed to talk to each other."
                    .to_string(),
                consent_recorded: true,
            },
        )
        .await?;
        if seed.days_ago > 70 {
            voices::add_practitioner_event(
                db,
                review.id,
                &voices::PractitionerInput {
                    held_on: text(calendar.add_working_days(commissioned, 60).date.min(today)),
                    kind: "Practitioner learning event".to_string(),
                    attendees: "14".to_string(),
                    agencies: "Adult social care, community health, GP practices, police"
                        .to_string(),
                },
                today,
            )
            .await?;
            content(db, review.id, seed, now).await?;
        }
        if seed.pseudonym == "Adult D" {
            let reviewer = people::find_by_email(db, "reviewer@fernbridge.example")
                .await?
                .ok_or(CoreError::NotFound)?;
            let grant = grants::of_review(db, DEMO_REVIEW_ID)
                .await?
                .into_values()
                .next();
            review_people::Entity::insert(review_people::ActiveModel {
                id: Set(Uuid::now_v7()),
                review_id: Set(review.id),
                person_id: Set(Some(reviewer.id)),
                name: Set(reviewer.name.clone()),
                role: Set("reviewer".to_string()),
                agency_id: Set(Some(reviewer.agency_id)),
                conflict_statement: Set("No work for any Fernbridge agency in the last five years; no personal connection to the family.".to_string()),
                starts_on: Set(Some(commissioned)),
                ends_on: Set(grant.as_ref().and_then(|g| g.ends_on)),
                grant_id: Set(grant.map(|g| g.id)),
                created_at: Set(now),
            })
            .exec_without_returning(db)
            .await?;
        }
        advance(db, review.id, seed.stop_before, &calendar, today).await?;
        if seed.publish {
            let publication_day = stages::of_review(db, review.id)
                .await?
                .into_iter()
                .find(|stage| stage.stage_key == types::PUBLICATION)
                .and_then(|stage| stage.due_on)
                .unwrap_or(today)
                .min(today);
            let current = reviews::get(db, review.id).await?;
            publication::save_public_text(
                db,
                review.id,
                &publication::PublicTextInput {
                    public_title: format!("{}: learning from the review", seed.pseudonym),
                    public_summary: format!("{} The review found that agencies each held part of the picture and recommends a shared escalation route.", seed.summary),
                    public_report: "The review looked at the year before the incident.\n\nAgencies each knew something about the risks; nobody brought the concerns together.\n\nThe partnership has agreed an escalation route and will check in twelve months that it is used.".to_string(),
                },
                current.version,
                now,
            )
            .await?;
            let at = publication_day
                .and_hms_opt(12, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or(now);
            publication::publish(
                db,
                review.id,
                &publication::Confirmation {
                    intruder_check: true,
                    late_reason: String::new(),
                },
                manager,
                &calendar,
                at,
            )
            .await?;
            if seed.stop_before.is_empty() {
                advance(db, review.id, "", &calendar, today).await?;
            }
        }
        if seed.publish {
            // Published and past: the case itself is closed.
            let mut case: crate::cases::entity::ActiveModel =
                crate::cases::entity::Entity::find_by_id(case_id)
                    .one(db)
                    .await?
                    .ok_or(CoreError::NotFound)?
                    .into();
            case.status = Set("closed".to_string());
            case.update(db).await?;
        }
        if let Some(reason) = seed.hold {
            let current = reviews::get(db, review.id).await?;
            publication::set_hold(db, review.id, reason, current.version, now).await?;
        }
    }
    Ok(())
}
