//! A review's pages, one per part of the review: the overview with its stages and clock,
//! people and agency contributions, voices, content, documents and publication. Everyone who
//! may see the review sees these pages; the forms appear to those who may use them, and every
//! change is checked again against the review itself.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use learnloop_core::access::{Action, Actor, Record, Role, can};
use learnloop_core::cases::CaseRecord;
use learnloop_core::reviews::{
    self, contributions, documents, entries, people as review_people, publication, stages, voices,
};
use learnloop_core::{
    CoreError, FieldError, agencies, audit, calendar, partnerships, people, review_types, themes,
};
use serde::Deserialize;
use uuid::Uuid;

use super::forms::{self, Pairs, rename};
use super::layout::{Layout, render};
use super::parse_id;
use crate::auth::csrf::CsrfForm;
use crate::auth::{SignedIn, Source};
use crate::error::{AppError, PageError, PageResult};
use crate::state::AppState;

/// The parts of a review, each its own page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    People,
    Voices,
    Content,
    Documents,
    Publication,
}

impl Tab {
    const ALL: [Tab; 6] = [
        Tab::Overview,
        Tab::People,
        Tab::Voices,
        Tab::Content,
        Tab::Documents,
        Tab::Publication,
    ];

    fn suffix(self) -> &'static str {
        match self {
            Tab::Overview => "",
            Tab::People => "/people",
            Tab::Voices => "/voices",
            Tab::Content => "/content",
            Tab::Documents => "/documents",
            Tab::Publication => "/publication",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview and stages",
            Tab::People => "People and contributions",
            Tab::Voices => "Voices",
            Tab::Content => "Findings and recommendations",
            Tab::Documents => "Documents",
            Tab::Publication => "Publication",
        }
    }

    fn href(self, id: Uuid) -> String {
        format!("/reviews/{id}{}", self.suffix())
    }
}

pub struct TabLink {
    href: String,
    label: &'static str,
    current: bool,
}

/// What every review page shows at its top.
pub struct Head {
    id: String,
    title: String,
    reference: String,
    type_name: String,
    case_id: String,
    pseudonym: String,
    partnership: String,
    stage: String,
    commissioned_on: String,
    report_due_on: String,
    hold_reason: String,
    published_on: String,
    converted_from: Option<(String, String)>,
    tabs: Vec<TabLink>,
    sees_case: bool,
}

/// What the viewer may do on this review.
#[derive(Debug, Clone, Copy)]
pub struct Powers {
    manage: bool,
    publish: bool,
    identity: bool,
}

fn powers(actor: &Actor, review_id: Uuid, agency_ids: &[Uuid]) -> Powers {
    let record = Record::Review {
        review_id,
        agency_ids,
    };
    Powers {
        manage: can(actor, Action::ManageReview, record),
        publish: can(actor, Action::PublishReview, record),
        identity: can(actor, Action::ViewCaseIdentity, Record::Case { agency_ids }),
    }
}

fn date(value: Option<chrono::NaiveDate>) -> String {
    value
        .map(|d| d.format("%-d %b %Y").to_string())
        .unwrap_or_default()
}

