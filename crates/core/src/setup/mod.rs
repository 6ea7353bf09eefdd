//! The first day of an installation (`learnloop init`): the team's name, its partnerships, its
//! agencies from a list, the standard groups, and the first system administrator and business
//! manager with a one-time link each to set their password. Everything is checked before
//! anything is written, and written in one transaction with its audit entries, so a refusal or
//! a failure leaves the database as it was. It runs once: a database with a partnership is
//! already set up.

pub mod agency_list;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::access::{Role, grants};
use crate::agencies::{self, Agency, NewAgency};
use crate::audit::{self, Event};
use crate::error::CoreError;
use crate::groups::{self, Group, NewGroup};
use crate::identity::resets;
use crate::partnerships::{self, Partnership, PartnershipKind};
use crate::people::{self, NewPerson, Person};
use crate::{Db, FieldError, settings, validate};
pub use agency_list::{AgencyList, AgencyRow, RowError};

/// The groups every partnership works through, created empty: (code, name, purpose). The same
/// groups as the demo's; the Review Group's code is the one the decision form offers first.
pub const STANDARD_GROUPS: [(&str, &str, &str); 5] = [
    (
        "review-group",
        "Review Group",
        "The rapid review panel and the SAR consideration panel: reads notifications and decides whether and how to review.",
    ),
    (
        "executive",
        "Safeguarding Executive",
        "The statutory partners: sets priorities, signs off reports and action plans, and challenges partners.",
    ),
    (
        "quality-assurance",
        "Quality Assurance",
        "Commissions and oversees single and multi-agency audits and the Section 11 and quality assurance self-assessments.",
    ),
    (
        "practice-improvement",
        "Practice Improvement",
        "Oversees action plans, signs off completed actions and seeks assurance that learning is embedded.",
    ),
    (
        "learning-development",
        "Learning and Development",
        "Plans the multi-agency training programme, briefings and conferences, and evaluates their impact.",
    ),
];

/// Each partnership's code, by kind: one partnership of each kind at most.
pub fn partnership_code(kind: PartnershipKind) -> &'static str {
    match kind {
        PartnershipKind::Children => "cssp",
        PartnershipKind::Adults => "sab",
        PartnershipKind::CommunitySafety => "csp",
    }
}

/// The partnerships the team serves, each named, or `None` (or empty) when it does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partnerships {
    pub children: Option<String>,
    pub adults: Option<String>,
    pub community_safety: Option<String>,
}

impl Partnerships {
    /// The named ones, in the order they are created.
    pub fn named(&self) -> Vec<(PartnershipKind, &str, &'static str)> {
        [
            (PartnershipKind::Children, &self.children, "children"),
            (PartnershipKind::Adults, &self.adults, "adults"),
            (
                PartnershipKind::CommunitySafety,
                &self.community_safety,
                "community_safety",
            ),
        ]
        .into_iter()
        .filter_map(|(kind, name, key)| {
            name.as_deref()
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(|name| (kind, name, key))
        })
        .collect()
    }
}

/// One of the first two people: their agency is named by its code in the agency list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirstPerson {
    pub name: String,
    pub email: String,
    pub agency: String,
}

/// Everything `learnloop init` asks for, however it was given (flags, a TOML file, prompts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Setup {
    pub team_name: String,
    pub partnerships: Partnerships,
    pub agencies: AgencyList,
    pub administrator: FirstPerson,
    pub business_manager: FirstPerson,
}

/// Why nothing was set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The database already has a partnership: init runs once.
    #[error(
        "this database is already set up (it has the partnership “{0}”): learnloop init runs only on a new database"
    )]
    AlreadySetUp(String),
    /// The input is wrong: the agency list's rows, and the other fields (named as in
    /// [`Setup`], for example `administrator.email`).
    #[error("{}", describe(.file_name, .rows, .fields))]
    Invalid {
        file_name: String,
        rows: Vec<RowError>,
        fields: Vec<FieldError>,
    },
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<sea_orm::DbErr> for SetupError {
    fn from(error: sea_orm::DbErr) -> Self {
        SetupError::Core(CoreError::Database(error))
    }
}

fn describe(file_name: &str, rows: &[RowError], fields: &[FieldError]) -> String {
    rows.iter()
        .map(|row| row.describe(file_name))
        .chain(
            fields
                .iter()
                .map(|field| format!("{}: {}", field.field, field.message)),
        )
        .collect::<Vec<_>>()
        .join("; ")
}

