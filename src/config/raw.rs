//! The office file as written: `Raw*` structs that mirror the TOML, with spans kept on every
//! value a later check may complain about, and unknown keys refused.
//!
//! The document is parsed once into toml's spanned tree; each section and each entry of an
//! array of tables is then deserialized on its own, so that a mistake in one counter does not
//! hide a mistake in another: every entry that fails is reported, and the rest go on to the
//! semantic checks in `validate`.

use std::collections::BTreeMap;
use std::ops::Range;

use jiff::civil::Date;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::error::Problems;
use crate::engine::EndOfDay;

/// A text in every language; each may be missing here and is checked in `validate`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a text in every language, like { pl = \"...\", uk = \"...\", en = \"...\" }"
)]
pub(super) struct RawTexts {
    pub pl: Option<Spanned<String>>,
    pub uk: Option<Spanned<String>>,
    pub en: Option<Spanned<String>>,
}

/// Opening or issuing hours, `"8:00-17:00"` per weekday; a missing weekday is closed.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "hours per weekday, like { monday = \"8:00-17:00\", tuesday = \"7:30-15:30\" }"
)]
pub(super) struct RawHours {
    pub monday: Option<Spanned<String>>,
    pub tuesday: Option<Spanned<String>>,
    pub wednesday: Option<Spanned<String>>,
    pub thursday: Option<Spanned<String>>,
    pub friday: Option<Spanned<String>>,
    pub saturday: Option<Spanned<String>>,
    pub sunday: Option<Spanned<String>>,
}

impl RawHours {
    pub const WEEKDAYS: [&'static str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];

    /// The days, Monday first, with their key names.
    pub fn days(&self) -> [(&'static str, Option<&Spanned<String>>); 7] {
        let d = [
            &self.monday,
            &self.tuesday,
            &self.wednesday,
            &self.thursday,
            &self.friday,
            &self.saturday,
            &self.sunday,
        ];
        std::array::from_fn(|i| (Self::WEEKDAYS[i], d[i].as_ref()))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [office] table")]
pub(super) struct RawOffice {
    pub name: Spanned<RawTexts>,
    pub time_zone: Spanned<String>,
    pub hours: Spanned<RawHours>,
    /// Kept as TOML values so that both `2026-12-24` and `"2026-12-24"` are understood.
    #[serde(default)]
    pub closed_dates: Vec<Spanned<toml::Value>>,
    pub max_calls: Option<Spanned<i64>>,
    #[serde(default)]
    pub end_of_day: EndOfDay,
    #[serde(default)]
    pub issue_outside_hours: bool,
}

/// The priority policy as written: which parameters a kind needs is checked in `validate`, so
/// that a missing one is reported with its name and what it means.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [priority_policy] table")]
pub(super) struct RawPolicy {
    pub kind: Spanned<String>,
    pub max_normal_in_row: Option<Spanned<i64>>,
    pub minutes: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[priority_categories]] table")]
pub(super) struct RawPriorityCategory {
    pub code: Spanned<String>,
    pub name: Spanned<RawTexts>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[case_types]] table")]
pub(super) struct RawCaseType {
    pub code: Spanned<String>,
    pub prefix: Spanned<String>,
    pub name: Spanned<RawTexts>,
    pub documents: Spanned<RawTexts>,
    pub hours: Option<Spanned<RawHours>>,
    pub stop_issuing_before_close_min: Option<Spanned<i64>>,
    pub daily_cap: Option<Spanned<i64>>,
    pub target_wait_min: Option<Spanned<i64>>,
    pub default_service_min: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[counters]] table")]
pub(super) struct RawCounter {
    /// Wider than a counter number, so that `-1` or `100000` get our message, not serde's.
    pub id: Spanned<i64>,
    pub name: Spanned<RawTexts>,
    pub location: Spanned<RawTexts>,
    pub serves: Spanned<BTreeMap<Spanned<String>, Spanned<i64>>>,
}

/// An array of tables as read: the entries that deserialized, each with its index in the
/// file, and whether every entry did (cross-references are only checked against complete
/// lists, so that one broken case type does not make every counter that serves it an error).
#[derive(Debug)]
pub(super) struct RawList<T> {
    pub entries: Vec<(usize, Spanned<T>)>,
    pub complete: bool,
    /// Whether the document has the key at all.
    pub present: bool,
}

impl<T> Default for RawList<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            complete: true,
            present: false,
        }
    }
}

/// A section (a table) as read; `failed` when it is there but did not deserialize.
#[derive(Debug)]
pub(super) struct RawSection<T> {
    pub value: Option<Spanned<T>>,
    pub failed: bool,
}

impl<T> Default for RawSection<T> {
    fn default() -> Self {
        Self {
            value: None,
            failed: false,
        }
    }
}

/// The whole document as read.
#[derive(Debug, Default)]
pub(super) struct RawDocument {
    pub office: RawSection<RawOffice>,
    pub priority_policy: RawSection<RawPolicy>,
    pub priority_categories: RawList<RawPriorityCategory>,
    pub case_types: RawList<RawCaseType>,
    pub counters: RawList<RawCounter>,
    pub devices: RawSection<RawDevices>,
    pub printing: RawSection<super::printing::RawPrinting>,
    pub printers: RawList<super::printing::RawPrinter>,
}

/// `[devices]`: how devices are registered.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [devices] table")]
pub(super) struct RawDevices {
    /// DEMO ONLY: approve pairing requests from the server's own machine at once.
    #[serde(default)]
    pub auto_approve_loopback: bool,
}

const SECTIONS: &str = "`office`, `priority_policy`, `priority_categories`, `case_types`, \
                        `counters`, `devices`, `printing` or `printers`";

impl RawDocument {
    /// Reads the sections of a parsed document, reporting every entry that does not fit.
    pub fn read(root: &DeTable<'_>, problems: &mut Problems<'_>) -> RawDocument {
        let mut doc = RawDocument::default();
        let mut reader = Reader { root, problems };
        for (key, value) in root.iter() {
            match key.get_ref().as_ref() {
                "office" => doc.office = reader.section(value),
                "priority_policy" => doc.priority_policy = reader.section(value),
                "priority_categories" => doc.priority_categories = reader.list(key, value),
                "case_types" => doc.case_types = reader.list(key, value),
                "counters" => doc.counters = reader.list(key, value),
                "devices" => doc.devices = reader.section(value),
                "printing" => doc.printing = reader.section(value),
                "printers" => doc.printers = reader.list(key, value),
                other => reader.problems.add(
                    key.span(),
                    path_key("", other),
                    format!("unknown section `{other}`, expected {SECTIONS}"),
                ),
            }
        }
        doc
    }

