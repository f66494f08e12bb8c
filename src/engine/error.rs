//! The engine's one error type: why a command was refused, in words a clerk can act on.

use super::ids::{CaseTypeCode, CounterId, PriorityCode, TicketNumber};
use super::ticket::TicketState;

/// Why a case type is not issuing tickets right now (shown on the kiosk button).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotIssuingReason {
    /// Closed today (weekday off or a closed date).
    ClosedToday,
    /// Before today's issuing hours.
    NotYetOpen,
    /// Too late to be served today.
    TooLate,
    /// Today's cap is reached.
    DailyCapReached,
    /// Stopped by a manager.
    StoppedByManager,
}

impl NotIssuingReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NotIssuingReason::ClosedToday => "closed today",
            NotIssuingReason::NotYetOpen => "not open yet",
            NotIssuingReason::TooLate => "too late to be served today",
            NotIssuingReason::DailyCapReached => "today's limit of tickets is reached",
            NotIssuingReason::StoppedByManager => "issuing stopped by the office",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("unknown case type `{0}`")]
    UnknownCaseType(CaseTypeCode),
    #[error("unknown counter {0}")]
    UnknownCounter(CounterId),
    #[error("unknown priority category `{0}`")]
    UnknownPriority(PriorityCode),
    #[error("no ticket {0} today")]
    UnknownTicket(TicketNumber),
    #[error("case type `{case_type}` is not issuing tickets: {}", reason.as_str())]
    NotIssuing {
        case_type: CaseTypeCode,
        reason: NotIssuingReason,
    },
    #[error("counter {0} is closed; open it first")]
    CounterClosed(CounterId),
    #[error("counter {0} is paused; resume it first")]
    CounterPaused(CounterId),
    #[error("counter {counter} is already open for {operator}")]
    CounterTaken {
        counter: CounterId,
        operator: String,
    },
    #[error("counter {0} is already open")]
    CounterAlreadyOpen(CounterId),
    #[error("counter {0} is not paused")]
    CounterNotPaused(CounterId),
    #[error("counter {counter} still has ticket {ticket}; finish, park or transfer it first")]
    CounterBusy {
        counter: CounterId,
        ticket: TicketNumber,
    },
    #[error("counter {0} has no current ticket")]
    NoCurrentTicket(CounterId),
    #[error("no ticket waiting for counter {0}")]
    NothingToCall(CounterId),
    #[error("ticket {number} is {state}; cannot {action}")]
    IllegalTransition {
        number: TicketNumber,
        state: TicketState,
        action: &'static str,
    },
    #[error("counter {counter} does not serve case type `{case_type}`")]
    NotServed {
        counter: CounterId,
        case_type: CaseTypeCode,
    },
    #[error("cannot transfer ticket {0} to where it already is")]
    TransferToSelf(TicketNumber),
    #[error("{0}")]
    Invalid(String),
}
