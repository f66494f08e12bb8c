//! Commands: everything anyone can ask the engine to change. Each is checked against the
//! current state and either becomes events or is refused with a `DomainError`.

use serde::{Deserialize, Serialize};

use super::ids::{CaseTypeCode, CounterId, Lang, PriorityCode, TicketNumber};

/// Where a clerk sends a ticket on: another case type's queue, or one specific counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TransferTarget {
    CaseType { case_type: CaseTypeCode },
    Counter { counter: CounterId },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// A kiosk issues a ticket.
    IssueTicket {
        case_type: CaseTypeCode,
        priority: Option<PriorityCode>,
        lang: Lang,
    },
    /// A clerk signs in to a counter and opens it.
    OpenCounter {
        counter: CounterId,
        operator: String,
    },
    /// Pause with a reason (break, paperwork...); only with no ticket at the counter.
    PauseCounter {
        counter: CounterId,
        reason: String,
    },
    ResumeCounter {
        counter: CounterId,
    },
    /// Close the counter (the clerk signs out); only with no ticket at the counter.
    CloseCounter {
        counter: CounterId,
    },
    /// Call the next ticket by the routing rules.
    CallNext {
        counter: CounterId,
    },
    /// Call one ticket by number (waiting, parked, or a late no-show).
    CallTicket {
        counter: CounterId,
        number: TicketNumber,
    },
    /// Call the current ticket again; past the office's call limit it becomes a no-show.
    Recall {
        counter: CounterId,
    },
    /// The citizen has come to the counter.
    StartService {
        counter: CounterId,
    },
    /// Finished: only from serving (start first, so service times are measured).
    FinishService {
        counter: CounterId,
    },
    /// The called citizen did not come.
    MarkNoShow {
        counter: CounterId,
    },
    /// Put the current ticket aside; it can be called back by number.
    Park {
        counter: CounterId,
    },
    /// Send the current ticket to another queue or counter, keeping its number.
    Transfer {
        counter: CounterId,
        to: TransferTarget,
    },
    /// Cancel a ticket that is not finished (manager).
    Cancel {
        number: TicketNumber,
        reason: String,
    },
    /// Change which case types a counter serves and their weights, from its next call on.
    SetCounterServes {
        counter: CounterId,
        serves: Vec<(CaseTypeCode, u32)>,
    },
    /// Open or stop issuing tickets of a case type for today.
    SetIssuing {
        case_type: CaseTypeCode,
        open: bool,
    },
    /// Set or clear today's cap on tickets of a case type.
    SetDailyCap {
        case_type: CaseTypeCode,
        cap: Option<u32>,
    },
    /// Close the day now (manager): refused while a ticket is at a counter; tickets still
    /// waiting or parked are cancelled or kept (the office's end-of-day policy), open counters
    /// are closed, and issuing stops until the next day starts.
    CloseDay,
}
