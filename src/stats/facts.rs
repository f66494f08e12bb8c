//! Facts: what the reports are computed from. One record per ticket and one per counter,
//! clerk and local hour, derived from a day's rows in `tickets` and events in `events`.
//!
//! The same derivation serves today (live, on every request) and closed days (once, when they
//! are summarized into the `stats_*` tables by `summary`), so a figure never depends on
//! whether its day has been summarized yet. The definitions are in docs/STATISTICS.md.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rusqlite::{Connection, OptionalExtension, params};

const HOUR_MS: i64 = 3_600_000;

/// A ticket's state, as the `tickets` table writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Waiting,
    Called,
    Serving,
    Parked,
    Done,
    NoShow,
    Cancelled,
}

impl State {
    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "waiting" => State::Waiting,
            "called" => State::Called,
            "serving" => State::Serving,
            "parked" => State::Parked,
            "done" => State::Done,
            "no_show" => State::NoShow,
            "cancelled" => State::Cancelled,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            State::Waiting => "waiting",
            State::Called => "called",
            State::Serving => "serving",
            State::Parked => "parked",
            State::Done => "done",
            State::NoShow => "no_show",
            State::Cancelled => "cancelled",
        }
    }
    pub fn is_final(self) -> bool {
        matches!(self, State::Done | State::NoShow | State::Cancelled)
    }
}

/// One ticket, as the reports see it (owned strings: for summarizing and for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRow {
    pub day: Date,
    pub ticket_id: i64,
    pub issued_case_type: String,
    pub case_type: String,
    pub priority: bool,
    pub state: State,
    pub issued_at: i64,
    /// Local hour (0-23) and ISO weekday (1 = Monday) of the issue.
    pub hour: u8,
    pub weekday: u8,
    /// Issue to first call.
    pub wait_ms: Option<i64>,
    /// Never called: issue to cancellation, or to now while it still waits.
    pub unserved_ms: Option<i64>,
    /// Done: start to finish of its (last) service.
    pub service_ms: Option<i64>,
    pub counter: Option<u16>,
    pub clerk: Option<String>,
    pub transfers: u32,
}

/// A counter's time in one local hour with one clerk signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterHourRow {
    pub day: Date,
    pub counter: u16,
    /// Empty when the log names nobody.
    pub clerk: String,
    pub hour: u8,
    pub open_ms: i64,
    pub paused_ms: i64,
    pub busy_ms: i64,
    pub serving_ms: i64,
}

/// Everything derived from one day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayRows {
    pub tickets: Vec<TicketRow>,
    pub hours: Vec<CounterHourRow>,
}

/// Interned names (case types and clerks), so that a year of facts holds small numbers.
#[derive(Debug, Default, Clone)]
pub struct Names {
    list: Vec<String>,
    map: HashMap<String, u32>,
}

impl Names {
    pub fn len(&self) -> usize {
        self.list.len()
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.map.get(s) {
            return id;
        }
        let id = self.list.len() as u32;
        self.list.push(s.to_owned());
        self.map.insert(s.to_owned(), id);
        id
    }
    pub fn find(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }
    pub fn get(&self, id: u32) -> &str {
        self.list.get(id as usize).map_or("", String::as_str)
    }
}

/// No name (a ticket nobody called, a counter hour with no clerk in the log).
pub const NO_NAME: u32 = u32::MAX;
/// No duration.
const NO_MS: i32 = -1;

/// A duration in milliseconds in 32 bits (up to 24 days; longer is kept as 24 days).
fn pack_ms(v: Option<i64>) -> i32 {
    v.map_or(NO_MS, |ms| ms.clamp(0, i64::from(i32::MAX)) as i32)
}
fn unpack_ms(v: i32) -> Option<i64> {
    (v >= 0).then_some(i64::from(v))
}

/// A ticket in a dataset, in 32 bytes: names interned, durations in 32-bit milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct TicketFact {
    pub issued_case_type: u32,
    pub case_type: u32,
    /// `NO_NAME` when nobody.
    pub clerk: u32,
    /// 0 when none (counters are 1 to 999).
    pub counter: u16,
    pub transfers: u16,
    pub priority: bool,
    pub state: State,
    pub hour: u8,
    pub weekday: u8,
    wait: i32,
    unserved: i32,
    service: i32,
}

