#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! One self-contained binary: copied alone into an empty folder and started there, it serves
//! the stylesheet, scripts and images it was built with, and nothing else under `/static/`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use learnloop_testkit::reqwest;

/// The workspace's compiled assets, as `scripts/build-assets` left them.
const STATIC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../static");

const BUILD_FIRST: &str = "run scripts/build-assets, then build again (scripts/test does both)";

/// The copied binary while it runs; killed if the test fails before it is stopped.
struct Server {
    child: Child,
    logs: Option<JoinHandle<String>>,
    base: String,
}

impl Server {
    /// Sends SIGTERM, as systemd does, and returns the exit success and the logs.
    fn stop(mut self) -> (bool, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exited = self.child.wait().expect("wait").success();
        let logs = self
            .logs
            .take()
            .map(|reader| reader.join().expect("log reader"))
            .unwrap_or_default();
        (exited, logs)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.logs.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `binary serve` with `folder` as its working directory and only its own settings.
fn serve_from(binary: &Path, folder: &Path) -> Server {
    let mut command = Command::new(binary);
    for (key, _) in std::env::vars() {
        if key.starts_with("LEARNLOOP_") {
            command.env_remove(key);
        }
    }
    let database = format!("sqlite://{}/x.db", folder.display());
    let mut child = command
        .args(["serve", "--bind", "127.0.0.1:0", "--database", &database])
        .current_dir(folder)
        .env("LEARNLOOP_FILES_DIR", folder.join("files"))
        .env("LEARNLOOP_LOG_LEVEL", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the copied binary");
    // Drained all along, so a chatty log never blocks the server on a full pipe.
    let mut stderr = child.stderr.take().expect("stderr");
    let logs = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut server = Server {
        child,
        logs: Some(logs),
        base: String::new(),
    };
    // Port 0 and the address the binary prints: no race for a port picked in advance.
    let stdout = server.child.stdout.take().expect("stdout");
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("stdout line");
        if let Some(address) = line.strip_prefix("learnloop is listening on ") {
            server.base = address.trim().to_string();
            break;
        }
    }
    assert!(!server.base.is_empty(), "the copied binary did not start");
    server
}

async fn wait_until_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "/readyz never answered 200");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends a request line exactly as written: HTTP clients resolve `..` before sending, so a
/// traversal attempt needs a raw socket. Returns the status code and the whole answer.
fn raw_get(base: &str, target: &str) -> (u16, String) {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line for {target}: {answer:?}"));
    (status, answer)
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Every file under `dir`, as `(path from dir with '/', bytes)`, hidden files left out as
/// build.rs leaves them out.
fn files_under(dir: &Path, prefix: &str, found: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read static/") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        let key = format!("{prefix}{name}");
        if entry.file_type().expect("type").is_dir() {
            files_under(&entry.path(), &format!("{key}/"), found);
        } else {
            found.push((key, std::fs::read(entry.path()).expect("read")));
        }
    }
}

#[tokio::test]
async fn the_binary_alone_serves_its_stylesheet_scripts_and_images() {
    let static_dir = Path::new(STATIC_DIR);
    let css = std::fs::read(static_dir.join("app.css"))
        .unwrap_or_else(|error| panic!("static/app.css cannot be read ({error}): {BUILD_FIRST}"));

    let folder = tempfile::tempdir().expect("tempdir");
    let binary = folder.path().join("learnloop");
    std::fs::copy(env!("CARGO_BIN_EXE_learnloop"), &binary).expect("copy the binary");
    // Bait for a traversal: a file beside where a `static/` folder would be.
    std::fs::write(folder.path().join("Cargo.toml"), "[package]\nbait = true\n").expect("bait");

    let server = serve_from(&binary, folder.path());
    let base = server.base.clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    wait_until_ready(&client, &base).await;

    let sign_in = client
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .expect("/sign-in");
    assert_eq!(sign_in.status(), 200);
    let html = sign_in.text().await.expect("html");
    assert!(
        html.contains("href=\"/static/app.css\""),
        "the page links the stylesheet"
    );

    let response = client
        .get(format!("{base}/static/app.css"))
        .send()
        .await
        .expect("/static/app.css");
    assert_eq!(
        response.status(),
        200,
        "the binary has no built-in stylesheet: {BUILD_FIRST}"
    );
    assert!(
        header(&response, "content-type").starts_with("text/css"),
        "{}",
        header(&response, "content-type")
    );
    let etag = header(&response, "etag");
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "a strong ETag: {etag:?}"
    );
    assert_eq!(header(&response, "cache-control"), "no-cache");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    let served = response.bytes().await.expect("css");
    assert!(
        served.as_ref() == css.as_slice(),
        "the served stylesheet is the workspace's static/app.css ({} bytes served, {} on disk): {BUILD_FIRST}",
        served.len(),
        css.len()
    );

