//! Latency samples and rates: percentiles by sorting (a run holds at most a few hundred
//! thousand samples, so exact percentiles are cheap) and figures printed the same way
//! everywhere.

use std::time::Duration;

/// Durations in microseconds; may be negative (a screen that got a call before the clerk's
/// response arrived).
#[derive(Debug, Default, Clone)]
pub struct Samples {
    us: Vec<i64>,
}

/// The figures of a set of samples, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub min_ms: f64,
}

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.us
            .push(i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    }

    /// A signed sample: `later - earlier`, negative when `later` came first.
    pub fn push_signed_us(&mut self, us: i64) {
        self.us.push(us);
    }

    pub fn extend(&mut self, other: Samples) {
        self.us.extend(other.us);
    }

    pub fn len(&self) -> usize {
        self.us.len()
    }

    pub fn is_empty(&self) -> bool {
        self.us.is_empty()
    }

    pub fn summary(&self) -> Summary {
        if self.us.is_empty() {
            return Summary::default();
        }
        let mut v = self.us.clone();
        v.sort_unstable();
        // Nearest rank: the smallest sample with at least p of the samples at or below it.
        let at = |p: f64| {
            let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
            v[rank - 1] as f64 / 1000.0
        };
        Summary {
            count: v.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: v[v.len() - 1] as f64 / 1000.0,
            min_ms: v[0] as f64 / 1000.0,
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms ({} samples)",
            self.p50_ms, self.p99_ms, self.p999_ms, self.max_ms, self.count
        )
    }
}

/// Operations done in a time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rate {
    pub ops: u64,
    pub secs: f64,
}

impl Rate {
    pub fn per_sec(&self) -> f64 {
        if self.secs > 0.0 {
            self.ops as f64 / self.secs
        } else {
            0.0
        }
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.0}/s ({} in {:.1} s)",
            self.per_sec(),
            self.ops,
            self.secs
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = Samples::default();
        for ms in 1..=1000 {
            s.push(Duration::from_millis(ms));
        }
        let sum = s.summary();
        assert_eq!(sum.p50_ms, 500.0);
        assert_eq!(sum.p99_ms, 990.0);
        assert_eq!(sum.p999_ms, 999.0);
        assert_eq!(sum.max_ms, 1000.0);
        assert_eq!(sum.min_ms, 1.0);
    }
}
