//! What each channel shows, built from the committed engine state, and the per-connection
//! bookkeeping that turns committed events into messages.
//!
//! Two kinds of message: those an event causes (a call, a recall, a changed ticket for the
//! manager), which are sent for every event in order; and views of the state (queues,
//! counters), which are recomputed after each batch of events and sent only when they differ
//! from what this connection last sent. So a client's state is the last snapshot with every
//! later message applied, whatever the timing.
//!
//! Privacy: the hall and counter views are separate types that hold only ticket numbers,
//! counters, case types and times. A priority category never appears in any view (the manager
//! and clerk views say `priority: true/false` through `TicketView`), and nothing names a
//! citizen.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::Serialize;

use super::protocol::{Channel, HallFilter, Out, Snapshot};
use crate::engine::{
    CounterId, CounterState, CounterStatus, Engine, EventKind, Texts, Ticket, TicketId, TicketState,
};
use crate::hall::ScreenMessage;
use crate::server::api::{CaseTypeQueue, CounterView, TextsView, TicketView, counter_view};
use crate::store::StoredEvent;

/// How many of the latest calls a hall snapshot lists.
pub const RECENT_CALLS: usize = 10;

/// A counter as the hall screen and the counter's own display show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HallCounter {
    pub id: u32,
    pub name: TextsView,
    pub location: TextsView,
    /// open, paused or closed
    pub status: &'static str,
    /// The ticket called to or served at the counter.
    pub current: Option<HallTicket>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HallTicket {
    pub number: String,
    /// called or serving
    pub state: &'static str,
    /// How many times it has been called (1 = first call).
    pub calls: u32,
}

/// A queue as the hall shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HallQueue {
    pub code: String,
    pub prefix: String,
    pub name: TextsView,
    pub waiting: usize,
    /// For a ticket issued now, in whole minutes; `null` when no open counter serves it.
    pub estimated_wait_min: Option<i64>,
    /// Whether the kiosk issues tickets of this case type now.
    pub issuing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    pub number: String,
    pub counter: u32,
    pub case_type: Option<String>,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recall {
    pub number: String,
    pub counter: u32,
    /// How many times it has now been called (2 = the first recall).
    pub calls: u32,
    pub at: String,
}

#[derive(Debug, Serialize)]
pub struct HallSnapshot {
    pub day: Option<String>,
    pub queues: Vec<HallQueue>,
    pub counters: Vec<HallCounter>,
    /// The latest calls, newest first (for a screen that has just started).
    pub recent_calls: Vec<Call>,
    pub messages: Vec<ScreenMessage>,
}

#[derive(Debug, Serialize)]
pub struct CounterSnapshot {
    pub day: Option<String>,
    pub counter: HallCounter,
}

#[derive(Debug, Serialize)]
pub struct ClerkSnapshot {
    pub day: Option<String>,
    pub counter: CounterView,
    /// The queues of the case types the counter serves.
    pub queues: Vec<CaseTypeQueue>,
}

#[derive(Debug, Serialize)]
pub struct ManagerSnapshot {
    pub day: Option<String>,
    pub counters: Vec<CounterView>,
    pub queues: Vec<CaseTypeQueue>,
    pub tickets: Vec<TicketView>,
    pub messages: Vec<ScreenMessage>,
}

/// The views of the state a channel keeps current (built under the state's read lock,
/// compared and serialized outside it).
enum Parts {
    Hall {
        queues: Vec<HallQueue>,
        counters: Vec<HallCounter>,
    },
    Counter {
        counter: Option<HallCounter>,
    },
    Clerk {
        counter: Option<Box<CounterView>>,
        queues: Vec<CaseTypeQueue>,
    },
    Manager {
        counters: Vec<CounterView>,
        queues: Vec<CaseTypeQueue>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Queues,
    Counter(u32),
}

/// What happened in a batch of events, as far as this channel is concerned.
pub struct Batch {
    /// Messages the events cause, in event order.
    pub events: Vec<Out>,
    /// A day started: the client needs a snapshot instead.
    pub day_started: bool,
    parts: Option<Parts>,
}

/// One connection's channel and what it last sent of each view.
pub struct Tracker {
    channel: Channel,
    sent: BTreeMap<Key, String>,
}

impl Tracker {
    pub fn new(channel: Channel) -> Self {
        Tracker {
            channel,
            sent: BTreeMap::new(),
        }
    }

    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Whether the channel carries hall messages.
    pub fn wants_messages(&self) -> bool {
        matches!(self.channel, Channel::Hall(_) | Channel::Manager)
    }

