//! The seeder: fills an empty database with a realistic history, for demos, the statistics
//! page and the benchmark (docs/BENCHMARKS.md).
//!
//! It simulates each working day minute by minute in the real engine: kiosks issue tickets
//! along a daily arrival curve, clerks open counters, call, recall, start, finish, mark
//! no-shows (about 5 %), transfer (about 3 %), take a lunch break, and a manager cancels a few
//! tickets of people who left. Every decision is the engine's (`Engine::handle`/`apply`), so
//! events and ticket rows are exactly what the service would have written. They are written
//! straight into the same tables in one transaction per day rather than through the queue
//! writer, whose one-fsync-per-batch durability would make a year of history take hours.
//!
//! The office is the configured one with two changes the numbers need: no daily caps, and as
//! many counters as the load asks for (the configured counters repeated, keeping what each
//! serves). The seeded days end the day before today, and the log then starts the next day, so
//! every seeded day is closed and summarized at once.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, TransactionBehavior};

use super::summary;
use crate::engine::{
    Actor, CaseTypeCode, Command, Counter, CounterId, DomainError, Engine, Event, EventKind, Lang,
    Office, Ticket, TicketId, TicketNumber, TicketState, TransferTarget,
};
use crate::store::Store;

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Working days to simulate (office open, not a closed date).
    pub days: u32,
    /// Tickets on an average day.
    pub per_day: u32,
    /// The first day; by default the days end yesterday.
    pub start: Option<Date>,
    /// The random seed: the same seed gives the same history.
    pub seed: u64,
    /// Counters to open; by default enough for the load at about 75 % utilization.
    pub counters: Option<u32>,
}

/// What was seeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOutcome {
    pub first: Date,
    pub last: Date,
    pub days: u32,
    pub tickets: u64,
    pub events: u64,
    pub counters: u32,
    pub summarized: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the engine refused a simulated step ({what}): {source}")]
    Engine { what: String, source: DomainError },
    #[error("cannot serialize an event: {0}")]
    Json(#[from] serde_json::Error),
}

/// Seeds the database at `db` (created if missing; it must hold no events yet). `today` is
/// the local date the seeded days end before; `progress` is told about each tenth day.
pub fn seed(
    db: &Path,
    office: &Office,
    opts: &SeedOptions,
    today: Date,
    mut progress: impl FnMut(&str),
) -> Result<SeedOutcome, SeedError> {
    if opts.days == 0 || opts.days > 2000 {
        return Err(SeedError::Invalid("--days must be 1 to 2000".into()));
    }
    if opts.per_day == 0 || opts.per_day > 20_000 {
        return Err(SeedError::Invalid("--per-day must be 1 to 20000".into()));
    }
    // Create and migrate the database the normal way, then write with our own connection.
    Store::open(db)?.close()?;
    let mut conn = Connection::open(db)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let existing: i64 = conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
    if existing > 0 {
        return Err(SeedError::Invalid(format!(
            "{} already holds {existing} events; seed an empty database",
            db.display()
        )));
    }

    let sim_office = Arc::new(simulated_office(office, opts)?);
    let days = working_days(&sim_office, opts, today)?;
    let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
        return Err(SeedError::Invalid("no working day to seed".into()));
    };
    let mut sim = Sim {
        engine: Engine::new(sim_office.clone()),
        office: sim_office.clone(),
        rng: StdRng::seed_from_u64(opts.seed),
        seq: 0,
        batch: Vec::new(),
        rows: BTreeMap::new(),
        tickets: 0,
    };
    let mut events = 0u64;
    for (i, day) in days.iter().enumerate() {
        sim.day(*day, i as u32, opts.per_day)?;
        events += sim.batch.len() as u64;
        sim.write(&mut conn)?;
        if (i + 1) % 10 == 0 || i + 1 == days.len() {
            progress(&format!(
                "seeded {} of {} days ({day}), {} tickets",
                i + 1,
                days.len(),
                sim.tickets
            ));
        }
    }
    // Start the next day, as the service would at midnight: every seeded day is then closed.
    let next = last
        .tomorrow()
        .map_err(|e| SeedError::Invalid(e.to_string()))?;
    let at = sim.at(next, 0, 0, 30)?;
    let rollover = sim.engine.clone().rollover(at);
    for e in rollover {
        sim.stage(e);
    }
    events += sim.batch.len() as u64;
    sim.write(&mut conn)?;
    let summarized = summary::summarize_closed(&mut conn, &sim_office.time_zone, Timestamp::now())?;
    conn.close().map_err(|(_, e)| SeedError::Sqlite(e))?;
    Ok(SeedOutcome {
        first,
        last,
        days: days.len() as u32,
        tickets: sim.tickets,
        events,
        counters: sim_office.counters.len() as u32,
        summarized: summarized.len(),
    })
}

