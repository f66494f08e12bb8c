//! Call-next: which waiting ticket a counter takes.
//!
//! 1. Tickets transferred to this very counter, longest waiting first.
//! 2. Otherwise among the waiting tickets of the case types the counter serves, by the office's
//!    priority policy, then the counter's weight for the case type (higher first), then the
//!    longest wait, then the lowest ticket id (so ties are deterministic).

use std::cmp::Reverse;

use jiff::SignedDuration;

use super::office::PriorityPolicy;
use super::state::{CounterState, Engine};
use super::ticket::{Ticket, TicketState};

pub(crate) fn pick_next<'e>(engine: &'e Engine, counter: &CounterState) -> Option<&'e Ticket> {
    let waiting = || engine.tickets().filter(|t| t.state == TicketState::Waiting);
    if let Some(t) = waiting()
        .filter(|t| t.target_counter == Some(counter.id))
        .min_by_key(|t| (t.queued_at, t.id))
    {
        return Some(t);
    }
    let weight = |t: &Ticket| counter.serves.get(&t.case_type).copied().unwrap_or(0);
    let candidates = || waiting().filter(|t| t.target_counter.is_none() && weight(t) > 0);
    let plain_key = |t: &&Ticket| (Reverse(weight(t)), t.queued_at, t.id);
    match engine.office().priority_policy {
        PriorityPolicy::Strict => candidates().min_by_key(|t| (!t.is_priority(), plain_key(t))),
        PriorityPolicy::Interleave { max_normal_in_row } => {
            let best_priority = candidates()
                .filter(|t| t.is_priority())
                .min_by_key(plain_key);
            let best_normal = candidates()
                .filter(|t| !t.is_priority())
                .min_by_key(plain_key);
            match (best_priority, best_normal) {
                (Some(p), Some(_)) if counter.normal_streak >= max_normal_in_row => Some(p),
                (_, Some(n)) => Some(n),
                (p, None) => p,
            }
        }
        PriorityPolicy::Ageing { minutes } => {
            let head_start = SignedDuration::from_mins(i64::from(minutes));
            candidates().min_by_key(|t| {
                let effective = if t.is_priority() {
                    t.queued_at.checked_sub(head_start).unwrap_or(t.queued_at)
                } else {
                    t.queued_at
                };
                (Reverse(weight(t)), effective, t.id)
            })
        }
    }
}
