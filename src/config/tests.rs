//! Tests of the office configuration: the demo office, and one test per kind of problem,
//! checking the line, column, field and message reported.

use jiff::civil::{Weekday, date, time};

use super::*;
use crate::engine::{CaseTypeCode, EndOfDay, Lang, PriorityPolicy, Texts};

const FILE: &str = "test.toml";

/// A small valid office; each test breaks one thing in it.
const MINIMAL: &str = r#"[office]
name = { pl = "Urząd", uk = "Управа", en = "Town hall" }
time_zone = "Europe/Warsaw"

[office.hours]
monday = "8:00-17:00"
tuesday = "7:30-15:30"

[priority_policy]
kind = "strict"

[[priority_categories]]
code = "ciaza"
name = { pl = "Kobieta w ciąży", uk = "Вагітна жінка", en = "Pregnant woman" }

[[case_types]]
code = "dowody"
prefix = "A"
name = { pl = "Dowody", uk = "Посвідчення", en = "ID cards" }
documents = { pl = "Zdjęcie", uk = "Фото", en = "Photo" }

[[case_types]]
code = "meldunki"
prefix = "B"
name = { pl = "Meldunki", uk = "Реєстрація", en = "Registration" }
documents = { pl = "Umowa", uk = "Договір", en = "Contract" }

[[counters]]
id = 1
name = { pl = "Stanowisko 1", uk = "Вікно 1", en = "Counter 1" }
location = { pl = "Parter", uk = "Перший поверх", en = "Ground floor" }
serves = { dowody = 10, meldunki = 1 }
"#;

const SECOND_COUNTER: &str = r#"
[[counters]]
id = 2
name = { pl = "Stanowisko 2", uk = "Вікно 2", en = "Counter 2" }
location = { pl = "Parter", uk = "Перший поверх", en = "Ground floor" }
serves = { meldunki = 10 }
"#;

/// MINIMAL with `from` replaced by `to` (which must be there, once).
fn with(from: &str, to: &str) -> String {
    assert_eq!(MINIMAL.matches(from).count(), 1, "`{from}` must occur once");
    MINIMAL.replacen(from, to, 1)
}

fn problems(text: &str) -> Vec<Problem> {
    match parse(text, FILE) {
        Ok(_) => panic!("expected problems in:\n{text}"),
        Err(e) => e.problems().to_vec(),
    }
}

fn only_problem(text: &str) -> Problem {
    let mut all = problems(text);
    assert_eq!(all.len(), 1, "expected one problem, got {all:#?}");
    all.remove(0)
}

