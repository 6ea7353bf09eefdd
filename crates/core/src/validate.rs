//! Small parsers for input at the edge: they return the cleaned value or a field error.

use crate::FieldError;

/// Trims the text and checks it is present and not longer than `max` characters.
pub fn required_text(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        errors.push(FieldError::new(
            field,
            format!("Enter the {}", field.replace('_', " ")),
        ));
    } else if trimmed.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!(
                "The {} must be {max} characters or fewer",
                field.replace('_', " ")
            ),
        ));
    }
    trimmed.to_string()
}

/// Like [`required_text`] but empty input means "none".
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let trimmed = value.map(str::trim).unwrap_or_default();
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!(
                "The {} must be {max} characters or fewer",
                field.replace('_', " ")
            ),
        ));
    }
    Some(trimmed.to_string())
}

/// A short code: letters, digits and hyphens, 2 to 32 characters, stored in lower case.
pub fn code(field: &str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let cleaned = value.trim().to_ascii_lowercase();
    let valid_chars = cleaned
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if cleaned.len() < 2 || cleaned.len() > 32 || !valid_chars {
        errors.push(FieldError::new(
            field,
            "The code must be 2 to 32 letters, digits or hyphens",
        ));
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_names_the_field() {
        let mut errors = Vec::new();
        required_text("name", "   ", 10, &mut errors);
        assert_eq!(errors, vec![FieldError::new("name", "Enter the name")]);
    }

    #[test]
    fn required_text_counts_characters_not_bytes() {
        let mut errors = Vec::new();
        let value = required_text("name", " éééé ", 4, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(value, "éééé");
    }

    #[test]
    fn code_is_lower_cased_and_checked() {
        let mut errors = Vec::new();
        assert_eq!(code("code", "ICB-North", &mut errors), "icb-north");
        assert!(errors.is_empty());
        code("code", "no spaces", &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "code");
    }
}
