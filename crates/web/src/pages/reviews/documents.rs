//! Documents: the review's files with their versions. Uploads and downloads are in
//! `pages::review_documents`.

use askama::Template;
use axum::response::Html;
use learnloop_core::reviews::documents;

use super::{Choice, Head, Opened, Powers, agency_choices, agency_names, choices, labelled};
use crate::error::PageResult;
use crate::pages::dates;
use crate::pages::layout::{Layout, render};

pub struct VersionRow {
    id: String,
    version: i32,
    file_name: String,
    size: String,
    uploaded: String,
    metadata_removed: bool,
}

pub struct DocumentRow {
    title: String,
    kind: &'static str,
    agency: String,
    versions: Vec<VersionRow>,
}

#[derive(Template)]
#[template(path = "pages/review_documents.html")]
struct DocumentsPage {
    layout: Layout,
    head: Head,
    powers: Powers,
    documents: Vec<DocumentRow>,
    existing: Vec<Choice>,
    kinds: Vec<Choice>,
    agencies: Vec<Choice>,
}

pub(super) async fn page(opened: Opened<'_>) -> PageResult<Html<String>> {
    let Opened {
        txn,
        review,
        powers,
        head,
        layout,
        ..
    } = opened;
    let names = agency_names(txn).await?;
    let all = documents::of_review(txn, review.id).await?;
    let existing = choices(
        all.iter()
            .map(|d| (d.document.id.to_string(), d.document.title.clone())),
    );
    let documents = all
        .into_iter()
        .map(|d| DocumentRow {
            title: d.document.title.clone(),
            kind: documents::kind_label(&d.document.kind),
            agency: d
                .document
                .agency_id
                .and_then(|a| names.get(&a).cloned())
                .unwrap_or_default(),
            versions: d
                .versions
                .into_iter()
                .map(|v| VersionRow {
                    id: v.id.to_string(),
                    version: v.version,
                    file_name: v.file_name,
                    size: format!("{:.1} KB", v.size_bytes as f64 / 1024.0),
                    uploaded: dates::moment(v.uploaded_at),
                    metadata_removed: v.metadata_removed,
                })
                .collect(),
        })
        .collect();
    render(&DocumentsPage {
        layout,
        head,
        powers,
        documents,
        existing,
        kinds: labelled(&documents::KINDS),
        agencies: agency_choices(&names),
    })
}
