//! The fictional demo partnership: Fernbridge, a children's partnership and an adults board
//! served by one team, with member agencies of the real kinds, its groups and a person for each
//! role. Every name here is invented. Seeding is idempotent: records are found by their codes
//! and email addresses before anything is created.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
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

/// The review the demo's independent reviewer is appointed to (reviews arrive with issue 5).
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
