//! Websocket abuse against the real binary: thousands of screens that say hello and then
//! never read (slow consumers), hundreds that never say hello, clients that send garbage,
//! binary frames, oversized messages, frames that claim a terabyte, and bytes that are no
//! frames at all. Meanwhile a well-behaved screen must get every call, `/healthz` must keep
//! answering, and the server's resident memory must stay bounded.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::bench::client::{self, Socket};
use crate::bench::stats::Samples;
use crate::support::{
    admin, close_code, frame_header, heavy, open_files_limit, raw_websocket, read_until_closed,
    start_with_printers,
};

/// How the server ended a socket.
#[derive(Debug, PartialEq)]
enum Ended {
    /// With a close frame and this code.
    Close(u16),
    /// Without one: a reset, or a close frame lost to a reset (a server that hangs up on a
    /// client still sending resets the connection, and the client may lose what came before).
    Reset,
    /// It did not end in time.
    Open,
}

/// Reads (and drops) everything until the server ends the socket, for at most `within`.
async fn ending(mut ws: Socket, within: Duration) -> Ended {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => return Ended::Close(frame.code.into()),
            Ok(Some(Ok(Message::Close(None)))) | Ok(Some(Err(_))) | Ok(None) => {
                return Ended::Reset;
            }
            Ok(Some(Ok(_))) => {}
            Err(_) => return Ended::Open,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_abuse_leaves_the_others_served_and_memory_bounded() {
    let _heavy = heavy().await;
    // Each idle screen is two descriptors here (client and server); leave room for the rest.
    let crowd = ((open_files_limit().saturating_sub(1500)) / 2).min(2000);
    assert!(crowd >= 500, "too few open files allowed for the drill");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start_with_printers(dir.path(), 1).await;
    let base = server.base();
    let ws_url = server.ws_url();
    let admin = admin(&server).await;
    let clerk = admin.clerk_at("anna", 1).await.expect("clerk");
    let from = std::net::Ipv4Addr::new(127, 0, 0, 2);
    let kiosk = client::pair_named(&base, "kiosk", from, Some("bench-kiosk-1"))
        .await
        .expect("kiosk");
    let screen = client::pair(&base, "screen", from).await.expect("screen");
    let http = client::http_client();
    let issue = |n: usize| {
        let (http, base, kiosk) = (http.clone(), base.clone(), kiosk.clone());
        async move {
            for _ in 0..n {
                let resp = http
                    .post(format!("{base}/api/v1/tickets"))
                    .bearer_auth(&kiosk)
                    .json(&json!({"case_type": "dowody", "lang": "pl"}))
                    .send()
                    .await
                    .expect("issue");
                let status = resp.status();
                let body = resp.text().await.unwrap_or_default();
                assert_eq!(status, reqwest::StatusCode::CREATED, "issue: {body}");
            }
        }
    };
    issue(30).await;

    // The well-behaved screen, and a probe of /healthz every 50 ms throughout.
    let good = client::screen(&ws_url, &screen).await.expect("good screen");
    let (stop, stopping) = watch::channel(false);
    let good = tokio::spawn(client::watch_screen(good, stopping.clone()));
    let probe = {
        let (http, base, mut stopping) = (http.clone(), base.clone(), stopping.clone());
        tokio::spawn(async move {
            let mut samples = Samples::default();
            let mut failures = 0;
            while !*stopping.borrow_and_update() {
                let sent = Instant::now();
                match http.get(format!("{base}/healthz")).send().await {
                    Ok(r) if r.status().is_success() => samples.push(sent.elapsed()),
                    _ => failures += 1,
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (samples, failures)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = server.rss_kib().expect("rss");
    let t0 = Instant::now();

    // The misbehaving clients, all at once.
    let mut abusers = Vec::new();
    for i in 0..50 {
        // Garbage after hello: answered with errors, then 1008 after too many.
        let (ws_url, screen) = (ws_url.clone(), screen.clone());
        abusers.push(tokio::spawn(async move {
            let mut ws = client::screen(&ws_url, &screen).await.expect("connect");
            for _ in 0..30 {
                if ws
                    .send(Message::text(format!("garbage {i} {{")))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            let ended = ending(ws, Duration::from_secs(30)).await;
            ("garbage", ended, vec![Ended::Close(1008)])
        }));
    }
    for _ in 0..20 {
        // A message over the limit after hello: 1009.
        let (ws_url, screen) = (ws_url.clone(), screen.clone());
        abusers.push(tokio::spawn(async move {
            let mut ws = client::screen(&ws_url, &screen).await.expect("connect");
            let _ = ws.send(Message::text("x".repeat(16 * 1024))).await;
            let ended = ending(ws, Duration::from_secs(30)).await;
            ("oversized", ended, vec![Ended::Close(1009), Ended::Reset])
        }));
    }
    for _ in 0..20 {
        // A binary frame instead of hello: 1003.
        let ws_url = ws_url.clone();
        abusers.push(tokio::spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
                .await
                .expect("connect");
            let _ = ws.send(Message::binary(vec![0xff_u8; 100])).await;
            let ended = ending(ws, Duration::from_secs(30)).await;
            ("binary", ended, vec![Ended::Close(1003)])
        }));
    }
    let addr = server.addr;
    for i in 0..40 {
        // Raw frames: half claim a terabyte (refused before anything is allocated), half are
        // bytes that are no frame at all.
        abusers.push(tokio::spawn(async move {
            let mut tcp = raw_websocket(addr).await;
            let (what, expected) = if i % 2 == 0 {
                let mut f = frame_header(0x1, 1 << 40);
                f.extend_from_slice(b"{\"type\":\"hello\"");
                tcp.write_all(&f).await.expect("write");
                ("terabyte frame", vec![Ended::Close(1009), Ended::Reset])
            } else {
                // A whole frame with a reserved opcode (0xB): no such frame exists.
                let _ = tcp.write_all(&[0x8b, 0x82, 1, 2, 3, 4, 0xde, 0xad]).await;
                ("broken frame", vec![Ended::Close(1002), Ended::Reset])
            };
            let (bytes, closed) = read_until_closed(&mut tcp, Duration::from_secs(30)).await;
            let ended = match (closed, close_code(&bytes)) {
                (None, _) => Ended::Open,
                (Some(_), Some(code)) => Ended::Close(code),
                (Some(_), None) => Ended::Reset,
            };
            (what, ended, expected)
        }));
    }
    let silent: Vec<_> = (0..300)
        .map(|_| {
            // Upgraded, never a hello: 4401 after five seconds.
            let ws_url = ws_url.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let (ws, _) = tokio_tungstenite::connect_async_with_config(
                    ws_url.as_str(),
                    Some(client::lean_ws_config()),
                    false,
                )
                .await
                .expect("connect");
                (ending(ws, Duration::from_secs(15)).await, started.elapsed())
            })
        })
        .collect();
    // The crowd: screens that say hello and then are never read again.
    let idle = client::screens(&ws_url, &screen, crowd, 64)
        .await
        .expect("the crowd connects");
    let rss_crowd = server.rss_kib().expect("rss");
    println!("ws abuse: the crowd connected after {:?}", t0.elapsed());

    // Traffic while they are all there: tickets and calls, which every screen is sent.
    let traffic = tokio::spawn(issue(20));
    let mut called = Vec::new();
    for _ in 0..5 {
        let (status, body) = clerk
            .post("/api/v1/counters/1/call-next", &json!({}))
            .await
            .expect("call-next");
        assert!(
            status.is_success(),
            "call-next under abuse: {status} {body}"
        );
        called.push(
            body["ticket"]["number"]
                .as_str()
                .expect("number")
                .to_owned(),
        );
        for action in ["start", "finish"] {
            let (status, body) = clerk
                .post(&format!("/api/v1/counters/1/{action}"), &json!({}))
                .await
                .expect("finish");
            assert!(status.is_success(), "{action}: {status} {body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    traffic.await.expect("traffic");
    let rss_peak = server.rss_kib().expect("rss");
    println!("ws abuse: traffic done after {:?}", t0.elapsed());

    for a in abusers {
        let (what, ended, expected) = a.await.expect("abuser");
        assert!(
            expected.contains(&ended),
            "{what}: ended {ended:?}, expected one of {expected:?}"
        );
    }
    for s in silent {
        let (ended, took) = s.await.expect("silent client");
        assert_eq!(ended, Ended::Close(4401), "a client without hello");
        assert!(took < Duration::from_secs(9), "closed only after {took:?}");
    }
    // A newcomer is served at once.
    let started = Instant::now();
    let newcomer = client::screen(&ws_url, &screen)
        .await
        .expect("a new screen connects");
    let newcomer_took = started.elapsed();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop.send(true);
    let (_, good) = good.await.expect("good screen");
    let (health, failures) = probe.await.expect("probe");
    let health = health.summary();
    let grown = rss_peak.saturating_sub(rss_before);
    let connections = crowd + 300 + 130;
    println!(
        "ws abuse: {crowd} idle screens and {} misbehaving clients; RSS {} KiB before, {} KiB \
         with the crowd, {} KiB at the peak ({:.1} KiB a connection); /healthz {health}, \
         {failures} failures; newcomer's snapshot in {newcomer_took:?}",
        300 + 130,
        rss_before,
        rss_crowd,
        rss_peak,
        grown as f64 / connections as f64
    );
    let shown: Vec<&str> = good.calls.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(shown, called, "the good screen got every call, in order");
    assert!(
        good.ended.is_none(),
        "the good screen stayed: {:?}",
        good.ended
    );
    assert_eq!(failures, 0, "/healthz failed under abuse");
    assert!(
        health.max_ms < 2000.0,
        "/healthz stalled under abuse: {health}"
    );
    assert!(newcomer_took < Duration::from_secs(2), "{newcomer_took:?}");
    // Bounded: what a connection costs (the benchmark's target is 16 KiB) plus whatever the
    // slow consumers' queues hold, far from growing without end.
    assert!(
        grown < 48 * connections as u64 + 64 * 1024,
        "memory grew by {grown} KiB for {connections} connections"
    );
    drop(idle);
    drop(newcomer);
    assert!(server.panics().is_empty(), "{:?}", server.panics());
    assert!(server.stop(Duration::from_secs(15)), "clean stop");
}
