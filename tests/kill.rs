//! The kill drill through the real binary: kiosks issue and clerks call over HTTP while the
//! process is SIGKILLed at random moments, ten times. After each restart every ticket whose
//! response arrived is there, in the state the last response about it said (or one step on,
//! if a clerk's request was in flight at the kill), and no number repeats or skips.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::Server;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// What the responses said: number → (version, state, issued case type).
#[derive(Default)]
struct Ledger {
    tickets: BTreeMap<String, (i64, String, String)>,
    /// Counters whose clerk had a request in flight.
    inflight: BTreeSet<u32>,
    /// The ticket each counter's last acknowledged response was about.
    last: BTreeMap<u32, String>,
    acked: usize,
}

impl Ledger {
    fn record(&mut self, ticket: &Value, version: i64) {
        let (Some(n), Some(state), Some(ct)) = (
            ticket["number"].as_str(),
            ticket["state"].as_str(),
            ticket["issued_case_type"].as_str(),
        ) else {
            return;
        };
        self.acked += 1;
        let entry =
            self.tickets
                .entry(n.to_owned())
                .or_insert((i64::MIN, String::new(), ct.to_owned()));
        if version > entry.0 {
            *entry = (version, state.to_owned(), ct.to_owned());
        }
    }
}

/// A small deterministic generator for kill times (the seed is printed to replay a run).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

struct Clerk {
    http: Client,
    csrf: String,
    counter: u32,
}

async fn login(http: &Client, base: &str, name: &str, password: &str) -> String {
    let resp = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::OK, "login {name}");
    let body: Value = resp.json().await.expect("json");
    body["csrf_token"].as_str().expect("csrf").to_owned()
}

fn cookie_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

async fn clerk_post(clerk: &Clerk, base: &str, action: &str) -> Option<(StatusCode, Value)> {
    let resp = clerk
        .http
        .post(format!("{base}/api/v1/counters/{}/{action}", clerk.counter))
        .header("X-CSRF-Token", &clerk.csrf)
        .json(&json!({}))
        .send()
        .await
        .ok()?;
    let status = resp.status();
    let body = resp.json().await.ok()?;
    Some((status, body))
}

/// A clerk working through tickets until the server dies.
async fn clerk_loop(clerk: Clerk, base: String, ledger: Arc<Mutex<Ledger>>) {
    let mut next = "call-next";
    loop {
        ledger
            .lock()
            .expect("ledger")
            .inflight
            .insert(clerk.counter);
        let answer = clerk_post(&clerk, &base, next).await;
        let Some((status, body)) = answer else {
            return; // the server is gone; the request stays "in flight"
        };
        ledger
            .lock()
            .expect("ledger")
            .inflight
            .remove(&clerk.counter);
        if status == StatusCode::OK {
            let version = body["version"].as_i64().expect("version");
            let mut l = ledger.lock().expect("ledger");
            l.record(&body["ticket"], version);
            if let Some(n) = body["ticket"]["number"].as_str() {
                l.last.insert(clerk.counter, n.to_owned());
            }
            drop(l);
            next = match next {
                "call-next" => "start",
                "start" => "finish",
                _ => "call-next",
            };
        } else {
            // Find out where the counter stands (a previous round may have left a ticket).
            let current = body["message"].as_str().unwrap_or_default().to_owned();
            next = if current.contains("still has ticket") {
                "start"
            } else if current.contains("is serving") || current.contains("cannot start") {
                "finish"
            } else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                "call-next"
            };
        }
    }
}

