//! The real `kolejka` binary: `check-config` exit codes and messages, serving on port 0,
//! `/healthz`, and a graceful SIGTERM that closes the database cleanly.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{BIN, Server};

fn demo_config() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/office.toml")
}

#[test]
fn check_config_accepts_the_demo_office() {
    let out = Command::new(BIN)
        .arg("check-config")
        .arg(demo_config())
        .output()
        .expect("run kolejka");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ok"), "{stdout}");
}

#[test]
fn check_config_names_file_line_and_field_and_exits_non_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("office.toml");
    // The demo office with one counter pointing at a case type that does not exist.
    let text = std::fs::read_to_string(demo_config()).expect("read demo config");
    // The first counter's `serves` line (not the comment above that mentions the format).
    let target = text
        .lines()
        .find(|l| l.starts_with("serves") && l.contains("dowody = "))
        .expect("a counter serving `dowody`");
    let broken = text.replacen(target, &target.replacen("dowody = ", "dowodyy = ", 1), 1);
    std::fs::write(&bad, &broken).expect("write config");
    let line = broken
        .lines()
        .position(|l| l.contains("dowodyy = "))
        .expect("line")
        + 1;
    let out = Command::new(BIN)
        .arg("check-config")
        .arg(&bad)
        .output()
        .expect("run kolejka");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("office.toml:{line}:")),
        "expected file:line {line} in: {stderr}"
    );
    assert!(stderr.contains("dowodyy"), "{stderr}");

    // A missing file is an error too, not a panic.
    let out = Command::new(BIN)
        .arg("check-config")
        .arg(dir.path().join("missing.toml"))
        .output()
        .expect("run kolejka");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

#[tokio::test]
async fn serves_healthz_and_shuts_down_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("sub/kolejka.db");
    // No subcommand: `serve` is the default, with the built-in demo office.
    let mut server = Server::start(&[], &db);
    let url = format!("http://{}/healthz", server.addr);
    let resp = reqwest::get(&url).await.expect("GET /healthz");
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert!(body["day"].is_string(), "{body}");
    assert!(
        db.exists(),
        "the database file is created with its directory"
    );

    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status}");
    let logs: Vec<String> = server.logs.try_iter().collect();
    assert!(
        logs.iter().any(|l| l.contains("SIGTERM")),
        "shutdown not logged: {logs:?}"
    );
    // The writer checkpoints the WAL into the database file when it closes: the WAL is gone
    // (SQLite removes it when the last connection closes) or empty.
    let wal = db.with_file_name("kolejka.db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(
        wal_len, 0,
        "the database was not checkpointed and closed cleanly"
    );

    // It starts again on the same database, and the explicit subcommand works too.
    let mut again = Server::start(
        &["serve", "--config", demo_config().to_str().expect("utf-8")],
        &db,
    );
    let resp = reqwest::get(format!("http://{}/healthz", again.addr))
        .await
        .expect("GET /healthz");
    assert_eq!(resp.status(), 200);
    again.sigterm();
    assert!(again.wait_exit(Duration::from_secs(10)).success());
}

#[test]
fn a_bad_config_stops_serve_before_the_port_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("office.toml");
    std::fs::write(&bad, "this is not toml =").expect("write");
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&bad)
        .arg("--db")
        .arg(dir.path().join("k.db"))
        .output()
        .expect("run kolejka");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("office.toml:1:"), "{stderr}");
    assert!(!stderr.contains("listening"), "{stderr}");
    assert!(
        !dir.path().join("k.db").exists(),
        "nothing is written for a bad config"
    );
}
