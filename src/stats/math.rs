//! The arithmetic of the reports: summaries of durations (mean, median, 90th percentile,
//! maximum) and the Erlang C queueing model used for staffing (docs/STATISTICS.md).
//!
//! Everything here is pure and tested against values worked out by hand or published.

/// Mean, median, 90th percentile and maximum of a set of durations, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Summary {
    pub count: u64,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub max: Option<f64>,
}

/// Summarizes durations given in milliseconds; the answer is in seconds. Reorders `ms`.
pub fn summarize_ms(ms: &mut [i64]) -> Summary {
    let Some(&max) = ms.iter().max() else {
        return Summary::default();
    };
    let secs = |v: f64| v / 1000.0;
    let sum: i128 = ms.iter().map(|&v| i128::from(v)).sum();
    Summary {
        count: ms.len() as u64,
        mean: Some(secs(sum as f64 / ms.len() as f64)),
        median: quantile(ms, 0.5).map(secs),
        p90: quantile(ms, 0.9).map(secs),
        max: Some(secs(max as f64)),
    }
}

/// `percentile_sorted` without sorting: a selection of the rank below `(n − 1)·p` and the
/// least value above it, in linear time. Reorders `v`.
pub fn quantile(v: &mut [i64], p: f64) -> Option<f64> {
    let last = v.len().checked_sub(1)?;
    let h = last as f64 * p.clamp(0.0, 1.0);
    let lo = (h.floor() as usize).min(last);
    let (_, &mut a, above) = v.select_nth_unstable(lo);
    let frac = h - lo as f64;
    let b = if frac > 0.0 {
        above.iter().copied().min().unwrap_or(a)
    } else {
        a
    };
    Some(a as f64 + frac * (b as f64 - a as f64))
}

/// The `p`-quantile (0 ≤ p ≤ 1) of sorted values by linear interpolation between the closest
/// ranks: position `(n − 1)·p`, as Excel's PERCENTILE.INC and LibreOffice's PERCENTILE do,
/// so a manager can check a figure in a spreadsheet. The median of an even count is the mean
/// of the two middle values.
pub fn percentile_sorted(sorted: &[i64], p: f64) -> Option<f64> {
    let n = sorted.len();
    let last = n.checked_sub(1)?;
    let h = last as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(last);
    let (a, b) = (*sorted.get(lo)? as f64, *sorted.get(hi)? as f64);
    Some(a + (h - lo as f64) * (b - a))
}

/// The Erlang C probability that an arrival has to wait, for `a` erlangs of offered load on
/// `n` servers; 1 when the servers cannot keep up (`n ≤ a`).
///
/// Computed through the Erlang B recursion `B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1))` and
/// `C = n·B / (n − a·(1 − B))`, which never overflows (no powers or factorials).
pub fn erlang_c(n: u32, a: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    if f64::from(n) <= a {
        return 1.0;
    }
    let mut b = 1.0;
    for k in 1..=n {
        b = a * b / (f64::from(k) + a * b);
    }
    let n = f64::from(n);
    (n * b / (n - a * (1.0 - b))).clamp(0.0, 1.0)
}

/// The share of arrivals who wait no longer than `target_s` seconds with `n` servers, offered
/// load `a` erlangs and mean service time `service_s` seconds (M/M/n, first come first
/// served): `1 − C(n, a)·e^(−(n − a)·target / service)`. Zero when `n ≤ a`.
pub fn service_level(n: u32, a: f64, service_s: f64, target_s: f64) -> f64 {
    if a <= 0.0 {
        return 1.0;
    }
    if f64::from(n) <= a || service_s <= 0.0 {
        return 0.0;
    }
    let c = erlang_c(n, a);
    (1.0 - c * (-(f64::from(n) - a) * target_s / service_s).exp()).clamp(0.0, 1.0)
}

/// The most servers `servers_needed` will ever answer; a load needing more is reported as
/// this (an office never has a thousand counters for one case type).
pub const MAX_SERVERS: u32 = 999;

