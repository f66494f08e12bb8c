//! The live public status of the queues, for a city portal: per case type its letter, the last
//! number called, people waiting, counters open and the mean service time. Nothing in it
//! identifies a person: no priority, no clerk, no ticket but the last number called (which the
//! hall screens show anyway).
//!
//! Two shapes: ours (`PublicStatus`), and the one Warsaw's open-data queue feed ("kolejki w
//! urzędach", api.um.warszawa.pl) publishes (`WarsawFeed`), with the same field names, so that
//! a portal already reading Warsaw's feed reads ours too. docs/STATISTICS.md maps the fields.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::{CounterStatus, Engine, Ticket};
use crate::server::api::TextsView;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PublicStatus {
    /// The office's name.
    pub office: TextsView,
    /// The local day (YYYY-MM-DD) the figures are of.
    pub day: Option<String>,
    /// When this was computed (RFC 3339).
    pub generated_at: String,
    pub case_types: Vec<PublicQueue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PublicQueue {
    pub code: String,
    /// The letter(s) in front of the case type's numbers.
    pub letter: String,
    pub name: TextsView,
    /// The number called last today (as on the hall screens), `null` before the first call.
    pub last_called: Option<String>,
    /// People waiting now.
    pub waiting: u64,
    /// Counters open (not paused) that serve this case type.
    pub counters_open: u32,
    /// The mean service time in minutes: of the last 20 services today, or the configured
    /// assumption before there are any.
    pub mean_service_min: f64,
    /// Whether tickets of this case type are being issued now.
    pub issuing: bool,
}

/// Warsaw's feed: `{"result": {"date", "time", "grupy": [...]}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WarsawFeed {
    pub result: WarsawResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WarsawResult {
    /// YYYY-MM-DD, local.
    pub date: String,
    /// HH:MM, local.
    pub time: String,
    pub grupy: Vec<WarsawGroup>,
}

/// One queue ("grupa") in Warsaw's field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(non_snake_case)]
pub struct WarsawGroup {
    /// 1 while the queue issues tickets, else 0.
    pub status: u8,
    /// The mean service time in whole minutes, as text.
    pub czasObslugi: String,
    /// The ordinal number, as text.
    pub lp: String,
    /// The case type's code.
    pub idGrupy: String,
    /// Counters open for the queue.
    pub liczbaCzynnychStan: u32,
    /// The queue's (Polish) name.
    pub nazwaGrupy: String,
    /// The letter of the queue's numbers.
    pub literaGrupy: String,
    /// People waiting.
    pub liczbaKlwKolejce: u64,
    /// The number (without its letter) called last; 0 before the first call.
    pub aktualnyNumer: u32,
}

/// The public status from the committed engine at `now`.
pub fn status(engine: &Engine, now: Timestamp) -> PublicStatus {
    let office = engine.office();
    let case_types = office
        .case_types
        .iter()
        .map(|ct| {
            let last_called = engine
                .tickets()
                .filter(|t| t.case_type == ct.code && t.called_at.is_some())
                .max_by_key(|t| (t.called_at, t.id))
                .map(|t: &Ticket| t.number.to_string());
            let counters_open = engine
                .counters()
                .filter(|c| c.status == CounterStatus::Open && c.serves.contains_key(&ct.code))
                .count() as u32;
            PublicQueue {
                code: ct.code.to_string(),
                letter: ct.prefix.to_string(),
                name: (&ct.name).into(),
                last_called,
                waiting: engine.waiting(&ct.code).count() as u64,
                counters_open,
                mean_service_min: (engine.mean_service_secs(&ct.code) / 6.0).round() / 10.0,
                issuing: engine.availability(&ct.code, now).is_ok(),
            }
        })
        .collect();
    PublicStatus {
        office: (&office.name).into(),
        day: engine.day().map(|d| d.to_string()),
        generated_at: now.to_string(),
        case_types,
    }
}

/// The same status in the shape of Warsaw's feed.
pub fn warsaw(status: &PublicStatus, engine: &Engine, now: Timestamp) -> WarsawFeed {
    let local = now.to_zoned(engine.office().time_zone.clone());
    let grupy = status
        .case_types
        .iter()
        .enumerate()
        .map(|(i, q)| WarsawGroup {
            status: u8::from(q.issuing),
            czasObslugi: format!("{}", q.mean_service_min.round() as i64),
            lp: (i + 1).to_string(),
            idGrupy: q.code.clone(),
            liczbaCzynnychStan: q.counters_open,
            nazwaGrupy: q.name.pl.clone(),
            literaGrupy: q.letter.clone(),
            liczbaKlwKolejce: q.waiting,
            aktualnyNumer: q
                .last_called
                .as_deref()
                .and_then(|n| crate::engine::TicketNumber::parse(n).ok())
                .map_or(0, |n| n.seq()),
        })
        .collect();
    WarsawFeed {
        result: WarsawResult {
            date: local.date().to_string(),
            time: format!("{:02}:{:02}", local.hour(), local.minute()),
            grupy,
        },
    }
}
