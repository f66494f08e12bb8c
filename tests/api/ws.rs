//! The websocket API (`/ws`, docs/PROTOCOL.md) with real tokio-tungstenite clients: hello and
//! authentication, snapshots equal to the state over HTTP, calls reaching every screen once
//! and in order, filters, recalls, privacy, bad frames, slow consumers, lag, hall messages
//! and reconnecting after a restart.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{SinkExt, StreamExt};
use jiff::SignedDuration;
use kolejka::clock::ManualClock;
use kolejka::engine::{Actor, CaseTypeCode, Command, Lang};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{DeviceClient, TestApp, UserClient};

/// How long a test waits for a message it expects.
const WAIT: Duration = Duration::from_secs(10);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A websocket client that checks the protocol's numbering on every message and keeps the
/// raw text of every frame it received.
struct Ws {
    socket: Socket,
    /// The seq of the last message received.
    seq: u64,
    /// The version of the last message received (it never decreases).
    version: i64,
    raw: Vec<String>,
}

impl Ws {
    async fn connect(app: &TestApp, cookie: Option<&str>) -> Ws {
        Self::connect_with(app, cookie, None).await
    }

    async fn connect_with(app: &TestApp, cookie: Option<&str>, origin: Option<&str>) -> Ws {
        let mut req = app.ws_url().into_client_request().expect("request");
        if let Some(c) = cookie {
            req.headers_mut()
                .insert("cookie", HeaderValue::from_str(c).expect("cookie"));
        }
        if let Some(o) = origin {
            req.headers_mut()
                .insert("origin", HeaderValue::from_str(o).expect("origin"));
        }
        let (socket, resp) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket upgrade");
        assert_eq!(resp.status(), 101);
        Ws {
            socket,
            seq: 0,
            version: 0,
            raw: Vec::new(),
        }
    }

    /// Connects as a device and subscribes to `hello` (the token is added).
    async fn device(app: &TestApp, device: &DeviceClient, mut hello: Value) -> (Ws, Value) {
        let mut ws = Ws::connect(app, None).await;
        hello["type"] = json!("hello");
        hello["token"] = json!(device.token);
        ws.send(hello).await;
        let snapshot = ws.expect("snapshot").await;
        (ws, snapshot)
    }

    /// Connects as a signed-in user (by cookie) and subscribes to `hello`.
    async fn user(app: &TestApp, cookie: &str, mut hello: Value) -> (Ws, Value) {
        let mut ws = Ws::connect(app, Some(cookie)).await;
        hello["type"] = json!("hello");
        ws.send(hello).await;
        let snapshot = ws.expect("snapshot").await;
        (ws, snapshot)
    }

    async fn send(&mut self, v: Value) {
        self.send_raw(Message::text(v.to_string())).await;
    }

    async fn send_raw(&mut self, m: Message) {
        self.socket.send(m).await.expect("send");
    }

    /// The next message, or what ended the connection.
    async fn next(&mut self) -> Result<Value, Option<CloseFrame>> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a message within the wait");
            match frame {
                Some(Ok(Message::Text(t))) => {
                    self.raw.push(t.as_str().to_owned());
                    let v: Value = serde_json::from_str(t.as_str()).expect("JSON message");
                    let seq = v["seq"].as_u64().expect("every message has a seq");
                    assert_eq!(seq, self.seq + 1, "seq not consecutive: {v}");
                    self.seq = seq;
                    let version = v["version"].as_i64().expect("every message has a version");
                    assert!(version >= self.version, "version went back: {v}");
                    self.version = version;
                    return Ok(v);
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(frame))) => return Err(frame),
                Some(Ok(other)) => panic!("unexpected frame {other:?}"),
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    /// The next message, which must be of type `kind`.
    async fn expect(&mut self, kind: &str) -> Value {
        let v = self
            .next()
            .await
            .unwrap_or_else(|c| panic!("closed: {c:?}"));
        assert_eq!(v["type"], kind, "expected {kind}: {v}");
        v
    }

    /// Messages until one of type `kind` (the others are returned too, in order).
    async fn until(&mut self, kind: &str) -> (Value, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            let v = self
                .next()
                .await
                .unwrap_or_else(|c| panic!("closed: {c:?}"));
            if v["type"] == kind {
                return (v, before);
            }
            before.push(v);
        }
    }

    /// Reads until the server closes; the close code and reason.
    async fn closed(&mut self) -> (u16, String) {
        loop {
            match self.next().await {
                Ok(_) => {}
                Err(Some(f)) => return (u16::from(f.code), f.reason.as_str().to_owned()),
                Err(None) => return (1006, "no close frame".into()),
            }
        }
    }

    /// Every message until none arrives for `quiet`.
    async fn drain(&mut self, quiet: Duration) -> Vec<Value> {
        let mut got = Vec::new();
        while let Ok(next) = tokio::time::timeout(quiet, self.next()).await {
            got.push(next.unwrap_or_else(|c| panic!("closed: {c:?}")));
        }
        got
    }

    /// Asserts that no message arrives for `d`.
    async fn quiet_for(&mut self, d: Duration) {
        loop {
            match tokio::time::timeout(d, self.socket.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                Ok(other) => panic!("expected nothing, got {other:?}"),
            }
        }
    }
}

