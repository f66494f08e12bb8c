//! The semantic checks: from the `Raw*` structs to an `engine::Office`, reporting every
//! problem found rather than stopping at the first, so that one run of the loader shows
//! everything to fix.
//!
//! Each check reports at the span of the value it is about, with the field's path; a part
//! that has a problem becomes `None` and the office is only built when nothing was found.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde_spanned::Spanned;

use super::error::Problems;
use super::raw::{
    self, RawCaseType, RawDocument, RawHours, RawList, RawOffice, RawPolicy, RawPriorityCategory,
    RawTexts,
};
use crate::engine::{
    CaseType, CaseTypeCode, Counter, CounterId, DayHours, EndOfDay, Lang, Office, Prefix,
    PriorityCategory, PriorityCode, PriorityPolicy, Texts, WeekHours,
};

/// Defaults for the optional numbers of a case type (documented in `config/office.toml`).
const DEFAULT_STOP_ISSUING_MIN: u32 = 0;
const DEFAULT_TARGET_WAIT_MIN: u32 = 30;
const DEFAULT_SERVICE_MIN: u32 = 10;
const DEFAULT_MAX_CALLS: u32 = 3;

/// Builds the office, or returns `None` after reporting every problem found.
pub(super) fn office(doc: &RawDocument, p: &mut Problems<'_>) -> Option<Office> {
    let before = p.count();

    let office = match &doc.office.value {
        Some(o) => Some(office_section(o.get_ref(), p)),
        None => {
            if !doc.office.failed {
                p.add(
                    0..0,
                    "office",
                    "missing [office] section (the office's name, time_zone and hours)",
                );
            }
            None
        }
    };
    let office_hours = office.as_ref().and_then(|o| o.hours.clone());

    let priority_policy = match &doc.priority_policy.value {
        Some(policy) => priority_policy(policy, p),
        None => {
            if !doc.priority_policy.failed {
                p.add(
                    0..0,
                    "priority_policy",
                    "missing [priority_policy] section, expected kind = \"strict\", \
                     \"interleave\" (with max_normal_in_row) or \"ageing\" (with minutes)",
                );
            }
            None
        }
    };

    let priority_categories = priority_categories(&doc.priority_categories, p);
    let case_types = case_types(&doc.case_types, office_hours.as_ref(), p);
    let counters = counters(doc, &case_types, p);

    if p.count() > before {
        return None;
    }
    let Some(OfficeParts {
        name: Some(name),
        time_zone: Some(time_zone),
        hours: Some(hours),
        closed_dates,
        max_calls: Some(max_calls),
        end_of_day,
        issue_outside_hours,
    }) = office
    else {
        return None;
    };
    Some(Office {
        name,
        time_zone,
        case_types: case_types.into_iter().map(|(_, ct)| ct).collect(),
        counters,
        priority_categories,
        priority_policy: priority_policy?,
        hours,
        closed_dates,
        max_calls,
        end_of_day,
        issue_outside_hours,
    })
}

/// The `[office]` section, each part `None` if it had a problem.
struct OfficeParts {
    name: Option<Texts>,
    time_zone: Option<TimeZone>,
    hours: Option<WeekHours>,
    closed_dates: BTreeSet<Date>,
    max_calls: Option<u32>,
    end_of_day: EndOfDay,
    issue_outside_hours: bool,
}

fn office_section(o: &RawOffice, p: &mut Problems<'_>) -> OfficeParts {
    let name = texts("office.name", &o.name, p);

    let tz_name = o.time_zone.get_ref();
    let time_zone = match TimeZone::get(tz_name) {
        Ok(tz) => Some(tz),
        Err(_) => {
            p.add(
                o.time_zone.span(),
                "office.time_zone",
                format!("unknown time zone `{tz_name}`, expected an IANA time-zone name like \"Europe/Warsaw\""),
            );
            None
        }
    };

    let hours = week_hours("office.hours", &o.hours, p);
    if let Some(h) = &hours
        && h.days.iter().all(Option::is_none)
    {
        p.add(
            o.hours.span(),
            "office.hours",
            "the office is closed every day: give opening hours for at least one weekday, \
             like monday = \"8:00-17:00\"",
        );
    }

    let mut closed_dates = BTreeSet::new();
    for (i, value) in o.closed_dates.iter().enumerate() {
        let field = format!("office.closed_dates[{i}]");
        match raw::date(value.get_ref()) {
            Ok(date) => {
                if !closed_dates.insert(date) {
                    p.add(value.span(), field, format!("{date} is listed twice"));
                }
            }
            Err(message) => p.add(value.span(), field, message),
        }
    }

    let max_calls = match &o.max_calls {
        Some(v) => number("office.max_calls", v, 1..=10, "max_calls", p),
        None => Some(DEFAULT_MAX_CALLS),
    };

    OfficeParts {
        name,
        time_zone,
        hours,
        closed_dates,
        max_calls,
        end_of_day: o.end_of_day,
        issue_outside_hours: o.issue_outside_hours,
    }
}