/// Line and column (1-based, in characters) of the first `needle` after the first `anchor`.
fn at_after(text: &str, anchor: &str, needle: &str) -> (usize, usize) {
    let start = text.find(anchor).expect("anchor in text");
    let offset = start + text[start..].find(needle).expect("needle after anchor");
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

fn at(text: &str, needle: &str) -> (usize, usize) {
    at_after(text, "", needle)
}

#[track_caller]
fn check(p: &Problem, pos: (usize, usize), field: &str, message_has: &[&str]) {
    assert_eq!(p.file, FILE);
    assert_eq!((p.line, p.column), pos, "position of {p}");
    assert_eq!(p.field, field, "field of {p}");
    for part in message_has {
        assert!(p.message.contains(part), "`{part}` not in: {p}");
    }
}

fn all_texts(office: &crate::engine::Office) -> Vec<(String, &Texts)> {
    let mut all = vec![("office.name".to_owned(), &office.name)];
    for ct in &office.case_types {
        all.push((format!("{}.name", ct.code), &ct.name));
        all.push((format!("{}.documents", ct.code), &ct.documents));
    }
    for c in &office.counters {
        all.push((format!("counter {}.name", c.id), &c.name));
        all.push((format!("counter {}.location", c.id), &c.location));
    }
    for pc in &office.priority_categories {
        all.push((format!("{}.name", pc.code), &pc.name));
    }
    all
}

// The demo office.

#[test]
fn demo_office_parses_with_every_text_in_three_languages() {
    let office = demo().office;
    assert!(office.case_types.len() >= 6);
    assert_eq!(office.counters.len(), 8);
    assert_eq!(office.priority_categories.len(), 2);
    for (what, texts) in all_texts(&office) {
        for lang in Lang::ALL {
            assert!(
                !texts.get(lang).trim().is_empty(),
                "{what} has no {lang:?} text"
            );
        }
        // Real translations: Ukrainian is written in Cyrillic, and differs from Polish.
        assert_ne!(texts.pl, texts.uk, "{what} is not translated");
        assert!(
            texts
                .uk
                .chars()
                .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
            "{what}: uk is not Ukrainian"
        );
    }
    for code in [
        "dowody",
        "meldunki",
        "pojazdy",
        "prawa-jazdy",
        "usc",
        "podatki",
    ] {
        let code = CaseTypeCode::parse(code).expect("valid code");
        assert!(office.case_type(&code).is_some(), "no case type {code}");
    }
    assert_eq!(office.time_zone.iana_name(), Some("Europe/Warsaw"));
    let monday = office.hours.on(Weekday::Monday).expect("open on Monday");
    assert_eq!(
        (monday.open, monday.close),
        (time(8, 0, 0, 0), time(17, 0, 0, 0))
    );
    for day in [
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
    ] {
        let h = office.hours.on(day).expect("open Tuesday to Friday");
        assert_eq!((h.open, h.close), (time(7, 30, 0, 0), time(15, 30, 0, 0)));
    }
    assert!(office.hours.on(Weekday::Saturday).is_none());
    assert!(office.hours.on(Weekday::Sunday).is_none());
    for d in [
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2027, 1, 1),
        date(2027, 1, 6),
    ] {
        assert!(office.closed_dates.contains(&d), "{d} is not closed");
    }
    assert_eq!(office.max_calls, 3);
    assert_eq!(office.end_of_day, EndOfDay::Cancel);
    assert!(office.issue_outside_hours, "the demo issues at any hour");
    assert_eq!(
        office.priority_policy,
        PriorityPolicy::Interleave {
            max_normal_in_row: 3
        }
    );
    // Counters overlap: some case type is served by more than one counter.
    for ct in &office.case_types {
        let serving = office
            .counters
            .iter()
            .filter(|c| c.serves.contains_key(&ct.code))
            .count();
        assert!(serving >= 1, "nobody serves {}", ct.code);
    }
    assert!(
        office
            .counters
            .iter()
            .any(|c| c.serves.len() >= 2 && c.serves.values().any(|w| *w < 10))
    );
}

#[test]
fn demo_office_issues_within_its_hours() {
    let office = demo().office;
    let usc = office
        .case_type(&CaseTypeCode::parse("usc").expect("valid"))
        .expect("usc");
    // 2026-12-07 is a Monday: the civil registry issues from 8:00 until 30 minutes before its
    // own 16:00.
    let w = office
        .issuing_window(usc, date(2026, 12, 7))
        .expect("issues on Monday");
    assert_eq!((w.open, w.close), (time(8, 0, 0, 0), time(15, 30, 0, 0)));
    assert!(office.issuing_window(usc, date(2026, 12, 24)).is_none());
}

#[test]
fn minimal_config_parses_with_defaults() {
    let office = parse(MINIMAL, FILE).expect("valid").office;
    assert_eq!(office.max_calls, 3);
    assert_eq!(office.end_of_day, EndOfDay::Cancel);
    assert!(!office.issue_outside_hours);
    assert!(office.closed_dates.is_empty());
    assert_eq!(office.priority_policy, PriorityPolicy::Strict);
    let ct = &office.case_types[0];
    assert_eq!(
        (
            ct.stop_issuing_before_close_min,
            ct.target_wait_min,
            ct.default_service_min,
            ct.daily_cap,
            ct.hours.is_none()
        ),
        (0, 30, 10, None, true)
    );
    assert_eq!(office.counters[0].serves.len(), 2);
    assert_eq!(office.name.uk, "Управа");
}

// Reporting.

#[test]
fn display_prints_file_line_column_field_and_message_one_line_per_problem() {
    let text = with(
        "serves = { dowody = 10, meldunki = 1 }",
        "serves = { dowodyy = 10, meldunki = 0 }",
    );
    let err = parse(&text, "config/office.toml").expect_err("invalid");
    let shown = err.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), err.problems().len());
    assert_eq!(
        lines,
        [
            "config/office.toml:17:8: case_types[0].code: no counter serves case type `dowody`: add it to the serves of at least one counter",
            "config/office.toml:32:12: counters[0].serves: unknown case type `dowodyy` (did you mean `dowody`? known: dowody, meldunki)",
            "config/office.toml:32:37: counters[0].serves.meldunki: a weight must be from 1 to 100, not 0",
        ]
    );
    let _: &dyn std::error::Error = &err;
}

