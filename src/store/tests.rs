//! Tests of the store and the commit pipeline against a real SQLite file.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::engine::{
    Actor, CaseTypeCode, Command, CounterId, Engine, EventKind, Lang, Office, PriorityCode, Ticket,
    TicketNumber, TicketState, TransferTarget,
};

// ---- helpers ----

fn warsaw(y: i16, m: i8, d: i8, h: i8, min: i8, s: i8) -> Timestamp {
    date(y, m, d)
        .at(h, min, s, 0)
        .in_tz("Europe/Warsaw")
        .unwrap()
        .timestamp()
}

/// A Wednesday morning, inside the sample office's hours.
fn wednesday_morning() -> Timestamp {
    warsaw(2025, 1, 15, 10, 0, 0)
}

fn office() -> Arc<Office> {
    Arc::new(Office::sample())
}

fn office_any_hour() -> Arc<Office> {
    let mut o = Office::sample();
    o.issue_outside_hours = true;
    Arc::new(o)
}

fn code(s: &str) -> CaseTypeCode {
    CaseTypeCode::parse(s).unwrap()
}

fn counter(n: u32) -> CounterId {
    CounterId::new(n).unwrap()
}

fn kiosk() -> Actor {
    Actor::Device("kiosk-1".into())
}

fn clerk(name: &str) -> Actor {
    Actor::User(name.into())
}

fn issue(ct: &str) -> Command {
    Command::IssueTicket {
        case_type: code(ct),
        priority: None,
        lang: Lang::Pl,
    }
}

fn open_counter(n: u32, who: &str) -> (Command, Actor) {
    (
        Command::OpenCounter {
            counter: counter(n),
            operator: who.into(),
        },
        clerk(who),
    )
}

fn start(path: &Path, office: Arc<Office>, clock: Arc<ManualClock>) -> Queue {
    Queue::start(Store::open(path).unwrap(), office, clock).unwrap()
}

/// Issues a ticket and returns its number.
fn issue_ok(q: &Queue, ct: &str) -> TicketNumber {
    let events = q.submit_blocking(issue(ct), kiosk()).unwrap();
    match &events.first().unwrap().event.kind {
        EventKind::TicketIssued { number, .. } => number.clone(),
        other => panic!("expected a ticket, got {other:?}"),
    }
}

fn ok(q: &Queue, (cmd, actor): (Command, Actor)) -> Vec<StoredEvent> {
    q.submit_blocking(cmd.clone(), actor)
        .unwrap_or_else(|e| panic!("{cmd:?} refused: {e}"))
}

/// A clerk's command at their counter, which must succeed.
fn at(q: &Queue, n: u32, who: &str, cmd: impl FnOnce(CounterId) -> Command) -> Vec<StoredEvent> {
    ok(q, (cmd(counter(n)), clerk(who)))
}

/// Everything observable about an engine, for comparing a restored one with the original.
#[derive(Debug, PartialEq)]
struct Snapshot {
    day: Option<Date>,
    tickets: Vec<Ticket>,
    counters: Vec<crate::engine::CounterState>,
    next_ticket_id: u64,
    per_case_type: Vec<(String, u32, u32, Option<u32>, bool, u64)>,
}

fn snapshot(e: &Engine) -> Snapshot {
    Snapshot {
        day: e.day(),
        tickets: e.tickets().cloned().collect(),
        counters: e.counters().cloned().collect(),
        next_ticket_id: e.next_ticket_id().0,
        per_case_type: e
            .office()
            .case_types
            .iter()
            .map(|ct| {
                (
                    ct.code.to_string(),
                    e.last_seq(&ct.code),
                    e.issued_today(&ct.code),
                    e.daily_cap(&ct.code),
                    e.issuing_stopped(&ct.code),
                    e.mean_service_secs(&ct.code).to_bits(),
                )
            })
            .collect(),
    }
}

/// The tickets table as (id → (number, case_type, state, counter, calls)).
type Row = (String, String, String, Option<i64>, i64);

