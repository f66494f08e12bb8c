//! A ticket and its life: waiting → called → serving → done, with no-show, parked, cancelled
//! and transfers on the side.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::ids::{CaseTypeCode, CounterId, Lang, PriorityCode, TicketId, TicketNumber};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// In a queue, waiting to be called.
    Waiting,
    /// Called to a counter; the citizen is on their way.
    Called,
    /// The citizen is at the counter.
    Serving,
    Done,
    /// Called and did not come.
    NoShow,
    /// Put aside by a clerk (say, to fetch a document), to be called again by number.
    Parked,
    Cancelled,
}

impl TicketState {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Waiting => "waiting",
            TicketState::Called => "called",
            TicketState::Serving => "serving",
            TicketState::Done => "done",
            TicketState::NoShow => "no_show",
            TicketState::Parked => "parked",
            TicketState::Cancelled => "cancelled",
        }
    }
    /// A ticket in a final state is finished for the day (a no-show can still be called back
    /// by number if the citizen turns up late).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TicketState::Done | TicketState::NoShow | TicketState::Cancelled
        )
    }
    /// Called or serving: the ticket occupies a counter.
    pub fn at_counter(self) -> bool {
        matches!(self, TicketState::Called | TicketState::Serving)
    }
}

impl std::fmt::Display for TicketState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub number: TicketNumber,
    /// The local day the ticket was issued on (its number is unique within that day).
    pub day: Date,
    /// The case type it is queued for now (a transfer changes it; the number stays).
    pub case_type: CaseTypeCode,
    /// The case type it was issued for.
    pub issued_case_type: CaseTypeCode,
    /// Self-declared priority category. Health data: never shown or printed.
    pub priority: Option<PriorityCode>,
    pub lang: Lang,
    pub state: TicketState,
    pub issued_at: Timestamp,
    /// The time its place in the queue is counted from: the issue time, kept across transfers
    /// and parking so that a transferred citizen does not start waiting again from the back.
    pub queued_at: Timestamp,
    /// The counter it is called to or served at, while called or serving; the last one after.
    pub counter: Option<CounterId>,
    /// Set when transferred to one specific counter: only that counter calls it.
    pub target_counter: Option<CounterId>,
    /// How many times it has been called in the current call (first call plus recalls).
    pub calls: u32,
    pub first_called_at: Option<Timestamp>,
    pub called_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub transfers: u32,
}

impl Ticket {
    pub fn is_priority(&self) -> bool {
        self.priority.is_some()
    }
}
