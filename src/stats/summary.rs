//! Summaries of closed days in the `stats_*` tables (migration 0006), and loading the facts of
//! a range of days: summarized days from those tables, later days derived live.
//!
//! A day is *closed* once the queue has started a later day (a later `day_started` is in the
//! log) and every ticket issued on it is final. Days are summarized in order, so every day up
//! to the last summarized one (the watermark) is summarized; a report derives the days after
//! it live, with the same code (`facts::derive_day`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::facts::{
    self, CounterHour, Dataset, DayFacts, DayRows, NO_NAME, Names, State, TicketFact,
};

/// The last summarized day, if any.
pub fn watermark(conn: &Connection) -> rusqlite::Result<Option<Date>> {
    let day: Option<String> =
        conn.query_row("SELECT MAX(day) FROM stats_days", [], |r| r.get(0))?;
    Ok(day.and_then(|d| d.parse().ok()))
}

/// Days after `after` (all, if `None`) up to `until` with anything in the log, in order.
pub fn days_with_events(
    conn: &Connection,
    after: Option<Date>,
    from: Date,
    until: Date,
) -> rusqlite::Result<Vec<Date>> {
    let after = after.map(|d| d.to_string()).unwrap_or_default();
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT local_day FROM events
         WHERE local_day > ?1 AND local_day >= ?2 AND local_day <= ?3 ORDER BY local_day",
    )?;
    let days = stmt
        .query_map(params![after, from.to_string(), until.to_string()], |r| {
            r.get::<_, String>(0)
        })?
        .filter_map(|d| d.ok().and_then(|d| d.parse().ok()))
        .collect();
    Ok(days)
}

/// Whether a day is closed: a later day has started and all its tickets are final.
pub fn is_closed(conn: &Connection, day: Date) -> rusqlite::Result<bool> {
    let d = day.to_string();
    let later_started: bool = conn
        .query_row(
            "SELECT 1 FROM events WHERE kind = 'day_started' AND local_day > ?1 LIMIT 1",
            [&d],
            |_| Ok(true),
        )
        .optional()?
        .unwrap_or(false);
    if !later_started {
        return Ok(false);
    }
    let open: i64 = conn.query_row(
        "SELECT COUNT(*) FROM tickets
         WHERE day = ?1 AND state NOT IN ('done', 'no_show', 'cancelled')",
        [&d],
        |r| r.get(0),
    )?;
    Ok(open == 0)
}

/// Summarizes closed days after the watermark, in order, each in its own short transaction;
/// stops at the first day that is not closed. Returns the days summarized.
pub fn summarize_closed(
    conn: &mut Connection,
    tz: &TimeZone,
    now: Timestamp,
) -> rusqlite::Result<Vec<Date>> {
    let today = now.to_zoned(tz.clone()).date();
    let after = watermark(conn)?;
    let yesterday = today.yesterday().unwrap_or(today);
    let candidates = days_with_events(conn, after, Date::MIN, yesterday)?;
    let mut done = Vec::new();
    for day in candidates {
        if !is_closed(conn, day)? {
            break;
        }
        let rows = facts::derive_day(conn, day, tz, now)?;
        write_day(conn, day, &rows, now.as_millisecond())?;
        done.push(day);
    }
    Ok(done)
}

