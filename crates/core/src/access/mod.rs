//! SECURITY-SENSITIVE. Who may do what: roles, their scopes, and the one decision
//! `can(actor, action, record)`, deny by default. Pages, the API, lists and exports all ask it.

pub mod grants;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The roles of the framework. A person may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    BusinessManager,
    ReviewGroupMember,
    AgencyLead,
    IndependentReviewer,
    Executive,
    Auditor,
    Practitioner,
    SystemAdministrator,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::BusinessManager,
        Role::ReviewGroupMember,
        Role::AgencyLead,
        Role::IndependentReviewer,
        Role::Executive,
        Role::Auditor,
        Role::Practitioner,
        Role::SystemAdministrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::BusinessManager => "business_manager",
            Role::ReviewGroupMember => "review_group_member",
            Role::AgencyLead => "agency_lead",
            Role::IndependentReviewer => "independent_reviewer",
            Role::Executive => "executive",
            Role::Auditor => "auditor",
            Role::Practitioner => "practitioner",
            Role::SystemAdministrator => "system_administrator",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::BusinessManager => "Business manager",
            Role::ReviewGroupMember => "Review Group member",
            Role::AgencyLead => "Agency safeguarding lead",
            Role::IndependentReviewer => "Independent reviewer",
            Role::Executive => "Executive",
            Role::Auditor => "Auditor",
            Role::Practitioner => "Practitioner",
            Role::SystemAdministrator => "System administrator",
        }
    }

    /// Roles that can see case content. A system administrator manages accounts but reads no
    /// case content; a practitioner reads published learning only.
    pub fn sees_case_content(self) -> bool {
        !matches!(self, Role::Practitioner | Role::SystemAdministrator)
    }

    /// A second factor is required for every role that sees case content, and for the system
    /// administrator, who controls who sees it.
    pub fn needs_second_factor(self) -> bool {
        self != Role::Practitioner
    }

    /// The scope a grant of this role takes.
    pub fn scope_kind(self) -> ScopeKind {
        match self {
            Role::AgencyLead | Role::Auditor | Role::Practitioner => ScopeKind::Agency,
            Role::IndependentReviewer => ScopeKind::Review,
            _ => ScopeKind::Partnership,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Partnership,
    Agency,
    Review,
}

/// Where a grant applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything the partnership team holds.
    Partnership,
    /// Records of one agency.
    Agency(Uuid),
    /// One named review.
    Review(Uuid),
}

/// One role held in one scope, possibly for a limited time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: Uuid,
    pub role: Role,
    pub scope: Scope,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

impl Grant {
    /// In force on `today`: the end date is the last day of access.
    pub fn active_on(&self, today: NaiveDate) -> bool {
        self.starts_on.is_none_or(|start| start <= today)
            && self.ends_on.is_none_or(|end| today <= end)
    }
}

/// Someone acting: the person, their agency, and the grants in force today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub person_id: Uuid,
    pub agency_id: Uuid,
    pub grants: Vec<Grant>,
}

impl Actor {
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|grant| grant.role == role)
    }

    pub fn roles(&self) -> Vec<Role> {
        let mut roles: Vec<Role> = Vec::new();
        for grant in &self.grants {
            if !roles.contains(&grant.role) {
                roles.push(grant.role);
            }
        }
        roles
    }

    /// The role recorded in the audit trail: the most powerful one held.
    pub fn principal_role(&self) -> Option<Role> {
        Role::ALL.into_iter().find(|role| self.has_role(*role))
    }

    pub fn needs_second_factor(&self) -> bool {
        self.grants
            .iter()
            .any(|grant| grant.role.needs_second_factor())
    }

    fn has_role_for_agency(&self, role: Role, agency_id: Uuid) -> bool {
        self.grants.iter().any(|grant| {
            grant.role == role
                && match grant.scope {
                    Scope::Partnership => true,
                    Scope::Agency(id) => id == agency_id,
                    Scope::Review(_) => false,
                }
        })
    }

    /// The agencies in which the actor holds `role` through an agency-scoped grant.
    pub fn agencies_for(&self, role: Role) -> Vec<Uuid> {
        self.grants
            .iter()
            .filter(|grant| grant.role == role)
            .filter_map(|grant| match grant.scope {
                Scope::Agency(id) => Some(id),
                _ => None,
            })
            .collect()
    }

    /// Whether the actor sees every case (not only those of their own agencies).
    pub fn sees_all_cases(&self) -> bool {
        self.has_role(Role::BusinessManager)
            || self.has_role(Role::ReviewGroupMember)
            || self.has_role(Role::Executive)
    }

    /// Holds the independent reviewer role for this review (grants in force only).
    pub fn is_reviewer_of(&self, review_id: Uuid) -> bool {
        self.grants.iter().any(|grant| {
            grant.role == Role::IndependentReviewer && grant.scope == Scope::Review(review_id)
        })
    }

    fn has_partnership_wide_grant(&self) -> bool {
        self.grants
            .iter()
            .any(|grant| !matches!(grant.scope, Scope::Review(_)))
    }
}