#[test]
fn problems_are_all_collected_in_file_order() {
    let text = with(
        "time_zone = \"Europe/Warsaw\"",
        "time_zone = \"Mars/Olympus\"",
    )
    .replacen("monday = \"8:00-17:00\"", "monday = \"17:00-8:00\"", 1)
    .replacen("prefix = \"B\"", "prefix = \"A\"", 1)
    // Two entries that do not deserialize are both reported, and the rest is checked.
    .replacen("code = \"ciaza\"", "code = \"ciaza\"\ncolour = 1", 1)
    .replacen("id = 1", "id = 1\nfloor = 0", 1);
    let all = problems(&text);
    let fields: Vec<&str> = all.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "office.time_zone",
            "office.hours.monday",
            "priority_categories[0].colour",
            "case_types[1].prefix",
            "counters[0].floor",
        ],
        "{all:#?}"
    );
    let lines: Vec<usize> = all.iter().map(|p| p.line).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
}

#[test]
fn a_broken_case_type_does_not_make_the_counters_that_serve_it_wrong() {
    let text = with("prefix = \"B\"\n", "");
    let p = only_problem(&text);
    check(
        &p,
        at(&text, "[[case_types]]\ncode = \"meldunki\""),
        "case_types[1]",
        &["missing field `prefix`"],
    );
}

// TOML itself.

#[test]
fn syntax_errors_have_a_position() {
    let text = with(
        "time_zone = \"Europe/Warsaw\"",
        "time_zone = \"Europe/Warsaw",
    );
    let all = problems(&text);
    assert!(!all.is_empty());
    assert_eq!(all[0].line, 3, "{all:#?}");
    assert!(all[0].message.starts_with("invalid TOML: "), "{all:#?}");

    let all = problems("[office]\nname = = 1\n");
    assert_eq!((all[0].line, all[0].column), (2, 8));
    assert_eq!(all[0].message, "invalid TOML: extra `=`, expected nothing");

    let text = with("prefix = \"A\"", "prefix = \"A\"\nprefix = \"C\"");
    check(
        &only_problem(&text),
        at(&text, "prefix = \"C\""),
        "",
        &["invalid TOML: duplicate key `prefix`"],
    );
}

#[test]
fn unknown_keys_are_refused_with_the_keys_expected() {
    let text = with("prefix = \"A\"", "prefix = \"A\"\ncolour = \"red\"");
    check(
        &only_problem(&text),
        at(&text, "colour"),
        "case_types[0].colour",
        &["unknown field `colour`", "expected one of", "`prefix`"],
    );

    let text = with("en = \"ID cards\"", "en = \"ID cards\", de = \"Ausweise\"");
    check(
        &only_problem(&text),
        at_after(&text, "\"ID cards\"", "de"),
        "case_types[0].name.de",
        &["unknown field `de`", "`pl`, `uk`, `en`"],
    );

    let text = with("tuesday =", "tusday =");
    check(
        &only_problem(&text),
        at(&text, "tusday"),
        "office.hours.tusday",
        &["unknown field `tusday`", "`tuesday`"],
    );

    let text = format!("{MINIMAL}\n[printer]\nkiosk = \"tcp://10.0.0.5\"\n");
    check(
        &only_problem(&text),
        at(&text, "printer"),
        "printer",
        &["unknown section `printer`", "`case_types`", "`printers`"],
    );
}

#[test]
fn missing_fields_name_the_table_they_are_missing_from() {
    let text = with("time_zone = \"Europe/Warsaw\"\n", "");
    check(
        &only_problem(&text),
        (1, 1),
        "office",
        &["missing field `time_zone`"],
    );

    let text = with(
        "location = { pl = \"Parter\", uk = \"Перший поверх\", en = \"Ground floor\" }\n",
        "",
    );
    check(
        &only_problem(&text),
        at(&text, "[[counters]]"),
        "counters[0]",
        &["missing field `location`"],
    );
}

#[test]
fn wrong_types_are_reported_at_the_value() {
    let text = with("[office.hours]", "max_calls = \"three\"\n\n[office.hours]");
    check(
        &only_problem(&text),
        at(&text, "\"three\""),
        "office.max_calls",
        &["invalid type: string \"three\""],
    );

    let text = with(
        "[office.hours]",
        "end_of_day = \"archive\"\n\n[office.hours]",
    );
    check(
        &only_problem(&text),
        at(&text, "\"archive\""),
        "office.end_of_day",
        &["unknown variant `archive`", "`cancel`", "`keep`"],
    );

    let text = with("monday = \"8:00-17:00\"", "monday = 8");
    check(
        &only_problem(&text),
        at(&text, "8\n"),
        "office.hours.monday",
        &["invalid type: integer `8`"],
    );

    let before_case_types = MINIMAL.find("[[case_types]]").expect("in MINIMAL");
    let text = with(
        "name = { pl = \"Urząd\", uk = \"Управа\", en = \"Town hall\" }",
        "name = \"Urząd\"",
    );
    check(
        &only_problem(&text),
        (2, 8),
        "office.name",
        &["invalid type: string \"Urząd\", expected a text in every language, like { pl = "],
    );

    let text = format!("case_types = \"all\"\n{}", &MINIMAL[..before_case_types]);
    let all = problems(&text);
    check(
        all.iter()
            .find(|p| p.field == "case_types")
            .expect("reported"),
        (1, 14),
        "case_types",
        &["expected an array of tables", "[[case_types]]"],
    );
}

