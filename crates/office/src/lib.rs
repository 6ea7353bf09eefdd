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
                        .write_string(row_number, column, guard(text))
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
                        .write_string_with_format(row_number, column, guard(text), &fill)
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

/// Text a spreadsheet would run as a formula is made inert with a leading apostrophe.
fn guard(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
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
            .write_record(row.iter().map(|cell| guard(&cell.text())))
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

/// Reads the first worksheet of an .xlsx file, or a CSV file, by its name; at most `max_rows`.
pub fn read_table(file_name: &str, bytes: &[u8], max_rows: usize) -> Result<Table, String> {
    let lower = file_name.to_ascii_lowercase();
    let mut all = if lower.ends_with(".xlsx") {
        read_xlsx(bytes)?
    } else if lower.ends_with(".csv") {
        read_csv(bytes)?
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

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "The CSV file is not UTF-8 text: save it as “CSV UTF-8”".to_string())?;
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| format!("Row {} of the CSV file cannot be read: {e}", index + 1))?;
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

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|_| "The file is not an Excel workbook that can be read".to_string())?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| "The workbook has no worksheets".to_string())?
        .map_err(|_| "The first worksheet cannot be read".to_string())?;
    let mut rows = Vec::new();
    for row in range.rows() {
        rows.push(
            row.iter()
                .map(|cell| match cell {
                    Data::Empty => String::new(),
                    Data::String(text) => text
                        .strip_prefix('\'')
                        .map(str::to_string)
                        .unwrap_or_else(|| text.clone()),
                    Data::Float(number) => {
                        if number.fract() == 0.0 {
                            format!("{number:.0}")
                        } else {
                            number.to_string()
                        }
                    }
                    Data::Int(number) => number.to_string(),
                    Data::Bool(flag) => flag.to_string(),
                    Data::DateTime(value) => excel_date(value.as_f64()),
                    Data::DateTimeIso(text) => text.chars().take(10).collect(),
                    Data::DurationIso(text) => text.clone(),
                    Data::Error(_) => String::new(),
                })
                .collect(),
        );
    }
    Ok(rows)
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