    /// The channel's whole state. Call under `Queue::read`; then `record_snapshot`.
    pub fn snapshot(
        &self,
        engine: &Engine,
        now: Timestamp,
        messages: &[ScreenMessage],
    ) -> Snapshot {
        let day = engine.day().map(|d| d.to_string());
        let messages = messages.to_vec();
        match &self.channel {
            Channel::Hall(filter) => Snapshot::Hall(Box::new(HallSnapshot {
                day,
                queues: hall_queues(engine, filter, now),
                counters: hall_counters(engine, filter),
                recent_calls: recent_calls(engine, filter),
                messages,
            })),
            Channel::Counter(id) => Snapshot::Counter(Box::new(CounterSnapshot {
                day,
                counter: engine
                    .counter(*id)
                    .map(|c| hall_counter(engine, c))
                    .unwrap_or_else(|| closed_counter(engine, *id)),
            })),
            Channel::Clerk(id) => Snapshot::Clerk(Box::new(ClerkSnapshot {
                day,
                counter: engine
                    .counter(*id)
                    .map(|c| counter_view(engine, c))
                    .unwrap_or_else(|| unknown_counter_view(*id)),
                queues: clerk_queues(engine, *id, now),
            })),
            Channel::Manager => Snapshot::Manager(Box::new(ManagerSnapshot {
                day,
                counters: engine.counters().map(|c| counter_view(engine, c)).collect(),
                queues: all_queues(engine, now),
                tickets: engine.tickets().map(TicketView::from).collect(),
                messages,
            })),
        }
    }

    /// Remembers the views a snapshot sent, so that later diffs start from it.
    pub fn record_snapshot(&mut self, snapshot: &Snapshot) {
        self.sent.clear();
        match snapshot {
            Snapshot::Hall(s) => {
                self.remember(Key::Queues, &s.queues);
                for c in &s.counters {
                    self.remember(Key::Counter(c.id), c);
                }
            }
            Snapshot::Counter(s) => self.remember(Key::Counter(s.counter.id), &s.counter),
            Snapshot::Clerk(s) => {
                self.remember(Key::Counter(s.counter.id), &s.counter);
                self.remember(Key::Queues, &s.queues);
            }
            Snapshot::Manager(s) => {
                for c in &s.counters {
                    self.remember(Key::Counter(c.id), c);
                }
                self.remember(Key::Queues, &s.queues);
            }
        }
    }

    /// The messages a batch of committed events causes. Call under `Queue::read` (the state
    /// is at least as new as the events); then `finish` outside the lock.
    pub fn on_events(&self, engine: &Engine, events: &[&StoredEvent], now: Timestamp) -> Batch {
        let mut out = Vec::new();
        let mut touched = BTreeSet::new();
        let mut day_started = false;
        for e in events {
            match &e.event.kind {
                EventKind::DayStarted { .. } => day_started = true,
                EventKind::TicketCalled {
                    ticket,
                    number,
                    counter,
                    ..
                } => {
                    let case_type = engine.ticket(*ticket).map(|t| t.case_type.to_string());
                    if self.shows_call(engine, *ticket, *counter) {
                        out.push(Out::Call(Call {
                            number: number.to_string(),
                            counter: u32::from(*counter),
                            case_type,
                            at: e.event.at.to_string(),
                        }));
                    }
                }
                EventKind::TicketRecalled {
                    ticket,
                    number,
                    counter,
                    calls,
                } if self.shows_call(engine, *ticket, *counter) => {
                    out.push(Out::Recall(Recall {
                        number: number.to_string(),
                        counter: u32::from(*counter),
                        calls: *calls,
                        at: e.event.at.to_string(),
                    }));
                }
                _ => {}
            }
            if let (Channel::Manager, Some(t)) = (&self.channel, e.event.kind.ticket()) {
                touched.insert(t);
            }
        }
        // Tickets in the order of their ids, each once per batch, as they are now.
        out.extend(
            touched
                .into_iter()
                .filter_map(|t: TicketId| engine.ticket(t))
                .map(|t| Out::Ticket {
                    ticket: Box::new(TicketView::from(t)),
                }),
        );
        Batch {
            events: out,
            day_started,
            parts: Some(self.parts(engine, now)),
        }
    }