/// Signs in again as `name` (whose password the helpers set) and returns the session cookie
/// (`name=value`) for a websocket upgrade.
async fn session_cookie(app: &TestApp, name: &str, password: &str) -> String {
    let resp = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::OK);
    let set = resp
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .expect("ascii");
    set.split(';').next().expect("name=value").to_owned()
}

/// A user of `role` with a session cookie for websockets, and the HTTP client.
async fn user(app: &TestApp, name: &str, role: &str) -> (UserClient, String) {
    let client = app.user(name, role).await;
    let cookie = session_cookie(app, name, &format!("{name}-secret-password")).await;
    (client, cookie)
}

async fn get_json(client: &UserClient, path: &str) -> Value {
    let resp = client.get(path).await;
    assert_eq!(resp.status(), StatusCode::OK, "GET {path}");
    resp.json().await.expect("json")
}

/// Removes keys that move with the wall clock between two reads.
fn without_clock(mut v: Value) -> Value {
    if let Some(items) = v.as_array_mut() {
        for q in items {
            if let Some(o) = q.as_object_mut() {
                o.remove("longest_wait_s");
                // Issuing can flip at a closing time between two reads; not within a test.
            }
        }
    }
    v
}

async fn issue(kiosk: &DeviceClient, case_type: &str, priority: Option<&str>) -> Value {
    let resp = kiosk
        .post(
            "/api/v1/tickets",
            &json!({"case_type": case_type, "priority": priority, "lang": "pl"}),
        )
        .await;
    let status = resp.status();
    let body: Value = resp.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "issue: {body}");
    body
}

