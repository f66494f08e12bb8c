//! Databases for the restart measurement, written by the real engine and storage code: a
//! busy day (today, as a restart at midday would find it) and a full year of working days
//! before it. Days are played wave by wave on a manual clock: tickets issued, then every
//! counter finishes, calls and starts in rounds. The jobs of a wave are put on the writer's
//! queue in order without waiting for each answer, so they commit in large batches (group
//! commit) and a year takes a minute, not hours.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use jiff::civil::{Date, Weekday};
use jiff::{Timestamp, ToSpan};
use kolejka::clock::{Clock, ManualClock};
use kolejka::engine::{Actor, CaseTypeCode, Command, CounterId, Lang, Office, PriorityCode};
use kolejka::store::{Queue, Store, SubmitError};

/// How the tickets of a day are spread over the case types (per mille). The two capped case
/// types stay under their caps for days up to 1,500 tickets.
const MIX: &[(&str, u32)] = &[
    ("dowody", 300),
    ("meldunki", 250),
    ("pojazdy", 90),
    ("prawa-jazdy", 60),
    ("usc", 80),
    ("podatki", 140),
    ("dzialalnosc", 80),
];

/// Waves in a day: tickets issued, then the counters work through them.
const WAVES: usize = 20;

/// What was written.
#[derive(Debug, Default)]
pub struct Generated {
    pub days: usize,
    pub tickets_today: u64,
    pub tickets: u64,
    pub events: i64,
    pub refused: u64,
    pub secs: f64,
    pub bytes: u64,
}

/// Writes `past_days` working days (Monday to Friday, the latest ones before today) of
/// `per_day` tickets, then today with `today` tickets, into a new database at `db`.
pub async fn generate(
    db: &Path,
    office: Office,
    past_days: usize,
    per_day: usize,
    today: usize,
) -> Result<Generated, String> {
    let started = Instant::now();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let tz = office.time_zone.clone();
    let now = Timestamp::now();
    let today_date = now.to_zoned(tz.clone()).date();
    let mut dates = Vec::new();
    let mut d = today_date;
    while dates.len() < past_days {
        d = d.yesterday().map_err(|e| e.to_string())?;
        if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
            dates.push(d);
        }
    }
    dates.reverse();
    let at = |date: Date, h: i8, m: i8| -> Result<Timestamp, String> {
        date.at(h, m, 0, 0)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string())
    };
    let first = match dates.first() {
        Some(d) => at(*d, 7, 0)?,
        None => at(today_date, 0, 0)?,
    };
    let clock = Arc::new(ManualClock::new(first));
    let counters: Vec<CounterId> = office.counters.iter().map(|c| c.id).collect();
    let office = Arc::new(office);
    let store = Store::open(db).map_err(|e| e.to_string())?;
    let queue = Queue::start(store, office, clock.clone()).map_err(|e| e.to_string())?;
    let mut out = Generated::default();
    for date in &dates {
        let (from, to) = (at(*date, 7, 30)?, at(*date, 15, 0)?);
        let day = play_day(&queue, &clock, &counters, per_day, from, to, true).await?;
        out.tickets += day.0;
        out.refused += day.1;
        out.days += 1;
    }
    // Today, from just after midnight to a minute ago, leaving the last wave waiting.
    let midnight = at(today_date, 0, 0)?;
    let from = midnight
        .checked_add(1.second())
        .map_err(|e| e.to_string())?;
    let to = now
        .checked_sub(1.minute())
        .map_err(|e| e.to_string())?
        .max(from);
    let day = play_day(&queue, &clock, &counters, today, from, to, false).await?;
    out.tickets += day.0;
    out.tickets_today = day.0;
    out.refused += day.1;
    out.days += 1;
    out.events = queue.read(|_, version| version);
    tokio::task::spawn_blocking(move || queue.shutdown())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    out.bytes = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    out.secs = started.elapsed().as_secs_f64();
    Ok(out)
}

