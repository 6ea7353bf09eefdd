//! The fictional demo partnership: Fernbridge, a children's partnership and an adults board
//! served by one team, with member agencies of the real kinds, its groups and a person for each
//! role. Every name here is invented. Seeding is idempotent: records are found by their codes
//! and email addresses before anything is created.

mod actions;
mod learning;
mod reviews;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::access::{Role, grants};
use crate::identity::{credentials, passwords};

use crate::agencies::{self, AgencyType, NewAgency};
use crate::error::CoreResult;
use crate::groups::{self, NewGroup, members};
use crate::partnerships::{self, PartnershipKind};
use crate::people::{self, NewPerson};
use crate::settings;

pub const TEAM_NAME: &str = "Fernbridge Safeguarding Partnerships";

/// Every demo person's password. Demo only: never use it for a real account.
pub const DEMO_PASSWORD: &str = "fernbridge demo only";

/// Every demo person's second-factor secret (base32), so anyone trying the demo can add it to
/// an authenticator app, and tests can compute codes.
pub const DEMO_TOTP_SECRET: &str = "FERNBRIDGEDEMOTOTPSECRET2345AAAA";

/// The review the demo's independent reviewer is appointed to (a safeguarding adults review).
pub const DEMO_REVIEW_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0501);

/// The roles of the demo people: (email, role, agency code for agency-scoped roles).
const ROLES: [(&str, Role, Option<&str>); 11] = [
    (
        "business.manager@fernbridge.example",
        Role::BusinessManager,
        None,
    ),
    (
        "review.member@fernbridge.example",
        Role::ReviewGroupMember,
        None,
    ),
    (
        "police.lead@fernbridge.example",
        Role::AgencyLead,
        Some("wealdshire-police"),
    ),
    (
        "health.lead@fernbridge.example",
        Role::AgencyLead,
        Some("fw-icb"),
    ),
    (
        "reviewer@fernbridge.example",
        Role::IndependentReviewer,
        None,
    ),
    ("executive@fernbridge.example", Role::Executive, None),
    (
        "auditor@fernbridge.example",
        Role::Auditor,
        Some("fbc-adults"),
    ),
    (
        "practitioner@fernbridge.example",
        Role::Practitioner,
        Some("wch-nhs"),
    ),
    ("admin@fernbridge.example", Role::SystemAdministrator, None),
    (
        "adults.lead@fernbridge.example",
        Role::AgencyLead,
        Some("fbc-adults"),
    ),
    (
        "adults.lead@fernbridge.example",
        Role::ReviewGroupMember,
        None,
    ),
];

/// Which partnerships an agency belongs to in the demo.
#[derive(Clone, Copy)]
enum Serves {
    Children,
    Adults,
    Both,
    AllThree,
}

const AGENCIES: [(&str, &str, AgencyType, Serves); 14] = [
    (
        "fbc-childrens",
        "Fernbridge Council Children's Services",
        AgencyType::ChildrensSocialCare,
        Serves::Children,
    ),
    (
        "fbc-adults",
        "Fernbridge Council Adult Social Care",
        AgencyType::AdultSocialCare,
        Serves::Adults,
    ),
    (
        "wealdshire-police",
        "Wealdshire Constabulary",
        AgencyType::Police,
        Serves::AllThree,
    ),
    (
        "fw-icb",
        "Fernbridge and Wealdshire Integrated Care Board",
        AgencyType::IntegratedCareBoard,
        Serves::AllThree,
    ),
    (
        "fuh-nhs",
        "Fernbridge University Hospitals NHS Trust",
        AgencyType::NhsAcuteTrust,
        Serves::Both,
    ),
    (
        "wch-nhs",
        "Wealdshire Community Health NHS Trust",
        AgencyType::NhsCommunityTrust,
        Serves::Both,
    ),
    (
        "wmh-nhs",
        "Wealdshire Mental Health NHS Trust",
        AgencyType::NhsMentalHealthTrust,
        Serves::Both,
    ),
    (
        "fgp-fed",
        "Fernbridge GP Federation",
        AgencyType::GeneralPractice,
        Serves::Both,
    ),
    (
        "probation-wealdshire",
        "Probation Service, Wealdshire",
        AgencyType::Probation,
        Serves::AllThree,
    ),
    (
        "fb-schools",
        "Fernbridge Schools and Colleges",
        AgencyType::Education,
        Serves::Children,
    ),
    (
        "fb-homes",
        "Fernbridge Homes",
        AgencyType::Housing,
        Serves::AllThree,
    ),
    (
        "ew-ambulance",
        "East Wealdshire Ambulance Service NHS Trust",
        AgencyType::Ambulance,
        Serves::Both,
    ),
    (
        "fb-voluntary",
        "Fernbridge Voluntary Action",
        AgencyType::VoluntarySector,
        Serves::Both,
    ),
    (
        "fsp-team",
        "Fernbridge Safeguarding Partnerships Team",
        AgencyType::PartnershipTeam,
        Serves::AllThree,
    ),
];

