//! The demo's action plans, one in each state: signed off with its assurance check due now;
//! signed off with the check months away; active with actions on track, at risk, overdue and
//! escalated, and completed awaiting sign-off; and reopened after an assurance check found the
//! learning not embedded. Every action is fictional.

use chrono::{DateTime, Months, NaiveDate, TimeDelta, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::entity::prelude::*;

use crate::actions::{self, NewAction, Rules, assurance, plans, updates};
use crate::error::CoreResult;
use crate::{CoreError, agencies, groups, people, reminders, reviews};

struct Demo<'a, C: ConnectionTrait> {
    db: &'a C,
    manager: Uuid,
}

impl<C: ConnectionTrait> Demo<'_, C> {
    async fn agency(&self, code: &str) -> CoreResult<Uuid> {
        Ok(agencies::find_by_code(self.db, code)
            .await?
            .ok_or(CoreError::NotFound)?
            .id)
    }

    async fn person(&self, email: &str) -> CoreResult<Uuid> {
        Ok(people::find_by_email(self.db, email)
            .await?
            .ok_or(CoreError::NotFound)?
            .id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn action(
        &self,
        plan: Option<Uuid>,
        source: &str,
        description: &str,
        agency: &str,
        lead: &str,
        due: NaiveDate,
        themes: &[&str],
        at: DateTime<Utc>,
    ) -> CoreResult<actions::Model> {
        actions::create(
            self.db,
            &NewAction {
                plan_id: plan,
                source_kind: source.to_string(),
                source_entry_id: None,
                description: description.to_string(),
                owner_agency_id: Some(self.agency(agency).await?),
                lead_person_id: Some(self.person(lead).await?),
                due_on: due.format("%Y-%m-%d").to_string(),
                intended_outcome: "Practitioners share concerns early and the child's or adult's voice is recorded.".to_string(),
                success_evidence: "A re-audit of 20 cases shows the change in at least 16.".to_string(),
                themes: themes.iter().map(|t| String::from(*t)).collect(),
                status: None,
            },
            self.manager,
            at,
        )
        .await
    }

    async fn update(
        &self,
        action: &actions::Model,
        status: &str,
        narrative: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> CoreResult<actions::Model> {
        let current = actions::get(self.db, action.id).await?;
        updates::add(
            self.db,
            action.id,
            &updates::UpdateInput {
                status: status.to_string(),
                narrative: narrative.to_string(),
            },
            current.version,
            &[],
            self.person(by).await?,
            at,
        )
        .await
    }

    async fn complete_and_sign_off(
        &self,
        action: &actions::Model,
        by: &str,
        at: DateTime<Utc>,
    ) -> CoreResult<()> {
        let done = self
            .update(
                action,
                "completed",
                "Done: the new procedure is published and briefed to every team.",
                by,
                at,
            )
            .await?;
        plans::sign_off_action(self.db, action.id, done.version, self.manager, at).await?;
        Ok(())
    }
}

fn months_ago(now: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(months)).unwrap_or(now)
}

async fn review_of(db: &impl ConnectionTrait, pseudonym: &str) -> CoreResult<Option<Uuid>> {
    Ok(reviews::list_with_cases(db)
        .await?
        .into_iter()
        .find(|listed| listed.pseudonym == pseudonym)
        .map(|listed| listed.review.id))
}

/// Seeds the demo's action plans once.
pub async fn seed(db: &impl ConnectionTrait, now: DateTime<Utc>, manager: Uuid) -> CoreResult<()> {
    if actions::Entity::find().one(db).await?.is_some() {
        return Ok(());
    }
    let demo = Demo { db, manager };
    let today = now.date_naive();
    let rules = Rules::default();
    let group = groups::find_by_code(db, "practice-improvement")
        .await?
        .map(|g| g.id);
    let new_plan = |title: &str, source: &str, review: Option<Uuid>| plans::NewPlan {
        title: title.to_string(),
        source_kind: source.to_string(),
        review_id: review,
        group_id: group,
    };

    // Signed off thirteen months ago: the assurance check is due now.
    let started = months_ago(now, 20);
    let plan = plans::create(
        db,
        &new_plan(
            "Child B: local child safeguarding practice review",
            "review",
            review_of(db, "Child B").await?,
        ),
        started,
    )
    .await?;
    for (description, agency, lead, themes) in [
        (
            "Publish a procedure for identifying and engaging fathers and male carers at every assessment.",
            "fbc-childrens",
            "review.member@fernbridge.example",
            &["fathers_male_carers"][..],
        ),
        (
            "Add neglect indicators to the health visiting contact record.",
            "wch-nhs",
            "practitioner@fernbridge.example",
            &["neglect"][..],
        ),
        (
            "Brief all response officers on sharing concerns about young children seen at domestic incidents.",
            "wealdshire-police",
            "police.lead@fernbridge.example",
            &["information_sharing"][..],
        ),
    ] {
        let action = demo
            .action(
                Some(plan.id),
                "review",
                description,
                agency,
                lead,
                (started + TimeDelta::days(150)).date_naive(),
                themes,
                started,
            )
            .await?;
        demo.update(
            &action,
            "on_track",
            "Draft agreed with team managers.",
            lead,
            started + TimeDelta::days(60),
        )
        .await?;
        demo.complete_and_sign_off(&action, lead, months_ago(now, 14))
            .await?;
    }
    plans::sign_off_plan(db, plan.id, manager, &rules, months_ago(now, 13)).await?;

    // Signed off two months ago: the assurance check is months away.
    let started = months_ago(now, 8);
    let plan = plans::create(
        db,
        &new_plan(
            "Training needs analysis: professional curiosity",
            "direct",
            None,
        ),
        started,
    )
    .await?;
    let action = demo
        .action(
            Some(plan.id),
            "direct",
            "Run four multi-agency workshops on professional curiosity.",
            "fbc-adults",
            "adults.lead@fernbridge.example",
            (started + TimeDelta::days(120)).date_naive(),
            &["professional_curiosity"],
            started,
        )
        .await?;
    demo.complete_and_sign_off(
        &action,
        "adults.lead@fernbridge.example",
        months_ago(now, 3),
    )
    .await?;
    plans::sign_off_plan(db, plan.id, manager, &rules, months_ago(now, 2)).await?;

    // Active: on track, at risk, overdue (and escalated), and completed awaiting sign-off.
    let started = months_ago(now, 3);
    let plan = plans::create(
        db,
        &new_plan(
            "Adult H: safeguarding adults review",
            "review",
            review_of(db, "Adult H").await?,
        ),
        started,
    )
    .await?;
    let on_track = demo.action(Some(plan.id), "review", "Embed mental capacity assessment prompts for hoarding and fire risk in adult social care assessments.", "fbc-adults", "adults.lead@fernbridge.example", today + TimeDelta::days(60), &["mental_capacity", "self_neglect"], started).await?;
    demo.update(
        &on_track,
        "on_track",
        "Prompts drafted; testing with two teams.",
        "adults.lead@fernbridge.example",
        now - TimeDelta::days(10),
    )
    .await?;
    let at_risk = demo
        .action(
            Some(plan.id),
            "review",
            "Agree a joint fire service and adult social care referral route for people who hoard.",
            "fbc-adults",
            "adults.lead@fernbridge.example",
            today + TimeDelta::days(9),
            &["multi_agency_working"],
            started,
        )
        .await?;
    demo.update(
        &at_risk,
        "at_risk",
        "The fire service's new data sharing agreement is not yet signed.",
        "adults.lead@fernbridge.example",
        now - TimeDelta::days(5),
    )
    .await?;
    let overdue = demo
        .action(
            Some(plan.id),
            "review",
            "Review how community mental health teams escalate missed appointments.",
            "wealdshire-police",
            "police.lead@fernbridge.example",
            today - TimeDelta::days(30),
            &["escalation"],
            started,
        )
        .await?;
    demo.update(
        &overdue,
        "off_track",
        "The review has not started: staff shortages.",
        "police.lead@fernbridge.example",
        now - TimeDelta::days(20),
    )
    .await?;
    let done = demo
        .action(
            Some(plan.id),
            "review",
            "Share the learning briefing with every housing provider.",
            "fb-homes",
            "business.manager@fernbridge.example",
            today - TimeDelta::days(5),
            &["information_sharing"],
            started,
        )
        .await?;
    demo.update(
        &done,
        "completed",
        "Briefing sent to all providers on the framework.",
        "business.manager@fernbridge.example",
        now - TimeDelta::days(6),
    )
    .await?;

    // Reopened: signed off fourteen months ago, the check found the learning not embedded.
    let started = months_ago(now, 24);
    let plan = plans::create(
        db,
        &new_plan("Multi-agency case file audit: neglect", "audit", None),
        started,
    )
    .await?;
    let action = demo
        .action(
            Some(plan.id),
            "audit",
            "Use the neglect screening tool at every early help assessment.",
            "fbc-childrens",
            "review.member@fernbridge.example",
            (started + TimeDelta::days(120)).date_naive(),
            &["neglect"],
            started,
        )
        .await?;
    demo.complete_and_sign_off(
        &action,
        "review.member@fernbridge.example",
        months_ago(now, 15),
    )
    .await?;
    let (_, check) =
        plans::sign_off_plan(db, plan.id, manager, &rules, months_ago(now, 14)).await?;
    assurance::record(
        db,
        check.id,
        &assurance::Finding {
            embedded: "no".to_string(),
            evidence_kind: "re_audit".to_string(),
            evidence: "Re-audit of 20 early help assessments: the tool was used in 7.".to_string(),
            judgement:
                "Not embedded: the tool is not in the case recording system, so it is skipped."
                    .to_string(),
        },
        manager,
        months_ago(now, 1),
    )
    .await?;

    // Actions from other sources, one of them long overdue and escalated.
    let started = months_ago(now, 4);
    demo.action(None, "complaint", "Write to the family explaining how their complaint changed the discharge planning checklist.", "fw-icb", "health.lead@fernbridge.example", today + TimeDelta::days(20), &[], started).await?;
    let late = demo
        .action(
            None,
            "whistleblowing",
            "Audit out-of-hours supervision records in supported living services.",
            "fbc-adults",
            "adults.lead@fernbridge.example",
            today - TimeDelta::days(45),
            &["supervision"],
            started,
        )
        .await?;
    demo.update(
        &late,
        "off_track",
        "Audit postponed twice.",
        "adults.lead@fernbridge.example",
        now - TimeDelta::days(40),
    )
    .await?;
    demo.action(
        None,
        "risk",
        "Mitigate the risk that health visiting vacancies delay new birth visits.",
        "wch-nhs",
        "practitioner@fernbridge.example",
        today + TimeDelta::days(90),
        &[],
        started,
    )
    .await?;

    // Queue the reminders and escalations these dates call for.
    reminders::scan(db, "http://127.0.0.1:8080", now).await?;
    Ok(())
}