/// The fewest servers for which at least `share` of arrivals wait no longer than `target_s`,
/// by the Erlang C model; 0 when nothing arrives.
pub fn servers_needed(a: f64, service_s: f64, target_s: f64, share: f64) -> u32 {
    if a <= 0.0 || !a.is_finite() {
        return 0;
    }
    // The smallest n with n > a: below that the queue grows without bound.
    let mut n = (a.floor() as u32).saturating_add(1).max(1);
    while n < MAX_SERVERS && service_level(n, a, service_s, target_s) < share {
        n += 1;
    }
    n.min(MAX_SERVERS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, eps: f64) -> bool {
        (a - b).abs() <= eps
    }

    #[test]
    fn percentiles_interpolate_like_a_spreadsheet() {
        // PERCENTILE.INC({1,2,3,4}, 0.5) = 2.5; ({1,2,3,4}, 0.9) = 3.7;
        // ({10,20,30,40,50}, 0.9) = 46.
        assert_eq!(percentile_sorted(&[1, 2, 3, 4], 0.5), Some(2.5));
        assert!(close(
            percentile_sorted(&[1, 2, 3, 4], 0.9).unwrap_or(0.0),
            3.7,
            1e-12
        ));
        assert_eq!(percentile_sorted(&[10, 20, 30, 40, 50], 0.9), Some(46.0));
        assert_eq!(percentile_sorted(&[10, 20, 30, 40, 50], 0.5), Some(30.0));
        assert_eq!(percentile_sorted(&[7], 0.9), Some(7.0));
        assert_eq!(percentile_sorted(&[], 0.5), None);
        assert_eq!(percentile_sorted(&[1, 9], 0.0), Some(1.0));
        assert_eq!(percentile_sorted(&[1, 9], 1.0), Some(9.0));
    }

    #[test]
    fn selection_agrees_with_sorting() {
        let mut seed = 12345u64;
        for n in [1usize, 2, 3, 10, 11, 100, 1001] {
            let mut v: Vec<i64> = (0..n)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 40) as i64 % 5000
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_unstable();
            for p in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
                assert_eq!(
                    quantile(&mut v, p),
                    percentile_sorted(&sorted, p),
                    "n={n} p={p}"
                );
            }
        }
        assert_eq!(quantile(&mut [], 0.5), None);
    }

    #[test]
    fn summaries_are_in_seconds() {
        let mut v = vec![4_000, 1_000, 3_000, 2_000];
        let s = summarize_ms(&mut v);
        assert_eq!(s.count, 4);
        assert_eq!(s.mean, Some(2.5));
        assert_eq!(s.median, Some(2.5));
        assert!(close(s.p90.unwrap_or(0.0), 3.7, 1e-12));
        assert_eq!(s.max, Some(4.0));
        assert_eq!(summarize_ms(&mut []), Summary::default());
    }

    #[test]
    fn erlang_c_matches_published_values() {
        // Worked by hand: C(3, 2) = 4/9, C(2, 1) = 1/3 (also Wolfram's ErlangC[3, 2] example).
        assert!(close(erlang_c(3, 2.0), 4.0 / 9.0, 1e-12));
        assert!(close(erlang_c(2, 1.0), 1.0 / 3.0, 1e-12));
        // Erlang C tables: A = 10 erlangs on 11 servers 0.6821, on 12 servers 0.4494.
        assert!(close(erlang_c(11, 10.0), 0.6821, 5e-5));
        assert!(close(erlang_c(12, 10.0), 0.4494, 5e-5));
        // The classic call-centre example: 360 calls per half hour of 4 minutes (48 erlangs)
        // on 55 agents: probability of waiting 0.2387, 84.6 % answered within 15 s, average
        // speed of answer 8.2 s.
        let c = erlang_c(55, 48.0);
        assert!(close(c, 0.2387, 5e-5), "{c}");
        assert!(close(service_level(55, 48.0, 240.0, 15.0), 0.846, 5e-4));
        assert!(close(c * 240.0 / (55.0 - 48.0), 8.2, 0.05));
        // Overload and no load.
        assert_eq!(erlang_c(2, 2.0), 1.0);
        assert_eq!(erlang_c(2, 3.5), 1.0);
        assert_eq!(erlang_c(3, 0.0), 0.0);
        // Large loads neither overflow nor lose precision: C falls as servers are added.
        let big = erlang_c(520, 500.0);
        assert!(big > 0.0 && big < 1.0 && big > erlang_c(530, 500.0));
    }

    #[test]
    fn staffing_answers_known_cases() {
        // Wolfram's ErlangC example: 30 calls an hour of 5 minutes each (2.5 erlangs); for a
        // 90 % probability of not being delayed at all, 6 servers (5 give 87 %).
        assert_eq!(servers_needed(2.5, 300.0, 0.0, 0.9), 6);
        assert!(close(1.0 - erlang_c(5, 2.5), 0.8696, 5e-5));
        // 48 erlangs, 4-minute calls, 80 % within 15 s: 55 agents (84.6 %); 54 give 79.3 %.
        assert_eq!(servers_needed(48.0, 240.0, 15.0, 0.8), 55);
        assert!(close(service_level(54, 48.0, 240.0, 15.0), 0.793, 5e-4));
        // An office: 12 people an hour, 10 minutes each (2 erlangs), 80 % within 20 minutes.
        // 3 counters: C = 4/9, 1 − 4/9·e^(−1·1200/600) = 0.9398; 2 counters cannot keep up.
        assert_eq!(servers_needed(2.0, 600.0, 1200.0, 0.8), 3);
        assert!(close(
            service_level(3, 2.0, 600.0, 1200.0),
            1.0 - 4.0 / 9.0 * (-2.0f64).exp(),
            1e-12
        ));
        assert_eq!(servers_needed(0.0, 600.0, 1200.0, 0.8), 0);
        assert_eq!(servers_needed(f64::NAN, 600.0, 1200.0, 0.8), 0);
    }
}
