//! The engine: today's tickets and counters, the decisions (`handle`) and the bookkeeping
//! (`apply`).
//!
//! `handle` looks at the state and a command and returns the events that command causes, or a
//! `DomainError`; it changes nothing. `apply` folds one event into the state and never fails:
//! it is also how a restart rebuilds the day from the event log, so it must accept anything
//! `handle` ever produced. `execute` is the two together.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::command::{Command, TransferTarget};
use super::error::{DomainError, NotIssuingReason};
use super::event::{Event, EventKind, NoShowReason};
use super::ids::{Actor, CaseTypeCode, CounterId, TicketId, TicketNumber};
use super::office::{EndOfDay, Office};
use super::routing;
use super::ticket::{Ticket, TicketState};

/// How many recent service times per case type feed the wait estimate.
pub const SERVICE_SAMPLE: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CounterStatus {
    Closed,
    Open,
    Paused { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CounterState {
    pub id: CounterId,
    #[serde(flatten)]
    pub status: CounterStatus,
    /// The clerk signed in at the counter while it is open or paused.
    pub operator: Option<String>,
    /// The ticket called to or served at the counter.
    pub current: Option<TicketId>,
    /// Case types served today and their weights (starts as configured; a manager may move it).
    pub serves: BTreeMap<CaseTypeCode, u32>,
    /// Normal tickets called in a row by the routing rules since the last priority one (for
    /// the interleave policy).
    pub normal_streak: u32,
    /// When the status last changed.
    pub since: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct Engine {
    office: Arc<Office>,
    day: Option<Date>,
    next_ticket_id: TicketId,
    last_seq: BTreeMap<CaseTypeCode, u32>,
    issued_today: BTreeMap<CaseTypeCode, u32>,
    tickets: BTreeMap<TicketId, Ticket>,
    by_number: HashMap<TicketNumber, TicketId>,
    counters: BTreeMap<CounterId, CounterState>,
    issuing_stopped: BTreeSet<CaseTypeCode>,
    cap_override: BTreeMap<CaseTypeCode, Option<u32>>,
    service_secs: BTreeMap<CaseTypeCode, VecDeque<i64>>,
}

impl Engine {
    /// An engine with no day started; the first `rollover` starts one.
    pub fn new(office: Arc<Office>) -> Self {
        let mut e = Engine {
            office,
            day: None,
            next_ticket_id: TicketId(1),
            last_seq: BTreeMap::new(),
            issued_today: BTreeMap::new(),
            tickets: BTreeMap::new(),
            by_number: HashMap::new(),
            counters: BTreeMap::new(),
            issuing_stopped: BTreeSet::new(),
            cap_override: BTreeMap::new(),
            service_secs: BTreeMap::new(),
        };
        e.reset_counters();
        e
    }

    pub fn office(&self) -> &Arc<Office> {
        &self.office
    }

    /// The local day the engine is in, once started.
    pub fn day(&self) -> Option<Date> {
        self.day
    }

    /// The local (office time zone) date of an instant.
    pub fn local_date(&self, at: Timestamp) -> Date {
        at.to_zoned(self.office.time_zone.clone()).date()
    }

    /// Starts a new day if `now` falls on a later local date than the current one, applying
    /// and returning the events: tickets left open are cancelled or carried over (office
    /// policy), open counters are closed, then `DayStarted`. Returns nothing on the same day,
    /// or if the clock went backwards (the day never restarts into the past).
    pub fn rollover(&mut self, now: Timestamp) -> Vec<Event> {
        let date = self.local_date(now);
        if self.day.is_some_and(|d| d >= date) {
            return Vec::new();
        }
        let ev = |kind| Event {
            at: now,
            actor: Actor::System,
            kind,
        };
        let mut events = Vec::new();
        let mut carried = Vec::new();
        for t in self.tickets.values().filter(|t| !t.state.is_final()) {
            match self.office.end_of_day {
                EndOfDay::Cancel => events.push(ev(EventKind::TicketCancelled {
                    ticket: t.id,
                    number: t.number.clone(),
                    reason: "end of day".into(),
                })),
                EndOfDay::Keep => {
                    let mut kept = t.clone();
                    if kept.state.at_counter() {
                        kept.state = TicketState::Waiting;
                    }
                    kept.counter = None;
                    kept.calls = 0;
                    kept.called_at = None;
                    kept.started_at = None;
                    carried.push(kept);
                }
            }
        }
        for c in self.counters.values() {
            if c.status != CounterStatus::Closed {
                events.push(ev(EventKind::CounterClosed { counter: c.id }));
            }
        }
        events.push(ev(EventKind::DayStarted {
            date,
            next_ticket_id: self.next_ticket_id,
            carried,
        }));
        for e in &events {
            self.apply(e);
        }
        events
    }

    /// Decides and applies a command: the events it caused, or why it was refused (and then
    /// the state is unchanged). Call `rollover` first so that the day is current.
    pub fn execute(
        &mut self,
        cmd: &Command,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Vec<Event>, DomainError> {
        let events = self.handle(cmd, actor, now)?;
        for e in &events {
            self.apply(e);
        }
        Ok(events)
    }

    /// Decides what a command causes, without changing anything.
    pub fn handle(
        &self,
        cmd: &Command,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Vec<Event>, DomainError> {
        // A later local date needs `rollover` first. An earlier one means the clock stepped
        // back across midnight (an NTP correction): the day carries on rather than refusing
        // every command until the clock catches up.
        match self.day {
            Some(day) if self.local_date(now) <= day => {}
            _ => {
                return Err(DomainError::Invalid(
                    "the day has not been started; roll the engine over first".into(),
                ));
            }
        }
        let ev = |kind| Event {
            at: now,
            actor: actor.clone(),
            kind,
        };
        let kinds = match cmd {
            Command::IssueTicket {
                case_type,
                priority,
                lang,
            } => {
                if let Some(p) = priority {
                    self.office
                        .priority(p)
                        .ok_or_else(|| DomainError::UnknownPriority(p.clone()))?;
                }
                let ct = self
                    .office
                    .case_type(case_type)
                    .ok_or_else(|| DomainError::UnknownCaseType(case_type.clone()))?;
                self.availability(case_type, now)
                    .map_err(|reason| DomainError::NotIssuing {
                        case_type: case_type.clone(),
                        reason,
                    })?;
                let mut seq = self.last_seq.get(case_type).copied().unwrap_or(0);
                let number = loop {
                    seq = seq
                        .checked_add(1)
                        .ok_or_else(|| DomainError::Invalid("ticket numbers exhausted".into()))?;
                    let n = TicketNumber::new(ct.prefix.clone(), seq)
                        .map_err(|e| DomainError::Invalid(e.0))?;
                    if !self.by_number.contains_key(&n) {
                        break n;
                    }
                };
                vec![EventKind::TicketIssued {
                    ticket: self.next_ticket_id,
                    number,
                    case_type: case_type.clone(),
                    priority: priority.clone(),
                    lang: *lang,
                }]
            }
            Command::OpenCounter { counter, operator } => {
                let c = self.counter_state(*counter)?;
                let operator = operator.trim();
                if operator.is_empty() || operator.len() > 64 {
                    return Err(DomainError::Invalid(
                        "operator name must be 1-64 characters".into(),
                    ));
                }
                match (&c.status, &c.operator) {
                    (CounterStatus::Closed, _) => {}
                    (_, Some(op)) if op == operator => return Ok(Vec::new()),
                    (_, op) => {
                        return Err(DomainError::CounterTaken {
                            counter: *counter,
                            operator: op.clone().unwrap_or_default(),
                        });
                    }
                }
                if let Some(other) = self.counters.values().find(|o| {
                    o.id != *counter
                        && o.status != CounterStatus::Closed
                        && o.operator.as_deref() == Some(operator)
                }) {
                    return Err(DomainError::Invalid(format!(
                        "{operator} is already signed in at counter {}; close it first",
                        other.id
                    )));
                }
                vec![EventKind::CounterOpened {
                    counter: *counter,
                    operator: operator.to_owned(),
                }]
            }
            Command::PauseCounter { counter, reason } => {
                let c = self.operated_counter(*counter, actor)?;
                match &c.status {
                    CounterStatus::Closed => return Err(DomainError::CounterClosed(*counter)),
                    CounterStatus::Paused { .. } => {
                        return Err(DomainError::CounterPaused(*counter));
                    }
                    CounterStatus::Open => {}
                }
                self.ensure_free(c)?;
                let reason = checked_reason(reason)?;
                vec![EventKind::CounterPaused {
                    counter: *counter,
                    reason,
                }]
            }
            Command::ResumeCounter { counter } => {
                let c = self.operated_counter(*counter, actor)?;
                match c.status {
                    CounterStatus::Paused { .. } => {
                        vec![EventKind::CounterResumed { counter: *counter }]
                    }
                    CounterStatus::Closed => return Err(DomainError::CounterClosed(*counter)),
                    CounterStatus::Open => return Err(DomainError::CounterNotPaused(*counter)),
                }
            }
            Command::CloseCounter { counter } => {
                let c = self.counter_state(*counter)?;
                if c.status == CounterStatus::Closed {
                    return Ok(Vec::new());
                }
                self.ensure_free(c)?;
                vec![EventKind::CounterClosed { counter: *counter }]
            }
            Command::CallNext { counter } => {
                let c = self.calling_counter(*counter, actor)?;
                let t = routing::pick_next(self, c).ok_or(DomainError::NothingToCall(*counter))?;
                vec![EventKind::TicketCalled {
                    ticket: t.id,
                    number: t.number.clone(),
                    counter: *counter,
                    specific: false,
                }]
            }
            Command::CallTicket { counter, number } => {
                self.calling_counter(*counter, actor)?;
                let t = self.ticket_by_number(number)?;
                if !matches!(
                    t.state,
                    TicketState::Waiting | TicketState::Parked | TicketState::NoShow
                ) {
                    return Err(illegal(t, "call it"));
                }
                vec![EventKind::TicketCalled {
                    ticket: t.id,
                    number: t.number.clone(),
                    counter: *counter,
                    specific: true,
                }]
            }
            Command::Recall { counter } => {
                let t = self.current_ticket(*counter, actor)?;
                if t.state != TicketState::Called {
                    return Err(illegal(t, "recall it"));
                }
                if t.calls >= self.office.max_calls {
                    vec![EventKind::TicketNoShow {
                        ticket: t.id,
                        number: t.number.clone(),
                        counter: *counter,
                        reason: NoShowReason::CallLimit,
                    }]
                } else {
                    vec![EventKind::TicketRecalled {
                        ticket: t.id,
                        number: t.number.clone(),
                        counter: *counter,
                        calls: t.calls + 1,
                    }]
                }
            }
            Command::StartService { counter } => {
                let t = self.current_ticket(*counter, actor)?;
                if t.state != TicketState::Called {
                    return Err(illegal(t, "start serving it"));
                }
                vec![EventKind::ServiceStarted {
                    ticket: t.id,
                    number: t.number.clone(),
                    counter: *counter,
                }]
            }
            Command::FinishService { counter } => {
                let t = self.current_ticket(*counter, actor)?;
                if t.state != TicketState::Serving {
                    return Err(illegal(t, "finish it before service has started"));
                }
                vec![EventKind::ServiceFinished {
                    ticket: t.id,
                    number: t.number.clone(),
                    counter: *counter,
                }]
            }
            Command::MarkNoShow { counter } => {
                let t = self.current_ticket(*counter, actor)?;
                if t.state != TicketState::Called {
                    return Err(illegal(t, "mark it as a no-show"));
                }
                vec![EventKind::TicketNoShow {
                    ticket: t.id,
                    number: t.number.clone(),
                    counter: *counter,
                    reason: NoShowReason::Clerk,
                }]
            }
            Command::Park { counter } => {
                let t = self.current_ticket(*counter, actor)?;
                vec![EventKind::TicketParked {
                    ticket: t.id,
                    number: t.number.clone(),
                    counter: *counter,
                }]
            }
            Command::Transfer { counter, to } => {
                let t = self.current_ticket(*counter, actor)?;
                match to {
                    TransferTarget::CaseType { case_type } => {
                        self.office
                            .case_type(case_type)
                            .ok_or_else(|| DomainError::UnknownCaseType(case_type.clone()))?;
                        if *case_type == t.case_type {
                            return Err(DomainError::TransferToSelf(t.number.clone()));
                        }
                    }
                    TransferTarget::Counter { counter: target } => {
                        self.counter_state(*target)?;
                        if target == counter {
                            return Err(DomainError::TransferToSelf(t.number.clone()));
                        }
                    }
                }
                vec![EventKind::TicketTransferred {
                    ticket: t.id,
                    number: t.number.clone(),
                    from_counter: *counter,
                    to: to.clone(),
                }]
            }
            Command::Cancel { number, reason } => {
                let t = self.ticket_by_number(number)?;
                if t.state.is_final() {
                    return Err(illegal(t, "cancel it"));
                }
                vec![EventKind::TicketCancelled {
                    ticket: t.id,
                    number: t.number.clone(),
                    reason: checked_reason(reason)?,
                }]
            }
            Command::SetCounterServes { counter, serves } => {
                self.counter_state(*counter)?;
                let mut seen = BTreeSet::new();
                for (code, weight) in serves {
                    self.office
                        .case_type(code)
                        .ok_or_else(|| DomainError::UnknownCaseType(code.clone()))?;
                    if !(1..=100).contains(weight) {
                        return Err(DomainError::Invalid(format!(
                            "weight of `{code}` must be 1 to 100, not {weight}"
                        )));
                    }
                    if !seen.insert(code) {
                        return Err(DomainError::Invalid(format!(
                            "case type `{code}` is listed twice"
                        )));
                    }
                }
                vec![EventKind::CounterServesChanged {
                    counter: *counter,
                    serves: serves.clone(),
                }]
            }
            Command::SetIssuing { case_type, open } => {
                self.office
                    .case_type(case_type)
                    .ok_or_else(|| DomainError::UnknownCaseType(case_type.clone()))?;
                if self.issuing_stopped.contains(case_type) != *open {
                    return Ok(Vec::new());
                }
                vec![EventKind::IssuingChanged {
                    case_type: case_type.clone(),
                    open: *open,
                }]
            }
            Command::CloseDay => {
                if let Some(c) = self.counters.values().find(|c| c.current.is_some()) {
                    self.ensure_free(c)?;
                }
                let mut kinds = Vec::new();
                if self.office.end_of_day == EndOfDay::Cancel {
                    for t in self.tickets.values().filter(|t| !t.state.is_final()) {
                        kinds.push(EventKind::TicketCancelled {
                            ticket: t.id,
                            number: t.number.clone(),
                            reason: "day closed".into(),
                        });
                    }
                }
                for c in self.counters.values() {
                    if c.status != CounterStatus::Closed {
                        kinds.push(EventKind::CounterClosed { counter: c.id });
                    }
                }
                for ct in &self.office.case_types {
                    if !self.issuing_stopped.contains(&ct.code) {
                        kinds.push(EventKind::IssuingChanged {
                            case_type: ct.code.clone(),
                            open: false,
                        });
                    }
                }
                kinds
            }
            Command::SetDailyCap { case_type, cap } => {
                self.office
                    .case_type(case_type)
                    .ok_or_else(|| DomainError::UnknownCaseType(case_type.clone()))?;
                vec![EventKind::DailyCapChanged {
                    case_type: case_type.clone(),
                    cap: *cap,
                }]
            }
        };
        Ok(kinds.into_iter().map(ev).collect())
    }

    /// Folds one event into the state. Never fails: an event that refers to something
    /// unknown (say, a case type removed from the config since) is applied as far as it can be.
    pub fn apply(&mut self, event: &Event) {
        let at = event.at;
        match &event.kind {
            EventKind::DayStarted {
                date,
                next_ticket_id,
                carried,
            } => {
                self.day = Some(*date);
                self.next_ticket_id = self.next_ticket_id.max(*next_ticket_id);
                self.tickets.clear();
                self.by_number.clear();
                self.last_seq.clear();
                self.issued_today.clear();
                self.issuing_stopped.clear();
                self.cap_override.clear();
                self.service_secs.clear();
                self.reset_counters();
                for t in carried {
                    let seq = self.last_seq.entry(t.issued_case_type.clone()).or_insert(0);
                    *seq = (*seq).max(t.number.seq());
                    self.insert_ticket(t.clone());
                }
            }
            EventKind::TicketIssued {
                ticket,
                number,
                case_type,
                priority,
                lang,
            } => {
                let seq = self.last_seq.entry(case_type.clone()).or_insert(0);
                *seq = (*seq).max(number.seq());
                *self.issued_today.entry(case_type.clone()).or_insert(0) += 1;
                self.next_ticket_id = self.next_ticket_id.max(TicketId(ticket.0 + 1));
                let day = self.day.unwrap_or_else(|| self.local_date(at));
                self.insert_ticket(Ticket {
                    id: *ticket,
                    number: number.clone(),
                    day,
                    case_type: case_type.clone(),
                    issued_case_type: case_type.clone(),
                    priority: priority.clone(),
                    lang: *lang,
                    state: TicketState::Waiting,
                    issued_at: at,
                    queued_at: at,
                    counter: None,
                    target_counter: None,
                    calls: 0,
                    first_called_at: None,
                    called_at: None,
                    started_at: None,
                    finished_at: None,
                    transfers: 0,
                });
            }
            EventKind::TicketCalled {
                ticket,
                counter,
                specific,
                ..
            } => {
                let Some(t) = self.tickets.get_mut(ticket) else {
                    return;
                };
                let was_priority = t.is_priority();
                t.state = TicketState::Called;
                t.counter = Some(*counter);
                t.target_counter = None;
                t.calls = 1;
                t.called_at = Some(at);
                t.first_called_at.get_or_insert(at);
                t.started_at = None;
                t.finished_at = None;
                if let Some(c) = self.counters.get_mut(counter) {
                    c.current = Some(*ticket);
                    if !specific {
                        c.normal_streak = if was_priority { 0 } else { c.normal_streak + 1 };
                    }
                }
            }
            EventKind::TicketRecalled { ticket, calls, .. } => {
                if let Some(t) = self.tickets.get_mut(ticket) {
                    t.calls = *calls;
                    t.called_at = Some(at);
                }
            }
            EventKind::ServiceStarted { ticket, .. } => {
                if let Some(t) = self.tickets.get_mut(ticket) {
                    t.state = TicketState::Serving;
                    t.started_at = Some(at);
                }
            }
            EventKind::ServiceFinished { ticket, .. } => {
                if let Some(t) = self.tickets.get_mut(ticket) {
                    t.state = TicketState::Done;
                    t.finished_at = Some(at);
                    if let Some(start) = t.started_at {
                        let secs = at.duration_since(start).as_secs().max(0);
                        let sample = self.service_secs.entry(t.case_type.clone()).or_default();
                        sample.push_back(secs);
                        while sample.len() > SERVICE_SAMPLE {
                            sample.pop_front();
                        }
                    }
                }
                self.free_counter_of(*ticket);
            }
            EventKind::TicketNoShow { ticket, .. } => {
                if let Some(t) = self.tickets.get_mut(ticket) {
                    t.state = TicketState::NoShow;
                    t.finished_at = Some(at);
                }
                self.free_counter_of(*ticket);
            }
            EventKind::TicketParked { ticket, .. } => {
                if let Some(t) = self.tickets.get_mut(ticket) {
                    t.state = TicketState::Parked;
                    t.calls = 0;
                    t.started_at = None;
                }
                self.free_counter_of(*ticket);
            }
            EventKind::TicketTransferred { ticket, to, .. } => {
                if let Some(t) = self.tickets.get_mut(ticket) {
                    t.state = TicketState::Waiting;
                    t.calls = 0;
                    t.called_at = None;
                    t.started_at = None;
                    t.transfers += 1;
                    match to {
                        TransferTarget::CaseType { case_type } => {
                            t.case_type = case_type.clone();
                            t.target_counter = None;
                        }
                        TransferTarget::Counter { counter } => t.target_counter = Some(*counter),
                    }
                }
                self.free_counter_of(*ticket);
            }
            EventKind::TicketCancelled { ticket, .. } => {
                if let Some(t) = self.tickets.get_mut(ticket) {
                    t.state = TicketState::Cancelled;
                    t.finished_at = Some(at);
                }
                self.free_counter_of(*ticket);
            }
            EventKind::CounterOpened { counter, operator } => {
                if let Some(c) = self.counters.get_mut(counter) {
                    c.status = CounterStatus::Open;
                    c.operator = Some(operator.clone());
                    c.since = Some(at);
                }
            }
            EventKind::CounterPaused { counter, reason } => {
                if let Some(c) = self.counters.get_mut(counter) {
                    c.status = CounterStatus::Paused {
                        reason: reason.clone(),
                    };
                    c.since = Some(at);
                }
            }
            EventKind::CounterResumed { counter } => {
                if let Some(c) = self.counters.get_mut(counter) {
                    c.status = CounterStatus::Open;
                    c.since = Some(at);
                }
            }
            EventKind::CounterClosed { counter } => {
                if let Some(c) = self.counters.get_mut(counter) {
                    c.status = CounterStatus::Closed;
                    c.operator = None;
                    c.since = Some(at);
                }
            }
            EventKind::CounterServesChanged { counter, serves } => {
                if let Some(c) = self.counters.get_mut(counter) {
                    c.serves = serves.iter().cloned().collect();
                }
            }
            EventKind::IssuingChanged { case_type, open } => {
                if *open {
                    self.issuing_stopped.remove(case_type);
                } else {
                    self.issuing_stopped.insert(case_type.clone());
                }
            }
            EventKind::DailyCapChanged { case_type, cap } => {
                self.cap_override.insert(case_type.clone(), *cap);
            }
        }
    }

    // ---- queries ----

    pub fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets.values()
    }
    pub fn ticket(&self, id: TicketId) -> Option<&Ticket> {
        self.tickets.get(&id)
    }
    pub fn find(&self, number: &TicketNumber) -> Option<&Ticket> {
        self.by_number
            .get(number)
            .and_then(|id| self.tickets.get(id))
    }
    pub fn counters(&self) -> impl Iterator<Item = &CounterState> {
        self.counters.values()
    }
    pub fn counter(&self, id: CounterId) -> Option<&CounterState> {
        self.counters.get(&id)
    }
    pub fn next_ticket_id(&self) -> TicketId {
        self.next_ticket_id
    }
    /// The last sequence number issued today for a case type.
    pub fn last_seq(&self, case_type: &CaseTypeCode) -> u32 {
        self.last_seq.get(case_type).copied().unwrap_or(0)
    }
    pub fn issued_today(&self, case_type: &CaseTypeCode) -> u32 {
        self.issued_today.get(case_type).copied().unwrap_or(0)
    }
    /// Today's cap for a case type: the manager's override, else the configured one.
    pub fn daily_cap(&self, case_type: &CaseTypeCode) -> Option<u32> {
        match self.cap_override.get(case_type) {
            Some(cap) => *cap,
            None => self.office.case_type(case_type).and_then(|c| c.daily_cap),
        }
    }
    pub fn issuing_stopped(&self, case_type: &CaseTypeCode) -> bool {
        self.issuing_stopped.contains(case_type)
    }

    /// Whether a case type can issue a ticket at `now`, and if not, why.
    pub fn availability(
        &self,
        case_type: &CaseTypeCode,
        now: Timestamp,
    ) -> Result<(), NotIssuingReason> {
        let Some(ct) = self.office.case_type(case_type) else {
            return Err(NotIssuingReason::ClosedToday);
        };
        if self.issuing_stopped.contains(case_type) {
            return Err(NotIssuingReason::StoppedByManager);
        }
        if !self.office.issue_outside_hours {
            let local = now.to_zoned(self.office.time_zone.clone());
            let window = self
                .office
                .issuing_window(ct, local.date())
                .ok_or(NotIssuingReason::ClosedToday)?;
            let time = local.time();
            if time < window.open {
                return Err(NotIssuingReason::NotYetOpen);
            }
            if time >= window.close {
                return Err(NotIssuingReason::TooLate);
            }
        }
        if let Some(cap) = self.daily_cap(case_type)
            && self.issued_today(case_type) >= cap
        {
            return Err(NotIssuingReason::DailyCapReached);
        }
        Ok(())
    }

    /// Tickets waiting in a case type's queue (not those transferred to one counter).
    pub fn waiting(&self, case_type: &CaseTypeCode) -> impl Iterator<Item = &Ticket> {
        self.tickets.values().filter(move |t| {
            t.state == TicketState::Waiting
                && t.target_counter.is_none()
                && &t.case_type == case_type
        })
    }

    /// How many people are ahead of a waiting ticket in its queue, counted as the strict
    /// policy would call them: a priority ticket has the priority tickets queued before it
    /// ahead; a normal ticket has every priority ticket and the normal ones queued before it.
    /// (Under the interleave and ageing policies this is an upper bound.)
    pub fn people_ahead(&self, ticket: &Ticket) -> usize {
        let earlier = |o: &Ticket| (o.queued_at, o.id) < (ticket.queued_at, ticket.id);
        self.waiting(&ticket.case_type)
            .filter(|o| {
                o.id != ticket.id
                    && if ticket.is_priority() {
                        o.is_priority() && earlier(o)
                    } else {
                        o.is_priority() || earlier(o)
                    }
            })
            .count()
    }

    /// Mean service time of a case type in seconds: the mean of the last `SERVICE_SAMPLE`
    /// services finished today, or the configured default before there are any.
    pub fn mean_service_secs(&self, case_type: &CaseTypeCode) -> f64 {
        match self.service_secs.get(case_type) {
            Some(s) if !s.is_empty() => s.iter().sum::<i64>() as f64 / s.len() as f64,
            _ => self
                .office
                .case_type(case_type)
                .map_or(600.0, |c| f64::from(c.default_service_min) * 60.0),
        }
    }

    /// Counters working on a case type now: each open (not paused) counter that serves it
    /// adds the share of its weights that goes to this case type.
    pub fn effective_counters(&self, case_type: &CaseTypeCode) -> f64 {
        self.counters
            .values()
            .filter(|c| c.status == CounterStatus::Open)
            .filter_map(|c| {
                let w = *c.serves.get(case_type)?;
                let total: u32 = c.serves.values().sum();
                Some(f64::from(w) / f64::from(total.max(1)))
            })
            .sum()
    }

    /// Estimated wait for someone with `ahead` people in front of them: `ahead × S / n`, where
    /// S is the mean service time and n the effective counters (docs/ARCHITECTURE.md). `None`
    /// when no open counter serves the case type.
    pub fn estimated_wait(&self, case_type: &CaseTypeCode, ahead: usize) -> Option<SignedDuration> {
        let n = self.effective_counters(case_type);
        if n <= 0.0 {
            return None;
        }
        let secs = ahead as f64 * self.mean_service_secs(case_type) / n;
        Some(SignedDuration::from_secs(secs.ceil() as i64))
    }

    /// Checks the engine's invariants; `Err` names the first one broken. Used by tests, and
    /// cheap enough to run after a restart.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut numbers = BTreeSet::new();
        for t in self.tickets.values() {
            if !numbers.insert(&t.number) {
                return Err(format!("number {} twice in a day", t.number));
            }
            if self.by_number.get(&t.number) != Some(&t.id) {
                return Err(format!("number index out of step for {}", t.number));
            }
            let holders: Vec<_> = self
                .counters
                .values()
                .filter(|c| c.current == Some(t.id))
                .collect();
            if holders.len() > 1 {
                return Err(format!("ticket {} at {} counters", t.number, holders.len()));
            }
            if t.state.at_counter() != (holders.len() == 1) {
                return Err(format!(
                    "ticket {} is {} but held by {} counters",
                    t.number,
                    t.state,
                    holders.len()
                ));
            }
            if let (Some(h), Some(c)) = (holders.first(), t.counter)
                && h.id != c
            {
                return Err(format!("ticket {} counter out of step", t.number));
            }
        }
        for t in self.tickets.values() {
            if t.id >= self.next_ticket_id {
                return Err(format!("ticket id {} not below the next id", t.id));
            }
            if Some(t.day) == self.day && self.last_seq(&t.issued_case_type) < t.number.seq() {
                return Err(format!(
                    "sequence of {} behind ticket {}",
                    t.issued_case_type, t.number
                ));
            }
        }
        for c in self.counters.values() {
            if let Some(id) = c.current {
                match self.tickets.get(&id) {
                    Some(t) if t.state.at_counter() => {}
                    _ => return Err(format!("counter {} holds a ticket not at a counter", c.id)),
                }
                if c.status == CounterStatus::Closed {
                    return Err(format!("closed counter {} holds a ticket", c.id));
                }
            }
        }
        Ok(())
    }

    // ---- helpers ----

    fn reset_counters(&mut self) {
        self.counters = self
            .office
            .counters
            .iter()
            .map(|c| {
                (
                    c.id,
                    CounterState {
                        id: c.id,
                        status: CounterStatus::Closed,
                        operator: None,
                        current: None,
                        serves: c.serves.clone(),
                        normal_streak: 0,
                        since: None,
                    },
                )
            })
            .collect();
    }

    fn insert_ticket(&mut self, t: Ticket) {
        self.by_number.insert(t.number.clone(), t.id);
        self.tickets.insert(t.id, t);
    }

    fn free_counter_of(&mut self, ticket: TicketId) {
        for c in self.counters.values_mut() {
            if c.current == Some(ticket) {
                c.current = None;
            }
        }
    }

    fn counter_state(&self, id: CounterId) -> Result<&CounterState, DomainError> {
        self.counters
            .get(&id)
            .ok_or(DomainError::UnknownCounter(id))
    }

    /// The counter, if `actor` may act at it: its signed-in clerk, or the service itself.
    fn operated_counter(&self, id: CounterId, actor: &Actor) -> Result<&CounterState, DomainError> {
        let c = self.counter_state(id)?;
        match (actor, &c.operator) {
            (Actor::System, _) => Ok(c),
            (Actor::User(u), Some(op)) if u == op => Ok(c),
            (_, Some(op)) => Err(DomainError::CounterTaken {
                counter: id,
                operator: op.clone(),
            }),
            (_, None) => Err(DomainError::CounterClosed(id)),
        }
    }

    /// The counter, if it can call a ticket now: open, not paused, free, operated by `actor`.
    fn calling_counter(&self, id: CounterId, actor: &Actor) -> Result<&CounterState, DomainError> {
        let c = self.operated_counter(id, actor)?;
        match c.status {
            CounterStatus::Closed => return Err(DomainError::CounterClosed(id)),
            CounterStatus::Paused { .. } => return Err(DomainError::CounterPaused(id)),
            CounterStatus::Open => {}
        }
        self.ensure_free(c)?;
        Ok(c)
    }

    fn ensure_free(&self, c: &CounterState) -> Result<(), DomainError> {
        match c.current.and_then(|id| self.tickets.get(&id)) {
            Some(t) => Err(DomainError::CounterBusy {
                counter: c.id,
                ticket: t.number.clone(),
            }),
            None => Ok(()),
        }
    }

    fn current_ticket(&self, id: CounterId, actor: &Actor) -> Result<&Ticket, DomainError> {
        let c = self.operated_counter(id, actor)?;
        c.current
            .and_then(|t| self.tickets.get(&t))
            .ok_or(DomainError::NoCurrentTicket(id))
    }

    fn ticket_by_number(&self, number: &TicketNumber) -> Result<&Ticket, DomainError> {
        self.find(number)
            .ok_or_else(|| DomainError::UnknownTicket(number.clone()))
    }
}

fn illegal(t: &Ticket, action: &'static str) -> DomainError {
    DomainError::IllegalTransition {
        number: t.number.clone(),
        state: t.state,
        action,
    }
}

fn checked_reason(reason: &str) -> Result<String, DomainError> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 200 {
        return Err(DomainError::Invalid(
            "a reason of 1 to 200 characters is required".into(),
        ));
    }
    Ok(r.to_owned())
}
