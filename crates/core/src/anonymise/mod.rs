//! The anonymisation check run before anything is published: the public text is searched for
//! every identifier recorded on the case and the review (names, dates of birth, addresses,
//! postcodes, schools, references), in the forms people write them. Publication is refused
//! while any appear; a person then confirms a motivated-intruder check.

use chrono::NaiveDate;
use serde::Serialize;

/// What kind of identifier was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Name,
    DateOfBirth,
    Address,
    Postcode,
    School,
    Reference,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Name => "a name",
            Kind::DateOfBirth => "a date of birth",
            Kind::Address => "an address",
            Kind::Postcode => "a postcode",
            Kind::School => "a school",
            Kind::Reference => "a reference",
        }
    }
}

/// Something that identifies a person and must not be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    Name(String),
    DateOfBirth(NaiveDate),
    Address(String),
    Postcode(String),
    School(String),
    Reference(String),
}

/// One identifier found in the text: what, and where (a character offset and the words found).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    pub kind: Kind,
    pub offset: usize,
    pub found: String,
}

/// Lower-cases and turns every run of non-alphanumeric characters into one space, keeping a
/// map from each position of the folded text back to the original character offset.
fn fold(text: &str) -> (Vec<char>, Vec<usize>) {
    let mut folded = Vec::new();
    let mut positions = Vec::new();
    let mut last_space = true;
    for (offset, character) in text.chars().enumerate() {
        if character.is_alphanumeric() {
            for lower in character.to_lowercase() {
                folded.push(lower);
                positions.push(offset);
            }
            last_space = false;
        } else if !last_space {
            folded.push(' ');
            positions.push(offset);
            last_space = true;
        }
    }
    (folded, positions)
}

/// Whole-word occurrences of `needle` (already folded) in the folded text.
fn find_words(haystack: &[char], needle: &[char]) -> Vec<usize> {
    let mut found = Vec::new();
    if needle.is_empty() || needle.len() > haystack.len() {
        return found;
    }
    for start in 0..=haystack.len() - needle.len() {
        let end = start + needle.len();
        let boundary_before = start == 0 || haystack[start - 1] == ' ';
        let boundary_after = end == haystack.len() || haystack[end] == ' ';
        if boundary_before && boundary_after && haystack[start..end] == *needle {
            found.push(start);
        }
    }
    found
}

/// The forms a date is commonly written in.
fn date_forms(date: NaiveDate) -> Vec<String> {
    vec![
        date.format("%Y-%m-%d").to_string(),
        date.format("%d/%m/%Y").to_string(),
        date.format("%-d/%-m/%Y").to_string(),
        date.format("%d.%m.%Y").to_string(),
        date.format("%-d %B %Y").to_string(),
        date.format("%-d %b %Y").to_string(),
        date.format("%B %-d, %Y").to_string(),
        date.format("%-d{} %B %Y")
            .to_string()
            .replace("{}", ordinal(date)),
    ]
}

fn ordinal(date: NaiveDate) -> &'static str {
    use chrono::Datelike;
    match date.day() {
        1 | 21 | 31 => "st",
        2 | 22 => "nd",
        3 | 23 => "rd",
        _ => "th",
    }
}

/// The words a name is searched by: the whole name, and each part of two letters or more
/// (a surname alone identifies a family).
fn name_forms(name: &str) -> Vec<String> {
    let mut forms = vec![name.to_string()];
    let parts: Vec<&str> = name
        .split_whitespace()
        .filter(|part| part.chars().count() >= 2)
        .collect();
    if parts.len() > 1 {
        forms.extend(parts.iter().map(|part| part.to_string()));
    }
    forms
}