async fn kiosk_loop(
    http: Client,
    token: String,
    base: String,
    ledger: Arc<Mutex<Ledger>>,
    i: usize,
) {
    let types = ["dowody", "meldunki", "pojazdy"];
    let mut n = i;
    loop {
        n += 1;
        let resp = http
            .post(format!("{base}/api/v1/tickets"))
            .bearer_auth(&token)
            .json(&json!({"case_type": types[n % types.len()], "lang": "pl"}))
            .send()
            .await;
        let Ok(resp) = resp else { return };
        if resp.status() != StatusCode::CREATED {
            continue;
        }
        let Ok(body) = resp.json::<Value>().await else {
            return;
        };
        let version = body["version"].as_i64().expect("version");
        ledger
            .lock()
            .expect("ledger")
            .record(&body["ticket"], version);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_ticket() {
    let seed = std::env::var("KOLEJKA_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 | 1)
                .unwrap_or(88172645463325252)
        });
    println!("kill drill seed {seed} (KOLEJKA_KILL_SEED={seed} replays the kill times)");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("kolejka.db");
    let mut server = Server::start(&[], &db);
    let base = server.url("");
    let admin_password = std::fs::read_to_string(dir.path().join("admin-password.txt"))
        .expect("admin password file")
        .trim()
        .to_owned();

    // Set up: two clerks and three kiosks, through the real API.
    let admin = cookie_client();
    let admin_csrf = login(&admin, &base, "admin", &admin_password).await;
    let mut clerks = Vec::new();
    for (name, counter) in [("anna", 1u32), ("ewa", 2)] {
        let password = format!("{name}-long-password");
        let resp = admin
            .post(format!("{base}/api/v1/users"))
            .header("X-CSRF-Token", &admin_csrf)
            .json(&json!({"name": name, "role": "clerk", "password": password}))
            .send()
            .await
            .expect("create user");
        assert_eq!(resp.status(), StatusCode::CREATED);
        let http = cookie_client();
        let csrf = login(&http, &base, name, &password).await;
        let clerk = Clerk {
            http,
            csrf,
            counter,
        };
        let (status, body) = clerk_post(&clerk, &base, "open").await.expect("open");
        assert_eq!(status, StatusCode::OK, "{body}");
        clerks.push(clerk);
    }
    let mut kiosk_tokens = Vec::new();
    for _ in 0..3 {
        let pair: Value = Client::new()
            .post(format!("{base}/api/v1/devices/pair"))
            .json(&json!({"kind": "kiosk"}))
            .send()
            .await
            .expect("pair")
            .json()
            .await
            .expect("json");
        let token = match pair["token"].as_str() {
            Some(t) => t.to_owned(),
            None => {
                let resp = admin
                    .post(format!("{base}/api/v1/devices/approve"))
                    .header("X-CSRF-Token", &admin_csrf)
                    .json(&json!({"pairing_code": pair["pairing_code"], "name": "kiosk"}))
                    .send()
                    .await
                    .expect("approve");
                assert!(resp.status().is_success());
                let poll: Value = Client::new()
                    .get(format!("{base}/api/v1/devices/pair/{}", pair["device_id"]))
                    .bearer_auth(pair["poll_token"].as_str().expect("poll token"))
                    .send()
                    .await
                    .expect("poll")
                    .json()
                    .await
                    .expect("json");
                poll["token"].as_str().expect("token").to_owned()
            }
        };
        kiosk_tokens.push(token);
    }

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for round in 0..10 {
        let base = server.url("");
        let mut tasks = Vec::new();
        for (i, token) in kiosk_tokens.iter().enumerate() {
            tasks.push(tokio::spawn(kiosk_loop(
                Client::new(),
                token.clone(),
                base.clone(),
                ledger.clone(),
                i + round,
            )));
        }
        for clerk in &clerks {
            let c = Clerk {
                http: clerk.http.clone(),
                csrf: clerk.csrf.clone(),
                counter: clerk.counter,
            };
            tasks.push(tokio::spawn(clerk_loop(c, base.clone(), ledger.clone())));
        }
        tokio::time::sleep(Duration::from_millis(rng.between(150, 600))).await;
        server.sigkill();
        for t in tasks {
            let _ = t.await;
        }

        server = Server::start(&[], &db);
        let base = server.url("");
        let admin = cookie_client();
        login(&admin, &base, "admin", &admin_password).await;
        let list: Value = admin
            .get(format!("{base}/api/v1/tickets"))
            .send()
            .await
            .expect("tickets")
            .json()
            .await
            .expect("json");
        let list = list.as_array().expect("array");
        let mut ledger = ledger.lock().expect("ledger");
        let inflight = std::mem::take(&mut ledger.inflight);

        // No number twice; per case type the numbers are 1..N without a gap.
        let numbers: BTreeSet<&str> = list.iter().filter_map(|t| t["number"].as_str()).collect();
        assert_eq!(numbers.len(), list.len(), "round {round}: a number repeats");
        let mut per_type: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for t in list {
            let n = t["number"].as_str().expect("number");
            let seq: u32 = n
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .parse()
                .expect("seq");
            per_type
                .entry(t["issued_case_type"].as_str().expect("ct"))
                .or_default()
                .push(seq);
        }
        for (ct, mut seqs) in per_type {
            seqs.sort_unstable();
            let expected: Vec<u32> = (1..=seqs.len() as u32).collect();
            assert_eq!(
                seqs, expected,
                "round {round}: numbering of {ct} has a gap or repeat"
            );
        }
        // Every acknowledged ticket is there, in the state its last response said. A clerk's
        // request in flight at the kill may have been committed without its answer arriving:
        // it could have moved only that clerk's last ticket (start, finish) or the ticket now
        // held at its counter (call-next), so only those may be one step further on.
        let by_number: BTreeMap<&str, &Value> = list
            .iter()
            .filter_map(|t| Some((t["number"].as_str()?, t)))
            .collect();
        let mut may_have_moved: BTreeSet<String> = BTreeSet::new();
        for c in &inflight {
            if let Some(n) = ledger.last.get(c) {
                may_have_moved.insert(n.clone());
            }
            for t in list {
                let held = t["state"] == "called" || t["state"] == "serving";
                if held && t["counter"].as_u64() == Some(u64::from(*c)) {
                    may_have_moved.insert(t["number"].as_str().expect("number").to_owned());
                }
            }
        }
        let mut exempt = 0;
        let mut settled = Vec::new();
        for (number, (_, state, ct)) in &ledger.tickets {
            let t = by_number
                .get(number.as_str())
                .unwrap_or_else(|| panic!("round {round}: acknowledged ticket {number} lost"));
            assert_eq!(
                t["issued_case_type"],
                ct.as_str(),
                "round {round}: {number}"
            );
            if t["state"] != state.as_str() {
                assert!(
                    may_have_moved.contains(number),
                    "round {round}: {number} is {} but the response said {state}",
                    t["state"]
                );
                exempt += 1;
                settled.push((
                    number.clone(),
                    t["state"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        // The committed step is now known; later rounds compare with it.
        for (number, state) in settled {
            if let Some(entry) = ledger.tickets.get_mut(&number) {
                entry.1 = state;
            }
        }
        assert!(
            exempt <= 2 * inflight.len(),
            "round {round}: {exempt} tickets moved unacknowledged"
        );
        println!(
            "round {round}: {} tickets, {} acknowledged responses so far, in flight at the kill: {inflight:?}",
            list.len(),
            ledger.acked
        );
    }
    let final_acked = ledger.lock().expect("ledger").acked;
    assert!(
        final_acked > 50,
        "the drill acknowledged only {final_acked} responses"
    );
    server.sigterm();
    assert!(server.wait_exit(Duration::from_secs(10)).success());
}
