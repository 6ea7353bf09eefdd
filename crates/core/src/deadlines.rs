//! The clocks of a case: which deadlines apply, when each is due in working days, whether it
//! was met, and how many working days remain. Pure functions of the case's records, the
//! review types' configuration, the calendar and today.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use crate::calendar::Calendar;
use crate::cases::{CaseRecord, IncidentKind, SubjectKind};
use crate::decisions;
use crate::rapid_reviews;
use crate::review_types::{self, Config};
use crate::reviews;

mod load;

pub use load::{
    Loaded, TypeClocks, deadlines_of, load_related, load_related_many, of_case,
    open_case_deadlines, open_deadlines,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Not met, due today or later.
    Due,
    /// Not met, past its date.
    Overdue,
    Met,
    MetLate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Deadline {
    /// A stable key, for example `national_panel_notification` or `rapid_review`.
    pub name: String,
    pub label: String,
    pub due_on: NaiveDate,
    /// False when the date falls past the calendar's holiday data: treat it with care.
    pub calendar_covered: bool,
    pub met_on: Option<NaiveDate>,
    pub state: State,
    /// Working days from today to the due date (negative when overdue).
    pub working_days_remaining: i64,
    /// Why it was missed, when someone has said.
    pub missed_reason: Option<String>,
}

/// Everything the clocks of one case depend on.
pub struct CaseClocks<'a> {
    pub record: &'a CaseRecord,
    pub decisions: &'a [decisions::Model],
    pub rapid_reviews: &'a [rapid_reviews::Full],
    pub reviews: &'a [reviews::Model],
    pub reasons: &'a [crate::cases::entity::reasons::Model],
    pub serious_child_case: &'a Config,
    pub report_months: &'a dyn Fn(&str) -> Option<u32>,
}

fn build(
    name: &str,
    label: &str,
    due: crate::calendar::Deadline,
    met_on: Option<NaiveDate>,
    today: NaiveDate,
    calendar: &Calendar,
    reason: Option<String>,
) -> Deadline {
    let state = match met_on {
        Some(met) if met <= due.date => State::Met,
        Some(_) => State::MetLate,
        None if today > due.date => State::Overdue,
        None => State::Due,
    };
    Deadline {
        name: name.to_string(),
        label: label.to_string(),
        due_on: due.date,
        calendar_covered: due.calendar_covered,
        met_on,
        state,
        working_days_remaining: calendar.working_days_until(today, due.date),
        missed_reason: reason,
    }
}

/// Whether the statutory clocks of a serious child safeguarding case run for this case: a
/// child who died or was seriously harmed, unless the Review Group decided it is not one.
pub fn serious_child_clocks_apply(record: &CaseRecord, decisions: &[decisions::Model]) -> bool {
    let child = SubjectKind::parse(&record.case.subject_kind) == Some(SubjectKind::Child);
    let harm = matches!(
        IncidentKind::parse(&record.case.incident_kind),
        Some(IncidentKind::Death | IncidentKind::SeriousHarm)
    );
    let ruled_out = decisions
        .iter()
        .rev()
        .find(|decision| decision.review_type_code == review_types::SERIOUS_CHILD_CASE)
        .is_some_and(|decision| !decision.holds_review());
    child && harm && !ruled_out
}

/// The deadlines of a case, in date order.
pub fn for_case(clocks: &CaseClocks<'_>, calendar: &Calendar, today: NaiveDate) -> Vec<Deadline> {
    let case = &clocks.record.case;
    let reason = |key: &str| {
        clocks
            .reasons
            .iter()
            .rev()
            .find(|reason| reason.deadline_key == key)
            .map(|reason| reason.reason.clone())
    };
    let mut deadlines = Vec::new();
    if serious_child_clocks_apply(clocks.record, clocks.decisions) {
        let config = clocks.serious_child_case;
        if let Some(days) = config.clocks.notification_days {
            deadlines.push(build(
                "national_panel_notification",
                "Notify the national panel",
                calendar.add_working_days(case.aware_on, days),
                case.national_panel_notified_on,
                today,
                calendar,
                reason("national_panel_notification"),
            ));
        }
        if let Some(days) = config.clocks.rapid_review_days {
            let submitted = clocks.rapid_reviews.iter().find_map(|full| {
                full.steps
                    .iter()
                    .find(|step| step.step_key == "submission")
                    .and_then(|step| step.completed_on)
            });
            deadlines.push(build(
                "rapid_review",
                "Complete the rapid review and send it to the national panel",
                calendar.add_working_days(case.aware_on, days),
                submitted,
                today,
                calendar,
                reason("rapid_review"),
            ));
        }
    }
    for full in clocks.rapid_reviews {
        for step in &full.steps {
            let key = format!("rapid_review.{}", step.step_key);
            deadlines.push(build(
                &key,
                &step.name,
                crate::calendar::Deadline {
                    date: step.due_on,
                    calendar_covered: calendar.covers(full.review.day_zero)
                        && calendar.covers(step.due_on),
                },
                step.completed_on,
                today,
                calendar,
                step.missed_reason.clone().or_else(|| reason(&key)),
            ));
        }
    }
    for review in clocks
        .reviews
        .iter()
        .filter(|review| review.status != "converted")
    {
        // The review's own clock, planned on the working-day calendar when it was commissioned;
        // met when the report is published.
        let due = review.report_due_on.or_else(|| {
            (clocks.report_months)(&review.review_type_code).map(|months| {
                review
                    .commissioned_on
                    .checked_add_months(Months::new(months))
                    .unwrap_or(review.commissioned_on)
            })
        });
        if let Some(due) = due {
            let key = format!("review.{}.report", review.id);
            deadlines.push(build(
                &key,
                "Review report published",
                crate::calendar::Deadline {
                    date: due,
                    calendar_covered: calendar.covers(due),
                },
                review.published_on,
                today,
                calendar,
                reason(&key),
            ));
        }
    }
    deadlines.sort_by_key(|deadline| deadline.due_on);
    deadlines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_follows_dates() {
        let calendar = Calendar::built_in();
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default();
        let due = calendar.add_working_days(day("2026-12-18"), 5);
        assert_eq!(due.date, day("2026-12-29"), "over Christmas");
        let open = build("x", "X", due, None, day("2026-12-21"), &calendar, None);
        assert_eq!(open.state, State::Due);
        assert_eq!(open.working_days_remaining, 4);
        let late = build("x", "X", due, None, day("2026-12-31"), &calendar, None);
        assert_eq!(late.state, State::Overdue);
        assert_eq!(late.working_days_remaining, -2);
        assert_eq!(
            build(
                "x",
                "X",
                due,
                Some(day("2026-12-29")),
                day("2027-01-05"),
                &calendar,
                None
            )
            .state,
            State::Met
        );
        assert_eq!(
            build(
                "x",
                "X",
                due,
                Some(day("2026-12-30")),
                day("2027-01-05"),
                &calendar,
                None
            )
            .state,
            State::MetLate
        );
    }
}