    // Revalidation: the same ETag answers 304 with no body.
    let again = client
        .get(format!("{base}/static/app.css"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("revalidate");
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "etag"), etag);
    assert!(again.bytes().await.expect("body").is_empty());
    let other = client
        .get(format!("{base}/static/app.css"))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .expect("stale validator");
    assert_eq!(other.status(), 200);

    let script = client
        .get(format!("{base}/static/app.mjs"))
        .send()
        .await
        .expect("/static/app.mjs");
    assert_eq!(script.status(), 200);
    assert!(header(&script, "content-type").starts_with("text/javascript"));

    // Every image the stylesheet refers to is there (build-assets copies exactly those).
    let css_text = String::from_utf8_lossy(&css);
    for reference in css_text.split("url(").skip(1) {
        let target = reference
            .split(')')
            .next()
            .unwrap_or_default()
            .trim_matches(['"', '\''])
            .to_string();
        if target.starts_with("data:") {
            continue;
        }
        assert!(target.starts_with("/static/"), "unexpected url({target})");
        let image = client
            .get(format!("{base}{target}"))
            .send()
            .await
            .expect("image");
        assert_eq!(image.status(), 200, "{target}");
        let kind = header(&image, "content-type");
        assert!(kind.starts_with("image/"), "{target}: {kind}");
    }

    // And every file of static/ is served byte for byte.
    let mut files = Vec::new();
    files_under(static_dir, "", &mut files);
    for (key, bytes) in &files {
        let response = client
            .get(format!("{base}/static/{key}"))
            .send()
            .await
            .expect("asset");
        assert_eq!(response.status(), 200, "/static/{key}: {BUILD_FIRST}");
        let served = response.bytes().await.expect("bytes");
        assert!(
            served.as_ref() == bytes.as_slice(),
            "/static/{key} differs from the workspace's copy: {BUILD_FIRST}"
        );
    }

    let missing = client
        .get(format!("{base}/static/nope.css"))
        .send()
        .await
        .expect("/static/nope.css");
    assert_eq!(missing.status(), 404);
    for target in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2fCargo.toml",
        "/static/assets/../../Cargo.toml",
        "/static//etc/passwd",
    ] {
        let (status, answer) = raw_get(&base, target);
        assert_eq!(status, 404, "{target}");
        assert!(
            !answer.contains("bait = true"),
            "{target} escaped: {answer}"
        );
        assert!(!answer.contains("root:"), "{target} escaped");
    }

    let (exited, logs) = server.stop();
    assert!(exited, "SIGTERM stops the server cleanly: {logs}");
    assert!(
        logs.contains("serving /static from the copy built into the binary"),
        "the log names the source: {logs}"
    );
    assert!(!logs.contains("no compiled CSS found"), "{logs}");
}

#[tokio::test]
async fn an_assets_dir_with_a_stylesheet_overrides_the_built_in_copy() {
    let folder = tempfile::tempdir().expect("tempdir");
    let binary = folder.path().join("learnloop");
    std::fs::copy(env!("CARGO_BIN_EXE_learnloop"), &binary).expect("copy the binary");
    // The default assets_dir, `static` in the working directory, as during development.
    std::fs::create_dir(folder.path().join("static")).expect("static/");
    let edited = "body { color: #0b0c0c } /* edited, not rebuilt */\n";
    std::fs::write(folder.path().join("static/app.css"), edited).expect("app.css");

    let server = serve_from(&binary, folder.path());
    let base = server.base.clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    wait_until_ready(&client, &base).await;
    let response = client
        .get(format!("{base}/static/app.css"))
        .send()
        .await
        .expect("/static/app.css");
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/css"));
    assert_eq!(response.text().await.expect("css"), edited);
    // Decided once for the folder: a script only built into the binary is not mixed in.
    let script = client
        .get(format!("{base}/static/app.mjs"))
        .send()
        .await
        .expect("/static/app.mjs");
    assert_eq!(script.status(), 404);

    let (exited, logs) = server.stop();
    assert!(exited, "{logs}");
    assert!(
        logs.contains("serving /static from assets_dir"),
        "the log names the source: {logs}"
    );
}
