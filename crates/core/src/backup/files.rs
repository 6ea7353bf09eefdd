//! The files of a backup folder: walked, hashed and copied. All of it is blocking I/O; the
//! callers run it on a blocking thread.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{BackupError, FileEntry};

const BUFFER_BYTES: usize = 64 * 1024;

/// The SHA-256 of some bytes, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A file's size and SHA-256.
pub(super) fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; BUFFER_BYTES];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

/// Copies `from` into a new file `to`, synced to disk; returns the size and SHA-256 of the bytes
/// written, so the copy is described by what it holds rather than by a second read of the source.
pub(super) fn copy_file(from: &Path, to: &Path) -> std::io::Result<(u64, String)> {
    let mut source = File::open(from)?;
    let mut target = File::options().write(true).create_new(true).open(to)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; BUFFER_BYTES];
    let mut size = 0u64;
    loop {
        let read = source.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        target.write_all(&buffer[..read])?;
        size += read as u64;
    }
    target.sync_all()?;
    Ok((size, hex(&hasher.finalize())))
}

/// Flushes a folder's entries (new names, renames) to disk.
pub(super) fn sync_dir(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

/// Every entry under `root` that is not a folder, as a path relative to `root` with `/`
/// between its parts, sorted. `keep` decides, for each one, whether it is listed, skipped or
/// refused.
fn walk(
    root: &Path,
    keep: &mut dyn FnMut(&str, &std::fs::FileType) -> Result<bool, BackupError>,
) -> Result<Vec<String>, BackupError> {
    let mut found = Vec::new();
    let mut pending = vec![String::new()];
    while let Some(relative) = pending.pop() {
        let folder = if relative.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&relative)
        };
        let entries = std::fs::read_dir(&folder).map_err(|error| {
            BackupError::Failed(format!("cannot read {}: {error}", folder.display()))
        })?;
        for entry in entries {
            let entry = entry.map_err(|error| {
                BackupError::Failed(format!("cannot read {}: {error}", folder.display()))
            })?;
            let name = entry.file_name().into_string().map_err(|name| {
                BackupError::Refused(format!(
                    "{} has a name that is not UTF-8",
                    folder.join(name).display()
                ))
            })?;
            let path = if relative.is_empty() {
                name
            } else {
                format!("{relative}/{name}")
            };
            let kind = entry.file_type().map_err(|error| {
                BackupError::Failed(format!(
                    "cannot read {}: {error}",
                    root.join(&path).display()
                ))
            })?;
            if kind.is_dir() {
                pending.push(path);
            } else if keep(&path, &kind)? {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The files of a backup folder. Anything but a regular file or a folder (a symbolic link, say)
/// is refused: a restore copies only what it has checked.
pub(super) fn list_backup(root: &Path) -> Result<Vec<String>, BackupError> {
    walk(root, &mut |path, kind| {
        if kind.is_file() {
            Ok(true)
        } else {
            Err(BackupError::Refused(format!(
                "{path} in the backup folder is not a regular file"
            )))
        }
    })
}

/// The uploaded files worth keeping. A `.part` file is an upload still being written (it is
/// renamed when complete), and anything but a regular file is not an upload.
fn list_uploads(root: &Path) -> Result<Vec<String>, BackupError> {
    walk(root, &mut |path, kind| {
        if !kind.is_file() {
            tracing::warn!(
                path,
                "backup: skipped an entry of the files folder that is not a regular file"
            );
            return Ok(false);
        }
        Ok(!path.ends_with(".part"))
    })
}

/// Copies the uploaded files into `target`, keeping their relative paths; returns their
/// entries, named `files/<path>`. A file removed while the copy runs (a failed upload being
/// cleaned up) is left out: the database snapshot, taken before, cannot refer to it.
pub(super) fn copy_uploads(source: &Path, target: &Path) -> Result<Vec<FileEntry>, BackupError> {
    let failed = |what: &Path, error: std::io::Error| {
        BackupError::Failed(format!("cannot copy {}: {error}", what.display()))
    };
    std::fs::create_dir_all(target).map_err(|error| failed(target, error))?;
    if !source.exists() {
        return Ok(Vec::new());
    }
    let mut entries = Vec::new();
    let mut made: std::collections::BTreeSet<PathBuf> = std::collections::BTreeSet::new();
    for path in list_uploads(source)? {
        let from = source.join(&path);
        let to = target.join(&path);
        if let Some(parent) = to.parent()
            && made.insert(parent.to_path_buf())
        {
            std::fs::create_dir_all(parent).map_err(|error| failed(parent, error))?;
        }
        match copy_file(&from, &to) {
            Ok((size, sha256)) => entries.push(FileEntry {
                path: format!("{}/{path}", super::FILES),
                size,
                sha256,
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let _ = std::fs::remove_file(&to);
            }
            Err(error) => return Err(failed(&from, error)),
        }
    }
    for folder in made.iter().rev() {
        sync_dir(folder).map_err(|error| failed(folder, error))?;
    }
    sync_dir(target).map_err(|error| failed(target, error))?;
    Ok(entries)
}

/// A manifest path names a file inside the backup folder: relative, with no `..`.
pub(super) fn is_inside(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && Path::new(path)
            .components()
            .all(|part| matches!(part, Component::Normal(_)))
}

/// True when the folder does not exist or holds nothing.
pub(super) fn is_missing_or_empty(path: &Path) -> Result<bool, BackupError> {
    match std::fs::read_dir(path) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(error) => Err(BackupError::Refused(format!(
            "cannot read {}: {error}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_stay_inside_the_folder() {
        assert!(is_inside("files/0195"));
        assert!(is_inside("learnloop.db"));
        assert!(!is_inside("../etc/passwd"));
        assert!(!is_inside("files/../../x"));
        assert!(!is_inside("/etc/passwd"));
        assert!(!is_inside("./x"));
        assert!(!is_inside(""));
    }

    #[test]
    fn the_digest_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