/// The mix of case types of an average town-hall day, by the demo office's codes; other codes
/// get the average share.
fn mix_weight(code: &str) -> f64 {
    match code {
        "dowody" => 30.0,
        "meldunki" => 20.0,
        "pojazdy" => 17.0,
        "prawa-jazdy" => 10.0,
        "usc" => 6.0,
        "podatki" => 12.0,
        "dzialalnosc" => 5.0,
        _ => 14.0,
    }
}

/// Arrivals by local hour: a morning peak, a lunch plateau, a quiet end of the day.
fn hour_weight(hour: i8) -> f64 {
    match hour {
        7 => 0.6,
        8 => 1.2,
        9 | 10 => 1.5,
        11 => 1.3,
        12 | 13 => 1.1,
        14 => 1.0,
        15 => 0.8,
        16 => 0.7,
        _ => 0.5,
    }
}

/// Mondays are busiest, Fridays quietest.
fn weekday_factor(w: Weekday) -> f64 {
    match w {
        Weekday::Monday => 1.2,
        Weekday::Tuesday => 1.0,
        Weekday::Wednesday => 1.05,
        Weekday::Thursday => 1.0,
        Weekday::Friday => 0.75,
        _ => 1.0,
    }
}

fn simulated_office(office: &Office, opts: &SeedOptions) -> Result<Office, SeedError> {
    let mut o = office.clone();
    o.issue_outside_hours = false;
    for ct in &mut o.case_types {
        ct.daily_cap = None;
    }
    if o.counters.is_empty() || o.case_types.is_empty() {
        return Err(SeedError::Invalid(
            "the office needs case types and counters".into(),
        ));
    }
    let total: f64 = o
        .case_types
        .iter()
        .map(|c| mix_weight(c.code.as_str()))
        .sum();
    let work_min: f64 = o
        .case_types
        .iter()
        .map(|c| mix_weight(c.code.as_str()) / total * f64::from(c.default_service_min))
        .sum::<f64>()
        * f64::from(opts.per_day);
    let wanted = match opts.counters {
        Some(n) => n,
        // About 7.5 hours of work per counter a day at 75 % utilization.
        None => (work_min / (450.0 * 0.75)).ceil() as u32,
    };
    // Each configured counter is repeated in proportion to the work of the case types it
    // serves first (its highest weight), shared with the other counters that serve them first.
    let template = o.counters.clone();
    let work = |code: &CaseTypeCode| {
        o.case_type(code).map_or(0.0, |c| {
            mix_weight(code.as_str()) / total * f64::from(c.default_service_min)
        })
    };
    let primary = |c: &Counter| -> Vec<CaseTypeCode> {
        let top = c.serves.values().copied().max().unwrap_or(0);
        c.serves
            .iter()
            .filter(|(_, w)| **w == top)
            .map(|(code, _)| code.clone())
            .collect()
    };
    let load: Vec<f64> = template
        .iter()
        .map(|c| {
            primary(c)
                .iter()
                .map(|code| {
                    let sharing = template
                        .iter()
                        .filter(|t| primary(t).contains(code))
                        .count()
                        .max(1);
                    work(code) / sharing as f64
                })
                .sum()
        })
        .collect();
    let load_total: f64 = load.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let copies: Vec<u32> = load
        .iter()
        .map(|l| ((f64::from(wanted) * l / load_total).round() as u32).max(1))
        .collect();
    let mut counters = Vec::new();
    for k in 0..copies.iter().copied().max().unwrap_or(1) {
        for (c, n) in template.iter().zip(&copies) {
            if k >= *n || counters.len() >= usize::from(CounterId::MAX) {
                continue;
            }
            let id =
                CounterId::new(counters.len() as u32 + 1).map_err(|e| SeedError::Invalid(e.0))?;
            counters.push(Counter {
                id,
                name: crate::engine::Texts::same(&format!("Stanowisko {id}")),
                location: c.location.clone(),
                serves: c.serves.clone(),
            });
        }
    }
    o.counters = counters;
    Ok(o)
}

