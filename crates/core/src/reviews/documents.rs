//! A review's documents (terms of reference, agency reports, drafts, the final report), each
//! with its versions kept. Files are checked by name and content like case files, stripped of
//! the metadata that names people (authors, cameras, software) before they are stored, and kept
//! under the version's id, never the uploaded name.

use std::io::{Cursor, Read, Write};

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, Set};

use crate::cases::attachments;
use crate::error::{CoreError, CoreResult};
use crate::{FieldError, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub review_id: Uuid,
    pub kind: String,
    pub title: String,
    /// The agency it came from (agency reports, chronologies).
    pub agency_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod versions {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "review_document_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub document_id: Uuid,
        pub version: i32,
        pub file_name: String,
        pub content_type: String,
        pub size_bytes: i64,
        /// Of the stored (cleaned) bytes.
        pub sha256: String,
        /// Whether identifying metadata was found and removed.
        pub metadata_removed: bool,
        pub uploaded_by: Uuid,
        pub uploaded_at: DateTime<Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub const KINDS: [(&str, &str); 8] = [
    ("terms_of_reference", "Terms of reference"),
    ("agency_report", "Agency report"),
    ("chronology", "Chronology"),
    ("imr", "Individual management review"),
    ("draft_report", "Draft report"),
    ("final_report", "Final report"),
    ("minutes", "Panel minutes"),
    ("other", "Other"),
];

pub fn kind_label(key: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(kind, _)| *kind == key)
        .map(|(_, label)| *label)
        .unwrap_or("Document")
}

/// A document with its versions, newest first.
#[derive(Debug, Clone)]
pub struct Document {
    pub document: Model,
    pub versions: Vec<versions::Model>,
}

/// An upload, checked and cleaned, ready to be written to disk and recorded.
pub struct Prepared {
    pub version_id: Uuid,
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    pub metadata_removed: bool,
}

/// Checks an upload (type, size, content) and removes its metadata.
pub fn prepare(name: &str, bytes: &[u8]) -> Result<Prepared, FieldError> {
    let (file_name, content_type) = attachments::check(name, bytes)?;
    let (cleaned, removed) = scrub(&file_name, bytes)?;
    Ok(Prepared {
        version_id: Uuid::now_v7(),
        file_name,
        content_type,
        bytes: cleaned,
        metadata_removed: removed,
    })
}

/// What the new version belongs to: an existing document, or a new one.
pub enum Target<'a> {
    Existing(Uuid),
    New {
        kind: &'a str,
        title: &'a str,
        agency_id: Option<Uuid>,
    },
}