#[test]
fn missing_sections_are_reported() {
    let all = problems("");
    let fields: Vec<&str> = all.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        ["office", "priority_policy", "case_types", "counters"]
    );
    for p in &all {
        assert_eq!((p.line, p.column), (1, 1));
    }
    assert!(all[1].message.contains("\"interleave\""));
}

// References and duplicates.

#[test]
fn unknown_case_type_in_serves_lists_the_known_ones() {
    let text = with(
        "serves = { dowody = 10, meldunki = 1 }",
        "serves = { dowody = 10, meldunki = 1, usc = 3 }",
    );
    check(
        &only_problem(&text),
        at(&text, "usc = 3"),
        "counters[0].serves",
        &["unknown case type `usc` (known: dowody, meldunki)"],
    );
}

#[test]
fn invalid_codes_and_prefixes_say_what_is_expected() {
    let text = with("code = \"dowody\"", "code = \"Dowody\"")
        .replacen("serves = { dowody = 10, ", "serves = { Dowody = 10, ", 1)
        .replacen("prefix = \"B\"", "prefix = \"b1\"", 1);
    let all = problems(&text);
    assert_eq!(all.len(), 3, "{all:#?}");
    check(
        &all[0],
        at(&text, "\"Dowody\""),
        "case_types[0].code",
        &["`Dowody` is not a valid case type code", "lower-case"],
    );
    check(
        &all[1],
        at(&text, "\"b1\""),
        "case_types[1].prefix",
        &["`b1` is not a valid number prefix", "upper-case"],
    );
    check(
        &all[2],
        at(&text, "Dowody = 10"),
        "counters[0].serves",
        &["`Dowody` is not a valid case type code"],
    );
}

#[test]
fn duplicate_prefixes_are_refused() {
    let text = with("prefix = \"B\"", "prefix = \"A\"");
    check(
        &only_problem(&text),
        at_after(&text, "meldunki", "\"A\""),
        "case_types[1].prefix",
        &["duplicate prefix `A`", "case_types[0] already uses it"],
    );
}

#[test]
fn duplicate_case_type_codes_are_refused() {
    let text = with("code = \"meldunki\"", "code = \"dowody\"").replacen(
        "serves = { dowody = 10, meldunki = 1 }",
        "serves = { dowody = 10 }",
        1,
    );
    check(
        &only_problem(&text),
        at_after(&text, "prefix = \"A\"", "\"dowody\""),
        "case_types[1].code",
        &["duplicate case type code `dowody`", "case_types[0]"],
    );
}

#[test]
fn duplicate_counter_ids_are_refused() {
    let text = format!("{MINIMAL}{}", SECOND_COUNTER.replace("id = 2", "id = 1"));
    check(
        &only_problem(&text),
        at_after(&text, "serves = { dowody", "1\nname"),
        "counters[1].id",
        &["duplicate counter id 1", "counters[0] already uses it"],
    );
}

#[test]
fn duplicate_priority_codes_are_refused() {
    let text = with(
        "[[case_types]]\ncode = \"dowody\"",
        "[[priority_categories]]\ncode = \"ciaza\"\nname = { pl = \"a\", uk = \"б\", en = \"c\" }\n\n[[case_types]]\ncode = \"dowody\"",
    );
    check(
        &only_problem(&text),
        at_after(&text, "Pregnant", "\"ciaza\""),
        "priority_categories[1].code",
        &["duplicate priority category code `ciaza`"],
    );
}

#[test]
fn counter_ids_must_be_between_1_and_999() {
    for bad in ["0", "1000", "-1"] {
        let text = with("id = 1", &format!("id = {bad}"));
        check(
            &only_problem(&text),
            at(&text, &format!("{bad}\n")),
            "counters[0].id",
            &[&format!(
                "{bad} is not a valid counter number (expected 1 to 999)"
            )],
        );
    }
}

