//! Spreadsheets in and out: a table of cells written as .xlsx (with real dates and coloured
//! cells) or CSV, and a table of text read from the first sheet of an .xlsx file or from CSV.
//! Kept in its own crate so the spreadsheet libraries build once, away from everyday changes.

use chrono::NaiveDate;

/// One cell to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Date(NaiveDate),
    Number(f64),
    /// Text on a coloured fill (an RGB value like 0xD4351C), for RAG ratings.
    Coloured(String, u32),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(text) | Cell::Coloured(text, _) => text.clone(),
            Cell::Date(date) => date.format("%Y-%m-%d").to_string(),
            Cell::Number(number) => number.to_string(),
        }
    }
}

/// A table written as one .xlsx worksheet: bold headings, frozen heading row, filters, dates
/// in day-month-year format, widths fitted to the headings.
pub fn write_xlsx(sheet: &str, headers: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Color, ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(sheet).map_err(|e| e.to_string())?;
    let bold = Format::new().set_bold();
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    for (column, header) in headers.iter().enumerate() {
        let column = u16::try_from(column).map_err(|e| e.to_string())?;
        worksheet
            .write_string_with_format(0, column, *header, &bold)
            .map_err(|e| e.to_string())?;
        let width = f64::from(u32::try_from(header.len().clamp(12, 40)).unwrap_or(12)) + 2.0;
        worksheet
            .set_column_width(column, width)
            .map_err(|e| e.to_string())?;
    }
    for (index, row) in rows.iter().enumerate() {
        let row_number = u32::try_from(index + 1).map_err(|e| e.to_string())?;
        for (column, cell) in row.iter().enumerate() {
            let column = u16::try_from(column).map_err(|e| e.to_string())?;
            match cell {
                Cell::Text(text) => {
                    worksheet
                        .write_string(row_number, column, defuse_formula(text))
                        .map_err(|e| e.to_string())?;
                }
                Cell::Date(date) => {
                    let value = ExcelDateTime::from_ymd(
                        u16::try_from(chrono::Datelike::year(date)).map_err(|e| e.to_string())?,
                        u8::try_from(chrono::Datelike::month(date)).map_err(|e| e.to_string())?,
                        u8::try_from(chrono::Datelike::day(date)).map_err(|e| e.to_string())?,
                    )
                    .map_err(|e| e.to_string())?;
                    worksheet
                        .write_datetime_with_format(row_number, column, &value, &date_format)
                        .map_err(|e| e.to_string())?;
                }
                Cell::Number(number) => {
                    worksheet
                        .write_number(row_number, column, *number)
                        .map_err(|e| e.to_string())?;
                }
                Cell::Coloured(text, rgb) => {
                    let fill = Format::new()
                        .set_background_color(Color::RGB(*rgb))
                        .set_font_color(if *rgb == 0xFFDD00 {
                            Color::Black
                        } else {
                            Color::White
                        })
                        .set_bold();
                    worksheet
                        .write_string_with_format(row_number, column, defuse_formula(text), &fill)
                        .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    let last_row = u32::try_from(rows.len()).map_err(|e| e.to_string())?;
    let last_column = u16::try_from(headers.len().saturating_sub(1)).map_err(|e| e.to_string())?;
    worksheet
        .autofilter(0, 0, last_row, last_column)
        .map_err(|e| e.to_string())?;
    worksheet
        .set_freeze_panes(1, 0)
        .map_err(|e| e.to_string())?;
    workbook.save_to_buffer().map_err(|e| e.to_string())
}

/// The characters that make a spreadsheet read a cell as a formula (or, for tab and carriage
/// return, hide one after them).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Text a spreadsheet would run as a formula, made inert with a leading apostrophe. The one
/// guard for every CSV and .xlsx cell learnloop writes.
pub fn defuse_formula(text: &str) -> String {
    if text.starts_with(FORMULA_STARTS) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The same table as CSV (RFC 4180, CRLF line ends), dates as YYYY-MM-DD.
pub fn write_csv(headers: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, String> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(headers).map_err(|e| e.to_string())?;
    for row in rows {
        writer
            .write_record(row.iter().map(|cell| defuse_formula(&cell.text())))
            .map_err(|e| e.to_string())?;
    }
    writer.into_inner().map_err(|e| e.to_string())
}

/// A table read from a file: its headings and its rows, every cell as text (dates as
/// YYYY-MM-DD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The most columns an imported table may have.
pub const MAX_COLUMNS: usize = 200;

/// Reads the first worksheet of an .xlsx file, or a CSV file, by its name; at most `max_rows`
/// rows (besides the headings) and `MAX_COLUMNS` columns. A file beyond either is refused while
/// it is read, before its rows are kept, and an .xlsx package is checked against
/// `PACKAGE_LIMITS` before it is opened.
pub fn read_table(file_name: &str, bytes: &[u8], max_rows: usize) -> Result<Table, String> {
    let lower = file_name.to_ascii_lowercase();
    let mut all = if lower.ends_with(".xlsx") {
        read_xlsx(file_name, bytes, max_rows)?
    } else if lower.ends_with(".csv") {
        read_csv(file_name, bytes, max_rows)?
    } else {
        return Err("The file must be an Excel workbook (.xlsx) or a CSV file".to_string());
    };
    // Blank rows (often left at the end of a sheet) are not actions.
    all.retain(|row| row.iter().any(|cell| !cell.trim().is_empty()));
    if all.is_empty() {
        return Err("The file is empty".to_string());
    }
    let headers: Vec<String> = all
        .remove(0)
        .into_iter()
        .map(|h| h.trim().to_string())
        .collect();
    if all.len() > max_rows {
        return Err(format!(
            "The file has {} rows; import at most {max_rows} at a time",
            all.len()
        ));
    }
    Ok(Table { headers, rows: all })
}

fn too_many_rows(file_name: &str, max_rows: usize) -> String {
    format!("{file_name} has more than {max_rows} rows; import at most {max_rows} at a time")
}

fn too_many_columns(file_name: &str) -> String {
    format!("{file_name} has more than {MAX_COLUMNS} columns; import at most {MAX_COLUMNS}")
}

fn read_csv(file_name: &str, bytes: &[u8], max_rows: usize) -> Result<Vec<Vec<String>>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| format!("{file_name} is not UTF-8 text: save it as “CSV UTF-8”"))?;
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| format!("Row {} of {file_name} cannot be read: {e}", index + 1))?;
        // Checked as each row is read: a line of commas would otherwise become a row of
        // thousands of empty cells.
        if record.len() > MAX_COLUMNS {
            return Err(too_many_columns(file_name));
        }
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if rows.len() > max_rows {
            return Err(too_many_rows(file_name, max_rows));
        }
        rows.push(record.iter().map(str::to_string).collect());
    }
    Ok(rows)
}

/// An Excel date serial (days since 1899-12-30, the 1900 date system) as YYYY-MM-DD.
fn excel_date(serial: f64) -> String {
    let days = serial.floor();
    if !(0.0..=2_958_465.0).contains(&days) {
        return String::new();
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)
        .and_then(|epoch| epoch.checked_add_days(chrono::Days::new(days as u64)))
        .map(|date| date.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A cell as text: numbers without a needless ".0", dates as YYYY-MM-DD, and the apostrophe a
/// spreadsheet shows for text that looks like a formula removed.
fn cell_text(cell: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef;
    match cell {
        DataRef::Empty | DataRef::Error(_) => String::new(),
        DataRef::String(text) => text.strip_prefix('\'').unwrap_or(text).to_string(),
        DataRef::SharedString(text) => text.strip_prefix('\'').unwrap_or(text).to_string(),
        DataRef::Float(number) => {
            if number.fract() == 0.0 {
                format!("{number:.0}")
            } else {
                number.to_string()
            }
        }
        DataRef::Int(number) => number.to_string(),
        DataRef::Bool(flag) => flag.to_string(),
        DataRef::DateTime(value) => excel_date(value.as_f64()),
        DataRef::DateTimeIso(text) => text.chars().take(10).collect(),
        DataRef::DurationIso(text) => text.clone(),
    }
}

/// Reads the first worksheet cell by cell. calamine's ranges allocate rows × columns over the
/// cells' bounding box, so one cell at XFD1048576 would ask for billions: instead the sheet's
/// declared size is refused first when it is beyond the caps, and each cell's own position is
/// checked too (the declaration can lie), keeping only non-blank rows.
fn read_xlsx(file_name: &str, bytes: &[u8], max_rows: usize) -> Result<Vec<Vec<String>>, String> {
    use calamine::{Reader, Xlsx};
    check_package(file_name, bytes)?;
    check_cell_references(file_name, bytes)?;
    let unreadable = || format!("{file_name} is not an Excel workbook that can be read");
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|_| unreadable())?;
    let first = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| format!("{file_name} has no worksheets"))?;
    let mut cells = workbook
        .worksheet_cells_reader(&first)
        .map_err(|_| format!("The first worksheet of {file_name} cannot be read"))?;
    let declared = cells.dimensions();
    let declared_rows = u64::from(declared.end.0.saturating_sub(declared.start.0)) + 1;
    let declared_columns = u64::from(declared.end.1.saturating_sub(declared.start.1)) + 1;
    // One row more than `max_rows` for the headings.
    let row_cap = u64::try_from(max_rows)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    if declared_rows > row_cap || declared_columns > MAX_COLUMNS as u64 {
        return Err(format!(
            "{file_name}: its first sheet declares {declared_rows} rows and {declared_columns} columns; import at most {max_rows} rows and {MAX_COLUMNS} columns"
        ));
    }
    let mut rows: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    let mut first_column = usize::MAX;
    while let Some(cell) = cells
        .next_cell()
        .map_err(|_| format!("The first worksheet of {file_name} cannot be read"))?
    {
        let (row, column) = cell.get_position();
        let column = usize::try_from(column).unwrap_or(usize::MAX);
        if column >= MAX_COLUMNS {
            return Err(too_many_columns(file_name));
        }
        let text = cell_text(cell.get_value());
        if text.trim().is_empty() {
            continue;
        }
        if !rows.contains_key(&row) && rows.len() > max_rows {
            return Err(too_many_rows(file_name, max_rows));
        }
        let line = rows.entry(row).or_default();
        if line.len() <= column {
            line.resize(column + 1, String::new());
        }
        line[column] = text;
        first_column = first_column.min(column);
    }
    // Columns count from the first one used, as they did when read as a range.
    Ok(rows
        .into_values()
        .map(|line| line.into_iter().skip(first_column).collect())
        .collect())
}

/// The last row and column of a worksheet (1,048,576 and XFD).
const GRID_ROWS: u64 = 1_048_576;
const GRID_COLUMNS: u64 = 16_384;

/// Refuses a workbook with a cell reference (an `r` or `ref` attribute) beyond the grid, or a
/// range running backwards. calamine 0.38 reads references with unchecked arithmetic:
/// "ZZZZZZZ1" overflows (a panic in debug builds, a made-up position in release) and "B2:A1"
/// is subtracted the wrong way round. Every part is scanned as bytes, which finds every
/// attribute calamine reads (and, harmlessly, look-alikes in text); found by fuzzing.
fn check_cell_references(file_name: &str, bytes: &[u8]) -> Result<(), String> {
    use std::io::Read;
    let unreadable = || format!("{file_name} is not an Excel workbook that can be read");
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| unreadable())?;
    let mut xml = Vec::new();
    for index in 0..archive.len() {
        xml.clear();
        // Any part, whatever its name: the workbook's relationships choose which are read.
        archive
            .by_index(index)
            .map_err(|_| unreadable())?
            .take(PACKAGE_LIMITS.max_part_bytes)
            .read_to_end(&mut xml)
            .map_err(|_| unreadable())?;
        if let Some(reference) = reference_beyond_grid(&xml) {
            let shown: String = String::from_utf8_lossy(reference)
                .chars()
                .take(24)
                .collect();
            return Err(format!(
                "{file_name} refers to cell “{shown}”, which is outside any worksheet"
            ));
        }
    }
    Ok(())
}

