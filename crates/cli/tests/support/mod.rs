//! What the binary's integration tests share: the binary with no LEARNLOOP_* settings from
//! the environment, starting it and reading its address, and the demo business manager's
//! signed-in session.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use learnloop_core::demo;
use learnloop_core::identity::totp;
use learnloop_testkit::browser::csrf_in;
use learnloop_testkit::reqwest;

pub const MANAGER: &str = "business.manager@fernbridge.example";

/// The binary, without any LEARNLOOP_* setting of the environment the tests run in.
pub fn learnloop() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_learnloop"));
    for (key, _) in std::env::vars() {
        if key.starts_with("LEARNLOOP_") {
            command.env_remove(key);
        }
    }
    command
}

/// Spawns the command (`serve` or `demo` with `--bind 127.0.0.1:0`) and waits for the line
/// that names its address.
pub fn spawn_listening(mut command: Command, how: &str) -> (Child, String) {
    let mut child = command
        .env("LEARNLOOP_LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let deadline = Instant::now() + Duration::from_secs(120);
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(address) = line.strip_prefix("learnloop is listening on ") {
            return (child, address.trim().to_string());
        }
        if Instant::now() > deadline {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("learnloop {how} did not start listening");
}

/// The demo business manager signed in with password and authenticator code.
pub async fn signed_in(base: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let html = client
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let answer = client
        .post(format!("{base}/sign-in"))
        .header("origin", base)
        .form(&[
            ("csrf_token", csrf_in(&html).as_str()),
            ("email", MANAGER),
            ("password", demo::DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let html = client
        .get(format!("{base}/sign-in/second-factor"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code = totp::current_code(demo::DEMO_TOTP_SECRET, chrono::Utc::now()).unwrap();
    let answer = client
        .post(format!("{base}/sign-in/second-factor"))
        .header("origin", base)
        .form(&[
            ("csrf_token", csrf_in(&html).as_str()),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303, "second factor accepted");
    client
}