/// One of the first two people as created, with the secret of their one-time link.
#[derive(Clone)]
pub struct Invited {
    pub person: Person,
    pub role: Role,
    pub agency: Agency,
    /// For `/password-reset/{secret}`: shown once, stored only as a hash.
    pub reset_secret: String,
}

impl std::fmt::Debug for Invited {
    // The secret is a credential: it never goes to a log through Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invited")
            .field("person", &self.person.email)
            .field("role", &self.role)
            .field("agency", &self.agency.code)
            .finish_non_exhaustive()
    }
}

/// What init created, in the order it was created.
#[derive(Debug, Clone)]
pub struct Created {
    pub team_name: String,
    pub partnerships: Vec<Partnership>,
    pub agencies: Vec<Agency>,
    pub groups: Vec<Group>,
    pub administrator: Invited,
    pub business_manager: Invited,
}

/// The checked input, ready to write.
struct Checked {
    team_name: String,
    partnerships: Vec<(PartnershipKind, String)>,
    agencies: Vec<AgencyRow>,
    administrator: (FirstPerson, usize),
    business_manager: (FirstPerson, usize),
}

/// Checks everything that can be checked without the database, naming every problem at once.
fn check(input: &Setup) -> Result<Checked, SetupError> {
    let mut fields = Vec::new();
    let team_name = validate::required_text("team_name", &input.team_name, 200, &mut fields);
    let named = input.partnerships.named();
    if named.is_empty() {
        fields.push(FieldError::new(
            "partnerships",
            "Name at least one partnership: a children's safeguarding partnership, a safeguarding adults board or a community safety partnership",
        ));
    }
    let mut partnerships = Vec::new();
    for (kind, name, key) in named {
        let name = validate::required_text(&format!("partnerships.{key}"), name, 200, &mut fields);
        partnerships.push((kind, name));
    }
    let (rows, agencies) = match input.agencies.check() {
        Ok(agencies) => (Vec::new(), agencies),
        Err(rows) => (rows, Vec::new()),
    };
    let person = |key: &str, given: &FirstPerson, fields: &mut Vec<FieldError>| {
        let name = validate::required_text(&format!("{key}.name"), &given.name, 200, fields);
        let email = people::parse_email(&format!("{key}.email"), &given.email, fields);
        let code = given.agency.trim().to_ascii_lowercase();
        let agency = agencies.iter().position(|row| row.code == code);
        if code.is_empty() {
            fields.push(FieldError::new(
                format!("{key}.agency"),
                "Enter the code of their agency, from the agency list",
            ));
        } else if agency.is_none() && rows.is_empty() {
            fields.push(FieldError::new(
                format!("{key}.agency"),
                format!(
                    "No agency in {} has the code {}",
                    input.agencies.file_name,
                    given.agency.trim()
                ),
            ));
        }
        (
            FirstPerson {
                name,
                email,
                agency: code,
            },
            agency.unwrap_or_default(),
        )
    };
    let administrator = person("administrator", &input.administrator, &mut fields);
    let business_manager = person("business_manager", &input.business_manager, &mut fields);
    if !administrator.0.email.is_empty() && administrator.0.email == business_manager.0.email {
        fields.push(FieldError::new(
            "business_manager.email",
            "Give the business manager an email address of their own: the administrator manages accounts and reads no case content, the business manager does",
        ));
    }
    if !rows.is_empty() || !fields.is_empty() {
        return Err(SetupError::Invalid {
            file_name: input.agencies.file_name.clone(),
            rows,
            fields,
        });
    }
    Ok(Checked {
        team_name,
        partnerships,
        agencies,
        administrator,
        business_manager,
    })
}

/// An agency the store refused although its row passed the checks (an agency of that code
/// already in the database): named by its row like the others.
fn row_refused(file_name: &str, row: usize, error: CoreError) -> SetupError {
    match error {
        CoreError::Invalid(problems) => SetupError::Invalid {
            file_name: file_name.to_string(),
            rows: problems
                .into_iter()
                .map(|problem| RowError {
                    row,
                    column: problem.field,
                    message: problem.message,
                })
                .collect(),
            fields: Vec::new(),
        },
        other => SetupError::Core(other),
    }
}

/// A person the store refused (an address already in use): named by the input's field.
fn person_refused(key: &str, error: CoreError) -> SetupError {
    match error {
        CoreError::Invalid(problems) => SetupError::Invalid {
            file_name: String::new(),
            rows: Vec::new(),
            fields: problems
                .into_iter()
                .map(|problem| FieldError::new(format!("{key}.{}", problem.field), problem.message))
                .collect(),
        },
        other => SetupError::Core(other),
    }
}