    /// The sign-in and device settings (defaults when `[devices]` is left out).
    pub fn auth_settings(&self) -> crate::auth::AuthSettings {
        crate::auth::AuthSettings {
            auto_approve_loopback: self
                .devices
                .value
                .as_ref()
                .is_some_and(|d| d.get_ref().auto_approve_loopback),
        }
    }
}

struct Reader<'r, 'p, 'i> {
    root: &'r DeTable<'i>,
    problems: &'r mut Problems<'p>,
}

impl Reader<'_, '_, '_> {
    fn section<T: DeserializeOwned>(&mut self, value: &Spanned<DeValue<'_>>) -> RawSection<T> {
        match self.de(value) {
            Some(v) => RawSection {
                value: Some(v),
                failed: false,
            },
            None => RawSection {
                value: None,
                failed: true,
            },
        }
    }

    fn list<T: DeserializeOwned>(
        &mut self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        value: &Spanned<DeValue<'_>>,
    ) -> RawList<T> {
        let mut list = RawList {
            entries: Vec::new(),
            complete: true,
            present: true,
        };
        let name = key.get_ref().as_ref();
        let Some(array) = value.get_ref().as_array() else {
            self.problems.add(
                value.span(),
                path_key("", name),
                format!(
                    "expected an array of tables, each starting with [[{name}]], found {}",
                    value.get_ref().type_str()
                ),
            );
            list.complete = false;
            return list;
        };
        for (i, entry) in array.iter().enumerate() {
            match self.de(entry) {
                Some(v) => list.entries.push((i, v)),
                None => list.complete = false,
            }
        }
        list
    }

    /// Deserializes one value; on failure reports toml's error at its span, with the field
    /// found there in the document.
    fn de<T: DeserializeOwned>(&mut self, value: &Spanned<DeValue<'_>>) -> Option<Spanned<T>> {
        match Spanned::<T>::deserialize(ValueDeserializer::from(value.clone())) {
            Ok(v) => Some(v),
            Err(e) => {
                let span = e.span().unwrap_or_else(|| value.span());
                let field = path_at(self.root, span.start);
                self.problems.add(span, field, e.message().to_owned());
                None
            }
        }
    }
}

/// The field at a byte offset of the document, like `counters[3].serves.dowody`: the deepest
/// key or value whose span holds the offset.
///
/// The tree is searched whole because the span of a table opened by a header is the header
/// alone, so a table's span does not contain its keys.
pub(super) fn path_at(root: &DeTable<'_>, offset: usize) -> String {
    let mut best = (0, String::new());
    walk_table(root, offset, "", 0, &mut best);
    best.1
}

fn holds(span: Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || (span.is_empty() && span.start == offset)
}

fn walk_table(
    table: &DeTable<'_>,
    offset: usize,
    path: &str,
    depth: usize,
    best: &mut (usize, String),
) {
    for (key, value) in table.iter() {
        let here = path_key(path, key.get_ref());
        if holds(key.span(), offset) && depth + 1 > best.0 {
            *best = (depth + 1, here.clone());
        }
        walk_value(value, offset, &here, depth + 1, best);
    }
}

fn walk_value(
    value: &Spanned<DeValue<'_>>,
    offset: usize,
    path: &str,
    depth: usize,
    best: &mut (usize, String),
) {
    if holds(value.span(), offset) && depth > best.0 {
        *best = (depth, path.to_owned());
    }
    match value.get_ref() {
        DeValue::Table(t) => walk_table(t, offset, path, depth, best),
        DeValue::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                walk_value(v, offset, &format!("{path}[{i}]"), depth + 1, best);
            }
        }
        _ => {}
    }
}

/// `path.key`, quoting a key that is not a bare TOML key.
pub(super) fn path_key(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

/// A closed date as written: a TOML local date (`2026-12-24`) or a string in the same form.
pub(super) fn date(value: &toml::Value) -> Result<Date, String> {
    let expected = "expected a date like 2026-12-24";
    match value {
        toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => Date::new(d.year as i16, d.month as i8, d.day as i8)
                .map_err(|e| format!("{dt} is not a valid date: {e}")),
            _ => Err(format!("{dt} is not a date ({expected}, without a time)")),
        },
        toml::Value::String(s) => {
            let shaped = s.len() == 10
                && s.char_indices().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        c == '-'
                    } else {
                        c.is_ascii_digit()
                    }
                });
            if !shaped {
                return Err(format!("`{s}` is not a date ({expected})"));
            }
            s.parse::<Date>()
                .map_err(|e| format!("`{s}` is not a valid date: {e}"))
        }
        other => Err(format!("{expected}, found {}", other.type_str())),
    }
}
