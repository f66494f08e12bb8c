//! The report of a range of days: the figures of docs/STATISTICS.md computed from a
//! `Dataset`, overall, per case type, per day, per hour and weekday, per counter and per clerk.
//!
//! Which case type a figure belongs to: a ticket's *arrival* (issued, transferred, priority,
//! wait, service standard, the hour and weekday heat map) belongs to the case type it was
//! issued for, the queue it waited in until its first call; its *outcome* (served, no-show,
//! cancelled, service time) belongs to the case type it ended in, after any transfer.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::facts::{Dataset, NO_NAME, State, TicketFact};
use super::math::{self, Summary};
use crate::engine::{CaseTypeCode, CounterId, Office};

/// What to count: every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub case_type: Option<CaseTypeCode>,
    /// A ticket belongs to the last counter that called it.
    pub counter: Option<CounterId>,
    /// A ticket belongs to the clerk who handled it last.
    pub clerk: Option<String>,
}

/// Durations in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Durations {
    pub count: u64,
    pub mean_s: Option<f64>,
    pub median_s: Option<f64>,
    /// The 90th percentile (linear interpolation, as Excel's PERCENTILE.INC).
    pub p90_s: Option<f64>,
    pub max_s: Option<f64>,
}

impl From<Summary> for Durations {
    fn from(s: Summary) -> Self {
        Durations {
            count: s.count,
            mean_s: s.mean,
            median_s: s.median,
            p90_s: s.p90,
            max_s: s.max,
        }
    }
}

/// The service standard: people called within their case type's target wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Standard {
    /// Tickets called (whenever), plus tickets never called that waited longer than the target.
    pub counted: u64,
    /// Tickets called within the target.
    pub met: u64,
    /// `met / counted`, 0 to 1; `null` when nothing was counted.
    pub share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Figures {
    pub issued: u64,
    /// Done.
    pub served: u64,
    pub no_show: u64,
    pub cancelled: u64,
    /// Tickets transferred at least once.
    pub transferred: u64,
    /// Tickets served out of turn (the category itself is never kept).
    pub priority: u64,
    /// Issue to first call.
    pub wait: Durations,
    /// Start to finish of service, of tickets done.
    pub service: Durations,
    pub within_target: Standard,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseTypeFigures {
    pub code: String,
    /// The Polish name from the office file (`null` for a case type no longer configured).
    pub name: Option<String>,
    pub target_wait_min: Option<u32>,
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DayFigures {
    /// YYYY-MM-DD, local.
    pub day: String,
    /// 1 = Monday ... 7 = Sunday.
    pub weekday: u8,
    pub figures: Figures,
}

/// Arrivals and waits by the local hour of issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HourFigures {
    pub hour: u8,
    pub arrivals: u64,
    /// Arrivals divided by the days in the report.
    pub arrivals_per_day: f64,
    pub wait_mean_s: Option<f64>,
    pub within_target_share: Option<f64>,
}

/// One cell of the weekday × hour heat map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HeatCell {
    /// 1 = Monday ... 7 = Sunday.
    pub weekday: u8,
    pub hour: u8,
    /// Days of this weekday in the report.
    pub days: u64,
    pub arrivals: u64,
    /// `arrivals / days`.
    pub arrivals_per_day: f64,
    pub wait_mean_s: Option<f64>,
}

/// A counter's or a clerk's work. Times do not depend on the case-type filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkFigures {
    pub counter: Option<u32>,
    pub clerk: Option<String>,
    pub served: u64,
    pub no_show: u64,
    /// Open and not paused.
    pub open_s: f64,
    pub paused_s: f64,
    /// Holding a ticket: from its call until it is done, a no-show, parked, transferred or
    /// cancelled.
    pub busy_s: f64,
    /// Serving: from the start of service to its end.
    pub serving_s: f64,
    /// `open_s − busy_s`: open, not paused, with nobody called.
    pub idle_s: f64,
    /// Tickets served per hour open.
    pub served_per_open_hour: Option<f64>,
    /// `busy_s / open_s`.
    pub utilization: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportFilters {
    pub case_type: Option<String>,
    pub counter: Option<u32>,
    pub clerk: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub time_zone: String,
    pub filters: ReportFilters,
    /// Days in the range with any activity (a ticket issued or a counter opened).
    pub days: u64,
    pub totals: Figures,
    pub case_types: Vec<CaseTypeFigures>,
    pub by_day: Vec<DayFigures>,
    /// 24 entries, hour 0 to 23.
    pub by_hour: Vec<HourFigures>,
    /// 7 × 24 cells, Monday 0:00 first.
    pub heatmap: Vec<HeatCell>,
    pub counters: Vec<WorkFigures>,
    pub clerks: Vec<WorkFigures>,
}

