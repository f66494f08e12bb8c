//! Crash test of the store: a child process issues tickets through the real commit pipeline and
//! is killed with SIGKILL at random moments. After every kill the database must hold every
//! ticket the child was told was committed, and numbering must go on with no repeat and no gap.
//!
//! The child is this test binary run again with `--exact child_writer` and the database path in
//! `KOLEJKA_CRASH_CHILD_DB`; without that variable `child_writer` does nothing. Set
//! `KOLEJKA_CRASH_SEED` to replay the kill times of a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jiff::tz::TimeZone;
use kolejka::clock::SystemClock;
use kolejka::engine::{
    Actor, CaseType, CaseTypeCode, Command, Counter, CounterId, EndOfDay, EventKind, Lang, Office,
    Prefix, PriorityPolicy, Texts, TicketId, TicketNumber, WeekHours,
};
use kolejka::store::{Queue, Store};

const CHILD_ENV: &str = "KOLEJKA_CRASH_CHILD_DB";
const SEED_ENV: &str = "KOLEJKA_CRASH_SEED";
/// Rounds killed while writing (counted from the child's `READY`), and rounds killed at once
/// after the start (during open, migrations or restore).
const WRITING_ROUNDS: usize = 8;
const STARTUP_ROUNDS: usize = 2;
const WRITER_THREADS: usize = 4;
const CASE_TYPES: [(&str, &str); 2] = [("dowody", "A"), ("pojazdy", "C")];

/// An office that issues at any hour, so the test works at night too.
fn office() -> Office {
    let code = |s: &str| CaseTypeCode::parse(s).unwrap();
    Office {
        name: Texts::same("Urząd testowy"),
        time_zone: TimeZone::get("Europe/Warsaw").unwrap(),
        case_types: CASE_TYPES
            .iter()
            .map(|(c, p)| CaseType {
                code: code(c),
                prefix: Prefix::parse(p).unwrap(),
                name: Texts::same(c),
                documents: Texts::same("dowód osobisty"),
                daily_cap: None,
                hours: None,
                stop_issuing_before_close_min: 0,
                target_wait_min: 20,
                default_service_min: 10,
            })
            .collect(),
        counters: vec![Counter {
            id: CounterId::new(1).unwrap(),
            name: Texts::same("Stanowisko 1"),
            location: Texts::same("parter"),
            serves: CASE_TYPES.iter().map(|(c, _)| (code(c), 1)).collect(),
        }],
        priority_categories: Vec::new(),
        priority_policy: PriorityPolicy::Strict,
        hours: WeekHours::default(),
        closed_dates: BTreeSet::new(),
        max_calls: 3,
        end_of_day: EndOfDay::Cancel,
        issue_outside_hours: true,
    }
}

/// A ticket the child reported as committed: (number, case type, local day).
type Acked = (String, String, String);

/// The child: issues tickets from several threads until it is killed, printing one line per
/// acknowledged ticket (`ACK id number case_type day`) only after `submit_blocking` returned.
#[test]
fn child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let office = Arc::new(office());
    let tz = office.time_zone.clone();
    let queue = Queue::start(Store::open(&path).unwrap(), office, Arc::new(SystemClock)).unwrap();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "READY").unwrap();
        out.flush().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    std::thread::scope(|s| {
        for i in 0..WRITER_THREADS {
            let queue = queue.clone();
            let tz = tz.clone();
            s.spawn(move || {
                let (ct, _) = CASE_TYPES[i % CASE_TYPES.len()];
                let cmd = Command::IssueTicket {
                    case_type: CaseTypeCode::parse(ct).unwrap(),
                    priority: None,
                    lang: Lang::Pl,
                };
                let actor = Actor::Device(format!("kiosk-{i}"));
                while Instant::now() < deadline {
                    let events = queue.submit_blocking(cmd.clone(), actor.clone()).unwrap();
                    for e in events {
                        if let EventKind::TicketIssued {
                            ticket,
                            number,
                            case_type,
                            ..
                        } = &e.event.kind
                        {
                            let day = e.event.at.to_zoned(tz.clone()).date();
                            let mut out = std::io::stdout().lock();
                            writeln!(out, "ACK {} {number} {case_type} {day}", ticket.0).unwrap();
                            out.flush().unwrap();
                        }
                    }
                }
            });
        }
    });
}