impl TicketFact {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        issued_case_type: u32,
        case_type: u32,
        clerk: Option<u32>,
        counter: Option<u16>,
        transfers: u32,
        priority: bool,
        state: State,
        hour: u8,
        weekday: u8,
        wait_ms: Option<i64>,
        unserved_ms: Option<i64>,
        service_ms: Option<i64>,
    ) -> Self {
        TicketFact {
            issued_case_type,
            case_type,
            clerk: clerk.unwrap_or(NO_NAME),
            counter: counter.unwrap_or(0),
            transfers: transfers.min(u32::from(u16::MAX)) as u16,
            priority,
            state,
            hour,
            weekday,
            wait: pack_ms(wait_ms),
            unserved: pack_ms(unserved_ms),
            service: pack_ms(service_ms),
        }
    }
    pub fn wait_ms(&self) -> Option<i64> {
        unpack_ms(self.wait)
    }
    pub fn unserved_ms(&self) -> Option<i64> {
        unpack_ms(self.unserved)
    }
    pub fn service_ms(&self) -> Option<i64> {
        unpack_ms(self.service)
    }
    pub fn counter(&self) -> Option<u16> {
        (self.counter != 0).then_some(self.counter)
    }
    pub fn clerk(&self) -> Option<u32> {
        (self.clerk != NO_NAME).then_some(self.clerk)
    }
}

/// A counter hour in a dataset: names interned.
#[derive(Debug, Clone, Copy)]
pub struct CounterHour {
    pub counter: u16,
    /// `NO_NAME` when the log names nobody.
    pub clerk: u32,
    pub hour: u8,
    pub open_ms: i64,
    pub paused_ms: i64,
    pub busy_ms: i64,
    pub serving_ms: i64,
}

/// The facts of one day.
#[derive(Debug, Clone)]
pub struct DayFacts {
    pub day: Date,
    pub tickets: Vec<TicketFact>,
    pub hours: Vec<CounterHour>,
}

impl DayFacts {
    /// A ticket issued or a counter opened.
    pub fn active(&self) -> bool {
        !self.tickets.is_empty() || !self.hours.is_empty()
    }

    /// Interns the names of `rows` in `names`.
    pub fn from_rows(day: Date, rows: &DayRows, names: &mut Names) -> DayFacts {
        let tickets = rows
            .tickets
            .iter()
            .map(|t| {
                TicketFact::new(
                    names.intern(&t.issued_case_type),
                    names.intern(&t.case_type),
                    t.clerk.as_deref().map(|c| names.intern(c)),
                    t.counter,
                    t.transfers,
                    t.priority,
                    t.state,
                    t.hour,
                    t.weekday,
                    t.wait_ms,
                    t.unserved_ms,
                    t.service_ms,
                )
            })
            .collect();
        let hours = rows
            .hours
            .iter()
            .map(|h| CounterHour {
                counter: h.counter,
                clerk: if h.clerk.is_empty() {
                    NO_NAME
                } else {
                    names.intern(&h.clerk)
                },
                hour: h.hour,
                open_ms: h.open_ms,
                paused_ms: h.paused_ms,
                busy_ms: h.busy_ms,
                serving_ms: h.serving_ms,
            })
            .collect();
        DayFacts {
            day,
            tickets,
            hours,
        }
    }
}

/// The facts of a range of days: the active days in order, and the names their numbers mean.
#[derive(Debug, Default, Clone)]
pub struct Dataset {
    pub names: Names,
    pub days: Vec<std::sync::Arc<DayFacts>>,
}

impl Dataset {
    pub fn tickets(&self) -> usize {
        self.days.iter().map(|d| d.tickets.len()).sum()
    }
}

/// The first instant of a local day.
pub fn day_start(day: Date, tz: &TimeZone) -> Timestamp {
    day.to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The local hour and ISO weekday (1 = Monday) of an instant in milliseconds.
pub fn local_hour_weekday(ms: i64, tz: &TimeZone) -> (u8, u8) {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => {
            let z = t.to_zoned(tz.clone());
            (z.hour() as u8, z.weekday().to_monday_one_offset() as u8)
        }
        Err(_) => (0, 1),
    }
}