/// Demo people: (email, name, agency code, job title). One for each role a later issue grants.
pub const PEOPLE: [(&str, &str, &str, &str); 10] = [
    (
        "business.manager@fernbridge.example",
        "Robin Ashdown",
        "fsp-team",
        "Partnership business manager",
    ),
    (
        "review.member@fernbridge.example",
        "Kit Farrow",
        "fbc-childrens",
        "Head of safeguarding and quality",
    ),
    (
        "police.lead@fernbridge.example",
        "Jude Merriman",
        "wealdshire-police",
        "Detective inspector, public protection",
    ),
    (
        "health.lead@fernbridge.example",
        "Ash Penrose",
        "fw-icb",
        "Designated nurse, safeguarding",
    ),
    (
        "reviewer@fernbridge.example",
        "Lee Harcourt",
        "fsp-team",
        "Independent reviewer",
    ),
    (
        "executive@fernbridge.example",
        "Sam Wickham",
        "fbc-childrens",
        "Director of children's services",
    ),
    (
        "auditor@fernbridge.example",
        "Noor Kettering",
        "fbc-adults",
        "Quality assurance officer",
    ),
    (
        "practitioner@fernbridge.example",
        "Dani Oakes",
        "wch-nhs",
        "Health visitor",
    ),
    (
        "admin@fernbridge.example",
        "Charlie Brook",
        "fsp-team",
        "System administrator",
    ),
    (
        "adults.lead@fernbridge.example",
        "Mo Tenbury",
        "fbc-adults",
        "Principal social worker",
    ),
];

/// Groups: (code, name, purpose, members as (email, role in group)).
type GroupSeed = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const GROUPS: [GroupSeed; 5] = [
    (
        "review-group",
        "Review Group",
        "The rapid review panel and the SAR consideration panel: reads notifications and decides whether and how to review.",
        &[
            ("review.member@fernbridge.example", "chair"),
            ("police.lead@fernbridge.example", "member"),
            ("health.lead@fernbridge.example", "member"),
            ("adults.lead@fernbridge.example", "member"),
            ("business.manager@fernbridge.example", "member"),
        ],
    ),
    (
        "quality-assurance",
        "Quality Assurance",
        "Commissions and oversees single and multi-agency audits and the Section 11 and quality assurance self-assessments.",
        &[
            ("auditor@fernbridge.example", "chair"),
            ("health.lead@fernbridge.example", "member"),
        ],
    ),
    (
        "practice-improvement",
        "Practice Improvement",
        "Oversees action plans, signs off completed actions and seeks assurance that learning is embedded.",
        &[
            ("adults.lead@fernbridge.example", "chair"),
            ("police.lead@fernbridge.example", "member"),
            ("business.manager@fernbridge.example", "member"),
        ],
    ),
    (
        "learning-development",
        "Learning and Development",
        "Plans the multi-agency training programme, briefings and conferences, and evaluates their impact.",
        &[
            ("practitioner@fernbridge.example", "member"),
            ("business.manager@fernbridge.example", "chair"),
        ],
    ),
    (
        "executive",
        "Safeguarding Executive",
        "The statutory partners: sets priorities, signs off reports and action plans, and challenges partners.",
        &[
            ("executive@fernbridge.example", "chair"),
            ("police.lead@fernbridge.example", "member"),
            ("health.lead@fernbridge.example", "member"),
        ],
    ),
];

/// What the demo holds after seeding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub partnerships: usize,
    pub agencies: usize,
    pub groups: usize,
    pub people: usize,
}