#[test]
fn every_case_type_needs_a_counter() {
    let text = with(
        "serves = { dowody = 10, meldunki = 1 }",
        "serves = { dowody = 10 }",
    );
    check(
        &only_problem(&text),
        at(&text, "\"meldunki\""),
        "case_types[1].code",
        &["no counter serves case type `meldunki`"],
    );

    let text = with("serves = { dowody = 10, meldunki = 1 }", "serves = {}");
    let all = problems(&text);
    check(
        &all[2],
        at(&text, "{}"),
        "counters[0].serves",
        &["must serve at least one case type"],
    );
}

// Numbers.

#[test]
fn weights_must_be_from_1_to_100() {
    let text = with(
        "serves = { dowody = 10, meldunki = 1 }",
        "serves = { dowody = 0, meldunki = 101 }",
    );
    let all = problems(&text);
    assert_eq!(all.len(), 2, "{all:#?}");
    check(
        &all[0],
        at(&text, "0, "),
        "counters[0].serves.dowody",
        &["a weight must be from 1 to 100, not 0"],
    );
    check(
        &all[1],
        at(&text, "101"),
        "counters[0].serves.meldunki",
        &["a weight must be from 1 to 100, not 101"],
    );
}

#[test]
fn case_type_numbers_are_checked() {
    let text = with(
        "prefix = \"A\"",
        "prefix = \"A\"\ndaily_cap = 0\ntarget_wait_min = -5\ndefault_service_min = 1000\nstop_issuing_before_close_min = 241",
    );
    let all = problems(&text);
    let fields: Vec<&str> = all.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "case_types[0].daily_cap",
            "case_types[0].target_wait_min",
            "case_types[0].default_service_min",
            "case_types[0].stop_issuing_before_close_min",
        ]
    );
    check(
        &all[0],
        at(&text, "0\ntarget"),
        "case_types[0].daily_cap",
        &["daily_cap must be from 1 to 10000, not 0"],
    );
    assert!(all[1].message.contains("not -5"));

    let text = with("[office.hours]", "max_calls = 0\n\n[office.hours]");
    check(
        &only_problem(&text),
        at(&text, "0\n"),
        "office.max_calls",
        &["max_calls must be from 1 to 10, not 0"],
    );
}

// Hours and dates.

#[test]
fn closing_must_be_after_opening() {
    let text = with("monday = \"8:00-17:00\"", "monday = \"17:00-8:00\"");
    check(
        &only_problem(&text),
        (6, 10),
        "office.hours.monday",
        &["closing time 8:00 is not after opening time 17:00"],
    );
    let text = with("monday = \"8:00-17:00\"", "monday = \"8:00-8:00\"");
    assert!(only_problem(&text).message.contains("not after"));
}

#[test]
fn hours_must_be_readable() {
    for bad in [
        "8.00-17.00",
        "8:00",
        "8-17",
        "25:00-26:00",
        "8:0-17:00",
        "8:00-17:00-18:00",
        "",
    ] {
        let text = with("monday = \"8:00-17:00\"", &format!("monday = \"{bad}\""));
        check(
            &only_problem(&text),
            at(&text, &format!("\"{bad}\"")),
            "office.hours.monday",
            &[&format!("`{bad}` is not a time range"), "\"8:00-17:00\""],
        );
    }
    // Leading zeros, spaces around the dash and an en dash are fine.
    let text = with("monday = \"8:00-17:00\"", "monday = \"08:00 – 17:00\"");
    assert!(parse(&text, FILE).is_ok());
}

#[test]
fn an_office_must_open_on_some_day() {
    let text = with("monday = \"8:00-17:00\"\ntuesday = \"7:30-15:30\"\n", "");
    check(
        &only_problem(&text),
        at(&text, "[office.hours]"),
        "office.hours",
        &["closed every day"],
    );
}

#[test]
fn case_type_hours_lie_within_the_office_hours() {
    let text = with(
        "prefix = \"A\"",
        "prefix = \"A\"\nhours = { monday = \"7:00-12:00\", tuesday = \"8:00-12:00\", saturday = \"9:00-12:00\" }",
    );
    let all = problems(&text);
    assert_eq!(all.len(), 2, "{all:#?}");
    check(
        &all[0],
        at(&text, "\"7:00-12:00\""),
        "case_types[0].hours.monday",
        &[
            "issuing hours 7:00-12:00 must lie within the office's opening hours on monday, 8:00-17:00",
        ],
    );
    check(
        &all[1],
        at(&text, "\"9:00-12:00\""),
        "case_types[0].hours.saturday",
        &["the office is closed on saturday"],
    );
}

