//! Where the current time comes from.
//!
//! The engine takes the time as an argument; the storage writer asks a `Clock` for it, so that
//! tests can move time (across local midnight, through a DST change) without waiting.

use std::sync::{Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};

/// A source of the current instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The system's real-time clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until it is set or advanced, for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        Self {
            now: Mutex::new(at),
        }
    }

    /// Sets the clock to `at` (it may go backwards, as a real clock can after an NTP step).
    pub fn set(&self, at: Timestamp) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// Moves the clock by `by` (negative to go back); it stops at the ends of jiff's range.
    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.checked_add(by).unwrap_or(if by.is_negative() {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_set_and_advanced() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let c = ManualClock::new(t0);
        assert_eq!(c.now(), t0);
        c.advance(SignedDuration::from_secs(90));
        assert_eq!(c.now().as_second(), 1_700_000_090);
        c.set(Timestamp::UNIX_EPOCH);
        assert_eq!(c.now(), Timestamp::UNIX_EPOCH);
        c.advance(SignedDuration::MIN);
        assert_eq!(c.now(), Timestamp::MIN);
    }
}