fn priority_policy(raw: &Spanned<RawPolicy>, p: &mut Problems<'_>) -> Option<PriorityPolicy> {
    let r = raw.get_ref();
    let kind = r.kind.get_ref().as_str();
    let not_used = |name: &str, value: &Option<Spanned<i64>>, p: &mut Problems<'_>| {
        if let Some(v) = value {
            p.add(
                v.span(),
                format!("priority_policy.{name}"),
                format!("{name} is not used with kind = \"{kind}\"; remove it or change the kind"),
            );
        }
    };
    let needs = |name: &str, meaning: &str, example: &str, p: &mut Problems<'_>| {
        p.add(
            r.kind.span(),
            format!("priority_policy.{name}"),
            format!("kind = \"{kind}\" needs {name} ({meaning}), like {name} = {example}"),
        );
    };
    let before = p.count();
    let policy = match kind {
        "strict" => {
            not_used("max_normal_in_row", &r.max_normal_in_row, p);
            not_used("minutes", &r.minutes, p);
            Some(PriorityPolicy::Strict)
        }
        "interleave" => {
            not_used("minutes", &r.minutes, p);
            match &r.max_normal_in_row {
                Some(v) => number(
                    "priority_policy.max_normal_in_row",
                    v,
                    1..=100,
                    "max_normal_in_row",
                    p,
                )
                .map(|max_normal_in_row| PriorityPolicy::Interleave { max_normal_in_row }),
                None => {
                    needs(
                        "max_normal_in_row",
                        "how many normal tickets a counter may call in a row while a priority ticket waits, 1 to 100",
                        "3",
                        p,
                    );
                    None
                }
            }
        }
        "ageing" => {
            not_used("max_normal_in_row", &r.max_normal_in_row, p);
            match &r.minutes {
                Some(v) => number("priority_policy.minutes", v, 1..=480, "minutes", p)
                    .map(|minutes| PriorityPolicy::Ageing { minutes }),
                None => {
                    needs(
                        "minutes",
                        "how many minutes earlier a priority ticket counts as taken, 1 to 480",
                        "15",
                        p,
                    );
                    None
                }
            }
        }
        other => {
            p.add(
                r.kind.span(),
                "priority_policy.kind",
                format!("unknown priority policy `{other}`, expected \"strict\", \"interleave\" or \"ageing\""),
            );
            None
        }
    };
    policy.filter(|_| p.count() == before)
}

fn priority_categories(
    list: &RawList<RawPriorityCategory>,
    p: &mut Problems<'_>,
) -> Vec<PriorityCategory> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, raw) in &list.entries {
        let path = format!("priority_categories[{i}]");
        let r = raw.get_ref();
        let code = match PriorityCode::parse(r.code.get_ref()) {
            Ok(code) => {
                if let Some(first) = seen.insert(code.to_string(), *i) {
                    p.add(
                        r.code.span(),
                        format!("{path}.code"),
                        format!("duplicate priority category code `{code}`: priority_categories[{first}] already uses it"),
                    );
                }
                Some(code)
            }
            Err(e) => {
                p.add(r.code.span(), format!("{path}.code"), e.0);
                None
            }
        };
        let name = texts(&format!("{path}.name"), &r.name, p);
        if let (Some(code), Some(name)) = (code, name) {
            out.push(PriorityCategory { code, name });
        }
    }
    out
}