async fn head(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    review: &reviews::Model,
    case: &CaseRecord,
    tab: Tab,
) -> Result<Head, PageError> {
    let type_name = review_types::store::get(db, &review.review_type_code)
        .await
        .map(|t| t.name)
        .unwrap_or_else(|_| review.review_type_code.clone());
    let all_stages = stages::of_review(db, review.id).await?;
    let partnership = match review.partnership_id {
        Some(id) => partnerships::list(db)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .map(|p| p.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let converted_from = match (
        review.converted_from_review_id,
        review.converted_from_rapid_review_id,
    ) {
        (Some(from), _) => Some((
            format!("/reviews/{from}"),
            "the review it was converted from".to_string(),
        )),
        (None, Some(from)) => Some((
            format!("/rapid-reviews/{from}"),
            "the rapid review it came from".to_string(),
        )),
        _ => None,
    };
    Ok(Head {
        id: review.id.to_string(),
        title: review.title.clone(),
        reference: review.reference.clone().unwrap_or_default(),
        type_name,
        case_id: case.case.id.to_string(),
        pseudonym: case.case.pseudonym.clone(),
        partnership,
        stage: stages::stage_label(&all_stages, &review.status),
        commissioned_on: date(Some(review.commissioned_on)),
        report_due_on: date(review.report_due_on),
        hold_reason: review.hold_reason.clone().unwrap_or_default(),
        published_on: date(review.published_on),
        converted_from,
        tabs: Tab::ALL
            .iter()
            .map(|t| TabLink {
                href: t.href(review.id),
                label: t.label(),
                current: *t == tab,
            })
            .collect(),
        sees_case: can(
            actor,
            Action::ViewCase,
            Record::Case {
                agency_ids: &case.agency_ids,
            },
        ),
    })
}

async fn agency_names(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<HashMap<Uuid, String>, PageError> {
    Ok(agencies::list(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

pub struct Choice {
    value: String,
    label: String,
}

fn choices(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<Choice> {
    pairs
        .into_iter()
        .map(|(value, label)| Choice { value, label })
        .collect()
}

// ----- Overview and stages -----

pub struct StageRow {
    key: String,
    name: String,
    required: bool,
    planned: String,
    due: String,
    completed: String,
    overdue: bool,
    slipped: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "pages/review.html")]
struct OverviewPage {
    layout: Layout,
    head: Head,
    powers: Powers,
    version: i32,
    title: String,
    methodology: String,
    methodology_label: &'static str,
    methodologies: Vec<Choice>,
    terms_of_reference: String,
    subject_perspective: String,
    stages: Vec<StageRow>,
    slipped_total: i64,
    today: String,
}

// ----- People and contributions -----

pub struct PersonRow {
    name: String,
    role: &'static str,
    agency: String,
    conflict_statement: String,
    access: String,
}

pub struct ContributionRow {
    id: String,
    agency: String,
    kind: &'static str,
    due: String,
    received: String,
    overdue: bool,
    can_upload: bool,
}

#[derive(Template)]
#[template(path = "pages/review_people.html")]
struct PeoplePage {
    layout: Layout,
    head: Head,
    powers: Powers,
    people: Vec<PersonRow>,
    contributions: Vec<ContributionRow>,
    roles: Vec<Choice>,
    accounts: Vec<Choice>,
    agencies: Vec<Choice>,
    contribution_kinds: Vec<Choice>,
    case_agencies: Vec<Choice>,
}

// ----- Voices -----

pub struct FamilyRow {
    relationship: String,
    name: String,
    invited: String,
    response: &'static str,
    what_they_said: String,
    consent: bool,
}

pub struct EventRow {
    held_on: String,
    kind: String,
    attendees: i32,
    agencies: String,
}

#[derive(Template)]
#[template(path = "pages/review_voices.html")]
struct VoicesPage {
    layout: Layout,
    head: Head,
    powers: Powers,
    family: Vec<FamilyRow>,
    events: Vec<EventRow>,
    subject_perspective: String,
    invited_how: Vec<Choice>,
    responses: Vec<Choice>,
    today: String,
}

// ----- Content -----

pub struct EntryRow {
    id: String,
    actionable: bool,
    finding: bool,
    similar: Vec<super::learning_items::SimilarRow>,
    title: String,
    body: String,
    agencies: Vec<String>,
    themes: Vec<String>,
}

pub struct EntrySection {
    id: &'static str,
    heading: &'static str,
    entries: Vec<EntryRow>,
}

#[derive(Template)]
#[template(path = "pages/review_content.html")]
struct ContentPage {
    layout: Layout,
    head: Head,
    powers: Powers,
    sections: Vec<EntrySection>,
    kinds: Vec<Choice>,
    agencies: Vec<Choice>,
    practice_themes: Vec<Choice>,
    abuse_themes: Vec<Choice>,
    /// May create actions and plans from the recommendations.
    can_act: bool,
    can_learn: bool,
    action_plans: Vec<Choice>,
}

// ----- Documents -----

pub struct VersionRow {
    id: String,
    version: i32,
    file_name: String,
    size: String,
    uploaded: String,
    metadata_removed: bool,
}

pub struct DocumentRow {
    title: String,
    kind: &'static str,
    agency: String,
    versions: Vec<VersionRow>,
}

#[derive(Template)]
#[template(path = "pages/review_documents.html")]
struct DocumentsPage {
    layout: Layout,
    head: Head,
    powers: Powers,
    documents: Vec<DocumentRow>,
    existing: Vec<Choice>,
    kinds: Vec<Choice>,
    agencies: Vec<Choice>,
}

// ----- Publication -----

pub struct IdentifierRow {
    kind: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "pages/review_publication.html")]
struct PublicationPage {
    layout: Layout,
    head: Head,
    powers: Powers,
    version: i32,
    public_title: String,
    public_summary: String,
    public_report: String,
    findings: Vec<String>,
    identifiers: Vec<IdentifierRow>,
    identifier_kinds: Vec<Choice>,
    published: bool,
    /// Published, and the draft has changed since: the public page still shows what was
    /// published until it is published again.
    unpublished_changes: bool,
    checked: bool,
}

/// Renders one part of the review, with any errors from a refused change.
pub async fn render_tab(
    state: &AppState,
    signed_in: &SignedIn,
    id: Uuid,
    tab: Tab,
    source: Option<String>,
    errors: Vec<FieldError>,
    values: Pairs,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let today = now.date_naive();
    let txn = state.db.read().await?;
    let (review, case) = learnloop_core::reviews::open(
        &txn,
        crate::extract::journal(state),
        &crate::extract::viewer(signed_in, &source, now),
        id,
    )
    .await?;
    let powers = powers(&signed_in.actor, id, &case.agency_ids);
    let head = head(&txn, &signed_in.actor, &review, &case, tab).await?;
    let layout = Layout::new(format!("{}: {}", tab.label(), review.title), "/reviews")
        .with_errors(errors)
        .with_values(values);
    let html = match tab {
        Tab::Overview => {
            let calendar = calendar::store::load(&txn).await?;
            let rows = stages::of_review(&txn, id).await?;
            let slipped_total = rows
                .iter()
                .map(|stage| stage.slipped_days(&calendar, today))
                .sum();
            let stages = rows
                .iter()
                .map(|stage| {
                    let slipped = stage.slipped_days(&calendar, today);
                    StageRow {
                        key: stage.stage_key.clone(),
                        name: stage.name.clone(),
                        required: stage.required,
                        planned: date(stage.planned_due_on),
                        due: date(stage.due_on),
                        completed: date(stage.completed_on),
                        overdue: stage.overdue(today),
                        slipped: if slipped > 0 {
                            format!("{slipped} working days")
                        } else {
                            String::new()
                        },
                        reason: stage.slippage_reason.clone().unwrap_or_default(),
                    }
                })
                .collect();
            render(&OverviewPage {
                layout,
                head,
                powers,
                version: review.version,
                title: review.title.clone(),
                methodology: review.methodology.clone(),
                methodology_label: reviews::methodology_label(&review.methodology),
                methodologies: choices(
                    reviews::METHODOLOGIES
                        .iter()
                        .map(|(k, l)| (k.to_string(), l.to_string())),
                ),
                terms_of_reference: review.terms_of_reference.clone(),
                subject_perspective: review.subject_perspective.clone(),
                stages,
                slipped_total,
                today: today.format("%Y-%m-%d").to_string(),
            })?
        }
        Tab::People => {
            let names = agency_names(&txn).await?;
            let grants = learnloop_core::access::grants::of_review(&txn, id).await?;
            let people_rows = review_people::of_review(&txn, id)
                .await?
                .into_iter()
                .map(|person| PersonRow {
                    role: review_people::role_label(&person.role),
                    agency: person
                        .agency_id
                        .and_then(|a| names.get(&a).cloned())
                        .unwrap_or_default(),
                    conflict_statement: person.conflict_statement.clone(),
                    access: match person.grant_id.and_then(|g| grants.get(&g)) {
                        Some(grant) if grant.revoked_at.is_some() => "Access ended".to_string(),
                        Some(grant) => format!(
                            "Access to this review{}{}",
                            grant
                                .starts_on
                                .map(|d| format!(" from {}", d.format("%-d %b %Y")))
                                .unwrap_or_default(),
                            grant
                                .ends_on
                                .map(|d| format!(" until {}", d.format("%-d %b %Y")))
                                .unwrap_or_default()
                        ),
                        None => String::new(),
                    },
                    name: person.name,
                })
                .collect();
            let contributions = contributions::of_review(&txn, id)
                .await?
                .into_iter()
                .map(|c| ContributionRow {
                    id: c.id.to_string(),
                    agency: names.get(&c.agency_id).cloned().unwrap_or_default(),
                    kind: contributions::kind_label(&c.kind),
                    due: date(Some(c.due_on)),
                    received: date(c.received_on),
                    overdue: c.received_on.is_none() && today > c.due_on,
                    can_upload: c.received_on.is_none()
                        && can(
                            &signed_in.actor,
                            Action::ContributeToReview,
                            Record::Contribution {
                                review_id: id,
                                agency_id: c.agency_id,
                            },
                        ),
                })
                .collect();
            // Only the partnership team picks from everyone's accounts.
            let accounts = if signed_in.actor.has_role(Role::BusinessManager)
                || signed_in.actor.has_role(Role::ReviewGroupMember)
            {
                choices(
                    people::list(&txn)
                        .await?
                        .into_iter()
                        .filter(|p| p.active)
                        .map(|p| (p.id.to_string(), format!("{} ({})", p.name, p.email))),
                )
            } else {
                Vec::new()
            };
            let mut all_agencies: Vec<(String, String)> = names
                .iter()
                .map(|(id, name)| (id.to_string(), name.clone()))
                .collect();
            all_agencies.sort_by(|a, b| a.1.cmp(&b.1));
            let case_agencies = choices(
                case.agency_ids
                    .iter()
                    .map(|a| (a.to_string(), names.get(a).cloned().unwrap_or_default())),
            );
            render(&PeoplePage {
                layout,
                head,
                powers,
                people: people_rows,
                contributions,
                roles: choices(
                    review_people::ROLES
                        .iter()
                        .map(|(k, l, _)| (k.to_string(), l.to_string())),
                ),
                accounts,
                agencies: choices(all_agencies),
                contribution_kinds: choices(
                    contributions::KINDS
                        .iter()
                        .map(|(k, l)| (k.to_string(), l.to_string())),
                ),
                case_agencies,
            })?
        }
        Tab::Voices => {
            let family = voices::family_of(&txn, id)
                .await?
                .into_iter()
                .map(|f| FamilyRow {
                    relationship: f.relationship,
                    // Names are identifying: only those who run the review see them.
                    name: if powers.manage {
                        f.name.unwrap_or_default()
                    } else {
                        String::new()
                    },
                    invited: format!(
                        "{}{}",
                        f.invited_how,
                        f.invited_on
                            .map(|d| format!(", {}", d.format("%-d %b %Y")))
                            .unwrap_or_default()
                    ),
                    response: voices::response_label(&f.response),
                    what_they_said: f.what_they_said,
                    consent: f.consent_recorded,
                })
                .collect();
            let events = voices::practitioner_events_of(&txn, id)
                .await?
                .into_iter()
                .map(|e| EventRow {
                    held_on: date(Some(e.held_on)),
                    kind: e.kind,
                    attendees: e.attendees,
                    agencies: e.agencies,
                })
                .collect();
            render(&VoicesPage {
                layout,
                head,
                powers,
                family,
                events,
                subject_perspective: review.subject_perspective.clone(),
                invited_how: choices(
                    voices::INVITED_HOW
                        .iter()
                        .map(|h| (h.to_string(), h.to_string())),
                ),
                responses: choices(
                    voices::RESPONSES
                        .iter()
                        .map(|(k, l)| (k.to_string(), l.to_string())),
                ),
                today: today.format("%Y-%m-%d").to_string(),
            })?
        }
        Tab::Content => {
            let names = agency_names(&txn).await?;
            let taxonomy = themes::list(&txn).await?;
            let theme_names: HashMap<String, String> = taxonomy
                .iter()
                .map(|t| (t.code.clone(), t.label.clone()))
                .collect();
            let all = entries::of_review(&txn, id).await?;
            // Earlier learning like each finding, from other reviews and lessons.
            let own: Vec<Uuid> = all.iter().map(|e| e.entry.id).collect();
            let findings: Vec<Uuid> = all
                .iter()
                .filter(|e| e.entry.kind == entries::FINDING)
                .map(|e| e.entry.id)
                .collect();
            let mut similar: HashMap<Uuid, Vec<super::learning_items::SimilarRow>> =
                super::learning_items::similar_rows(&txn, &signed_in.actor, &findings, 8)
                    .await?
                    .into_iter()
                    .map(|(finding, rows)| {
                        let rows = rows
                            .into_iter()
                            .filter(|row| !own.contains(&row.source_id))
                            .take(3)
                            .collect();
                        (finding, rows)
                    })
                    .collect();
            let sections = entries::KINDS
                .iter()
                .map(|(kind, _, heading, _)| EntrySection {
                    id: kind,
                    heading,
                    entries: all
                        .iter()
                        .filter(|e| e.entry.kind == *kind)
                        .map(|e| EntryRow {
                            id: e.entry.id.to_string(),
                            actionable: e.entry.kind == entries::RECOMMENDATION,
                            finding: e.entry.kind == entries::FINDING,
                            similar: similar.remove(&e.entry.id).unwrap_or_default(),
                            title: e.entry.title.clone(),
                            body: e.entry.body.clone(),
                            agencies: e
                                .agency_ids
                                .iter()
                                .filter_map(|a| names.get(a).cloned())
                                .collect(),
                            themes: e
                                .theme_codes
                                .iter()
                                .filter_map(|t| theme_names.get(t).cloned())
                                .collect(),
                        })
                        .collect(),
                })
                .collect();
            let mut all_agencies: Vec<(String, String)> = names
                .iter()
                .map(|(id, name)| (id.to_string(), name.clone()))
                .collect();
            all_agencies.sort_by(|a, b| a.1.cmp(&b.1));
            let theme_choices = |family: &str| {
                choices(
                    taxonomy
                        .iter()
                        .filter(|t| t.active && t.family == family)
                        .map(|t| (t.code.clone(), t.label.clone())),
                )
            };
            render(&ContentPage {
                layout,
                head,
                powers,
                sections,
                kinds: choices(
                    entries::KINDS
                        .iter()
                        .map(|(k, l, _, _)| (k.to_string(), l.to_string())),
                ),
                agencies: choices(all_agencies),
                practice_themes: theme_choices("practice"),
                abuse_themes: theme_choices("abuse"),
                can_act: can(&signed_in.actor, Action::ManageActions, Record::None),
                can_learn: can(&signed_in.actor, Action::ManageLearning, Record::None),
                action_plans: choices(
                    learnloop_core::actions::plans::of_review(&txn, id)
                        .await?
                        .into_iter()
                        .map(|p| (p.id.to_string(), p.title)),
                ),
            })?
        }
        Tab::Documents => {
            let names = agency_names(&txn).await?;
            let all = documents::of_review(&txn, id).await?;
            let existing = choices(
                all.iter()
                    .map(|d| (d.document.id.to_string(), d.document.title.clone())),
            );
            let documents = all
                .into_iter()
                .map(|d| DocumentRow {
                    title: d.document.title.clone(),
                    kind: documents::kind_label(&d.document.kind),
                    agency: d
                        .document
                        .agency_id
                        .and_then(|a| names.get(&a).cloned())
                        .unwrap_or_default(),
                    versions: d
                        .versions
                        .into_iter()
                        .map(|v| VersionRow {
                            id: v.id.to_string(),
                            version: v.version,
                            file_name: v.file_name,
                            size: format!("{:.1} KB", v.size_bytes as f64 / 1024.0),
                            uploaded: v.uploaded_at.format("%-d %b %Y %H:%M").to_string(),
                            metadata_removed: v.metadata_removed,
                        })
                        .collect(),
                })
                .collect();
            let mut all_agencies: Vec<(String, String)> = names
                .iter()
                .map(|(id, name)| (id.to_string(), name.clone()))
                .collect();
            all_agencies.sort_by(|a, b| a.1.cmp(&b.1));
            render(&DocumentsPage {
                layout,
                head,
                powers,
                documents,
                existing,
                kinds: choices(
                    documents::KINDS
                        .iter()
                        .map(|(k, l)| (k.to_string(), l.to_string())),
                ),
                agencies: choices(all_agencies),
            })?
        }
        Tab::Publication => {
            // The words found identify someone: only those who may see the case's identity
            // read them; the independent reviewer sees the kind and the place.
            let findings = if powers.manage || powers.publish {
                publication::check(&txn, &review)
                    .await?
                    .iter()
                    .map(|f| {
                        if powers.identity {
                            f.describe()
                        } else {
                            f.describe_without_text()
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let unpublished_changes = publication::unpublished_changes(&txn, &review).await?;
            let identifiers = if powers.identity {
                publication::identifiers_of_case(&txn, case.case.id)
                    .await?
                    .into_iter()
                    .map(|i| IdentifierRow {
                        kind: publication::IDENTIFIER_KINDS
                            .iter()
                            .find(|(k, _)| *k == i.kind)
                            .map(|(_, l)| *l)
                            .unwrap_or("Reference"),
                        value: i.value,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            render(&PublicationPage {
                layout,
                head,
                powers,
                version: review.version,
                checked: !review.public_summary.is_empty(),
                public_title: review.public_title.clone(),
                public_summary: review.public_summary.clone(),
                public_report: review.public_report.clone(),
                findings,
                identifiers,
                identifier_kinds: choices(
                    publication::IDENTIFIER_KINDS
                        .iter()
                        .map(|(k, l)| (k.to_string(), l.to_string())),
                ),
                published: review.published_on.is_some(),
                unpublished_changes,
            })?
        }
    };
    txn.commit().await?;
    Ok(html)
}

macro_rules! tab_page {
    ($name:ident, $tab:expr) => {
        pub async fn $name(
            State(state): State<AppState>,
            signed_in: SignedIn,
            Source(source): Source,
            Path(id): Path<String>,
        ) -> PageResult<Html<String>> {
            let id = parse_id(&id)?;
            render_tab(&state, &signed_in, id, $tab, source, Vec::new(), Vec::new()).await
        }
    };
}

tab_page!(show, Tab::Overview);
tab_page!(people_page, Tab::People);
tab_page!(voices_page, Tab::Voices);
tab_page!(content_page, Tab::Content);
tab_page!(documents_page, Tab::Documents);
tab_page!(publication_page, Tab::Publication);

/// What a change needs beyond seeing the review.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    Manage,
    Publish,
    Identity,
    Contribute(Uuid),
}

/// Whether the actor has the power a change needs on this review (seeing it is checked apart).
pub fn may_change(actor: &Actor, need: Need, review_id: Uuid, agency_ids: &[Uuid]) -> bool {
    let review_record = Record::Review {
        review_id,
        agency_ids,
    };
    match need {
        Need::Manage => can(actor, Action::ManageReview, review_record),
        Need::Publish => can(actor, Action::PublishReview, review_record),
        Need::Identity => can(actor, Action::ManageCase, Record::Case { agency_ids }),
        Need::Contribute(agency_id) => can(
            actor,
            Action::ContributeToReview,
            Record::Contribution {
                review_id,
                agency_id,
            },
        ),
    }
}

/// Checks, before an upload's body is read, that the actor may see the review and has the
/// power the change needs: a refused upload is never read, let alone parsed. Both refusals are
/// recorded; the allowed read is recorded later, with the change.
pub async fn check_change(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    source: Option<String>,
    need: Need,
    action: &str,
) -> Result<(), PageError> {
    let txn = state.db.read().await?;
    let (_, case) = learnloop_core::reviews::open(
        &txn,
        crate::extract::refusals_only(state),
        &learnloop_core::viewer::Viewer {
            actor,
            source: source.as_deref(),
            now: state.clock.now(),
        },
        id,
    )
    .await?;
    drop(txn);
    if !may_change(actor, need, id, &case.agency_ids) {
        return Err(crate::audited::refused(
            AppError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "You cannot make this change to this review",
            ),
            audit::Event::new(action, "denied")
                .by(actor)
                .on("review", id)
                .from_source(source),
        ));
    }
    Ok(())
}

/// One change to a review: the page it belongs to, what it needs, its name in the audit
/// trail, and the form as sent (shown again if refused).
pub struct Change<'a> {
    pub tab: Tab,
    pub need: Need,
    pub action: &'a str,
    pub values: Pairs,
}

/// Applies one change to a review: checks who may make it, runs it in one transaction,
/// records it in the audit trail and returns to the part of the review it belongs to; refused
/// input shows that page again with the errors, and nothing is written.
pub async fn change<F, Fut>(
    state: &AppState,
    signed_in: &SignedIn,
    id: Uuid,
    source: Option<String>,
    change: Change<'_>,
    apply: F,
) -> PageResult<Response>
where
    F: FnOnce(sea_orm::DatabaseTransaction) -> Fut,
    Fut: std::future::Future<Output = (sea_orm::DatabaseTransaction, Result<(), CoreError>)>,
{
    let Change {
        tab,
        need,
        action,
        values,
    } = change;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let (_, case) = learnloop_core::reviews::open(
        &txn,
        learnloop_core::viewer::Recording::InTransaction,
        &crate::extract::viewer(signed_in, &source, now),
        id,
    )
    .await?;
    let actor = &signed_in.actor;
    if !may_change(actor, need, id, &case.agency_ids) {
        audit::append(
            &txn,
            audit::Event::new(action, "denied")
                .by(actor)
                .on("review", id)
                .from_source(source),
            now,
        )
        .await?;
        txn.commit().await?;
        return Err(PageError(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "You cannot make this change to this review",
        )));
    }
    let (txn, result) = apply(txn).await;
    match result {
        Ok(()) => {
            audit::append(
                &txn,
                audit::Event::new(action, "succeeded")
                    .by(actor)
                    .on("review", id)
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(Redirect::to(&tab.href(id)).into_response())
        }
        Err(CoreError::Invalid(errors)) => {
            txn.rollback().await?;
            let page = render_tab(state, signed_in, id, tab, source, errors, values).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(CoreError::Conflict(message)) => {
            txn.rollback().await?;
            let errors = vec![FieldError::new(
                "version",
                format!(
                    "Someone else saved this review while you were editing ({message}). Your changes were not saved: check the page and try again"
                ),
            )];
            let page = render_tab(state, signed_in, id, tab, source, errors, values).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

fn version_of(pairs: &Pairs) -> i32 {
    forms::field(pairs, "version").trim().parse().unwrap_or(0)
}

// ----- Changes -----

pub async fn update_details(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let input = reviews::DetailsInput {
        title: forms::field(&form, "title"),
        methodology: forms::field(&form, "methodology"),
        terms_of_reference: forms::field(&form, "terms_of_reference"),
        subject_perspective: forms::field(&form, "subject_perspective"),
    };
    let version = version_of(&form);
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::Overview,
            need: Need::Manage,
            action: "review.details_changed",
            values: form.clone(),
        },
        |txn| async move {
            let result = reviews::update_details(&txn, id, &input, version, now)
                .await
                .map(|_| ());
            (txn, result)
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct StageForm {
    #[serde(default)]
    on: String,
    #[serde(default)]
    reason: String,
}

pub async fn complete_stage(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path((id, key)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<StageForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let today = state.clock.now().date_naive();
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::Overview,
            need: Need::Manage,
            action: "review.stage_completed",
            values: Vec::new(),
        },
        |txn| async move {
            let result = async {
                let calendar = calendar::store::load(&txn).await?;
                stages::complete(&txn, id, &key, &form.on, &form.reason, &calendar, today).await
            }
            .await
            .map(|_| ())
            .map_err(|error| {
                let on = format!("on-{key}");
                let reason = format!("reason-{key}");
                rename(
                    error,
                    &[
                        ("completed_on", on.as_str()),
                        ("stage", on.as_str()),
                        ("slippage_reason", reason.as_str()),
                    ],
                )
            });
            (txn, result)
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct RescheduleForm {
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    reason: String,
}

pub async fn reschedule_stage(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path((id, key)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RescheduleForm>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::Overview,
            need: Need::Manage,
            action: "review.stage_rescheduled",
            values: Vec::new(),
        },
        |txn| async move {
            let result = async {
                let calendar = calendar::store::load(&txn).await?;
                stages::reschedule(&txn, id, &key, &form.due_on, &form.reason, &calendar).await
            }
            .await
            .map(|_| ())
            .map_err(|error| {
                let due = format!("due-{key}");
                let reason = format!("due-reason-{key}");
                rename(
                    error,
                    &[
                        ("due_on", due.as_str()),
                        ("slippage_reason", reason.as_str()),
                    ],
                )
            });
            (txn, result)
        },
    )
    .await
}

fn optional_id(pairs: &Pairs, name: &str) -> Option<Uuid> {
    Uuid::parse_str(forms::field(pairs, name).trim()).ok()
}

pub async fn appoint(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let input = review_people::AppointmentInput {
        role: forms::field(&form, "role"),
        person_id: optional_id(&form, "person_id"),
        name: forms::field(&form, "name"),
        agency_id: optional_id(&form, "agency_id"),
        conflict_statement: forms::field(&form, "conflict_statement"),
        starts_on: forms::field(&form, "starts_on"),
        ends_on: forms::field(&form, "ends_on"),
    };
    // Choosing an account grants access: only the partnership team may do that.
    let grants_access = input.person_id.is_some();
    let need = if grants_access
        && !signed_in.actor.has_role(Role::BusinessManager)
        && !signed_in.actor.has_role(Role::ReviewGroupMember)
    {
        Need::Publish
    } else {
        Need::Manage
    };
    let by = signed_in.person.id;
    if input.person_id == Some(by) {
        // The core refuses a self-appointment (nobody grants themselves access); record it.
        crate::audited::append_now(
            &state,
            audit::Event::new("grant.add", "denied")
                .by(&signed_in.actor)
                .on("person", by)
                .from_source(source.clone())
                .because(Some(format!("self-appointment to review {id}"))),
        )
        .await?;
    }
    let actor = signed_in.actor.clone();
    let event_source = source.clone();
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::People,
            need,
            action: "review.person_appointed",
            values: form.clone(),
        },
        |txn| async move {
            let result = async {
                let appointed = review_people::appoint(&txn, id, &input, by, now).await?;
                // An account appointed as independent reviewer now sees case content.
                if let (Some(person_id), Some(grant_id)) = (appointed.person_id, appointed.grant_id)
                {
                    let event = audit::Event::new("grant.case_access_added", "succeeded")
                        .by(&actor)
                        .on("person", person_id)
                        .from_source(event_source)
                        .because(Some(format!(
                            "independent_reviewer (review {id}), grant {grant_id}"
                        )));
                    audit::append(&txn, event, now).await?;
                }
                Ok(())
            }
            .await;
            (txn, result)
        },
    )
    .await
}

pub async fn request_contribution(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let agency_id = optional_id(&form, "contribution_agency");
    let kind = forms::field(&form, "contribution_kind");
    let due = forms::field(&form, "contribution_due");
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::People,
            need: Need::Manage,
            action: "review.contribution_requested",
            values: form.clone(),
        },
        |txn| async move {
            let result = contributions::request(&txn, id, agency_id, &kind, &due)
                .await
                .map(|_| ())
                .map_err(|error| {
                    rename(
                        error,
                        &[
                            ("agency_id", "contribution_agency"),
                            ("kind", "contribution_kind"),
                            ("due_on", "contribution_due"),
                        ],
                    )
                });
            (txn, result)
        },
    )
    .await
}

pub async fn add_family(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let input = voices::FamilyInput {
        relationship: forms::field(&form, "relationship"),
        name: forms::field(&form, "name"),
        invited_how: forms::field(&form, "invited_how"),
        invited_on: forms::field(&form, "invited_on"),
        response: forms::field(&form, "response"),
        what_they_said: forms::field(&form, "what_they_said"),
        consent_recorded: forms::checked(&form, "consent_recorded"),
    };
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::Voices,
            need: Need::Manage,
            action: "review.family_involvement_recorded",
            values: form.clone(),
        },
        |txn| async move {
            let result = voices::add_family(&txn, id, &input).await.map(|_| ());
            (txn, result)
        },
    )
    .await
}

pub async fn add_practitioner_event(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let today = state.clock.now().date_naive();
    let input = voices::PractitionerInput {
        held_on: forms::field(&form, "held_on"),
        kind: forms::field(&form, "event_kind"),
        attendees: forms::field(&form, "attendees"),
        agencies: forms::field(&form, "event_agencies"),
    };
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::Voices,
            need: Need::Manage,
            action: "review.practitioner_event_recorded",
            values: form.clone(),
        },
        |txn| async move {
            let result = voices::add_practitioner_event(&txn, id, &input, today)
                .await
                .map(|_| ())
                .map_err(|error| {
                    rename(
                        error,
                        &[("kind", "event_kind"), ("agencies", "event_agencies")],
                    )
                });
            (txn, result)
        },
    )
    .await
}

pub async fn add_entry(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let input = entries::EntryInput {
        kind: forms::field(&form, "kind"),
        title: forms::field(&form, "title"),
        body: forms::field(&form, "body"),
        agency_ids: forms::ids(&form, "agency_ids"),
        themes: forms::all(&form, "themes"),
    };
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::Content,
            need: Need::Manage,
            action: "review.entry_added",
            values: form.clone(),
        },
        |txn| async move {
            let result = entries::add(&txn, id, &input, now).await.map(|_| ());
            (txn, result)
        },
    )
    .await
}

pub async fn add_identifier(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let kind = forms::field(&form, "identifier_kind");
    let value = forms::field(&form, "identifier_value");
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::Publication,
            need: Need::Identity,
            action: "review.identifier_recorded",
            values: form.clone(),
        },
        |txn| async move {
            let result = async {
                let review = reviews::get(&txn, id).await?;
                publication::add_identifier(&txn, review.case_id, &kind, &value).await
            }
            .await
            .map(|_| ())
            .map_err(|error| {
                rename(
                    error,
                    &[("kind", "identifier_kind"), ("value", "identifier_value")],
                )
            });
            (txn, result)
        },
    )
    .await
}

pub async fn save_public_text(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let input = publication::PublicTextInput {
        public_title: forms::field(&form, "public_title"),
        public_summary: forms::field(&form, "public_summary"),
        public_report: forms::field(&form, "public_report"),
    };
    let version = version_of(&form);
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::Publication,
            need: Need::Manage,
            action: "review.public_text_saved",
            values: form.clone(),
        },
        |txn| async move {
            let result = publication::save_public_text(&txn, id, &input, version, now)
                .await
                .map(|_| ());
            (txn, result)
        },
    )
    .await
}

pub async fn set_hold(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let reason = forms::field(&form, "hold_reason");
    let version = version_of(&form);
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::Publication,
            need: Need::Publish,
            action: "review.publication_hold",
            values: form.clone(),
        },
        |txn| async move {
            let result = publication::set_hold(&txn, id, &reason, version, now)
                .await
                .map(|_| ());
            (txn, result)
        },
    )
    .await
}

