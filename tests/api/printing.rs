//! Printing wired into issuing, against real sockets: a TCP listener stands in for a network
//! printer that works, and others for printers that refuse connections, hang up mid-ticket,
//! never read, or report paper out. In every case the ticket stays issued, the kiosk's answer
//! says how printing went, the job is retried and reported, and no kiosk waits for another's
//! printer. Also: reprint, the printers' states, and the ticket on the phone.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use kolejka::app::{self, App};
use kolejka::auth::AuthSettings;
use kolejka::clock::SystemClock;
use kolejka::engine::{Office, Texts};
use kolejka::print::status::reply_for;
use kolejka::print::{
    DeviceStatus, PrintConfig, PrintSetup, PrinterConfig, QueueSettings, TcpTimeouts,
    TransportSpec, builtin_profile, decode_text,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

use crate::helpers::{DeviceClient, TestApp, UserClient, demo_office};

// ------------------------------------------------------------------ fake printers

/// A printer that reads every connection to its end and keeps what it got.
async fn reading_printer() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&received);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut all = Vec::new();
                let _ = socket.read_to_end(&mut all).await;
                store.lock().expect("lock").push(all);
            });
        }
    });
    (addr, received)
}

/// An address where nothing listens.
async fn refusing_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    drop(listener);
    addr
}

/// A printer that reads the first bytes of each ticket and hangs up.
async fn hanging_up_printer() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut first = [0u8; 64];
                let _ = socket.read_exact(&mut first).await;
            });
        }
    });
    addr
}

/// A printer that accepts connections and never reads (a small receive buffer).
async fn never_reading_printer() -> String {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("buffer size");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let addr = socket.local_addr().expect("addr").to_string();
    let listener = socket.listen(16).expect("listen");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

/// A printer that answers every status request (`DLE EOT n`) with `status`.
async fn status_printer(status: DeviceStatus) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut all = Vec::new();
                let mut scanned = 0;
                let mut buf = [0u8; 4096];
                loop {
                    let n = match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    all.extend_from_slice(&buf[..n]);
                    while scanned + 3 <= all.len() {
                        if all[scanned..scanned + 2] == [0x10, 0x04] {
                            let reply = reply_for(status, all[scanned + 2]);
                            let _ = socket.write_all(&[reply]).await;
                            scanned += 3;
                        } else {
                            scanned += 1;
                        }
                    }
                }
            });
        }
    });
    addr
}

// ------------------------------------------------------------------ the service

/// The service with its own printers and short printer timeouts, auto-approving kiosks that
/// pair from this machine (so each kiosk gets the name it asks for).
struct PrintApp {
    app: Option<App>,
    dir: tempfile::TempDir,
    base: String,
    anon: reqwest::Client,
}

fn printer(name: &str, profile: &str, transport: TransportSpec, kiosks: &[&str]) -> PrinterConfig {
    PrinterConfig {
        name: name.into(),
        profile: profile.into(),
        transport,
        kiosks: kiosks.iter().map(|k| (*k).to_owned()).collect(),
    }
}

fn tcp(addr: &str) -> TransportSpec {
    TransportSpec::Tcp(addr.to_owned())
}

fn quick(config: PrintConfig) -> PrintSetup {
    PrintSetup {
        queue: QueueSettings {
            retry_delays: vec![Duration::from_millis(100), Duration::from_millis(200)],
            capacity: 8,
            keep_finished: 100,
        },
        tcp: TcpTimeouts {
            connect: Duration::from_millis(500),
            write: Duration::from_millis(300),
            job: Duration::from_millis(600),
            status: Duration::from_millis(300),
            close: Duration::from_millis(300),
        },
        ..PrintSetup::new(config)
    }
}