/// Writes one day's summary (replacing any) in one transaction.
pub fn write_day(
    conn: &mut Connection,
    day: Date,
    rows: &DayRows,
    at: i64,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let d = day.to_string();
    tx.execute("DELETE FROM stats_tickets WHERE day = ?1", [&d])?;
    tx.execute("DELETE FROM stats_counter_hours WHERE day = ?1", [&d])?;
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO stats_tickets (day, ticket_id, issued_case_type, case_type, priority,
                 state, issued_at, hour, weekday, wait_ms, unserved_ms, service_ms, counter,
                 clerk, transfers)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?;
        for t in &rows.tickets {
            ins.execute(params![
                d,
                t.ticket_id,
                t.issued_case_type,
                t.case_type,
                i64::from(t.priority),
                t.state.as_str(),
                t.issued_at,
                t.hour,
                t.weekday,
                t.wait_ms,
                t.unserved_ms,
                t.service_ms,
                t.counter,
                t.clerk,
                t.transfers,
            ])?;
        }
        let mut ins = tx.prepare_cached(
            "INSERT INTO stats_counter_hours (day, counter, clerk, hour, open_ms, paused_ms,
                 busy_ms, serving_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for h in &rows.hours {
            ins.execute(params![
                d,
                h.counter,
                h.clerk,
                h.hour,
                h.open_ms,
                h.paused_ms,
                h.busy_ms,
                h.serving_ms
            ])?;
        }
    }
    tx.execute(
        "INSERT INTO stats_days (day, summarized_at, tickets) VALUES (?1, ?2, ?3)
         ON CONFLICT (day) DO UPDATE SET summarized_at = excluded.summarized_at,
             tickets = excluded.tickets",
        params![d, at, rows.tickets.len() as i64],
    )?;
    tx.commit()
}

/// How many closed days the cache keeps: about three years of working days, the longest a
/// report covers (a day of 2000 tickets takes about 64 KB).
pub const CACHE_DAYS: usize = 800;

/// Closed days' facts kept in memory, so that a year's report reads its days once. A closed
/// day's summary does not change; each cached day carries its `summarized_at` stamp and is
/// read again if the table says otherwise.
#[derive(Debug, Default)]
pub struct FactCache {
    /// The names every cached and live day's numbers refer to.
    pub names: Names,
    days: HashMap<Date, CachedDay>,
    tick: u64,
}

#[derive(Debug)]
struct CachedDay {
    stamp: i64,
    facts: Arc<DayFacts>,
    used: u64,
}

impl FactCache {
    pub fn len(&self) -> usize {
        self.days.len()
    }
    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// Drops the least recently used days beyond `CACHE_DAYS`.
    fn evict(&mut self) {
        if self.days.len() <= CACHE_DAYS {
            return;
        }
        let mut by_use: Vec<(u64, Date)> = self.days.iter().map(|(d, c)| (c.used, *d)).collect();
        by_use.sort_unstable();
        let excess = self.days.len() - CACHE_DAYS;
        for (_, d) in by_use.into_iter().take(excess) {
            self.days.remove(&d);
        }
    }
}