/// The figures of a group of tickets, collected one ticket at a time.
#[derive(Default)]
struct Acc {
    issued: u64,
    served: u64,
    no_show: u64,
    cancelled: u64,
    transferred: u64,
    priority: u64,
    waits: Vec<i64>,
    services: Vec<i64>,
    standard: Light,
}

/// Counts, a mean wait and the standard, without the distributions (hours, heat map).
#[derive(Default, Clone, Copy)]
struct Light {
    arrivals: u64,
    wait_sum: i64,
    waits: u64,
    counted: u64,
    met: u64,
}

impl Light {
    fn arrival(&mut self, t: &TicketFact, target_ms: Option<i64>) {
        self.arrivals += 1;
        let wait = t.wait_ms();
        if let Some(w) = wait {
            self.wait_sum += w;
            self.waits += 1;
        }
        if let Some(target) = target_ms {
            match (wait, t.unserved_ms()) {
                (Some(w), _) => {
                    self.counted += 1;
                    self.met += u64::from(w <= target);
                }
                (None, Some(u)) if u > target => self.counted += 1,
                _ => {}
            }
        }
    }
    fn wait_mean_s(&self) -> Option<f64> {
        (self.waits > 0).then(|| self.wait_sum as f64 / self.waits as f64 / 1000.0)
    }
    fn share(&self) -> Option<f64> {
        (self.counted > 0).then(|| self.met as f64 / self.counted as f64)
    }
}

impl Acc {
    fn arrival(&mut self, t: &TicketFact, target_ms: Option<i64>) {
        self.issued += 1;
        self.transferred += u64::from(t.transfers > 0);
        self.priority += u64::from(t.priority);
        if let Some(w) = t.wait_ms() {
            self.waits.push(w);
        }
        self.standard.arrival(t, target_ms);
    }

    fn outcome(&mut self, t: &TicketFact) {
        match t.state {
            State::Done => {
                self.served += 1;
                if let Some(s) = t.service_ms() {
                    self.services.push(s);
                }
            }
            State::NoShow => self.no_show += 1,
            State::Cancelled => self.cancelled += 1,
            _ => {}
        }
    }