fn ticket_rows(path: &Path) -> BTreeMap<u64, Row> {
    let store = Store::open(path).unwrap();
    let mut stmt = store
        .conn_for_test()
        .prepare("SELECT id, number, case_type, state, counter, calls FROM tickets")
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn row_of(t: &Ticket) -> Row {
    (
        t.number.to_string(),
        t.case_type.to_string(),
        t.state.as_str().to_owned(),
        t.counter.map(|c| i64::from(c.get())),
        i64::from(t.calls),
    )
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---- tests ----

/// How many migrations the program knows.
const MIGRATIONS_KNOWN: i64 = sqlite::MIGRATIONS.len() as i64;

#[test]
fn open_sets_wal_full_sync_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/kolejka.db");
    let store = Store::open(&path).unwrap();
    let conn = store.conn_for_test();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    let sync: i64 = conn
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "synchronous=FULL");
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS_KNOWN);
    drop(store);
    // Reopening applies nothing twice.
    assert_eq!(
        Store::open(&path).unwrap().schema_version().unwrap(),
        MIGRATIONS_KNOWN
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    Store::open(&path)
        .unwrap()
        .execute_batch_for_test("PRAGMA user_version = 99")
        .unwrap();
    match Store::open(&path) {
        Err(StoreError::TooNew {
            found: 99,
            known: MIGRATIONS_KNOWN,
        }) => {}
        other => panic!("expected TooNew, got {other:?}"),
    }
}

#[test]
fn events_round_trip_through_the_log_and_the_broadcast() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let clock = Arc::new(ManualClock::new(wednesday_morning()));
    let q = start(&path, office(), clock.clone());
    // The start rolled over to today: one day_started, committed.
    assert_eq!(q.read(|e, v| (e.day(), v)), (Some(date(2025, 1, 15)), 1));

    let mut rx = q.subscribe();
    let mut acked = Vec::new();
    acked.extend(q.submit_blocking(issue("dowody"), kiosk()).unwrap());
    clock.advance(SignedDuration::from_secs(5));
    acked.extend(
        q.submit_blocking(
            Command::IssueTicket {
                case_type: code("dowody"),
                priority: Some(PriorityCode::parse("ciaza").unwrap()),
                lang: Lang::Uk,
            },
            kiosk(),
        )
        .unwrap(),
    );
    acked.extend(ok(&q, open_counter(1, "anna")));
    acked.extend(at(&q, 1, "anna", |counter| Command::CallNext { counter }));
    acked.extend(at(&q, 1, "anna", |counter| Command::StartService {
        counter,
    }));
    assert_eq!(
        acked.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![2, 3, 4, 5, 6]
    );
    assert_eq!(q.read(|_, v| v), 6);

    // Published in order, after commit, the same events.
    let mut published = Vec::new();
    while let Ok(e) = rx.try_recv() {
        published.push((*e).clone());
    }
    assert_eq!(published, acked);

    // The log holds them with the day start before.
    let store = Store::open(&path).unwrap();
    let log = store.load_day().unwrap();
    assert!(matches!(
        log.first().unwrap().event.kind,
        EventKind::DayStarted { .. }
    ));
    assert_eq!(log.get(1..).unwrap(), acked.as_slice());
    assert_eq!(store.last_seq().unwrap(), 6);

    // The columns beside the payload.
    let (at, day, actor, kind, ticket, ctr): (
        i64,
        String,
        String,
        String,
        Option<i64>,
        Option<i64>,
    ) = store
        .conn_for_test()
        .query_row(
            "SELECT at, local_day, actor, kind, ticket_id, counter_id FROM events WHERE id = 5",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(at, clock.now().as_millisecond());
    assert_eq!(day, "2025-01-15");
    assert_eq!(actor, "user:anna");
    assert_eq!(kind, "ticket_called");
    assert!(ticket.is_some());
    assert_eq!(ctr, Some(1));

    // A stored event keeps its shape in JSON (the HTTP layer sends it as is).
    let json = serde_json::to_string(&acked).unwrap();
    let back: Vec<StoredEvent> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, acked);
    q.shutdown().unwrap();
}

