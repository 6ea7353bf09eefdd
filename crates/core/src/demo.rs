//! The fictional demo partnership: Fernbridge, a children's partnership and an adults board
//! served by one team, with member agencies of the real kinds, its groups and a person for each
//! role. Every name here is invented. Seeding is idempotent: records are found by their codes
//! and email addresses before anything is created.

use sea_orm::ConnectionTrait;

use crate::agencies::{self, AgencyType, NewAgency};
use crate::error::CoreResult;
use crate::groups::{self, NewGroup, members};
use crate::partnerships::{self, PartnershipKind};
use crate::people::{self, NewPerson};
use crate::settings;

pub const TEAM_NAME: &str = "Fernbridge Safeguarding Partnerships";

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
pub async fn seed(db: &impl ConnectionTrait) -> CoreResult<DemoSummary> {
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
    Ok(DemoSummary {
        partnerships: partnerships::list(db).await?.len(),
        agencies: agencies::count(db).await? as usize,
        groups: groups::count(db).await? as usize,
        people: people::count(db).await? as usize,
    })
}
