#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `learnloop init` as an operator scripts it: flags in, one line per thing created and two
//! one-time links out; a second run is refused with one clear line. Every name is invented.

use std::process::{Command, Output, Stdio};

fn learnloop() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_learnloop"));
    for (key, _) in std::env::vars() {
        if key.starts_with("LEARNLOOP_") {
            command.env_remove(key);
        }
    }
    command.env("LEARNLOOP_LOG_LEVEL", "off").env(
        "LEARNLOOP_PUBLIC_URL",
        "https://learnloop.northmoor.example",
    );
    command
}

/// Runs with stdin closed, so nothing is asked.
fn run(command: &mut Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn init_with_flags(database: &str, agencies: &std::path::Path) -> Output {
    run(learnloop()
        .args([
            "init",
            "--database",
            database,
            "--team-name",
            "Northmoor Safeguarding Partnerships (fictional)",
            "--children-partnership",
            "Northmoor Children's Safeguarding Partnership",
            "--community-safety-partnership",
            "Northmoor Community Safety Partnership",
            "--admin-name",
            "Avery Quill",
            "--admin-email",
            "avery.quill@northmoor.example",
            "--admin-agency",
            "nsp-team",
            "--manager-name",
            "Rowan Tealby",
            "--manager-email",
            "rowan.tealby@northmoor.example",
            "--manager-agency",
            "nsp-team",
            "--agencies",
        ])
        .arg(agencies))
}

#[test]
fn init_prints_what_it_created_and_two_links_then_refuses_to_run_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}/ll.db", dir.path().display());
    let agencies = dir.path().join("agencies.csv");
    std::fs::write(
        &agencies,
        "name,kind,code\n\
         Northmoor Safeguarding Partnerships Team,partnership_team,nsp-team\n\
         Northmoor Council Children's Services,childrens_social_care,nmc-children\n\
         Northmoor Constabulary,police,nm-police\n\
         Northmoor Integrated Care Board,integrated_care_board,nm-icb\n",
    )
    .unwrap();

    let output = init_with_flags(&database, &agencies);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.trim().is_empty(),
        "nothing asked, nothing wrong: {stderr}"
    );
    let count = |prefix: &str| stdout.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("Team: "), 1, "{stdout}");
    assert_eq!(count("Partnership: "), 2, "{stdout}");
    assert_eq!(count("Agency: "), 4, "{stdout}");
    assert_eq!(count("Group: "), 5, "{stdout}");
    assert_eq!(count("Person: "), 2, "{stdout}");
    let links: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split_once("https://learnloop.northmoor.example/password-reset/"))
        .map(|(_, secret)| secret)
        .collect();
    assert_eq!(links.len(), 2, "{stdout}");
    assert!(links.iter().all(|secret| secret.len() == 64));
    assert_ne!(links[0], links[1]);

    let again = init_with_flags(&database, &agencies);
    assert!(!again.status.success());
    assert!(again.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&again.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].starts_with("learnloop: this database is already set up"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_agency_template_is_printed_and_missing_answers_are_named() {
    let template = run(learnloop().args(["init", "--agency-template"]));
    assert!(template.status.success());
    let text = String::from_utf8_lossy(&template.stdout);
    assert!(text.starts_with("name,kind,code\n"), "{text}");

    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}/ll.db", dir.path().display());
    let output = run(learnloop().args(["init", "--database", &database, "--team-name", "T"]));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("learnloop: missing a partnership"),
        "{stderr}"
    );
    assert!(stderr.contains("--agencies"), "{stderr}");
    assert!(!stderr.contains("--team-name"), "given: {stderr}");
}
