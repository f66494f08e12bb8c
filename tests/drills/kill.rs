//! The kill drill under the benchmark's load: kiosks issuing as fast as they can, clerks
//! calling at a steady pace and hall screens watching, while the process is SIGKILLed at
//! random moments. After each restart: every ticket whose response arrived is there, in the
//! state the last response said (or one step on, for a clerk whose request was in flight),
//! numbers neither repeat nor skip, and every call a screen showed is in the log (nothing is
//! published before it is committed).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::watch;

use crate::bench::client::{self, Ack, LoopReport};
use crate::support::{admin, heavy, restart, start_with_printers};

const ROUNDS: usize = 5;
const KIOSKS: usize = 8;
const CLERKS: u32 = 4;
const SCREENS: usize = 100;

/// A small deterministic generator for kill times (the seed is printed to replay a run).
struct Rng(u64);
impl Rng {
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo)
    }
}

/// What the responses said: number → (version, state, issued case type).
#[derive(Default)]
struct Ledger {
    tickets: BTreeMap<String, (i64, String, String)>,
    /// The ticket each counter's last acknowledged response was about.
    last: BTreeMap<u32, String>,
    acked: usize,
}

impl Ledger {
    fn record(&mut self, ack: &Ack) {
        self.acked += 1;
        let entry = self.tickets.entry(ack.number.clone()).or_insert((
            i64::MIN,
            String::new(),
            ack.issued_case_type.clone(),
        ));
        if ack.version > entry.0 {
            *entry = (ack.version, ack.state.clone(), ack.issued_case_type.clone());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_the_benchmark_load_loses_nothing_acknowledged_or_shown() {
    let _heavy = heavy().await;
    let seed = std::env::var("KOLEJKA_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(88172645463325252, |d| d.as_nanos() as u64 | 1)
        });
    println!("kill drill seed {seed} (KOLEJKA_KILL_SEED={seed} replays the kill times)");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start_with_printers(dir.path(), KIOSKS).await;
    let admin = admin(&server).await;
    let mut clerks = Vec::new();
    for counter in 1..=CLERKS {
        clerks.push((
            counter,
            admin
                .clerk_at(&format!("clerk{counter}"), counter)
                .await
                .expect("clerk"),
        ));
    }
    let kiosks = client::pair_many(&server.base(), "kiosk", KIOSKS)
        .await
        .expect("kiosks");
    let screen = client::pair(
        &server.base(),
        "screen",
        std::net::Ipv4Addr::new(127, 0, 0, 9),
    )
    .await
    .expect("screen");

    let mut ledger = Ledger::default();
    let mut shown: BTreeSet<String> = BTreeSet::new();
    for round in 0..ROUNDS {
        let base = server.base();
        // The cookie jar is per address: point the clerks at the new port.
        let clerks_now: Vec<_> = clerks
            .iter()
            .map(|(c, u)| {
                let mut u = u.clone();
                u.base = base.clone();
                (*c, u)
            })
            .collect();
        let sockets = client::screens(&server.ws_url(), &screen, SCREENS, 16)
            .await
            .expect("screens");
        let (stop, stopping) = watch::channel(false);
        let watchers: Vec<_> = sockets
            .into_iter()
            .map(|ws| tokio::spawn(client::watch_screen(ws, stopping.clone())))
            .collect();
        // Until the kill: the loops end when the server goes away.
        let until = Instant::now() + Duration::from_secs(60);
        let kiosk_tasks: Vec<_> = kiosks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                tokio::spawn(client::kiosk(
                    base.clone(),
                    t.clone(),
                    i + 100 * round,
                    until,
                ))
            })
            .collect();
        let clerk_tasks: Vec<_> = clerks_now
            .iter()
            .map(|(c, u)| {
                let offset = Duration::from_millis(u64::from(*c) * 7);
                let task = client::clerk(u.clone(), *c, Duration::from_millis(30), offset, until);
                (*c, tokio::spawn(task))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(rng.between(300, 900))).await;
        server.kill();

        for t in kiosk_tasks {
            let report = t.await.expect("kiosk task");
            assert!(report.cut_off, "a kiosk stopped before the kill");
            for ack in &report.acks {
                ledger.record(ack);
            }
        }
        let mut inflight = BTreeSet::new();
        for (counter, t) in clerk_tasks {
            let report: LoopReport = t.await.expect("clerk task");
            if report.cut_off {
                inflight.insert(counter);
            }
            for ack in &report.acks {
                ledger.record(ack);
                ledger.last.insert(counter, ack.number.clone());
            }
        }
        let _ = stop.send(true);
        for w in watchers {
            let (_, log) = w.await.expect("screen task");
            shown.extend(log.calls.into_iter().map(|(n, _)| n));
        }

        server = restart(dir.path());
        let list = match crate::support::admin(&server)
            .await
            .get("/api/v1/tickets")
            .await
            .expect("tickets")
        {
            (s, Value::Array(list)) if s.is_success() => list,
            other => panic!("tickets: {other:?}"),
        };
        check(round, &list, &mut ledger, &inflight, &shown);
        println!(
            "round {round}: {} tickets, {} acknowledged responses so far, {} calls shown, in flight at the kill: {inflight:?}",
            list.len(),
            ledger.acked,
            shown.len()
        );
    }
    // Few on a busy machine, but enough to mean something.
    assert!(
        ledger.acked > 50,
        "the drill acknowledged only {} responses",
        ledger.acked
    );
    assert!(!shown.is_empty(), "no screen saw a call");
    assert!(server.panics().is_empty(), "{:?}", server.panics());
    assert!(server.stop(Duration::from_secs(10)), "clean stop");
}

/// The checks after a restart (see the module comment).
fn check(
    round: usize,
    list: &[Value],
    ledger: &mut Ledger,
    inflight: &BTreeSet<u32>,
    shown: &BTreeSet<String>,
) {
    let by_number: BTreeMap<&str, &Value> = list
        .iter()
        .filter_map(|t| Some((t["number"].as_str()?, t)))
        .collect();
    assert_eq!(
        by_number.len(),
        list.len(),
        "round {round}: a number repeats"
    );
    let mut per_type: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for t in list {
        let n = t["number"].as_str().expect("number");
        let seq: u32 = n
            .trim_start_matches(|c: char| c.is_ascii_alphabetic())
            .parse()
            .expect("seq");
        per_type
            .entry(t["issued_case_type"].as_str().expect("case type"))
            .or_default()
            .push(seq);
    }
    for (ct, mut seqs) in per_type {
        seqs.sort_unstable();
        let expected: Vec<u32> = (1..=seqs.len() as u32).collect();
        assert_eq!(seqs, expected, "round {round}: numbering of {ct} has a gap");
    }
    // Every call a screen showed was committed: the ticket is there and was called.
    for number in shown {
        let t = by_number
            .get(number.as_str())
            .unwrap_or_else(|| panic!("round {round}: screens showed {number}, which is lost"));
        assert!(
            !t["called_at"].is_null(),
            "round {round}: screens showed a call of {number}, but it was never called: {t}"
        );
    }
    // A clerk's request in flight at the kill may have been committed without its answer:
    // only that clerk's last ticket and the ticket now held at its counter may be further on.
    let mut may_have_moved = BTreeSet::new();
    for c in inflight {
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
                "round {round}: {number} is {} but the last response said {state}",
                t["state"]
            );
            settled.push((number.clone(), t["state"].as_str().unwrap_or("").to_owned()));
        }
    }
    assert!(
        settled.len() <= 2 * inflight.len(),
        "round {round}: {} tickets moved without an answer",
        settled.len()
    );
    // What was committed without an answer is known now; later rounds compare with it.
    for (number, state) in settled {
        if let Some(entry) = ledger.tickets.get_mut(&number) {
            entry.1 = state;
        }
    }
}
