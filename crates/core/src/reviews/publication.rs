//! Publication of a review's anonymised public summary and report. Before publication the
//! public text is checked against every name, date of birth, address, postcode, school and
//! reference recorded on the case and the review, and publication is refused while any appear;
//! a person then confirms a motivated-intruder check (with a second factor, checked by the
//! caller). Parallel processes (an inquest, a criminal trial) can hold publication.
//!
//! The check covers everything that goes public: the public title, summary and report, and
//! every finding and recommendation. What passed is frozen (`crate::published`, and the
//! library's frozen copies); later edits change only the draft until the review is published
//! again, through the same check, confirmation and second factor.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};
use serde::Serialize;

use super::stages;
use crate::anonymise::{self, Hit, Identifier};
use crate::calendar::Calendar;
use crate::error::{CoreError, CoreResult};
use crate::review_types::{PRE_PUBLICATION_NOTICE, PUBLICATION};
use crate::{FieldError, cases, validate};

/// Identifiers recorded on a case (besides the subject's name and date of birth, which the case
/// itself holds): family names, addresses, postcodes, schools, other references.
pub mod identifiers {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_identifiers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub case_id: Uuid,
        pub kind: String,
        pub value: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub const IDENTIFIER_KINDS: [(&str, &str); 6] = [
    ("name", "Name"),
    ("date_of_birth", "Date of birth"),
    ("address", "Address"),
    ("postcode", "Postcode"),
    ("school", "School"),
    ("reference", "Reference"),
];

/// Records something that identifies a person and must never be published.
pub async fn add_identifier(
    db: &impl ConnectionTrait,
    case_id: Uuid,
    kind: &str,
    value: &str,
) -> CoreResult<identifiers::Model> {
    let mut errors = Vec::new();
    if !IDENTIFIER_KINDS.iter().any(|(key, _)| *key == kind) {
        errors.push(FieldError::new(
            "kind",
            "Choose what kind of identifier this is",
        ));
    }
    let value = validate::required_text("value", value, 200, &mut errors);
    if kind == "date_of_birth" && errors.is_empty() {
        cases::parse_date("value", &value, &mut errors);
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    Ok(identifiers::Entity::insert(identifiers::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        kind: Set(kind.to_string()),
        value: Set(value),
    })
    .exec_with_returning(db)
    .await?)
}

pub async fn identifiers_of_case(
    db: &impl ConnectionTrait,
    case_id: Uuid,
) -> CoreResult<Vec<identifiers::Model>> {
    Ok(identifiers::Entity::find()
        .filter(identifiers::Column::CaseId.eq(case_id))
        .order_by_asc(identifiers::Column::Kind)
        .order_by_asc(identifiers::Column::Id)
        .all(db)
        .await?)
}

/// Everything recorded on the case and the review that must not appear in public text.
pub async fn gather(
    db: &impl ConnectionTrait,
    review: &super::Model,
) -> CoreResult<Vec<Identifier>> {
    let case = cases::get(db, review.case_id).await?.case;
    let mut found = vec![Identifier::Reference(case.reference.clone())];
    if let Some(name) = &case.subject_name {
        found.push(Identifier::Name(name.clone()));
    }
    if let Some(dob) = case.subject_dob {
        found.push(Identifier::DateOfBirth(dob));
    }
    if let Some(reference) = &review.reference {
        found.push(Identifier::Reference(reference.clone()));
    }
    for row in identifiers_of_case(db, case.id).await? {
        found.push(match row.kind.as_str() {
            "name" => Identifier::Name(row.value),
            "date_of_birth" => match NaiveDate::parse_from_str(&row.value, "%Y-%m-%d") {
                Ok(date) => Identifier::DateOfBirth(date),
                Err(_) => Identifier::Reference(row.value),
            },
            "address" => Identifier::Address(row.value),
            "postcode" => Identifier::Postcode(row.value),
            "school" => Identifier::School(row.value),
            _ => Identifier::Reference(row.value),
        });
    }
    // Family members named in the review, in every review of the case.
    for sibling in super::of_case(db, case.id).await? {
        for contact in super::voices::family_of(db, sibling.id).await? {
            if let Some(name) = contact.name {
                found.push(Identifier::Name(name));
            }
        }
    }
    Ok(found)
}

/// One identifier found in the text that would go public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    /// The field it was found in: public_title, public_summary, public_report, or entries
    /// (a finding or recommendation).
    pub field: String,
    /// Where, in words: "the public summary" or "finding 3".
    pub place: String,
    /// name, date of birth, address, postcode, school or reference.
    #[schema(value_type = String)]
    pub kind: anonymise::Kind,
    /// Character offset in that field.
    pub offset: usize,
    /// The words found, as written: identifying, so shown only to those who may see the
    /// case's identity (`describe`); everyone else gets `describe_without_text`.
    #[serde(skip)]
    pub found: String,
}

