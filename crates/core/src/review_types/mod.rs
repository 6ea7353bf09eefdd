//! Review types as configuration: their names, criteria wording, clocks and rapid-review steps
//! live in the database, seeded with the statutory values, so a partnership can follow new
//! guidance without a new release. The rules that turn criteria answers into a recommendation
//! are code, keyed by the criteria's stable keys.

pub mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Criterion {
    /// Stable key the rules read; never shown.
    pub key: String,
    /// The question as the partnership words it.
    pub question: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    pub key: String,
    pub name: String,
    /// Working days after day 0 (the day the partnership became aware).
    pub offset_days: u32,
}

/// Clocks in working days (or months) from the relevant start; `None` where a type has none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Clocks {
    /// Notify the national panel within this many working days of becoming aware.
    pub notification_days: Option<u32>,
    /// Complete the rapid review within this many working days of becoming aware.
    pub rapid_review_days: Option<u32>,
    /// Report expected this many months after the decision.
    pub report_months: Option<u32>,
    /// The published report goes to the national panel this many working days before publication.
    pub pre_publication_days: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Config {
    pub criteria: Vec<Criterion>,
    pub clocks: Clocks,
    /// The steps of a rapid review (only the serious child safeguarding case has them).
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The stages a review of this type runs through; empty means the defaults
    /// ([`default_stages`]), so types stored before stages existed keep working.
    #[serde(default)]
    pub stages: Vec<StageSpec>,
}

impl Config {
    /// The stages a review of this type runs through, configured or default.
    pub fn review_stages(&self) -> Vec<StageSpec> {
        if self.stages.is_empty() {
            default_stages(&self.clocks)
        } else {
            self.stages.clone()
        }
    }
}

/// When a review stage falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum StageDue {
    /// No due date of its own.
    Unscheduled,
    /// Working days after the review was commissioned (the decision).
    Commissioning { working_days: u32 },
    /// Calendar months after commissioning, moved back to the last working day on or before.
    CommissioningMonths { months: u32 },
    /// Working days before the planned publication date (for example the pre-publication
    /// notice to the national panel, 7 working days before).
    BeforePublication { working_days: u32 },
    /// The planned publication date itself.
    Publication,
    /// Calendar months after publication (the action plan, the assurance check).
    AfterPublication { months: u32 },
}

/// One stage of a review, as configured for its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StageSpec {
    /// Stable key; never shown.
    pub key: String,
    pub name: String,
    /// A required stage cannot be skipped: later stages wait for it.
    pub required: bool,
    pub due: StageDue,
}

/// The stages of the framework (seed §4-5), in order, with clocks that fit the statutory
/// six months from decision to publication.
pub fn default_stages(clocks: &Clocks) -> Vec<StageSpec> {
    use StageDue::*;
    let spec = |key: &str, name: &str, required: bool, due: StageDue| StageSpec {
        key: key.to_string(),
        name: name.to_string(),
        required,
        due,
    };
    let mut stages = vec![
        spec(
            "scoping",
            "Scoping",
            true,
            Commissioning { working_days: 10 },
        ),
        spec(
            "terms_of_reference",
            "Terms of reference agreed",
            true,
            Commissioning { working_days: 20 },
        ),
        spec(
            "reviewer_appointed",
            "Independent reviewer appointed",
            true,
            Commissioning { working_days: 20 },
        ),
        spec(
            "panel",
            "Review panel convened",
            false,
            Commissioning { working_days: 25 },
        ),
        spec(
            "information_gathering",
            "Information gathering (agency reports and chronologies)",
            true,
            CommissioningMonths { months: 2 },
        ),
        spec(
            "practitioner_event",
            "Practitioner event",
            false,
            CommissioningMonths { months: 3 },
        ),
        spec(
            "family_involvement",
            "Family involvement",
            true,
            CommissioningMonths { months: 3 },
        ),
        spec(
            "analysis",
            "Analysis",
            true,
            CommissioningMonths { months: 4 },
        ),
        spec(
            "draft_report",
            "Draft report",
            true,
            CommissioningMonths { months: 5 },
        ),
        spec(
            "sign_off",
            "Sign-off",
            true,
            BeforePublication { working_days: 10 },
        ),
    ];
    if let Some(days) = clocks.pre_publication_days {
        stages.push(spec(
            PRE_PUBLICATION_NOTICE,
            "Pre-publication notice to the national panel",
            true,
            BeforePublication { working_days: days },
        ));
    }
    stages.push(spec(PUBLICATION, "Publication", true, Publication));
    stages.push(spec(
        "action_plan",
        "Action plan agreed",
        true,
        AfterPublication { months: 1 },
    ));
    stages.push(spec(
        "assurance",
        "Assurance that learning is embedded",
        false,
        AfterPublication { months: 12 },
    ));
    stages
}