#[test]
fn restore_after_reopen_rebuilds_the_day_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let clock = Arc::new(ManualClock::new(wednesday_morning()));
    let q = start(&path, office(), clock.clone());
    let step = || clock.advance(SignedDuration::from_secs(37));

    for ct in [
        "dowody", "dowody", "meldunki", "pojazdy", "dowody", "meldunki",
    ] {
        issue_ok(&q, ct);
        step();
    }
    ok(&q, open_counter(1, "anna"));
    ok(&q, open_counter(2, "ola"));
    ok(&q, open_counter(3, "jan"));
    // Counter 1: one served and finished (a service-time sample), then one called (in progress).
    at(&q, 1, "anna", |counter| Command::CallNext { counter });
    step();
    at(&q, 1, "anna", |counter| Command::StartService { counter });
    clock.advance(SignedDuration::from_mins(7));
    at(&q, 1, "anna", |counter| Command::FinishService { counter });
    at(&q, 1, "anna", |counter| Command::CallNext { counter });
    at(&q, 1, "anna", |counter| Command::Recall { counter });
    // Counter 2: one parked, one transferred to pojazdy, then one serving.
    at(&q, 2, "ola", |counter| Command::CallNext { counter });
    at(&q, 2, "ola", |counter| Command::Park { counter });
    at(&q, 2, "ola", |counter| Command::CallNext { counter });
    ok(
        &q,
        (
            Command::Transfer {
                counter: counter(2),
                to: TransferTarget::CaseType {
                    case_type: code("pojazdy"),
                },
            },
            clerk("ola"),
        ),
    );
    at(&q, 2, "ola", |counter| Command::CallNext { counter });
    at(&q, 2, "ola", |counter| Command::StartService { counter });
    // Counter 3 paused; manager changes.
    ok(
        &q,
        (
            Command::PauseCounter {
                counter: counter(3),
                reason: "przerwa".into(),
            },
            clerk("jan"),
        ),
    );
    ok(
        &q,
        (
            Command::SetIssuing {
                case_type: code("meldunki"),
                open: false,
            },
            clerk("szef"),
        ),
    );
    ok(
        &q,
        (
            Command::SetDailyCap {
                case_type: code("dowody"),
                cap: Some(40),
            },
            clerk("szef"),
        ),
    );
    ok(
        &q,
        (
            Command::SetCounterServes {
                counter: counter(3),
                serves: vec![(code("pojazdy"), 5), (code("dowody"), 2)],
            },
            clerk("szef"),
        ),
    );

    let (before, version) = q.read(|e, v| (snapshot(e), v));
    assert!(
        before
            .tickets
            .iter()
            .any(|t| t.state == TicketState::Called)
    );
    assert!(
        before
            .tickets
            .iter()
            .any(|t| t.state == TicketState::Serving)
    );
    assert!(
        before
            .tickets
            .iter()
            .any(|t| t.state == TicketState::Parked)
    );
    q.shutdown().unwrap();
    assert_eq!(
        q.submit_blocking(issue("dowody"), kiosk()),
        Err(SubmitError::Closed)
    );

    let q = start(&path, office(), clock.clone());
    let (after, version_after, invariants) = q.read(|e, v| (snapshot(e), v, e.check_invariants()));
    assert_eq!(invariants, Ok(()));
    assert_eq!(version_after, version);
    assert_eq!(after, before);

    // The tickets table agrees with the engine, row by row.
    let rows = ticket_rows(&path);
    let expected: BTreeMap<u64, Row> = before.tickets.iter().map(|t| (t.id.0, row_of(t))).collect();
    assert_eq!(rows, expected);

    // Work goes on where it stopped: the call in progress can be started.
    at(&q, 1, "anna", |counter| Command::StartService { counter });
    assert_eq!(issue_ok(&q, "dowody").to_string(), "A004");
    q.shutdown().unwrap();
}