/// Records a prepared upload as a new document or the next version of one.
pub async fn record(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    target: Target<'_>,
    prepared: &Prepared,
    uploaded_by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<Document> {
    super::get(db, review_id).await?;
    let document = match target {
        Target::Existing(id) => get(db, review_id, id).await?,
        Target::New {
            kind,
            title,
            agency_id,
        } => {
            let mut errors = Vec::new();
            if !KINDS.iter().any(|(key, _)| *key == kind) {
                errors.push(FieldError::new(
                    "kind",
                    "Choose what kind of document this is",
                ));
            }
            let title = validate::required_text("title", title, 200, &mut errors);
            if !errors.is_empty() {
                return Err(CoreError::Invalid(errors));
            }
            Entity::insert(ActiveModel {
                id: Set(Uuid::now_v7()),
                review_id: Set(review_id),
                kind: Set(kind.to_string()),
                title: Set(title),
                agency_id: Set(agency_id),
                created_at: Set(now),
            })
            .exec_with_returning(db)
            .await?
        }
    };
    let last = versions::Entity::find()
        .filter(versions::Column::DocumentId.eq(document.id))
        .select_only()
        .column_as(versions::Column::Version.max(), "last")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0);
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&prepared.bytes);
    versions::Entity::insert(versions::ActiveModel {
        id: Set(prepared.version_id),
        document_id: Set(document.id),
        version: Set(last + 1),
        file_name: Set(prepared.file_name.clone()),
        content_type: Set(prepared.content_type.to_string()),
        size_bytes: Set(i64::try_from(prepared.bytes.len()).unwrap_or(i64::MAX)),
        sha256: Set(crate::identity::secrets::hex(&digest)),
        metadata_removed: Set(prepared.metadata_removed),
        uploaded_by: Set(uploaded_by),
        uploaded_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    with_versions(db, document).await
}

pub async fn get(db: &impl ConnectionTrait, review_id: Uuid, id: Uuid) -> CoreResult<Model> {
    Entity::find_by_id(id)
        .filter(Column::ReviewId.eq(review_id))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}

/// One version of one of the review's documents.
pub async fn version(
    db: &impl ConnectionTrait,
    review_id: Uuid,
    version_id: Uuid,
) -> CoreResult<(Model, versions::Model)> {
    let version = versions::Entity::find_by_id(version_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    let document = get(db, review_id, version.document_id).await?;
    Ok((document, version))
}

async fn with_versions(db: &impl ConnectionTrait, document: Model) -> CoreResult<Document> {
    let versions = versions::Entity::find()
        .filter(versions::Column::DocumentId.eq(document.id))
        .order_by_desc(versions::Column::Version)
        .all(db)
        .await?;
    Ok(Document { document, versions })
}

pub async fn of_review(db: &impl ConnectionTrait, review_id: Uuid) -> CoreResult<Vec<Document>> {
    let documents = Entity::find()
        .filter(Column::ReviewId.eq(review_id))
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = documents.iter().map(|document| document.id).collect();
    let all_versions = if ids.is_empty() {
        Vec::new()
    } else {
        versions::Entity::find()
            .filter(versions::Column::DocumentId.is_in(ids))
            .order_by_desc(versions::Column::Version)
            .all(db)
            .await?
    };
    Ok(documents
        .into_iter()
        .map(|document| Document {
            versions: all_versions
                .iter()
                .filter(|version| version.document_id == document.id)
                .cloned()
                .collect(),
            document,
        })
        .collect())
}

/// Removes identifying metadata; returns the cleaned bytes and whether anything was removed.
pub fn scrub(file_name: &str, bytes: &[u8]) -> Result<(Vec<u8>, bool), FieldError> {
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "jpg" | "jpeg" => scrub_jpeg(bytes),
        "png" => scrub_png(bytes),
        "pdf" => Ok(scrub_pdf(bytes)),
        "docx" | "xlsx" | "odt" => scrub_package(file_name, bytes, &extension),
        _ => Ok((bytes.to_vec(), false)),
    }
}

fn unreadable(extension: &str) -> FieldError {
    FieldError::new(
        "file",
        format!("The file could not be read as a .{extension} file"),
    )
}

/// JPEG: drops the application segments other than JFIF (EXIF, XMP, IPTC) and comments.
fn scrub_jpeg(bytes: &[u8]) -> Result<(Vec<u8>, bool), FieldError> {
    // Shorter than the start-of-image marker: not a JPEG at all.
    let mut out = bytes.get(..2).ok_or_else(|| unreadable("jpg"))?.to_vec();
    let mut at = 2;
    let mut removed = false;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return Err(unreadable("jpg"));
        }
        let marker = bytes[at + 1];
        if marker == 0xDA {
            // Start of scan: the image data follows to the end.
            out.extend_from_slice(&bytes[at..]);
            return Ok((out, removed));
        }
        let length = usize::from(bytes[at + 2]) << 8 | usize::from(bytes[at + 3]);
        let end = at + 2 + length;
        if length < 2 || end > bytes.len() {
            return Err(unreadable("jpg"));
        }
        if (0xE1..=0xEF).contains(&marker) || marker == 0xFE {
            removed = true;
        } else {
            out.extend_from_slice(&bytes[at..end]);
        }
        at = end;
    }
    Err(unreadable("jpg"))
}