/// The agencies whose cases the actor sees, or `None` for every case.
pub fn case_scope(actor: &Actor) -> Option<Vec<Uuid>> {
    if actor.sees_all_cases() {
        None
    } else {
        Some(actor.agencies_for(Role::AgencyLead))
    }
}

/// The agencies whose actions the actor sees, or `None` for every action.
pub fn action_scope(actor: &Actor) -> Option<Vec<Uuid>> {
    if actor.has_role(Role::BusinessManager)
        || actor.has_role(Role::ReviewGroupMember)
        || actor.has_role(Role::Executive)
    {
        None
    } else {
        Some(actor.agencies_for(Role::AgencyLead))
    }
}

/// Who is reading the library and learning items, for what they may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// The public page, practitioners: the frozen public copies only.
    PublishedOnly,
    /// Agency leads: the live copies of learning concerning their agencies, and the frozen
    /// public copies of the rest.
    Agencies(Vec<Uuid>),
    /// The partnership team: every live copy.
    Everything,
}

impl Reader {
    pub fn of(actor: &Actor) -> Reader {
        if actor.sees_all_cases() {
            Reader::Everything
        } else if actor.has_role(Role::AgencyLead) {
            Reader::Agencies(actor.agencies_for(Role::AgencyLead))
        } else {
            Reader::PublishedOnly
        }
    }
}

/// What an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the dashboard.
    ViewDashboard,
    /// Read partnerships, agencies and groups.
    ViewReferenceData,
    /// Add or change partnerships, agencies and groups.
    ManageReferenceData,
    /// Read a person's account (name, email, agency, roles).
    ViewPerson,
    /// Add people, change their roles, disable them, issue reset links.
    ManagePeople,
    /// Read and filter the audit trail.
    ViewAuditTrail,
    /// Read one review and its case content.
    ViewReview,
    /// Read a case (notification): what happened, the pseudonym, deadlines, decisions.
    ViewCase,
    /// See who the case is about: real name and date of birth.
    ViewCaseIdentity,
    /// Notify a case, record decisions, run rapid reviews.
    ManageCase,
    /// Change review types, the calendar and other settings of the framework.
    ManageSettings,
    /// Run a review: stages, people, voices, findings and recommendations, documents.
    ManageReview,
    /// Send an agency's contribution (agency report, chronology, management review) to a review.
    ContributeToReview,
    /// Check and publish a review's public report, or put publication on hold.
    PublishReview,
    /// Check and publish a learning item: the same act as publishing a review.
    PublishLearning,
    /// See actions and action plans (an agency lead: their own agency's).
    ViewActions,
    /// Add progress updates to an action (an agency lead: their own agency's).
    UpdateAction,
    /// Create actions and plans, import trackers, change the reminder settings.
    ManageActions,
    /// Sign off completed actions and plans, record assurance checks (the partnership team;
    /// members of a plan's overseeing group also may, which the actions domain decides).
    SignOffActions,
    /// Read learning items and search the library (what each reader sees is filtered).
    ViewLearning,
    /// Record learning items, disseminations and evidence.
    ManageLearning,
}

/// The record an action touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    /// Nothing in particular (lists, reference data, the trail as a whole).
    None,
    Person {
        person_id: Uuid,
        agency_id: Uuid,
    },
    /// A review, with the agencies involved in its case.
    Review {
        review_id: Uuid,
        agency_ids: &'a [Uuid],
    },
    /// One agency's contribution to a review.
    Contribution {
        review_id: Uuid,
        agency_id: Uuid,
    },
    /// An action, with the agency that owns it.
    Action {
        agency_id: Uuid,
    },
    /// A case, with the agencies involved in it.
    Case {
        agency_ids: &'a [Uuid],
    },
    /// A learning item: whether it is published, and the agencies it concerns.
    LearningItem {
        published: bool,
        agency_ids: &'a [Uuid],
    },
    /// An action in a plan, and whether the actor sits on the group overseeing that plan.
    OverseenAction {
        actor_oversees_plan: bool,
    },
}

