//! Reading HTML forms whose fields repeat (checkboxes), as the list of pairs the browser sent,
//! and pointing a refused form's errors at its controls.

pub type Pairs = Vec<(String, String)>;

/// The first value of a field, or "".
pub fn field(pairs: &Pairs, name: &str) -> String {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

/// Every value of a repeated field.
pub fn all(pairs: &Pairs, name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .collect()
}

/// Whether a checkbox was ticked.
pub fn checked(pairs: &Pairs, name: &str) -> bool {
    pairs
        .iter()
        .any(|(key, value)| key == name && !value.is_empty())
}

/// Every value of a repeated field that is an id; other values are dropped (a checkbox list
/// only offers ids, so anything else is tampering, and the core checks ids exist).
pub fn ids(pairs: &Pairs, name: &str) -> Vec<uuid::Uuid> {
    all(pairs, name)
        .iter()
        .filter_map(|value| uuid::Uuid::parse_str(value).ok())
        .collect()
}

/// Points core field errors at the controls that carry them on a page with many forms:
/// each (from, to) renames the field `from`.
pub fn rename(error: learnloop_core::CoreError, map: &[(&str, &str)]) -> learnloop_core::CoreError {
    match error {
        learnloop_core::CoreError::Invalid(fields) => learnloop_core::CoreError::Invalid(
            fields
                .into_iter()
                .map(|mut field| {
                    if let Some((_, to)) = map.iter().find(|(from, _)| *from == field.field) {
                        field.field = to.to_string();
                    }
                    field
                })
                .collect(),
        ),
        other => other,
    }
}