/// Seeds the demo partnership. Call inside one write transaction.
pub async fn seed(db: &impl ConnectionTrait, now: DateTime<Utc>) -> CoreResult<DemoSummary> {
    settings::set(db, settings::TEAM_NAME, TEAM_NAME).await?;
    let children = partnerships::ensure(
        db,
        "fernbridge-cssp",
        "Fernbridge Children's Safeguarding Partnership",
        PartnershipKind::Children,
    )
    .await?;
    let adults = partnerships::ensure(
        db,
        "fernbridge-sab",
        "Fernbridge Safeguarding Adults Board",
        PartnershipKind::Adults,
    )
    .await?;
    let community = partnerships::ensure(
        db,
        "fernbridge-csp",
        "Fernbridge Community Safety Partnership",
        PartnershipKind::CommunitySafety,
    )
    .await?;
    for (code, name, agency_type, serves) in AGENCIES {
        let partnership_ids = match serves {
            Serves::Children => vec![children.id],
            Serves::Adults => vec![adults.id],
            Serves::Both => vec![children.id, adults.id],
            Serves::AllThree => vec![children.id, adults.id, community.id],
        };
        agencies::ensure(
            db,
            NewAgency {
                code: code.to_string(),
                name: name.to_string(),
                agency_type,
                partnership_ids,
            },
        )
        .await?;
    }
    for (email, name, agency_code, job_title) in PEOPLE {
        let agency = agencies::find_by_code(db, agency_code)
            .await?
            .ok_or(crate::CoreError::NotFound)?;
        people::ensure(
            db,
            NewPerson {
                name: name.to_string(),
                email: email.to_string(),
                agency_id: agency.id,
                job_title: Some(job_title.to_string()),
            },
        )
        .await?;
    }
    for (code, name, purpose, group_members) in GROUPS {
        let group = groups::ensure(
            db,
            NewGroup {
                code: code.to_string(),
                name: name.to_string(),
                purpose: purpose.to_string(),
                partnership_id: None,
            },
        )
        .await?;
        for (email, role) in group_members {
            let person = people::find_by_email(db, email)
                .await?
                .ok_or(crate::CoreError::NotFound)?;
            members::add(db, group.id, person.id, role).await?;
        }
    }
    seed_access(db, now).await?;
    seed_cases(db, now).await?;
    let manager = people::find_by_email(db, PEOPLE[0].0)
        .await?
        .ok_or(crate::CoreError::NotFound)?;
    reviews::seed(db, now, manager.id).await?;
    actions::seed(db, now, manager.id).await?;
    learning::seed(db, now, manager.id).await?;
    // The demo's findings were written before its library of lessons: rank them again now, as
    // if each had been saved with the whole library in place.
    crate::library::similar::remember_everything(db).await?;
    Ok(DemoSummary {
        partnerships: partnerships::list(db).await?.len(),
        agencies: agencies::count(db).await? as usize,
        groups: groups::count(db).await? as usize,
        people: people::count(db).await? as usize,
    })
}