/// Stage keys the rules read.
pub const PUBLICATION: &str = "publication";
pub const PRE_PUBLICATION_NOTICE: &str = "pre_publication_notice";

/// What the criteria answers point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    /// The statutory criteria are met: a review must be held (or, for a serious child
    /// safeguarding case, notified and rapidly reviewed).
    ReviewRequired,
    /// Discretionary: a review may be held (Care Act s44(4)).
    ReviewMayBeHeld,
    /// The criteria are not met.
    CriteriaNotMet,
}

impl Recommendation {
    pub fn as_str(self) -> &'static str {
        match self {
            Recommendation::ReviewRequired => "review_required",
            Recommendation::ReviewMayBeHeld => "review_may_be_held",
            Recommendation::CriteriaNotMet => "criteria_not_met",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::ReviewRequired,
            Self::ReviewMayBeHeld,
            Self::CriteriaNotMet,
        ]
        .into_iter()
        .find(|recommendation| recommendation.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Recommendation::ReviewRequired => "The criteria are met: a review is required",
            Recommendation::ReviewMayBeHeld => "A review may be held (discretionary)",
            Recommendation::CriteriaNotMet => "The criteria are not met",
        }
    }

    /// Whether deciding `review` (true) or `no review` (false) departs from this
    /// recommendation, so needs a reason.
    pub fn is_overridden_by(self, hold_review: bool) -> bool {
        match self {
            Recommendation::ReviewRequired => !hold_review,
            Recommendation::ReviewMayBeHeld => false,
            Recommendation::CriteriaNotMet => hold_review,
        }
    }
}

pub type Answers = BTreeMap<String, bool>;

fn yes(answers: &Answers, key: &str) -> bool {
    answers.get(key).copied().unwrap_or(false)
}

/// The statutory rules. Unknown types recommend nothing more than their criteria all met.
pub fn recommend(code: &str, answers: &Answers) -> Recommendation {
    use Recommendation::*;
    match code {
        // Working Together 2023: abuse or neglect known or suspected, and the child died or was
        // seriously harmed.
        SERIOUS_CHILD_CASE => {
            if yes(answers, "abuse_or_neglect")
                && (yes(answers, "child_died") || yes(answers, "child_seriously_harmed"))
            {
                ReviewRequired
            } else {
                CriteriaNotMet
            }
        }
        // Care Act 2014 s44: must when needs, concern about how agencies worked together, and
        // condition 1 or 2; may for any other adult with care and support needs.
        SAR => {
            let needs = yes(answers, "care_and_support_needs");
            let concern = yes(answers, "agencies_concern");
            let condition =
                yes(answers, "condition_1_died") || yes(answers, "condition_2_alive_serious");
            if needs && concern && condition {
                ReviewRequired
            } else if needs {
                ReviewMayBeHeld
            } else {
                CriteriaNotMet
            }
        }
        _ => {
            let config_all_met = !answers.is_empty() && answers.values().all(|value| *value);
            if config_all_met {
                ReviewRequired
            } else {
                CriteriaNotMet
            }
        }
    }
}