#[test]
fn group_commit_batches_concurrent_requests_and_isolates_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let clock = Arc::new(ManualClock::new(wednesday_morning()));
    let q = start(&path, office(), clock);
    let commits_before = q.stats().commits;

    const THREADS: usize = 20;
    const EACH: usize = 10;
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let q = q.clone();
                s.spawn(move || {
                    (0..EACH)
                        .map(|j| {
                            // Every fifth request is refused by the engine.
                            if (i + j) % 5 == 0 {
                                q.submit_blocking(
                                    Command::CallNext {
                                        counter: counter(1),
                                    },
                                    clerk("nobody"),
                                )
                                .map(|_| None)
                            } else {
                                let ct = if i % 2 == 0 { "dowody" } else { "meldunki" };
                                q.submit_blocking(issue(ct), kiosk()).map(Some)
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(results.len(), THREADS * EACH);
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(SubmitError::Domain(_))))
        .count();
    assert_eq!(refused, THREADS * EACH / 5);
    let issued = results.iter().filter(|r| matches!(r, Ok(Some(_)))).count();
    assert_eq!(issued + refused, THREADS * EACH);

    let stats = q.stats();
    let commits = stats.commits - commits_before;
    eprintln!(
        "group commit: {} requests, {commits} commits, {stats:?}",
        THREADS * EACH
    );
    assert!(commits < (THREADS * EACH) as u64, "no batching: {stats:?}");
    assert!(stats.largest_batch > 1);

    // Numbering has no gap and no repeat.
    q.read(|e, _| {
        for ct in ["dowody", "meldunki"] {
            let mut seqs: Vec<u32> = e
                .tickets()
                .filter(|t| t.case_type == code(ct))
                .map(|t| t.number.seq())
                .collect();
            seqs.sort_unstable();
            assert_eq!(seqs, (1..=seqs.len() as u32).collect::<Vec<_>>());
        }
        assert_eq!(e.tickets().count(), issued);
    });
    q.shutdown().unwrap();
}

#[test]
fn async_submits_are_batched_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let clock = Arc::new(ManualClock::new(wednesday_morning()));
    let q = start(&path, office(), clock);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let numbers = rt.block_on(async {
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let q = q.clone();
                tokio::spawn(async move { q.submit(issue("pojazdy"), kiosk()).await })
            })
            .collect();
        let mut numbers = Vec::new();
        for t in tasks {
            let events = t.await.unwrap().unwrap();
            numbers.push(events.first().unwrap().seq);
        }
        numbers
    });
    assert_eq!(numbers.len(), 200);
    let stats = q.stats();
    eprintln!("async group commit: 200 requests, {stats:?}");
    assert!(stats.commits < 200);
    assert_eq!(q.read(|e, _| e.last_seq(&code("pojazdy"))), 200);
    q.shutdown().unwrap();
}