#[tokio::test]
async fn sockets_without_credentials_or_with_a_bad_hello_are_closed_with_a_clear_code() {
    let app = TestApp::spawn().await;
    let (clerk, clerk_cookie) = user(&app, "clerk1", "clerk").await;
    let kiosk = app.kiosk().await;
    let screen = app.device("screen").await;
    let hall = json!({"type": "hello", "channel": "hall"});

    // No credentials at all.
    let mut ws = Ws::connect(&app, None).await;
    ws.send(hall.clone()).await;
    assert_eq!(ws.closed().await.0, 4401);
    // A token nobody issued.
    let mut ws = Ws::connect(&app, None).await;
    ws.send(json!({"type": "hello", "channel": "hall", "token": "not-a-token"}))
        .await;
    assert_eq!(ws.closed().await.0, 4401);
    // A valid cookie from another site's page is not used.
    let mut ws = Ws::connect_with(&app, Some(&clerk_cookie), Some("https://evil.example")).await;
    ws.send(hall.clone()).await;
    assert_eq!(ws.closed().await.0, 4401);
    // Garbage, another message type, binary, unknown fields or channels before hello.
    for (frame, code) in [
        (Message::text("hello?"), 4400),
        (Message::text(r#"{"type":"resync"}"#), 4400),
        (
            Message::text(r#"{"type":"hello","channel":"kitchen"}"#),
            4400,
        ),
        (
            Message::text(r#"{"type":"hello","channel":"hall","x":1}"#),
            4400,
        ),
        (
            Message::text(r#"{"type":"hello","channel":"counter"}"#),
            4400,
        ),
        (
            Message::text(r#"{"type":"hello","channel":"manager","counter":1}"#),
            4400,
        ),
        (
            Message::text(r#"{"type":"hello","channel":"counter","counter":99}"#),
            4404,
        ),
        (
            Message::text(r#"{"type":"hello","channel":"hall","case_types":["nope"]}"#),
            4404,
        ),
        (Message::binary(Bytes::from_static(b"\x00\x01")), 1003),
        (Message::text("x".repeat(5000)), 1009),
    ] {
        let mut ws = Ws::connect(&app, Some(&clerk_cookie)).await;
        ws.send_raw(frame.clone()).await;
        let (got, reason) = ws.closed().await;
        assert_eq!(got, code, "{frame:?}: {reason}");
        assert!(!reason.is_empty(), "a reason for {code}");
    }
    // Wrong rights: 4403.
    for (who, hello) in [
        (None, json!({"channel": "manager"})),
        (Some(&kiosk), json!({"channel": "clerk", "counter": 1})),
        (Some(&kiosk), json!({"channel": "counter", "counter": 1})),
        (Some(&screen), json!({"channel": "counter", "counter": 1})),
        (Some(&screen), json!({"channel": "manager"})),
    ] {
        let mut ws = match who {
            Some(_) => Ws::connect(&app, None).await,
            None => Ws::connect(&app, Some(&clerk_cookie)).await,
        };
        let mut hello = hello;
        hello["type"] = json!("hello");
        if let Some(d) = who {
            hello["token"] = json!(d.token);
        }
        ws.send(hello.clone()).await;
        assert_eq!(ws.closed().await.0, 4403, "{hello}");
    }
    // No hello within 5 s.
    let mut ws = Ws::connect(&app, None).await;
    let started = std::time::Instant::now();
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 4401, "{reason}");
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // The rights that are allowed do get a snapshot.
    Ws::device(&app, &kiosk, json!({"channel": "hall"})).await;
    Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    Ws::user(
        &app,
        &clerk_cookie,
        json!({"channel": "clerk", "counter": 2}),
    )
    .await;
    Ws::user(
        &app,
        &clerk_cookie,
        json!({"channel": "counter", "counter": 2}),
    )
    .await;
    drop(clerk);
    app.stop().await;
}

#[tokio::test]
async fn the_snapshot_on_connect_equals_the_state_read_over_http() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let screen = app.device("screen").await;
    let display = app.device("counter_display").await;
    let (manager, cookie) = user(&app, "kierownik", "manager").await;
    let clerk1 = app.clerk_at("anna", 1).await;
    let clerk4 = app.clerk_at("piotr", 4).await;
    for ct in ["dowody", "dowody", "meldunki", "pojazdy", "usc"] {
        issue(&kiosk, ct, None).await;
    }
    issue(&kiosk, "dowody", Some("ciaza")).await;
    clerk1.ok("/api/v1/counters/1/call-next", &json!({})).await;
    clerk4.ok("/api/v1/counters/4/call-next", &json!({})).await;
    clerk4.ok("/api/v1/counters/4/start", &json!({})).await;

    let tickets = get_json(&manager, "/api/v1/tickets").await;
    let counters = get_json(&manager, "/api/v1/counters").await;
    let queues = get_json(&manager, "/api/v1/queues").await;

    let (_m, snap) = Ws::user(&app, &cookie, json!({"channel": "manager"})).await;
    assert_eq!(snap["channel"], "manager");
    assert_eq!(snap["seq"], 1);
    assert_eq!(snap["version"], queues["version"]);
    assert_eq!(snap["day"], queues["day"]);
    assert_eq!(snap["tickets"], tickets);
    assert_eq!(snap["counters"], counters);
    assert_eq!(
        without_clock(snap["queues"].clone()),
        without_clock(queues["case_types"].clone())
    );

    let (_h, hall) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    assert_eq!(hall["version"], queues["version"]);
    let http_queues = queues["case_types"].as_array().expect("queues");
    let ws_queues = hall["queues"].as_array().expect("queues");
    assert_eq!(ws_queues.len(), http_queues.len());
    for (w, h) in ws_queues.iter().zip(http_queues) {
        for key in [
            "code",
            "prefix",
            "name",
            "waiting",
            "estimated_wait_min",
            "issuing",
        ] {
            assert_eq!(w[key], h[key], "{key} of {}", h["code"]);
        }
    }
    let ws_counters = hall["counters"].as_array().expect("counters");
    for (w, h) in ws_counters
        .iter()
        .zip(counters.as_array().expect("counters"))
    {
        assert_eq!(w["id"], h["id"]);
        assert_eq!(w["status"], h["status"]);
        assert_eq!(w["current"]["number"], h["current"]["number"]);
        assert_eq!(w["current"]["state"], h["current"]["state"]);
    }
    let recent: Vec<&Value> = hall["recent_calls"]
        .as_array()
        .expect("recent")
        .iter()
        .map(|c| &c["counter"])
        .collect();
    assert_eq!(recent, [&json!(4), &json!(1)], "newest first");

    let (_c, counter) =
        Ws::device(&app, &display, json!({"channel": "counter", "counter": 4})).await;
    assert_eq!(counter["counter"]["status"], "open");
    assert_eq!(counter["counter"]["current"]["state"], "serving");
    assert_eq!(
        counter["counter"]["current"]["number"],
        counters[3]["current"]["number"]
    );

    let clerk_cookie = session_cookie(&app, "anna", "anna-secret-password").await;
    let (_k, clerk) = Ws::user(
        &app,
        &clerk_cookie,
        json!({"channel": "clerk", "counter": 1}),
    )
    .await;
    assert_eq!(clerk["counter"], counters[0]);
    let served: Vec<&Value> = clerk["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .map(|q| &q["code"])
        .collect();
    assert_eq!(served, [&json!("dowody"), &json!("meldunki")]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_call_reaches_every_screen_exactly_once_and_in_order() {
    const TICKETS: usize = 36;
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let screen = app.device("screen").await;
    let case_types = [
        "dowody",
        "meldunki",
        "pojazdy",
        "prawa-jazdy",
        "usc",
        "podatki",
    ];
    for ct in case_types.iter().cycle().take(TICKETS) {
        issue(&kiosk, ct, None).await;
    }
    let names: Vec<String> = (1..=8).map(|c| format!("clerk{c}")).collect();
    let clerks: Vec<UserClient> =
        join_all(names.iter().zip(1..=8).map(|(n, c)| app.clerk_at(n, c))).await;
    // Five screens read while the clerks call, each collecting the calls it is sent.
    let mut readers = Vec::new();
    for _ in 0..5 {
        let (mut ws, _) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
        readers.push(tokio::spawn(async move {
            let mut calls = Vec::new();
            while calls.len() < TICKETS {
                let (call, _) = ws.until("call").await;
                calls.push((
                    call["number"].as_str().expect("number").to_owned(),
                    u32::try_from(call["counter"].as_u64().expect("counter")).expect("u32"),
                ));
            }
            // Nothing more: no call twice. The queues end empty.
            for m in ws.drain(Duration::from_millis(500)).await {
                assert_ne!(m["type"], "call", "{m}");
                assert_ne!(m["type"], "snapshot", "{m}");
            }
            calls
        }));
    }
    // Eight clerks call at once, each until nothing is left for their counter.
    let calls = join_all(clerks.iter().zip(1..=8).map(|(clerk, c)| async move {
        let mut mine = Vec::new();
        loop {
            let resp = clerk
                .post(&format!("/api/v1/counters/{c}/call-next"), &json!({}))
                .await;
            if resp.status() == StatusCode::CONFLICT {
                break;
            }
            let body: Value = resp.json().await.expect("json");
            let number = body["ticket"]["number"]
                .as_str()
                .expect("number")
                .to_owned();
            mine.push((body["version"].as_i64().expect("version"), number, c));
            clerk
                .ok(&format!("/api/v1/counters/{c}/no-show"), &json!({}))
                .await;
        }
        mine
    }))
    .await;
    let mut expected: Vec<(i64, String, u32)> = calls.into_iter().flatten().collect();
    expected.sort();
    assert_eq!(expected.len(), TICKETS, "every ticket called once");
    // The version of a call's answer is its event's seq: sorted, the commit order.
    let expected: Vec<(String, u32)> = expected.into_iter().map(|(_, n, c)| (n, c)).collect();
    for reader in readers {
        let got = reader.await.expect("screen reader");
        assert_eq!(got, expected, "every call once, in commit order");
    }
    app.stop().await;
}

#[tokio::test]
async fn filters_hold_and_recalls_appear_as_recalls() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let screen = app.device("screen").await;
    let display = app.device("counter_display").await;
    let clerk1 = app.clerk_at("anna", 1).await;
    let clerk4 = app.clerk_at("piotr", 4).await;
    let (mut vehicles, snap) = Ws::device(
        &app,
        &screen,
        json!({"channel": "hall", "case_types": ["pojazdy"], "counters": [4, 5]}),
    )
    .await;
    let codes: Vec<&Value> = snap["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .map(|q| &q["code"])
        .collect();
    assert_eq!(codes, [&json!("pojazdy")]);
    let ids: Vec<&Value> = snap["counters"]
        .as_array()
        .expect("counters")
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(ids, [&json!(4), &json!(5)]);
    let (mut all, _) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    let (mut counter1, _) =
        Ws::device(&app, &display, json!({"channel": "counter", "counter": 1})).await;

    issue(&kiosk, "dowody", None).await;
    issue(&kiosk, "pojazdy", None).await;
    clerk1.ok("/api/v1/counters/1/call-next", &json!({})).await;
    clerk1.ok("/api/v1/counters/1/recall", &json!({})).await;
    clerk4.ok("/api/v1/counters/4/call-next", &json!({})).await;

    // Everything: A001 called and recalled at 1, C001 called at 4.
    let (c, _) = all.until("call").await;
    assert_eq!(
        (c["number"].as_str(), c["counter"].as_u64()),
        (Some("A001"), Some(1))
    );
    assert_eq!(c["case_type"], "dowody");
    let (r, _) = all.until("recall").await;
    assert_eq!(
        (r["number"].as_str(), r["calls"].as_u64()),
        (Some("A001"), Some(2))
    );
    let (c, _) = all.until("call").await;
    assert_eq!(c["number"], "C001");

    // The vehicles screen: only C001, only vehicle queues, only counters 4 and 5.
    let (c, _) = vehicles.until("call").await;
    assert_eq!(c["number"], "C001");
    let (counter, _) = vehicles.until("counter").await;
    assert_eq!(counter["counter"]["id"], 4);
    assert_eq!(counter["counter"]["current"]["number"], "C001");
    for m in vehicles.raw.iter().skip(1) {
        let m: Value = serde_json::from_str(m).expect("json");
        match m["type"].as_str() {
            Some("queues") => {
                let q = m["queues"].as_array().expect("queues");
                assert!(q.iter().all(|q| q["code"] == "pojazdy"), "{m}");
            }
            Some("counter") => assert_eq!(m["counter"]["id"], 4, "{m}"),
            Some("call") => assert_eq!(m["number"], "C001", "{m}"),
            _ => panic!("the vehicles screen got {m}"),
        }
    }
    for m in vehicles.drain(Duration::from_millis(300)).await {
        assert_eq!(m["type"], "queues", "{m}");
        assert_eq!(m["queues"][0]["waiting"], 0, "{m}");
    }

    // Counter 1's display: the call, the recall, its own state; nothing of counter 4.
    let (c, _) = counter1.until("call").await;
    assert_eq!(c["number"], "A001");
    let (r, _) = counter1.until("recall").await;
    assert_eq!(r["calls"], 2);
    for m in &counter1.drain(Duration::from_millis(300)).await {
        assert_eq!(m["type"], "counter", "{m}");
        assert_eq!(m["counter"]["id"], 1, "{m}");
    }
    app.stop().await;
}

#[tokio::test]
async fn no_priority_category_reaches_any_socket() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let screen = app.device("screen").await;
    let display = app.device("counter_display").await;
    let (_manager, manager_cookie) = user(&app, "kierownik", "manager").await;
    let clerk = app.clerk_at("anna", 1).await;
    let clerk_cookie = session_cookie(&app, "anna", "anna-secret-password").await;
    issue(&kiosk, "dowody", Some("ciaza")).await;

    let (mut hall, _) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    let (mut counter, _) =
        Ws::device(&app, &display, json!({"channel": "counter", "counter": 1})).await;
    let (mut clerk_ws, _) = Ws::user(
        &app,
        &clerk_cookie,
        json!({"channel": "clerk", "counter": 1}),
    )
    .await;
    let (mut manager, snap) = Ws::user(&app, &manager_cookie, json!({"channel": "manager"})).await;
    assert_eq!(snap["tickets"][0]["priority"], true);

    issue(&kiosk, "dowody", Some("niepelnosprawnosc")).await;
    issue(&kiosk, "dowody", None).await;
    for _ in 0..2 {
        clerk.ok("/api/v1/counters/1/call-next", &json!({})).await;
        clerk.ok("/api/v1/counters/1/recall", &json!({})).await;
        clerk.ok("/api/v1/counters/1/start", &json!({})).await;
        clerk.ok("/api/v1/counters/1/finish", &json!({})).await;
    }
    let (ticket, _) = manager.until("ticket").await;
    assert!(ticket["ticket"]["priority"].is_boolean(), "{ticket}");
    for ws in [&mut hall, &mut counter, &mut clerk_ws, &mut manager] {
        ws.drain(Duration::from_millis(300)).await;
        for frame in &ws.raw {
            for word in [
                "ciaza",
                "niepelnosprawnosc",
                "ciąży",
                "Pregnant",
                "disability",
                "Вагітна",
            ] {
                assert!(!frame.contains(word), "`{word}` in {frame}");
            }
        }
    }
    for frame in hall.raw.iter().chain(&counter.raw) {
        assert!(!frame.contains("priority"), "{frame}");
        assert!(!frame.contains("anna"), "no names on screens: {frame}");
    }
    app.stop().await;
}

#[tokio::test]
async fn garbage_and_oversized_frames_get_a_clear_answer_and_change_nothing() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let screen = app.device("screen").await;
    let (mut bad, _) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    let (mut good, _) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    let version = |app: &TestApp| app.state().queue.read(|_, v| v);
    let before = version(&app);

    for frame in [
        Message::text("{not json"),
        Message::text(r#"{"type":"call-next","counter":1}"#),
        Message::text(r#"{"type":"hello","channel":"manager"}"#),
        Message::binary(Bytes::from_static(b"\xff\xfe")),
    ] {
        bad.send_raw(frame).await;
        let err = bad.expect("error").await;
        assert_eq!(err["code"], "bad_message");
        assert!(
            err["message"].as_str().is_some_and(|m| m.len() > 10),
            "{err}"
        );
    }
    // Still subscribed: a resync gives a fresh snapshot (at most one a second).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    bad.send(json!({"type": "resync"})).await;
    bad.expect("snapshot").await;
    bad.send(json!({"type": "resync"})).await;
    assert_eq!(bad.expect("error").await["code"], "too_soon");
    // An oversized message closes the socket with 1009.
    bad.send_raw(Message::text("x".repeat(10_000))).await;
    let (code, reason) = bad.closed().await;
    assert_eq!(code, 1009, "{reason}");
    assert_eq!(version(&app), before, "nothing changed");

    // The other screen never noticed and still gets events.
    good.quiet_for(Duration::from_millis(200)).await;
    issue(&kiosk, "dowody", None).await;
    let (q, _) = good.until("queues").await;
    assert_eq!(q["queues"][0]["waiting"], 1);

    // Too many bad messages end the connection with 1008.
    let (mut noisy, _) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    for _ in 0..30 {
        if noisy.socket.send(Message::text("?")).await.is_err() {
            break;
        }
    }
    assert_eq!(noisy.closed().await.0, 1008);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_consumer_is_disconnected_while_others_keep_receiving() {
    const CHANGES: usize = 600;
    let app = TestApp::spawn().await;
    let screen = app.device("screen").await;
    let (manager, _) = user(&app, "kierownik", "manager").await;
    // A client that says hello and then never reads, with a small receive buffer so that
    // the kernel holds little for it.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let tcp = socket.connect(app.addr).await.expect("connect");
    let req = app.ws_url().into_client_request().expect("request");
    let (mut slow, _) = tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(tcp))
        .await
        .expect("upgrade");
    slow.send(Message::text(
        json!({"type": "hello", "channel": "hall", "token": screen.token}).to_string(),
    ))
    .await
    .expect("hello");
    // A screen that reads all along, keeping the last list of messages it was sent.
    let (mut reader, _) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    let last_list = Arc::new(Mutex::new(Value::Null));
    let seen = last_list.clone();
    let reading = tokio::spawn(async move {
        loop {
            match reader.next().await {
                Ok(m) if m["type"] == "messages" => {
                    *seen.lock().expect("lock") = m["messages"].clone();
                }
                Ok(_) => {}
                Err(close) => panic!("the reading screen was closed: {close:?}"),
            }
        }
    });

    // Each change sends the whole list of up to 20 messages (~4 KB): far more than the
    // slow client's buffers and its outgoing queue hold, little for a client that reads.
    let text =
        |i: usize| json!({"text": format!("{i}: {}", "Komunikat dla interesantów. ".repeat(5))});
    let mut ids = Vec::new();
    for i in 0..20 {
        let resp = manager.post("/api/v1/messages", &text(i)).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        ids.push(resp.json::<Value>().await.expect("json")["id"].clone());
    }
    let resp = manager.post("/api/v1/messages", &text(99)).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT, "at most 20 at once");
    for i in 20..CHANGES {
        let id = ids.remove(0);
        let resp = manager
            .send(
                reqwest::Method::DELETE,
                &format!("/api/v1/messages/{id}"),
                &json!({}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let resp = manager.post("/api/v1/messages", &text(i)).await;
        ids.push(resp.json::<Value>().await.expect("json")["id"].clone());
    }
    // The reading screen ends with the final list.
    let expected: Vec<Value> = ids.clone();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let shown: Vec<Value> = last_list
            .lock()
            .expect("lock")
            .as_array()
            .map(|l| l.iter().map(|m| m["id"].clone()).collect())
            .unwrap_or_default();
        if shown == expected {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reader lags: {shown:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !reading.is_finished(),
        "the reading screen is still connected"
    );
    reading.abort();

    // The slow one was cut off: reading what is left ends in a close or a reset, not in a
    // stream that stays open.
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(Ok(m)) = slow.next().await {
            if m.is_close() {
                return;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the slow consumer is still connected");
    app.stop().await;
}

/// Commits `n` events while this (single-threaded) runtime is blocked, so that every socket
/// falls more than the broadcast's capacity behind.
fn flood_while_blocked(app: &TestApp, n: usize) {
    let queue = app.state().queue.clone();
    std::thread::spawn(move || {
        let code = CaseTypeCode::parse("dowody").expect("code");
        for _ in 0..n {
            queue
                .submit_blocking(
                    Command::IssueTicket {
                        case_type: code.clone(),
                        priority: None,
                        lang: Lang::Pl,
                    },
                    Actor::Device("flood".into()),
                )
                .expect("issued");
        }
    })
    .join()
    .expect("flood thread");
}

#[tokio::test]
async fn a_socket_that_lags_behind_gets_a_fresh_snapshot() {
    let app = TestApp::spawn().await;
    let screen = app.device("screen").await;
    let (mut ws, first) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    flood_while_blocked(&app, 1100);
    let version = app.state().queue.read(|_, v| v);
    let (snap, _) = ws.until("snapshot").await;
    assert!(snap["seq"].as_u64() > first["seq"].as_u64());
    assert_eq!(snap["version"], version);
    let dowody = &snap["queues"][0];
    assert_eq!(dowody["code"], "dowody");
    assert_eq!(dowody["waiting"], 1100);
    // And it carries on normally.
    let kiosk = app.kiosk().await;
    issue(&kiosk, "dowody", None).await;
    let (q, _) = ws.until("queues").await;
    assert_eq!(q["queues"][0]["waiting"], 1101);
    app.stop().await;
}

#[tokio::test]
async fn hall_messages_are_pushed_when_posted_and_when_withdrawn() {
    let app = TestApp::spawn().await;
    let screen = app.device("screen").await;
    let kiosk = app.kiosk().await;
    let (manager, manager_cookie) = user(&app, "kierownik", "manager").await;
    let clerk = app.user("anna", "clerk").await;
    let (mut hall, snap) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    assert_eq!(snap["messages"], json!([]));
    let (mut mgr, _) = Ws::user(&app, &manager_cookie, json!({"channel": "manager"})).await;

    // Who may post, and what is refused.
    let body = json!({"texts": {"pl": "Przerwa 12:00-12:30", "en": "Break 12:00-12:30"}});
    assert_eq!(
        clerk.post("/api/v1/messages", &body).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        kiosk.post("/api/v1/messages", &body).await.status(),
        StatusCode::FORBIDDEN
    );
    for bad in [
        json!({}),
        json!({"text": ""}),
        json!({"text": "x".repeat(501)}),
        json!({"text": "a", "texts": {"pl": "a"}}),
        json!({"text": "a", "ends_at": "2001-01-01T00:00:00Z"}),
        json!({"text": "a", "starts_at": "tomorrow"}),
    ] {
        let resp = manager.post("/api/v1/messages", &bad).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let resp = manager
        .post("/api/v1/messages", &json!({"text": "a", "colour": "red"}))
        .await;
    assert!(resp.status().is_client_error());

    // Posted: pushed to the hall and the manager.
    let resp = manager.post("/api/v1/messages", &body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let posted: Value = resp.json().await.expect("json");
    assert_eq!(posted["status"], "active");
    assert_eq!(posted["created_by"], "user:kierownik");
    let (m, _) = hall.until("messages").await;
    assert_eq!(
        m["messages"],
        json!([{"id": posted["id"], "text": {
            "pl": "Przerwa 12:00-12:30", "uk": "Przerwa 12:00-12:30", "en": "Break 12:00-12:30"
        }}])
    );
    assert!(!m.to_string().contains("kierownik"), "{m}");
    let (m2, _) = mgr.until("messages").await;
    assert_eq!(m2["messages"], m["messages"]);

    // Scheduled for later: listed, not shown, nothing pushed.
    let later = json!({"text": "Jutro nieczynne", "starts_at": "2099-01-01T08:00:00+01:00"});
    let resp = manager.post("/api/v1/messages", &later).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let scheduled: Value = resp.json().await.expect("json");
    assert_eq!(scheduled["status"], "scheduled");
    hall.quiet_for(Duration::from_millis(300)).await;
    let list: Value = screen
        .get("/api/v1/messages")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert!(
        list[0]["created_by"].is_null(),
        "screens do not see who: {list}"
    );
    let list = get_json(&manager, "/api/v1/messages").await;
    assert_eq!(list[0]["created_by"], "user:kierownik");

    // Withdrawn: pushed, and it stays withdrawn over a restart.
    let id = posted["id"].as_i64().expect("id");
    let resp = manager
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/messages/{id}"),
            &json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let withdrawn: Value = resp.json().await.expect("json");
    assert_eq!(withdrawn["status"], "withdrawn");
    assert_eq!(withdrawn["withdrawn_by"], "user:kierownik");
    let (m, _) = hall.until("messages").await;
    assert_eq!(m["messages"], json!([]));
    let resp = manager
        .send(reqwest::Method::DELETE, "/api/v1/messages/999", &json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let resp = manager
        .post("/api/v1/messages", &json!({"text": "Zapraszamy"}))
        .await;
    let kept: Value = resp.json().await.expect("json");
    let mut app = app;
    app.restart().await;
    let (_hall, snap) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    assert_eq!(snap["messages"][0]["id"], kept["id"]);
    assert_eq!(snap["messages"].as_array().map(Vec::len), Some(1));
    app.stop().await;
}

#[tokio::test]
async fn after_a_server_restart_a_reconnecting_client_gets_the_state_read_over_http() {
    let mut app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let screen = app.device("screen").await;
    let (_manager, cookie) = user(&app, "kierownik", "manager").await;
    let clerk = app.clerk_at("anna", 1).await;
    for ct in ["dowody", "meldunki", "dowody"] {
        issue(&kiosk, ct, None).await;
    }
    issue(&kiosk, "dowody", Some("ciaza")).await;
    clerk.ok("/api/v1/counters/1/call-next", &json!({})).await;
    let (mut mgr, _) = Ws::user(&app, &cookie, json!({"channel": "manager"})).await;
    let (mut hall, _) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;

    app.restart().await;
    // The old sockets are told that the service restarts.
    assert_eq!(mgr.closed().await.0, 1012);
    assert_eq!(hall.closed().await.0, 1012);

    // Reconnect (the session and the device token survive the restart).
    let manager = app
        .login("kierownik", "kierownik-secret-password")
        .await
        .expect("sign in again");
    let (_mgr, snap) = Ws::user(&app, &cookie, json!({"channel": "manager"})).await;
    let tickets = get_json(&manager, "/api/v1/tickets").await;
    let counters = get_json(&manager, "/api/v1/counters").await;
    let queues = get_json(&manager, "/api/v1/queues").await;
    assert_eq!(snap["version"], queues["version"]);
    assert_eq!(snap["tickets"], tickets);
    assert_eq!(snap["counters"], counters);
    assert_eq!(
        without_clock(snap["queues"].clone()),
        without_clock(queues["case_types"].clone())
    );
    assert_eq!(tickets.as_array().map(Vec::len), Some(4));
    let called = counters[0]["current"]["number"].clone();
    assert!(called.is_string(), "{counters}");

    let (_hall, hall_snap) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    assert_eq!(hall_snap["version"], queues["version"]);
    assert_eq!(hall_snap["counters"][0]["current"]["number"], called);
    let waiting: BTreeMap<String, i64> = hall_snap["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .map(|q| {
            (
                q["code"].as_str().unwrap_or("").to_owned(),
                q["waiting"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(waiting["dowody"], 2);
    assert_eq!(waiting["meldunki"], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_new_day_sends_a_fresh_snapshot() {
    // Monday 10 March 2025, 10:00 in Warsaw.
    let clock = Arc::new(ManualClock::new(
        "2025-03-10T09:00:00Z".parse().expect("timestamp"),
    ));
    let app = TestApp::spawn_with(crate::helpers::demo_office(), clock.clone()).await;
    let kiosk = app.kiosk().await;
    let screen = app.device("screen").await;
    issue(&kiosk, "dowody", None).await;
    issue(&kiosk, "dowody", None).await;
    let (mut hall, snap) = Ws::device(&app, &screen, json!({"channel": "hall"})).await;
    assert_eq!(snap["day"], "2025-03-10");
    assert_eq!(snap["queues"][0]["waiting"], 2);

    clock.advance(SignedDuration::from_hours(24));
    issue(&kiosk, "dowody", None).await;
    let (snap, _) = hall.until("snapshot").await;
    assert_eq!(snap["day"], "2025-03-11");
    assert_eq!(
        snap["queues"][0]["waiting"], 1,
        "yesterday's tickets are gone"
    );
    assert_eq!(snap["version"], app.state().queue.read(|_, v| v));
    app.stop().await;
}

/// Resident memory of this process, in KiB (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Measures what an idle hall connection costs (server and a lean client together, both in
/// this process): `cargo test --test api ws::measure -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, not a check"]
async fn measure_memory_per_hall_connection() {
    use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
    const N: usize = 400;
    let app = TestApp::spawn().await;
    let screen = app.device("screen").await;
    let hello = json!({"type": "hello", "channel": "hall", "token": screen.token}).to_string();
    let lean = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024);
    let connect = || async {
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(app.ws_url(), Some(lean), false)
                .await
                .expect("connect");
        ws.send(Message::text(hello.clone())).await.expect("hello");
        match ws.next().await {
            Some(Ok(Message::Text(_))) => {}
            other => panic!("no snapshot: {other:?}"),
        }
        ws
    };
    // Warm up allocator pools and the runtime.
    let mut warm = Vec::new();
    for _ in 0..50 {
        warm.push(connect().await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_kib();
    let mut sockets = Vec::new();
    for _ in 0..N {
        sockets.push(connect().await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = rss_kib();
    eprintln!(
        "{N} idle hall connections: {} KiB resident, {:.1} KiB each (server and client)",
        after - before,
        (after - before) as f64 / N as f64
    );
    drop(sockets);
    drop(warm);
    app.stop().await;
}