/// The facts of the days `from..=to`: summarized days from the cache or the `stats_*` tables,
/// the others derived live. Run inside one read transaction, so that the two halves agree.
pub fn load(
    conn: &Connection,
    from: Date,
    to: Date,
    tz: &TimeZone,
    now: Timestamp,
    cache: &mut FactCache,
) -> rusqlite::Result<Dataset> {
    let wm = watermark(conn)?;
    let mut days = Vec::new();
    if let Some(wm) = wm.filter(|wm| *wm >= from) {
        let until = to.min(wm);
        let stamps: Vec<(Date, i64)> = {
            let mut stmt = conn.prepare_cached(
                "SELECT day, summarized_at FROM stats_days WHERE day >= ?1 AND day <= ?2
                 ORDER BY day",
            )?;
            stmt.query_map(params![from.to_string(), until.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?
            .filter_map(|row| match row {
                Ok((d, stamp)) => d.parse().ok().map(|d| Ok((d, stamp))),
                Err(e) => Some(Err(e)),
            })
            .collect::<rusqlite::Result<_>>()?
        };
        let missing: HashMap<Date, i64> = stamps
            .iter()
            .filter(|(d, stamp)| cache.days.get(d).map(|c| c.stamp) != Some(*stamp))
            .copied()
            .collect();
        if !missing.is_empty() {
            read_summaries(conn, cache, &missing)?;
        }
        cache.tick += 1;
        let tick = cache.tick;
        for (d, _) in &stamps {
            if let Some(c) = cache.days.get_mut(d) {
                c.used = tick;
                if c.facts.active() {
                    days.push(c.facts.clone());
                }
            }
        }
        cache.evict();
    }
    for day in days_with_events(conn, wm, from, to)? {
        let rows = facts::derive_day(conn, day, tz, now)?;
        let f = DayFacts::from_rows(day, &rows, &mut cache.names);
        if f.active() {
            days.push(Arc::new(f));
        }
    }
    Ok(Dataset {
        names: cache.names.clone(),
        days,
    })
}

/// Reads the summaries of the `missing` days (day → stamp) into the cache.
fn read_summaries(
    conn: &Connection,
    cache: &mut FactCache,
    missing: &HashMap<Date, i64>,
) -> rusqlite::Result<()> {
    let (Some(lo), Some(hi)) = (missing.keys().min(), missing.keys().max()) else {
        return Ok(());
    };
    let (lo, hi) = (lo.to_string(), hi.to_string());
    let mut fresh: BTreeMap<Date, DayFacts> = missing
        .keys()
        .map(|d| {
            (
                *d,
                DayFacts {
                    day: *d,
                    tickets: Vec::new(),
                    hours: Vec::new(),
                },
            )
        })
        .collect();
    let names = &mut cache.names;
    {
        let mut stmt = conn.prepare_cached(
            "SELECT day, issued_case_type, case_type, priority, state, hour, weekday, wait_ms,
                    unserved_ms, service_ms, counter, clerk, transfers
             FROM stats_tickets WHERE day >= ?1 AND day <= ?2",
        )?;
        let mut rows = stmt.query(params![lo, hi])?;
        // Rows come in day order (the primary key): parse each day once.
        let mut current: (String, Option<Date>) = (String::new(), None);
        while let Some(r) = rows.next()? {
            let day_text = r.get_ref(0)?.as_str().unwrap_or("");
            if day_text != current.0 {
                current = (
                    day_text.to_owned(),
                    day_text
                        .parse::<Date>()
                        .ok()
                        .filter(|d| fresh.contains_key(d)),
                );
            }
            let Some(day) = current.1 else { continue };
            let Some(state) = State::parse(r.get_ref(4)?.as_str().unwrap_or("")) else {
                continue;
            };
            let fact = TicketFact::new(
                names.intern(r.get_ref(1)?.as_str().unwrap_or("")),
                names.intern(r.get_ref(2)?.as_str().unwrap_or("")),
                r.get_ref(11)?.as_str_or_null()?.map(|c| names.intern(c)),
                r.get(10)?,
                r.get(12)?,
                r.get::<_, i64>(3)? != 0,
                state,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
            );
            if let Some(f) = fresh.get_mut(&day) {
                f.tickets.push(fact);
            }
        }
    }
    {
        let mut stmt = conn.prepare_cached(
            "SELECT day, counter, clerk, hour, open_ms, paused_ms, busy_ms, serving_ms
             FROM stats_counter_hours WHERE day >= ?1 AND day <= ?2",
        )?;
        let mut rows = stmt.query(params![lo, hi])?;
        while let Some(r) = rows.next()? {
            let Ok(day) = r.get_ref(0)?.as_str().unwrap_or("").parse::<Date>() else {
                continue;
            };
            let Some(f) = fresh.get_mut(&day) else {
                continue;
            };
            let clerk = r.get_ref(2)?.as_str().unwrap_or("");
            f.hours.push(CounterHour {
                counter: r.get(1)?,
                clerk: if clerk.is_empty() {
                    NO_NAME
                } else {
                    names.intern(clerk)
                },
                hour: r.get(3)?,
                open_ms: r.get(4)?,
                paused_ms: r.get(5)?,
                busy_ms: r.get(6)?,
                serving_ms: r.get(7)?,
            });
        }
    }
    for (day, facts) in fresh {
        let stamp = missing.get(&day).copied().unwrap_or(0);
        cache.days.insert(
            day,
            CachedDay {
                stamp,
                facts: Arc::new(facts),
                used: 0,
            },
        );
    }
    Ok(())
}
