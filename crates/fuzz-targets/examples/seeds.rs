//! Writes the seed corpus, `fuzz/corpus/<target>/`: small valid and invalid examples of each
//! input, all fictional. Run `cargo run -p learnloop-fuzz-targets --example seeds` after
//! changing it; the files are kept in the repository, so this is only needed then.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use learnloop_office::Cell;

type Seeds = Vec<(&'static str, Vec<u8>)>;

fn main() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let all: [(&str, Seeds); 8] = [
        ("tracker_import_csv", tracker_csv()),
        ("tracker_import_xlsx", tracker_xlsx()?),
        ("bank_holidays", bank_holidays()),
        ("strip_metadata", documents()?),
        ("anonymise_check", anonymise()),
        ("tracker_query", tracker_queries()),
        ("search_query", search_queries()),
        ("form_pairs", forms()),
    ];
    for (target, seeds) in all {
        let folder: PathBuf = root.join(target);
        std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
        for (name, bytes) in seeds {
            std::fs::write(folder.join(name), bytes).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn text(seeds: &[(&'static str, &str)]) -> Seeds {
    seeds
        .iter()
        .map(|(name, text)| (*name, text.as_bytes().to_vec()))
        .collect()
}

fn tracker_csv() -> Seeds {
    let mut seeds = text(&[
        (
            "exported.csv",
            "Reference,Action (SMART description),Owner agency,Due date,Lead's email address,Source,Status,Themes\r\n\
             ACT-1,Audit the threshold document,POL,30/11/2031,lead@agency.example,review,on_track,Neglect; Voice of the child\r\n\
             ACT-2,\"Train staff, twice\",Health,2031-12-01,,audit,not_started,\r\n",
        ),
        (
            "own_headings.csv",
            "\u{feff}What will be done,Organisation,Deadline,Progress\r\n\"Multi-line\nplan\",CSC,1.2.2032,Green\r\n,,,\r\n\r\nLate row,Edu,31-13-2031,\r\n",
        ),
        (
            "ragged.csv",
            "Action,Agency\nOne\nTwo,POL,extra,cells\n\"unterminated,POL\n",
        ),
        ("formulas.csv", "Action,Due\n'=1+1,@SUM(A1)\n-2,+3\n"),
        ("blank.csv", " , \r\n\t\r\n"),
        ("empty.csv", ""),
    ]);
    seeds.push((
        "not_utf8.csv",
        b"Action,Due\n\xff\xfe caf\xe9,1/1/2031\n".to_vec(),
    ));
    seeds
}

fn tracker_xlsx() -> Result<Seeds, String> {
    let due = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).map(Cell::Date);
    let rows = vec![
        vec![
            Cell::Text("Audit the threshold document".to_string()),
            Cell::Text("POL".to_string()),
            due(2031, 11, 30).ok_or("date")?,
            Cell::Coloured("Green".to_string(), 0x00703C),
        ],
        vec![
            Cell::Text("=1+1".to_string()),
            Cell::Number(7.5),
            Cell::Text("30/11/2031".to_string()),
            Cell::Number(3.0),
        ],
    ];
    let workbook = learnloop_office::write_xlsx(
        "Actions",
        &["Action", "Owner agency", "Due date", "Status"],
        &rows,
    )?;
    let mut truncated = workbook.clone();
    truncated.truncate(workbook.len() / 2);
    let mut seeds = vec![("exported.xlsx", workbook), ("truncated.xlsx", truncated)];
    // Worksheet XML alone: the target wraps it in a workbook (see `workbook_around`).
    seeds.extend(text(&[
        (
            "sheet.xml",
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C3"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>Owner agency</t></is></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="1"><v>47850</v></c><c r="C2" t="str"><v>POL</v></c></row><row r="3"><c r="A3" t="b"><v>1</v></c><c r="B3" t="e"><v>#REF!</v></c><c r="C3" t="d"><v>2031-11-30T00:00:00</v></c></row></sheetData></worksheet>"#,
        ),
        (
            "sheet_and_strings.xml",
            "<worksheet><sheetData><row r=\"1\"><c r=\"B1\" t=\"s\"><v>0</v></c></row><row r=\"2\"><c r=\"B2\" t=\"s\"><v>1</v></c><c r=\"D2\"><v>-1E+300</v></c></row></sheetData></worksheet>\0<sst><si><t>Action</t></si><si><r><t>Rich </t></r><r><t>text</t></r></si></sst>",
        ),
        (
            "sheet_far_cell.xml",
            r#"<worksheet><dimension ref="A1"/><sheetData><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>"#,
        ),
        (
            "sheet_declares_all.xml",
            r#"<worksheet><dimension ref="A1:XFD1048576"/><sheetData/></worksheet>"#,
        ),
    ]));
    Ok(seeds)
}

fn bank_holidays() -> Seeds {
    text(&[
        (
            "valid.json",
            r#"{"england-and-wales":{"division":"england-and-wales","events":[{"title":"Founders’ Day","date":"2031-03-14","notes":"","bunting":true},{"title":"Harvest Monday","date":"2031-09-22","notes":"Substitute day","bunting":false}]},"scotland":{"division":"scotland","events":[{"title":"Loch Day","date":"2031-06-02"}]}}"#,
        ),
        (
            "bad_events.json",
            r#"{"england-and-wales":{"events":[{"title":"A","date":"2031-13-01"},{"date":"2031-01-02"},{"title":" ","date":"31/01/2031"},{"title":7,"date":null}]}}"#,
        ),
        (
            "wrong_division.json",
            r#"{"england-and-wales":{"division":"scotland","events":[{"title":"A","date":"2031-01-01"}]}}"#,
        ),
        (
            "no_events.json",
            r#"{"england-and-wales":{"division":"england-and-wales","events":[]}}"#,
        ),
        (
            "events_not_a_list.json",
            r#"{"england-and-wales":{"events":{"title":"A"}}}"#,
        ),
        ("other_format.json", r#"{"events":[],"scotland":{}}"#),
        ("not_json.json", "england-and-wales,2031-01-01\n"),
    ])
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let length = u32::try_from(data.len()).unwrap_or(0);
    let mut chunk = length.to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut covered = kind.to_vec();
    covered.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&covered).to_be_bytes());
    chunk
}

/// A one-pixel grey PNG, with or without the chunks the stripper removes.
fn png(with_metadata: bool) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
    if with_metadata {
        png.extend(png_chunk(b"tEXt", b"Author\0Demo Person"));
        png.extend(png_chunk(b"tIME", &[7, 239, 11, 30, 9, 15, 0]));
    }
    png.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
    ));
    png.extend(png_chunk(b"IEND", &[]));
    png
}

