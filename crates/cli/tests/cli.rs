#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The binary as an operator uses it: bad settings and unreachable databases exit non-zero
//! with one clear line, never a panic; SIGTERM shuts down gracefully.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn learnloop() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_learnloop"));
    for (key, _) in std::env::vars() {
        if key.starts_with("LEARNLOOP_") {
            command.env_remove(key);
        }
    }
    command
}

fn run(command: &mut Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

/// The process failed with exactly one line on stderr that contains `expected`.
fn assert_one_clear_line(output: &Output, expected: &str) {
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("learnloop: "), "{stderr}");
    assert!(
        lines[0].contains(expected),
        "{stderr} should mention {expected}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_database_url_of_an_unknown_kind_is_refused() {
    let output = run(learnloop().args(["migrate", "--database", "mysql://root@localhost/x"]));
    assert_one_clear_line(&output, "sqlite:// or postgres://");
}

#[test]
fn an_unreachable_database_is_named_without_its_password() {
    let output = run(learnloop().args([
        "migrate",
        "--database",
        "postgres://someone:hunter2@127.0.0.1:1/nowhere",
    ]));
    assert_one_clear_line(
        &output,
        "cannot open database postgres://someone:***@127.0.0.1:1/nowhere",
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("hunter2"));
}

#[test]
fn a_sqlite_file_that_cannot_be_created_is_named() {
    let output =
        run(learnloop().args(["migrate", "--database", "sqlite:///proc/no/such/place.db"]));
    assert_one_clear_line(&output, "/proc/no/such");
}

#[test]
fn a_config_file_that_does_not_parse_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("learnloop.toml");
    std::fs::write(&path, "bind = [not toml").expect("write");
    let output = run(learnloop().arg("--config").arg(&path).arg("config"));
    assert_eq!(output.status.code(), Some(2));
    assert_one_clear_line(&output, "learnloop.toml");
}

#[test]
fn an_unknown_setting_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("learnloop.toml");
    std::fs::write(&path, "bind = \"127.0.0.1:9000\"\ncolour = \"blue\"\n").expect("write");
    let output = run(learnloop().arg("--config").arg(&path).arg("config"));
    assert_eq!(output.status.code(), Some(2));
    assert_one_clear_line(&output, "colour");
}

#[test]
fn a_missing_config_file_is_named() {
    let output = run(learnloop().args(["--config", "/nonexistent/learnloop.toml", "config"]));
    assert_one_clear_line(&output, "/nonexistent/learnloop.toml does not exist");
}

#[test]
fn settings_come_from_defaults_then_file_then_environment_with_secrets_redacted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("learnloop.toml");
    std::fs::write(
        &path,
        "bind = \"127.0.0.1:9000\"\nlog_level = \"debug\"\ndatabase = \"postgres://app:s3cret@db.internal/ll\"\n",
    )
    .expect("write");
    let output = run(learnloop()
        .arg("--config")
        .arg(&path)
        .arg("config")
        .env("LEARNLOOP_LOG_FORMAT", "json")
        .env("LEARNLOOP_LOG_LEVEL", "warn"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("bind = \"127.0.0.1:9000\""),
        "from the file: {stdout}"
    );
    assert!(
        stdout.contains("log_format = \"json\""),
        "from the environment: {stdout}"
    );
    assert!(
        stdout.contains("log_level = \"warn\""),
        "the environment beats the file: {stdout}"
    );
    assert!(
        stdout.contains("max_body_bytes = 12582912"),
        "a default: {stdout}"
    );
    assert!(
        stdout.contains("postgres://app:***@db.internal/ll"),
        "{stdout}"
    );
    assert!(!stdout.contains("s3cret"));
}

#[test]
fn a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}/x.db", dir.path().display());
    let output = run(learnloop()
        .args(["serve", "--bind", &address, "--database", &database])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert_one_clear_line(&output, &format!("cannot listen on {address}"));
}

#[test]
fn migrate_creates_the_sqlite_file_and_its_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("nested/folder/ll.db");
    let database = format!("sqlite://{}", file.display());
    let output = run(learnloop()
        .args(["migrate", "--database", &database])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(file.is_file());
    // Applying them again is harmless.
    let output = run(learnloop()
        .args(["migrate", "--database", &database])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert!(output.status.success());
}

#[test]
fn demo_serves_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}/demo.db", dir.path().display());
    let mut child = learnloop()
        .args(["demo", "--bind", "127.0.0.1:0", "--database", &database])
        .env("LEARNLOOP_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut address = None;
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix("learnloop is listening on ") {
            address = Some(rest.to_string());
            break;
        }
        assert!(Instant::now() < deadline, "the demo did not start");
    }
    let address = address.expect("an address");
    assert!(
        printed
            .iter()
            .any(|line| line.contains("business.manager@fernbridge.example")),
        "the demo prints its sign-ins"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "graceful shutdown exits 0");
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(
        logs.lines().all(|line| line.starts_with('{')),
        "JSON logs: {logs}"
    );
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(address.starts_with("http://127.0.0.1:"));
}