#[test]
fn stopping_before_close_must_leave_time_to_issue() {
    let text = with(
        "prefix = \"A\"",
        "prefix = \"A\"\nhours = { tuesday = \"14:00-15:00\" }\nstop_issuing_before_close_min = 90",
    );
    check(
        &only_problem(&text),
        at(&text, "90"),
        "case_types[0].stop_issuing_before_close_min",
        &["stopping 90 minutes before closing leaves no time to issue tickets on tuesday"],
    );
    // Without hours of its own a case type is checked against the office's.
    let text = with(
        "prefix = \"A\"",
        "prefix = \"A\"\nstop_issuing_before_close_min = 60",
    );
    assert!(parse(&text, FILE).is_ok());
}

#[test]
fn closed_dates_are_dates() {
    let text = with(
        "time_zone = \"Europe/Warsaw\"",
        "time_zone = \"Europe/Warsaw\"\nclosed_dates = [2026-12-24, \"2026-12-25\", 2026-12-24, 2026-12-26T10:00:00, \"24.12.2026\", \"2026-02-30\", 7]",
    );
    let all = problems(&text);
    let fields: Vec<&str> = all.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "office.closed_dates[2]",
            "office.closed_dates[3]",
            "office.closed_dates[4]",
            "office.closed_dates[5]",
            "office.closed_dates[6]",
        ]
    );
    assert!(all[0].message.contains("2026-12-24 is listed twice"));
    assert_eq!(
        (all[0].line, all[0].column),
        at_after(&text, "\"2026-12-25\"", "2026-12-24")
    );
    assert!(all[1].message.contains("is not a date"));
    assert!(
        all[2]
            .message
            .contains("`24.12.2026` is not a date (expected a date like 2026-12-24)")
    );
    assert!(all[3].message.contains("`2026-02-30` is not a valid date"));
    assert!(all[4].message.contains("found integer"));

    let text = with(
        "time_zone = \"Europe/Warsaw\"",
        "time_zone = \"Europe/Warsaw\"\nclosed_dates = [2026-12-24, \"2026-12-25\"]",
    );
    let office = parse(&text, FILE).expect("valid").office;
    assert_eq!(office.closed_dates.len(), 2);
}

#[test]
fn time_zones_must_exist() {
    let text = with(
        "time_zone = \"Europe/Warsaw\"",
        "time_zone = \"Europe/Warszawa\"",
    );
    check(
        &only_problem(&text),
        (3, 13),
        "office.time_zone",
        &["unknown time zone `Europe/Warszawa`", "\"Europe/Warsaw\""],
    );
}

// Translations.

#[test]
fn every_text_needs_all_three_languages() {
    let text = with(
        "name = { pl = \"Dowody\", uk = \"Посвідчення\", en = \"ID cards\" }",
        "name = { pl = \"Dowody\", en = \"ID cards\" }",
    );
    check(
        &only_problem(&text),
        at_after(&text, "prefix = \"A\"", "{"),
        "case_types[0].name.uk",
        &["missing translation `uk` (Ukrainian)", "pl, uk and en"],
    );

    let text = with(
        "location = { pl = \"Parter\", uk = \"Перший поверх\", en = \"Ground floor\" }",
        "location = { pl = \"Parter\", uk = \"Перший поверх\", en = \" \" }",
    );
    check(
        &only_problem(&text),
        at(&text, "\" \""),
        "counters[0].location.en",
        &["empty translation `en` (English)"],
    );

    // The column is counted in characters: the empty `uk` text follows Cyrillic on its line.
    let text = with(
        "uk = \"Управа\", en = \"Town hall\"",
        "en = \"Вежа\", uk = \"\"",
    );
    check(
        &only_problem(&text),
        (2, 42),
        "office.name.uk",
        &["empty translation `uk`"],
    );
}

#[test]
fn texts_written_as_dotted_keys_or_tables_work_too() {
    let text = with(
        "documents = { pl = \"Zdjęcie\", uk = \"Фото\", en = \"Photo\" }",
        "documents.pl = \"Zdjęcie\"\ndocuments.en = \"Photo\"",
    );
    check(
        &only_problem(&text),
        at(&text, "documents.pl"),
        "case_types[0].documents.uk",
        &["missing translation `uk`"],
    );
}

// The priority policy.

