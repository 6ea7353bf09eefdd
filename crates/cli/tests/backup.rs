#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `learnloop backup` while the service is under write load, then `learnloop restore` into a
//! fresh database and files folder: the audit chain verifies, every table holds what the
//! manifest recorded and what the backup's own database holds (row for row), and the files are
//! the same bytes. Bad input is refused before anything is written. On SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use learnloop_core::backup::{Manifest, sha256_hex};
use learnloop_core::cases;
use learnloop_testkit::browser::csrf_in;
use learnloop_testkit::sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait, Statement,
};
use learnloop_testkit::{Backend, TestDatabase, reqwest};

mod support;

use support::signed_in;
const BEFORE_THE_BACKUP: &[u8] = b"%PDF-1.7 a fictional referral, uploaded before the backup";

fn learnloop(files_dir: &Path) -> Command {
    let mut command = support::learnloop();
    command
        .env("LEARNLOOP_FILES_DIR", files_dir)
        .env("LEARNLOOP_LOG_LEVEL", "warn");
    command
}

/// Runs a learnloop command to the end, off the async threads; shows what it printed.
async fn run(files_dir: &Path, args: &[&str]) -> Output {
    let mut command = learnloop(files_dir);
    command.args(args).stdin(Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output().expect("runs"))
        .await
        .unwrap();
    eprintln!(
        "$ learnloop {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Starts `learnloop demo` on the database and files folder; returns it and its address.
fn start(database: &str, files_dir: &Path) -> (Child, String) {
    let mut command = learnloop(files_dir);
    command.args(["demo", "--bind", "127.0.0.1:0", "--database", database]);
    support::spawn_listening(command, "demo")
}

/// Attaches a file to a case through the case page's form; returns the answer's status.
async fn upload(
    client: &reqwest::Client,
    base: &str,
    case: uuid::Uuid,
    name: &str,
    bytes: Vec<u8>,
) -> Option<u16> {
    let html = client
        .get(format!("{base}/cases/{case}"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf_in(&html))
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    let answer = client
        .post(format!("{base}/cases/{case}/attachments"))
        .header("origin", base)
        .multipart(form)
        .send()
        .await
        .ok()?;
    Some(answer.status().as_u16())
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// A table's rows rendered as text (each column quoted by the database itself), sorted so the
/// order rows happen to be stored in does not matter.
async fn rows(conn: &DatabaseConnection, table: &str, filter: &str) -> Vec<String> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => {
            let columns: Vec<String> = conn
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT name FROM pragma_table_info(?) ORDER BY cid",
                    [table.into()],
                ))
                .await
                .unwrap()
                .iter()
                .map(|row| {
                    format!(
                        "quote({})",
                        quoted(&row.try_get::<String>("", "name").unwrap())
                    )
                })
                .collect();
            assert!(!columns.is_empty(), "{table} has columns");
            format!(
                "SELECT {} AS r FROM {} {filter}",
                columns.join(" || '|' || "),
                quoted(table)
            )
        }
        _ => format!(
            "SELECT CAST(t AS text) AS r FROM {} AS t {filter}",
            quoted(table)
        ),
    };
    let mut found: Vec<String> = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap_or_else(|error| panic!("{table}: {error}"))
        .iter()
        .map(|row| row.try_get::<String>("", "r").unwrap())
        .collect();
    found.sort();
    found
}

/// A SHA-256 per table over its rendered rows.
async fn checksums(
    conn: &DatabaseConnection,
    tables: &BTreeMap<String, u64>,
) -> BTreeMap<String, (usize, String)> {
    let mut sums = BTreeMap::new();
    for table in tables.keys() {
        let found = rows(conn, table, "").await;
        sums.insert(
            table.clone(),
            (found.len(), sha256_hex(found.join("\n").as_bytes())),
        );
    }
    sums
}