#[test]
fn acknowledged_tickets_survive_sigkill_at_random_moments() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let seed = std::env::var(SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            t.as_nanos() as u64 ^ u64::from(std::process::id())
        });
    eprintln!("crash test seed: {seed} (set {SEED_ENV} to replay)");
    let mut rng = XorShift(seed | 1);

    let mut acked: BTreeMap<u64, Acked> = BTreeMap::new();
    let mut rounds_with_acks = 0;
    let rounds = WRITING_ROUNDS + STARTUP_ROUNDS;
    for round in 0..rounds {
        // Every fifth round dies while starting; the others while writing.
        let kill = if round % 5 == 4 {
            Kill::FromSpawn(Duration::from_millis(rng.next() % 30))
        } else {
            Kill::FromReady(Duration::from_millis(50 + rng.next() % 351))
        };
        let before = max_seqs(&path);
        let lines = run_child_and_kill(&path, kill);
        let mut new = 0;
        for line in lines.iter().filter_map(|l| l.strip_prefix("ACK ")) {
            let mut parts = line.split(' ');
            let mut next = || parts.next().expect("short ACK line").to_owned();
            let id: u64 = next().parse().unwrap();
            let ticket = (next(), next(), next());
            if let Some(old) = acked.insert(id, ticket.clone()) {
                panic!("ticket id {id} acknowledged twice: {old:?} and {ticket:?}");
            }
            // After a crash numbering goes on above everything committed before it.
            let seq = TicketNumber::parse(&ticket.0).unwrap().seq();
            if let Some(&prev_max) = before.get(&(ticket.2.clone(), ticket.1.clone())) {
                assert!(
                    i64::from(seq) > prev_max,
                    "{ticket:?} reuses a number committed before the crash (max {prev_max})"
                );
            }
            new += 1;
        }
        if new > 0 {
            rounds_with_acks += 1;
        }
        eprintln!("round {round}: killed {kill:?}, {new} tickets acknowledged");
        check_database(&path, &acked);
    }
    assert!(
        rounds_with_acks >= WRITING_ROUNDS / 2,
        "the child acknowledged tickets in only {rounds_with_acks} of {rounds} rounds"
    );

    // The real start path restores the day and numbering goes on from N + 1.
    let office = Arc::new(office());
    let queue = Queue::start(Store::open(&path).unwrap(), office, Arc::new(SystemClock)).unwrap();
    for (ct, _) in CASE_TYPES {
        let code = CaseTypeCode::parse(ct).unwrap();
        let last = queue.read(|e, _| e.last_seq(&code));
        let events = queue
            .submit_blocking(
                Command::IssueTicket {
                    case_type: code,
                    priority: None,
                    lang: Lang::Pl,
                },
                Actor::System,
            )
            .unwrap();
        match &events.first().unwrap().event.kind {
            EventKind::TicketIssued { number, .. } => assert_eq!(number.seq(), last + 1),
            other => panic!("{other:?}"),
        }
    }
    queue.shutdown().unwrap();
}

/// When to kill the child.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// This long after it was spawned, whatever it is doing.
    FromSpawn(Duration),
    /// This long after it said `READY` (the store is open and writing has begun).
    FromReady(Duration),
}

/// Runs the child writer on `path`, kills it with SIGKILL, and returns its stdout.
fn run_child_and_kill(path: &Path, kill: Kill) -> Vec<String> {
    let mut child = Process::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // libtest may have printed `test child_writer ... ` on the same line.
            if line.ends_with("READY") {
                let _ = tx.send(());
            }
            lines.push(line);
        }
        lines
    });
    match kill {
        Kill::FromSpawn(after) => std::thread::sleep(after),
        Kill::FromReady(after) => {
            if rx.recv_timeout(Duration::from_secs(20)).is_err() {
                let _ = child.kill();
                panic!("the child writer never became ready; see its output above");
            }
            std::thread::sleep(after);
        }
    }
    if let Some(status) = child.try_wait().unwrap() {
        panic!("the child writer stopped by itself ({status}); see its output above");
    }
    // On Unix, `kill` sends SIGKILL: no destructor, no flush, no clean close.
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap()
}

/// For each (day, case type): the highest number seq in the tickets table.
fn max_seqs(path: &Path) -> BTreeMap<(String, String), i64> {
    if !path.exists() {
        return BTreeMap::new();
    }
    let conn = rusqlite::Connection::open(path).unwrap();
    let has_table: bool = conn
        .query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'tickets'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if !has_table {
        return BTreeMap::new();
    }
    let mut stmt = conn
        .prepare(
            "SELECT day, issued_case_type, MAX(seq) FROM tickets GROUP BY day, issued_case_type",
        )
        .unwrap();
    stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Reopens the database after a kill and checks it against what the child acknowledged.
fn check_database(path: &Path, acked: &BTreeMap<u64, Acked>) {
    let office = Arc::new(office());
    let store = Store::open(path).expect("the database opens after a crash");
    let (engine, version) = store
        .restore(office)
        .expect("the day restores after a crash");
    assert_eq!(engine.check_invariants(), Ok(()));
    drop(store);

    let conn = rusqlite::Connection::open(path).unwrap();
    let rows: BTreeMap<u64, (Acked, u32)> = conn
        .prepare("SELECT id, number, issued_case_type, day, seq FROM tickets")
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                ((r.get(1)?, r.get(2)?, r.get(3)?), r.get(4)?),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();

    // Every acknowledged ticket is there, unchanged, in the table and in the restored day.
    for (id, ticket) in acked {
        let (row, _) = rows
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged ticket {id} {ticket:?} lost"));
        assert_eq!(row, ticket, "ticket {id} changed");
        if engine.day().map(|d| d.to_string()).as_deref() == Some(ticket.2.as_str()) {
            let t = engine
                .ticket(TicketId(*id))
                .expect("ticket missing from the day");
            assert_eq!(t.number.to_string(), ticket.0);
            assert_eq!(t.issued_case_type.as_str(), ticket.1);
        }
    }

    // Per day and case type the numbers are exactly 1..=N: no repeat, no gap.
    let mut seqs: BTreeMap<(&str, &str), Vec<u32>> = BTreeMap::new();
    for ((_, case_type, day), seq) in rows.values() {
        seqs.entry((day, case_type)).or_default().push(*seq);
    }
    for ((day, case_type), mut s) in seqs {
        s.sort_unstable();
        let n = s.len() as u32;
        assert_eq!(
            s,
            (1..=n).collect::<Vec<_>>(),
            "numbers of {case_type} on {day} have a gap or a repeat"
        );
        if engine.day().map(|d| d.to_string()).as_deref() == Some(day) {
            let code = CaseTypeCode::parse(case_type).unwrap();
            assert_eq!(engine.last_seq(&code), n, "the restored day's numbering");
        }
    }

    // The two tables were written together: one issuing event per ticket row, and the log's
    // last id is the restored version.
    let (issued, last): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM events WHERE kind = 'ticket_issued'), \
                    (SELECT COALESCE(MAX(id), 0) FROM events)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(issued as usize, rows.len());
    assert_eq!(last, version);
}

/// A small xorshift generator: random kill times without another dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}