#[test]
fn priority_policies_need_their_parameters() {
    let text = with("kind = \"strict\"", "kind = \"interleave\"");
    check(
        &only_problem(&text),
        at(&text, "\"interleave\""),
        "priority_policy.max_normal_in_row",
        &[
            "kind = \"interleave\" needs max_normal_in_row",
            "like max_normal_in_row = 3",
        ],
    );

    let text = with("kind = \"strict\"", "kind = \"ageing\"");
    check(
        &only_problem(&text),
        at(&text, "\"ageing\""),
        "priority_policy.minutes",
        &["kind = \"ageing\" needs minutes"],
    );

    let text = with("kind = \"strict\"", "kind = \"strict\"\nminutes = 10");
    check(
        &only_problem(&text),
        at(&text, "10\n"),
        "priority_policy.minutes",
        &["minutes is not used with kind = \"strict\""],
    );

    let text = with(
        "kind = \"strict\"",
        "kind = \"interleave\"\nmax_normal_in_row = 0",
    );
    check(
        &only_problem(&text),
        at(&text, "0\n\n[[priority"),
        "priority_policy.max_normal_in_row",
        &["max_normal_in_row must be from 1 to 100, not 0"],
    );

    let text = with("kind = \"strict\"", "kind = \"fifo\"");
    check(
        &only_problem(&text),
        at(&text, "\"fifo\""),
        "priority_policy.kind",
        &[
            "unknown priority policy `fifo`",
            "\"strict\", \"interleave\" or \"ageing\"",
        ],
    );

    let text = with("kind = \"strict\"", "kind = \"ageing\"\nminutes = 15");
    assert_eq!(
        parse(&text, FILE).expect("valid").office.priority_policy,
        PriorityPolicy::Ageing { minutes: 15 }
    );
}

// Files.

#[test]
fn load_reads_a_file_and_reports_under_its_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("office.toml");
    std::fs::write(&path, MINIMAL).expect("write");
    assert_eq!(load(&path).expect("valid").office.counters.len(), 1);

    std::fs::write(&path, with("id = 1", "id = 0")).expect("write");
    let err = load(&path).expect_err("invalid");
    assert_eq!(err.problems()[0].file, path.display().to_string());

    let missing = dir.path().join("missing.toml");
    let err = load(&missing).expect_err("missing");
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.problems().is_empty());
    assert!(err.to_string().contains("missing.toml: cannot read"));
}

#[test]
fn the_devices_section_is_optional_and_checked() {
    let cfg = parse(MINIMAL, FILE).unwrap();
    assert!(!cfg.auth.auto_approve_loopback, "off unless asked for");
    assert!(
        demo().auth.auto_approve_loopback,
        "the demo approves local devices"
    );
    let text = format!("{MINIMAL}\n[devices]\nauto_approve_loopback = true\n");
    assert!(parse(&text, FILE).unwrap().auth.auto_approve_loopback);

    let text = format!("{MINIMAL}\n[devices]\nauto_approve = true\n");
    check(
        &only_problem(&text),
        at(&text, "auto_approve ="),
        "devices.auto_approve",
        &["unknown field `auto_approve`", "`auto_approve_loopback`"],
    );
    let text = format!("{MINIMAL}\n[devices]\nauto_approve_loopback = \"yes\"\n");
    check(
        &only_problem(&text),
        at(&text, "\"yes\""),
        "devices.auto_approve_loopback",
        &["bool"],
    );
}

// The printers.

const PRINTERS: &str = r#"
[printing]
default_printer = "hall-b"
phone_url = "https://kolejka.example.pl/"
footer = { pl = "Dziękujemy", uk = "Дякуємо", en = "Thank you" }

[[printers]]
name = "hall-a"
profile = "epson-tm-t88"
transport = "tcp://10.0.0.7:9100"
kiosks = ["Kiosk parter", "Kiosk wejście"]

[[printers]]
name = "hall-b"
profile = "generic-58mm"
transport = "usb:/dev/usb/lp0"

[[printers]]
name = "room-12"
profile = "star-escpos"
transport = "serial:/dev/ttyUSB0"
kiosks = ["Kiosk USC"]

[[printers]]
name = "preview"
profile = "generic-80mm"
transport = "virtual"
"#;

#[test]
fn without_printers_tickets_go_to_the_virtual_printer() {
    let cfg = parse(MINIMAL, FILE).unwrap();
    assert_eq!(cfg.printing, crate::print::PrintConfig::default());
    assert_eq!(cfg.printing.printer_for_kiosk("any kiosk"), Some("virtual"));

    let demo = demo().printing;
    assert_eq!(demo.printers.len(), 1);
    assert_eq!(
        demo.printers[0].transport,
        crate::print::TransportSpec::Virtual
    );
    assert_eq!(demo.default_printer_name(), Some("virtual"));
    assert!(demo.footer.is_some(), "the demo ticket has a footer");
}

