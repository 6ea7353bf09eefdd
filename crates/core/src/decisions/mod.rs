//! The Review Group's decisions: a review type's criteria answered as a checklist, the
//! recommendation the rules give, and the decision a person confirms or overrides with a
//! reason. Deciding to review starts a rapid review (serious child safeguarding cases) or
//! commissions a review of the chosen type.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};
use serde::Deserialize;

use crate::calendar::Calendar;
use crate::cases::{self, SubjectKind};
use crate::error::{CoreError, CoreResult};
use crate::review_types::{self, Answers, Recommendation};
use crate::reviews::{self, Origin};
use crate::{FieldError, rapid_reviews, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_decisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub review_type_code: String,
    /// JSON object of criterion key to answer.
    pub answers: String,
    pub recommendation: String,
    /// "review" or "no_review".
    pub outcome: String,
    pub overridden: bool,
    pub override_reason: Option<String>,
    pub rationale: String,
    pub immediate_actions: Option<String>,
    pub decided_by: Uuid,
    pub decided_on: NaiveDate,
    /// The meeting's group (the Review Group).
    pub group_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn answers(&self) -> Answers {
        serde_json::from_str(&self.answers).unwrap_or_default()
    }
    pub fn holds_review(&self) -> bool {
        self.outcome == "review"
    }
}

/// A decision as a person makes it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DecisionInput {
    pub review_type: String,
    /// Criterion key to answer; unanswered criteria count as "no".
    #[serde(default)]
    pub answers: Answers,
    /// True to hold a review (or start the rapid review), false for no review.
    pub hold_review: Option<bool>,
    #[serde(default)]
    pub override_reason: Option<String>,
    pub rationale: String,
    #[serde(default)]
    pub immediate_actions: Option<String>,
    /// YYYY-MM-DD: the day of the meeting that decided.
    pub decided_on: String,
    #[serde(default)]
    pub group_id: Option<Uuid>,
}

/// What a decision set in motion.
#[derive(Debug, Clone)]
pub struct Decided {
    pub decision: Model,
    pub recommendation: Recommendation,
    pub rapid_review_id: Option<Uuid>,
    pub review_id: Option<Uuid>,
}

fn family_fits(family: &str, subject: SubjectKind) -> bool {
    match family {
        "children" => subject == SubjectKind::Child,
        "adults" => subject == SubjectKind::Adult,
        _ => true,
    }
}

/// Records a decision and starts what it decides. Call inside a write transaction.
pub async fn decide(
    db: &impl ConnectionTrait,
    case_id: Uuid,
    input: DecisionInput,
    decided_by: Uuid,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> CoreResult<Decided> {
    let record = cases::get(db, case_id).await?;
    let mut errors = Vec::new();
    let review_type = review_types::store::get(db, &input.review_type).await.ok();
    let Some(review_type) = review_type else {
        return Err(CoreError::invalid("review_type", "Choose a type of review"));
    };
    let config = review_type.config();
    let subject = SubjectKind::parse(&record.case.subject_kind).unwrap_or(SubjectKind::Adult);
    if !family_fits(&review_type.family, subject) {
        errors.push(FieldError::new(
            "review_type",
            format!(
                "A {} is not for a case about {}",
                review_type.name,
                if subject == SubjectKind::Child {
                    "a child"
                } else {
                    "an adult"
                }
            ),
        ));
    }
    let mut answers = Answers::new();
    for criterion in &config.criteria {
        answers.insert(
            criterion.key.clone(),
            input.answers.get(&criterion.key).copied().unwrap_or(false),
        );
    }
    for key in input.answers.keys() {
        if !answers.contains_key(key) {
            errors.push(FieldError::new(
                format!("answers.{key}"),
                "is not a criterion of this review type",
            ));
        }
    }
    let recommendation = review_types::recommend(&review_type.code, &answers);
    let Some(hold_review) = input.hold_review else {
        errors.push(FieldError::new(
            "hold_review",
            "Choose whether to hold a review",
        ));
        return Err(CoreError::Invalid(errors));
    };
    let overridden = recommendation.is_overridden_by(hold_review);
    let override_reason = validate::optional_text(
        "override_reason",
        input.override_reason.as_deref(),
        4000,
        &mut errors,
    );
    if overridden && override_reason.is_none() {
        errors.push(FieldError::new(
            "override_reason",
            "Give the reason for departing from the recommendation",
        ));
    }
    let rationale = validate::required_text("rationale", &input.rationale, 8000, &mut errors);
    let immediate_actions = validate::optional_text(
        "immediate_actions",
        input.immediate_actions.as_deref(),
        8000,
        &mut errors,
    );
    let decided_on = cases::parse_date("decided_on", &input.decided_on, &mut errors);
    if decided_on.is_some_and(|date| date > now.date_naive() || date < record.case.aware_on) {
        errors.push(FieldError::new(
            "decided_on",
            "The decision date must be between the day the partnership became aware and today",
        ));
    }
    let Some(decided_on) = decided_on.filter(|_| errors.is_empty()) else {
        return Err(CoreError::Invalid(errors));
    };
    let decision = Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        review_type_code: Set(review_type.code.clone()),
        answers: Set(serde_json::to_string(&answers).unwrap_or_default()),
        recommendation: Set(recommendation.as_str().to_string()),
        outcome: Set(if hold_review { "review" } else { "no_review" }.to_string()),
        overridden: Set(overridden),
        override_reason: Set(if overridden { override_reason } else { None }),
        rationale: Set(rationale),
        immediate_actions: Set(immediate_actions),
        decided_by: Set(decided_by),
        decided_on: Set(decided_on),
        group_id: Set(input.group_id),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await?;
    let (mut rapid_review_id, mut review_id) = (None, None);
    if hold_review {
        if review_type.code == review_types::SERIOUS_CHILD_CASE {
            let from = rapid_reviews::Start {
                case_id,
                decision_id: Some(decision.id),
                day_zero: record.case.aware_on,
                agency_ids: &record.agency_ids,
            };
            let full = rapid_reviews::start(db, from, &config, calendar, now).await?;
            rapid_review_id = Some(full.review.id);
        } else {
            review_id = Some(
                reviews::commission(
                    db,
                    reviews::NewReview {
                        id: None,
                        case_id,
                        review_type_code: &review_type.code,
                        commissioned_on: decided_on,
                        origin: Origin::Decision,
                        partnership_id: None,
                    },
                    now,
                )
                .await?
                .id,
            );
        }
    }
    Ok(Decided {
        decision,
        recommendation,
        rapid_review_id,
        review_id,
    })
}

pub async fn of_case(db: &impl ConnectionTrait, case_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::CaseId.eq(case_id))
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?)
}

/// The decisions on any of `case_ids`, oldest first (callers pass at most a few hundred ids).
pub async fn of_cases(db: &impl ConnectionTrait, case_ids: &[Uuid]) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::CaseId.is_in(case_ids.to_vec()))
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?)
}