/// A JPEG's segments as the stripper reads them (the scan data is not a real image).
fn jpeg(with_metadata: bool) -> Vec<u8> {
    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend_from_slice(&[
        0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ]);
    if with_metadata {
        let exif = b"Exif\0\0Artist: Demo Person";
        jpeg.extend_from_slice(&[0xFF, 0xE1, 0x00, 2 + exif.len() as u8]);
        jpeg.extend_from_slice(exif);
        let comment = b"Taken by Demo Person";
        jpeg.extend_from_slice(&[0xFF, 0xFE, 0x00, 2 + comment.len() as u8]);
        jpeg.extend_from_slice(comment);
    }
    jpeg.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x05, 0x00, 0x01, 0x01]);
    jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0x56, 0xFF, 0xD9]);
    jpeg
}

/// A small PDF with a document information dictionary and an XMP packet, its cross-reference
/// table right.
fn pdf() -> Vec<u8> {
    let xmp = "<x:xmpmeta><dc:creator>Demo Person</dc:creator></x:xmpmeta>";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>".to_string(),
        format!(
            "<< /Type /Metadata /Subtype /XML /Length {} >>\nstream\n{xmp}\nendstream",
            xmp.len()
        ),
        "<< /Author (Demo \\(Person\\)) /Creator (Writer (nested)) /Producer <44656D6F> /Title (Draft) /Keywords () >>".to_string(),
    ];
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n{object}\nendobj\n", index + 1).into_bytes());
    }
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for offset in offsets {
        pdf.extend(format!("{offset:010} 00000 n \n").into_bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    pdf
}

fn package(parts: &[(&str, &str)]) -> Result<Vec<u8>, String> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in parts {
        // An OpenDocument's mimetype comes first and uncompressed.
        let method = if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        writer
            .start_file(*name, options)
            .map_err(|e| e.to_string())?;
        writer
            .write_all(content.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    Ok(writer.finish().map_err(|e| e.to_string())?.into_inner())
}

fn documents() -> Result<Seeds, String> {
    let docx = package(&[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#,
        ),
        (
            "word/document.xml",
            "<w:document><w:body><w:p><w:r><w:t>Terms of reference</w:t></w:r></w:p></w:body></w:document>",
        ),
        (
            "docProps/core.xml",
            "<cp:coreProperties><dc:creator>Demo Person</dc:creator><cp:lastModifiedBy>Demo Person</cp:lastModifiedBy></cp:coreProperties>",
        ),
        (
            "docProps/app.xml",
            "<Properties><Company>Fernbridge Partnership</Company><Template>Normal.dotm</Template></Properties>",
        ),
    ])?;
    let odt = package(&[
        ("mimetype", "application/vnd.oasis.opendocument.text"),
        (
            "meta.xml",
            "<office:document-meta><office:meta><meta:initial-creator>Demo Person</meta:initial-creator></office:meta></office:document-meta>",
        ),
        (
            "content.xml",
            "<office:document-content><office:body><office:text><text:p>Minutes</text:p></office:text></office:body></office:document-content>",
        ),
    ])?;
    let briefing = learnloop_office::write_docx(&[
        learnloop_office::Block::Title("7-minute briefing".to_string()),
        learnloop_office::Block::Bullet("Ask who lives here".to_string()),
    ])?;
    let sheet = learnloop_office::write_xlsx("Actions", &["Action"], &[])?;
    let mut truncated_jpeg = jpeg(true);
    truncated_jpeg.truncate(30);
    let mut seeds = vec![
        ("photo.jpg", jpeg(true)),
        ("plain.jpg", jpeg(false)),
        ("truncated.jpg", truncated_jpeg),
        ("chart.png", png(true)),
        ("plain.png", png(false)),
        ("report.pdf", pdf()),
        ("report.docx", docx),
        ("briefing.docx", briefing),
        ("tracker.xlsx", sheet),
        ("minutes.odt", odt),
    ];
    seeds.extend(text(&[
        (
            "unbalanced.pdf",
            "%PDF-1.4\n/Author (Demo (Person) /Title <4142\n/Subject<</Producer(x)>>",
        ),
        (
            "xmp_only.pdf",
            "%PDF-1.4\n<x:xmpmeta>a</x:xmpmeta><x:xmpmeta>",
        ),
    ]));
    Ok(seeds)
}

fn anonymise() -> Seeds {
    text(&[
        (
            "every_kind.txt",
            "N:Quinn Testsubject\nD:2015-03-27\nA:14 Larch Row\nP:FB1 2XY\nS:Hollybank Primary School\nR:N-2026-0007\n---\nChild R, known as QUINN, was born on 27th March 2015 and lived at 14 Larch Row (fb12xy). She attended Hollybank Primary School; see case n 2026 0007.",
        ),
        (
            "clean_text.txt",
            "N:Ann Lee\nD:739000\n---\nAnnual planning; a fleeting concern; Child R.",
        ),
        (
            "unicode.txt",
            "N:Zoë Ørsted-Łukasz\nP:ÉÉ1 ÆØ\nS:Écoles Saint-Jean\n---\nZOË attended ÉCOLES SAINT JEAN; İstanbul, straße, ﬁle.",
        ),
        ("names_only.txt", "Quinn Testsubject\nX:Y\n"),
    ])
}

fn tracker_queries() -> Seeds {
    text(&[
        (
            "every_filter.txt",
            "source=review&agency=00000000-0000-0000-0000-000000000007&status=on_track&rag=red&theme=neglect&due=30&plan=0190c1d2-0000-7000-8000-000000000001&lead=me&page=2&per_page=50",
        ),
        ("overdue.txt", "due=overdue&rag=complete"),
        (
            "refused.txt",
            "source=rumour&agency=police&status=done&rag=purple&due=4000&plan=x",
        ),
        (
            "encoded.txt",
            "theme=%E2%9C%93+neglect&agency=+00000000-0000-0000-0000-000000000001+&page=-1",
        ),
        (
            "broken.txt",
            "%FF%FE=%zz&&=&source&page=99999999999999999999",
        ),
    ])
}

fn search_queries() -> Seeds {
    text(&[
        (
            "every_part.txt",
            "q=neglect+AND+%22voice%22&theme=neglect&type=cspr&agency=00000000-0000-0000-0000-000000000007&from=2031-01-01&to=2031-12-31&page=3",
        ),
        (
            "operators.txt",
            "q=NEAR(fathers+carers)*+-note+OR+%22%22%22&from=2031-02-30",
        ),
        ("bad_agency.txt", "agency=fernbridge&to=31/12/2031"),
        ("empty.txt", ""),
    ])
}

fn forms() -> Seeds {
    text(&[
        (
            "checkboxes.txt",
            "_csrf=abc123&ids=00000000-0000-0000-0000-000000000001&ids=%7B00000000-0000-0000-0000-000000000002%7D&ids=nope&description=Do+it&done=on",
        ),
        ("odd.txt", "a&b=&=c&%zz=1&a=2&+=+"),
    ])
}