pub const SERIOUS_CHILD_CASE: &str = "serious_child_case";
pub const CSPR_LOCAL: &str = "cspr_local";
pub const CSPR_NATIONAL: &str = "cspr_national";
pub const SAR: &str = "sar";
pub const DHR: &str = "dhr";
pub const MAPPA_SCR: &str = "mappa_scr";
pub const CHILD_DEATH_REVIEW: &str = "child_death_review";
pub const LEARNING_REVIEW: &str = "learning_review";
pub const MH_HOMICIDE: &str = "mh_homicide";
pub const SERIOUS_FURTHER_OFFENCE: &str = "serious_further_offence";
pub const SINGLE_AGENCY_REVIEW: &str = "single_agency_review";
pub const PEER_REVIEW: &str = "peer_review";
pub const MULTI_AGENCY_CASE_REVIEW: &str = "multi_agency_case_review";

fn criterion(key: &str, question: &str) -> Criterion {
    Criterion {
        key: key.to_string(),
        question: question.to_string(),
    }
}

fn step(key: &str, name: &str, offset_days: u32) -> Step {
    Step {
        key: key.to_string(),
        name: name.to_string(),
        offset_days,
    }
}

/// A default review type: (code, name, family, statutory, config).
pub struct Default {
    pub code: &'static str,
    pub name: &'static str,
    pub family: &'static str,
    pub statutory: bool,
    pub config: Config,
}

