//! The demo's learning library: lessons from several years, in every stage of the loop, with
//! the themes that keep coming back (information sharing, professional curiosity, fathers and
//! male carers, self-neglect, mental capacity). All fictional.

use chrono::{DateTime, Days, Months, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::entity::prelude::*;

use crate::error::CoreResult;
use crate::learning::{self, evidence};
use crate::{CoreError, agencies, partnerships};

/// (title, lesson, source, themes, months ago identified, stage reached 0-3, published, agencies)
type Seed = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    u32,
    u8,
    bool,
    &'static [&'static str],
);

const SEEDS: [Seed; 20] = [
    (
        "Concerns held in silos",
        "Each agency knew part of the picture about the family; nobody shared concerns across agencies until the crisis.",
        "review_finding",
        &["information_sharing", "multi_agency_working"],
        80,
        3,
        true,
        &["fbc-childrens", "wealdshire-police", "wch-nhs"],
    ),
    (
        "Fathers invisible to services",
        "The father lived in the household but no agency assessed him or asked about his role in caring for the baby.",
        "review_finding",
        &["fathers_male_carers", "risk_assessment"],
        74,
        3,
        true,
        &["fbc-childrens", "wch-nhs"],
    ),
    (
        "Professional curiosity about explanations",
        "Practitioners accepted the parents' account of bruising without checking it against what they saw.",
        "review_finding",
        &["professional_curiosity", "physical"],
        66,
        3,
        true,
        &["fbc-childrens", "fgp-fed"],
    ),
    (
        "Self-neglect and the right to refuse",
        "Staff treated repeated refusals of help as a lifestyle choice without assessing mental capacity for specific decisions.",
        "review_finding",
        &["self_neglect", "mental_capacity"],
        62,
        3,
        true,
        &["fbc-adults", "wch-nhs"],
    ),
    (
        "Information sharing at the front door",
        "Police domestic abuse notifications reached children's services but were not shared with the health visitor.",
        "audit",
        &["information_sharing", "domestic_abuse"],
        55,
        2,
        true,
        &["wealdshire-police", "fbc-childrens", "wch-nhs"],
    ),
    (
        "Escalation when a plan stalls",
        "When a child protection plan drifted, no practitioner used the escalation procedure.",
        "practitioner_feedback",
        &["escalation", "neglect"],
        50,
        2,
        false,
        &["fbc-childrens", "fb-schools"],
    ),
    (
        "Male carers in pre-birth assessments",
        "Pre-birth assessments again focused on the mother; the new partner's history was not checked.",
        "review_finding",
        &["fathers_male_carers", "risk_assessment"],
        44,
        2,
        true,
        &["fbc-childrens", "wch-nhs"],
    ),
    (
        "Hoarding and fire risk",
        "Hoarding was recorded by several agencies but the fire service was never told.",
        "review_finding",
        &["self_neglect", "information_sharing"],
        40,
        3,
        true,
        &["fbc-adults", "fb-homes"],
    ),
    (
        "Capacity assessments recorded as a tick box",
        "Mental capacity was recorded as assumed without a decision-specific assessment.",
        "audit",
        &["mental_capacity"],
        36,
        2,
        false,
        &["fbc-adults", "wmh-nhs"],
    ),
    (
        "The child's own words",
        "Records described the teenager through adults' eyes; her own account of exploitation was not written down.",
        "review_finding",
        &["voice_of_the_person", "exploitation"],
        32,
        1,
        true,
        &["fbc-childrens", "fb-schools", "wealdshire-police"],
    ),
    (
        "Curiosity about who else lives at home",
        "Visitors did not ask who else lived at the address, missing a risky adult in the home.",
        "review_finding",
        &["professional_curiosity", "fathers_male_carers"],
        28,
        1,
        true,
        &["fbc-childrens", "wealdshire-police"],
    ),
    (
        "Transition to adult services",
        "At 18 the young person's support stopped; adult services had not been told of the risks.",
        "complaint",
        &["transitions", "information_sharing"],
        24,
        1,
        false,
        &["fbc-childrens", "fbc-adults"],
    ),
    (
        "Financial abuse by acquaintances",
        "Bank and social care each saw signs of financial exploitation and neither shared them.",
        "review_finding",
        &["financial", "information_sharing"],
        20,
        1,
        true,
        &["fbc-adults", "wealdshire-police"],
    ),
    (
        "Supervision that asks about drift",
        "Good practice: a supervision template that asks what has changed for the child since the last review.",
        "good_practice",
        &["supervision"],
        16,
        2,
        true,
        &["fbc-childrens"],
    ),
    (
        "Safe sleep advice to both parents",
        "Safe sleep advice was given only to the mother; the father, who did the night feeds, never heard it.",
        "external",
        &["safe_sleep", "fathers_male_carers"],
        14,
        1,
        true,
        &["wch-nhs"],
    ),
    (
        "Neglect tool not used",
        "The neglect screening tool was available but not built into case recording, so it was skipped.",
        "audit",
        &["neglect"],
        10,
        0,
        false,
        &["fbc-childrens"],
    ),
    (
        "Self-neglect referrals closed without a visit",
        "Three referrals about the same man were closed after phone calls he did not answer.",
        "review_finding",
        &["self_neglect", "professional_curiosity"],
        6,
        0,
        true,
        &["fbc-adults", "fgp-fed"],
    ),
    (
        "Sharing information about missed appointments",
        "Missed mental health appointments were not shared with the GP or the care agency.",
        "whistleblowing",
        &["information_sharing", "parental_mental_health"],
        4,
        0,
        false,
        &["wmh-nhs", "fgp-fed"],
    ),
    (
        "Professional disputes about thresholds",
        "A disagreement about threshold went unresolved for weeks because nobody used the dispute resolution route.",
        "professional_dispute",
        &["escalation", "multi_agency_working"],
        3,
        0,
        false,
        &["fbc-childrens", "wealdshire-police"],
    ),
    (
        "Family feedback on being heard",
        "A family told the board they were never asked what they thought would help.",
        "family_feedback",
        &["voice_of_the_person"],
        2,
        0,
        true,
        &["fbc-adults"],
    ),
];