#[test]
fn a_failed_commit_is_unavailable_leaves_nothing_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let clock = Arc::new(ManualClock::new(wednesday_morning()));
    let q = start(&path, office(), clock);
    issue_ok(&q, "dowody");

    // The database may not grow: the next write that needs a new page fails with SQLITE_FULL.
    let pages: i64 = Store::open(&path)
        .unwrap()
        .conn_for_test()
        .pragma_query_value(None, "page_count", |r| r.get(0))
        .unwrap();
    q.exec_sql_for_test(&format!("PRAGMA max_page_count = {pages}"))
        .unwrap();
    let mut rx = q.subscribe();
    let mut failed = None;
    for _ in 0..500 {
        let before = q.read(|e, v| (snapshot(e), v));
        match q.submit_blocking(issue("dowody"), kiosk()) {
            Ok(_) => while rx.try_recv().is_ok() {},
            Err(SubmitError::Unavailable(msg)) => {
                failed = Some((before, msg));
                break;
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    let (before, msg) = failed.expect("the database never filled up");
    assert!(msg.contains("full"), "{msg}");
    assert_eq!(q.stats().failed_commits, 1);
    // Nothing published, nothing changed, nothing half-written.
    assert!(rx.try_recv().is_err());
    assert_eq!(q.read(|e, v| (snapshot(e), v)), before);
    let (_, version) = before;
    let store = Store::open(&path).unwrap();
    assert_eq!(store.last_seq().unwrap(), version);
    let (restored, _) = store.restore(office()).unwrap();
    assert_eq!(snapshot(&restored), before.0);
    let last = before.0.per_case_type.first().unwrap().1;

    // Still full: still refused, still nothing changes.
    assert!(matches!(
        q.submit_blocking(issue("dowody"), kiosk()),
        Err(SubmitError::Unavailable(_))
    ));
    // Space comes back: writes succeed, numbering continues without a gap.
    q.exec_sql_for_test("PRAGMA max_page_count = 1073741823")
        .unwrap();
    let n = issue_ok(&q, "dowody");
    assert_eq!(n.seq(), last + 1);
    assert_eq!(q.read(|_, v| v), version + 1);
    q.shutdown().unwrap();
}

#[test]
fn the_day_rolls_over_at_local_midnight_and_restores_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    // 23:59:30 in Warsaw is 22:59:30 UTC: the UTC date will not change at local midnight.
    let clock = Arc::new(ManualClock::new(warsaw(2025, 1, 14, 23, 59, 30)));
    let q = start(&path, office_any_hour(), clock.clone());
    assert_eq!(issue_ok(&q, "dowody").to_string(), "A001");
    assert_eq!(issue_ok(&q, "dowody").to_string(), "A002");
    ok(&q, open_counter(1, "anna"));
    at(&q, 1, "anna", |counter| Command::CallNext { counter });

    clock.advance(SignedDuration::from_secs(60));
    assert_eq!(clock.now().to_string(), "2025-01-14T23:00:30Z");
    // A refused command after midnight still commits the roll-over (facts).
    let v0 = q.read(|_, v| v);
    assert!(matches!(
        q.submit_blocking(
            Command::CallNext {
                counter: counter(1)
            },
            clerk("anna")
        ),
        Err(SubmitError::Domain(_))
    ));
    let (day, counter_status, tickets, v1) = q.read(|e, v| {
        (
            e.day(),
            e.counter(counter(1)).unwrap().status.clone(),
            e.tickets().count(),
            v,
        )
    });
    assert_eq!(day, Some(date(2025, 1, 15)));
    assert_eq!(counter_status, crate::engine::CounterStatus::Closed);
    assert_eq!(tickets, 0);
    // Two cancellations, the counter closed, the day started.
    assert_eq!(v1, v0 + 4);

    assert_eq!(issue_ok(&q, "dowody").to_string(), "A001");
    let before = q.read(|e, _| snapshot(e));
    q.shutdown().unwrap();

    // Yesterday's tickets are cancelled in the table; today's is there with today's day.
    let store = Store::open(&path).unwrap();
    let rows: Vec<(String, String, String)> = store
        .conn_for_test()
        .prepare("SELECT day, number, state FROM tickets ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        rows,
        vec![
            s("2025-01-14", "A001", "cancelled"),
            s("2025-01-14", "A002", "cancelled"),
            s("2025-01-15", "A001", "waiting"),
        ]
    );
    drop(store);

    let q = start(&path, office_any_hour(), clock.clone());
    assert_eq!(q.read(|e, _| snapshot(e)), before);
    assert_eq!(
        q.read(|e, _| e.next_ticket_id().0),
        4,
        "ids are never reused"
    );
    assert_eq!(issue_ok(&q, "dowody").to_string(), "A002");
    q.shutdown().unwrap();
}

#[test]
fn tickets_kept_overnight_are_rewritten_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let mut office = Office::sample();
    office.issue_outside_hours = true;
    office.end_of_day = crate::engine::EndOfDay::Keep;
    let office = Arc::new(office);
    let clock = Arc::new(ManualClock::new(warsaw(2025, 1, 14, 23, 50, 0)));
    let q = start(&path, office.clone(), clock.clone());
    issue_ok(&q, "dowody");
    issue_ok(&q, "dowody");
    ok(&q, open_counter(1, "anna"));
    at(&q, 1, "anna", |counter| Command::CallNext { counter });
    clock.advance(SignedDuration::from_mins(20));
    // The first command of the new day: the kept tickets come along, numbering goes on.
    assert_eq!(issue_ok(&q, "dowody").to_string(), "A003");
    let before = q.read(|e, _| snapshot(e));
    assert_eq!(before.tickets.len(), 3);
    q.shutdown().unwrap();

    let rows = ticket_rows(&path);
    let expected: BTreeMap<u64, Row> = before.tickets.iter().map(|t| (t.id.0, row_of(t))).collect();
    assert_eq!(rows, expected);
    assert!(rows.values().all(|(_, _, state, counter, calls)| {
        state == "waiting" && counter.is_none() && *calls == 0
    }));

    let q = start(&path, office, clock);
    assert_eq!(q.read(|e, _| snapshot(e)), before);
    q.shutdown().unwrap();
}

#[test]
fn the_25_hour_day_is_one_day() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    // 26 October 2025: clocks go back at 03:00 CEST; the day has 25 hours.
    let clock = Arc::new(ManualClock::new(warsaw(2025, 10, 26, 0, 10, 0)));
    let q = start(&path, office_any_hour(), clock.clone());
    assert_eq!(issue_ok(&q, "dowody").to_string(), "A001");
    // 24 hours later it is 23:10 CET: still the same local day.
    clock.advance(SignedDuration::from_hours(24));
    assert_eq!(clock.now().to_string(), "2025-10-26T22:10:00Z");
    assert_eq!(issue_ok(&q, "dowody").to_string(), "A002");
    clock.advance(SignedDuration::from_hours(1));
    assert_eq!(issue_ok(&q, "dowody").to_string(), "A001");
    assert_eq!(q.read(|e, _| e.day()), Some(date(2025, 10, 27)));
    q.shutdown().unwrap();
}

