//! The office as the engine sees it: case types, counters, priority categories and policy,
//! opening hours. Built by `crate::config` from `office.toml` after validation, so every
//! reference inside an `Office` points at something that exists.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::ids::{CaseTypeCode, CounterId, Prefix, PriorityCode, Texts};

/// Opening (or issuing) hours of one day, in local civil time: `open` before `close`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    pub open: Time,
    pub close: Time,
}

/// Hours for each weekday, Monday first; `None` means closed that weekday.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WeekHours {
    pub days: [Option<DayHours>; 7],
}

impl WeekHours {
    pub fn on(&self, weekday: Weekday) -> Option<DayHours> {
        let i = weekday.to_monday_zero_offset();
        self.days.get(i as usize).copied().flatten()
    }
}

/// A kind of case the office handles and issues its own numbers for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseType {
    pub code: CaseTypeCode,
    pub prefix: Prefix,
    pub name: Texts,
    /// What to bring, shown at the kiosk before the ticket is issued and printed on it.
    pub documents: Texts,
    /// The most tickets this case type may issue in one day (`None`: no cap).
    pub daily_cap: Option<u32>,
    /// Issuing hours if they differ from the office's opening hours.
    pub hours: Option<WeekHours>,
    /// Stop issuing this many minutes before the (issuing) closing time, so that everybody
    /// who gets a ticket can still be served today.
    pub stop_issuing_before_close_min: u32,
    /// The service standard: the longest a citizen should wait, in minutes.
    pub target_wait_min: u32,
    /// Assumed mean service time, in minutes, until the day has measured some.
    pub default_service_min: u32,
}

/// A counter (stanowisko) and the case types it serves, each with a weight: a counter takes a
/// ticket of a higher-weight case type before one of a lower weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    pub id: CounterId,
    pub name: Texts,
    pub location: Texts,
    pub serves: BTreeMap<CaseTypeCode, u32>,
}

/// A self-declared category of people served out of turn (set by each office; see DOMAIN.md).
/// The category is health data: it never leaves the service on a screen or a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityCategory {
    pub code: PriorityCode,
    pub name: Texts,
}

/// How priority tickets are ordered against normal ones when a counter calls the next ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PriorityPolicy {
    /// Every priority ticket before any normal ticket.
    Strict,
    /// A counter calls at most `max_normal_in_row` normal tickets in a row while a priority
    /// ticket it could serve waits.
    Interleave { max_normal_in_row: u32 },
    /// A priority ticket counts as if it had arrived `minutes` earlier.
    Ageing { minutes: u32 },
}

/// What happens to tickets still open when a day ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EndOfDay {
    /// Cancelled with the reason "end of day" (the usual practice).
    #[default]
    Cancel,
    /// Kept waiting into the next day with their numbers; the next day's numbering for their
    /// case type continues after them so that no number repeats.
    Keep,
}

/// The whole office.
#[derive(Debug, Clone)]
pub struct Office {
    pub name: Texts,
    pub time_zone: TimeZone,
    pub case_types: Vec<CaseType>,
    pub counters: Vec<Counter>,
    pub priority_categories: Vec<PriorityCategory>,
    pub priority_policy: PriorityPolicy,
    pub hours: WeekHours,
    pub closed_dates: BTreeSet<Date>,
    /// How many times a ticket may be called (first call and recalls) before a further recall
    /// turns it into a no-show.
    pub max_calls: u32,
    pub end_of_day: EndOfDay,
    /// Demo only: issue tickets at any hour, so that a demo at night still works.
    pub issue_outside_hours: bool,
}

impl Office {
    pub fn case_type(&self, code: &CaseTypeCode) -> Option<&CaseType> {
        self.case_types.iter().find(|c| &c.code == code)
    }
    pub fn counter(&self, id: CounterId) -> Option<&Counter> {
        self.counters.iter().find(|c| c.id == id)
    }
    pub fn priority(&self, code: &PriorityCode) -> Option<&PriorityCategory> {
        self.priority_categories.iter().find(|c| &c.code == code)
    }
    /// The issuing window of a case type on a local date, if it issues at all that day:
    /// from opening until closing minus the stop-issuing margin.
    pub fn issuing_window(&self, ct: &CaseType, date: Date) -> Option<DayHours> {
        if self.closed_dates.contains(&date) {
            return None;
        }
        let hours = ct
            .hours
            .as_ref()
            .unwrap_or(&self.hours)
            .on(date.weekday())?;
        let close = hours
            .close
            .checked_sub(jiff::SignedDuration::from_mins(i64::from(
                ct.stop_issuing_before_close_min,
            )))
            .ok()?;
        (close > hours.open).then_some(DayHours {
            open: hours.open,
            close,
        })
    }

    /// A small office for tests: three case types, three counters, two priority categories.
    #[cfg(test)]
    pub fn sample() -> Office {
        use jiff::civil::time;
        let code = |s: &str| CaseTypeCode::parse(s).expect("valid code");
        let ct = |c: &str, p: &str| CaseType {
            code: code(c),
            prefix: Prefix::parse(p).expect("valid prefix"),
            name: Texts::same(c),
            documents: Texts::same("dowód osobisty"),
            daily_cap: None,
            hours: None,
            stop_issuing_before_close_min: 15,
            target_wait_min: 20,
            default_service_min: 10,
        };
        let counter = |id: u32, serves: &[(&str, u32)]| Counter {
            id: CounterId::new(id).expect("valid counter"),
            name: Texts::same(&format!("Stanowisko {id}")),
            location: Texts::same("parter"),
            serves: serves.iter().map(|(c, w)| (code(c), *w)).collect(),
        };
        let day = Some(DayHours {
            open: time(8, 0, 0, 0),
            close: time(16, 0, 0, 0),
        });
        Office {
            name: Texts::same("Urząd Miasta"),
            time_zone: TimeZone::get("Europe/Warsaw").expect("bundled tz"),
            case_types: vec![ct("dowody", "A"), ct("meldunki", "B"), ct("pojazdy", "C")],
            counters: vec![
                counter(1, &[("dowody", 10), ("meldunki", 1)]),
                counter(2, &[("meldunki", 10), ("dowody", 1)]),
                counter(3, &[("pojazdy", 10)]),
            ],
            priority_categories: vec![
                PriorityCategory {
                    code: PriorityCode::parse("ciaza").expect("valid code"),
                    name: Texts::same("Kobieta w ciąży"),
                },
                PriorityCategory {
                    code: PriorityCode::parse("niepelnosprawnosc").expect("valid code"),
                    name: Texts::same("Osoba z niepełnosprawnością"),
                },
            ],
            priority_policy: PriorityPolicy::Strict,
            hours: WeekHours {
                days: [day, day, day, day, day, None, None],
            },
            closed_dates: BTreeSet::new(),
            max_calls: 3,
            end_of_day: EndOfDay::Cancel,
            issue_outside_hours: false,
        }
    }
}
