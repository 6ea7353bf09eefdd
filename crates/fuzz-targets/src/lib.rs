//! The parsers a user feeds, one function each: arbitrary bytes go to the real parser and the
//! function asserts what must hold whatever the bytes were (no panic, errors that say where,
//! outputs that agree with themselves). A failed assertion is a finding. `fuzz/` runs these
//! under libFuzzer; `tests/short_runs.rs` runs them briefly in the ordinary test suite.
//!
//! None needs a database: where a parser is followed by database lookups (the tracker import's
//! preview, the calendar's store), the pure layer before them is what is fuzzed.

use std::collections::HashSet;

use chrono::NaiveDate;
use learnloop_core::FieldError;
use learnloop_core::access::{Actor, Grant, Role, Scope};
use learnloop_core::actions::import;
use learnloop_core::anonymise::{self, Identifier};
use learnloop_core::calendar::{Calendar, govuk};
use learnloop_core::library;
use learnloop_core::reviews::documents;
use learnloop_web::pages::forms::{self, Pairs};
use learnloop_web::queries::{SearchQuery, TrackerQuery, nonempty};
use uuid::Uuid;

/// A fuzz target: takes any bytes, panics on a finding.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` call it.
pub const TARGETS: [(&str, Target); 8] = [
    ("tracker_import_csv", tracker_import_csv),
    ("tracker_import_xlsx", tracker_import_xlsx),
    ("bank_holidays", bank_holidays),
    ("strip_metadata", strip_metadata),
    ("anonymise_check", anonymise_check),
    ("tracker_query", tracker_query),
    ("search_query", search_query),
    ("form_pairs", form_pairs),
];

/// Far below the 20,000 the import page allows, so that the fuzzer reaches the row cap.
const MAX_ROWS: usize = 20;

/// The tracker import from a CSV file, up to the point where rows meet the database.
pub fn tracker_import_csv(data: &[u8]) {
    tracker_import("tracker.csv", data);
}

/// The tracker import from an .xlsx workbook, up to the point where rows meet the database.
/// Bytes that are not a zip package are taken as the first worksheet's XML (then, after a zero
/// byte, the shared strings' XML) inside an otherwise sound workbook: mutations of a
/// compressed package rarely reach the worksheet reader, whose caps matter most.
pub fn tracker_import_xlsx(data: &[u8]) {
    if data.starts_with(b"PK") {
        tracker_import("tracker.xlsx", data);
    } else if let Some(workbook) = workbook_around(data) {
        tracker_import("tracker.xlsx", &workbook);
    }
}

