//! Retention: a ticket's priority category is health data (RODO art. 9) and is deleted once
//! its day is closed and summarized (the statistics keep only "priority: yes/no"); other
//! personal data has a configurable retention. Audit and statistics stay.
//!
//! How this coexists with the queue writer, the only other writer of `tickets` and `events`:
//! the purge touches only *closed* days, which the writer never writes again and a restart
//! never replays (a restart replays from the last `day_started`, which belongs to an open
//! day); it clears `tickets.priority` and the `priority` of old `ticket_issued` events and of
//! the tickets carried in old `day_started` events, nothing else. Each day is purged in its
//! own `BEGIN IMMEDIATE` transaction of a few milliseconds, with a busy timeout, so the writer
//! (whose own busy timeout is 5 s) waits at most that long for it, and it for the writer.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rusqlite::{Connection, TransactionBehavior, params};

use super::summary;

/// How long personal data other than the priority category is kept (days after the visit).
/// Nothing else personal is stored yet (bookings will be); the setting is here so that they
/// follow it from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub personal_days: u32,
}

impl Default for Retention {
    /// Two weeks after the visit: the market practice for bookings (docs/STATISTICS.md).
    fn default() -> Self {
        Retention { personal_days: 14 }
    }
}

impl Retention {
    /// The environment variable that sets `personal_days` for the server's nightly run and
    /// for `kolejka purge`.
    pub const ENV: &'static str = "KOLEJKA_PERSONAL_RETENTION_DAYS";

    /// The retention from `KOLEJKA_PERSONAL_RETENTION_DAYS`, else the default.
    pub fn from_env() -> Result<Retention, String> {
        match std::env::var(Self::ENV) {
            Ok(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .map(|personal_days| Retention { personal_days })
                .ok_or_else(|| {
                    format!(
                        "{} must be a number of days from 1 to 3650, not `{v}`",
                        Self::ENV
                    )
                }),
            Err(_) => Ok(Retention::default()),
        }
    }
}

/// What a purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeOutcome {
    /// Closed days summarized first (so that "priority: yes/no" is kept).
    pub summarized: Vec<Date>,
    /// Days whose priority categories were deleted.
    pub purged: Vec<Date>,
    /// Ticket rows whose priority category was deleted.
    pub tickets_cleared: u64,
    /// Events whose payload lost a priority category.
    pub events_scrubbed: u64,
    /// Other personal records deleted by `Retention::personal_days` (none are stored yet).
    pub personal_deleted: u64,
}