/// Sets up the installation inside the caller's write transaction; the caller commits. On an
/// error the caller drops the transaction and nothing is written. `source` goes on every audit
/// entry ("cli" from the command line).
pub async fn init(
    db: &impl ConnectionTrait,
    input: &Setup,
    source: &str,
    now: DateTime<Utc>,
) -> Result<Created, SetupError> {
    if let Some(existing) = already_set_up(db).await? {
        return Err(SetupError::AlreadySetUp(existing));
    }
    let checked = check(input)?;
    let event = |action: &str| Event::new(action, "succeeded").from_source(Some(source.into()));
    let mut events = vec![event("setup.init")];

    settings::set(db, settings::TEAM_NAME, &checked.team_name).await?;
    let mut created_partnerships = Vec::new();
    for (kind, name) in &checked.partnerships {
        let partnership = partnerships::ensure(db, partnership_code(*kind), name, *kind).await?;
        events.push(event("partnership.created").on("partnership", partnership.id));
        created_partnerships.push(partnership);
    }
    // The list has no membership column: every agency serves every partnership of the team.
    let partnership_ids: Vec<_> = created_partnerships.iter().map(|p| p.id).collect();
    let mut created_agencies = Vec::new();
    for row in &checked.agencies {
        let agency = agencies::create(
            db,
            NewAgency {
                code: row.code.clone(),
                name: row.name.clone(),
                agency_type: row.kind,
                partnership_ids: partnership_ids.clone(),
            },
        )
        .await
        .map_err(|error| row_refused(&input.agencies.file_name, row.row, error))?;
        events.push(event("agency.created").on("agency", agency.id));
        created_agencies.push(agency);
    }
    let mut created_groups = Vec::new();
    for (code, name, purpose) in STANDARD_GROUPS {
        let group = groups::create(
            db,
            NewGroup {
                code: code.to_string(),
                name: name.to_string(),
                purpose: purpose.to_string(),
                partnership_id: None,
            },
        )
        .await?;
        events.push(event("group.created").on("group", group.id));
        created_groups.push(group);
    }
    let mut invite = async |key: &str, (given, index): &(FirstPerson, usize), role: Role| {
        let agency = created_agencies
            .get(*index)
            .cloned()
            .ok_or(CoreError::NotFound)?;
        let person = people::create(
            db,
            NewPerson {
                name: given.name.clone(),
                email: given.email.clone(),
                agency_id: agency.id,
                job_title: None,
            },
        )
        .await
        .map_err(|error| person_refused(key, error))?;
        let grant = grants::grant(
            db,
            grants::NewGrant {
                person_id: person.id,
                role,
                agency_id: None,
                review_id: None,
                starts_on: None,
                ends_on: None,
                granted_by: None,
            },
            now,
        )
        .await?;
        let reset_secret = resets::issue(db, person.id, None, now).await?;
        events.push(event("person.create").on("person", person.id));
        events.push(event("grant.add").on("person", person.id));
        if grant.sees_case_content() {
            // As the people pages record it: who was given case access is one filter.
            events.push(
                event("grant.case_access_added")
                    .on("person", person.id)
                    .because(Some(format!(
                        "{} (partnership), grant {}",
                        grant.role, grant.id
                    ))),
            );
        }
        events.push(event("password_reset.issue").on("person", person.id));
        Ok::<Invited, SetupError>(Invited {
            person,
            role,
            agency,
            reset_secret,
        })
    };
    let administrator = invite(
        "administrator",
        &checked.administrator,
        Role::SystemAdministrator,
    )
    .await?;
    let business_manager = invite(
        "business_manager",
        &checked.business_manager,
        Role::BusinessManager,
    )
    .await?;
    audit::append_many(db, events.into_iter().map(|e| (e, now)).collect()).await?;
    Ok(Created {
        team_name: checked.team_name,
        partnerships: created_partnerships,
        agencies: created_agencies,
        groups: created_groups,
        administrator,
        business_manager,
    })
}

/// Sets up the installation in one write transaction of its own: all of it, or nothing.
pub async fn run(
    db: &Db,
    input: &Setup,
    source: &str,
    now: DateTime<Utc>,
) -> Result<Created, SetupError> {
    let txn = db.write().await?;
    let created = init(&txn, input, source, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Whether the database has been set up already (by init or by the demo): the name of its
/// first partnership.
pub async fn already_set_up(db: &impl ConnectionTrait) -> Result<Option<String>, SetupError> {
    Ok(partnerships::list(db)
        .await?
        .into_iter()
        .next()
        .map(|partnership| partnership.name))
}
