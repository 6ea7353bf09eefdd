//! The assurance check, a set time after an action plan is signed off (seed §5.8.4): is the
//! learning embedded? It records the evidence (a re-audit, an indicator, practitioner feedback)
//! and a judgement; "not embedded" reopens the plan.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use super::plans;
use crate::error::{CoreError, CoreResult};
use crate::{FieldError, validate};

// The check's table lives in `checks`, which plans schedule through: assurance depends on
// plans (a "not embedded" finding reopens one), never the other way round.
pub use super::checks::{ActiveModel, Column, Entity, Model, PrimaryKey, Relation, due, of_plan};

pub const EMBEDDED: [(&str, &str); 3] = [
    ("yes", "Embedded"),
    ("partly", "Partly embedded"),
    ("no", "Not embedded"),
];

pub const EVIDENCE_KINDS: [(&str, &str); 5] = [
    ("re_audit", "Re-audit"),
    ("indicator", "Performance indicator"),
    ("practitioner_feedback", "Practitioner feedback"),
    ("family_feedback", "Family or service user feedback"),
    ("training_evaluation", "Training evaluation"),
];

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Finding {
    pub embedded: String,
    pub evidence_kind: String,
    pub evidence: String,
    pub judgement: String,
}

/// Records the check once it is due. "Not embedded" reopens the plan.
pub async fn record(
    db: &impl ConnectionTrait,
    check_id: Uuid,
    finding: &Finding,
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let check = Entity::find_by_id(check_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    let today = now.date_naive();
    let mut errors = Vec::new();
    if check.completed_on.is_some() {
        errors.push(FieldError::new(
            "embedded",
            "This check is already recorded",
        ));
    }
    if today < check.due_on {
        errors.push(FieldError::new(
            "embedded",
            format!(
                "The check is not due until {}",
                check.due_on.format("%-d %B %Y")
            ),
        ));
    }
    if !EMBEDDED.iter().any(|(key, _)| *key == finding.embedded) {
        errors.push(FieldError::new(
            "embedded",
            "Choose whether the learning is embedded",
        ));
    }
    if !EVIDENCE_KINDS
        .iter()
        .any(|(key, _)| *key == finding.evidence_kind)
    {
        errors.push(FieldError::new(
            "evidence_kind",
            "Choose the kind of evidence",
        ));
    }
    let evidence = validate::required_text("evidence", &finding.evidence, 10_000, &mut errors);
    let judgement = validate::required_text("judgement", &finding.judgement, 10_000, &mut errors);
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    let mut active: ActiveModel = check.clone().into();
    active.completed_on = Set(Some(today));
    active.embedded = Set(Some(finding.embedded.clone()));
    active.evidence_kind = Set(Some(finding.evidence_kind.clone()));
    active.evidence = Set(Some(evidence));
    active.judgement = Set(Some(judgement.clone()));
    active.recorded_by = Set(Some(by));
    let saved = active.update(db).await?;
    if finding.embedded == "no" {
        plans::reopen(db, check.plan_id, &judgement, by, now).await?;
    }
    Ok(saved)
}