/// The working days to seed: `opts.days` days on which the office is open, from `opts.start`
/// or ending yesterday.
fn working_days(office: &Office, opts: &SeedOptions, today: Date) -> Result<Vec<Date>, SeedError> {
    let open =
        |d: Date| !office.closed_dates.contains(&d) && office.hours.on(d.weekday()).is_some();
    let mut days = Vec::new();
    match opts.start {
        Some(start) => {
            let mut d = start;
            while days.len() < opts.days as usize {
                if open(d) {
                    days.push(d);
                }
                d = d
                    .tomorrow()
                    .map_err(|e| SeedError::Invalid(e.to_string()))?;
                if (d - start).get_days() > 20 * 366 {
                    return Err(SeedError::Invalid("the office is hardly ever open".into()));
                }
            }
        }
        None => {
            let mut d = today;
            while days.len() < opts.days as usize {
                d = d
                    .yesterday()
                    .map_err(|e| SeedError::Invalid(e.to_string()))?;
                if open(d) {
                    days.push(d);
                }
                if (today - d).get_days() > 20 * 366 {
                    return Err(SeedError::Invalid("the office is hardly ever open".into()));
                }
            }
            days.reverse();
        }
    }
    if days.last().is_some_and(|d| *d >= today) {
        return Err(SeedError::Invalid(format!(
            "the seeded days must end before today ({today}); choose an earlier --start"
        )));
    }
    Ok(days)
}