/// Every identifier that appears in the text, in order of appearance.
pub fn check(text: &str, identifiers: &[Identifier]) -> Vec<Hit> {
    let (folded, positions) = fold(text);
    let original: Vec<char> = text.chars().collect();
    let mut hits = Vec::new();
    for identifier in identifiers {
        let (kind, forms) = match identifier {
            Identifier::Name(name) => (Kind::Name, name_forms(name)),
            Identifier::DateOfBirth(date) => (Kind::DateOfBirth, date_forms(*date)),
            Identifier::Address(address) => (Kind::Address, vec![address.clone()]),
            Identifier::Postcode(postcode) => {
                // With and without the space, as people write them.
                let compact: String = postcode.chars().filter(|c| !c.is_whitespace()).collect();
                // Split by characters, not bytes: a postcode as typed may hold any letter.
                let characters: Vec<char> = compact.chars().collect();
                let spaced = if characters.len() > 3 {
                    let (outward, inward) = characters.split_at(characters.len() - 3);
                    format!(
                        "{} {}",
                        outward.iter().collect::<String>(),
                        inward.iter().collect::<String>()
                    )
                } else {
                    compact.clone()
                };
                (Kind::Postcode, vec![compact, spaced])
            }
            Identifier::School(school) => (Kind::School, vec![school.clone()]),
            Identifier::Reference(reference) => (Kind::Reference, vec![reference.clone()]),
        };
        for form in forms {
            let (needle, _) = fold(&form);
            let needle: Vec<char> = needle
                .into_iter()
                .collect::<String>()
                .trim()
                .chars()
                .collect();
            for start in find_words(&folded, &needle) {
                let offset = positions[start];
                let end = positions[start + needle.len() - 1] + 1;
                let hit = Hit {
                    kind,
                    offset,
                    found: original[offset..end].iter().collect(),
                };
                if !hits.iter().any(|existing: &Hit| {
                    existing.offset == hit.offset && existing.kind == hit.kind
                }) {
                    hits.push(hit);
                }
            }
        }
    }
    hits.sort_by_key(|hit| hit.offset);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn finds_each_kind_of_identifier() {
        let identifiers = [
            Identifier::Name("Quinn Testsubject".to_string()),
            Identifier::DateOfBirth(date("2015-03-27")),
            Identifier::Address("14 Larch Row".to_string()),
            Identifier::Postcode("FB1 2XY".to_string()),
            Identifier::School("Hollybank Primary School".to_string()),
            Identifier::Reference("N-2026-0007".to_string()),
        ];
        let cases = [
            ("Quinn was seen at school.", Kind::Name),
            ("The Testsubject family moved.", Kind::Name),
            ("born on 27/03/2015 in", Kind::DateOfBirth),
            ("born 27 March 2015.", Kind::DateOfBirth),
            ("born on 27th March 2015.", Kind::DateOfBirth),
            ("the house at 14 Larch Row was", Kind::Address),
            ("postcode fb12xy on file", Kind::Postcode),
            ("area FB1 2XY.", Kind::Postcode),
            ("attended Hollybank Primary School until", Kind::School),
            ("see case N-2026-0007.", Kind::Reference),
            ("see case n 2026 0007.", Kind::Reference),
        ];
        for (text, kind) in cases {
            let hits = check(text, &identifiers);
            assert_eq!(
                hits.first().map(|hit| hit.kind),
                Some(kind),
                "{text}: {hits:?}"
            );
        }
    }

    #[test]
    fn reports_where_and_what_was_found() {
        let hits = check(
            "Child R, known to staff as QUINN, lived at 14 Larch Row.",
            &[
                Identifier::Name("Quinn Testsubject".to_string()),
                Identifier::Address("14 Larch Row".to_string()),
            ],
        );
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].found, "QUINN");
        assert_eq!(hits[0].offset, 27);
        assert_eq!(hits[1].found, "14 Larch Row");
    }

    #[test]
    fn a_postcode_of_letters_beyond_ascii_is_searched_not_a_panic() {
        // Found by fuzzing (fuzz/ anonymise_check): the inward part was cut by bytes.
        let hits = check(
            "area ÉÉ1 ÆØŒ on file",
            &[Identifier::Postcode("ÉÉ1ÆØŒ".to_string())],
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].found, "ÉÉ1 ÆØŒ");
    }

    #[test]
    fn whole_words_only_and_clean_text_passes() {
        let identifiers = [Identifier::Name("Ann Lee".to_string())];
        assert!(
            check(
                "Annual planning; a fleeting concern; Child R.",
                &identifiers
            )
            .is_empty()
        );
        assert_eq!(check("Ann attended.", &identifiers).len(), 1);
        assert!(check("", &identifiers).is_empty());
        assert!(check("Anything at all", &[]).is_empty());
    }
}
