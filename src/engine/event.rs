//! Events: the facts the engine records. The event log is the truth; the engine's state is
//! what applying the events since the last `DayStarted` gives, so a restart replays them.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::command::TransferTarget;
use super::ids::{Actor, CaseTypeCode, CounterId, Lang, PriorityCode, TicketId, TicketNumber};
use super::ticket::Ticket;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: Timestamp,
    pub actor: Actor,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Why a ticket became a no-show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoShowReason {
    /// The clerk marked it.
    Clerk,
    /// A recall past the office's call limit.
    CallLimit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A new local day begins: numbering restarts, counters are closed, today's overrides are
    /// cleared. Carries the tickets kept from the day before (whole), so that replaying from
    /// the last `DayStarted` rebuilds the state exactly.
    DayStarted {
        date: Date,
        next_ticket_id: TicketId,
        carried: Vec<Ticket>,
    },
    TicketIssued {
        ticket: TicketId,
        number: TicketNumber,
        case_type: CaseTypeCode,
        priority: Option<PriorityCode>,
        lang: Lang,
    },
    TicketCalled {
        ticket: TicketId,
        number: TicketNumber,
        counter: CounterId,
        /// Called by number rather than by the routing rules.
        specific: bool,
    },
    TicketRecalled {
        ticket: TicketId,
        number: TicketNumber,
        counter: CounterId,
        calls: u32,
    },
    ServiceStarted {
        ticket: TicketId,
        number: TicketNumber,
        counter: CounterId,
    },
    ServiceFinished {
        ticket: TicketId,
        number: TicketNumber,
        counter: CounterId,
    },
    TicketNoShow {
        ticket: TicketId,
        number: TicketNumber,
        counter: CounterId,
        reason: NoShowReason,
    },
    TicketParked {
        ticket: TicketId,
        number: TicketNumber,
        counter: CounterId,
    },
    TicketTransferred {
        ticket: TicketId,
        number: TicketNumber,
        from_counter: CounterId,
        to: TransferTarget,
    },
    TicketCancelled {
        ticket: TicketId,
        number: TicketNumber,
        reason: String,
    },
    CounterOpened {
        counter: CounterId,
        operator: String,
    },
    CounterPaused {
        counter: CounterId,
        reason: String,
    },
    CounterResumed {
        counter: CounterId,
    },
    CounterClosed {
        counter: CounterId,
    },
    CounterServesChanged {
        counter: CounterId,
        serves: Vec<(CaseTypeCode, u32)>,
    },
    IssuingChanged {
        case_type: CaseTypeCode,
        open: bool,
    },
    DailyCapChanged {
        case_type: CaseTypeCode,
        cap: Option<u32>,
    },
}

impl EventKind {
    /// The event's type as stored in the log's `kind` column.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::DayStarted { .. } => "day_started",
            EventKind::TicketIssued { .. } => "ticket_issued",
            EventKind::TicketCalled { .. } => "ticket_called",
            EventKind::TicketRecalled { .. } => "ticket_recalled",
            EventKind::ServiceStarted { .. } => "service_started",
            EventKind::ServiceFinished { .. } => "service_finished",
            EventKind::TicketNoShow { .. } => "ticket_no_show",
            EventKind::TicketParked { .. } => "ticket_parked",
            EventKind::TicketTransferred { .. } => "ticket_transferred",
            EventKind::TicketCancelled { .. } => "ticket_cancelled",
            EventKind::CounterOpened { .. } => "counter_opened",
            EventKind::CounterPaused { .. } => "counter_paused",
            EventKind::CounterResumed { .. } => "counter_resumed",
            EventKind::CounterClosed { .. } => "counter_closed",
            EventKind::CounterServesChanged { .. } => "counter_serves_changed",
            EventKind::IssuingChanged { .. } => "issuing_changed",
            EventKind::DailyCapChanged { .. } => "daily_cap_changed",
        }
    }
    /// The ticket the event is about, if any.
    pub fn ticket(&self) -> Option<TicketId> {
        match self {
            EventKind::TicketIssued { ticket, .. }
            | EventKind::TicketCalled { ticket, .. }
            | EventKind::TicketRecalled { ticket, .. }
            | EventKind::ServiceStarted { ticket, .. }
            | EventKind::ServiceFinished { ticket, .. }
            | EventKind::TicketNoShow { ticket, .. }
            | EventKind::TicketParked { ticket, .. }
            | EventKind::TicketTransferred { ticket, .. }
            | EventKind::TicketCancelled { ticket, .. } => Some(*ticket),
            _ => None,
        }
    }
    /// The counter the event is about, if any.
    pub fn counter(&self) -> Option<CounterId> {
        match self {
            EventKind::TicketCalled { counter, .. }
            | EventKind::TicketRecalled { counter, .. }
            | EventKind::ServiceStarted { counter, .. }
            | EventKind::ServiceFinished { counter, .. }
            | EventKind::TicketNoShow { counter, .. }
            | EventKind::TicketParked { counter, .. }
            | EventKind::CounterOpened { counter, .. }
            | EventKind::CounterPaused { counter, .. }
            | EventKind::CounterResumed { counter }
            | EventKind::CounterClosed { counter }
            | EventKind::CounterServesChanged { counter, .. } => Some(*counter),
            EventKind::TicketTransferred { from_counter, .. } => Some(*from_counter),
            _ => None,
        }
    }
}