/// Every file under a folder, by relative path, with its bytes.
fn files_in(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                found.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

/// True when the database has no tables at all (PostgreSQL) or its file was never made
/// (SQLite): nothing was written.
async fn untouched(database: &TestDatabase, backend: Backend) -> bool {
    match backend {
        Backend::Sqlite => {
            let path = database.url.trim_start_matches("sqlite://");
            !Path::new(path).exists()
        }
        Backend::Postgres => {
            let conn = Database::connect(&database.url).await.unwrap();
            let tables = conn
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = 'public'",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get::<i64>("", "n")
                .unwrap();
            let _ = conn.close().await;
            tables == 0
        }
    }
}

fn copy_folder(from: &Path, to: &Path) {
    for (relative, bytes) in files_in(from) {
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

/// The database the restored one must equal: the backup's own SQLite file (read from a copy,
/// so the backup folder gains no journal files), or the dump put back by a plain pg_restore.
async fn reference(
    backend: Backend,
    backup: &Path,
    scratch: &Path,
) -> (DatabaseConnection, Option<TestDatabase>) {
    match backend {
        Backend::Sqlite => {
            let copy = scratch.join("reference.db");
            std::fs::copy(backup.join("learnloop.db"), &copy).unwrap();
            let conn = Database::connect(format!("sqlite://{}", copy.display()))
                .await
                .unwrap();
            (conn, None)
        }
        Backend::Postgres => {
            let database = TestDatabase::create(backend).await;
            let output = Command::new("pg_restore")
                .args([
                    "--no-owner",
                    "--exit-on-error",
                    "--single-transaction",
                    "-d",
                ])
                .arg(&database.url)
                .arg(backup.join("database.dump"))
                .output()
                .unwrap();
            assert!(output.status.success(), "{}", stderr(&output));
            let conn = Database::connect(&database.url).await.unwrap();
            (conn, Some(database))
        }
    }
}

async fn backup_under_load_restores_the_same_data(backend: Backend) {
    let started = Instant::now();
    let scratch = tempfile::tempdir().unwrap();
    let scratch = scratch.path();
    let source_files = scratch.join("files");
    let database = TestDatabase::create(backend).await;
    let (mut server, base) = start(&database.url, &source_files);
    let client = signed_in(&base).await;
    let source = Database::connect(&database.url).await.unwrap();
    let (listed, _) = cases::list(&source, None, 0, 100).await.unwrap();
    let case_ids: Vec<uuid::Uuid> = listed.iter().map(|c| c.case.id).collect();
    assert!(!case_ids.is_empty());
    assert_eq!(
        upload(
            &client,
            &base,
            case_ids[0],
            "referral.pdf",
            BEFORE_THE_BACKUP.to_vec()
        )
        .await,
        Some(303)
    );

    // Under load: clients viewing case pages (each view appends to the audit trail) and one
    // attaching files (a file on disk, a row and an audit entry each).
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let mut loaders = Vec::new();
    for n in 0..6usize {
        let (client, base, case_ids, stop, writes) = (
            client.clone(),
            base.clone(),
            case_ids.clone(),
            stop.clone(),
            writes.clone(),
        );
        loaders.push(tokio::spawn(async move {
            let mut round = n;
            while !stop.load(Ordering::Relaxed) {
                let id = case_ids[round % case_ids.len()];
                round += 1;
                if let Ok(response) = client.get(format!("{base}/cases/{id}")).send().await
                    && response.status() == 200
                    && response.text().await.is_ok()
                {
                    writes.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let uploads = Arc::new(AtomicUsize::new(0));
    {
        let (client, base, case_ids, stop, uploads) = (
            client.clone(),
            base.clone(),
            case_ids.clone(),
            stop.clone(),
            uploads.clone(),
        );
        loaders.push(tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let text = format!("Fictional note {n}, attached under load.\n").repeat(50);
                let case = case_ids[n % case_ids.len()];
                if upload(
                    &client,
                    &base,
                    case,
                    &format!("note-{n}.txt"),
                    text.into_bytes(),
                )
                .await
                    == Some(303)
                {
                    uploads.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let backup = scratch.join("backup");
    let (writes_before, uploads_before) = (
        writes.load(Ordering::Relaxed),
        uploads.load(Ordering::Relaxed),
    );
    let backup_started = Instant::now();
    let output = run(
        &source_files,
        &[
            "backup",
            "--to",
            backup.to_str().unwrap(),
            "--database",
            &database.url,
        ],
    )
    .await;
    let backup_took = backup_started.elapsed();
    let writes_during = writes.load(Ordering::Relaxed) - writes_before;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("Backed up"), "{}", stdout(&output));
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for loader in loaders {
        loader.await.unwrap();
    }
    let (writes_after, uploads_after) = (
        writes.load(Ordering::Relaxed),
        uploads.load(Ordering::Relaxed),
    );
    assert!(
        writes_during > 0,
        "page views were recorded while the backup ran"
    );
    assert!(
        uploads_after > uploads_before,
        "files were attached around the backup ({uploads_before} -> {uploads_after})"
    );
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();

    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    let expected_backend = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(manifest.backend, expected_backend);
    assert_eq!(manifest.learnloop_version, env!("CARGO_PKG_VERSION"));
    assert!(
        manifest
            .tables
            .get("audit_log")
            .is_some_and(|rows| *rows > 0)
    );
    assert!(
        manifest
            .tables
            .get("case_attachments")
            .is_some_and(|rows| *rows >= 1)
    );

    // Restored into a fresh, empty database and files folder.
    let target = TestDatabase::create(backend).await;
    let restored_files = scratch.join("restored-files");
    let restore_started = Instant::now();
    let output = run(
        &restored_files,
        &[
            "restore",
            "--from",
            backup.to_str().unwrap(),
            "--database",
            &target.url,
        ],
    )
    .await;
    let restore_took = restore_started.elapsed();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("The audit trail is intact"),
        "{}",
        stdout(&output)
    );

    // Row counts equal the manifest's, and every table equals the backup's own database.
    let restored = Database::connect(&target.url).await.unwrap();
    let restored_sums = checksums(&restored, &manifest.tables).await;
    for (table, rows) in &manifest.tables {
        assert_eq!(
            restored_sums[table].0 as u64, *rows,
            "{table}: rows as recorded"
        );
    }
    let (reference_conn, _reference_db) = reference(backend, &backup, scratch).await;
    let reference_sums = checksums(&reference_conn, &manifest.tables).await;
    assert_eq!(restored_sums, reference_sums, "every table, row for row");
    let _ = reference_conn.close().await;
    // The audit trail only grows: what the backup holds is the source's first entries, exactly.
    let kept = manifest.tables["audit_log"];
    assert_eq!(
        rows(&restored, "audit_log", "").await,
        rows(&source, "audit_log", &format!("WHERE seq <= {kept}")).await,
        "the restored trail is the source's first {kept} entries"
    );
    if backend == Backend::Sqlite {
        // The search index refers to rows by rowid, which the copy must have kept.
        restored
            .execute_unprepared("INSERT INTO library_fts(library_fts) VALUES ('integrity-check')")
            .await
            .unwrap();
    }

    // Files, byte for byte; and every attachment the database knows has its file.
    let backed_up = files_in(&backup.join("files"));
    let restored_bytes = files_in(&restored_files);
    assert_eq!(backed_up, restored_bytes);
    assert!(
        restored_bytes
            .values()
            .any(|bytes| bytes == BEFORE_THE_BACKUP)
    );
    let attachments = cases::attachments::Entity::find()
        .all(&restored)
        .await
        .unwrap();
    assert_eq!(
        attachments.len() as u64,
        manifest.tables["case_attachments"]
    );
    for attachment in &attachments {
        let bytes = restored_bytes
            .get(&attachment.id.to_string())
            .unwrap_or_else(|| panic!("attachment {} has its file", attachment.id));
        assert_eq!(sha256_hex(bytes), attachment.sha256);
    }
    let _ = restored.close().await;

    // The audit trail verifies with the command operators use.
    let output = run(
        &restored_files,
        &["audit", "verify", "--database", &target.url],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("The audit trail is intact"));

    // Into a database that is not empty: refused, and nothing is written.
    let restored = Database::connect(&target.url).await.unwrap();
    let before = checksums(&restored, &manifest.tables).await;
    let other_files = scratch.join("other-files");
    let output = run(
        &other_files,
        &[
            "restore",
            "--from",
            backup.to_str().unwrap(),
            "--database",
            &target.url,
        ],
    )
    .await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("restore refused, nothing was written"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("not empty"), "{}", stderr(&output));
    assert_eq!(checksums(&restored, &manifest.tables).await, before);
    assert!(!other_files.exists());
    let _ = restored.close().await;

    // A backup with one byte changed in one file: refused before anything is written, naming
    // the file.
    let tampered = scratch.join("tampered");
    copy_folder(&backup, &tampered);
    let victim = format!("files/{}", attachments[0].id);
    let mut bytes = std::fs::read(tampered.join(&victim)).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(tampered.join(&victim), bytes).unwrap();
    let fresh = TestDatabase::create(backend).await;
    let fresh_files = scratch.join("fresh-files");
    let output = run(
        &fresh_files,
        &[
            "restore",
            "--from",
            tampered.to_str().unwrap(),
            "--database",
            &fresh.url,
        ],
    )
    .await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("restore refused, nothing was written"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains(&victim),
        "names {victim}: {}",
        stderr(&output)
    );
    assert!(
        untouched(&fresh, backend).await,
        "the target database stays empty"
    );
    assert!(!fresh_files.exists(), "the files folder stays empty");

    // A file added to or missing from the folder is refused too, naming it.
    std::fs::copy(backup.join(&victim), tampered.join(&victim)).unwrap();
    std::fs::write(tampered.join("files/stray"), b"not backed up").unwrap();
    let output = run(
        &fresh_files,
        &[
            "restore",
            "--from",
            tampered.to_str().unwrap(),
            "--database",
            &fresh.url,
        ],
    )
    .await;
    assert!(
        stderr(&output).contains("files/stray is in the backup folder but not in the manifest"),
        "{}",
        stderr(&output)
    );
    std::fs::remove_file(tampered.join("files/stray")).unwrap();
    std::fs::remove_file(tampered.join(&victim)).unwrap();
    let output = run(
        &fresh_files,
        &[
            "restore",
            "--from",
            tampered.to_str().unwrap(),
            "--database",
            &fresh.url,
        ],
    )
    .await;
    assert!(
        stderr(&output).contains(&format!("{victim} is in the manifest but missing")),
        "{}",
        stderr(&output)
    );
    assert!(untouched(&fresh, backend).await);
    assert!(!fresh_files.exists());

    // A backup into a folder that holds something: refused.
    let output = run(
        &source_files,
        &[
            "backup",
            "--to",
            backup.to_str().unwrap(),
            "--database",
            &database.url,
        ],
    )
    .await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("is not empty"),
        "{}",
        stderr(&output)
    );

    let _ = source.close().await;
    eprintln!(
        "{backend:?}: backup {:.2} s under load ({writes_during} views answered meanwhile; {} views, {} uploads in all), restore {:.2} s, {} tables, {} rows, {} files; whole test {:.1} s",
        backup_took.as_secs_f64(),
        writes_after,
        uploads_after,
        restore_took.as_secs_f64(),
        manifest.tables.len(),
        manifest.rows(),
        manifest.files.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_backup_under_load_restores_the_same_data() {
    backup_under_load_restores_the_same_data(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_backup_under_load_restores_the_same_data() {
    backup_under_load_restores_the_same_data(Backend::Postgres).await;
}