/// Seeds the demo's learning items once.
pub async fn seed(db: &impl ConnectionTrait, now: DateTime<Utc>, manager: Uuid) -> CoreResult<()> {
    if learning::Entity::find().one(db).await?.is_some() {
        return Ok(());
    }
    let children = partnerships::find_by_code(db, "fernbridge-cssp")
        .await?
        .ok_or(CoreError::NotFound)?
        .id;
    let adults = partnerships::find_by_code(db, "fernbridge-sab")
        .await?
        .ok_or(CoreError::NotFound)?
        .id;
    let today = now.date_naive();
    for (title, lesson, source, themes, months, stage, published, agency_codes) in SEEDS {
        let mut agency_ids = Vec::new();
        for code in agency_codes {
            agency_ids.push(
                agencies::find_by_code(db, code)
                    .await?
                    .ok_or(CoreError::NotFound)?
                    .id,
            );
        }
        let identified = today
            .checked_sub_months(Months::new(months))
            .unwrap_or(today);
        let adult_themes = themes
            .iter()
            .any(|t| matches!(*t, "self_neglect" | "mental_capacity" | "financial"));
        let item = learning::create(
            db,
            &learning::NewItem {
                title: title.to_string(),
                lesson: lesson.to_string(),
                source_kind: source.to_string(),
                source_entry_id: None,
                why_it_matters: "The same finding has come back in more than one review.".to_string(),
                do_differently: "Ask the question the review says was missed.\nRecord the answer and share it with the other agencies involved.".to_string(),
                supervision_questions: String::new(),
                more_info: "Fernbridge learning library; the partnership's procedures.".to_string(),
                themes: themes.iter().map(|t| String::from(*t)).collect(),
                partnership_ids: vec![if adult_themes { adults } else { children }],
                agency_ids: agency_ids.clone(),
                published: false,
                identified_on: identified.format("%Y-%m-%d").to_string(),
            },
            manager,
            now,
        )
        .await?;
        if published {
            // Through the same check and confirmation as any publication.
            learning::publication::publish(
                db,
                item.id,
                &crate::reviews::publication::Confirmation {
                    intruder_check: true,
                    late_reason: String::new(),
                },
                item.version,
            )
            .await?;
        }
        let later = |days: u64| {
            identified
                .checked_add_days(Days::new(days))
                .unwrap_or(identified)
                .min(today)
        };
        if stage >= 1 {
            let dissemination = evidence::disseminate(
                db,
                item.id,
                &evidence::DisseminationInput {
                    channel: if stage >= 2 {
                        "seven_minute_briefing"
                    } else {
                        "multi_agency_briefing"
                    }
                    .to_string(),
                    held_on: later(40).format("%Y-%m-%d").to_string(),
                    audience: "Front-line practitioners and team managers".to_string(),
                    people_reached: (20 + months % 60).to_string(),
                    // The last agency concerned is not reached, so the measure has something to show.
                    agency_ids: agency_ids
                        .iter()
                        .take(agency_ids.len().saturating_sub(usize::from(stage == 1)))
                        .copied()
                        .collect(),
                },
                manager,
                now,
            )
            .await?;
            if stage >= 2
                && let Some(first) = agency_ids.first()
            {
                evidence::confirm(db, dissemination.id, *first, manager, later(55)).await?;
            }
        }
        if stage >= 2 {
            evidence::add(
                db,
                item.id,
                &evidence::EvidenceInput {
                    stage: "embedded".to_string(),
                    kind: "policy_changed".to_string(),
                    details: "The multi-agency procedure now includes the question; the training course was updated.".to_string(),
                    evidenced_on: later(120).format("%Y-%m-%d").to_string(),
                    kirkpatrick_level: None,
                },
                manager,
                now,
            )
            .await?;
        }
        if stage >= 3 {
            evidence::add(
                db,
                item.id,
                &evidence::EvidenceInput {
                    stage: "evaluated".to_string(),
                    kind: "training_evaluation".to_string(),
                    details: "Follow-up survey three months after training: practitioners report asking the question routinely; case audit agrees.".to_string(),
                    evidenced_on: later(300).format("%Y-%m-%d").to_string(),
                    kirkpatrick_level: Some("3".to_string()),
                },
                manager,
                now,
            )
            .await?;
        }
    }
    Ok(())
}