/// The first `r="…"` or `ref="…"` value that names a cell beyond the grid or a backwards range.
fn reference_beyond_grid(xml: &[u8]) -> Option<&[u8]> {
    let name_byte =
        |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b':' | b'_' | b'-' | b'.');
    for start in (0..xml.len()).filter(|at| xml[*at] == b'r') {
        if start > 0 && name_byte(xml[start - 1]) {
            continue;
        }
        let mut at = if xml[start..].starts_with(b"ref") {
            start + 3
        } else {
            start + 1
        };
        let skip_spaces = |mut at: usize| {
            while xml.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            at
        };
        at = skip_spaces(at);
        if xml.get(at) != Some(&b'=') {
            continue;
        }
        at = skip_spaces(at + 1);
        let Some(quote) = xml.get(at).copied().filter(|q| matches!(q, b'"' | b'\'')) else {
            continue;
        };
        let value = &xml[at + 1..];
        let value = &value[..value
            .iter()
            .position(|b| *b == quote)
            .unwrap_or(value.len())];
        let parts: Vec<Reference> = value.split(|b| *b == b':').map(reference).collect();
        let backwards = matches!(
            parts.as_slice(),
            [Reference::Cell(r0, c0), Reference::Cell(r1, c1)]
                if *c0 > 0 && *c1 > 0 && (r1 < r0 || c1 < c0)
        );
        if backwards || parts.contains(&Reference::Beyond) {
            return Some(value);
        }
    }
    None
}