/// PNG: drops text, EXIF and time chunks.
fn scrub_png(bytes: &[u8]) -> Result<(Vec<u8>, bool), FieldError> {
    let mut out = bytes.get(..8).ok_or_else(|| unreadable("png"))?.to_vec();
    let mut at = 8;
    let mut removed = false;
    while at + 12 <= bytes.len() {
        let length = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let Ok(length) = usize::try_from(length) else {
            return Err(unreadable("png"));
        };
        let end = at + 12 + length;
        if end > bytes.len() {
            return Err(unreadable("png"));
        }
        let kind = &bytes[at + 4..at + 8];
        if matches!(kind, b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME") {
            removed = true;
        } else {
            out.extend_from_slice(&bytes[at..end]);
        }
        if kind == b"IEND" {
            return Ok((out, removed));
        }
        at = end;
    }
    Err(unreadable("png"))
}

/// PDF: blanks the document information values and any XMP packet in place, keeping every
/// byte offset (so the cross-reference table stays valid).
fn scrub_pdf(bytes: &[u8]) -> (Vec<u8>, bool) {
    let mut out = bytes.to_vec();
    let mut removed = false;
    for key in [
        &b"/Author"[..],
        b"/Creator",
        b"/Producer",
        b"/Title",
        b"/Subject",
        b"/Keywords",
    ] {
        let mut from = 0;
        while let Some(found) = find(&out[from..], key) {
            let mut at = from + found + key.len();
            while at < out.len() && out[at].is_ascii_whitespace() {
                at += 1;
            }
            if at < out.len() && out[at] == b'(' {
                let mut depth = 0usize;
                let mut index = at;
                while index < out.len() {
                    match out[index] {
                        b'\\' => {
                            out[index] = b' ';
                            // The escaped byte goes too; a backslash at the very end has
                            // none, and stepping past it would leave the search outside
                            // the file.
                            if index + 1 < out.len() {
                                out[index + 1] = b' ';
                                index += 1;
                            }
                        }
                        b'(' if index == at => depth = 1,
                        b'(' => {
                            depth += 1;
                            out[index] = b' ';
                        }
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            out[index] = b' ';
                        }
                        _ => {
                            if out[index] != b' ' {
                                removed = true;
                            }
                            out[index] = b' ';
                        }
                    }
                    index += 1;
                }
                from = index;
            } else if at < out.len() && out[at] == b'<' && out.get(at + 1) != Some(&b'<') {
                let mut index = at + 1;
                while index < out.len() && out[index] != b'>' {
                    if !out[index].is_ascii_whitespace() {
                        removed = true;
                    }
                    out[index] = b' ';
                    index += 1;
                }
                from = index;
            } else {
                from = at;
            }
        }
    }
    let mut from = 0;
    while let Some(start) = find(&out[from..], b"<x:xmpmeta") {
        let start = from + start;
        let Some(length) = find(&out[start..], b"</x:xmpmeta>") else {
            break;
        };
        let end = start + length + b"</x:xmpmeta>".len();
        for byte in &mut out[start..end] {
            *byte = b' ';
        }
        removed = true;
        from = end;
    }
    (out, removed)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

const EMPTY_CORE: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"></cp:coreProperties>"#;
const EMPTY_APP: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"></Properties>"#;
const EMPTY_ODF_META: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.2"><office:meta/></office:document-meta>"#;