fn sqlite_in(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}/ll.db", dir.path().display())
}

#[test]
fn user_add_names_an_unknown_agency_or_role() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(&dir);
    let output = run(learnloop()
        .args([
            "user",
            "add",
            "--email",
            "first.admin@fernbridge.example",
            "--name",
            "First Admin",
            "--agency",
            "nowhere",
            "--role",
            "system_administrator",
            "--database",
            &database,
        ])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert_one_clear_line(&output, "--agency: no agency has the code nowhere");
    let output = run(learnloop()
        .args([
            "user",
            "add",
            "--email",
            "first.admin@fernbridge.example",
            "--name",
            "First Admin",
            "--agency",
            "nowhere",
            "--role",
            "overlord",
            "--database",
            &database,
        ])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert_one_clear_line(&output, "--role: overlord is not a role");
}

#[test]
fn audit_verify_names_the_first_tampered_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(&dir);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let db = learnloop_core::Db::connect(&database)
            .await
            .expect("connect");
        db.migrate().await.expect("migrate");
        let txn = db.write().await.expect("begin");
        learnloop_core::demo::seed(&txn, chrono::Utc::now())
            .await
            .expect("seed");
        txn.commit().await.expect("commit");
        db.close().await.expect("close");
    });
    for email in ["one@fernbridge.example", "two@fernbridge.example"] {
        let output = run(learnloop()
            .args([
                "user",
                "add",
                "--email",
                email,
                "--name",
                "Someone New",
                "--agency",
                "fsp-team",
                "--role",
                "executive",
                "--database",
                &database,
            ])
            .env("LEARNLOOP_LOG_LEVEL", "off"));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("/password-reset/"),
            "a one-time link: {stdout}"
        );
    }
    let output = run(learnloop()
        .args(["user", "list", "--database", &database])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert!(String::from_utf8_lossy(&output.stdout).contains("two@fernbridge.example"));
    let output = run(learnloop()
        .args(["audit", "verify", "--database", &database])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("intact: 4 entries checked"));

    runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let db = learnloop_core::Db::connect(&database)
            .await
            .expect("connect");
        db.conn()
            .execute_unprepared("UPDATE audit_log SET record_id = 'someone-else' WHERE seq = 3")
            .await
            .expect("tamper");
        db.close().await.expect("close");
    });
    let output = run(learnloop()
        .args(["audit", "verify", "--database", &database])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert_eq!(output.status.code(), Some(1));
    assert_one_clear_line(&output, "entry 3 was changed");
}

#[test]
fn calendar_import_takes_govuk_files_and_names_bad_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(&dir);
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"england-and-wales":{"events":[{"title":"X","date":"2030-02-30"}]}}"#,
    )
    .expect("write");
    let output = run(learnloop()
        .arg("calendar")
        .arg("import")
        .arg(&bad)
        .args(["--database", &database])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert_one_clear_line(&output, "england-and-wales.events[0].date");
    let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/bank-holidays/govuk-bank-holidays_2019-2027.json");
    if !real.is_file() {
        eprintln!("skipped the real file: {} is absent", real.display());
        return;
    }
    let output = run(learnloop()
        .arg("calendar")
        .arg("import")
        .arg(&real)
        .args(["--database", &database])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("for 2019 to 2027"));
}

#[test]
fn the_generator_smoke_run_at_scale_one_keeps_the_audit_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(&dir);
    let output = run(learnloop()
        .args(["generate", "--scale", "1", "--database", &database])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("50 cases, 20 reviews, 1000 actions with 2000 updates, 500 learning items, 5000 audit entries"),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("100%"),
        "a progress bar"
    );
    let verified = run(learnloop()
        .args(["audit", "verify", "--database", &database])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    let refused = run(learnloop()
        .args(["generate", "--scale", "0", "--database", &database])
        .env("LEARNLOOP_LOG_LEVEL", "off"));
    assert_one_clear_line(&refused, "--scale must be between 1 and 1000");
}