/// The case types that are valid, each with its index in the file.
fn case_types(
    list: &RawList<RawCaseType>,
    office_hours: Option<&WeekHours>,
    p: &mut Problems<'_>,
) -> Vec<(usize, CaseType)> {
    if !list.present || (list.complete && list.entries.is_empty()) {
        p.add(
            0..0,
            "case_types",
            "no case types: the office needs at least one [[case_types]] entry",
        );
    }
    let mut codes: BTreeMap<CaseTypeCode, usize> = BTreeMap::new();
    let mut prefixes: BTreeMap<Prefix, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, raw) in &list.entries {
        let before = p.count();
        let path = format!("case_types[{i}]");
        let r = raw.get_ref();

        let code = match CaseTypeCode::parse(r.code.get_ref()) {
            Ok(code) => {
                if let Some(first) = codes.get(&code) {
                    p.add(
                        r.code.span(),
                        format!("{path}.code"),
                        format!(
                            "duplicate case type code `{code}`: case_types[{first}] already uses it"
                        ),
                    );
                } else {
                    codes.insert(code.clone(), *i);
                }
                Some(code)
            }
            Err(e) => {
                p.add(r.code.span(), format!("{path}.code"), e.0);
                None
            }
        };
        let prefix = match Prefix::parse(r.prefix.get_ref()) {
            Ok(prefix) => {
                if let Some(first) = prefixes.get(&prefix) {
                    p.add(
                        r.prefix.span(),
                        format!("{path}.prefix"),
                        format!(
                            "duplicate prefix `{prefix}`: case_types[{first}] already uses it, \
                             and each case type needs its own so that ticket numbers never repeat"
                        ),
                    );
                } else {
                    prefixes.insert(prefix.clone(), *i);
                }
                Some(prefix)
            }
            Err(e) => {
                p.add(r.prefix.span(), format!("{path}.prefix"), e.0);
                None
            }
        };
        let name = texts(&format!("{path}.name"), &r.name, p);
        let documents = texts(&format!("{path}.documents"), &r.documents, p);

        let hours = r.hours.as_ref().and_then(|h| {
            let hours = week_hours(&format!("{path}.hours"), h, p)?;
            if let Some(office) = office_hours {
                within_office_hours(&format!("{path}.hours"), h.get_ref(), &hours, office, p);
            }
            Some(hours)
        });

        let stop = match &r.stop_issuing_before_close_min {
            Some(v) => number(
                &format!("{path}.stop_issuing_before_close_min"),
                v,
                0..=240,
                "stop_issuing_before_close_min",
                p,
            ),
            None => Some(DEFAULT_STOP_ISSUING_MIN),
        };
        // The hours the margin applies to: the case type's own if it has valid ones, the
        // office's if it has none (and nothing to check against if its own are broken).
        let effective = match (&r.hours, &hours) {
            (_, Some(own)) => Some(own),
            (Some(_), None) => None,
            (None, None) => office_hours,
        };
        if let (Some(stop), Some(v), Some(week)) =
            (stop, &r.stop_issuing_before_close_min, effective)
        {
            let days: Vec<&str> = week
                .days
                .iter()
                .zip(RawHours::WEEKDAYS)
                .filter_map(|(day, name)| {
                    let day = (*day)?;
                    (minutes(day.close) - i64::from(stop) <= minutes(day.open)).then_some(name)
                })
                .collect();
            if !days.is_empty() {
                p.add(
                    v.span(),
                    format!("{path}.stop_issuing_before_close_min"),
                    format!(
                        "stopping {stop} minutes before closing leaves no time to issue tickets on {}",
                        days.join(", ")
                    ),
                );
            }
        }

        let daily_cap = match &r.daily_cap {
            Some(v) => {
                number(&format!("{path}.daily_cap"), v, 1..=10_000, "daily_cap", p).map(Some)
            }
            None => Some(None),
        };
        let target_wait_min = match &r.target_wait_min {
            Some(v) => number(
                &format!("{path}.target_wait_min"),
                v,
                1..=480,
                "target_wait_min",
                p,
            ),
            None => Some(DEFAULT_TARGET_WAIT_MIN),
        };
        let default_service_min = match &r.default_service_min {
            Some(v) => number(
                &format!("{path}.default_service_min"),
                v,
                1..=240,
                "default_service_min",
                p,
            ),
            None => Some(DEFAULT_SERVICE_MIN),
        };

        if p.count() > before {
            continue;
        }
        if let (
            Some(code),
            Some(prefix),
            Some(name),
            Some(documents),
            Some(stop_issuing_before_close_min),
            Some(daily_cap),
            Some(target_wait_min),
            Some(default_service_min),
        ) = (
            code,
            prefix,
            name,
            documents,
            stop,
            daily_cap,
            target_wait_min,
            default_service_min,
        ) {
            out.push((
                *i,
                CaseType {
                    code,
                    prefix,
                    name,
                    documents,
                    daily_cap,
                    hours,
                    stop_issuing_before_close_min,
                    target_wait_min,
                    default_service_min,
                },
            ));
        }
    }
    out
}

