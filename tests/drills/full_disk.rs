//! A full database, through the real HTTP API. The service runs in this process so that the
//! drill can cap the database's size on the writer's own connection
//! (`Queue::set_max_page_count`: SQLite's `max_page_count` is per connection, and only the
//! writer's writes the event log). A capped database fails exactly as a full disk does, with
//! SQLITE_FULL at the commit, without filling the machine's disk.
//!
//! Issuing must then answer 503 `{"error": "unavailable", ...}` with a message a person can
//! act on; nothing of the refused requests may be anywhere (state, event log, tickets table,
//! screens); reads go on; and when space returns, issuing goes on with the next number.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kolejka::app::{self, App};
use kolejka::clock::SystemClock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::bench::client::{self, User};

async fn start(db: &Path) -> App {
    let cfg = kolejka::config::demo();
    app::start(app::Options {
        office: cfg.office,
        db: db.to_owned(),
        listen: "127.0.0.1:0".parse().expect("address"),
        clock: Arc::new(SystemClock),
        auth: cfg.auth,
    })
    .await
    .expect("start the app")
}

/// The event log and tickets table as the file holds them: (last event id, ticket rows).
fn on_disk(db: &Path) -> (i64, i64) {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open read-only");
    let last = conn
        .query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))
        .expect("events");
    let rows = conn
        .query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get(0))
        .expect("tickets");
    (last, rows)
}

async fn issue(http: &reqwest::Client, base: &str, token: &str) -> (StatusCode, Value) {
    let resp = http
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(token)
        .json(&json!({"case_type": "dowody", "lang": "pl"}))
        .send()
        .await
        .expect("issue request");
    let status = resp.status();
    (status, resp.json().await.expect("json body"))
}

async fn version(http: &reqwest::Client, base: &str) -> i64 {
    let v: Value = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    v["version"].as_i64().expect("version")
}

async fn tickets(admin: &User) -> Vec<Value> {
    match admin.get("/api/v1/tickets").await.expect("tickets") {
        (s, Value::Array(list)) if s.is_success() => list,
        other => panic!("tickets: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_answers_503_keeps_nothing_half_written_and_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("kolejka.db");
    let app = start(&db).await;
    let base = format!("http://{}", app.addr);
    let password =
        std::fs::read_to_string(dir.path().join("admin-password.txt")).expect("admin password");
    let admin = User::login(&base, "admin", password.trim())
        .await
        .expect("admin");
    let clerk = admin.clerk_at("anna", 1).await.expect("clerk");
    let kiosk = client::pair(&base, "kiosk", std::net::Ipv4Addr::new(127, 0, 0, 2))
        .await
        .expect("kiosk");
    let screen = client::pair(&base, "screen", std::net::Ipv4Addr::new(127, 0, 0, 2))
        .await
        .expect("screen");
    let http = client::http_client();
    for _ in 0..3 {
        assert_eq!(issue(&http, &base, &kiosk).await.0, StatusCode::CREATED);
    }

    // No room to grow: the cap is the current size.
    let cap = app
        .state
        .queue
        .set_max_page_count(1)
        .expect("cap the database");
    assert!(cap > 1, "the cap is the current size, {cap} pages");

    // Issue until a commit needs a page that is not there.
    let mut last_acked = None;
    let mut acked = 3;
    let refused = loop {
        let (status, body) = issue(&http, &base, &kiosk).await;
        match status {
            StatusCode::CREATED => {
                acked += 1;
                last_acked = Some(body["ticket"]["number"].as_str().expect("n").to_owned());
                assert!(
                    tickets(&admin).await.len() < 5000,
                    "the database never filled up"
                );
            }
            StatusCode::SERVICE_UNAVAILABLE => break body,
            other => panic!("unexpected {other}: {body}"),
        }
    };
    assert_eq!(refused["error"], "unavailable", "{refused}");
    let message = refused["message"].as_str().expect("message");
    assert!(
        message.contains("cannot save") && message.contains("nothing was changed"),
        "a message a person can act on: {message}"
    );
    let last_acked = last_acked.unwrap_or_else(|| "A003".to_owned());

    // Nothing of it anywhere: the state, the log and the tickets table are as the last
    // acknowledged answer left them, and a screen that joins now hears nothing more.
    let before = tickets(&admin).await;
    assert_eq!(
        before.len(),
        acked,
        "only the acknowledged tickets are there"
    );
    assert_eq!(
        before.last().map(|t| t["number"].clone()),
        Some(json!(last_acked))
    );
    let v = version(&http, &base).await;
    assert_eq!(
        on_disk(&db),
        (v, before.len() as i64),
        "the file holds what was acknowledged"
    );
    let ws = client::screen(&format!("ws://{}/ws", app.addr), &screen)
        .await
        .expect("a screen connects while the database is full");
    let (stop, stopping) = watch::channel(false);
    let watcher = tokio::spawn(client::watch_screen(ws, stopping));
    for _ in 0..5 {
        let (status, body) = issue(&http, &base, &kiosk).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"], "unavailable");
    }
    // A clerk's change fails the same way, or fits in the last free bytes of a page; either
    // way the answer is the truth.
    let (status, body) = clerk
        .post("/api/v1/counters/1/call-next", &json!({}))
        .await
        .expect("call-next");
    let called = match status {
        StatusCode::OK => Some(body["ticket"]["number"].as_str().expect("n").to_owned()),
        StatusCode::SERVICE_UNAVAILABLE => {
            assert_eq!(body["error"], "unavailable", "{body}");
            None
        }
        other => panic!("call-next on a full database: {other} {body}"),
    };
    // Reads go on.
    let health = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    let after = tickets(&admin).await;
    let v_after = version(&http, &base).await;
    if called.is_none() {
        assert_eq!(after, before, "refused requests changed the tickets");
        assert_eq!(v_after, v, "refused requests changed the version");
    } else {
        assert_eq!(after.len(), before.len(), "no ticket was added");
    }
    assert_eq!(on_disk(&db), (v_after, after.len() as i64));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = stop.send(true);
    let (_, log) = watcher.await.expect("screen");
    assert!(
        log.ended.is_none(),
        "the screen stayed connected: {:?}",
        log.ended
    );
    if called.is_none() {
        assert_eq!(log.messages, 0, "screens heard of refused changes");
    } else {
        assert_eq!(
            log.calls.len(),
            1,
            "screens heard of the one call committed"
        );
    }

    // Space returns: issuing goes on with the next number, as if nothing had happened.
    app.state
        .queue
        .set_max_page_count(1_073_741_823)
        .expect("lift the cap");
    let (status, body) = issue(&http, &base, &kiosk).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let next: u32 = last_acked[1..].parse::<u32>().expect("seq") + 1;
    assert_eq!(
        body["ticket"]["number"],
        format!("A{next:03}"),
        "no gap, no repeat"
    );
    let (status, body) = clerk
        .post("/api/v1/counters/1/call-next", &json!({}))
        .await
        .expect("call-next");
    assert!(
        status == StatusCode::OK || body["error"] == "counter_state",
        "the clerk works again: {status} {body}"
    );

    // And a restart finds exactly what was acknowledged.
    let now = tickets(&admin).await;
    app.stop().await.expect("stop");
    let app = start(&db).await;
    let base = format!("http://{}", app.addr);
    let mut admin = admin;
    admin.base = base.clone();
    assert_eq!(
        tickets(&admin).await,
        now,
        "the restored day is what was answered"
    );
    app.stop().await.expect("stop");
}