#[derive(PartialEq)]
enum Reference {
    /// Row and column from 1 (column 0: none given).
    Cell(u64, u64),
    /// Letters or digits that run past the grid, before anything calamine would stop at.
    Beyond,
    /// Something calamine refuses by itself.
    Other,
}

/// A reference as calamine reads one: column letters, then row digits; counted here without
/// overflowing.
fn reference(text: &[u8]) -> Reference {
    let letters = text.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let digits = text[letters..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let column = text[..letters].iter().fold(0u64, |column, letter| {
        column
            .saturating_mul(26)
            .saturating_add(u64::from(letter.to_ascii_uppercase() - b'A') + 1)
    });
    let row = text[letters..letters + digits]
        .iter()
        .fold(0u64, |row, digit| {
            row.saturating_mul(10)
                .saturating_add(u64::from(digit - b'0'))
        });
    if column > GRID_COLUMNS || row > GRID_ROWS {
        Reference::Beyond
    } else if letters + digits < text.len() || row == 0 {
        Reference::Other
    } else {
        Reference::Cell(row, column)
    }
}

/// Caps on an Office package (.docx, .xlsx, .odt are zip files): how many parts, and how large
/// each part and all of them are once decompressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageLimits {
    pub max_entries: usize,
    pub max_part_bytes: u64,
    pub max_total_bytes: u64,
}