/// Gives each demo person the demo password, the demo second factor and their roles, unless
/// they already have them.
async fn seed_access(db: &impl ConnectionTrait, now: DateTime<Utc>) -> CoreResult<()> {
    let hash = passwords::hash(DEMO_PASSWORD).map_err(crate::CoreError::Conflict)?;
    for (email, ..) in PEOPLE {
        let person = people::find_by_email(db, email)
            .await?
            .ok_or(crate::CoreError::NotFound)?;
        let row = credentials::ensure(db, person.id).await?;
        if row.password_hash.is_none() {
            credentials::set_password_hash(db, person.id, hash.clone(), now).await?;
        }
        if !row.has_second_factor() {
            credentials::set_totp_secret(db, person.id, DEMO_TOTP_SECRET).await?;
            credentials::confirm_totp(db, person.id, now).await?;
        }
    }
    for (email, role, agency_code) in ROLES {
        let person = people::find_by_email(db, email)
            .await?
            .ok_or(crate::CoreError::NotFound)?;
        let held = grants::of_person(db, person.id).await?;
        if held.iter().any(|grant| grant.role == role.as_str()) {
            continue;
        }
        let agency_id = match agency_code {
            Some(code) => Some(
                agencies::find_by_code(db, code)
                    .await?
                    .ok_or(crate::CoreError::NotFound)?
                    .id,
            ),
            None => None,
        };
        let (review_id, ends_on) = if role == Role::IndependentReviewer {
            (
                Some(DEMO_REVIEW_ID),
                Some(now.date_naive() + chrono::Days::new(180)),
            )
        } else {
            (None, None)
        };
        grants::grant(
            db,
            grants::NewGrant {
                person_id: person.id,
                role,
                agency_id,
                review_id,
                starts_on: None,
                ends_on,
                granted_by: None,
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// A demo case: (pseudonym, child?, incident, working days ago, age band, agency codes, summary).
type CaseSeed = (
    &'static str,
    bool,
    &'static str,
    u32,
    &'static str,
    &'static [&'static str],
    &'static str,
);

const CASES: [CaseSeed; 7] = [
    (
        "Child R",
        true,
        "death",
        2,
        "under 1",
        &["fbc-childrens", "wealdshire-police", "fuh-nhs", "wch-nhs"],
        "Infant died at home; injuries not explained by the account given. Police investigation under way.",
    ),
    (
        "Child T",
        true,
        "serious_harm",
        18,
        "5 to 9",
        &[
            "fbc-childrens",
            "wealdshire-police",
            "fb-schools",
            "fgp-fed",
        ],
        "Admitted to hospital with injuries consistent with physical abuse; previously known to early help.",
    ),
    (
        "Child M",
        true,
        "death",
        45,
        "16 to 17",
        &[
            "fbc-childrens",
            "wealdshire-police",
            "wmh-nhs",
            "fb-schools",
        ],
        "Young person died following exploitation; several agencies had contact in the preceding year.",
    ),
    (
        "Adult K",
        false,
        "death",
        30,
        "85 and over",
        &["fbc-adults", "wch-nhs", "fgp-fed", "fb-homes"],
        "Older adult died with severe pressure damage; concerns about self-neglect and missed home visits.",
    ),
    (
        "Adult J",
        false,
        "serious_harm",
        12,
        "25 to 64",
        &["fbc-adults", "wealdshire-police", "fb-voluntary"],
        "Adult with a learning disability financially exploited by acquaintances; now safe in supported housing.",
    ),
    (
        "Adult P",
        false,
        "death",
        25,
        "25 to 64",
        &[
            "wealdshire-police",
            "probation-wealdshire",
            "fb-homes",
            "fgp-fed",
        ],
        "Killed by a former partner after a history of reported domestic abuse.",
    ),
    (
        "Child S",
        true,
        "other",
        8,
        "10 to 15",
        &["fbc-childrens", "fb-schools", "wch-nhs"],
        "Near miss: a disclosure at school was not shared with children's social care for three weeks.",
    ),
];

async fn seed_cases(db: &impl ConnectionTrait, now: DateTime<Utc>) -> CoreResult<()> {
    use crate::decisions::{self, DecisionInput};
    use crate::review_types::{self as types, Answers};
    if crate::cases::entity::Entity::find()
        .one(db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let calendar = crate::calendar::store::load(db).await?;
    let today = now.date_naive();
    let manager = people::find_by_email(db, PEOPLE[0].0)
        .await?
        .ok_or(crate::CoreError::NotFound)?;
    let children = partnerships::find_by_code(db, "fernbridge-cssp")
        .await?
        .ok_or(crate::CoreError::NotFound)?;
    let adults = partnerships::find_by_code(db, "fernbridge-sab")
        .await?
        .ok_or(crate::CoreError::NotFound)?;
    let community = partnerships::find_by_code(db, "fernbridge-csp")
        .await?
        .ok_or(crate::CoreError::NotFound)?;
    let review_group = groups::find_by_code(db, "review-group")
        .await?
        .map(|group| group.id);
    let date = |days: u32| calendar.subtract_working_days(today, days);
    let text = |date: chrono::NaiveDate| date.format("%Y-%m-%d").to_string();
    let answers =
        |pairs: &[&str]| -> Answers { pairs.iter().map(|key| (key.to_string(), true)).collect() };
    for (pseudonym, child, incident, ago, band, agency_codes, summary) in CASES {
        let mut agency_ids = Vec::new();
        for code in agency_codes {
            agency_ids.push(
                agencies::find_by_code(db, code)
                    .await?
                    .ok_or(crate::CoreError::NotFound)?
                    .id,
            );
        }
        let mut partnership_ids = vec![if child { children.id } else { adults.id }];
        if pseudonym == "Adult P" {
            partnership_ids.push(community.id);
        }
        let aware_on = date(ago);
        let record = crate::cases::create(
            db,
            crate::cases::CaseInput {
                subject_kind: if child { "child" } else { "adult" }.to_string(),
                incident_kind: incident.to_string(),
                aware_on: text(aware_on),
                summary: summary.to_string(),
                pseudonym: pseudonym.to_string(),
                age_band: band.to_string(),
                subject_name: Some(format!(
                    "Demo Subject {}",
                    &pseudonym[pseudonym.len() - 1..]
                )),
                subject_dob: None,
                referrer: "Police public protection unit".to_string(),
                partnership_ids,
                agency_ids,
                inquest: incident == "death",
                criminal_proceedings: pseudonym == "Adult P",
                police_investigation: incident != "other",
                coroner: incident == "death",
            },
            manager.id,
            now,
        )
        .await?;
        let case_id = record.case.id;
        let decide = |code: &str,
                      given: Answers,
                      hold: bool,
                      rationale: &str,
                      decided: chrono::NaiveDate| DecisionInput {
            review_type: code.to_string(),
            answers: given,
            hold_review: Some(hold),
            override_reason: None,
            rationale: rationale.to_string(),
            immediate_actions: None,
            decided_on: text(decided),
            group_id: review_group,
        };
        match pseudonym {
            "Child T" => {
                crate::cases::record_national_panel_notification(
                    db,
                    case_id,
                    &text(date(ago - 7)),
                    "Head of safeguarding, children's services",
                    now,
                )
                .await?;
                crate::cases::record_deadline_reason(
                    db,
                    case_id,
                    "national_panel_notification",
                    "Awaiting medical confirmation of the injuries before notifying",
                    manager.id,
                    now,
                )
                .await?;
                let decided = decisions::decide(db, case_id, decide(types::SERIOUS_CHILD_CASE, answers(&["abuse_or_neglect", "child_seriously_harmed"]), true,
                    "Physical abuse suspected and serious harm confirmed; rapid review required.", date(ago - 2)), manager.id, &calendar, now).await?;
                if let Some(rapid) = decided.rapid_review_id {
                    crate::rapid_reviews::complete_step(
                        db,
                        rapid,
                        "referral",
                        &text(date(ago - 1)),
                        today,
                    )
                    .await?;
                    crate::rapid_reviews::complete_step(
                        db,
                        rapid,
                        "agency_summaries",
                        &text(date(ago - 11)),
                        today,
                    )
                    .await?;
                    crate::rapid_reviews::record_missed_reason(
                        db,
                        rapid,
                        "agency_summaries",
                        "The school's summary arrived a day late after staff absence",
                    )
                    .await?;
                }
            }
            "Child M" => {
                crate::cases::record_national_panel_notification(
                    db,
                    case_id,
                    &text(date(ago - 3)),
                    "Director of children's services",
                    now,
                )
                .await?;
                let decided = decisions::decide(
                    db,
                    case_id,
                    decide(
                        types::SERIOUS_CHILD_CASE,
                        answers(&["abuse_or_neglect", "child_died"]),
                        true,
                        "Exploitation and neglect suspected; the young person died.",
                        date(ago - 1),
                    ),
                    manager.id,
                    &calendar,
                    now,
                )
                .await?;
                if let Some(rapid) = decided.rapid_review_id {
                    let full = crate::rapid_reviews::get(db, rapid).await?;
                    for step in &full.steps {
                        crate::rapid_reviews::complete_step(
                            db,
                            rapid,
                            &step.step_key,
                            &text(step.due_on),
                            today,
                        )
                        .await?;
                    }
                    for summary in &full.summaries {
                        crate::rapid_reviews::summary_received(
                            db,
                            rapid,
                            summary.agency_id,
                            &text(summary.due_on),
                            today,
                        )
                        .await?;
                    }
                    let signed_off = full.steps.last().map(|step| step.due_on).unwrap_or(today);
                    crate::rapid_reviews::record_outcome(
                        db,
                        rapid,
                        "local_cspr",
                        &text(signed_off),
                        today,
                    )
                    .await?;
                    crate::rapid_reviews::convert(db, rapid, types::CSPR_LOCAL, signed_off, now)
                        .await?;
                }
            }
            "Adult K" => {
                decisions::decide(db, case_id, decide(types::SAR, answers(&["care_and_support_needs", "agencies_concern", "condition_1_died"]), true,
                    "All the conditions of section 44(1) are met: a safeguarding adults review must be held.", date(ago - 15)), manager.id, &calendar, now).await?;
            }
            "Adult J" => {
                decisions::decide(db, case_id, decide(types::SAR, answers(&["care_and_support_needs", "condition_2_alive_serious"]), false,
                    "Agencies worked well together; single-agency learning on financial abuse will go to the practice improvement group instead.", date(ago - 5)), manager.id, &calendar, now).await?;
            }
            "Adult P" => {
                decisions::decide(db, case_id, decide(types::DHR, answers(&["aged_16_or_over", "violence_abuse_neglect", "relative_partner_household"]), true,
                    "The criteria for a domestic abuse related death review are met; the community safety partnership commissions it.", date(ago - 20)), manager.id, &calendar, now).await?;
            }
            "Child S" => {
                decisions::decide(db, case_id, decide(types::LEARNING_REVIEW, answers(&["below_threshold_or_near_miss", "learning_potential"]), true,
                    "A near miss with clear learning about information sharing between schools and children's social care.", date(ago - 3)), manager.id, &calendar, now).await?;
            }
            _ => {}
        }
    }
    Ok(())
}