    /// The views only, for a refresh without events (waits and issuing hours move with the
    /// clock). Call under `Queue::read`.
    pub fn on_tick(&self, engine: &Engine, now: Timestamp) -> Batch {
        Batch {
            events: Vec::new(),
            day_started: false,
            parts: Some(self.parts(engine, now)),
        }
    }

    /// The batch's messages: the events', then the views that changed.
    pub fn finish(&mut self, mut batch: Batch) -> Vec<Out> {
        let mut out = std::mem::take(&mut batch.events);
        match batch.parts.take() {
            Some(Parts::Hall { queues, counters }) => {
                for c in counters {
                    if self.changed(Key::Counter(c.id), &c) {
                        out.push(Out::Counter { counter: c });
                    }
                }
                if self.changed(Key::Queues, &queues) {
                    out.push(Out::Queues { queues });
                }
            }
            Some(Parts::Counter { counter: Some(c) }) => {
                if self.changed(Key::Counter(c.id), &c) {
                    out.push(Out::Counter { counter: c });
                }
            }
            Some(Parts::Clerk { counter, queues }) => {
                if let Some(c) = counter
                    && self.changed(Key::Counter(c.id), &c)
                {
                    out.push(Out::CounterDetail { counter: c });
                }
                if self.changed(Key::Queues, &queues) {
                    out.push(Out::QueueDetails { queues });
                }
            }
            Some(Parts::Manager { counters, queues }) => {
                for c in counters {
                    if self.changed(Key::Counter(c.id), &c) {
                        out.push(Out::CounterDetail {
                            counter: Box::new(c),
                        });
                    }
                }
                if self.changed(Key::Queues, &queues) {
                    out.push(Out::QueueDetails { queues });
                }
            }
            Some(Parts::Counter { counter: None }) | None => {}
        }
        out
    }

    fn shows_call(&self, engine: &Engine, ticket: TicketId, counter: CounterId) -> bool {
        match &self.channel {
            Channel::Hall(filter) => {
                filter.counter(counter)
                    && engine
                        .ticket(ticket)
                        .is_none_or(|t| filter.case_type(&t.case_type))
            }
            Channel::Counter(id) | Channel::Clerk(id) => *id == counter,
            Channel::Manager => true,
        }
    }

    fn parts(&self, engine: &Engine, now: Timestamp) -> Parts {
        match &self.channel {
            Channel::Hall(filter) => Parts::Hall {
                queues: hall_queues(engine, filter, now),
                counters: hall_counters(engine, filter),
            },
            Channel::Counter(id) => Parts::Counter {
                counter: engine.counter(*id).map(|c| hall_counter(engine, c)),
            },
            Channel::Clerk(id) => Parts::Clerk {
                counter: engine
                    .counter(*id)
                    .map(|c| Box::new(counter_view(engine, c))),
                queues: clerk_queues(engine, *id, now),
            },
            Channel::Manager => Parts::Manager {
                counters: engine.counters().map(|c| counter_view(engine, c)).collect(),
                queues: all_queues(engine, now),
            },
        }
    }

    fn remember<T: Serialize>(&mut self, key: Key, value: &T) {
        self.sent.insert(key, json(value));
    }

    /// Whether `value` differs from what was last sent under `key` (and remembers it).
    fn changed<T: Serialize>(&mut self, key: Key, value: &T) -> bool {
        let now = json(value);
        if self.sent.get(&key) == Some(&now) {
            return false;
        }
        self.sent.insert(key, now);
        true
    }
}

fn json<T: Serialize>(value: &T) -> String {
    // Serializing these plain structs cannot fail; an empty string only forces a resend.
    serde_json::to_string(value).unwrap_or_default()
}

fn status_str(status: &CounterStatus) -> &'static str {
    match status {
        CounterStatus::Closed => "closed",
        CounterStatus::Open => "open",
        CounterStatus::Paused { .. } => "paused",
    }
}