impl PrintApp {
    async fn spawn(office: Office, setup: PrintSetup) -> PrintApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = app::start_with_printing(
            app::Options {
                office,
                db: dir.path().join("kolejka.db"),
                listen: "127.0.0.1:0".parse().expect("addr"),
                clock: Arc::new(SystemClock),
                auth: AuthSettings {
                    auto_approve_loopback: true,
                },
            },
            setup,
        )
        .await
        .expect("start the app");
        PrintApp {
            base: format!("http://{}", app.addr),
            app: Some(app),
            dir,
            anon: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn kiosk(&self, name: &str) -> DeviceClient {
        let pair: Value = self
            .anon
            .post(self.url("/api/v1/devices/pair"))
            .json(&json!({"kind": "kiosk", "name": name}))
            .send()
            .await
            .expect("pair")
            .json()
            .await
            .expect("pair json");
        DeviceClient {
            http: reqwest::Client::new(),
            base: self.base.clone(),
            token: pair["token"].as_str().expect("auto-approved").to_owned(),
        }
    }

    async fn login(&self, name: &str, password: &str) -> UserClient {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let body: Value = http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": name, "password": password}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("login json");
        UserClient {
            http,
            base: self.base.clone(),
            csrf: body["csrf_token"].as_str().expect("csrf").to_owned(),
            name: name.to_owned(),
        }
    }

    async fn user(&self, name: &str, role: &str) -> UserClient {
        let password =
            std::fs::read_to_string(self.dir.path().join("admin-password.txt")).expect("admin");
        let admin = self.login("admin", password.trim()).await;
        let own = format!("{name}-secret-password");
        let resp = admin
            .post(
                "/api/v1/users",
                &json!({"name": name, "role": role, "password": own}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        self.login(name, &own).await
    }

    async fn stop(mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await.expect("stop");
        }
    }
}

async fn issue(kiosk: &DeviceClient, body: Value) -> Value {
    let resp = kiosk.post("/api/v1/tickets", &body).await;
    let status = resp.status();
    let body: Value = resp.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "issue: {body}");
    body
}

/// The demo office with a case type whose documents fill about 5 MB of paper: more than the
/// socket buffers between two loopback sockets hold, so a printer that stops reading makes
/// the write wait.
fn office_with_a_huge_ticket() -> Office {
    let mut office = demo_office();
    let pojazdy = office
        .case_types
        .iter_mut()
        .find(|c| c.code.as_str() == "pojazdy")
        .expect("pojazdy");
    pojazdy.documents = Texts::same(&"Zaświadczenie ".repeat(350_000));
    office
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ticket_prints_on_a_network_printer_with_its_phone_link() {
    let (addr, received) = reading_printer().await;
    let config = PrintConfig {
        printers: vec![printer("hall", "generic-80mm", tcp(&addr), &[])],
        footer: Some(Texts {
            pl: "Dziękujemy!".into(),
            uk: "Дякуємо!".into(),
            en: "Thank you!".into(),
        }),
        ..PrintConfig::default()
    };
    let app = PrintApp::spawn(demo_office(), quick(config)).await;
    let kiosk = app.kiosk("Kiosk parter").await;

    let issued = issue(&kiosk, json!({"case_type": "pojazdy", "lang": "uk"})).await;
    assert_eq!(issued["ticket"]["number"], "C001");
    assert_eq!(issued["print"]["status"], "printed", "{issued}");
    assert_eq!(issued["print"]["printer"], "hall");
    let url = issued["phone"]["url"].as_str().expect("phone url");
    let code = issued["phone"]["code"].as_str().expect("code");
    assert_eq!(url, app.url(&format!("/t/{code}")));
    assert!(!code.starts_with(&format!("{}.", issued["ticket"]["number"])));

    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = received.lock().expect("lock").clone();
    assert_eq!(got.len(), 1, "one connection per ticket");
    let bytes = &got[0];
    let profile = builtin_profile("generic-80mm").expect("profile");
    let text = decode_text(&profile, bytes);
    for expected in [
        "Міська управа – Бюро обслуговування клієнтів",
        "Реєстрація транспортних засобів",
        "C001",
        "Кількість осіб перед вами: 0",
        "Потрібні документи:",
        &format!("[QR: {url}]"),
        "Дякуємо!",
        "[cut]",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` missing from:\n{text}"
        );
    }

    // The phone page's API shows this ticket.
    let ticket: Value = app
        .anon
        .get(app.url(&format!("/api/v1/public/ticket/{code}")))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(ticket["number"], "C001");
    assert_eq!(ticket["state"], "waiting");
    assert_eq!(ticket["lang"], "uk");
    assert_eq!(ticket["case_type"], "Реєстрація транспортних засобів");
    assert_eq!(ticket["people_ahead"], 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failing_printers_never_fail_issuing_nor_hold_up_other_kiosks() {
    let refused = refusing_address().await;
    let hanging_up = hanging_up_printer().await;
    let never_reading = never_reading_printer().await;
    let paper_out = status_printer(DeviceStatus::PaperOut).await;
    let (healthy, received) = reading_printer().await;
    let config = PrintConfig {
        printers: vec![
            printer("refused", "generic-80mm", tcp(&refused), &["k-refused"]),
            printer(
                "hanging-up",
                "generic-80mm",
                tcp(&hanging_up),
                &["k-hanging-up"],
            ),
            printer(
                "never-reading",
                "generic-80mm",
                tcp(&never_reading),
                &["k-never-reading"],
            ),
            printer(
                "paper-out",
                "epson-tm-t88",
                tcp(&paper_out),
                &["k-paper-out"],
            ),
            printer("healthy", "star-escpos", tcp(&healthy), &["k-healthy"]),
        ],
        default_printer: Some("healthy".into()),
        ..PrintConfig::default()
    };
    // Long enough for every first attempt to end, so that each answer can say "failed" even
    // on a loaded machine, where rendering the 5 MB ticket takes seconds in a debug build;
    // `issuing_waits_for_printing_at_most_a_moment` tests the bound itself.
    let setup = PrintSetup {
        first_attempt_wait: Duration::from_secs(15),
        ..quick(config)
    };
    let app = PrintApp::spawn(office_with_a_huge_ticket(), setup).await;
    let manager = app.user("kierownik", "manager").await;
    // The two printers that take data get the 5 MB ticket, so that they stall or break
    // mid-ticket; the others fail before any ticket byte is sent.
    let cases = [
        ("k-refused", "dowody"),
        ("k-hanging-up", "pojazdy"),
        ("k-never-reading", "pojazdy"),
        ("k-paper-out", "dowody"),
    ];
    let mut failing = Vec::new();
    for (name, case_type) in cases {
        failing.push((app.kiosk(name).await, case_type));
    }
    let healthy_kiosk = app.kiosk("k-healthy").await;

    // Every kiosk issues at once; the healthy one is answered without waiting for the others.
    let started = Instant::now();
    let failing_answers = join_all(
        failing
            .iter()
            .map(|(k, ct)| issue(k, json!({"case_type": ct, "lang": "pl"}))),
    );
    let healthy_answer = async {
        let answer = issue(
            &healthy_kiosk,
            json!({"case_type": "meldunki", "lang": "en"}),
        )
        .await;
        (answer, started.elapsed())
    };
    let (answers, (healthy_answer, healthy_took)) = tokio::join!(failing_answers, healthy_answer);
    assert_eq!(
        healthy_answer["print"]["status"], "printed",
        "{healthy_answer}"
    );
    assert!(
        healthy_took < Duration::from_millis(1500),
        "the healthy kiosk waited {healthy_took:?}"
    );

    let mut numbers = vec![healthy_answer["ticket"]["number"].clone()];
    for (answer, (name, _)) in answers.iter().zip(cases) {
        assert_eq!(
            answer["print"]["status"], "failed",
            "{name}: {}",
            answer["print"]
        );
        let reason = answer["print"]["reason"].as_str().expect("a reason");
        let expected = match name {
            "k-refused" => "cannot connect to the printer",
            "k-hanging-up" => "",
            "k-never-reading" => "the printer",
            _ => "the printer reports paper out",
        };
        assert!(reason.starts_with(expected), "{name}: {reason}");
        assert!(answer["phone"]["url"].as_str().is_some(), "{answer}");
        numbers.push(answer["ticket"]["number"].clone());
    }

    // Every ticket stays issued.
    let tickets: Value = manager
        .get("/api/v1/tickets")
        .await
        .json()
        .await
        .expect("json");
    let issued: Vec<&Value> = tickets
        .as_array()
        .expect("list")
        .iter()
        .map(|t| &t["number"])
        .collect();
    for n in &numbers {
        assert!(issued.contains(&n), "{n} missing from {tickets}");
    }

    // The jobs are retried and end failed; the manager sees why.
    for answer in &answers {
        let job = answer["print"]["job"].as_u64().expect("a job");
        let mut last = Value::Null;
        for _ in 0..100 {
            last = manager
                .get(&format!("/api/v1/print-jobs/{job}"))
                .await
                .json()
                .await
                .expect("json");
            if last["state"] == "failed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(last["state"], "failed", "{last}");
        assert_eq!(last["attempts"], 3, "every attempt was made: {last}");
    }
    let printers: Value = manager
        .get("/api/v1/printers")
        .await
        .json()
        .await
        .expect("json");
    let state = |name: &str| {
        printers
            .as_array()
            .expect("list")
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("printer {name} in {printers}"))
    };
    assert_eq!(state("refused")["state"], "offline");
    assert_eq!(state("hanging-up")["state"], "error");
    assert_eq!(state("never-reading")["state"], "error");
    assert_eq!(state("paper-out")["state"], "paper_out");
    assert_eq!(state("healthy")["state"], "ok");
    assert_eq!(state("healthy")["default"], true);
    assert_eq!(state("refused")["kiosks"], json!(["k-refused"]));
    assert!(state("refused")["last_error"].as_str().is_some());
    assert_eq!(received.lock().expect("lock").len(), 1);

    // A clerk reprints the refused kiosk's ticket on the healthy printer.
    let clerk = app.user("anna", "clerk").await;
    let refused_number = answers[0]["ticket"]["number"].as_str().expect("number");
    let reprint: Value = clerk
        .ok(
            &format!("/api/v1/tickets/{refused_number}/reprint"),
            &json!({"printer": "healthy"}),
        )
        .await;
    assert_eq!(reprint["print"]["status"], "printed", "{reprint}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issuing_waits_for_printing_at_most_a_moment() {
    let never_reading = never_reading_printer().await;
    let config = PrintConfig {
        printers: vec![printer("stuck", "generic-80mm", tcp(&never_reading), &[])],
        ..PrintConfig::default()
    };
    let setup = PrintSetup {
        first_attempt_wait: Duration::from_millis(300),
        ..quick(config)
    };
    let app = PrintApp::spawn(office_with_a_huge_ticket(), setup).await;
    let kiosk = app.kiosk("Kiosk parter").await;
    let started = Instant::now();
    let issued = issue(&kiosk, json!({"case_type": "pojazdy", "lang": "pl"})).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "issuing took {took:?}");
    assert_eq!(issued["ticket"]["number"], "C001");
    assert_eq!(issued["print"]["status"], "pending", "{issued}");
    assert_eq!(issued["print"]["printer"], "stuck");

    // The kiosk asks how the job went: it is retried, then reported failed.
    let job = issued["print"]["job"].as_u64().expect("job");
    let mut seen = Vec::new();
    for _ in 0..150 {
        let state: Value = kiosk
            .get(&format!("/api/v1/print-jobs/{job}"))
            .await
            .json()
            .await
            .expect("json");
        let name = state["state"].as_str().unwrap_or_default().to_owned();
        if seen.last() != Some(&name) {
            seen.push(name.clone());
        }
        if name == "failed" {
            assert_eq!(state["attempts"], 3, "{state}");
            assert!(state["reason"].as_str().is_some(), "{state}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen.last().map(String::as_str), Some("failed"), "{seen:?}");
    assert!(seen.iter().any(|s| s == "waiting_to_retry"), "{seen:?}");
    let resp = kiosk.get("/api/v1/print-jobs/999999").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn a_clerk_reprints_on_the_tickets_printer_and_managers_see_the_printers() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let issued = kiosk.issue("dowody").await;
    assert_eq!(issued["print"]["status"], "printed", "{issued}");
    assert_eq!(issued["print"]["printer"], "virtual");

    let clerk = app.user("anna", "clerk").await;
    let reprint = clerk.ok("/api/v1/tickets/A001/reprint", &json!({})).await;
    assert_eq!(reprint["number"], "A001");
    assert_eq!(reprint["print"]["status"], "printed", "{reprint}");
    assert_eq!(reprint["print"]["printer"], "virtual");
    let resp = clerk.post("/api/v1/tickets/A009/reprint", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = clerk
        .post(
            "/api/v1/tickets/A001/reprint",
            &json!({"printer": "nowhere"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // The virtual printer saved both: raw bytes, text and a picture under <db dir>/prints/.
    let dir = app.dir.path().join("prints").join("virtual");
    let mut bins: Vec<_> = std::fs::read_dir(&dir)
        .expect("prints dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    bins.sort();
    assert_eq!(bins.len(), 2, "{bins:?}");
    for bin in &bins {
        let text = std::fs::read_to_string(bin.with_extension("txt")).expect("txt");
        assert!(text.contains("A001"), "{text}");
        assert!(text.contains("Dowody osobiste"), "{text}");
        assert!(bin.with_extension("png").exists());
    }

    let manager = app.user("kierownik", "manager").await;
    let printers: Value = manager
        .get("/api/v1/printers")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(printers.as_array().map(Vec::len), Some(1), "{printers}");
    assert_eq!(printers[0]["name"], "virtual");
    assert_eq!(printers[0]["state"], "ok");
    assert_eq!(printers[0]["default"], true);
    assert_eq!(printers[0]["queued"], 0);
    assert_eq!(
        clerk.get("/api/v1/printers").await.status(),
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

#[tokio::test]
async fn the_phone_link_shows_one_ticket_and_nothing_about_others() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let first = kiosk.issue("dowody").await;
    let resp = kiosk
        .post(
            "/api/v1/tickets",
            &json!({"case_type": "dowody", "lang": "uk", "priority": "ciaza"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let priority: Value = resp.json().await.expect("json");
    let normal = kiosk.issue("dowody").await;
    let code = normal["phone"]["code"].as_str().expect("code").to_owned();
    let public = |code: String| {
        let anon = app.anon.clone();
        let url = app.url(&format!("/api/v1/public/ticket/{code}"));
        async move {
            let resp = anon.get(url).send().await.expect("GET");
            let status = resp.status();
            let cache = resp
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap_or_default().to_owned());
            (status, resp.text().await.expect("body"), cache)
        }
    };

    let (status, body, cache) = public(code.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cache.as_deref(), Some("no-store"));
    let t: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(t["number"], "A003");
    assert_eq!(t["state"], "waiting");
    assert_eq!(t["lang"], "pl");
    assert_eq!(t["people_ahead"], 2);
    assert_eq!(t["counter"], Value::Null);
    // Nothing about the other tickets: not their numbers, not priority, not the category.
    for secret in ["A001", "A002", "priority", "ciaza", "ciąży", "Вагітна"] {
        assert!(!body.contains(secret), "`{secret}` in {body}");
    }
    let (_, body, _) = public(priority["phone"]["code"].as_str().expect("code").into()).await;
    let p: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(p["lang"], "uk");
    assert_eq!(p["people_ahead"], 0);
    for secret in ["priority", "ciaza", "Вагітна", "Kobieta"] {
        assert!(!body.contains(secret), "`{secret}` in {body}");
    }

    // Made-up and altered links are refused alike; the id alone is not enough.
    let id = normal["ticket"]["id"].as_u64().expect("id");
    let first_code = first["phone"]["code"].as_str().expect("code");
    let first_mac = first_code.split_once('.').expect("mac").1;
    for bad in [
        id.to_string(),
        format!("{id}.{first_mac}"),
        format!("{id}.AAAAAAAAAAAAAAAAAAAAAA"),
        "A003".to_owned(),
    ] {
        let (status, body, _) = public(bad.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}: {body}");
    }

    // The phone page and the QR code for the kiosk's screen.
    let page = app
        .anon
        .get(app.url(&format!("/t/{code}")))
        .send()
        .await
        .expect("GET page");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    let qr = app
        .anon
        .get(app.url(&format!("/api/v1/public/ticket/{code}/qr.svg")))
        .send()
        .await
        .expect("GET qr");
    assert_eq!(qr.status(), StatusCode::OK);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.expect("svg").starts_with("<svg"));

    // Called: the counter in the ticket's language; then done.
    let clerk = app.clerk_at("anna", 1).await;
    for _ in 0..3 {
        let called = clerk.ok("/api/v1/counters/1/call-next", &json!({})).await;
        if called["ticket"]["number"] == "A003" {
            break;
        }
        clerk.ok("/api/v1/counters/1/start", &json!({})).await;
        clerk.ok("/api/v1/counters/1/finish", &json!({})).await;
    }
    let (_, body, _) = public(code.clone()).await;
    let t: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(t["state"], "called", "{t}");
    assert_eq!(t["counter"]["id"], 1);
    assert_eq!(t["counter"]["name"], "Stanowisko 1");
    assert_eq!(t["counter"]["location"], "Parter, sala A");
    assert_eq!(t["calls"], 1);
    assert_eq!(t["people_ahead"], Value::Null);
    clerk.ok("/api/v1/counters/1/start", &json!({})).await;
    clerk.ok("/api/v1/counters/1/finish", &json!({})).await;
    let (_, body, _) = public(code).await;
    let t: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(t["state"], "done", "{t}");
    assert_eq!(t["counter"], Value::Null);
    app.stop().await;
}
