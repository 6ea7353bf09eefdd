//! The working-day calendar of England and Wales: bank holidays compiled in (2018 to 2028),
//! refreshed by importing GOV.UK's `bank-holidays.json`, plus the partnership's local closure
//! days. Working-day arithmetic is a pure function of a date, a count and a calendar.

pub mod feeds;
pub mod govuk;
pub mod store;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

const BUILT_IN: &str = include_str!("england_and_wales.txt");

/// A due date, and whether the calendar's holiday data reaches it. A date past the last year
/// of data is still computed, but cannot be trusted: a bank holiday may be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Deadline {
    pub date: NaiveDate,
    pub calendar_covered: bool,
}

/// Non-working days: bank holidays (by year, so an import replaces a year whole) and local
/// closures.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Calendar {
    holidays: BTreeMap<NaiveDate, String>,
    closures: BTreeMap<NaiveDate, String>,
}

impl Calendar {
    /// The bank holidays compiled into this release.
    pub fn built_in() -> Calendar {
        let mut calendar = Calendar::default();
        for line in BUILT_IN.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (date, title) = line.split_once(' ').unwrap_or((line, ""));
            if let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") {
                calendar.holidays.insert(date, title.to_string());
            }
        }
        calendar
    }

    /// Replaces the bank holidays of every year present in `events` with those events.
    pub fn replace_years(&mut self, events: &[(NaiveDate, String)]) {
        let years: std::collections::BTreeSet<i32> =
            events.iter().map(|(date, _)| date.year()).collect();
        self.holidays
            .retain(|date, _| !years.contains(&date.year()));
        for (date, title) in events {
            self.holidays.insert(*date, title.clone());
        }
    }

    pub fn add_closure(&mut self, date: NaiveDate, title: &str) {
        self.closures.insert(date, title.to_string());
    }

    pub fn holidays(&self) -> impl Iterator<Item = (&NaiveDate, &String)> {
        self.holidays.iter()
    }

    pub fn closures(&self) -> impl Iterator<Item = (&NaiveDate, &String)> {
        self.closures.iter()
    }

    /// The first and last years with bank holiday data.
    pub fn years(&self) -> Option<(i32, i32)> {
        let first = self.holidays.keys().next()?.year();
        let last = self.holidays.keys().next_back()?.year();
        Some((first, last))
    }

    /// True when the holiday data includes the date's year.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.years()
            .is_some_and(|(first, last)| (first..=last).contains(&date.year()))
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
            && !self.holidays.contains_key(&date)
            && !self.closures.contains_key(&date)
    }

    /// The `days`-th working day after `from` (day 0 is `from` itself, whatever it is).
    pub fn add_working_days(&self, from: NaiveDate, days: u32) -> Deadline {
        let mut date = from;
        let mut counted = 0;
        while counted < days {
            date = date.succ_opt().unwrap_or(date);
            if self.is_working_day(date) {
                counted += 1;
            }
        }
        Deadline {
            date,
            calendar_covered: self.covers(from) && self.covers(date),
        }
    }

    /// The `days`-th working day before `from` (the pre-publication notice, a date in the past).
    pub fn subtract_working_days(&self, from: NaiveDate, days: u32) -> NaiveDate {
        let mut date = from;
        let mut counted = 0;
        while counted < days {
            date = date.pred_opt().unwrap_or(date);
            if self.is_working_day(date) {
                counted += 1;
            }
        }
        date
    }

    /// Working days from `today` until `due`: positive when due later, 0 on the day, negative
    /// when overdue (counting the working days since).
    pub fn working_days_until(&self, today: NaiveDate, due: NaiveDate) -> i64 {
        if due == today {
            return 0;
        }
        let (start, end, sign) = if due > today {
            (today, due, 1)
        } else {
            (due, today, -1)
        };
        let mut date = start;
        let mut count = 0;
        while date < end {
            date = date.succ_opt().unwrap_or(end);
            if self.is_working_day(date) {
                count += 1;
            }
        }
        sign * count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn the_built_in_data_covers_2018_to_2028() {
        let calendar = Calendar::built_in();
        assert_eq!(calendar.years(), Some((2018, 2028)));
        assert!(
            !calendar.is_working_day(day("2020-05-08")),
            "VE day moved the early May holiday"
        );
        assert!(calendar.is_working_day(day("2020-05-04")));
    }

    #[test]
    fn christmas_and_new_year() {
        let calendar = Calendar::built_in();
        // Thursday 2025-12-18 + 5 working days: Fri 19, Mon 22, Tue 23, Wed 24, (25, 26 holidays), Mon 29.
        assert_eq!(
            calendar.add_working_days(day("2025-12-18"), 5).date,
            day("2025-12-29")
        );
        // 2021: Christmas Day and Boxing Day fell at the weekend; substitutes on 27 and 28.
        assert_eq!(
            calendar.add_working_days(day("2021-12-24"), 1).date,
            day("2021-12-29")
        );
        // New Year 2022 was a Saturday: the holiday is Monday 3 January.
        assert_eq!(
            calendar.add_working_days(day("2021-12-31"), 1).date,
            day("2022-01-04")
        );
    }

    #[test]
    fn easter() {
        let calendar = Calendar::built_in();
        // Good Friday 2024-03-29, Easter Monday 2024-04-01.
        assert_eq!(
            calendar.add_working_days(day("2024-03-28"), 1).date,
            day("2024-04-02")
        );
        // A rapid review from Wednesday 2026-04-01 (Easter: 3 and 6 April 2026).
        assert_eq!(
            calendar.add_working_days(day("2026-04-01"), 15).date,
            day("2026-04-24")
        );
    }

    #[test]
    fn the_extra_bank_holidays_of_2022_and_2023() {
        let calendar = Calendar::built_in();
        // Platinum Jubilee: Thursday 2 and Friday 3 June 2022.
        assert_eq!(
            calendar.add_working_days(day("2022-06-01"), 1).date,
            day("2022-06-06")
        );
        // State funeral of Queen Elizabeth II: Monday 19 September 2022.
        assert_eq!(
            calendar.add_working_days(day("2022-09-16"), 1).date,
            day("2022-09-20")
        );
        // Coronation of King Charles III: Monday 8 May 2023 (and Early May on 1 May).
        assert_eq!(
            calendar.add_working_days(day("2023-04-28"), 5).date,
            day("2023-05-09")
        );
        assert_eq!(
            calendar.add_working_days(day("2023-05-05"), 1).date,
            day("2023-05-09")
        );
    }

    #[test]
    fn day_zero_is_the_start_date_even_on_a_holiday() {
        let calendar = Calendar::built_in();
        let deadline = calendar.add_working_days(day("2025-12-25"), 0);
        assert_eq!(deadline.date, day("2025-12-25"));
        assert_eq!(
            calendar.add_working_days(day("2025-12-25"), 1).date,
            day("2025-12-29")
        );
        assert_eq!(
            calendar.add_working_days(day("2026-11-28"), 1).date,
            day("2026-11-30"),
            "from a Saturday"
        );
    }

    #[test]
    fn deadlines_past_the_data_are_marked_not_covered() {
        let calendar = Calendar::built_in();
        let inside = calendar.add_working_days(day("2028-12-01"), 10);
        assert!(inside.calendar_covered);
        let outside = calendar.add_working_days(day("2028-12-20"), 15);
        assert_eq!(outside.date.year(), 2029);
        assert!(!outside.calendar_covered, "2029 has no holiday data");
        assert!(
            !calendar
                .add_working_days(day("2017-06-01"), 1)
                .calendar_covered
        );
    }

    #[test]
    fn an_import_replaces_a_year_whole() {
        let mut calendar = Calendar::built_in();
        calendar.replace_years(&[(day("2020-05-04"), "Early May bank holiday".to_string())]);
        assert!(!calendar.is_working_day(day("2020-05-04")));
        assert!(calendar.is_working_day(day("2020-05-08")));
        assert!(
            calendar.is_working_day(day("2020-12-25")),
            "the rest of 2020 went with it"
        );
        assert!(
            !calendar.is_working_day(day("2021-12-27")),
            "other years untouched"
        );
    }

    #[test]
    fn local_closures_are_not_working_days() {
        let mut calendar = Calendar::built_in();
        calendar.add_closure(day("2026-12-24"), "Office closed");
        assert_eq!(
            calendar.add_working_days(day("2026-12-23"), 1).date,
            day("2026-12-29")
        );
    }

    #[test]
    fn days_until_counts_both_ways() {
        let calendar = Calendar::built_in();
        assert_eq!(
            calendar.working_days_until(day("2026-11-26"), day("2026-11-26")),
            0
        );
        assert_eq!(
            calendar.working_days_until(day("2026-11-26"), day("2026-11-30")),
            2
        );
        assert_eq!(
            calendar.working_days_until(day("2026-11-30"), day("2026-11-26")),
            -2
        );
    }

    /// The naive model: walk one day at a time and count weekdays that are not holidays.
    fn naive(calendar: &Calendar, from: NaiveDate, days: u32) -> NaiveDate {
        let mut date = from;
        let mut left = days;
        while left > 0 {
            date += chrono::TimeDelta::days(1);
            let weekend = date.weekday().number_from_monday() >= 6;
            let holiday = calendar.holidays().any(|(holiday, _)| *holiday == date);
            if !weekend && !holiday {
                left -= 1;
            }
        }
        date
    }

    proptest! {
        #[test]
        fn agrees_with_a_day_by_day_count(offset in 0i64..(11 * 366), days in 0u32..80) {
            let calendar = Calendar::built_in();
            let from = day("2018-01-01") + chrono::Duration::days(offset);
            let deadline = calendar.add_working_days(from, days);
            prop_assert_eq!(deadline.date, naive(&calendar, from, days));
            prop_assert!(deadline.date >= from);
            prop_assert!(days == 0 || calendar.is_working_day(deadline.date));
            prop_assert_eq!(calendar.working_days_until(from, deadline.date), i64::from(days));
        }
    }
}
