//! The stylesheet, scripts and images under `/static/`: built into the binary by `build.rs`
//! from the workspace's `static/` folder, so the binary runs from any folder; or, during
//! development, read from `assets_dir` when it holds a stylesheet, so edited CSS shows without
//! rebuilding.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use axum::extract::Path as UrlPath;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::{AppError, PageError};

include!(concat!(env!("OUT_DIR"), "/embedded_assets.rs"));

/// The file every page links to; without it the pages are unstyled.
const STYLESHEET: &str = "app.css";

/// The file names are not fingerprinted, so a browser must ask again each time (cheaply: the
/// ETag turns an unchanged file into a 304) or it would keep an old stylesheet after an upgrade.
const CACHE_CONTROL: &str = "no-cache";

/// Where `/static/` is served from, decided once when the router is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetSource {
    /// The configured `assets_dir`, which holds a compiled stylesheet.
    Disk(PathBuf),
    /// The copy built into the binary (possibly empty: see [`embedded_has_stylesheet`]).
    Embedded,
}

impl AssetSource {
    /// `assets_dir` when it holds `app.css`, else the built-in copy.
    pub fn choose(assets_dir: &Path) -> Self {
        if assets_dir.join(STYLESHEET).is_file() {
            AssetSource::Disk(assets_dir.to_path_buf())
        } else {
            AssetSource::Embedded
        }
    }
}

/// True when the binary was built after `scripts/build-assets` and carries the stylesheet.
pub fn embedded_has_stylesheet() -> bool {
    EMBEDDED.iter().any(|(path, _)| *path == STYLESHEET)
}

/// One built-in file, ready to answer with.
#[derive(Debug)]
pub struct Asset {
    pub bytes: &'static [u8],
    pub content_type: &'static str,
    /// A strong validator: a quoted hash of the bytes.
    pub etag: String,
}

/// Hashed once, on first use, rather than at every request.
static TABLE: LazyLock<HashMap<&'static str, Asset>> = LazyLock::new(|| {
    EMBEDDED
        .iter()
        .map(|(path, bytes)| {
            let asset = Asset {
                bytes,
                content_type: content_type(path),
                etag: etag_of(bytes),
            };
            (*path, asset)
        })
        .collect()
});

/// The built-in file at exactly this path under `/static/` (no normalising: `..` or `//`
/// never name a key, so nothing outside the table can be reached).
pub fn lookup(path: &str) -> Option<&'static Asset> {
    TABLE.get(path)
}

/// The content type by extension; anything unexpected is plain bytes (and `nosniff` keeps the
/// browser from guessing).
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, extension)| extension);
    match extension {
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    // 128 bits of SHA-256 tell versions apart and keep the header short.
    let hex: String = digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// `If-None-Match` names this ETag (or `*`). The comparison is weak, as RFC 9110 asks for this
/// header, so a `W/` prefix a proxy added still matches.
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// `GET /static/{*file}` from the built-in copy.
pub async fn embedded(
    file: Result<UrlPath<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = file.ok().and_then(|UrlPath(file)| lookup(&file)) else {
        return PageError(AppError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Page not found",
        ))
        .into_response();
    };
    let validators = [
        (
            header::ETAG,
            HeaderValue::from_str(&asset.etag).unwrap_or(HeaderValue::from_static("")),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        ),
    ];
    if none_match(&headers, &asset.etag) {
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )],
        validators,
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_follow_the_extension() {
        assert_eq!(content_type("app.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("app.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(
            content_type("govuk-frontend.min.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("assets/images/x.svg"), "image/svg+xml");
        assert_eq!(content_type("assets/images/x.png"), "image/png");
        assert_eq!(content_type("fonts/x.woff2"), "font/woff2");
        assert_eq!(content_type("favicon.ico"), "image/x-icon");
        assert_eq!(content_type("Makefile"), "application/octet-stream");
    }

    #[test]
    fn only_exact_keys_are_found() {
        for path in ["", "/", "../Cargo.toml", "./app.css", "/app.css", "APP.CSS"] {
            assert!(lookup(path).is_none(), "{path}");
        }
        if embedded_has_stylesheet() {
            assert!(lookup("app.css").is_some());
        }
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists() {
        let etag = etag_of(b"body { color: black }");
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(header::IF_NONE_MATCH, value);
            }
            headers
        };
        assert!(none_match(&with(&etag), &etag));
        assert!(none_match(&with(&format!("\"other\", W/{etag}")), &etag));
        assert!(none_match(&with("*"), &etag));
        assert!(!none_match(&with("\"other\""), &etag));
        assert!(!none_match(&HeaderMap::new(), &etag));
        assert_ne!(etag, etag_of(b"body { color: red }"));
    }
}