/// Plays one day between `from` and `to`; returns (tickets issued, commands refused).
async fn play_day(
    queue: &Queue,
    clock: &ManualClock,
    counters: &[CounterId],
    tickets: usize,
    from: Timestamp,
    to: Timestamp,
    finish_day: bool,
) -> Result<(u64, u64), String> {
    let span = to.as_millisecond() - from.as_millisecond();
    let per_wave = tickets.div_ceil(WAVES);
    // Enough rounds that the counters keep up with a wave (some serve few case types).
    let rounds = per_wave.div_ceil(counters.len()) + 2;
    let kiosk = Actor::Device("kiosk-1".into());
    let clerk = |c: &CounterId| Actor::User(format!("clerk-{c}"));
    let mut issued = 0_u64;
    let mut refused = 0_u64;
    let mut n = 0_usize;
    for wave in 0..WAVES {
        let ms = from.as_millisecond() + span * wave as i64 / WAVES as i64;
        clock.set(Timestamp::from_millisecond(ms).map_err(|e| e.to_string())?);
        let mut jobs = Vec::new();
        if wave == 0 {
            for c in counters {
                jobs.push((
                    Command::OpenCounter {
                        counter: *c,
                        operator: format!("clerk-{c}"),
                    },
                    clerk(c),
                ));
            }
        }
        let mut issuing = 0;
        while issuing < per_wave && n < tickets {
            jobs.push((issue(n)?, kiosk.clone()));
            issuing += 1;
            n += 1;
        }
        let last_wave = wave + 1 == WAVES;
        if !last_wave || finish_day {
            for _ in 0..rounds {
                for c in counters {
                    jobs.push((Command::FinishService { counter: *c }, clerk(c)));
                    jobs.push((Command::CallNext { counter: *c }, clerk(c)));
                    jobs.push((Command::StartService { counter: *c }, clerk(c)));
                }
            }
        }
        if last_wave && finish_day {
            for c in counters {
                jobs.push((Command::FinishService { counter: *c }, clerk(c)));
                jobs.push((Command::CloseCounter { counter: *c }, clerk(c)));
            }
        }
        let (ok, no) = run_in_order(queue, jobs).await?;
        issued += ok;
        refused += no;
    }
    Ok((issued, refused))
}

/// The `n`th ticket of a day: case type by `MIX`, one in twenty with a priority.
fn issue(n: usize) -> Result<Command, String> {
    let slot = (n * 7919 % 1000) as u32;
    let mut acc = 0;
    let code = MIX
        .iter()
        .find(|(_, share)| {
            acc += share;
            slot < acc
        })
        .map_or("dowody", |(code, _)| code);
    Ok(Command::IssueTicket {
        case_type: CaseTypeCode::parse(code).map_err(|e| e.to_string())?,
        priority: if n % 20 == 7 {
            Some(PriorityCode::parse("ciaza").map_err(|e| e.to_string())?)
        } else {
            None
        },
        lang: if n % 10 == 3 { Lang::Uk } else { Lang::Pl },
    })
}

/// Puts every job on the writer's queue in order, without waiting for answers between them,
/// then collects the answers: (issued tickets, refused commands). A storage error stops it.
async fn run_in_order(queue: &Queue, jobs: Vec<(Command, Actor)>) -> Result<(u64, u64), String> {
    let mut pending = Vec::with_capacity(jobs.len());
    for (cmd, actor) in jobs {
        let issuing = matches!(cmd, Command::IssueTicket { .. });
        let mut answer = Box::pin(queue.submit(cmd, actor));
        // The first poll puts the job on the queue; the answer comes after the commit.
        let first = std::future::poll_fn(|cx| Poll::Ready(answer.as_mut().poll(cx))).await;
        pending.push((issuing, answer, first));
    }
    let (mut issued, mut refused) = (0, 0);
    for (issuing, answer, first) in pending {
        let result = match first {
            Poll::Ready(r) => r,
            Poll::Pending => answer.await,
        };
        match result {
            Ok(_) if issuing => issued += 1,
            Ok(_) => {}
            Err(SubmitError::Domain(_)) => refused += 1,
            Err(e) => return Err(format!("writing the generated days: {e}")),
        }
    }
    Ok((issued, refused))
}

/// Today's local date in the demo office's time zone, to tell whether a generated database
/// is still current.
pub fn today(office: &Office) -> Date {
    kolejka::clock::SystemClock
        .now()
        .to_zoned(office.time_zone.clone())
        .date()
}