/// The name of a clerk from an actor (`user:NAME`); devices and the system are no clerk.
fn clerk_of(actor: &str) -> Option<String> {
    actor
        .strip_prefix("user:")
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

/// Derives the facts of `day`. `now` bounds what is still going on (today's open counters
/// and waiting tickets); a closed day is bounded by its own end.
pub fn derive_day(
    conn: &Connection,
    day: Date,
    tz: &TimeZone,
    now: Timestamp,
) -> rusqlite::Result<DayRows> {
    let start = day_start(day, tz).as_millisecond();
    let end = day
        .tomorrow()
        .map(|d| day_start(d, tz).as_millisecond())
        .unwrap_or(start + 24 * HOUR_MS);
    let horizon = now.as_millisecond().clamp(start, end);
    let day_text = day.to_string();

    // The clerk of each ticket: the user behind the last event about it at a counter.
    let mut clerk_of_ticket: HashMap<i64, String> = HashMap::new();
    let mut hours = HourBook::new(day, tz.clone());
    let mut counters: HashMap<u16, CounterTrack> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT at, actor, kind, ticket_id, counter_id,
                    CASE WHEN kind = 'counter_opened' THEN json_extract(payload, '$.operator') END
             FROM events
             WHERE local_day = ?1 AND (counter_id IS NOT NULL OR kind = 'ticket_cancelled')
             ORDER BY id",
        )?;
        let mut rows = stmt.query([&day_text])?;
        while let Some(r) = rows.next()? {
            let at: i64 = r.get::<_, i64>(0)?.clamp(start, end);
            let actor: String = r.get(1)?;
            let kind: String = r.get(2)?;
            let ticket: Option<i64> = r.get(3)?;
            let counter: Option<u16> = r
                .get::<_, Option<i64>>(4)?
                .and_then(|c| u16::try_from(c).ok());
            let operator: Option<String> = r.get(5)?;
            if let (Some(t), Some(_)) = (ticket, counter)
                && let Some(name) = clerk_of(&actor)
            {
                clerk_of_ticket.insert(t, name);
            }
            match counter {
                Some(c) => {
                    let tr = counters.entry(c).or_insert_with(CounterTrack::closed);
                    tr.apply(&mut hours, c, &kind, ticket, at, || {
                        operator
                            .filter(|o| !o.is_empty())
                            .or_else(|| clerk_of(&actor))
                            .unwrap_or_default()
                    });
                }
                None if kind == "ticket_cancelled" => {
                    // A cancelled ticket frees whichever counter held it.
                    for (c, tr) in counters.iter_mut() {
                        if ticket.is_some() && tr.holding.as_ref().map(|h| h.ticket) == ticket {
                            tr.release(&mut hours, *c, ticket, at);
                        }
                    }
                }
                None => {}
            }
        }
    }
    // What is still going on runs until the end of the day, or until now for today.
    for (c, tr) in counters.iter_mut() {
        tr.release(&mut hours, *c, None, horizon);
        tr.end_status(&mut hours, *c, horizon);
    }

    let mut tickets = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT id, issued_case_type, case_type, priority IS NOT NULL, state, issued_at,
                    first_called_at, started_at, finished_at, counter, transfers
             FROM tickets WHERE day = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([&day_text])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let state_text: String = r.get(4)?;
            let Some(state) = State::parse(&state_text) else {
                tracing::warn!(ticket = id, state = %state_text, "unknown ticket state; skipped");
                continue;
            };
            let issued_at: i64 = r.get(5)?;
            let first_called: Option<i64> = r.get(6)?;
            let started: Option<i64> = r.get(7)?;
            let finished: Option<i64> = r.get(8)?;
            let counter: Option<u16> = r
                .get::<_, Option<i64>>(9)?
                .and_then(|c| u16::try_from(c).ok());
            let (hour, weekday) = local_hour_weekday(issued_at, tz);
            let wait_ms = first_called.map(|f| (f - issued_at).max(0));
            let unserved_ms = match (first_called, state) {
                (Some(_), _) => None,
                (None, State::Cancelled) => finished.map(|f| (f - issued_at).max(0)),
                (None, State::Waiting) => Some((now.as_millisecond() - issued_at).max(0)),
                (None, _) => None,
            };
            let service_ms = match (state, started, finished) {
                (State::Done, Some(s), Some(f)) => Some((f - s).max(0)),
                _ => None,
            };
            tickets.push(TicketRow {
                day,
                ticket_id: id,
                issued_case_type: r.get(1)?,
                case_type: r.get(2)?,
                priority: r.get(3)?,
                state,
                issued_at,
                hour,
                weekday,
                wait_ms,
                unserved_ms,
                service_ms,
                counter,
                clerk: None,
                transfers: r.get::<_, i64>(10)?.max(0) as u32,
            });
        }
    }
    // Tickets carried into a later day (office policy "keep") were last handled on that day.
    let mut older = conn.prepare_cached(
        "SELECT actor FROM events WHERE ticket_id = ?1 AND counter_id IS NOT NULL
         ORDER BY id DESC LIMIT 1",
    )?;
    for t in &mut tickets {
        t.clerk = match clerk_of_ticket.get(&t.ticket_id) {
            Some(name) => Some(name.clone()),
            None if t.counter.is_some() => older
                .query_row(params![t.ticket_id], |r| r.get::<_, String>(0))
                .optional()?
                .and_then(|a| clerk_of(&a)),
            None => None,
        };
    }
    Ok(DayRows {
        tickets,
        hours: hours.into_rows(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Closed,
    Open,
    Paused,
}

#[derive(Debug, Clone)]
struct Holding {
    ticket: i64,
    since: i64,
    serving_since: Option<i64>,
}

#[derive(Debug, Clone)]
struct CounterTrack {
    status: Status,
    operator: String,
    since: i64,
    holding: Option<Holding>,
}

impl CounterTrack {
    fn closed() -> Self {
        CounterTrack {
            status: Status::Closed,
            operator: String::new(),
            since: 0,
            holding: None,
        }
    }

    /// Follows one event at this counter.
    fn apply(
        &mut self,
        hours: &mut HourBook,
        c: u16,
        kind: &str,
        ticket: Option<i64>,
        at: i64,
        operator: impl FnOnce() -> String,
    ) {
        match kind {
            "counter_opened" if self.status == Status::Closed => {
                self.status = Status::Open;
                self.since = at;
                self.operator = operator();
            }
            "counter_paused" if self.status == Status::Open => {
                hours.add(c, &self.operator, Field::Open, self.since, at);
                self.status = Status::Paused;
                self.since = at;
            }
            "counter_resumed" if self.status == Status::Paused => {
                hours.add(c, &self.operator, Field::Paused, self.since, at);
                self.status = Status::Open;
                self.since = at;
            }
            "counter_closed" => {
                self.release(hours, c, None, at);
                self.end_status(hours, c, at);
                self.status = Status::Closed;
                self.since = at;
            }
            "ticket_called" => {
                self.release(hours, c, None, at);
                self.holding = ticket.map(|t| Holding {
                    ticket: t,
                    since: at,
                    serving_since: None,
                });
            }
            "service_started" => {
                if let Some(h) = self.holding.as_mut()
                    && Some(h.ticket) == ticket
                {
                    h.serving_since = Some(at);
                }
            }
            "service_finished" | "ticket_no_show" | "ticket_parked" | "ticket_transferred" => {
                self.release(hours, c, ticket, at);
            }
            _ => {}
        }
    }

    /// Books the time since the last change of status, up to `at`.
    fn end_status(&mut self, hours: &mut HourBook, c: u16, at: i64) {
        match self.status {
            Status::Open => hours.add(c, &self.operator, Field::Open, self.since, at),
            Status::Paused => hours.add(c, &self.operator, Field::Paused, self.since, at),
            Status::Closed => {}
        }
    }

    /// Ends the holding of a ticket at `at` (of `ticket` only, if given).
    fn release(&mut self, hours: &mut HourBook, counter: u16, ticket: Option<i64>, at: i64) {
        let matches = match (&self.holding, ticket) {
            (Some(h), Some(t)) => h.ticket == t,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !matches {
            return;
        }
        if let Some(h) = self.holding.take() {
            hours.add(counter, &self.operator, Field::Busy, h.since, at);
            if let Some(s) = h.serving_since {
                hours.add(counter, &self.operator, Field::Serving, s, at);
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Open,
    Paused,
    Busy,
    Serving,
}

/// Adds intervals to (counter, clerk, local hour) buckets, splitting them at hour boundaries.
struct HourBook {
    day: Date,
    tz: TimeZone,
    rows: HashMap<(u16, String, u8), CounterHourRow>,
}

impl HourBook {
    fn new(day: Date, tz: TimeZone) -> Self {
        HourBook {
            day,
            tz,
            rows: HashMap::new(),
        }
    }

    fn add(&mut self, counter: u16, clerk: &str, field: Field, from: i64, to: i64) {
        let mut t = from;
        while t < to {
            // Local hours start where the local clock shows a whole hour: with the offset in
            // force at `t`, the next boundary is the next multiple of an hour in local time.
            let offset_ms = Timestamp::from_millisecond(t)
                .map(|ts| i64::from(self.tz.to_offset(ts).seconds()) * 1000)
                .unwrap_or(0);
            let local = t + offset_ms;
            let next = (local.div_euclid(HOUR_MS) + 1) * HOUR_MS - offset_ms;
            let until = next.min(to).max(t + 1);
            let (hour, _) = local_hour_weekday(t, &self.tz);
            let row = self
                .rows
                .entry((counter, clerk.to_owned(), hour))
                .or_insert_with(|| CounterHourRow {
                    day: self.day,
                    counter,
                    clerk: clerk.to_owned(),
                    hour,
                    ..CounterHourRow::default()
                });
            let span = until - t;
            match field {
                Field::Open => row.open_ms += span,
                Field::Paused => row.paused_ms += span,
                Field::Busy => row.busy_ms += span,
                Field::Serving => row.serving_ms += span,
            }
            t = until;
        }
    }

    fn into_rows(self) -> Vec<CounterHourRow> {
        let mut rows: Vec<CounterHourRow> = self.rows.into_values().collect();
        rows.sort_by(|a, b| (a.counter, &a.clerk, a.hour).cmp(&(b.counter, &b.clerk, b.hour)));
        rows
    }
}
