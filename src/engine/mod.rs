//! The queue engine: tickets, numbering, routing, the ticket state machine and the events
//! they produce.
//!
//! Invariant (checked by `tests/architecture.rs`): nothing here does IO or imports tokio, axum,
//! rusqlite or any other IO crate. Time comes in as an argument, so the engine is
//! deterministic and tested on its own; storage, HTTP, printing and screens are rooms built
//! around it.

pub mod command;
pub mod error;
pub mod event;
pub mod ids;
pub mod office;
pub(crate) mod routing;
pub mod state;
pub mod ticket;

#[cfg(test)]
mod tests;

pub use command::{Command, TransferTarget};
pub use error::{DomainError, NotIssuingReason};
pub use event::{Event, EventKind, NoShowReason};
pub use ids::{
    Actor, CaseTypeCode, CounterId, Lang, ParseError, Prefix, PriorityCode, Texts, TicketId,
    TicketNumber,
};
pub use office::{
    CaseType, Counter, DayHours, EndOfDay, Office, PriorityCategory, PriorityPolicy, WeekHours,
};
pub use state::{CounterState, CounterStatus, Engine};
pub use ticket::{Ticket, TicketState};