/// Summarizes closed days, then deletes the priority categories of every summarized day not
/// yet purged, one day per transaction.
pub fn run(
    conn: &mut Connection,
    tz: &TimeZone,
    now: Timestamp,
    retention: Retention,
) -> rusqlite::Result<PurgeOutcome> {
    let mut out = PurgeOutcome {
        summarized: summary::summarize_closed(conn, tz, now)?,
        ..PurgeOutcome::default()
    };
    let days: Vec<String> = {
        let mut stmt =
            conn.prepare("SELECT day FROM stats_days WHERE purged_at IS NULL ORDER BY day")?;
        stmt.query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    for day in days {
        let (tickets, events) = purge_day(conn, &day, now.as_millisecond())?;
        out.tickets_cleared += tickets;
        out.events_scrubbed += events;
        if let Ok(d) = day.parse() {
            out.purged.push(d);
        }
    }
    // Other personal data: none is stored yet. Bookings will be deleted here once they are
    // `retention.personal_days` days past their visit.
    let _ = retention;
    Ok(out)
}

fn purge_day(conn: &mut Connection, day: &str, at: i64) -> rusqlite::Result<(u64, u64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tickets = tx.execute(
        "UPDATE tickets SET priority = NULL WHERE day = ?1 AND priority IS NOT NULL",
        [day],
    )? as u64;
    let mut events = tx.execute(
        "UPDATE events SET payload = json_set(payload, '$.priority', json('null'))
         WHERE local_day = ?1 AND kind = 'ticket_issued'
           AND json_extract(payload, '$.priority') IS NOT NULL",
        [day],
    )? as u64;
    // Tickets carried over from the day before sit whole in `day_started`.
    let carried: Vec<(i64, i64)> = {
        let mut stmt = tx.prepare(
            "SELECT id, COALESCE(json_array_length(payload, '$.carried'), 0) FROM events
             WHERE local_day = ?1 AND kind = 'day_started'",
        )?;
        stmt.query_map([day], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    for (id, n) in carried {
        let mut changed = false;
        for i in 0..n {
            let path = format!("$.carried[{i}].priority");
            changed |= tx.execute(
                "UPDATE events SET payload = json_set(payload, ?2, json('null'))
                 WHERE id = ?1 AND json_extract(payload, ?2) IS NOT NULL",
                params![id, path],
            )? > 0;
        }
        events += u64::from(changed);
    }
    tx.execute(
        "UPDATE stats_days SET purged_at = ?2 WHERE day = ?1",
        params![day, at],
    )?;
    tx.commit()?;
    Ok((tickets, events))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::Timestamp;

    use super::*;
    use crate::clock::ManualClock;
    use crate::engine::{Actor, CaseTypeCode, Command, CounterId, EndOfDay, Lang, Office};
    use crate::stats::{Filter, Stats};
    use crate::store::{Queue, Store};

    fn at(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    /// With `end_of_day = "keep"` a ticket waits overnight inside the next `day_started`: its
    /// day is not closed (nor summarized, nor purged) until it is final, and then the purge
    /// removes the category from the carried copy too, and the log still replays.
    #[test]
    fn a_ticket_kept_overnight_is_summarized_and_purged_once_final() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("k.db");
        let mut office = Office::sample();
        office.end_of_day = EndOfDay::Keep;
        let office = Arc::new(office);
        let clock = Arc::new(ManualClock::new(at("2026-03-02T09:00:00+01:00")));
        let queue = Queue::start(
            Store::open(&db).expect("store"),
            office.clone(),
            clock.clone(),
        )
        .expect("queue");
        let run = |cmd: Command, who: Actor| queue.submit_blocking(cmd, who).expect("command");
        let anna = Actor::User("anna".into());
        let c1 = CounterId::new(1).expect("counter");
        let code = |s: &str| CaseTypeCode::parse(s).expect("code");
        run(
            Command::IssueTicket {
                case_type: code("dowody"),
                priority: Some(crate::engine::PriorityCode::parse("ciaza").expect("code")),
                lang: Lang::Pl,
            },
            Actor::Device("1".into()),
        );
        let stats = Stats::new(&db, office.clone(), clock.clone());

        // The next morning the ticket is carried into the new day: its day is not closed.
        clock.set(at("2026-03-03T09:00:00+01:00"));
        run(
            Command::OpenCounter {
                counter: c1,
                operator: "anna".into(),
            },
            anna.clone(),
        );
        let out = stats.purge(Retention::default()).expect("purge");
        assert!(
            out.summarized.is_empty() && out.purged.is_empty(),
            "{out:?}"
        );
        run(Command::CallNext { counter: c1 }, anna.clone());
        clock.set(at("2026-03-03T09:01:00+01:00"));
        run(Command::StartService { counter: c1 }, anna.clone());
        clock.set(at("2026-03-03T09:11:00+01:00"));
        run(Command::FinishService { counter: c1 }, anna.clone());
        run(Command::CloseCounter { counter: c1 }, anna.clone());
        let live = stats
            .report(
                "2026-03-02".parse().expect("d"),
                "2026-03-03".parse().expect("d"),
                &Filter::default(),
            )
            .expect("report");

        // A day later both days are closed: summarized, then purged.
        clock.set(at("2026-03-04T09:00:00+01:00"));
        run(
            Command::IssueTicket {
                case_type: code("meldunki"),
                priority: None,
                lang: Lang::Pl,
            },
            Actor::Device("1".into()),
        );
        let out = stats.purge(Retention::default()).expect("purge");
        let days: Vec<String> = out.summarized.iter().map(ToString::to_string).collect();
        assert_eq!(days, ["2026-03-02", "2026-03-03"]);
        assert_eq!(out.purged.len(), 2);
        assert_eq!(out.tickets_cleared, 1);
        assert_eq!(out.events_scrubbed, 2, "the issue and the carried copy");
        let summarized = stats
            .report(
                "2026-03-02".parse().expect("d"),
                "2026-03-03".parse().expect("d"),
                &Filter::default(),
            )
            .expect("report");
        assert_eq!(live, summarized);
        assert_eq!(summarized.totals.priority, 1);
        assert_eq!(summarized.totals.served, 1);
        // Issued 9:00 on Monday, called 9:00 on Tuesday: a day's wait, and a miss.
        assert_eq!(summarized.totals.wait.max_s, Some(86_400.0));
        assert_eq!(summarized.totals.within_target.met, 0);
        assert_eq!(summarized.totals.service.mean_s, Some(600.0));

        let conn = rusqlite::Connection::open(&db).expect("db");
        let left: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM events WHERE payload LIKE '%ciaza%'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(left, 0, "no priority category left in the log");
        drop(conn);
        queue.shutdown().expect("shutdown");
        // Every event still reads back, and today replays.
        let store = Store::open(&db).expect("store");
        store.events_from(1).expect("events parse");
        let (engine, _) = store.restore(office).expect("restore");
        assert_eq!(engine.day(), Some("2026-03-04".parse().expect("d")));
        assert_eq!(engine.tickets().count(), 1);
    }
}