/// The one authorisation decision. Deny by default: every allowed case is listed here.
pub fn can(actor: &Actor, action: Action, record: Record<'_>) -> bool {
    use Role::*;
    match (action, record) {
        (Action::ViewDashboard, _) => !actor.grants.is_empty(),
        (Action::ViewReferenceData, _) => actor.has_partnership_wide_grant(),
        (Action::ManageReferenceData, _) => {
            actor.has_role(BusinessManager) || actor.has_role(SystemAdministrator)
        }
        (
            Action::ViewPerson,
            Record::Person {
                person_id,
                agency_id,
            },
        ) => {
            person_id == actor.person_id
                || actor.has_role(BusinessManager)
                || actor.has_role(SystemAdministrator)
                || actor.has_role_for_agency(AgencyLead, agency_id)
        }
        (Action::ViewPerson, Record::None) => {
            actor.has_role(BusinessManager)
                || actor.has_role(SystemAdministrator)
                || actor.has_role(AgencyLead)
        }
        (Action::ManagePeople, _) => actor.has_role(SystemAdministrator),
        (Action::ViewAuditTrail, _) => {
            actor.has_role(SystemAdministrator) || actor.has_role(BusinessManager)
        }
        // Cases: the partnership team, the Review Group and executives see every case; an
        // agency lead sees the cases their agency is involved in; nobody else.
        (Action::ViewCase, Record::Case { agency_ids }) => {
            actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
                || actor.has_role(Executive)
                || agency_ids
                    .iter()
                    .any(|agency_id| actor.has_role_for_agency(AgencyLead, *agency_id))
        }
        (Action::ViewCase, Record::None) => {
            actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
                || actor.has_role(Executive)
                || actor.has_role(AgencyLead)
        }
        (Action::ViewCaseIdentity, _) | (Action::ManageCase, _) => {
            actor.has_role(BusinessManager) || actor.has_role(ReviewGroupMember)
        }
        (Action::ManageSettings, _) => {
            actor.has_role(BusinessManager) || actor.has_role(SystemAdministrator)
        }
        // Reviews: the partnership-wide roles that see case content see every review; an
        // independent reviewer sees the one review they are appointed to, while appointed; an
        // agency lead sees the reviews of cases their agency is involved in.
        (
            Action::ViewReview,
            Record::Review {
                review_id,
                agency_ids,
            },
        ) => {
            actor.grants.iter().any(|grant| match grant.scope {
                Scope::Review(id) => id == review_id && grant.role == IndependentReviewer,
                Scope::Partnership => grant.role.sees_case_content(),
                Scope::Agency(_) => false,
            }) || agency_ids
                .iter()
                .any(|agency_id| actor.has_role_for_agency(AgencyLead, *agency_id))
        }
        (Action::ViewReview, Record::None) => {
            actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
                || actor.has_role(Executive)
                || actor.has_role(AgencyLead)
                || actor.has_role(IndependentReviewer)
        }
        // The partnership team and the Review Group run reviews; the appointed reviewer writes
        // theirs.
        (Action::ManageReview, Record::Review { review_id, .. }) => {
            actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
                || actor.is_reviewer_of(review_id)
        }
        (Action::ManageReview, Record::None) => {
            actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
                || actor.has_role(IndependentReviewer)
        }
        // An agency lead sends their own agency's contribution; whoever runs the review may
        // record any agency's.
        (
            Action::ContributeToReview,
            Record::Contribution {
                review_id,
                agency_id,
            },
        ) => {
            actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
                || actor.is_reviewer_of(review_id)
                || actor.has_role_for_agency(AgencyLead, agency_id)
        }
        (Action::ContributeToReview, Record::None) => {
            actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
                || actor.has_role(AgencyLead)
        }
        // Publication speaks for the partnership: the business manager only.
        (Action::PublishReview | Action::PublishLearning, _) => actor.has_role(BusinessManager),
        // Actions: the partnership team and executives see all; an agency lead sees and updates
        // their own agency's.
        (Action::ViewActions, Record::Action { agency_id }) => {
            actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
                || actor.has_role(Executive)
                || actor.has_role_for_agency(AgencyLead, agency_id)
        }
        (Action::ViewActions, Record::None) => {
            actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
                || actor.has_role(Executive)
                || actor.has_role(AgencyLead)
        }
        (Action::UpdateAction, Record::Action { agency_id }) => {
            actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
                || actor.has_role_for_agency(AgencyLead, agency_id)
        }
        (Action::UpdateAction, Record::None) => {
            actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
                || actor.has_role(AgencyLead)
        }
        // A learning item: the partnership team reads every item; anyone signed in reads a
        // published one; an agency lead reads those concerning their agency.
        (
            Action::ViewLearning,
            Record::LearningItem {
                published,
                agency_ids,
            },
        ) => match Reader::of(actor) {
            Reader::Everything => true,
            _ if published => !actor.grants.is_empty(),
            Reader::Agencies(ids) => agency_ids.iter().any(|a| ids.contains(a)),
            Reader::PublishedOnly => false,
        },
        (Action::ViewLearning, _) => !actor.grants.is_empty(),
        // The members of a plan's overseeing group sign off its actions too.
        (
            Action::SignOffActions,
            Record::OverseenAction {
                actor_oversees_plan,
            },
        ) => {
            actor_oversees_plan
                || actor.has_role(BusinessManager)
                || actor.has_role(ReviewGroupMember)
        }
        (Action::ManageLearning, _) => {
            actor.has_role(BusinessManager) || actor.has_role(ReviewGroupMember)
        }
        (Action::ManageActions, _) | (Action::SignOffActions, _) => {
            actor.has_role(BusinessManager) || actor.has_role(ReviewGroupMember)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, scope: Scope) -> Actor {
        Actor {
            person_id: Uuid::from_u128(1),
            agency_id: Uuid::from_u128(10),
            grants: vec![Grant {
                id: Uuid::from_u128(100),
                role,
                scope,
                starts_on: None,
                ends_on: None,
            }],
        }
    }

    #[test]
    fn nothing_is_allowed_without_a_grant() {
        let nobody = Actor {
            person_id: Uuid::from_u128(1),
            agency_id: Uuid::from_u128(10),
            grants: vec![],
        };
        for action in [
            Action::ViewDashboard,
            Action::ViewReferenceData,
            Action::ManageReferenceData,
            Action::ManagePeople,
            Action::ViewAuditTrail,
        ] {
            assert!(!can(&nobody, action, Record::None), "{action:?}");
        }
    }

    #[test]
    fn an_agency_lead_sees_people_of_their_own_agency_only() {
        let lead = actor(Role::AgencyLead, Scope::Agency(Uuid::from_u128(10)));
        let own = Record::Person {
            person_id: Uuid::from_u128(2),
            agency_id: Uuid::from_u128(10),
        };
        let other = Record::Person {
            person_id: Uuid::from_u128(3),
            agency_id: Uuid::from_u128(11),
        };
        assert!(can(&lead, Action::ViewPerson, own));
        assert!(!can(&lead, Action::ViewPerson, other));
    }

    #[test]
    fn a_reviewer_sees_only_their_review_and_no_reference_data() {
        let reviewer = actor(
            Role::IndependentReviewer,
            Scope::Review(Uuid::from_u128(50)),
        );
        assert!(can(
            &reviewer,
            Action::ViewReview,
            Record::Review {
                review_id: Uuid::from_u128(50),
                agency_ids: &[],
            }
        ));
        assert!(!can(
            &reviewer,
            Action::ViewReview,
            Record::Review {
                review_id: Uuid::from_u128(51),
                agency_ids: &[],
            }
        ));
        assert!(!can(&reviewer, Action::ViewReferenceData, Record::None));
        assert!(can(&reviewer, Action::ViewDashboard, Record::None));
    }

    #[test]
    fn grants_end_after_their_last_day() {
        let grant = Grant {
            id: Uuid::from_u128(1),
            role: Role::IndependentReviewer,
            scope: Scope::Review(Uuid::from_u128(2)),
            starts_on: NaiveDate::from_ymd_opt(2026, 1, 1),
            ends_on: NaiveDate::from_ymd_opt(2026, 6, 30),
        };
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default();
        assert!(!grant.active_on(NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default()));
        assert!(grant.active_on(day(1, 1)));
        assert!(grant.active_on(day(6, 30)));
        assert!(!grant.active_on(day(7, 1)));
    }

    #[test]
    fn an_agency_lead_sees_only_cases_their_agency_is_involved_in() {
        let lead = actor(Role::AgencyLead, Scope::Agency(Uuid::from_u128(10)));
        let involved = [Uuid::from_u128(9), Uuid::from_u128(10)];
        let other = [Uuid::from_u128(11)];
        assert!(can(
            &lead,
            Action::ViewCase,
            Record::Case {
                agency_ids: &involved
            }
        ));
        assert!(!can(
            &lead,
            Action::ViewCase,
            Record::Case { agency_ids: &other }
        ));
        assert!(!can(
            &lead,
            Action::ViewCaseIdentity,
            Record::Case {
                agency_ids: &involved
            }
        ));
        let admin = actor(Role::SystemAdministrator, Scope::Partnership);
        assert!(!can(
            &admin,
            Action::ViewCase,
            Record::Case {
                agency_ids: &involved
            }
        ));
    }

    #[test]
    fn the_system_administrator_manages_people_but_sees_no_case_content() {
        let admin = actor(Role::SystemAdministrator, Scope::Partnership);
        assert!(can(&admin, Action::ManagePeople, Record::None));
        assert!(!can(
            &admin,
            Action::ViewReview,
            Record::Review {
                review_id: Uuid::from_u128(5),
                agency_ids: &[],
            }
        ));
        assert!(!Role::SystemAdministrator.sees_case_content());
        assert!(Role::SystemAdministrator.needs_second_factor());
    }
}
