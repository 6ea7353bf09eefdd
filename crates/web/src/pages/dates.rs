//! How pages write dates and times: one place, so every page says them the same way
//! (GOV.UK style: "5 January 2026", in tables "5 Jan 2026").

use chrono::{DateTime, NaiveDate, Utc};

/// "5 January 2026": in sentences and summary lists.
pub fn long(on: NaiveDate) -> String {
    on.format("%-d %B %Y").to_string()
}

/// "5 Jan 2026": in tables, where space is short.
pub fn short(on: NaiveDate) -> String {
    on.format("%-d %b %Y").to_string()
}

/// "Monday 5 January 2026": a deadline's day.
pub fn with_weekday(on: NaiveDate) -> String {
    on.format("%A %-d %B %Y").to_string()
}

/// "Mon 5 Jan 2026": a step's day in a short list.
pub fn short_with_weekday(on: NaiveDate) -> String {
    on.format("%a %-d %b %Y").to_string()
}

/// "5 Jan 2026 14:30" (UTC): when something was recorded.
pub fn moment(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y %H:%M").to_string()
}

/// "2026-01-05": a form field's value and a machine-readable `datetime`.
pub fn iso(on: NaiveDate) -> String {
    on.format("%Y-%m-%d").to_string()
}

/// `long` of a date that may be missing: empty when it is.
pub fn long_or_blank(on: Option<NaiveDate>) -> String {
    on.map(long).unwrap_or_default()
}

/// `short` of a date that may be missing: empty when it is.
pub fn short_or_blank(on: Option<NaiveDate>) -> String {
    on.map(short).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_people_write_them() {
        let on = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        assert_eq!(long(on), "5 January 2026");
        assert_eq!(short(on), "5 Jan 2026");
        assert_eq!(with_weekday(on), "Monday 5 January 2026");
        assert_eq!(iso(on), "2026-01-05");
        assert_eq!(long_or_blank(None), "");
    }
}
