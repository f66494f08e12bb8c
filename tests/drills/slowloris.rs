//! Slow clients holding connections open (slowloris) against the real binary: headers sent a
//! byte at a time, connections that never send a byte, bodies that stall and bodies that
//! trickle. Each is cut off by its limit (`server::HEADER_READ_TIMEOUT`, `BODY_IDLE_TIMEOUT`,
//! `REQUEST_TIMEOUT`), while `/healthz` keeps answering others at once.

use std::time::{Duration, Instant};

use kolejka::server::{BODY_IDLE_TIMEOUT, HEADER_READ_TIMEOUT, REQUEST_TIMEOUT};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::bench::client;
use crate::bench::stats::Samples;
use crate::support::{read_until_closed, start};

const SLOW_HEADERS: usize = 200;
const SILENT: usize = 200;
const STALLED_BODIES: usize = 20;
const TRICKLED_BODIES: usize = 3;

/// Sends the start of a request, then one more header byte every second, never finishing.
async fn slow_headers(addr: std::net::SocketAddr) -> Option<Duration> {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let started = Instant::now();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: kolejka\r\nX-Slow: ")
        .await
        .expect("write");
    let writing = async {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if tcp.write_all(b"a").await.is_err() {
                return;
            }
        }
    };
    // The server closing the connection makes a write fail (at once or after a reset).
    let _ = tokio::time::timeout(HEADER_READ_TIMEOUT + Duration::from_secs(10), writing).await;
    let took = started.elapsed();
    (took < HEADER_READ_TIMEOUT + Duration::from_secs(5)).then_some(took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_others_are_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start(dir.path());
    let addr = server.addr;
    let base = server.base();
    let kiosk = client::pair(&base, "kiosk", std::net::Ipv4Addr::new(127, 0, 0, 2))
        .await
        .expect("kiosk");

    // Others keep being served throughout.
    let (stop, mut stopping) = watch::channel(false);
    let probe = {
        let base = base.clone();
        tokio::spawn(async move {
            let http = client::http_client();
            let mut samples = Samples::default();
            let mut failures = 0;
            while !*stopping.borrow_and_update() {
                let sent = Instant::now();
                match http.get(format!("{base}/healthz")).send().await {
                    Ok(r) if r.status().is_success() => samples.push(sent.elapsed()),
                    _ => failures += 1,
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (samples, failures)
        })
    };

    let slow: Vec<_> = (0..SLOW_HEADERS)
        .map(|_| tokio::spawn(slow_headers(addr)))
        .collect();
    let silent: Vec<_> = (0..SILENT)
        .map(|_| {
            tokio::spawn(async move {
                let mut tcp = TcpStream::connect(addr).await.expect("connect");
                let (got, closed) =
                    read_until_closed(&mut tcp, HEADER_READ_TIMEOUT + Duration::from_secs(5)).await;
                assert!(got.is_empty(), "an answer to nothing");
                closed
            })
        })
        .collect();
    // Headers complete, then half of the promised body, then nothing.
    let body_head = |len: usize| {
        format!(
            "POST /api/v1/tickets HTTP/1.1\r\nHost: kolejka\r\nAuthorization: Bearer {kiosk}\r\n\
             Content-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
        )
    };
    let body = r#"{"case_type": "dowody", "lang": "pl"}"#;
    let stalled: Vec<_> = (0..STALLED_BODIES)
        .map(|_| {
            let head = body_head(body.len());
            tokio::spawn(async move {
                let mut tcp = TcpStream::connect(addr).await.expect("connect");
                tcp.write_all(head.as_bytes()).await.expect("head");
                tcp.write_all(&body.as_bytes()[..10]).await.expect("body");
                let started = Instant::now();
                let (got, closed) =
                    read_until_closed(&mut tcp, BODY_IDLE_TIMEOUT + Duration::from_secs(5)).await;
                (
                    String::from_utf8_lossy(&got).into_owned(),
                    closed,
                    started.elapsed(),
                )
            })
        })
        .collect();
    // A body that never pauses long but never ends either: the whole request's limit.
    let trickled: Vec<_> = (0..TRICKLED_BODIES)
        .map(|_| {
            let head = body_head(10_000);
            tokio::spawn(async move {
                let mut tcp = TcpStream::connect(addr).await.expect("connect");
                tcp.write_all(head.as_bytes()).await.expect("head");
                let started = Instant::now();
                let (mut reader, mut writer) = tcp.into_split();
                let trickle = tokio::spawn(async move {
                    while writer.write_all(b" ").await.is_ok() {
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                });
                let mut got = Vec::new();
                let within = REQUEST_TIMEOUT + Duration::from_secs(5);
                let _ = tokio::time::timeout(
                    within,
                    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut got),
                )
                .await;
                trickle.abort();
                (
                    String::from_utf8_lossy(&got).into_owned(),
                    started.elapsed(),
                )
            })
        })
        .collect();

    for s in slow {
        let took = s.await.expect("slow headers");
        assert!(took.is_some(), "a slow header was not cut off in time");
    }
    for s in silent {
        let closed = s.await.expect("silent");
        let took = closed.expect("a silent connection was not closed in time");
        assert!(
            took >= HEADER_READ_TIMEOUT - Duration::from_millis(500),
            "{took:?}"
        );
    }
    for s in stalled {
        let (answer, closed, took) = s.await.expect("stalled body");
        assert!(
            closed.is_some(),
            "a stalled body kept its connection: {answer}"
        );
        assert!(
            answer.starts_with("HTTP/1.1 400") || answer.starts_with("HTTP/1.1 408"),
            "a stalled body: {answer}"
        );
        assert!(
            took >= BODY_IDLE_TIMEOUT - Duration::from_millis(500),
            "{took:?}"
        );
    }
    for t in trickled {
        let (answer, took) = t.await.expect("trickled body");
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "a trickled body: {answer:?}"
        );
        assert!(took < REQUEST_TIMEOUT + Duration::from_secs(5), "{took:?}");
    }

    let _ = stop.send(true);
    let (health, failures) = probe.await.expect("probe");
    let health = health.summary();
    println!("slowloris: /healthz meanwhile {health}, {failures} failures");
    assert_eq!(failures, 0);
    assert!(health.max_ms < 1000.0, "{health}");
    // Nothing of the stalled requests was issued.
    let v: serde_json::Value = reqwest::get(format!("{base}/api/v1/queues"))
        .await
        .expect("queues")
        .json()
        .await
        .expect("json");
    assert!(v["case_types"].is_null() || v["error"].is_string(), "{v}");
    assert!(server.panics().is_empty());
    assert!(server.stop(Duration::from_secs(15)));
}