/// 2,000 parts, 50 MB a part and 100 MB in all: far beyond any real document or tracker, far
/// below what a decompression bomb asks for.
pub const PACKAGE_LIMITS: PackageLimits = PackageLimits {
    max_entries: 2_000,
    max_part_bytes: 50 * 1024 * 1024,
    max_total_bytes: 100 * 1024 * 1024,
};

/// Checks a zip package against `PACKAGE_LIMITS` by decompressing every part into nothing,
/// counting the bytes as they come (the sizes a package declares are not trusted), and stopping
/// at the first part past a cap. The message names the file.
pub fn check_package(file_name: &str, bytes: &[u8]) -> Result<(), String> {
    check_package_within(file_name, bytes, PACKAGE_LIMITS)
}

pub fn check_package_within(
    file_name: &str,
    bytes: &[u8],
    limits: PackageLimits,
) -> Result<(), String> {
    use std::io::Read;
    let unreadable = || format!("{file_name} could not be read as an Office document");
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| unreadable())?;
    if archive.len() > limits.max_entries {
        return Err(format!(
            "{file_name} holds {} parts; a document may hold at most {}",
            archive.len(),
            limits.max_entries
        ));
    }
    let mut total = 0u64;
    for index in 0..archive.len() {
        let part = archive.by_index(index).map_err(|_| unreadable())?;
        // One byte past the cap is enough to know it is too large.
        let size = std::io::copy(
            &mut part.take(limits.max_part_bytes + 1),
            &mut std::io::sink(),
        )
        .map_err(|_| unreadable())?;
        if size > limits.max_part_bytes {
            return Err(format!(
                "{file_name} has a part that expands to more than {} MB: it is refused as a possible decompression bomb",
                limits.max_part_bytes / (1024 * 1024)
            ));
        }
        total += size;
        if total > limits.max_total_bytes {
            return Err(format!(
                "{file_name} expands to more than {} MB in all: it is refused as a possible decompression bomb",
                limits.max_total_bytes / (1024 * 1024)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_xlsx_table_reads_back_with_its_dates() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap_or_default();
        let bytes = write_xlsx(
            "Actions",
            &["Reference", "Due", "RAG"],
            &[vec![
                Cell::Text("ACT-1".to_string()),
                Cell::Date(date),
                Cell::Coloured("Red".to_string(), 0xD4351C),
            ]],
        )
        .unwrap_or_default();
        let table = read_table("actions.xlsx", &bytes, 10).unwrap_or_else(|e| Table {
            headers: vec![e],
            rows: vec![],
        });
        assert_eq!(table.headers, ["Reference", "Due", "RAG"]);
        assert_eq!(table.rows, [vec!["ACT-1", "2026-12-24", "Red"]]);
    }

    #[test]
    fn csv_reads_with_a_byte_order_mark_and_quoted_commas() {
        let table = read_table("t.csv", "\u{feff}a,b\r\n\"x, y\",2\r\n,\r\n".as_bytes(), 10)
            .unwrap_or_else(|e| Table {
                headers: vec![e],
                rows: vec![],
            });
        assert_eq!(table.headers, ["a", "b"]);
        assert_eq!(table.rows, [vec!["x, y", "2"]]);
    }

    #[test]
    fn formulas_are_made_inert() {
        let bytes = write_csv(&["a"], &[vec![Cell::Text("=1+1".to_string())]]).unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&bytes), "a\r\n'=1+1\r\n");
    }

    const DANGEROUS: [&str; 6] = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"];

    #[test]
    fn every_formula_start_is_defused_in_csv() {
        let rows: Vec<Vec<Cell>> = DANGEROUS
            .iter()
            .map(|text| vec![Cell::Coloured(text.to_string(), 0xD4351C)])
            .collect();
        let bytes = write_csv(&["a"], &rows).unwrap_or_default();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let cells: Vec<String> = reader
            .records()
            .map(|r| r.map(|r| r[0].to_string()).unwrap_or_default())
            .collect();
        let expected: Vec<String> = DANGEROUS.iter().map(|t| format!("'{t}")).collect();
        assert_eq!(cells, expected);
    }

    #[test]
    fn every_formula_start_is_defused_in_xlsx() {
        use std::io::Read;
        let rows: Vec<Vec<Cell>> = DANGEROUS
            .iter()
            .map(|text| {
                vec![
                    Cell::Text(text.to_string()),
                    Cell::Coloured(text.to_string(), 0xD4351C),
                ]
            })
            .collect();
        let bytes = write_xlsx("Actions", &["a", "b"], &rows).unwrap_or_default();
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
        let mut strings = String::new();
        archive
            .by_name("xl/sharedStrings.xml")
            .unwrap_or_else(|e| panic!("{e}"))
            .read_to_string(&mut strings)
            .unwrap_or_default();
        for text in ["'=1+1", "'+1", "'-1", "'@SUM(A1)"] {
            assert!(
                strings.contains(&format!(">{text}<")),
                "{text} in {strings}"
            );
        }
        assert!(!strings.contains(">=1+1<"), "{strings}");
    }

    /// Rewrites one part of a zip package.
    fn with_part(bytes: &[u8], name: &str, change: impl Fn(String) -> String) -> Vec<u8> {
        use std::io::{Read, Write};
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for index in 0..archive.len() {
            let mut part = archive.by_index(index).unwrap_or_else(|e| panic!("{e}"));
            let part_name = part.name().to_string();
            let mut content = String::new();
            part.read_to_string(&mut content).unwrap_or_default();
            if part_name == name {
                content = change(content);
            }
            writer
                .start_file(part_name, zip::write::SimpleFileOptions::default())
                .unwrap_or_else(|e| panic!("{e}"));
            writer
                .write_all(content.as_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
        }
        writer
            .finish()
            .unwrap_or_else(|e| panic!("{e}"))
            .into_inner()
    }

    fn small_workbook() -> Vec<u8> {
        write_xlsx(
            "Actions",
            &["Reference", "Description"],
            &[vec![
                Cell::Text("ACT-1".to_string()),
                Cell::Text("Do it".to_string()),
            ]],
        )
        .unwrap_or_default()
    }

    #[test]
    fn a_sheet_declaring_the_whole_grid_is_refused_before_it_is_read() {
        let huge = with_part(&small_workbook(), "xl/worksheets/sheet1.xml", |xml| {
            let start = xml.find("<dimension ref=\"").unwrap_or(0) + "<dimension ref=\"".len();
            let end = start + xml[start..].find('"').unwrap_or(0);
            format!("{}A1:XFD1048576{}", &xml[..start], &xml[end..])
        });
        let refused = read_table("tracker.xlsx", &huge, 20_000);
        let message = refused.expect_err("refused");
        assert!(message.starts_with("tracker.xlsx"), "{message}");
        assert!(
            message.contains("1048576 rows and 16384 columns"),
            "{message}"
        );
    }

    #[test]
    fn a_cell_far_outside_the_declared_sheet_is_refused_without_allocating_the_grid() {
        // The declaration says A1:B2, but one cell sits at XFD1048576: a range over the cells'
        // bounding box would ask for 17 billion cells.
        let far = with_part(&small_workbook(), "xl/worksheets/sheet1.xml", |xml| {
            xml.replace(
                "</sheetData>",
                "<row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c></row></sheetData>",
            )
        });
        let message = read_table("tracker.xlsx", &far, 20_000).expect_err("refused");
        assert!(message.contains("columns"), "{message}");
        let deep = with_part(&small_workbook(), "xl/worksheets/sheet1.xml", |xml| {
            xml.replace(
                "</sheetData>",
                "<row r=\"1048576\"><c r=\"A1048576\" t=\"inlineStr\"><is><t>x</t></is></c></row></sheetData>",
            )
        });
        let message = read_table("tracker.xlsx", &deep, 1).expect_err("refused");
        assert!(message.contains("more than 1 rows"), "{message}");
    }

    #[test]
    fn references_beyond_the_grid_or_backwards_are_refused_by_name() {
        // Found by fuzzing (fuzz/ tracker_import_xlsx): calamine panicked on each in debug
        // builds, or made up a position.
        let dimension = |reference: &str| {
            let reference = reference.to_string();
            with_part(&small_workbook(), "xl/worksheets/sheet1.xml", move |xml| {
                let start = xml.find("<dimension ref=\"").unwrap_or(0) + "<dimension ref=\"".len();
                let end = start + xml[start..].find('"').unwrap_or(0);
                format!("{}{reference}{}", &xml[..start], &xml[end..])
            })
        };
        for reference in [
            "A1:XFDFDFDFDFDFD1048576",
            "A1:B99999999999",
            "B2:A1",
            "A1:XFE1",
        ] {
            let message =
                read_table("tracker.xlsx", &dimension(reference), 20).expect_err(reference);
            assert!(
                message.starts_with("tracker.xlsx refers to cell"),
                "{message}"
            );
        }
        let row = with_part(&small_workbook(), "xl/worksheets/sheet1.xml", |xml| {
            xml.replace("<row r=\"2\"", "<row r = '4294967295'")
        });
        let message = read_table("tracker.xlsx", &row, 20).expect_err("row");
        assert!(message.contains("“4294967295”"), "{message}");
        // The last cell of the grid is a cell like any other.
        assert!(
            read_table("tracker.xlsx", &dimension("A1:XFD1048576"), 20)
                .expect_err("declared too large")
                .contains("declares")
        );
        assert!(reference_beyond_grid(br#"<c r="XFD1048576"/><c r:id="ZZZZZZZZ1"/>"#).is_none());
    }

    #[test]
    fn a_csv_row_of_endless_columns_is_refused() {
        let line = ",".repeat(MAX_COLUMNS + 5);
        let message =
            read_table("t.csv", format!("a\r\n{line}x\r\n").as_bytes(), 10).expect_err("refused");
        assert!(message.contains("columns"), "{message}");
    }

    #[test]
    fn a_package_past_its_caps_is_refused_by_name() {
        use std::io::Write;
        let limits = PackageLimits {
            max_entries: 3,
            max_part_bytes: 1000,
            max_total_bytes: 1500,
        };
        let package = |parts: &[(&str, usize)]| {
            let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            for (name, size) in parts {
                writer
                    .start_file(*name, zip::write::SimpleFileOptions::default())
                    .unwrap_or_else(|e| panic!("{e}"));
                writer
                    .write_all(&vec![b'a'; *size])
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            writer
                .finish()
                .unwrap_or_else(|e| panic!("{e}"))
                .into_inner()
        };
        let check =
            |parts: &[(&str, usize)]| check_package_within("a.docx", &package(parts), limits);
        assert_eq!(check(&[("a", 1000), ("b", 400)]), Ok(()));
        let one_part = check(&[("a", 1001)]).expect_err("part");
        assert!(one_part.starts_with("a.docx has a part that expands to more than"));
        assert!(
            check(&[("a", 900), ("b", 900)])
                .expect_err("total")
                .contains("in all")
        );
        assert!(
            check(&[("a", 1), ("b", 1), ("c", 1), ("d", 1)])
                .expect_err("entries")
                .contains("4 parts")
        );
    }
}

/// A block of a Word document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Title(String),
    Heading(String),
    Paragraph(String),
    Bullet(String),
}

fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A simple Word document (.docx) the team can edit: a title, headings, paragraphs and bullet
/// points, in the built-in styles (so the headings stay headings for screen readers), with no
/// author or company in its properties.
pub fn write_docx(blocks: &[Block]) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut body = String::new();
    for block in blocks {
        let (style, text) = match block {
            Block::Title(text) => ("Title", text),
            Block::Heading(text) => ("Heading1", text),
            Block::Paragraph(text) => ("Normal", text),
            Block::Bullet(text) => ("ListBullet", text),
        };
        body.push_str(&format!(
            "<w:p><w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
            xml_text(text)
        ));
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1134\" w:right=\"1134\" w:bottom=\"1134\" w:left=\"1134\" w:header=\"708\" w:footer=\"708\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
    );
    let styles = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Arial\" w:hAnsi=\"Arial\" w:cs=\"Arial\"/><w:sz w:val=\"24\"/><w:lang w:val=\"en-GB\"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after=\"160\"/></w:pPr></w:pPrDefault></w:docDefaults>\
<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/></w:style>\
<w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/><w:basedOn w:val=\"Normal\"/><w:pPr><w:outlineLvl w:val=\"0\"/></w:pPr><w:rPr><w:b/><w:sz w:val=\"44\"/></w:rPr></w:style>\
<w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/><w:basedOn w:val=\"Normal\"/><w:pPr><w:keepNext/><w:spacing w:before=\"240\"/><w:outlineLvl w:val=\"1\"/></w:pPr><w:rPr><w:b/><w:sz w:val=\"30\"/></w:rPr></w:style>\
<w:style w:type=\"paragraph\" w:styleId=\"ListBullet\"><w:name w:val=\"List Bullet\"/><w:basedOn w:val=\"Normal\"/><w:pPr><w:ind w:left=\"360\" w:hanging=\"360\"/></w:pPr></w:style></w:styles>";
    let content_types = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/><Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/></Types>";
    let rels = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";
    let document_rels = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/></Relationships>";
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, content) in [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", rels),
        ("word/_rels/document.xml.rels", document_rels),
        ("word/styles.xml", styles),
        ("word/document.xml", document.as_str()),
    ] {
        writer
            .start_file(name, options)
            .map_err(|e| e.to_string())?;
        writer
            .write_all(content.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    Ok(writer.finish().map_err(|e| e.to_string())?.into_inner())
}

#[cfg(test)]
mod docx_tests {
    use std::io::Read;

    use super::{Block, write_docx};

    #[test]
    fn a_briefing_is_a_word_package_with_its_text_escaped() {
        let bytes = write_docx(&[
            Block::Title("7-minute briefing".to_string()),
            Block::Heading("What we learned".to_string()),
            Block::Paragraph("Fathers & male carers <unseen>".to_string()),
            Block::Bullet("Ask who lives here".to_string()),
        ])
        .unwrap_or_default();
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
        let mut document = String::new();
        archive
            .by_name("word/document.xml")
            .unwrap_or_else(|e| panic!("{e}"))
            .read_to_string(&mut document)
            .unwrap_or_default();
        assert!(document.contains("Fathers &amp; male carers &lt;unseen&gt;"));
        assert!(document.contains("w:val=\"Heading1\""));
        assert!(archive.by_name("[Content_Types].xml").is_ok());
    }
}
