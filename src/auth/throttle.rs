//! An in-memory sliding-window limiter: at most `limit` hits per key within `window`.
//!
//! Used for failed sign-ins (per user name and per client address) and for pairing requests
//! (per client address). It lives in memory: a restart forgets it, which costs an attacker
//! one window at most. Keys whose hits have all aged out are dropped when the map grows, so
//! that a flood of distinct keys cannot grow it without bound.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

/// Keys kept before a sweep of aged-out entries.
const SWEEP_AT: usize = 10_000;

#[derive(Debug)]
pub(crate) struct Throttle {
    limit: usize,
    window_ms: i64,
    hits: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Throttle {
    pub(crate) fn new(limit: usize, window_ms: i64) -> Self {
        Self {
            limit,
            window_ms,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` while `key` has `limit` hits within the window: how long until the
    /// oldest of them ages out (at least 1).
    pub(crate) fn check(&self, key: &str, now_ms: i64) -> Result<(), u64> {
        let mut hits = self.hits.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(q) = hits.get_mut(key) else {
            return Ok(());
        };
        self.expire(q, now_ms);
        if q.len() < self.limit {
            return Ok(());
        }
        let oldest = q.front().copied().unwrap_or(now_ms);
        let wait_ms = (oldest + self.window_ms - now_ms).max(0);
        Err((wait_ms as u64).div_ceil(1000).max(1))
    }

    /// Records a hit for `key`.
    pub(crate) fn hit(&self, key: &str, now_ms: i64) {
        let mut hits = self.hits.lock().unwrap_or_else(PoisonError::into_inner);
        if hits.len() >= SWEEP_AT {
            let window = self.window_ms;
            hits.retain(|_, q| q.back().is_some_and(|&t| t > now_ms - window));
        }
        let q = hits.entry(key.to_owned()).or_default();
        self.expire(q, now_ms);
        q.push_back(now_ms);
        // Only the newest `limit` hits matter.
        while q.len() > self.limit {
            q.pop_front();
        }
    }

    /// Forgets `key` (a successful sign-in clears its user name's failures).
    pub(crate) fn clear(&self, key: &str) {
        self.hits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    fn expire(&self, q: &mut VecDeque<i64>, now_ms: i64) {
        while q.front().is_some_and(|&t| t <= now_ms - self.window_ms) {
            q.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_oldest_hit_ages_out() {
        let t = Throttle::new(3, 60_000);
        for i in 0..3 {
            assert_eq!(t.check("a", i * 1000), Ok(()));
            t.hit("a", i * 1000);
        }
        assert_eq!(t.check("a", 3_000), Err(57));
        assert_eq!(t.check("b", 3_000), Ok(()), "keys are separate");
        assert_eq!(t.check("a", 59_999), Err(1));
        assert_eq!(t.check("a", 60_000), Ok(()), "the first hit aged out");
        t.clear("a");
        assert_eq!(t.check("a", 3_000), Ok(()));
    }

    #[test]
    fn aged_out_keys_are_swept() {
        let t = Throttle::new(1, 10);
        for i in 0..SWEEP_AT {
            t.hit(&i.to_string(), 0);
        }
        t.hit("late", 100);
        let n = t.hits.lock().map(|h| h.len()).unwrap_or(0);
        assert_eq!(n, 1);
    }
}