/// A case type issues tickets only while the office is open.
fn within_office_hours(
    path: &str,
    raw: &RawHours,
    hours: &WeekHours,
    office: &WeekHours,
    p: &mut Problems<'_>,
) {
    for (i, (day, written)) in raw.days().into_iter().enumerate() {
        let (Some(Some(own)), Some(written)) = (hours.days.get(i), written) else {
            continue;
        };
        match office.days.get(i).copied().flatten() {
            None => p.add(
                written.span(),
                format!("{path}.{day}"),
                format!("the office is closed on {day} (office.hours has no {day}), so no tickets can be issued then"),
            ),
            Some(open) if own.open < open.open || own.close > open.close => p.add(
                written.span(),
                format!("{path}.{day}"),
                format!(
                    "issuing hours {} must lie within the office's opening hours on {day}, {}",
                    show(*own),
                    show(open)
                ),
            ),
            Some(_) => {}
        }
    }
}

fn counters(
    doc: &RawDocument,
    case_types: &[(usize, CaseType)],
    p: &mut Problems<'_>,
) -> Vec<Counter> {
    let list = &doc.counters;
    if !list.present || (list.complete && list.entries.is_empty()) {
        p.add(
            0..0,
            "counters",
            "no counters: the office needs at least one [[counters]] entry",
        );
    }
    // Unknown case types are only reported when every case type was read; otherwise the
    // problem is the broken case type, already reported.
    let all_case_types = doc.case_types.complete;
    let known: Vec<String> = doc
        .case_types
        .entries
        .iter()
        .map(|(_, ct)| ct.get_ref().code.get_ref().clone())
        .collect();
    let mut ids: BTreeMap<CounterId, usize> = BTreeMap::new();
    let mut served: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for (i, raw) in &list.entries {
        let before = p.count();
        let path = format!("counters[{i}]");
        let r = raw.get_ref();

        let id = u32::try_from(*r.id.get_ref())
            .map_err(|_| {
                format!(
                    "{} is not a valid counter number (expected 1 to {})",
                    r.id.get_ref(),
                    CounterId::MAX
                )
            })
            .and_then(|n| CounterId::new(n).map_err(|e| e.0));
        let id = match id {
            Ok(id) => {
                if let Some(first) = ids.get(&id) {
                    p.add(
                        r.id.span(),
                        format!("{path}.id"),
                        format!("duplicate counter id {id}: counters[{first}] already uses it"),
                    );
                } else {
                    ids.insert(id, *i);
                }
                Some(id)
            }
            Err(message) => {
                p.add(r.id.span(), format!("{path}.id"), message);
                None
            }
        };
        let name = texts(&format!("{path}.name"), &r.name, p);
        let location = texts(&format!("{path}.location"), &r.location, p);

        if r.serves.get_ref().is_empty() {
            p.add(
                r.serves.span(),
                format!("{path}.serves"),
                "a counter must serve at least one case type, like serves = { dowody = 10 }",
            );
        }
        let mut serves = BTreeMap::new();
        for (key, weight) in r.serves.get_ref() {
            served.insert(key.get_ref().clone());
            let code = match CaseTypeCode::parse(key.get_ref()) {
                Ok(code) => code,
                Err(e) => {
                    p.add(key.span(), format!("{path}.serves"), e.0);
                    continue;
                }
            };
            if all_case_types && !known.iter().any(|k| k == code.as_str()) {
                let hint = closest(code.as_str(), &known)
                    .map(|k| format!("did you mean `{k}`? "))
                    .unwrap_or_default();
                p.add(
                    key.span(),
                    format!("{path}.serves"),
                    format!(
                        "unknown case type `{code}` ({hint}known: {})",
                        known.join(", ")
                    ),
                );
            }
            let field = raw::path_key(&format!("{path}.serves"), code.as_str());
            if let Some(w) = number(&field, weight, 1..=100, "a weight", p) {
                serves.insert(code, w);
            }
        }

        if p.count() > before {
            continue;
        }
        if let (Some(id), Some(name), Some(location)) = (id, name, location) {
            out.push(Counter {
                id,
                name,
                location,
                serves,
            });
        }
    }

    if list.complete && !list.entries.is_empty() {
        for (i, raw) in &doc.case_types.entries {
            let code = &raw.get_ref().code;
            if case_types.iter().any(|(j, _)| j == i) && !served.contains(code.get_ref()) {
                p.add(
                    code.span(),
                    format!("case_types[{i}].code"),
                    format!(
                        "no counter serves case type `{}`: add it to the serves of at least one counter",
                        code.get_ref()
                    ),
                );
            }
        }
    }
    out
}