/// Publishes, after checking the person's second factor again: publication speaks for the
/// partnership and cannot be taken back.
pub async fn publish(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Source(source): Source,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let confirmation = publication::Confirmation {
        intruder_check: forms::checked(&form, "intruder_check"),
        late_reason: forms::field(&form, "late_reason"),
    };
    let code = forms::field(&form, "code");
    let person_id = signed_in.person.id;
    // Checked, counted with the second-factor failures and audited in its own transaction, so
    // a wrong guess is not rolled back with the refused publication.
    let code_ok =
        crate::auth::step_up::publication_code_ok(&state, &signed_in, &code, source.clone())
            .await?;
    change(
        &state,
        &signed_in,
        id,
        source,
        Change {
            tab: Tab::Publication,
            need: Need::Publish,
            action: "review.published",
            values: form
                .iter()
                .filter(|(key, _)| key != "code")
                .cloned()
                .collect(),
        },
        |txn| async move {
            let result = async {
                let calendar = calendar::store::load(&txn).await?;
                let published =
                    publication::publish(&txn, id, &confirmation, person_id, &calendar, now).await;
                match (code_ok, published) {
                    (true, result) => result.map(|_| ()),
                    (false, Ok(_)) => Err(CoreError::invalid(
                        "code",
                        "Enter the current code from your authenticator app",
                    )),
                    (false, Err(CoreError::Invalid(mut errors))) => {
                        errors.push(FieldError::new(
                            "code",
                            "Enter the current code from your authenticator app",
                        ));
                        Err(CoreError::Invalid(errors))
                    }
                    (false, Err(other)) => Err(other),
                }
            }
            .await;
            (txn, result)
        },
    )
    .await
}