/// What happens next in the simulation of a day, in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Open(usize),
    Arrive(usize),
    Step(usize, Step),
    LunchStart(usize),
    LunchEnd(usize),
    CloseCheck(usize),
    Cancel(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Recall,
    NoShow,
    Start,
    Finish,
    Transfer(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Desk {
    Closed,
    Idle,
    Busy,
    Paused,
}

struct Sim {
    engine: Engine,
    office: Arc<Office>,
    rng: StdRng,
    seq: i64,
    /// Events staged since the last write, with their local days.
    batch: Vec<(i64, Event, Date)>,
    /// Tickets touched since the last write, as they are now, with the seq of their last event.
    rows: BTreeMap<TicketId, (Ticket, i64)>,
    tickets: u64,
}

impl Sim {
    fn at(&self, day: Date, h: i8, m: i8, s: i8) -> Result<Timestamp, SeedError> {
        day.at(h, m, s, 0)
            .to_zoned(self.office.time_zone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| SeedError::Invalid(e.to_string()))
    }

    /// Applies one event and records it and the tickets it touched, as the queue writer does.
    fn stage(&mut self, event: Event) {
        self.seq += 1;
        let seq = self.seq;
        self.engine.apply(&event);
        let day = self
            .engine
            .day()
            .unwrap_or_else(|| self.engine.local_date(event.at));
        let mut touched: Vec<TicketId> = event.kind.ticket().into_iter().collect();
        if let EventKind::DayStarted { carried, .. } = &event.kind {
            touched.extend(carried.iter().map(|t| t.id));
        }
        for id in touched {
            if let Some(t) = self.engine.ticket(id) {
                self.rows.insert(id, (t.clone(), seq));
            }
        }
        if matches!(event.kind, EventKind::TicketIssued { .. }) {
            self.tickets += 1;
        }
        self.batch.push((seq, event, day));
    }

    fn exec(&mut self, cmd: Command, actor: &Actor, now: Timestamp) -> Result<(), DomainError> {
        let events = self.engine.handle(&cmd, actor, now)?;
        for e in events {
            self.stage(e);
        }
        Ok(())
    }

    /// Simulates one working day.
    fn day(&mut self, day: Date, index: u32, per_day: u32) -> Result<(), SeedError> {
        let office = self.office.clone();
        let tz = office.time_zone.clone();
        let Some(hours) = office.hours.on(day.weekday()) else {
            return Ok(());
        };
        let ms = |t: Timestamp| t.as_millisecond();
        let to_ts = |v: i64| Timestamp::from_millisecond(v).unwrap_or(Timestamp::UNIX_EPOCH);
        let start = self.at(day, 0, 0, 30)?;
        for e in self.engine.clone().rollover(start) {
            self.stage(e);
        }
        let day_ms = ms(self.at(day, 0, 0, 0)?);
        let local = |t: jiff::civil::Time| {
            day.to_datetime(t)
                .to_zoned(tz.clone())
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(day_ms)
        };
        let open_ms = local(hours.open);
        let close_ms = local(hours.close);

        // Arrivals: how many, of which case type, when.
        let factor = weekday_factor(day.weekday()) * self.rng.random_range(0.9..1.1);
        let n = (f64::from(per_day) * factor).round().max(1.0) as usize;
        let windows: Vec<(usize, i64, i64)> = office
            .case_types
            .iter()
            .enumerate()
            .filter_map(|(i, ct)| {
                let w = office.issuing_window(ct, day)?;
                Some((i, local(w.open), local(w.close)))
            })
            .collect();
        if windows.is_empty() {
            return Ok(());
        }
        let weights: Vec<f64> = windows
            .iter()
            .map(|(i, _, _)| {
                office
                    .case_types
                    .get(*i)
                    .map_or(1.0, |c| mix_weight(c.code.as_str()))
            })
            .collect();
        let total: f64 = weights.iter().sum();
        let mut arrivals: Vec<(i64, usize)> = Vec::with_capacity(n);
        for _ in 0..n {
            let mut pick = self.rng.random_range(0.0..total);
            let mut chosen = windows.len() - 1;
            for (k, w) in weights.iter().enumerate() {
                if pick < *w {
                    chosen = k;
                    break;
                }
                pick -= w;
            }
            let Some(&(ct, from, until)) = windows.get(chosen) else {
                continue;
            };
            // Rejection sampling along the hour curve.
            let t = loop {
                let t = self.rng.random_range(from..until.max(from + 1));
                let hour = to_ts(t).to_zoned(tz.clone()).hour();
                if self.rng.random_range(0.0..1.6) < hour_weight(hour) {
                    break t;
                }
            };
            arrivals.push((t, ct));
        }
        arrivals.sort_unstable();

        // The day's clerks: a different mix of people each day.
        let desks = office.counters.len();
        let pool = desks * 5 / 4 + 1;
        let clerks: Vec<Actor> = (0..desks)
            .map(|i| {
                let k = (i + index as usize * 7) % pool;
                Actor::User(format!("urzednik{:03}", k + 1))
            })
            .collect();
        let manager = Actor::User("kierownik".into());
        let kiosk = Actor::Device("1".into());
        let mut desk = vec![Desk::Closed; desks];
        let mut lunch_due = vec![false; desks];
        let mut numbers: Vec<Option<TicketNumber>> = vec![None; arrivals.len()];
        let mut heap: BinaryHeap<Reverse<(i64, u64, Ev)>> = BinaryHeap::new();
        let mut order = 0u64;
        let mut push = |heap: &mut BinaryHeap<Reverse<(i64, u64, Ev)>>, t: i64, ev: Ev| {
            order += 1;
            heap.push(Reverse((t, order, ev)));
        };
        let long_day = close_ms - open_ms >= 7 * 3_600_000;
        for i in 0..desks {
            let t = open_ms + self.rng.random_range(0..300_000);
            push(&mut heap, t, Ev::Open(i));
            push(&mut heap, close_ms, Ev::CloseCheck(i));
            if long_day {
                let lunch =
                    local(jiff::civil::time(11, 0, 0, 0)) + self.rng.random_range(0..150 * 60_000);
                push(&mut heap, lunch, Ev::LunchStart(i));
            }
        }
        for (k, (t, _)) in arrivals.iter().enumerate() {
            push(&mut heap, *t, Ev::Arrive(k));
            if self.rng.random_bool(0.01) {
                let later = t + self.rng.random_range(15 * 60_000..60 * 60_000);
                push(&mut heap, later, Ev::Cancel(k));
            }
        }

        let counter_id = |i: usize| office.counters.get(i).map(|c| c.id);
        let fail = |what: String| move |source| SeedError::Engine { what, source };

        while let Some(Reverse((t, _, ev))) = heap.pop() {
            let now = to_ts(t);
            // Which desks to offer a ticket of a case type to: idle ones serving it, the ones
            // that weigh it most first.
            let mut wake: Option<CaseTypeCode> = None;
            let mut free: Option<usize> = None;
            match ev {
                Ev::Open(i) => {
                    let (Some(c), Some(who)) = (counter_id(i), clerks.get(i)) else {
                        continue;
                    };
                    let Actor::User(name) = who else { continue };
                    self.exec(
                        Command::OpenCounter {
                            counter: c,
                            operator: name.clone(),
                        },
                        who,
                        now,
                    )
                    .map_err(fail(format!("open counter {c}")))?;
                    desk[i] = Desk::Idle;
                    free = Some(i);
                }
                Ev::Arrive(k) => {
                    let Some(&(_, ct)) = arrivals.get(k) else {
                        continue;
                    };
                    let Some(case_type) = office.case_types.get(ct).map(|c| c.code.clone()) else {
                        continue;
                    };
                    let priority =
                        if self.rng.random_bool(0.04) && !office.priority_categories.is_empty() {
                            let p = self.rng.random_range(0..office.priority_categories.len());
                            office.priority_categories.get(p).map(|p| p.code.clone())
                        } else {
                            None
                        };
                    let lang = match self.rng.random_range(0..100) {
                        0..85 => Lang::Pl,
                        85..97 => Lang::Uk,
                        _ => Lang::En,
                    };
                    let before = self.batch.len();
                    self.exec(
                        Command::IssueTicket {
                            case_type: case_type.clone(),
                            priority,
                            lang,
                        },
                        &kiosk,
                        now,
                    )
                    .map_err(fail(format!("issue a ticket of {case_type}")))?;
                    if let Some((_, e, _)) = self.batch.get(before)
                        && let EventKind::TicketIssued { number, .. } = &e.kind
                        && let Some(slot) = numbers.get_mut(k)
                    {
                        *slot = Some(number.clone());
                    }
                    wake = Some(case_type);
                }
                Ev::Cancel(k) => {
                    let Some(Some(number)) = numbers.get(k).cloned() else {
                        continue;
                    };
                    let waiting = self
                        .engine
                        .find(&number)
                        .is_some_and(|t| t.state == TicketState::Waiting);
                    if waiting {
                        self.exec(
                            Command::Cancel {
                                number: number.clone(),
                                reason: "klient zrezygnował".into(),
                            },
                            &manager,
                            now,
                        )
                        .map_err(fail(format!("cancel {number}")))?;
                    }
                }
                Ev::Step(i, step) => {
                    let (Some(c), Some(who)) = (counter_id(i), clerks.get(i)) else {
                        continue;
                    };
                    let cmd = match step {
                        Step::Recall => Command::Recall { counter: c },
                        Step::NoShow => Command::MarkNoShow { counter: c },
                        Step::Start => Command::StartService { counter: c },
                        Step::Finish => Command::FinishService { counter: c },
                        Step::Transfer(ct) => {
                            let Some(target) = office.case_types.get(ct).map(|c| c.code.clone())
                            else {
                                continue;
                            };
                            wake = Some(target.clone());
                            Command::Transfer {
                                counter: c,
                                to: TransferTarget::CaseType { case_type: target },
                            }
                        }
                    };
                    self.exec(cmd, who, now)
                        .map_err(fail(format!("{step:?} at counter {c}")))?;
                    if matches!(step, Step::NoShow | Step::Finish | Step::Transfer(_)) {
                        desk[i] = Desk::Idle;
                        free = Some(i);
                    }
                }
                Ev::LunchStart(i) => match desk.get(i) {
                    Some(Desk::Idle) => {
                        self.pause(i, &clerks, &office, now)?;
                        desk[i] = Desk::Paused;
                        push(&mut heap, t + 30 * 60_000, Ev::LunchEnd(i));
                    }
                    Some(Desk::Busy) => lunch_due[i] = true,
                    _ => {}
                },
                Ev::LunchEnd(i) => {
                    let (Some(c), Some(who)) = (counter_id(i), clerks.get(i)) else {
                        continue;
                    };
                    if desk.get(i) == Some(&Desk::Paused) {
                        self.exec(Command::ResumeCounter { counter: c }, who, now)
                            .map_err(fail(format!("resume counter {c}")))?;
                        desk[i] = Desk::Idle;
                        free = Some(i);
                    }
                }
                Ev::CloseCheck(i) => {
                    if desk.get(i) == Some(&Desk::Idle) {
                        free = Some(i);
                    }
                }
            }
            // A desk that became free takes a break if one is due, else calls the next ticket.
            if let Some(i) = free {
                if lunch_due.get(i) == Some(&true) && t < close_ms {
                    lunch_due[i] = false;
                    self.pause(i, &clerks, &office, now)?;
                    desk[i] = Desk::Paused;
                    push(&mut heap, t + 30 * 60_000, Ev::LunchEnd(i));
                } else if let Some(steps) = self.call(i, &clerks, &office, now, t >= close_ms)? {
                    desk[i] = Desk::Busy;
                    for (dt, s) in steps {
                        push(&mut heap, t + dt, Ev::Step(i, s));
                    }
                } else if t >= close_ms {
                    desk[i] = Desk::Closed;
                }
            }
            if let Some(ct) = wake {
                let mut idle: Vec<(u32, usize)> = office
                    .counters
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| desk.get(*i) == Some(&Desk::Idle))
                    .filter_map(|(i, c)| {
                        let w = self
                            .engine
                            .counter(c.id)
                            .and_then(|s| s.serves.get(&ct).copied())?;
                        Some((w, i))
                    })
                    .collect();
                idle.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                for (_, i) in idle {
                    if let Some(steps) = self.call(i, &clerks, &office, now, false)? {
                        desk[i] = Desk::Busy;
                        for (dt, s) in steps {
                            push(&mut heap, t + dt, Ev::Step(i, s));
                        }
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    fn pause(
        &mut self,
        i: usize,
        clerks: &[Actor],
        office: &Office,
        now: Timestamp,
    ) -> Result<(), SeedError> {
        let (Some(c), Some(who)) = (office.counters.get(i).map(|c| c.id), clerks.get(i)) else {
            return Ok(());
        };
        self.exec(
            Command::PauseCounter {
                counter: c,
                reason: "przerwa obiadowa".into(),
            },
            who,
            now,
        )
        .map_err(|source| SeedError::Engine {
            what: format!("pause counter {c}"),
            source,
        })
    }

    /// Calls the next ticket at desk `i`; the steps of its service (offsets in ms), or `None`
    /// when there is nothing to call (and then, at closing time, the desk closes).
    fn call(
        &mut self,
        i: usize,
        clerks: &[Actor],
        office: &Office,
        now: Timestamp,
        closing: bool,
    ) -> Result<Option<Vec<(i64, Step)>>, SeedError> {
        let (Some(c), Some(who)) = (office.counters.get(i).map(|c| c.id), clerks.get(i)) else {
            return Ok(None);
        };
        let before = self.batch.len();
        match self.exec(Command::CallNext { counter: c }, who, now) {
            Ok(()) => {}
            Err(DomainError::NothingToCall(_)) => {
                if closing {
                    self.exec(Command::CloseCounter { counter: c }, who, now)
                        .map_err(|source| SeedError::Engine {
                            what: format!("close counter {c}"),
                            source,
                        })?;
                }
                return Ok(None);
            }
            Err(source) => {
                return Err(SeedError::Engine {
                    what: format!("call at counter {c}"),
                    source,
                });
            }
        }
        let called = self
            .batch
            .get(before)
            .and_then(|(_, e, _)| e.kind.ticket())
            .and_then(|id| self.engine.ticket(id))
            .map(|t| t.case_type.clone());
        let Some(case_type) = called else {
            return Ok(Some(Vec::new()));
        };
        let mut steps = Vec::new();
        if self.rng.random_bool(0.05) {
            // Nobody comes: two recalls, then a no-show.
            steps.push((45_000, Step::Recall));
            steps.push((90_000, Step::Recall));
            steps.push((135_000, Step::NoShow));
            return Ok(Some(steps));
        }
        let walk = self.rng.random_range(15_000..75_000);
        steps.push((walk, Step::Start));
        let mean_min = office
            .case_type(&case_type)
            .map_or(10.0, |c| f64::from(c.default_service_min));
        let service = self
            .lognormal(mean_min * 60_000.0, 0.5)
            .clamp(60_000.0, mean_min * 240_000.0);
        let others: Vec<usize> = office
            .case_types
            .iter()
            .enumerate()
            .filter(|(_, c)| c.code != case_type)
            .map(|(k, _)| k)
            .collect();
        if !others.is_empty() && self.rng.random_bool(0.03) {
            let to = others[self.rng.random_range(0..others.len())];
            steps.push((walk + (service / 2.0) as i64, Step::Transfer(to)));
        } else {
            steps.push((walk + service as i64, Step::Finish));
        }
        Ok(Some(steps))
    }

    /// A log-normal duration with this mean and coefficient of variation.
    fn lognormal(&mut self, mean: f64, cv: f64) -> f64 {
        let s2 = (1.0 + cv * cv).ln();
        let mu = mean.ln() - s2 / 2.0;
        let u1: f64 = self.rng.random_range(f64::EPSILON..1.0);
        let u2: f64 = self.rng.random_range(0.0..1.0);
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (mu + s2.sqrt() * z).exp()
    }

    /// Writes the staged events and ticket rows in one transaction, with the same code the
    /// writer thread uses (`store::write_rows`), so the seeded tables are exactly the service's.
    fn write(&mut self, conn: &mut Connection) -> Result<(), SeedError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        crate::store::write_rows(
            &tx,
            self.batch.iter().map(|(seq, e, day)| (*seq, e, *day)),
            self.rows.values().map(|(t, last)| (t, *last)),
        )?;
        tx.commit()?;
        self.batch.clear();
        self.rows.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Office;

    #[test]
    fn a_small_seeded_history_is_consistent_and_summarized() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("seed.db");
        let office = Office::sample();
        let today: Date = "2026-03-31".parse().expect("date");
        let opts = SeedOptions {
            days: 3,
            per_day: 120,
            start: None,
            seed: 7,
            counters: None,
        };
        let out = seed(&db, &office, &opts, today, |_| {}).expect("seed");
        assert_eq!(out.days, 3);
        assert_eq!(out.last, "2026-03-30".parse::<Date>().expect("date"));
        assert_eq!(
            out.summarized, 3,
            "every seeded day is closed and summarized"
        );
        assert!(out.tickets > 250, "{out:?}");
        // The log replays into a consistent engine (what a restart does).
        let store = Store::open(&db).expect("open");
        let (engine, version) = store
            .restore(Arc::new(simulated_office(&office, &opts).expect("office")))
            .expect("restore");
        assert_eq!(version as u64, out.events);
        assert_eq!(engine.day(), Some("2026-03-31".parse().expect("date")));
        let conn = Connection::open(&db).expect("conn");
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
        assert_eq!(count("SELECT COUNT(*) FROM tickets") as u64, out.tickets);
        assert_eq!(
            count(
                "SELECT COUNT(*) FROM tickets WHERE state NOT IN ('done', 'no_show', 'cancelled')"
            ),
            0
        );
        assert!(count("SELECT COUNT(*) FROM tickets WHERE state = 'no_show'") > 0);
        assert!(count("SELECT COUNT(*) FROM tickets WHERE transfers > 0") > 0);
        assert!(count("SELECT COUNT(*) FROM events WHERE kind = 'counter_paused'") > 0);
        // Every event's payload reads back as the event its columns say.
        let events = store.events_from(1).expect("events");
        assert_eq!(events.len() as u64, out.events);
        assert_eq!(
            count("SELECT COUNT(*) FROM stats_tickets") as u64,
            out.tickets
        );
        // Seeding twice is refused.
        drop(store);
        assert!(matches!(
            seed(&db, &office, &opts, today, |_| {}),
            Err(SeedError::Invalid(_))
        ));
    }
}