/// Office packages (.docx, .xlsx, .odt): replaces the document properties (author, last
/// modified by, company, template) with empty ones; every other part is copied unchanged.
/// The package is first checked against `learnloop_office::PACKAGE_LIMITS` (parts, and their
/// decompressed sizes as counted, not as declared), so a decompression bomb is refused by name
/// before any part is read into memory.
fn scrub_package(
    file_name: &str,
    bytes: &[u8],
    extension: &str,
) -> Result<(Vec<u8>, bool), FieldError> {
    learnloop_office::check_package(file_name, bytes)
        .map_err(|message| FieldError::new("file", message))?;
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| unreadable(extension))?;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut removed = false;
    for index in 0..archive.len() {
        let replacement = {
            let file = archive
                .by_index_raw(index)
                .map_err(|_| unreadable(extension))?;
            match file.name() {
                "docProps/core.xml" => Some(("docProps/core.xml", EMPTY_CORE)),
                "docProps/app.xml" => Some(("docProps/app.xml", EMPTY_APP)),
                "meta.xml" => Some(("meta.xml", EMPTY_ODF_META)),
                _ => None,
            }
        };
        match replacement {
            Some((name, content)) => {
                let mut original = String::new();
                // Checked above; capped again so this read can never grow past the limit.
                archive
                    .by_index(index)
                    .map_err(|_| unreadable(extension))?
                    .take(learnloop_office::PACKAGE_LIMITS.max_part_bytes)
                    .read_to_string(&mut original)
                    .map_err(|_| unreadable(extension))?;
                if original.trim() != content.trim() {
                    removed = true;
                }
                writer
                    .start_file(name, zip::write::SimpleFileOptions::default())
                    .map_err(|_| unreadable(extension))?;
                writer
                    .write_all(content.as_bytes())
                    .map_err(|_| unreadable(extension))?;
            }
            None => {
                let file = archive
                    .by_index_raw(index)
                    .map_err(|_| unreadable(extension))?;
                // A part said to be longer than the file would be copied short under a header
                // still claiming the full length (a deflated part reads correctly all the
                // same), and the result would not be a package.
                let end = file.data_start().checked_add(file.compressed_size());
                if end.is_none_or(|end| end > u64::try_from(bytes.len()).unwrap_or(u64::MAX)) {
                    return Err(unreadable(extension));
                }
                writer
                    .raw_copy_file(file)
                    .map_err(|_| unreadable(extension))?;
            }
        }
    }
    let cursor = writer.finish().map_err(|_| unreadable(extension))?;
    Ok((cursor.into_inner(), removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_loses_its_exif_and_comments_but_keeps_the_image() {
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x04, b'J', b'F']);
        let exif = b"Exif\0\0Artist: Demo Person";
        jpeg.extend_from_slice(&[0xFF, 0xE1, 0x00, (exif.len() + 2) as u8]);
        jpeg.extend_from_slice(exif);
        jpeg.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x06, b'a', b'b', b'c', b'd']);
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 1, 2, 3, 0xFF, 0xD9]);
        let (clean, removed) = scrub("photo.jpg", &jpeg).expect("a readable jpeg");
        assert!(removed);
        assert!(find(&clean, b"Demo Person").is_none());
        assert!(find(&clean, b"abcd").is_none());
        assert!(clean.ends_with(&[0xFF, 0xDA, 0x00, 0x02, 1, 2, 3, 0xFF, 0xD9]));
        assert!(clean.starts_with(&[0xFF, 0xD8, 0xFF, 0xE0]));
    }

    #[test]
    fn png_loses_its_text_chunks() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut out = (data.len() as u32).to_be_bytes().to_vec();
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&[0, 0, 0, 0]);
            out
        };
        png.extend(chunk(b"IHDR", &[0; 13]));
        png.extend(chunk(b"tEXt", b"Author\0Demo Person"));
        png.extend(chunk(b"IDAT", &[1, 2, 3]));
        png.extend(chunk(b"IEND", &[]));
        let (clean, removed) = scrub("chart.png", &png).expect("a readable png");
        assert!(removed);
        assert!(find(&clean, b"Demo Person").is_none());
        assert!(find(&clean, b"IDAT").is_some());
    }

    #[test]
    fn pdf_information_is_blanked_without_moving_anything() {
        let pdf = b"%PDF-1.7\n1 0 obj << /Author (Demo \\(Person\\)) /Producer <4142> /Title (Draft) >> endobj\n<x:xmpmeta>creator Demo</x:xmpmeta>\n%%EOF".to_vec();
        let (clean, removed) = scrub("report.pdf", &pdf).expect("a pdf");
        assert!(removed);
        assert_eq!(clean.len(), pdf.len());
        assert!(find(&clean, b"Demo").is_none());
        assert!(find(&clean, b"4142").is_none());
        assert!(find(&clean, b"/Author (").is_some());
        assert!(clean.ends_with(b"%%EOF"));
    }

    #[test]
    fn office_documents_lose_their_properties() {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        writer
            .start_file("[Content_Types].xml", options)
            .expect("zip");
        writer.write_all(b"<Types/>").expect("zip");
        writer
            .start_file("docProps/core.xml", options)
            .expect("zip");
        writer
            .write_all(
                b"<cp:coreProperties><dc:creator>Demo Person</dc:creator></cp:coreProperties>",
            )
            .expect("zip");
        writer
            .start_file("word/document.xml", options)
            .expect("zip");
        writer
            .write_all(b"<w:document>Body text</w:document>")
            .expect("zip");
        let bytes = writer.finish().expect("zip").into_inner();
        let (clean, removed) = scrub("report.docx", &bytes).expect("a docx");
        assert!(removed);
        let mut archive = zip::ZipArchive::new(Cursor::new(clean)).expect("still a zip");
        let mut core = String::new();
        archive
            .by_name("docProps/core.xml")
            .expect("core")
            .read_to_string(&mut core)
            .expect("text");
        assert!(!core.contains("Demo Person"));
        let mut body = String::new();
        archive
            .by_name("word/document.xml")
            .expect("body")
            .read_to_string(&mut body)
            .expect("text");
        assert_eq!(body, "<w:document>Body text</w:document>");
    }

    /// A package whose one part is all zeros: tiny compressed, `expanded` bytes decompressed.
    fn package_with_a_part_of(name: &str, expanded: usize) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        writer.start_file(name, options).expect("zip");
        let block = vec![0u8; 1024 * 1024];
        let mut left = expanded;
        while left > 0 {
            let now = left.min(block.len());
            writer.write_all(&block[..now]).expect("zip");
            left -= now;
        }
        writer.finish().expect("zip").into_inner()
    }

    #[test]
    fn a_decompression_bomb_is_refused_by_name() {
        let cap = usize::try_from(learnloop_office::PACKAGE_LIMITS.max_part_bytes).expect("fits");
        // The document properties are the part scrubbing reads; any part counts.
        for part in ["docProps/core.xml", "word/document.xml"] {
            let bomb = package_with_a_part_of(part, cap + 1024);
            assert!(bomb.len() < 200 * 1024, "small on the wire: {}", bomb.len());
            let error = scrub("report.docx", &bomb).expect_err("refused");
            assert_eq!(error.field, "file");
            assert!(error.message.contains("report.docx"), "{}", error.message);
            assert!(
                error.message.contains("decompression bomb"),
                "{}",
                error.message
            );
        }
        // Just under the cap is a document like any other.
        let large = package_with_a_part_of("word/document.xml", 1024 * 1024);
        assert!(scrub("report.docx", &large).is_ok());
    }

    #[test]
    fn files_too_short_for_their_kind_are_refused_not_a_panic() {
        // Found by fuzzing (fuzz/ strip_metadata): each of these panicked.
        for (name, bytes) in [
            ("photo.jpg", &b""[..]),
            ("photo.jpg", b"\xff"),
            ("chart.png", b"\x89PNG"),
        ] {
            let error = scrub(name, bytes).expect_err("refused");
            assert_eq!(error.field, "file");
        }
        let (clean, removed) = scrub("report.pdf", b"%PDF-1.4 /Author (Demo\\").expect("blanked");
        assert!(removed);
        assert_eq!(clean, b"%PDF-1.4 /Author (     ");
    }

    #[test]
    fn a_part_said_to_run_past_the_end_of_the_file_is_refused() {
        // Found by fuzzing (fuzz/ strip_metadata): the part was copied short, and each
        // stripping of the result gave a different, larger and broken package.
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        writer
            .start_file("word/document.xml", options)
            .expect("zip");
        writer.write_all(b"<w:document/>").expect("zip");
        let mut bytes = writer.finish().expect("zip").into_inner();
        assert!(scrub("report.docx", &bytes).is_ok());
        // The compressed size in the central directory entry, 20 bytes after its signature.
        let central = bytes
            .windows(4)
            .position(|window| window == b"PK\x01\x02")
            .expect("a central directory");
        bytes[central + 20..central + 24].copy_from_slice(&60_000u32.to_le_bytes());
        let error = scrub("report.docx", &bytes).expect_err("refused");
        assert_eq!(error.field, "file");
    }

    #[test]
    fn a_broken_office_file_is_refused_by_name() {
        let error = scrub("report.docx", b"PK\x03\x04not really").expect_err("refused");
        assert_eq!(error.field, "file");
    }
}
