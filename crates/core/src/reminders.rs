//! Reminders and escalation for actions, queued in the outbox: to the lead when an action is
//! due within the reminder window and again when it is overdue; to the owner agency's
//! safeguarding leads when it is still overdue after the escalation interval; and a weekly
//! digest of each lead's open actions. Each email has a dedupe key, so scanning again (on any
//! number of instances) never queues it twice.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::access::{Role, grants};
use crate::actions::{self, Rules, Status};
use crate::error::CoreResult;
use crate::mail::{self, Email};
use crate::people;

/// What one scan queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Queued {
    pub due_soon: usize,
    pub overdue: usize,
    pub escalations: usize,
    pub digests: usize,
}

fn describe(action: &actions::Model, today: NaiveDate, rules: &Rules) -> String {
    format!(
        "{} (due {}, {}): {}",
        action.reference,
        action.due_on.format("%-d %B %Y"),
        action.rag(today, rules.remind_days_before).label(),
        action.description
    )
}

/// Queues every reminder, escalation and digest due on `now`'s date.
pub async fn scan(
    db: &impl ConnectionTrait,
    public_url: &str,
    now: DateTime<Utc>,
) -> CoreResult<Queued> {
    let today = now.date_naive();
    let rules = Rules::load(db).await?;
    let horizon = today
        .checked_add_days(Days::new(
            u64::try_from(rules.remind_days_before).unwrap_or(0),
        ))
        .unwrap_or(today);
    let open = actions::Entity::find()
        .filter(
            actions::Column::Status
                .is_not_in([Status::Completed.as_str(), Status::Closed.as_str()]),
        )
        .filter(actions::Column::DueOn.lte(horizon))
        .order_by_asc(actions::Column::DueOn)
        .all(db)
        .await?;
    let people_by_id: HashMap<Uuid, people::Person> = people::list(db)
        .await?
        .into_iter()
        .filter(|person| person.active)
        .map(|person| (person.id, person))
        .collect();
    let link = |action: &actions::Model| {
        format!("{}/actions/{}", public_url.trim_end_matches('/'), action.id)
    };
    let mut queued = Queued::default();
    for action in &open {
        let Some(lead) = action.lead_person_id.and_then(|id| people_by_id.get(&id)) else {
            continue;
        };
        let (kind, subject) = if action.due_on < today {
            ("overdue", format!("Overdue: action {}", action.reference))
        } else {
            ("due_soon", format!("Due soon: action {}", action.reference))
        };
        let body = format!(
            "{}\n\n{}\n\nUpdate it here: {}\n",
            if kind == "overdue" {
                "This action is past its due date."
            } else {
                "This action is due soon."
            },
            describe(action, today, &rules),
            link(action)
        );
        let key = format!("{kind}:{}:{}", action.id, action.due_on);
        if mail::enqueue(
            db,
            Email {
                dedupe_key: &key,
                kind,
                to_person_id: Some(lead.id),
                to_email: &lead.email,
                subject: &subject,
                body: &body,
            },
            now,
        )
        .await?
        {
            if kind == "overdue" {
                queued.overdue += 1;
            } else {
                queued.due_soon += 1;
            }
        }
    }
    // Escalation: still overdue after the interval, to the owner agency's safeguarding leads.
    let escalate_before = today
        .checked_sub_days(Days::new(
            u64::try_from(rules.escalate_days_overdue).unwrap_or(0),
        ))
        .unwrap_or(today);
    let lead_grants = grants::Entity::find()
        .filter(grants::Column::Role.eq(Role::AgencyLead.as_str()))
        .filter(grants::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    for action in open.iter().filter(|action| action.due_on < escalate_before) {
        let leads: Vec<&people::Person> = lead_grants
            .iter()
            .filter(|grant| grant.agency_id == Some(action.owner_agency_id))
            .filter(|grant| grant.to_grant().is_some_and(|g| g.active_on(today)))
            .filter_map(|grant| people_by_id.get(&grant.person_id))
            .collect();
        for safeguarding_lead in leads {
            let key = format!(
                "escalation:{}:{}:{}",
                action.id, action.due_on, safeguarding_lead.id
            );
            let body = format!(
                "An action your agency owns is {} days overdue and has been escalated to you.\n\n{}\n\n{}\n",
                (today - action.due_on).num_days(),
                describe(action, today, &rules),
                link(action)
            );
            if mail::enqueue(
                db,
                Email {
                    dedupe_key: &key,
                    kind: "escalation",
                    to_person_id: Some(safeguarding_lead.id),
                    to_email: &safeguarding_lead.email,
                    subject: &format!("Escalated: overdue action {}", action.reference),
                    body: &body,
                },
                now,
            )
            .await?
            {
                queued.escalations += 1;
            }
        }
        if action.escalated_on.is_none() {
            let mut active: actions::ActiveModel = action.clone().into();
            active.escalated_on = Set(Some(today));
            active.update(db).await?;
        }
    }
    // The weekly digest: each lead's open actions, once per ISO week.
    let week = today.iso_week();
    let all_open = actions::Entity::find()
        .filter(
            actions::Column::Status
                .is_not_in([Status::Completed.as_str(), Status::Closed.as_str()]),
        )
        .filter(actions::Column::LeadPersonId.is_not_null())
        .order_by_asc(actions::Column::DueOn)
        .all(db)
        .await?;
    let mut by_lead: HashMap<Uuid, Vec<&actions::Model>> = HashMap::new();
    for action in &all_open {
        if let Some(lead) = action.lead_person_id {
            by_lead.entry(lead).or_default().push(action);
        }
    }
    for (lead_id, list) in by_lead {
        let Some(lead) = people_by_id.get(&lead_id) else {
            continue;
        };
        let key = format!("digest:{}:{}-W{:02}", lead.id, week.year(), week.week());
        let mut body = format!("Your {} open actions this week:\n\n", list.len());
        for action in list.iter().take(50) {
            body.push_str(&format!(
                "- {}\n  {}\n",
                describe(action, today, &rules),
                link(action)
            ));
        }
        if mail::enqueue(
            db,
            Email {
                dedupe_key: &key,
                kind: "digest",
                to_person_id: Some(lead.id),
                to_email: &lead.email,
                subject: "Your actions this week",
                body: &body,
            },
            now,
        )
        .await?
        {
            queued.digests += 1;
        }
    }
    Ok(queued)
}

/// How the background worker runs.
#[derive(Clone)]
pub struct Worker {
    pub db: crate::Db,
    pub clock: std::sync::Arc<dyn crate::clock::Clock>,
    pub mailer: mail::Mailer,
    pub from: String,
    pub public_url: String,
    /// This instance's name in the outbox's claims.
    pub name: String,
}

impl Worker {
    /// One round: queue what is due (one transaction), send what is queued, and refresh the
    /// dashboard's kept figures that are out of date.
    pub async fn tick(&self) -> CoreResult<(Queued, usize)> {
        let now = self.clock.now();
        let txn = self.db.write().await?;
        let queued = scan(&txn, &self.public_url, now).await?;
        txn.commit().await?;
        crate::figures::refresh(&self.db, now).await?;
        let sent = mail::deliver(
            self.db.conn(),
            &self.mailer,
            &self.from,
            &self.name,
            now,
            200,
        )
        .await?;
        Ok((queued, sent))
    }

    /// The daily retention purge, if no instance has run it today (`retention::run_daily`);
    /// `files_dir` is where the purged records' files are removed from.
    pub async fn retention_round(
        &self,
        files_dir: Option<&std::path::Path>,
    ) -> CoreResult<Option<crate::retention::Applied>> {
        crate::retention::run_daily(&self.db, files_dir, self.clock.now()).await
    }

    /// Runs rounds every `every` until the process ends; a failed round is logged and retried
    /// at the next.
    pub async fn run(self, every: std::time::Duration) {
        self.run_with_retention(every, None).await
    }

    /// `run`, and after each round the daily retention purge when it is due (once a day
    /// across instances); without `retention` (the files folder) it never purges.
    pub async fn run_with_retention(
        self,
        every: std::time::Duration,
        retention: Option<std::path::PathBuf>,
    ) {
        loop {
            match self.tick().await {
                Ok((queued, sent)) => {
                    tracing::debug!(
                        due_soon = queued.due_soon,
                        overdue = queued.overdue,
                        escalations = queued.escalations,
                        digests = queued.digests,
                        sent,
                        "reminder round"
                    )
                }
                Err(error) => tracing::warn!(error = %error, "reminder round failed"),
            }
            if let Some(files_dir) = &retention {
                match self.retention_round(Some(files_dir)).await {
                    Ok(Some(applied)) => tracing::info!(
                        purged = ?applied
                            .purged
                            .iter()
                            .map(|due| (due.kind.slug(), due.count))
                            .collect::<Vec<_>>(),
                        files_removed = applied.files_removed,
                        "retention purge"
                    ),
                    Ok(None) => {}
                    Err(error) => tracing::warn!(error = %error, "retention purge failed"),
                }
            }
            tokio::time::sleep(every).await;
        }
    }
}
