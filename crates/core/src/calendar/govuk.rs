//! GOV.UK's `bank-holidays.json` format: `{"england-and-wales": {"division": ..., "events":
//! [{"title": ..., "date": "YYYY-MM-DD", ...}]}, "scotland": ..., "northern-ireland": ...}`.
//! Only the England and Wales division is used. Errors name the field at fault.

use chrono::NaiveDate;
use serde_json::Value;

use crate::FieldError;

const DIVISION: &str = "england-and-wales";

/// The England and Wales events of a GOV.UK file, or every problem found in it.
pub fn parse(text: &str) -> Result<Vec<(NaiveDate, String)>, Vec<FieldError>> {
    let document: Value = serde_json::from_str(text).map_err(|error| {
        vec![FieldError::new(
            "file",
            format!(
                "The file is not JSON (line {}, column {}): {error}",
                error.line(),
                error.column()
            ),
        )]
    })?;
    let Some(division) = document.get(DIVISION) else {
        return Err(vec![FieldError::new(
            "file",
            format!(
                "The file is not in GOV.UK's bank holidays format: it has no \"{DIVISION}\" division"
            ),
        )]);
    };
    if let Some(name) = division.get("division")
        && name.as_str() != Some(DIVISION)
    {
        return Err(vec![FieldError::new(
            format!("{DIVISION}.division"),
            format!("must be \"{DIVISION}\""),
        )]);
    }
    let Some(events) = division.get("events").and_then(Value::as_array) else {
        return Err(vec![FieldError::new(
            format!("{DIVISION}.events"),
            "must be a list of events",
        )]);
    };
    if events.is_empty() {
        return Err(vec![FieldError::new(
            format!("{DIVISION}.events"),
            "has no events",
        )]);
    }
    let mut errors = Vec::new();
    let mut parsed = Vec::with_capacity(events.len());
    for (index, event) in events.iter().enumerate() {
        let place = format!("{DIVISION}.events[{index}]");
        let title = event
            .get("title")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default();
        if title.is_empty() {
            errors.push(FieldError::new(format!("{place}.title"), "is missing"));
        }
        let date = event
            .get("date")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
            Ok(date) => parsed.push((date, title.to_string())),
            Err(_) => errors.push(FieldError::new(
                format!("{place}.date"),
                format!("\"{date}\" is not a date in the form YYYY-MM-DD"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_england_and_wales_division() {
        let text = r#"{"england-and-wales":{"division":"england-and-wales","events":[
            {"title":"New Year’s Day","date":"2029-01-01","notes":"","bunting":true}]},
            "scotland":{"division":"scotland","events":[{"title":"2nd January","date":"2029-01-02"}]}}"#;
        let events = parse(text).expect("parses");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].1, "New Year’s Day");
    }

    #[test]
    fn names_each_bad_event() {
        let text = r#"{"england-and-wales":{"events":[{"title":"A","date":"2029-13-01"},{"date":"2029-01-02"}]}}"#;
        let errors = parse(text).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "england-and-wales.events[0].date",
                "england-and-wales.events[1].title"
            ]
        );
    }

    #[test]
    fn refuses_other_formats() {
        assert_eq!(parse("not json").expect_err("x")[0].field, "file");
        assert!(
            parse(r#"{"events":[]}"#).expect_err("x")[0]
                .message
                .contains("GOV.UK")
        );
        assert_eq!(
            parse(r#"{"england-and-wales":{"events":{}}}"#).expect_err("x")[0].field,
            "england-and-wales.events"
        );
    }
}