/// A text in every language: missing or empty ones are reported.
pub(super) fn texts(path: &str, raw: &Spanned<RawTexts>, p: &mut Problems<'_>) -> Option<Texts> {
    let r = raw.get_ref();
    let mut texts = Texts::default();
    let mut ok = true;
    for (lang, value) in [(Lang::Pl, &r.pl), (Lang::Uk, &r.uk), (Lang::En, &r.en)] {
        let code = lang.code();
        let language = match lang {
            Lang::Pl => "Polish",
            Lang::Uk => "Ukrainian",
            Lang::En => "English",
        };
        let text = match value {
            None => {
                p.add(
                    raw.span(),
                    format!("{path}.{code}"),
                    format!(
                        "missing translation `{code}` ({language}): every text needs pl, uk and en"
                    ),
                );
                ok = false;
                continue;
            }
            Some(v) if v.get_ref().trim().is_empty() => {
                p.add(
                    v.span(),
                    format!("{path}.{code}"),
                    format!(
                        "empty translation `{code}` ({language}): every text needs pl, uk and en"
                    ),
                );
                ok = false;
                continue;
            }
            Some(v) => v.get_ref().trim().to_owned(),
        };
        match lang {
            Lang::Pl => texts.pl = text,
            Lang::Uk => texts.uk = text,
            Lang::En => texts.en = text,
        }
    }
    ok.then_some(texts)
}

fn week_hours(path: &str, raw: &Spanned<RawHours>, p: &mut Problems<'_>) -> Option<WeekHours> {
    let mut week = WeekHours::default();
    let mut ok = true;
    for (i, (day, value)) in raw.get_ref().days().into_iter().enumerate() {
        let Some(value) = value else { continue };
        match day_hours(value.get_ref()) {
            Ok(hours) => {
                if let Some(slot) = week.days.get_mut(i) {
                    *slot = Some(hours);
                }
            }
            Err(message) => {
                p.add(value.span(), format!("{path}.{day}"), message);
                ok = false;
            }
        }
    }
    ok.then_some(week)
}

/// `"8:00-17:00"`: opening and closing time, closing after opening.
fn day_hours(text: &str) -> Result<DayHours, String> {
    let bad = || {
        format!(
            "`{text}` is not a time range, expected \"H:MM-H:MM\" like \"8:00-17:00\" \
             (leave the weekday out if closed)"
        )
    };
    let (open, close) = text.split_once(['-', '–']).ok_or_else(bad)?;
    let open = time(open.trim()).ok_or_else(bad)?;
    let close = time(close.trim()).ok_or_else(bad)?;
    if close <= open {
        return Err(format!(
            "closing time {} is not after opening time {} in `{text}`",
            hm(close),
            hm(open)
        ));
    }
    Ok(DayHours { open, close })
}

/// `H:MM` or `HH:MM`, 0:00 to 23:59.
fn time(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    let digits = |s: &str, len: RangeInclusive<usize>| {
        len.contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    Time::new(h, m, 0, 0).ok()
}

fn hm(t: Time) -> String {
    format!("{}:{:02}", t.hour(), t.minute())
}

fn show(d: DayHours) -> String {
    format!("{}-{}", hm(d.open), hm(d.close))
}

fn minutes(t: Time) -> i64 {
    i64::from(t.hour()) * 60 + i64::from(t.minute())
}

/// A whole number within a range, reported with the range if it is not.
fn number(
    field: &str,
    value: &Spanned<i64>,
    range: RangeInclusive<u32>,
    what: &str,
    p: &mut Problems<'_>,
) -> Option<u32> {
    match u32::try_from(*value.get_ref()) {
        Ok(n) if range.contains(&n) => Some(n),
        _ => {
            p.add(
                value.span(),
                field,
                format!(
                    "{what} must be from {} to {}, not {}",
                    range.start(),
                    range.end(),
                    value.get_ref()
                ),
            );
            None
        }
    }
}

/// The known name nearest to a misspelt one, if it is close enough to be a likely typo.
fn closest<'k>(word: &str, known: &'k [String]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(word, k), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