#[test]
fn printers_parse_with_their_transports_and_kiosks() {
    use crate::print::TransportSpec;
    let cfg = parse(&format!("{MINIMAL}{PRINTERS}"), FILE).unwrap();
    let p = &cfg.printing;
    let transports: Vec<_> = p.printers.iter().map(|p| p.transport.clone()).collect();
    assert_eq!(
        transports,
        [
            TransportSpec::Tcp("10.0.0.7:9100".into()),
            TransportSpec::Usb("/dev/usb/lp0".into()),
            TransportSpec::Serial("/dev/ttyUSB0".into()),
            TransportSpec::Virtual,
        ]
    );
    assert_eq!(p.phone_url.as_deref(), Some("https://kolejka.example.pl"));
    assert_eq!(p.footer.as_ref().map(|f| f.uk.as_str()), Some("Дякуємо"));
    assert_eq!(p.header, None);
    assert_eq!(p.printer_for_kiosk("Kiosk wejście"), Some("hall-a"));
    assert_eq!(p.printer_for_kiosk("kiosk usc"), Some("room-12"));
    assert_eq!(p.printer_for_kiosk("Kiosk piętro"), Some("hall-b"));
}

#[test]
fn printer_problems_are_located() {
    let full = format!("{MINIMAL}{PRINTERS}");
    let with_p = |from: &str, to: &str| {
        assert_eq!(full.matches(from).count(), 1, "`{from}` must occur once");
        full.replacen(from, to, 1)
    };

    let text = with_p("\"epson-tm-t88\"", "\"epson-tm-t20\"");
    check(
        &only_problem(&text),
        at(&text, "\"epson-tm-t20\""),
        "printers[0].profile",
        &[
            "unknown printer profile `epson-tm-t20`",
            "epson-tm-t88, generic-58mm",
        ],
    );

    let text = with_p("\"tcp://10.0.0.7:9100\"", "\"lpt1\"");
    check(
        &only_problem(&text),
        at(&text, "\"lpt1\""),
        "printers[0].transport",
        &["unknown printer transport `lpt1`", "tcp://"],
    );

    let text = with_p("\"tcp://10.0.0.7:9100\"", "\"tcp://10.0.0.7:91000\"");
    check(
        &only_problem(&text),
        at(&text, "\"tcp://10.0.0.7:91000\""),
        "printers[0].transport",
        &["port"],
    );

    let text = with_p("name = \"room-12\"", "name = \"hall-a\"");
    check(
        &only_problem(&text),
        at_after(&text, "name = \"hall-b\"", "\"hall-a\""),
        "printers[2].name",
        &["duplicate printer name `hall-a`", "printers[0]"],
    );

    let text = with_p("name = \"preview\"", "name = \"podgląd wydruków\"");
    check(
        &only_problem(&text),
        at(&text, "\"podgląd"),
        "printers[3].name",
        &["is not a printer name"],
    );

    let text = with_p("kiosks = [\"Kiosk USC\"]", "kiosks = [\"kiosk parter \"]");
    check(
        &only_problem(&text),
        at(&text, "\"kiosk parter \""),
        "printers[2].kiosks[0]",
        &["kiosk `kiosk parter` already prints on printers[0]"],
    );

    let text = with_p(
        "default_printer = \"hall-b\"",
        "default_printer = \"hall-c\"",
    );
    check(
        &only_problem(&text),
        at(&text, "\"hall-c\""),
        "printing.default_printer",
        &[
            "unknown printer `hall-c`",
            "hall-a, hall-b, room-12, preview",
        ],
    );

    let text = with_p("\"https://kolejka.example.pl/\"", "\"kolejka.example.pl\"");
    check(
        &only_problem(&text),
        at(&text, "\"kolejka.example.pl\""),
        "printing.phone_url",
        &["not a web address"],
    );

    let text = with_p(", en = \"Thank you\"", "");
    check(
        &only_problem(&text),
        at(&text, "{ pl = \"Dziękujemy\""),
        "printing.footer.en",
        &["missing translation `en`"],
    );

    let text = with_p("name = \"hall-b\"", "name = \"hall-b\"\nspeed = 9600");
    check(
        &only_problem(&text),
        at(&text, "speed"),
        "printers[1].speed",
        &["unknown field `speed`", "`transport`"],
    );

    let text = format!("{MINIMAL}\n[printing]\ncolour = \"red\"\n");
    check(
        &only_problem(&text),
        at(&text, "colour"),
        "printing.colour",
        &["unknown field `colour`", "`phone_url`"],
    );
}