fn hall_counter(engine: &Engine, c: &CounterState) -> HallCounter {
    let info = engine.office().counter(c.id);
    let fallback = || Texts::same(&c.id.to_string());
    HallCounter {
        id: u32::from(c.id),
        name: info.map_or_else(|| (&fallback()).into(), |i| (&i.name).into()),
        location: info.map_or_else(|| (&fallback()).into(), |i| (&i.location).into()),
        status: status_str(&c.status),
        current: c.current.and_then(|t| engine.ticket(t)).and_then(|t| {
            let state = match t.state {
                TicketState::Called => "called",
                TicketState::Serving => "serving",
                _ => return None,
            };
            Some(HallTicket {
                number: t.number.to_string(),
                state,
                calls: t.calls,
            })
        }),
    }
}

/// A counter the state does not know (it cannot happen: every configured counter has a
/// state); shown as closed rather than failing the connection.
fn closed_counter(engine: &Engine, id: CounterId) -> HallCounter {
    let info = engine.office().counter(id);
    let name = info.map_or_else(|| Texts::same(&id.to_string()), |i| i.name.clone());
    let location = info.map_or_else(Texts::default, |i| i.location.clone());
    HallCounter {
        id: u32::from(id),
        name: (&name).into(),
        location: (&location).into(),
        status: "closed",
        current: None,
    }
}

fn hall_counters(engine: &Engine, filter: &HallFilter) -> Vec<HallCounter> {
    engine
        .counters()
        .filter(|c| filter.counter(c.id))
        .map(|c| hall_counter(engine, c))
        .collect()
}

fn hall_queues(engine: &Engine, filter: &HallFilter, now: Timestamp) -> Vec<HallQueue> {
    engine
        .office()
        .case_types
        .iter()
        .filter(|ct| filter.case_type(&ct.code))
        .filter_map(|ct| crate::server::api::case_type_queue(engine, &ct.code, now))
        .map(|q| HallQueue {
            code: q.code,
            prefix: q.prefix,
            name: q.name,
            waiting: q.waiting,
            estimated_wait_min: q.estimated_wait_min,
            issuing: q.issuing,
        })
        .collect()
}

fn recent_calls(engine: &Engine, filter: &HallFilter) -> Vec<Call> {
    let mut called: Vec<&Ticket> = engine
        .tickets()
        .filter(|t| t.called_at.is_some())
        .filter(|t| filter.case_type(&t.case_type))
        .filter(|t| t.counter.is_some_and(|c| filter.counter(c)))
        .collect();
    called.sort_by_key(|t| std::cmp::Reverse((t.called_at, t.id)));
    called
        .into_iter()
        .take(RECENT_CALLS)
        .filter_map(|t| {
            Some(Call {
                number: t.number.to_string(),
                counter: u32::from(t.counter?),
                case_type: Some(t.case_type.to_string()),
                at: t.called_at?.to_string(),
            })
        })
        .collect()
}

fn all_queues(engine: &Engine, now: Timestamp) -> Vec<CaseTypeQueue> {
    engine
        .office()
        .case_types
        .iter()
        .filter_map(|ct| crate::server::api::case_type_queue(engine, &ct.code, now))
        .collect()
}

fn clerk_queues(engine: &Engine, id: CounterId, now: Timestamp) -> Vec<CaseTypeQueue> {
    let Some(c) = engine.counter(id) else {
        return Vec::new();
    };
    engine
        .office()
        .case_types
        .iter()
        .filter(|ct| c.serves.contains_key(&ct.code))
        .filter_map(|ct| crate::server::api::case_type_queue(engine, &ct.code, now))
        .collect()
}

fn unknown_counter_view(id: CounterId) -> CounterView {
    CounterView {
        id: u32::from(id),
        name: TextsView::from(&Texts::same(&id.to_string())),
        status: "closed".into(),
        pause_reason: None,
        operator: None,
        since: None,
        current: None,
        serves: Vec::new(),
    }
}