/// The defaults, from the framework and statutory guidance (Working Together 2023, Care Act
/// 2014 s44, Domestic Violence, Crime and Victims Act 2004 s9, MAPPA guidance).
pub fn defaults() -> Vec<Default> {
    vec![
        Default {
            code: SERIOUS_CHILD_CASE,
            name: "Serious child safeguarding case (rapid review)",
            family: "children",
            statutory: true,
            config: Config {
                criteria: vec![
                    criterion(
                        "abuse_or_neglect",
                        "Abuse or neglect of the child is known or suspected",
                    ),
                    criterion("child_died", "The child has died"),
                    criterion(
                        "child_seriously_harmed",
                        "The child has been seriously harmed",
                    ),
                ],
                clocks: Clocks {
                    notification_days: Some(5),
                    rapid_review_days: Some(15),
                    ..Clocks::default()
                },
                steps: vec![
                    step(
                        "referral",
                        "Referral to the partnership team; letters to agency safeguarding leads",
                        1,
                    ),
                    step(
                        "agency_summaries",
                        "Individual agency summaries received",
                        10,
                    ),
                    step("progress_meeting", "Progress meeting", 10),
                    step("panel_review", "Panel review of the agency summaries", 12),
                    step(
                        "summary_and_outcome",
                        "Summary and outcome recommendation",
                        12,
                    ),
                    step("sign_off", "Sign-off by the three statutory partners", 15),
                    step("submission", "Submission to the national panel", 15),
                ],
                stages: vec![],
            },
        },
        Default {
            code: CSPR_LOCAL,
            name: "Local child safeguarding practice review",
            family: "children",
            statutory: true,
            config: Config {
                criteria: vec![],
                clocks: Clocks {
                    report_months: Some(6),
                    pre_publication_days: Some(7),
                    ..Clocks::default()
                },
                steps: vec![],
                stages: vec![],
            },
        },
        Default {
            code: CSPR_NATIONAL,
            name: "National child safeguarding practice review",
            family: "children",
            statutory: true,
            config: Config {
                criteria: vec![],
                clocks: Clocks {
                    report_months: Some(6),
                    pre_publication_days: Some(7),
                    ..Clocks::default()
                },
                steps: vec![],
                stages: vec![],
            },
        },
        Default {
            code: SAR,
            name: "Safeguarding adults review (Care Act s44)",
            family: "adults",
            statutory: true,
            config: Config {
                criteria: vec![
                    criterion(
                        "care_and_support_needs",
                        "The adult had needs for care and support (whether or not the local authority was meeting them)",
                    ),
                    criterion(
                        "agencies_concern",
                        "There is reasonable cause for concern about how the board, its members or others worked together to safeguard the adult",
                    ),
                    criterion(
                        "condition_1_died",
                        "Condition 1: the adult has died and the board knows or suspects the death resulted from abuse or neglect",
                    ),
                    criterion(
                        "condition_2_alive_serious",
                        "Condition 2: the adult is still alive and the board knows or suspects they have experienced serious abuse or neglect",
                    ),
                ],
                clocks: Clocks {
                    report_months: Some(6),
                    ..Clocks::default()
                },
                steps: vec![],
                stages: vec![],
            },
        },
        Default {
            code: DHR,
            name: "Domestic abuse related death review",
            family: "domestic",
            statutory: true,
            config: Config {
                criteria: vec![
                    criterion("aged_16_or_over", "The person who died was aged 16 or over"),
                    criterion(
                        "violence_abuse_neglect",
                        "The death has, or appears to have, resulted from violence, abuse or neglect",
                    ),
                    criterion(
                        "relative_partner_household",
                        "By a person to whom they were related, with whom they were or had been in an intimate relationship, or a member of the same household",
                    ),
                ],
                clocks: Clocks {
                    report_months: Some(6),
                    ..Clocks::default()
                },
                steps: vec![],
                stages: vec![],
            },
        },
        Default {
            code: MAPPA_SCR,
            name: "MAPPA serious case review",
            family: "mappa",
            statutory: true,
            config: Config {
                criteria: vec![
                    criterion(
                        "mappa_managed",
                        "The offender was managed under MAPPA at the time",
                    ),
                    criterion(
                        "serious_offence_or_failure",
                        "A serious further offence was committed, or there was a multi-agency failure to manage the offender",
                    ),
                ],
                clocks: Clocks {
                    report_months: Some(6),
                    ..Clocks::default()
                },
                steps: vec![],
                stages: vec![],
            },
        },
        Default {
            code: CHILD_DEATH_REVIEW,
            name: "Child death review (CDOP) referral",
            family: "children",
            statutory: true,
            config: Config {
                criteria: vec![criterion(
                    "child_died",
                    "A child has died (every child death is reviewed)",
                )],
                clocks: Clocks::default(),
                steps: vec![],
                stages: vec![],
            },
        },
        Default {
            code: LEARNING_REVIEW,
            name: "Multi-agency learning review (non-statutory)",
            family: "other",
            statutory: false,
            config: Config {
                criteria: vec![
                    criterion(
                        "below_threshold_or_near_miss",
                        "The case does not meet statutory criteria, or is a near miss",
                    ),
                    criterion(
                        "learning_potential",
                        "There is potential for learning about how agencies worked together",
                    ),
                ],
                clocks: Clocks {
                    report_months: Some(3),
                    ..Clocks::default()
                },
                steps: vec![],
                stages: vec![],
            },
        },
        Default {
            code: MH_HOMICIDE,
            name: "Mental health homicide review (NHS England)",
            family: "mental_health",
            statutory: true,
            config: Config {
                criteria: vec![],
                clocks: Clocks {
                    report_months: Some(6),
                    ..Clocks::default()
                },
                steps: vec![],
                stages: vec![],
            },
        },
        Default {
            code: SERIOUS_FURTHER_OFFENCE,
            name: "Serious further offence review (probation)",
            family: "probation",
            statutory: true,
            config: Config {
                criteria: vec![],
                clocks: Clocks {
                    report_months: Some(6),
                    ..Clocks::default()
                },
                steps: vec![],
                stages: vec![],
            },
        },
        Default {
            code: SINGLE_AGENCY_REVIEW,
            name: "Single agency learning review",
            family: "other",
            statutory: false,
            config: Config {
                criteria: vec![],
                clocks: Clocks {
                    report_months: Some(3),
                    ..Clocks::default()
                },
                steps: vec![],
                stages: vec![],
            },
        },
        Default {
            code: PEER_REVIEW,
            name: "Peer review",
            family: "other",
            statutory: false,
            config: Config {
                criteria: vec![],
                clocks: Clocks {
                    report_months: Some(3),
                    ..Clocks::default()
                },
                steps: vec![],
                stages: vec![],
            },
        },
        Default {
            code: MULTI_AGENCY_CASE_REVIEW,
            name: "Multi-agency case review",
            family: "other",
            statutory: false,
            config: Config {
                criteria: vec![],
                clocks: Clocks {
                    report_months: Some(4),
                    ..Clocks::default()
                },
                steps: vec![],
                stages: vec![],
            },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, bool)]) -> Answers {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), *value))
            .collect()
    }

    #[test]
    fn serious_child_case_needs_abuse_and_death_or_serious_harm() {
        use Recommendation::*;
        assert_eq!(
            recommend(
                SERIOUS_CHILD_CASE,
                &answers(&[("abuse_or_neglect", true), ("child_died", true)])
            ),
            ReviewRequired
        );
        assert_eq!(
            recommend(
                SERIOUS_CHILD_CASE,
                &answers(&[("abuse_or_neglect", true), ("child_seriously_harmed", true)])
            ),
            ReviewRequired
        );
        assert_eq!(
            recommend(SERIOUS_CHILD_CASE, &answers(&[("abuse_or_neglect", true)])),
            CriteriaNotMet
        );
        assert_eq!(
            recommend(
                SERIOUS_CHILD_CASE,
                &answers(&[("child_died", true), ("child_seriously_harmed", true)])
            ),
            CriteriaNotMet
        );
    }

    #[test]
    fn sar_must_may_or_not_eligible() {
        use Recommendation::*;
        let must1 = answers(&[
            ("care_and_support_needs", true),
            ("agencies_concern", true),
            ("condition_1_died", true),
        ]);
        let must2 = answers(&[
            ("care_and_support_needs", true),
            ("agencies_concern", true),
            ("condition_2_alive_serious", true),
        ]);
        assert_eq!(recommend(SAR, &must1), ReviewRequired);
        assert_eq!(recommend(SAR, &must2), ReviewRequired);
        assert_eq!(
            recommend(
                SAR,
                &answers(&[("care_and_support_needs", true), ("condition_1_died", true)])
            ),
            ReviewMayBeHeld,
            "no concern about joint working"
        );
        assert_eq!(
            recommend(
                SAR,
                &answers(&[("care_and_support_needs", true), ("agencies_concern", true)])
            ),
            ReviewMayBeHeld,
            "neither condition"
        );
        assert_eq!(
            recommend(
                SAR,
                &answers(&[("agencies_concern", true), ("condition_1_died", true)])
            ),
            CriteriaNotMet,
            "no care and support needs"
        );
    }

    #[test]
    fn overriding_needs_a_reason_only_against_the_rule() {
        assert!(Recommendation::ReviewRequired.is_overridden_by(false));
        assert!(!Recommendation::ReviewRequired.is_overridden_by(true));
        assert!(!Recommendation::ReviewMayBeHeld.is_overridden_by(false));
        assert!(Recommendation::CriteriaNotMet.is_overridden_by(true));
    }

    #[test]
    fn every_default_has_unique_keys() {
        for default in defaults() {
            let mut keys: Vec<&str> = default
                .config
                .criteria
                .iter()
                .map(|c| c.key.as_str())
                .collect();
            keys.sort();
            keys.dedup();
            assert_eq!(
                keys.len(),
                default.config.criteria.len(),
                "{}",
                default.code
            );
        }
    }
}