#[test]
fn an_idle_writer_rolls_the_day_over_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let clock = Arc::new(ManualClock::new(warsaw(2025, 1, 14, 23, 59, 58)));
    let q = Queue::start_with_tick(
        Store::open(&path).unwrap(),
        office_any_hour(),
        clock.clone(),
        Duration::from_millis(20),
    )
    .unwrap();
    issue_ok(&q, "dowody");
    let mut rx = q.subscribe();
    clock.advance(SignedDuration::from_secs(5));
    wait_until("the day to roll over", || {
        q.read(|e, _| e.day()) == Some(date(2025, 1, 15))
    });
    let mut kinds = Vec::new();
    while let Ok(e) = rx.try_recv() {
        kinds.push(e.event.kind.name());
    }
    assert_eq!(kinds, ["ticket_cancelled", "day_started"]);
    q.shutdown().unwrap();
    let (engine, _) = Store::open(&path)
        .unwrap()
        .restore(office_any_hour())
        .unwrap();
    assert_eq!(engine.day(), Some(date(2025, 1, 15)));
}

#[test]
fn shutdown_commits_what_was_queued_then_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let clock = Arc::new(ManualClock::new(wednesday_morning()));
    let q = start(&path, office(), clock.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let answers = rt.block_on(async {
        let mut futures: Vec<_> = (0..50)
            .map(|_| Box::pin(q.submit(issue("dowody"), kiosk())))
            .collect();
        let mut answers: Vec<Option<Result<Vec<StoredEvent>, SubmitError>>> = vec![None; 50];
        // The first poll queues each request; then shut down while they wait.
        poll_each_once(&mut futures, &mut answers).await;
        q.shutdown().unwrap();
        // The writer has stopped, so every request has its answer now.
        poll_each_once(&mut futures, &mut answers).await;
        answers
    });
    let numbers: Vec<u32> = answers
        .into_iter()
        .map(|a| match &a.unwrap().unwrap().first().unwrap().event.kind {
            EventKind::TicketIssued { number, .. } => number.seq(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(numbers, (1..=50).collect::<Vec<_>>());
    assert_eq!(
        q.submit_blocking(issue("dowody"), kiosk()),
        Err(SubmitError::Closed)
    );
    q.shutdown().unwrap();
    let (engine, _) = Store::open(&path).unwrap().restore(office()).unwrap();
    assert_eq!(engine.tickets().count(), 50);
}

/// Polls every unfinished future once, keeping the outputs of those that finish.
async fn poll_each_once<F: std::future::Future + Unpin>(
    futures: &mut [F],
    out: &mut [Option<F::Output>],
) {
    std::future::poll_fn(|cx| {
        for (f, slot) in futures.iter_mut().zip(out.iter_mut()) {
            if slot.is_none()
                && let std::task::Poll::Ready(v) = std::pin::Pin::new(f).poll(cx)
            {
                *slot = Some(v);
            }
        }
        std::task::Poll::Ready(())
    })
    .await;
}

#[test]
fn a_corrupt_payload_is_an_error_naming_the_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let clock = Arc::new(ManualClock::new(wednesday_morning()));
    let q = start(&path, office(), clock);
    issue_ok(&q, "dowody");
    issue_ok(&q, "dowody");
    q.shutdown().unwrap();
    let store = Store::open(&path).unwrap();
    store
        .execute_batch_for_test("UPDATE events SET payload = '{\"at\": 1' WHERE id = 3")
        .unwrap();
    match store.restore(office()) {
        Err(e @ StoreError::CorruptEvent { seq: 3, .. }) => {
            assert!(e.to_string().starts_with("event 3 "), "{e}");
        }
        other => panic!("expected a corrupt event 3, got {other:?}"),
    }
    store
        .execute_batch_for_test(
            "UPDATE events SET kind = 'ticket_called', \
             payload = (SELECT payload FROM events WHERE id = 2) WHERE id = 3",
        )
        .unwrap();
    assert!(matches!(
        store.restore(office()),
        Err(StoreError::CorruptEvent { seq: 3, .. })
    ));
    assert!(matches!(
        Queue::start(
            store,
            office(),
            Arc::new(ManualClock::new(wednesday_morning()))
        ),
        Err(StoreError::CorruptEvent { seq: 3, .. })
    ));
}