impl Finding {
    /// "a name (“Quinn”) in the public summary at character 12".
    pub fn describe(&self) -> String {
        format!(
            "{} (“{}”) in {} at character {}",
            self.kind.label(),
            self.found,
            self.place,
            self.offset + 1
        )
    }

    /// "a name in the public summary": for those who may not see the case's identity. Not
    /// even the offset, which would tell which of several guesses matched.
    pub fn describe_without_text(&self) -> String {
        format!("{} in {}", self.kind.label(), self.place)
    }
}

/// Checks everything of the review that would go public: its public text and every finding
/// and recommendation. An empty list means nothing identifying was found.
pub async fn check(db: &impl ConnectionTrait, review: &super::Model) -> CoreResult<Vec<Finding>> {
    let identifiers = gather(db, review).await?;
    let mut texts: Vec<(String, String, String)> = vec![
        (
            "public_title".to_string(),
            "the public title".to_string(),
            review.public_title.clone(),
        ),
        (
            "public_summary".to_string(),
            "the public summary".to_string(),
            review.public_summary.clone(),
        ),
        (
            "public_report".to_string(),
            "the public report".to_string(),
            review.public_report.clone(),
        ),
    ];
    for entry in super::entries::of_review(db, review.id).await? {
        let kind = entry.entry.kind.as_str();
        if kind != super::entries::FINDING && kind != super::entries::RECOMMENDATION {
            continue;
        }
        let label = super::entries::kind_label(kind).to_lowercase();
        let number = entry.entry.position;
        texts.push((
            "entries".to_string(),
            format!("the title of {label} {number}"),
            entry.entry.title.clone(),
        ));
        texts.push((
            "entries".to_string(),
            format!("the text of {label} {number}"),
            entry.entry.body.clone(),
        ));
    }
    let mut findings = Vec::new();
    for (field, place, text) in texts {
        for Hit {
            kind,
            offset,
            found,
        } in anonymise::check(&text, &identifiers)
        {
            findings.push(Finding {
                field: field.clone(),
                place: place.clone(),
                kind,
                offset,
                found,
            });
        }
    }
    Ok(findings)
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct PublicTextInput {
    #[serde(default)]
    pub public_title: String,
    #[serde(default)]
    pub public_summary: String,
    #[serde(default)]
    pub public_report: String,
}

/// Saves the public text (drafting is allowed with identifiers in it; publishing is not).
pub async fn save_public_text(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    input: &PublicTextInput,
    version: i32,
    now: DateTime<Utc>,
) -> CoreResult<super::Model> {
    // After publication this is the draft of the next publication: the public page keeps
    // showing the frozen copy until the review is published again.
    let review = super::get(db, review_id).await?;
    let mut errors = Vec::new();
    let title = validate::required_text("public_title", &input.public_title, 200, &mut errors);
    let summary =
        validate::required_text("public_summary", &input.public_summary, 10_000, &mut errors);
    let report = input.public_report.trim().to_string();
    if report.chars().count() > 200_000 {
        errors.push(FieldError::new(
            "public_report",
            "The report must be 200,000 characters or fewer",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    super::bump(db, &review, version, now, |active| {
        active.public_title = Set(title);
        active.public_summary = Set(summary);
        active.public_report = Set(report);
    })
    .await
}

/// Puts publication on hold for a parallel process, or lifts the hold (`reason` empty).
pub async fn set_hold(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    reason: &str,
    version: i32,
    now: DateTime<Utc>,
) -> CoreResult<super::Model> {
    let review = super::get(db, review_id).await?;
    let reason = reason.trim();
    if reason.chars().count() > 2_000 {
        return Err(CoreError::invalid(
            "hold_reason",
            "The reason must be 2,000 characters or fewer",
        ));
    }
    let hold = (!reason.is_empty()).then(|| reason.to_string());
    super::bump(db, &review, version, now, |active| {
        active.hold_reason = Set(hold);
    })
    .await
}

/// What the person publishing confirms.
#[derive(Debug, Clone, Default)]
pub struct Confirmation {
    /// They read the text as a motivated intruder would and found nothing that identifies.
    pub intruder_check: bool,
    /// Why publication is late, when it is.
    pub late_reason: String,
}

/// Publishes the review today, or publishes it again with what changed since. Refused, with
/// what and where, while: publication is on hold; the public title or summary is missing; any
/// identifier appears in the public text or in a finding or recommendation; the
/// motivated-intruder check is not confirmed; and, the first time, while a required stage
/// before publication is open, the pre-publication notice was not given early enough, or a
/// late publication has no reason. The caller has checked the second factor. What passed is
/// frozen as the public copy.
pub async fn publish(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    confirmation: &Confirmation,
    by: Uuid,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> CoreResult<super::Model> {
    let today = now.date_naive();
    let review = super::get(db, review_id).await?;
    let again = review.published_on.is_some();
    let mut errors = Vec::new();
    if let Some(reason) = &review.hold_reason {
        errors.push(FieldError::new(
            "hold_reason",
            format!("Publication is on hold: {reason}. Lift the hold first"),
        ));
    }
    if review.public_summary.trim().is_empty() || review.public_title.trim().is_empty() {
        errors.push(FieldError::new(
            "public_summary",
            "Write the public title and summary before publishing",
        ));
    }
    // The one who publishes may see the case's identity, so the words found are named.
    for finding in check(db, &review).await? {
        errors.push(FieldError::new(
            finding.field.clone(),
            format!("Remove {} before publishing", finding.describe()),
        ));
    }
    let all = stages::of_review(db, review_id).await?;
    let late_reason = confirmation.late_reason.trim();
    if !again {
        first_publication_rules(db, &review, &all, late_reason, calendar, today, &mut errors)
            .await?;
    }
    if !confirmation.intruder_check {
        errors.push(FieldError::new(
            "intruder_check",
            "Confirm that you read the public text as a motivated intruder would, and nothing identifies anyone",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    let published = super::bump(db, &review, review.version, now, |active| {
        if !again {
            active.published_on = Set(Some(today));
            active.published_by = Set(Some(by));
        }
        active.intruder_check_by = Set(Some(by));
    })
    .await?;
    if !again {
        stages::complete_publication(
            db,
            review_id,
            today,
            (!late_reason.is_empty()).then(|| late_reason.to_string()),
        )
        .await?;
    }
    crate::published::freeze(
        db,
        crate::published::REVIEW,
        review_id,
        &crate::published::Checked {
            title: &published.public_title,
            summary: &published.public_summary,
            body: &published.public_report,
            review_type: &published.review_type_code,
        },
        by,
        today,
    )
    .await?;
    // What passed the check becomes the library's public copies of the review's findings.
    let documents = super::entries::library_documents(db, review_id).await?;
    crate::library::freeze(db, review_id, documents).await?;
    super::get(db, published.id).await
}

/// What only the first publication must satisfy: the stages before it, the national panel's
/// notice, and a reason when it is late.
async fn first_publication_rules(
    db: &impl ConnectionTrait,
    review: &super::Model,
    all: &[stages::Model],
    late_reason: &str,
    calendar: &Calendar,
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> CoreResult<()> {
    if let Some(publication) = all.iter().find(|stage| stage.stage_key == PUBLICATION)
        && let Some(missing) = stages::missing_before(all, publication)
    {
        errors.push(FieldError::new(
            "stage",
            format!(
                "Complete “{}” first: it is a required stage before publication",
                missing.name
            ),
        ));
    }
    let config = crate::review_types::store::get(db, &review.review_type_code)
        .await?
        .config();
    if let Some(days) = config.clocks.pre_publication_days {
        let notice = all
            .iter()
            .find(|stage| stage.stage_key == PRE_PUBLICATION_NOTICE)
            .and_then(|stage| stage.completed_on);
        let earliest = notice.map(|on| calendar.add_working_days(on, days).date);
        if earliest.is_some_and(|earliest| today < earliest) {
            errors.push(FieldError::new(
                "stage",
                format!(
                    "The national panel must have the report {days} working days before publication: publish on or after {}",
                    earliest.map(|d| d.format("%-d %B %Y").to_string()).unwrap_or_default()
                ),
            ));
        }
    }
    let due = all
        .iter()
        .find(|stage| stage.stage_key == PUBLICATION)
        .and_then(|stage| stage.due_on);
    if due.is_some_and(|due| today > due) && late_reason.is_empty() {
        errors.push(FieldError::new(
            "late_reason",
            format!(
                "Publication is {} working days after its due date: record why (regulation 14 monitoring)",
                due.map(|due| calendar.working_days_until(due, today)).unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

/// Whether the review's draft differs from what was published: its public text, or findings
/// and recommendations added or changed since.
pub async fn unpublished_changes(
    db: &impl ConnectionTrait,
    review: &super::Model,
) -> CoreResult<bool> {
    let Some(public) = crate::published::of(db, crate::published::REVIEW, review.id).await? else {
        return Ok(false);
    };
    if public.title != review.public_title
        || public.summary != review.public_summary
        || public.body != review.public_report
    {
        return Ok(true);
    }
    let frozen = crate::library::frozen_count(db, review.id).await?;
    let live = super::entries::Entity::find()
        .filter(super::entries::Column::ReviewId.eq(review.id))
        .filter(
            super::entries::Column::Kind
                .is_in([super::entries::FINDING, super::entries::RECOMMENDATION]),
        )
        .count(db)
        .await?;
    Ok(frozen != live)
}