    fn finish(mut self) -> Figures {
        Figures {
            issued: self.issued,
            served: self.served,
            no_show: self.no_show,
            cancelled: self.cancelled,
            transferred: self.transferred,
            priority: self.priority,
            wait: math::summarize_ms(&mut self.waits).into(),
            service: math::summarize_ms(&mut self.services).into(),
            within_target: Standard {
                counted: self.standard.counted,
                met: self.standard.met,
                share: self.standard.share(),
            },
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Work {
    seen: bool,
    served: u64,
    no_show: u64,
    open_ms: i64,
    paused_ms: i64,
    busy_ms: i64,
    serving_ms: i64,
}

impl Work {
    fn count(&mut self, state: State) {
        self.seen = true;
        match state {
            State::Done => self.served += 1,
            State::NoShow => self.no_show += 1,
            _ => {}
        }
    }

    fn finish(self, counter: Option<u32>, clerk: Option<String>) -> WorkFigures {
        let s = |ms: i64| ms as f64 / 1000.0;
        let idle = (self.open_ms - self.busy_ms).max(0);
        WorkFigures {
            counter,
            clerk,
            served: self.served,
            no_show: self.no_show,
            open_s: s(self.open_ms),
            paused_s: s(self.paused_ms),
            busy_s: s(self.busy_ms),
            serving_s: s(self.serving_ms),
            idle_s: s(idle),
            served_per_open_hour: (self.open_ms > 0)
                .then(|| self.served as f64 / (self.open_ms as f64 / 3_600_000.0)),
            utilization: (self.open_ms > 0).then(|| self.busy_ms as f64 / self.open_ms as f64),
        }
    }
}

/// A filter resolved against a dataset's names: `Some(None)` means "given, but nobody by that
/// name is in the data", which matches nothing.
struct Resolved {
    case_type: Option<Option<u32>>,
    counter: Option<u16>,
    clerk: Option<Option<u32>>,
}

impl Resolved {
    fn new(f: &Filter, ds: &Dataset) -> Self {
        Resolved {
            case_type: f.case_type.as_ref().map(|c| ds.names.find(c.as_str())),
            counter: f.counter.map(CounterId::get),
            clerk: f.clerk.as_ref().map(|c| ds.names.find(c)),
        }
    }
    fn who(&self, t: &TicketFact) -> bool {
        self.counter.is_none_or(|c| t.counter == c)
            && self.clerk.is_none_or(|c| c.is_some() && t.clerk() == c)
    }
    fn arrival(&self, t: &TicketFact) -> bool {
        self.case_type.is_none_or(|c| c == Some(t.issued_case_type)) && self.who(t)
    }
    fn outcome(&self, t: &TicketFact) -> bool {
        self.case_type.is_none_or(|c| c == Some(t.case_type)) && self.who(t)
    }
    fn hour(&self, counter: u16, clerk: u32) -> bool {
        self.counter.is_none_or(|c| c == counter)
            && self.clerk.is_none_or(|c| c.is_some() && Some(clerk) == c)
    }
}

/// Grows `v` so that `i` is an index in it.
fn slot<T: Default>(v: &mut Vec<T>, i: usize) -> &mut T {
    if v.len() <= i {
        v.resize_with(i + 1, T::default);
    }
    &mut v[i]
}

/// Computes the report of `ds` (the days `from..=to`).
pub fn compute(ds: &Dataset, office: &Office, from: Date, to: Date, filter: &Filter) -> Report {
    let f = Resolved::new(filter, ds);
    // Targets by interned case type.
    let mut target_ms: Vec<Option<i64>> = vec![None; ds.names.len()];
    for c in &office.case_types {
        if let Some(t) = ds
            .names
            .find(c.code.as_str())
            .and_then(|id| target_ms.get_mut(id as usize))
        {
            *t = Some(i64::from(c.target_wait_min) * 60_000);
        }
    }
    let target = |ct: u32| target_ms.get(ct as usize).copied().flatten();

    let mut totals = Acc::default();
    let mut per_case: Vec<Option<Acc>> = Vec::new();
    let mut by_day = Vec::new();
    let mut hours = [Light::default(); 24];
    let mut heat = [Light::default(); 7 * 24];
    let mut counters: Vec<Work> = Vec::new();
    let mut clerks: Vec<Work> = Vec::new();
    let mut weekday_days = [0u64; 7];

    for day in &ds.days {
        if let Some(n) = weekday_days.get_mut(day.day.weekday().to_monday_zero_offset() as usize) {
            *n += 1;
        }
        let mut today = Acc::default();
        let mut touched = false;
        for t in &day.tickets {
            if f.arrival(t) {
                touched = true;
                let tg = target(t.issued_case_type);
                totals.arrival(t, tg);
                today.arrival(t, tg);
                slot(&mut per_case, t.issued_case_type as usize)
                    .get_or_insert_with(Acc::default)
                    .arrival(t, tg);
                if let Some(h) = hours.get_mut(usize::from(t.hour)) {
                    h.arrival(t, tg);
                }
                let cell = usize::from(t.weekday.clamp(1, 7) - 1) * 24 + usize::from(t.hour);
                if let Some(c) = heat.get_mut(cell) {
                    c.arrival(t, tg);
                }
            }
            if f.outcome(t) {
                touched = true;
                totals.outcome(t);
                today.outcome(t);
                slot(&mut per_case, t.case_type as usize)
                    .get_or_insert_with(Acc::default)
                    .outcome(t);
                if let Some(c) = t.counter() {
                    slot(&mut counters, usize::from(c)).count(t.state);
                }
                if let Some(c) = t.clerk() {
                    slot(&mut clerks, c as usize).count(t.state);
                }
            }
        }
        if touched {
            by_day.push(DayFigures {
                day: day.day.to_string(),
                weekday: day.day.weekday().to_monday_one_offset() as u8,
                figures: today.finish(),
            });
        }
        for h in &day.hours {
            if !f.hour(h.counter, h.clerk) {
                continue;
            }
            let add = |w: &mut Work| {
                w.seen = true;
                w.open_ms += h.open_ms;
                w.paused_ms += h.paused_ms;
                w.busy_ms += h.busy_ms;
                w.serving_ms += h.serving_ms;
            };
            add(slot(&mut counters, usize::from(h.counter)));
            if h.clerk != NO_NAME {
                add(slot(&mut clerks, h.clerk as usize));
            }
        }
    }

    let days = ds.days.len() as u64;
    let per_day_of = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };

    // Case types: the configured ones in the office file's order, then any others in the data.
    let mut case_types = Vec::new();
    for ct in &office.case_types {
        if filter.case_type.as_ref().is_some_and(|c| c != &ct.code) {
            continue;
        }
        let acc = ds
            .names
            .find(ct.code.as_str())
            .and_then(|id| per_case.get_mut(id as usize))
            .and_then(Option::take)
            .unwrap_or_default();
        case_types.push(CaseTypeFigures {
            code: ct.code.to_string(),
            name: Some(ct.name.pl.clone()),
            target_wait_min: Some(ct.target_wait_min),
            figures: acc.finish(),
        });
    }
    let mut others: Vec<(String, Acc)> = per_case
        .into_iter()
        .enumerate()
        .filter_map(|(id, acc)| Some((ds.names.get(id as u32).to_owned(), acc?)))
        .collect();
    others.sort_by(|a, b| a.0.cmp(&b.0));
    for (code, acc) in others {
        case_types.push(CaseTypeFigures {
            code,
            name: None,
            target_wait_min: None,
            figures: acc.finish(),
        });
    }

    let by_hour = hours
        .iter()
        .enumerate()
        .map(|(hour, l)| HourFigures {
            hour: hour as u8,
            arrivals: l.arrivals,
            arrivals_per_day: per_day_of(l.arrivals, days),
            wait_mean_s: l.wait_mean_s(),
            within_target_share: l.share(),
        })
        .collect();
    let heatmap = heat
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let d = weekday_days.get(i / 24).copied().unwrap_or(0);
            HeatCell {
                weekday: (i / 24) as u8 + 1,
                hour: (i % 24) as u8,
                days: d,
                arrivals: l.arrivals,
                arrivals_per_day: per_day_of(l.arrivals, d),
                wait_mean_s: l.wait_mean_s(),
            }
        })
        .collect();
    let mut clerk_rows: Vec<WorkFigures> = clerks
        .into_iter()
        .enumerate()
        .filter(|(_, w)| w.seen)
        .map(|(id, w)| w.finish(None, Some(ds.names.get(id as u32).to_owned())))
        .collect();
    clerk_rows.sort_by(|a, b| a.clerk.cmp(&b.clerk));

    Report {
        from: from.to_string(),
        to: to.to_string(),
        time_zone: office.time_zone.iana_name().unwrap_or("UTC").to_owned(),
        filters: ReportFilters {
            case_type: filter.case_type.as_ref().map(ToString::to_string),
            counter: filter.counter.map(u32::from),
            clerk: filter.clerk.clone(),
        },
        days,
        totals: totals.finish(),
        case_types,
        by_day,
        by_hour,
        heatmap,
        counters: counters
            .into_iter()
            .enumerate()
            .filter(|(_, w)| w.seen)
            .map(|(c, w)| w.finish(Some(c as u32), None))
            .collect(),
        clerks: clerk_rows,
    }
}
