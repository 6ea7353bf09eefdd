//! Files attached to a case (a referral form, a chronology): checked by name and by content,
//! kept on the local filesystem under an id (never the uploaded name), behind the case's
//! access checks.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::FieldError;
use crate::error::{CoreError, CoreResult};

/// The largest file accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_attachments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    /// The uploaded name, cleaned; shown and offered on download, never used on disk.
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The kinds of file accepted: extension, content type, and how the content must begin.
const KINDS: [(&str, &str, &[u8]); 8] = [
    ("pdf", "application/pdf", b"%PDF-"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        b"PK\x03\x04",
    ),
    (
        "odt",
        "application/vnd.oasis.opendocument.text",
        b"PK\x03\x04",
    ),
    ("png", "image/png", b"\x89PNG\r\n\x1a\n"),
    ("jpg", "image/jpeg", b"\xff\xd8\xff"),
    ("jpeg", "image/jpeg", b"\xff\xd8\xff"),
    ("txt", "text/plain; charset=utf-8", b""),
];

/// A file name safe to show and to offer on download: the last path part, letters, digits,
/// spaces, dots, hyphens and underscores only, at most 120 characters.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_'))
        .take(120)
        .collect();
    cleaned.trim().trim_start_matches('.').to_string()
}

/// Checks an upload; returns its clean name and content type, or why it is refused.
pub fn check(name: &str, bytes: &[u8]) -> Result<(String, &'static str), FieldError> {
    let file_name = clean_name(name);
    if bytes.is_empty() {
        return Err(FieldError::new("file", "The file is empty"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(FieldError::new("file", "The file must be 10 MB or smaller"));
    }
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let Some((_, content_type, magic)) = KINDS.iter().find(|(ext, _, _)| *ext == extension) else {
        return Err(FieldError::new(
            "file",
            "The file must be a PDF, Word (.docx), Excel (.xlsx), OpenDocument text, PNG, JPEG or plain text file",
        ));
    };
    let content_fits = if extension == "txt" {
        std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0)
    } else {
        bytes.starts_with(magic)
    };
    if !content_fits {
        return Err(FieldError::new(
            "file",
            format!("The file's content is not a .{extension} file"),
        ));
    }
    Ok((file_name, content_type))
}

/// A checked upload, ready to record once its bytes are on disk.
pub struct Upload<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    pub uploaded_by: Uuid,
}

pub async fn record(
    db: &impl ConnectionTrait,
    upload: Upload<'_>,
    now: DateTime<Utc>,
) -> CoreResult<Model> {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(upload.bytes);
    Ok(Entity::insert(ActiveModel {
        id: Set(upload.id),
        case_id: Set(upload.case_id),
        file_name: Set(upload.file_name.to_string()),
        content_type: Set(upload.content_type.to_string()),
        size_bytes: Set(upload.bytes.len() as i64),
        sha256: Set(crate::identity::secrets::hex(&digest)),
        uploaded_by: Set(upload.uploaded_by),
        uploaded_at: Set(now),
    })
    .exec_with_returning(db)
    .await?)
}

pub async fn of_case(db: &impl ConnectionTrait, case_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::CaseId.eq(case_id))
        .order_by_asc(Column::UploadedAt)
        .all(db)
        .await?)
}

/// The attachment, if it belongs to this case.
pub async fn get(db: &impl ConnectionTrait, case_id: Uuid, id: Uuid) -> CoreResult<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|attachment| attachment.case_id == case_id)
        .ok_or(CoreError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_of_paths_and_odd_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(
            clean_name("C:\\Users\\x\\Referral <form>.pdf"),
            "Referral form.pdf"
        );
        assert_eq!(clean_name(".hidden.txt"), "hidden.txt");
    }

    #[test]
    fn type_is_checked_by_name_and_content() {
        assert_eq!(
            check("referral.pdf", b"%PDF-1.7 ...").map(|(_, t)| t),
            Ok("application/pdf")
        );
        assert!(
            check("referral.pdf", b"<html>").is_err(),
            "content must match the name"
        );
        assert!(check("run.exe", b"MZ").is_err(), "only the listed kinds");
        assert!(check("notes.txt", b"plain words").is_ok());
        assert!(check("notes.txt", b"bin\0ary").is_err());
        assert!(check("empty.pdf", b"").is_err());
        let big = vec![b'a'; MAX_BYTES + 1];
        assert_eq!(
            check("big.txt", &big).map_err(|e| e.message.contains("10 MB")),
            Err(true)
        );
    }
}