const WORKBOOK_PARTS: [(&str, &str); 5] = [
    (
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#,
    ),
    (
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    ),
    (
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Actions" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    ),
    (
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
    ),
    // Style 1 is a date, so that numbers in cells with s="1" are read as dates.
    (
        "xl/styles.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#,
    ),
];

const SHARED_STRINGS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>Action</t></si><si><t>Due date</t></si><si><t>'=1+1</t></si></sst>"#;

/// A workbook (parts stored, not compressed) whose first worksheet, and shared strings if
/// given, are the fuzzer's bytes.
fn workbook_around(data: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let (sheet, strings) = match data.iter().position(|byte| *byte == 0) {
        Some(split) => (&data[..split], &data[split + 1..]),
        None => (data, SHARED_STRINGS.as_bytes()),
    };
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let parts = WORKBOOK_PARTS
        .iter()
        .map(|(name, text)| (*name, text.as_bytes()))
        .chain([
            ("xl/worksheets/sheet1.xml", sheet),
            ("xl/sharedStrings.xml", strings),
        ]);
    for (name, bytes) in parts {
        writer.start_file(name, options).ok()?;
        writer.write_all(bytes).ok()?;
    }
    Some(writer.finish().ok()?.into_inner())
}

fn tracker_import(file_name: &str, data: &[u8]) {
    let table = match learnloop_office::read_table(file_name, data, MAX_ROWS) {
        Ok(table) => table,
        Err(message) => {
            // The person importing must be told which file, or that the file as a whole, is
            // at fault.
            assert!(
                message.contains(file_name) || message.starts_with("The file"),
                "an import error that names nothing: {message}"
            );
            return;
        }
    };
    let width = learnloop_office::MAX_COLUMNS;
    assert!(
        table.headers.iter().any(|heading| !heading.is_empty()),
        "headings taken from a blank row: {:?}",
        table.headers
    );
    assert!(
        table.headers.len() <= width,
        "{} headings",
        table.headers.len()
    );
    assert!(table.rows.len() <= MAX_ROWS, "{} rows", table.rows.len());
    for row in &table.rows {
        assert!(row.len() <= width, "a row of {} cells", row.len());
        assert!(
            row.iter().any(|cell| !cell.trim().is_empty()),
            "a blank row kept: {row:?}"
        );
    }
    let mapping = import::suggest(&table.headers);
    for (field, column) in &mapping {
        assert!(
            *column < table.headers.len(),
            "{field} mapped past the headings"
        );
        assert!(
            import::FIELDS.iter().any(|(key, _, _)| key == field),
            "{field} is not a field"
        );
    }
    // A due date the preview accepts is stored as YYYY-MM-DD and checked again from that
    // text: it must read back as the same day.
    if let Some(column) = mapping.get("due_on") {
        for cell in table.rows.iter().filter_map(|row| row.get(*column)) {
            if let Some(date) = import::parse_date(cell) {
                let stored = date.format("%Y-%m-%d").to_string();
                assert_eq!(
                    import::parse_date(&stored),
                    Some(date),
                    "{cell:?} was read as {stored}, which does not read back"
                );
            }
        }
    }
}

/// GOV.UK's bank-holidays.json, as `learnloop calendar import` and the calendar page read it.
pub fn bank_holidays(data: &[u8]) {
    // The command reads the file as UTF-8 text and refuses anything else before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match govuk::parse(text) {
        Ok(events) => {
            assert!(!events.is_empty(), "a file with no events accepted");
            for (date, title) in &events {
                assert!(
                    !title.is_empty() && title.trim() == title,
                    "{date}: title {title:?}"
                );
            }
            let mut calendar = Calendar::built_in();
            calendar.replace_years(&events);
            for (date, _) in &events {
                assert!(
                    !calendar.is_working_day(*date),
                    "{date} is still a working day"
                );
                assert!(
                    calendar.covers(*date),
                    "{date} is outside the calendar's years"
                );
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason");
            for error in &errors {
                names_a_field(error, &["file", "england-and-wales"]);
            }
        }
    }
}

fn names_a_field(error: &FieldError, allowed: &[&str]) {
    assert!(
        allowed.iter().any(|field| error.field.starts_with(field)),
        "an error for an unexpected field: {error:?}"
    );
    assert!(
        !error.message.is_empty(),
        "an error with no message: {error:?}"
    );
}

/// The metadata stripper for uploaded documents, fed the same bytes as each kind it handles
/// (the upload check in front of it only looks at the first few bytes).
pub fn strip_metadata(data: &[u8]) {
    for name in ["upload.jpg", "upload.png", "upload.pdf", "upload.docx"] {
        let (clean, removed) = match documents::scrub(name, data) {
            Ok(result) => result,
            Err(error) => {
                names_a_field(&error, &["file"]);
                continue;
            }
        };
        // Stripping what was stripped finds nothing more and changes nothing.
        let again = documents::scrub(name, &clean);
        assert!(
            again.is_ok(),
            "{name}: the stripped file cannot be stripped again: {:?}",
            again.as_ref().err()
        );
        if let Ok((twice, removed_twice)) = again {
            assert!(!removed_twice, "{name}: metadata left after stripping");
            assert!(twice == clean, "{name}: stripping again changed the file");
        }
        match name {
            // Blanked in place, so that the cross-reference offsets stay right.
            "upload.pdf" => assert_eq!(clean.len(), data.len(), "{name}: length changed"),
            "upload.jpg" if !removed => assert!(clean == data, "{name}: changed, nothing removed"),
            "upload.jpg" | "upload.png" => {
                assert!(clean.len() <= data.len(), "{name}: grew while stripped");
            }
            _ => {}
        }
    }
}

/// The anonymisation check. The input is identifiers, one a line (`N:` name, `D:` date of
/// birth as YYYY-MM-DD or days from 1 January of year 1, `A:` address, `P:` postcode, `S:`
/// school, `R:` reference; any other line is a name), then a line `---`, then the text. With
/// no `---` the whole input is also the text.
pub fn anonymise_check(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let (list, text) = input
        .split_once("\n---\n")
        .unwrap_or((input.as_ref(), input.as_ref()));
    let identifiers: Vec<Identifier> = list.lines().filter_map(identifier).collect();
    let hits = anonymise::check(text, &identifiers);
    let characters: Vec<char> = text.chars().collect();
    let mut seen = HashSet::new();
    for pair in hits.windows(2) {
        assert!(
            pair[0].offset <= pair[1].offset,
            "hits out of order: {hits:?}"
        );
    }
    for hit in &hits {
        assert!(!hit.found.is_empty(), "an empty hit: {hit:?}");
        let length = hit.found.chars().count();
        let quoted: Option<String> = characters
            .get(hit.offset..hit.offset + length)
            .map(|slice| slice.iter().collect());
        assert_eq!(
            quoted.as_deref(),
            Some(hit.found.as_str()),
            "a hit that is not the text at its offset"
        );
        assert!(
            seen.insert((hit.offset, hit.kind.label())),
            "the same hit twice: {hit:?}"
        );
    }
    // Each identifier, written as it was recorded, is found in a text of just itself.
    for identifier in &identifiers {
        let written = match identifier {
            Identifier::Name(text)
            | Identifier::Address(text)
            | Identifier::School(text)
            | Identifier::Reference(text) => text.clone(),
            Identifier::Postcode(text) => text.chars().filter(|c| !c.is_whitespace()).collect(),
            Identifier::DateOfBirth(date) => date.format("%d/%m/%Y").to_string(),
        };
        if written.chars().any(char::is_alphanumeric) {
            assert!(
                !anonymise::check(&written, std::slice::from_ref(identifier)).is_empty(),
                "{identifier:?} not found in {written:?}"
            );
        }
    }
}

fn identifier(line: &str) -> Option<Identifier> {
    let (kind, value) = match line.split_once(':') {
        Some((kind, value)) if kind.len() == 1 => (kind, value.to_string()),
        _ => ("N", line.to_string()),
    };
    Some(match kind {
        "D" => Identifier::DateOfBirth(
            NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
                .ok()
                .or_else(|| {
                    value
                        .trim()
                        .parse::<i32>()
                        .ok()
                        .and_then(NaiveDate::from_num_days_from_ce_opt)
                })?,
        ),
        "A" => Identifier::Address(value),
        "P" => Identifier::Postcode(value),
        "S" => Identifier::School(value),
        "R" => Identifier::Reference(value),
        _ => Identifier::Name(value),
    })
}

/// Decodes a query string as the `Query` extractor does, when the bytes make an address at
/// all (anything else is refused before a handler runs).
fn from_address<T: serde::de::DeserializeOwned>(data: &[u8]) -> Option<T> {
    let text = std::str::from_utf8(data).ok()?;
    let uri: axum::http::Uri = format!("/?{text}").parse().ok()?;
    axum::extract::Query::<T>::try_from_uri(&uri)
        .ok()
        .map(|axum::extract::Query(query)| query)
}

/// Decodes a form body as `CsrfForm` and the `Form` extractor do.
fn from_body<T: serde::de::DeserializeOwned>(data: &[u8]) -> Option<T> {
    serde_urlencoded::from_bytes(data).ok()
}

/// What `query_pair` keeps of a value for a link: the characters of ids, codes and dates.
fn kept(value: Option<&str>) -> Option<String> {
    value
        .map(|value| {
            value
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .collect::<String>()
        })
        .filter(|value| !value.is_empty())
}

fn actor(role: Role, scope: Scope) -> Actor {
    Actor {
        person_id: Uuid::nil(),
        agency_id: Uuid::from_u128(1),
        grants: vec![Grant {
            id: Uuid::from_u128(2),
            role,
            scope,
            starts_on: None,
            ends_on: None,
        }],
    }
}

/// The tracker's filters, from an address or a form body.
pub fn tracker_query(data: &[u8]) {
    for query in [from_address::<TrackerQuery>(data), from_body(data)]
        .into_iter()
        .flatten()
    {
        check_tracker_query(&query);
    }
}

const TRACKER_FILTERS: [&str; 8] = [
    "source", "agency", "status", "rag", "theme", "due", "plan", "lead",
];

fn tracker_values(query: &TrackerQuery) -> [Option<&str>; 8] {
    [
        nonempty(&query.source),
        nonempty(&query.agency),
        nonempty(&query.status),
        nonempty(&query.rag),
        nonempty(&query.theme),
        nonempty(&query.due),
        nonempty(&query.plan),
        nonempty(&query.lead),
    ]
}

fn check_tracker_query(query: &TrackerQuery) {
    let values = tracker_values(query);
    match query.filter_kinds() {
        None => assert!(values.iter().all(Option::is_none), "filters not named"),
        Some(kinds) => {
            let named = kinds.strip_prefix("filters: ").unwrap_or_default();
            for name in named.split(", ") {
                assert!(TRACKER_FILTERS.contains(&name), "{name} is not a filter");
            }
        }
    }
    // An agency lead's filter never reaches past their own agency, whatever is asked for.
    let own = Uuid::from_u128(7);
    let lead = query.filter(&actor(Role::AgencyLead, Scope::Agency(own)), Uuid::nil());
    let manager = query.filter(
        &actor(Role::BusinessManager, Scope::Partnership),
        Uuid::nil(),
    );
    match (&lead, &manager) {
        (Ok(scoped), Ok(_)) => {
            let agencies = scoped.agencies.as_deref().unwrap_or_default();
            assert!(
                scoped.agencies.is_some() && agencies.iter().all(|agency| *agency == own),
                "an agency lead's scope widened to {:?}",
                scoped.agencies
            );
        }
        (Err(one), Err(other)) => {
            assert_eq!(one, other, "the refusal depends on who asks");
            names_a_field(one, &TRACKER_FILTERS);
        }
        _ => assert!(
            lead.is_ok() == manager.is_ok(),
            "accepted for one person and refused for another"
        ),
    }
    // The links to other pages carry the same filters, in the characters they keep.
    let link = query.query_string();
    let again = serde_urlencoded::from_str::<TrackerQuery>(&link);
    assert!(again.is_ok(), "the link {link:?} does not decode");
    if let Ok(again) = again {
        let expected = values.map(kept);
        let found = tracker_values(&again).map(|value| value.map(str::to_string));
        assert_eq!(found, expected, "the link {link:?} changed the filters");
    }
}

/// The library's search, from an address or a form body.
pub fn search_query(data: &[u8]) {
    for query in [from_address::<SearchQuery>(data), from_body(data)]
        .into_iter()
        .flatten()
    {
        check_search_query(&query);
    }
}

fn check_search_query(query: &SearchQuery) {
    let kinds = query.kinds();
    for name in kinds.split(", ").filter(|name| !name.is_empty()) {
        assert!(
            ["words", "theme", "type", "agency", "from", "to"].contains(&name),
            "{name} is not part of a search"
        );
    }
    if let Err(error) = query.filter() {
        names_a_field(&error, &["from", "to", "agency"]);
    }
    // The words go to the full-text engine each in quotes: nothing in them may end a quote or
    // be read as an operator.
    let words = library::words(query.q.as_deref().unwrap_or_default());
    assert!(words.len() <= 12, "{} words", words.len());
    for word in &words {
        assert!(
            !word.is_empty() && !word.contains('"') && !word.contains(char::is_whitespace),
            "a word the search engine could misread: {word:?}"
        );
        assert!(
            !["and", "or", "not", "near"].contains(&word.as_str()),
            "an operator kept: {word}"
        );
    }
    let link = query.filter_query_string();
    let again = serde_urlencoded::from_str::<SearchQuery>(&link);
    assert!(again.is_ok(), "the link {link:?} does not decode");
    if let Ok(again) = again {
        let filters = |query: &SearchQuery| {
            [
                &query.theme,
                &query.review_type,
                &query.agency,
                &query.from,
                &query.to,
            ]
            .map(|value| nonempty(value).map(str::to_string))
        };
        let expected = filters(query).map(|value| kept(value.as_deref()));
        assert_eq!(
            filters(&again),
            expected,
            "the link {link:?} changed the filters"
        );
    }
}

/// A form body read as the list of pairs the browser sent (checkboxes repeat).
pub fn form_pairs(data: &[u8]) {
    let Some(pairs) = from_body::<Pairs>(data) else {
        return;
    };
    let mut names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
    names.extend(["", "ids", "description"]);
    for name in names {
        let all = forms::all(&pairs, name);
        assert_eq!(
            forms::field(&pairs, name),
            all.first().cloned().unwrap_or_default(),
            "{name}: the first value is not the field"
        );
        assert_eq!(
            forms::checked(&pairs, name),
            all.iter().any(|value| !value.is_empty()),
            "{name}: ticked wrongly"
        );
        assert!(
            forms::ids(&pairs, name).len() <= all.len(),
            "{name}: ids made up"
        );
    }
}
