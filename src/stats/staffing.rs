//! Staffing: for each case type and local hour of a typical working day, how many counters
//! would serve a chosen share of people within the case type's target wait, by the Erlang C
//! model (M/M/n), from the arrival rates and mean service times measured over the last weeks;
//! beside the counters that were actually open. The model and its assumptions are in
//! docs/STATISTICS.md.

use std::collections::HashMap;

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::facts::{Dataset, DayFacts, State};
use super::math;
use crate::engine::Office;

/// What to compute staffing for.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffingQuery {
    /// The last day measured (inclusive).
    pub to: Date,
    /// How many weeks back from `to` (1 to 52).
    pub weeks: u32,
    /// The share of people to serve within the target wait, e.g. 0.8.
    pub share: f64,
    /// Only this ISO weekday (1 = Monday), or every day with activity.
    pub weekday: Option<u8>,
}

impl StaffingQuery {
    /// The first day measured.
    pub fn from(&self) -> Date {
        self.to
            .checked_sub(jiff::Span::new().days(i64::from(self.weeks) * 7 - 1))
            .unwrap_or(self.to)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Staffing {
    pub from: String,
    pub to: String,
    pub weeks: u32,
    /// The share of people to be called within the target wait (0 to 1).
    pub share: f64,
    pub weekday: Option<u8>,
    /// The days measured: days in the window with any activity (of the weekday, if given).
    pub days: u64,
    pub case_types: Vec<CaseTypeStaffing>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseTypeStaffing {
    pub code: String,
    pub name: String,
    pub target_wait_min: u32,
    /// The mean service time used: measured over the window, or the configured default when
    /// nothing of the case type was served.
    pub mean_service_s: f64,
    /// `measured` or `configured`.
    pub service_time_source: String,
    /// The hours with arrivals or open counters.
    pub hours: Vec<HourStaffing>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HourStaffing {
    /// The local hour (0-23).
    pub hour: u8,
    /// People arriving in this hour on an average day.
    pub arrivals_per_hour: f64,
    /// Offered load in erlangs: arrivals per hour × mean service time in hours.
    pub offered_load: f64,
    /// The fewest counters that serve `share` within the target, by Erlang C.
    pub counters_needed: u32,
    /// The share the model predicts with `counters_needed`.
    pub predicted_share: Option<f64>,
    /// Counters actually open for this case type in this hour, on an average day (see the
    /// docs: a counter's open time is split between case types by what it called that day).
    pub counters_open: f64,
    /// The share the model predicts with `counters_open` rounded to whole counters.
    pub predicted_share_open: Option<f64>,
    /// The share actually called within the target, of people arriving in this hour.
    pub measured_share: Option<f64>,
}

/// Computes staffing from the facts of the window `q.from()..=q.to`.
pub fn compute(ds: &Dataset, office: &Office, q: &StaffingQuery) -> Staffing {
    let wanted_day = |d: Date| {
        q.weekday
            .is_none_or(|w| d.weekday().to_monday_one_offset() as u8 == w)
    };
    let chosen: Vec<&DayFacts> = ds
        .days
        .iter()
        .map(|d| &**d)
        .filter(|d| wanted_day(d.day))
        .collect();
    let days = chosen.len() as u64;
    let per_day = |x: f64| if days == 0 { 0.0 } else { x / days as f64 };

    let mut case_types = Vec::new();
    for ct in &office.case_types {
        let id = ds.names.find(ct.code.as_str());
        let target_ms = i64::from(ct.target_wait_min) * 60_000;
        let mut arrivals = [0u64; 24];
        let mut met = [0u64; 24];
        let mut counted = [0u64; 24];
        let (mut service_sum, mut service_n) = (0i64, 0i64);
        let mut open_ms = [0f64; 24];
        for day in &chosen {
            // Each counter's mix of case types this day: what it called.
            let mut mix: HashMap<u16, (u64, u64)> = HashMap::new();
            for t in &day.tickets {
                if let (Some(c), Some(_)) = (t.counter(), t.wait_ms()) {
                    let m = mix.entry(c).or_default();
                    m.0 += 1;
                    m.1 += u64::from(Some(t.case_type) == id);
                }
                if Some(t.issued_case_type) == id {
                    let h = usize::from(t.hour.min(23));
                    if let (Some(a), Some(m), Some(c)) =
                        (arrivals.get_mut(h), met.get_mut(h), counted.get_mut(h))
                    {
                        *a += 1;
                        match (t.wait_ms(), t.unserved_ms()) {
                            (Some(w), _) => {
                                *c += 1;
                                *m += u64::from(w <= target_ms);
                            }
                            (None, Some(u)) if u > target_ms => *c += 1,
                            _ => {}
                        }
                    }
                }
                if Some(t.case_type) == id
                    && t.state == State::Done
                    && let Some(s) = t.service_ms()
                {
                    service_sum += s;
                    service_n += 1;
                }
            }
            for h in &day.hours {
                let Some(&(total, mine)) = mix.get(&h.counter) else {
                    continue;
                };
                if total > 0
                    && let Some(o) = open_ms.get_mut(usize::from(h.hour.min(23)))
                {
                    *o += h.open_ms as f64 * mine as f64 / total as f64;
                }
            }
        }
        let (mean_service_s, source) = if service_n > 0 {
            (service_sum as f64 / service_n as f64 / 1000.0, "measured")
        } else {
            (f64::from(ct.default_service_min) * 60.0, "configured")
        };
        let target_s = f64::from(ct.target_wait_min) * 60.0;
        let mut hours = Vec::new();
        for hour in 0..24usize {
            let n = arrivals.get(hour).copied().unwrap_or(0);
            let open = per_day(open_ms.get(hour).copied().unwrap_or(0.0) / 3_600_000.0);
            if n == 0 && open <= 0.0 {
                continue;
            }
            let lambda = per_day(n as f64);
            let load = lambda * mean_service_s / 3600.0;
            let needed = math::servers_needed(load, mean_service_s, target_s, q.share);
            let open_whole = open.round() as u32;
            let c = counted.get(hour).copied().unwrap_or(0);
            hours.push(HourStaffing {
                hour: hour as u8,
                arrivals_per_hour: lambda,
                offered_load: load,
                counters_needed: needed,
                predicted_share: (load > 0.0)
                    .then(|| math::service_level(needed, load, mean_service_s, target_s)),
                counters_open: open,
                predicted_share_open: (load > 0.0)
                    .then(|| math::service_level(open_whole, load, mean_service_s, target_s)),
                measured_share: (c > 0)
                    .then(|| met.get(hour).copied().unwrap_or(0) as f64 / c as f64),
            });
        }
        case_types.push(CaseTypeStaffing {
            code: ct.code.to_string(),
            name: ct.name.pl.clone(),
            target_wait_min: ct.target_wait_min,
            mean_service_s,
            service_time_source: source.to_owned(),
            hours,
        });
    }
    Staffing {
        from: q.from().to_string(),
        to: q.to.to_string(),
        weeks: q.weeks,
        share: q.share,
        weekday: q.weekday,
        days,
        case_types,
    }
}
