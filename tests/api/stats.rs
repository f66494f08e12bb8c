//! Statistics: a known history is played through the real API with a manual clock (a normal
//! Friday with no-shows, a transfer, a pause and cancellations; both 2026 DST Sundays; a live
//! Monday), and every figure of the reports is compared with values computed here, in the
//! test, from what the test itself did. Some DST figures are also checked against numbers
//! worked out by hand. Then the CSV bytes, staffing, the public status feed, access rules, bad
//! input, and the retention purge (which must leave every figure as it was).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use kolejka::clock::ManualClock;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DeviceClient, TestApp, UserClient, demo_office};

const MIN: i64 = 60_000;

fn tz() -> TimeZone {
    TimeZone::get("Europe/Warsaw").expect("tz")
}

/// An instant from a local time with its offset, e.g. `2026-10-25T02:30:00+01:00`.
fn t(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("bad time {s}: {e}"))
}

fn date(s: &str) -> Date {
    s.parse().expect("date")
}

#[derive(Debug, Clone)]
struct Rec {
    number: String,
    day: Date,
    issued_ct: String,
    ct: String,
    priority: bool,
    issued: i64,
    first_called: Option<i64>,
    started: Option<i64>,
    finished: Option<i64>,
    state: &'static str,
    counter: Option<u32>,
    clerk: Option<String>,
    transfers: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Open,
    Paused,
    Busy,
    Serving,
}

#[derive(Debug, Clone)]
struct Span {
    day: Date,
    counter: u32,
    clerk: String,
    kind: Kind,
    from: i64,
    to: i64,
}

#[derive(Debug, Clone)]
enum Desk {
    Open { clerk: String, since: i64 },
    Paused { clerk: String, since: i64 },
}

/// The test's own record of what it did, from which it computes the expected figures.
#[derive(Default)]
struct Ledger {
    recs: Vec<Rec>,
    spans: Vec<Span>,
    desks: HashMap<u32, Desk>,
    /// Counter → (ticket index, called at, serving since).
    holding: HashMap<u32, (usize, i64, Option<i64>)>,
}

impl Ledger {
    fn rec(&mut self, day: Date, number: &str) -> &mut Rec {
        self.recs
            .iter_mut()
            .find(|r| r.day == day && r.number == number)
            .unwrap_or_else(|| panic!("no ticket {number} on {day}"))
    }
    fn release(&mut self, day: Date, counter: u32, clerk: &str, at: i64) {
        if let Some((_, since, serving)) = self.holding.remove(&counter) {
            self.spans.push(Span {
                day,
                counter,
                clerk: clerk.into(),
                kind: Kind::Busy,
                from: since,
                to: at,
            });
            if let Some(s) = serving {
                self.spans.push(Span {
                    day,
                    counter,
                    clerk: clerk.into(),
                    kind: Kind::Serving,
                    from: s,
                    to: at,
                });
            }
        }
    }
}

struct World {
    app: TestApp,
    clock: Arc<ManualClock>,
    kiosk: DeviceClient,
    clerks: HashMap<String, UserClient>,
    manager: UserClient,
    day: Date,
    now: i64,
    ledger: Ledger,
}

impl World {
    async fn new() -> World {
        let clock = Arc::new(ManualClock::new(t("2026-03-27T07:30:00+01:00")));
        let app = TestApp::spawn_with(demo_office(), clock.clone()).await;
        let kiosk = app.kiosk().await;
        let mut clerks = HashMap::new();
        for name in ["anna", "bartek", "celina"] {
            clerks.insert(name.to_owned(), app.user(name, "clerk").await);
        }
        let manager = app.user("kierownik", "manager").await;
        World {
            app,
            clock,
            kiosk,
            clerks,
            manager,
            day: date("2026-03-27"),
            now: 0,
            ledger: Ledger::default(),
        }
    }

    /// Sets the clock; on a new day signs everybody in again (sessions do not last days) and
    /// books the tickets the day roll-over will cancel.
    async fn at(&mut self, when: &str) {
        let ts = t(when);
        self.clock.set(ts);
        self.now = ts.as_millisecond();
        let day = ts.to_zoned(tz()).date();
        if day != self.day {
            for r in &mut self.ledger.recs {
                if r.day < day && matches!(r.state, "waiting") {
                    r.state = "cancelled";
                    r.finished = Some(self.now);
                }
            }
            self.day = day;
            for name in ["anna", "bartek", "celina"] {
                let c = self
                    .app
                    .login(name, &format!("{name}-secret-password"))
                    .await
                    .expect("login");
                self.clerks.insert(name.to_owned(), c);
            }
            self.manager = self
                .app
                .login("kierownik", "kierownik-secret-password")
                .await
                .expect("login");
        }
    }

    async fn issue(&mut self, ct: &str, priority: bool) -> String {
        let mut body = json!({"case_type": ct, "lang": "pl"});
        if priority {
            body["priority"] = json!("ciaza");
        }
        let resp = self.kiosk.post("/api/v1/tickets", &body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let v: Value = resp.json().await.expect("json");
        let number = v["ticket"]["number"].as_str().expect("number").to_owned();
        self.ledger.recs.push(Rec {
            number: number.clone(),
            day: self.day,
            issued_ct: ct.into(),
            ct: ct.into(),
            priority,
            issued: self.now,
            first_called: None,
            started: None,
            finished: None,
            state: "waiting",
            counter: None,
            clerk: None,
            transfers: 0,
        });
        number
    }

    async fn act(&self, clerk: &str, counter: u32, action: &str, body: Value) -> Value {
        let c = self.clerks.get(clerk).expect("clerk");
        c.ok(&format!("/api/v1/counters/{counter}/{action}"), &body)
            .await
    }

    async fn open(&mut self, clerk: &str, counter: u32) {
        self.act(clerk, counter, "open", json!({})).await;
        self.ledger.desks.insert(
            counter,
            Desk::Open {
                clerk: clerk.into(),
                since: self.now,
            },
        );
    }

    async fn pause(&mut self, clerk: &str, counter: u32) {
        self.act(clerk, counter, "pause", json!({"reason": "przerwa"}))
            .await;
        let Some(Desk::Open { since, .. }) = self.ledger.desks.remove(&counter) else {
            panic!("counter {counter} not open");
        };
        self.span(counter, clerk, Kind::Open, since);
        self.ledger.desks.insert(
            counter,
            Desk::Paused {
                clerk: clerk.into(),
                since: self.now,
            },
        );
    }

    async fn resume(&mut self, clerk: &str, counter: u32) {
        self.act(clerk, counter, "resume", json!({})).await;
        let Some(Desk::Paused { since, .. }) = self.ledger.desks.remove(&counter) else {
            panic!("counter {counter} not paused");
        };
        self.span(counter, clerk, Kind::Paused, since);
        self.ledger.desks.insert(
            counter,
            Desk::Open {
                clerk: clerk.into(),
                since: self.now,
            },
        );
    }

    async fn close(&mut self, clerk: &str, counter: u32) {
        self.act(clerk, counter, "close", json!({})).await;
        match self.ledger.desks.remove(&counter) {
            Some(Desk::Open { since, .. }) => self.span(counter, clerk, Kind::Open, since),
            Some(Desk::Paused { since, .. }) => self.span(counter, clerk, Kind::Paused, since),
            None => panic!("counter {counter} not open"),
        }
    }

    fn span(&mut self, counter: u32, clerk: &str, kind: Kind, since: i64) {
        self.ledger.spans.push(Span {
            day: self.day,
            counter,
            clerk: clerk.into(),
            kind,
            from: since,
            to: self.now,
        });
    }

    /// Calls the next ticket and returns its number (the engine decides which).
    async fn call(&mut self, clerk: &str, counter: u32) -> String {
        let v = self.act(clerk, counter, "call-next", json!({})).await;
        let number = v["ticket"]["number"].as_str().expect("called").to_owned();
        let day = v["ticket"]["day"].as_str().map(date).expect("day");
        let now = self.now;
        let idx = self
            .ledger
            .recs
            .iter()
            .position(|r| r.day == day && r.number == number)
            .expect("known ticket");
        let r = &mut self.ledger.recs[idx];
        r.first_called.get_or_insert(now);
        r.counter = Some(counter);
        r.clerk = Some(clerk.into());
        r.state = "called";
        r.finished = None;
        self.ledger.holding.insert(counter, (idx, now, None));
        number
    }

    fn held(&self, counter: u32) -> usize {
        self.ledger.holding.get(&counter).expect("holding").0
    }

    async fn recall(&mut self, clerk: &str, counter: u32) {
        self.act(clerk, counter, "recall", json!({})).await;
    }

    async fn start(&mut self, clerk: &str, counter: u32) {
        self.act(clerk, counter, "start", json!({})).await;
        let now = self.now;
        let idx = self.held(counter);
        if let Some(h) = self.ledger.holding.get_mut(&counter) {
            h.2 = Some(now);
        }
        let r = &mut self.ledger.recs[idx];
        r.started = Some(now);
        r.state = "serving";
    }

    async fn finish(&mut self, clerk: &str, counter: u32) {
        self.act(clerk, counter, "finish", json!({})).await;
        let idx = self.held(counter);
        let r = &mut self.ledger.recs[idx];
        r.finished = Some(self.now);
        r.state = "done";
        let (day, now) = (self.day, self.now);
        self.ledger.release(day, counter, clerk, now);
    }

    async fn no_show(&mut self, clerk: &str, counter: u32) {
        self.act(clerk, counter, "no-show", json!({})).await;
        let idx = self.held(counter);
        let r = &mut self.ledger.recs[idx];
        r.finished = Some(self.now);
        r.state = "no_show";
        let (day, now) = (self.day, self.now);
        self.ledger.release(day, counter, clerk, now);
    }

    async fn transfer(&mut self, clerk: &str, counter: u32, ct: &str) {
        self.act(clerk, counter, "transfer", json!({"case_type": ct}))
            .await;
        let idx = self.held(counter);
        let r = &mut self.ledger.recs[idx];
        r.ct = ct.into();
        r.transfers += 1;
        r.started = None;
        r.state = "waiting";
        let (day, now) = (self.day, self.now);
        self.ledger.release(day, counter, clerk, now);
    }

    async fn cancel(&mut self, number: &str) {
        let resp = self
            .manager
            .post(
                &format!("/api/v1/tickets/{number}/cancel"),
                &json!({"reason": "klient wyszedł"}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let (day, now) = (self.day, self.now);
        let r = self.ledger.rec(day, number);
        r.state = "cancelled";
        r.finished = Some(now);
    }

    async fn get(&self, path: &str) -> Value {
        let resp = self.manager.get(path).await;
        let status = resp.status();
        let body: Value = resp.json().await.expect("json");
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }
}

// ------------------------------------------------------------------ expected figures

fn target_ms(ct: &str) -> Option<i64> {
    demo_office()
        .case_types
        .iter()
        .find(|c| c.code.as_str() == ct)
        .map(|c| i64::from(c.target_wait_min) * MIN)
}

/// PERCENTILE.INC of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

fn durations(mut secs: Vec<f64>) -> Value {
    secs.sort_by(f64::total_cmp);
    let n = secs.len();
    json!({
        "count": n,
        "mean_s": (n > 0).then(|| secs.iter().sum::<f64>() / n as f64),
        "median_s": percentile(&secs, 0.5),
        "p90_s": percentile(&secs, 0.9),
        "max_s": secs.last(),
    })
}

/// What "now" is for tickets still waiting (today's live report).
fn unserved(r: &Rec, now: i64) -> Option<i64> {
    if r.first_called.is_some() {
        return None;
    }
    match r.state {
        "cancelled" => r.finished.map(|f| f - r.issued),
        "waiting" => Some(now - r.issued),
        _ => None,
    }
}

/// The figures of the tickets whose arrival is in `arr` and whose outcome is in `out`.
fn figures(arr: &[&Rec], out: &[&Rec], now: i64) -> Value {
    let (mut counted, mut met) = (0u64, 0u64);
    for r in arr {
        let Some(target) = target_ms(&r.issued_ct) else {
            continue;
        };
        match (r.first_called, unserved(r, now)) {
            (Some(c), _) => {
                counted += 1;
                met += u64::from(c - r.issued <= target);
            }
            (None, Some(u)) if u > target => counted += 1,
            _ => {}
        }
    }
    let count = |rs: &[&Rec], f: &dyn Fn(&Rec) -> bool| rs.iter().filter(|r| f(r)).count();
    json!({
        "issued": arr.len(),
        "served": count(out, &|r| r.state == "done"),
        "no_show": count(out, &|r| r.state == "no_show"),
        "cancelled": count(out, &|r| r.state == "cancelled"),
        "transferred": count(arr, &|r| r.transfers > 0),
        "priority": count(arr, &|r| r.priority),
        "wait": durations(arr.iter().filter_map(|r| r.first_called.map(|c| (c - r.issued) as f64 / 1000.0)).collect()),
        "service": durations(out.iter().filter(|r| r.state == "done").filter_map(|r| Some((r.finished? - r.started?) as f64 / 1000.0)).collect()),
        "within_target": {
            "counted": counted,
            "met": met,
            "share": (counted > 0).then(|| met as f64 / counted as f64),
        },
    })
}

/// Compares JSON values, numbers within 1e-6.
fn same(actual: &Value, expected: &Value, path: &str) {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => {
            let (a, e) = (a.as_f64().expect("f64"), e.as_f64().expect("f64"));
            assert!((a - e).abs() < 1e-6, "{path}: got {a}, expected {e}");
        }
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                same(a.get(k).unwrap_or(&Value::Null), ev, &format!("{path}.{k}"));
            }
        }
        (a, e) => assert_eq!(a, e, "{path}"),
    }
}

#[derive(Default, Clone)]
struct Filter<'a> {
    case_type: Option<&'a str>,
    counter: Option<u32>,
    clerk: Option<&'a str>,
}

fn who(r: &Rec, f: &Filter) -> bool {
    f.counter.is_none_or(|c| r.counter == Some(c))
        && f.clerk.is_none_or(|c| r.clerk.as_deref() == Some(c))
}

fn local_hour_weekday(ms: i64) -> (u8, u8) {
    let z = Timestamp::from_millisecond(ms).expect("ms").to_zoned(tz());
    (z.hour() as u8, z.weekday().to_monday_one_offset() as u8)
}

/// Counter time per (counter, clerk, kind), counted minute by minute (every time in the
/// script is on a whole minute), and per (day, counter, clerk, hour, kind).
fn minutes(spans: &[Span], keep: impl Fn(&Span) -> bool) -> BTreeMap<(u32, String, Kind), i64> {
    let mut out = BTreeMap::new();
    for s in spans.iter().filter(|s| keep(s)) {
        *out.entry((s.counter, s.clerk.clone(), s.kind)).or_insert(0) += s.to - s.from;
    }
    out
}

fn hour_buckets(spans: &[Span]) -> BTreeMap<(Date, u32, u8, Kind), i64> {
    let mut out = BTreeMap::new();
    for s in spans {
        let mut m = s.from;
        while m < s.to {
            let (hour, _) = local_hour_weekday(m);
            *out.entry((s.day, s.counter, hour, s.kind)).or_insert(0) += MIN;
            m += MIN;
        }
    }
    out
}

/// Checks a report against the ledger.
fn check_report(
    report: &Value,
    ledger: &Ledger,
    from: Date,
    to: Date,
    f: &Filter,
    now: i64,
    label: &str,
) {
    let in_range: Vec<&Rec> = ledger
        .recs
        .iter()
        .filter(|r| r.day >= from && r.day <= to)
        .collect();
    let arr = |ct: Option<&str>| -> Vec<&Rec> {
        in_range
            .iter()
            .copied()
            .filter(|r| ct.is_none_or(|c| r.issued_ct == c) && who(r, f))
            .collect()
    };
    let out = |ct: Option<&str>| -> Vec<&Rec> {
        in_range
            .iter()
            .copied()
            .filter(|r| ct.is_none_or(|c| r.ct == c) && who(r, f))
            .collect()
    };
    same(
        &report["totals"],
        &figures(&arr(f.case_type), &out(f.case_type), now),
        &format!("{label} totals"),
    );
    // Per case type.
    let listed: Vec<&str> = report["case_types"]
        .as_array()
        .expect("case_types")
        .iter()
        .map(|c| c["code"].as_str().expect("code"))
        .collect();
    for ct in demo_office().case_types.iter().map(|c| c.code.to_string()) {
        if f.case_type.is_some_and(|c| c != ct) {
            assert!(!listed.contains(&ct.as_str()), "{label}: {ct} listed");
            continue;
        }
        let entry = report["case_types"]
            .as_array()
            .expect("case types")
            .iter()
            .find(|c| c["code"] == ct)
            .unwrap_or_else(|| panic!("{label}: no {ct}"));
        same(
            &entry["figures"],
            &figures(&arr(Some(&ct)), &out(Some(&ct)), now),
            &format!("{label} {ct}"),
        );
    }
    // Per day.
    let days: BTreeSet<Date> = in_range
        .iter()
        .filter(|r| (f.case_type.is_none_or(|c| r.issued_ct == c || r.ct == c)) && who(r, f))
        .map(|r| r.day)
        .collect();
    let by_day = report["by_day"].as_array().expect("by_day");
    assert_eq!(by_day.len(), days.len(), "{label}: days in by_day");
    for (entry, day) in by_day.iter().zip(&days) {
        assert_eq!(entry["day"], day.to_string());
        let a: Vec<&Rec> = arr(f.case_type)
            .into_iter()
            .filter(|r| r.day == *day)
            .collect();
        let o: Vec<&Rec> = out(f.case_type)
            .into_iter()
            .filter(|r| r.day == *day)
            .collect();
        same(
            &entry["figures"],
            &figures(&a, &o, now),
            &format!("{label} {day}"),
        );
    }
    // Days with activity: any ticket or counter opened, whatever the filters.
    let active: BTreeSet<Date> = ledger
        .recs
        .iter()
        .map(|r| r.day)
        .chain(ledger.spans.iter().map(|s| s.day))
        .filter(|d| *d >= from && *d <= to)
        .collect();
    assert_eq!(report["days"], json!(active.len()), "{label}: days");
    // Hours and the weekday heat map, by the local time of issue.
    let all = arr(f.case_type);
    for h in 0..24u8 {
        let here: Vec<&Rec> = all
            .iter()
            .copied()
            .filter(|r| local_hour_weekday(r.issued).0 == h)
            .collect();
        let fig = figures(&here, &[], now);
        let entry = &report["by_hour"][usize::from(h)];
        assert_eq!(entry["hour"], json!(h));
        same(
            &entry["arrivals"],
            &json!(here.len()),
            &format!("{label} hour {h}"),
        );
        same(
            &entry["arrivals_per_day"],
            &json!(here.len() as f64 / active.len().max(1) as f64),
            &format!("{label} hour {h} per day"),
        );
        same(
            &entry["wait_mean_s"],
            &fig["wait"]["mean_s"],
            &format!("{label} hour {h} wait"),
        );
        same(
            &entry["within_target_share"],
            &fig["within_target"]["share"],
            &format!("{label} hour {h} share"),
        );
    }
    for w in 1..=7u8 {
        let wdays = active
            .iter()
            .filter(|d| d.weekday().to_monday_one_offset() as u8 == w)
            .count();
        for h in 0..24u8 {
            let here: Vec<&Rec> = all
                .iter()
                .copied()
                .filter(|r| local_hour_weekday(r.issued) == (h, w))
                .collect();
            let cell = &report["heatmap"][usize::from(w - 1) * 24 + usize::from(h)];
            assert_eq!(cell["weekday"], json!(w));
            assert_eq!(cell["hour"], json!(h));
            assert_eq!(cell["days"], json!(wdays), "{label} heat days");
            assert_eq!(cell["arrivals"], json!(here.len()), "{label} heat {w} {h}");
            let waits: Vec<f64> = here
                .iter()
                .filter_map(|r| r.first_called.map(|c| (c - r.issued) as f64 / 1000.0))
                .collect();
            same(
                &cell["wait_mean_s"],
                &json!((!waits.is_empty()).then(|| waits.iter().sum::<f64>() / waits.len() as f64)),
                &format!("{label} heat wait {w} {h}"),
            );
        }
    }
    // Counters and clerks: served and no-shows by the case-type filter too, times not.
    let spans: Vec<Span> = ledger
        .spans
        .iter()
        .filter(|s| s.day >= from && s.day <= to)
        .filter(|s| f.counter.is_none_or(|c| s.counter == c))
        .filter(|s| f.clerk.is_none_or(|c| s.clerk == c))
        .cloned()
        .collect();
    let time = minutes(&spans, |_| true);
    let outs = out(f.case_type);
    let mut counters: BTreeSet<u32> = spans.iter().map(|s| s.counter).collect();
    counters.extend(outs.iter().filter_map(|r| r.counter));
    let rows = report["counters"].as_array().expect("counters");
    assert_eq!(rows.len(), counters.len(), "{label}: counters");
    for (row, c) in rows.iter().zip(&counters) {
        let sum = |k: Kind| -> f64 {
            time.iter()
                .filter(|((cc, _, kk), _)| cc == c && *kk == k)
                .map(|(_, v)| *v as f64 / 1000.0)
                .sum()
        };
        let served = outs
            .iter()
            .filter(|r| r.counter == Some(*c) && r.state == "done")
            .count();
        check_work(
            row,
            sum,
            served,
            outs.iter()
                .filter(|r| r.counter == Some(*c) && r.state == "no_show")
                .count(),
            &format!("{label} counter {c}"),
        );
        assert_eq!(row["counter"], json!(c));
    }
    let mut clerks: BTreeSet<String> = spans.iter().map(|s| s.clerk.clone()).collect();
    clerks.extend(outs.iter().filter_map(|r| r.clerk.clone()));
    let rows = report["clerks"].as_array().expect("clerks");
    assert_eq!(rows.len(), clerks.len(), "{label}: clerks");
    for (row, name) in rows.iter().zip(&clerks) {
        assert_eq!(row["clerk"], json!(name));
        let sum = |k: Kind| -> f64 {
            time.iter()
                .filter(|((_, cl, kk), _)| cl == name && *kk == k)
                .map(|(_, v)| *v as f64 / 1000.0)
                .sum()
        };
        let mine = |state: &str| {
            outs.iter()
                .filter(|r| r.clerk.as_deref() == Some(name.as_str()) && r.state == state)
                .count()
        };
        check_work(
            row,
            sum,
            mine("done"),
            mine("no_show"),
            &format!("{label} clerk {name}"),
        );
    }
}

fn check_work(row: &Value, sum: impl Fn(Kind) -> f64, served: usize, no_show: usize, label: &str) {
    let (open, busy) = (sum(Kind::Open), sum(Kind::Busy));
    same(
        row,
        &json!({
            "served": served,
            "no_show": no_show,
            "open_s": open,
            "paused_s": sum(Kind::Paused),
            "busy_s": busy,
            "serving_s": sum(Kind::Serving),
            "idle_s": (open - busy).max(0.0),
            "served_per_open_hour": (open > 0.0).then(|| served as f64 / (open / 3600.0)),
            "utilization": (open > 0.0).then(|| busy / open),
        }),
        label,
    );
}

// ------------------------------------------------------------------ the history

/// Plays the known history. Returns the world at the live Monday, 2026-10-26 09:30.
async fn play() -> World {
    let mut w = World::new().await;

    // Friday 2026-03-27 (CET, UTC+1): three counters, a priority ticket, recalls and a
    // no-show, a pause, a transfer, a service across 9:00, a cancellation, and a ticket
    // still waiting at the end of the day (cancelled by the roll-over).
    w.at("2026-03-27T08:00:00+01:00").await;
    w.open("anna", 1).await;
    w.open("bartek", 2).await;
    w.open("celina", 4).await;
    w.issue("dowody", false).await;
    w.at("2026-03-27T08:05:00+01:00").await;
    w.issue("dowody", true).await;
    w.at("2026-03-27T08:06:00+01:00").await;
    w.issue("meldunki", false).await;
    w.at("2026-03-27T08:10:00+01:00").await;
    w.issue("pojazdy", false).await;
    w.at("2026-03-27T08:12:00+01:00").await;
    w.issue("dowody", false).await;
    w.at("2026-03-27T08:15:00+01:00").await;
    w.call("anna", 1).await;
    w.call("bartek", 2).await;
    w.at("2026-03-27T08:16:00+01:00").await;
    w.start("anna", 1).await;
    w.recall("bartek", 2).await;
    w.at("2026-03-27T08:17:00+01:00").await;
    w.recall("bartek", 2).await;
    w.at("2026-03-27T08:18:00+01:00").await;
    w.no_show("bartek", 2).await;
    w.at("2026-03-27T08:19:00+01:00").await;
    w.pause("bartek", 2).await;
    w.at("2026-03-27T08:20:00+01:00").await;
    w.call("celina", 4).await;
    w.at("2026-03-27T08:21:00+01:00").await;
    w.start("celina", 4).await;
    w.at("2026-03-27T08:26:00+01:00").await;
    w.finish("anna", 1).await;
    w.at("2026-03-27T08:27:00+01:00").await;
    w.call("anna", 1).await;
    w.at("2026-03-27T08:28:00+01:00").await;
    w.start("anna", 1).await;
    w.at("2026-03-27T08:30:00+01:00").await;
    w.transfer("celina", 4, "meldunki").await;
    let a4 = w.issue("dowody", false).await;
    w.at("2026-03-27T08:31:00+01:00").await;
    let c2 = w.issue("pojazdy", false).await;
    w.at("2026-03-27T08:40:00+01:00").await;
    w.finish("anna", 1).await;
    // Left after 15 minutes (within the target: not counted either way).
    w.at("2026-03-27T08:45:00+01:00").await;
    w.cancel(&a4).await;
    w.resume("bartek", 2).await;
    w.at("2026-03-27T08:46:00+01:00").await;
    w.call("bartek", 2).await;
    w.at("2026-03-27T08:47:00+01:00").await;
    w.start("bartek", 2).await;
    w.at("2026-03-27T09:05:00+01:00").await;
    w.finish("bartek", 2).await;
    // Left after 34 minutes, beyond the 30-minute target: a miss.
    w.cancel(&c2).await;
    // Whatever still waits is called and served, a minute each, at counters 1 and 2.
    let mut minute = 6;
    loop {
        let waiting = w
            .ledger
            .recs
            .iter()
            .any(|r| r.day == w.day && r.state == "waiting");
        if !waiting {
            break;
        }
        let clock = format!("2026-03-27T09:{minute:02}:00+01:00");
        w.at(&clock).await;
        w.call("anna", 1).await;
        w.start("anna", 1).await;
        w.at(&format!("2026-03-27T09:{:02}:00+01:00", minute + 1))
            .await;
        w.finish("anna", 1).await;
        minute += 2;
    }
    w.at("2026-03-27T09:20:00+01:00").await;
    w.issue("meldunki", false).await;
    w.at("2026-03-27T09:30:00+01:00").await;
    w.close("anna", 1).await;
    w.close("bartek", 2).await;
    w.close("celina", 4).await;

    // Sunday 2026-03-29: clocks go forward from 2:00 CET to 3:00 CEST. Counter 1 is open
    // from 1:00 to 4:00 local time: two real hours.
    w.at("2026-03-29T01:00:00+01:00").await;
    w.open("anna", 1).await;
    w.at("2026-03-29T01:30:00+01:00").await;
    w.issue("dowody", false).await;
    w.at("2026-03-29T01:50:00+01:00").await;
    w.issue("dowody", false).await;
    w.at("2026-03-29T01:55:00+01:00").await;
    w.call("anna", 1).await;
    w.at("2026-03-29T01:56:00+01:00").await;
    w.start("anna", 1).await;
    w.at("2026-03-29T03:05:00+02:00").await;
    w.finish("anna", 1).await;
    w.at("2026-03-29T03:10:00+02:00").await;
    w.call("anna", 1).await;
    w.at("2026-03-29T03:11:00+02:00").await;
    w.start("anna", 1).await;
    w.at("2026-03-29T03:20:00+02:00").await;
    w.finish("anna", 1).await;
    w.at("2026-03-29T03:30:00+02:00").await;
    w.issue("dowody", false).await;
    w.at("2026-03-29T03:40:00+02:00").await;
    w.call("anna", 1).await;
    w.at("2026-03-29T03:41:00+02:00").await;
    w.recall("anna", 1).await;
    w.at("2026-03-29T03:42:00+02:00").await;
    w.no_show("anna", 1).await;
    w.at("2026-03-29T04:00:00+02:00").await;
    w.close("anna", 1).await;

    // Sunday 2026-10-25: clocks go back from 3:00 CEST to 2:00 CET, so 2:30 comes twice.
    // Counter 2 is open from 1:00 to 4:00 local time: four real hours.
    w.at("2026-10-25T01:00:00+02:00").await;
    w.open("bartek", 2).await;
    w.at("2026-10-25T02:30:00+02:00").await;
    w.issue("meldunki", true).await;
    w.at("2026-10-25T02:40:00+02:00").await;
    w.call("bartek", 2).await;
    w.at("2026-10-25T02:41:00+02:00").await;
    w.start("bartek", 2).await;
    w.at("2026-10-25T02:20:00+01:00").await;
    w.finish("bartek", 2).await;
    w.at("2026-10-25T02:30:00+01:00").await;
    w.issue("meldunki", false).await;
    w.at("2026-10-25T02:35:00+01:00").await;
    w.call("bartek", 2).await;
    w.at("2026-10-25T02:36:00+01:00").await;
    w.start("bartek", 2).await;
    w.at("2026-10-25T02:50:00+01:00").await;
    w.transfer("bartek", 2, "dowody").await;
    w.at("2026-10-25T03:00:00+01:00").await;
    w.call("bartek", 2).await;
    w.at("2026-10-25T03:01:00+01:00").await;
    w.start("bartek", 2).await;
    w.at("2026-10-25T03:10:00+01:00").await;
    w.finish("bartek", 2).await;
    w.at("2026-10-25T04:00:00+01:00").await;
    w.close("bartek", 2).await;

    // Monday 2026-10-26, live: one ticket called and being served, one still waiting.
    w.at("2026-10-26T09:00:00+01:00").await;
    w.issue("dowody", false).await;
    w.issue("dowody", false).await;
    w.at("2026-10-26T09:05:00+01:00").await;
    w.open("anna", 1).await;
    w.at("2026-10-26T09:06:00+01:00").await;
    w.call("anna", 1).await;
    w.at("2026-10-26T09:07:00+01:00").await;
    w.start("anna", 1).await;
    w.at("2026-10-26T09:30:00+01:00").await;
    w
}

/// The ledger with today's open counter and ticket booked up to now, as the live report sees
/// them.
fn with_live_spans(w: &World) -> Ledger {
    let mut l = Ledger {
        recs: w.ledger.recs.clone(),
        spans: w.ledger.spans.clone(),
        ..Ledger::default()
    };
    for (c, d) in &w.ledger.desks {
        let (kind, clerk, since) = match d {
            Desk::Open { clerk, since } => (Kind::Open, clerk, since),
            Desk::Paused { clerk, since } => (Kind::Paused, clerk, since),
        };
        l.spans.push(Span {
            day: w.day,
            counter: *c,
            clerk: clerk.clone(),
            kind,
            from: *since,
            to: w.now,
        });
    }
    for (c, (_, since, serving)) in &w.ledger.holding {
        let clerk = match w.ledger.desks.get(c) {
            Some(Desk::Open { clerk, .. } | Desk::Paused { clerk, .. }) => clerk.clone(),
            None => String::new(),
        };
        l.spans.push(Span {
            day: w.day,
            counter: *c,
            clerk: clerk.clone(),
            kind: Kind::Busy,
            from: *since,
            to: w.now,
        });
        if let Some(s) = serving {
            l.spans.push(Span {
                day: w.day,
                counter: *c,
                clerk,
                kind: Kind::Serving,
                from: *s,
                to: w.now,
            });
        }
    }
    l
}

fn query(from: &str, to: &str, f: &Filter) -> String {
    let mut q = format!("from={from}&to={to}");
    if let Some(c) = f.case_type {
        q += &format!("&case_type={c}");
    }
    if let Some(c) = f.counter {
        q += &format!("&counter={c}");
    }
    if let Some(c) = f.clerk {
        q += &format!("&clerk={c}");
    }
    q
}

#[tokio::test]
async fn every_report_figure_matches_the_history_played() {
    let w = play().await;
    let ledger = with_live_spans(&w);
    let filters = [
        Filter::default(),
        Filter {
            case_type: Some("dowody"),
            ..Filter::default()
        },
        Filter {
            case_type: Some("meldunki"),
            ..Filter::default()
        },
        Filter {
            counter: Some(2),
            ..Filter::default()
        },
        Filter {
            clerk: Some("anna"),
            ..Filter::default()
        },
        Filter {
            case_type: Some("dowody"),
            clerk: Some("bartek"),
            ..Filter::default()
        },
    ];
    let ranges = [
        ("2026-03-27", "2026-03-27"),
        ("2026-03-29", "2026-03-29"),
        ("2026-10-25", "2026-10-25"),
        ("2026-10-26", "2026-10-26"),
        ("2026-03-23", "2026-03-29"),
        ("2026-01-01", "2026-12-31"),
    ];
    let mut live = Vec::new();
    for (from, to) in ranges {
        for f in &filters {
            let path = format!("/api/v1/reports/summary?{}", query(from, to, f));
            let report = w.get(&path).await;
            check_report(&report, &ledger, date(from), date(to), f, w.now, &path);
            live.push((path, report));
        }
    }

    // Worked out by hand, in real time across the DST changes.
    let spring = w
        .get("/api/v1/reports/summary?from=2026-03-29&to=2026-03-29")
        .await;
    let t = &spring["totals"];
    assert_eq!(t["issued"], 3);
    assert_eq!(t["served"], 2);
    assert_eq!(t["no_show"], 1);
    // 1:55−1:30 CET = 25 min; 3:10 CEST − 1:50 CET = 20 min (exactly the target: met);
    // 3:40−3:30 CEST = 10 min.
    assert_eq!(t["wait"]["max_s"], 1500.0);
    assert_eq!(t["wait"]["median_s"], 1200.0);
    assert_eq!(
        t["within_target"],
        json!({"counted": 3, "met": 2, "share": 2.0 / 3.0})
    );
    // 1:56 CET to 3:05 CEST is 9 minutes of service.
    assert_eq!(t["service"]["max_s"], 540.0);
    let c1 = &spring["counters"][0];
    assert_eq!(c1["counter"], 1);
    assert_eq!(c1["open_s"], 7200.0, "1:00 CET to 4:00 CEST is two hours");
    let hours: Vec<u64> = spring["by_hour"]
        .as_array()
        .expect("hours")
        .iter()
        .map(|h| h["arrivals"].as_u64().expect("n"))
        .collect();
    assert_eq!(hours[1], 2);
    assert_eq!(hours[2], 0, "2:00-3:00 does not exist on 2026-03-29");
    assert_eq!(hours[3], 1);

    let autumn = w
        .get("/api/v1/reports/summary?from=2026-10-25&to=2026-10-25")
        .await;
    let t = &autumn["totals"];
    assert_eq!(t["issued"], 2);
    assert_eq!(t["transferred"], 1);
    assert_eq!(t["priority"], 1);
    // 2:40−2:30 CEST and 2:35−2:30 CET.
    assert_eq!(t["wait"]["mean_s"], 450.0);
    // 2:41 CEST to 2:20 CET is 39 minutes; the transferred ticket's last service 9 minutes.
    assert_eq!(t["service"]["max_s"], 2340.0);
    assert_eq!(t["service"]["count"], 2);
    assert_eq!(
        autumn["counters"][0]["open_s"], 14400.0,
        "1:00 CEST to 4:00 CET is four hours"
    );
    assert_eq!(
        autumn["by_hour"][2]["arrivals"], 2,
        "both 2:30s are in hour 2"
    );
    assert_eq!(autumn["heatmap"][6 * 24 + 2]["arrivals"], 2, "Sunday 2:00");
    let meldunki = autumn["case_types"]
        .as_array()
        .expect("cts")
        .iter()
        .find(|c| c["code"] == "meldunki")
        .expect("meldunki")
        .clone();
    assert_eq!(meldunki["figures"]["issued"], 2);
    assert_eq!(
        meldunki["figures"]["served"], 1,
        "the transferred one ended as dowody"
    );
    let dowody = autumn["case_types"]
        .as_array()
        .expect("cts")
        .iter()
        .find(|c| c["code"] == "dowody")
        .expect("dowody")
        .clone();
    assert_eq!(dowody["figures"]["served"], 1);
    assert_eq!(dowody["figures"]["issued"], 0);

    // Live Monday at 9:30: A001 called after 6 minutes; A002 has waited 30 (> 20): missed.
    let today = w
        .get("/api/v1/reports/summary?from=2026-10-26&to=2026-10-26")
        .await;
    assert_eq!(
        today["totals"]["within_target"],
        json!({"counted": 2, "met": 1, "share": 0.5})
    );
    let c1 = &today["counters"][0];
    assert_eq!(c1["open_s"], 1500.0);
    assert_eq!(c1["busy_s"], 1440.0);
    assert_eq!(c1["serving_s"], 1380.0);
    assert_eq!(c1["idle_s"], 60.0);

    // A summarized day gives exactly what its live derivation gave, and the purge of
    // priority categories changes no figure (the reports keep "priority: yes/no").
    let stats = w.app.state().stats.clone();
    let out = tokio::task::spawn_blocking(move || stats.purge(Default::default()))
        .await
        .expect("task")
        .expect("purge");
    let closed: Vec<String> = out.summarized.iter().map(|d| d.to_string()).collect();
    assert_eq!(closed, ["2026-03-27", "2026-03-29", "2026-10-25"]);
    assert_eq!(out.purged.len(), 3);
    assert_eq!(
        out.tickets_cleared, 2,
        "two priority tickets on closed days"
    );
    for (path, before) in &live {
        let after = w.get(path).await;
        assert_eq!(
            &after, before,
            "{path} changed after summarizing and purging"
        );
    }
    let conn = rusqlite::Connection::open(&w.app.db).expect("db");
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(
        count("SELECT COUNT(*) FROM tickets WHERE priority IS NOT NULL"),
        0
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM events WHERE kind = 'ticket_issued'
             AND json_extract(payload, '$.priority') IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM stats_tickets WHERE priority = 1"),
        2
    );
    // A second run has nothing left to do.
    let stats = w.app.state().stats.clone();
    let again = tokio::task::spawn_blocking(move || stats.purge(Default::default()))
        .await
        .expect("task")
        .expect("purge");
    assert!(again.summarized.is_empty() && again.purged.is_empty());
    w.app.stop().await;
}

#[tokio::test]
async fn the_csv_opens_in_polish_excel() {
    let w = play().await;
    let resp = w
        .manager
        .get("/api/v1/reports/export.csv?from=2026-03-29&to=2026-03-29&table=summary")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"].to_str().expect("ct"),
        "text/csv; charset=utf-8"
    );
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .expect("cd")
            .contains("kolejka-podsumowanie-2026-03-29-2026-03-29.csv")
    );
    let bytes = resp.bytes().await.expect("bytes");
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
    assert!(text.ends_with("\r\n"));
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("Rodzaj sprawy;Kod;Cel oczekiwania [min];Wydane;Obsłużone;"));
    assert!(!lines[0].contains(','), "no comma separators: {}", lines[0]);
    let header: Vec<&str> = lines[0].split(';').collect();
    let total: Vec<&str> = lines.last().expect("total").split(';').collect();
    assert_eq!(header.len(), total.len());
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(total[0], "Razem");
    assert_eq!(total[col("Wydane")], "3");
    // Waits 1500, 1200 and 600 s: mean 1100, median 1200, P90 1440, max 1500 (whole seconds).
    assert_eq!(total[col("Oczekiwanie: średnia [s]")], "1100");
    assert_eq!(total[col("Oczekiwanie: 90. percentyl [s]")], "1440");
    assert_eq!(total[col("Obsługa: maksimum [s]")], "540");
    assert_eq!(total[col("Standard [%]")], "66,7", "a decimal comma");
    let dowody = lines
        .iter()
        .find(|l| l.starts_with("Dowody osobiste;dowody;20;"))
        .expect("dowody row");
    assert!(dowody.contains(";3;2;1;0;0;0;"), "{dowody}");

    // Every table exports; the counters' times are whole seconds.
    for table in ["summary", "days", "hours", "heatmap", "counters", "clerks"] {
        let resp = w
            .manager
            .get(&format!(
                "/api/v1/reports/export.csv?from=2026-03-01&to=2026-10-31&table={table}"
            ))
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "{table}");
        let bytes = resp.bytes().await.expect("bytes");
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    }
    let counters = w
        .manager
        .get("/api/v1/reports/export.csv?from=2026-10-25&to=2026-10-25&table=counters")
        .await
        .text()
        .await
        .expect("text");
    assert!(counters.contains("\r\n2;"), "{counters}");
    assert!(counters.contains(";14400;"), "four hours open: {counters}");
    w.app.stop().await;
}

/// Erlang C by its textbook formula with powers and factorials (the code uses a recursion).
fn erlang_c(n: u32, a: f64) -> f64 {
    let fact = |k: u32| (1..=k).map(f64::from).product::<f64>();
    let top = a.powi(n as i32) / fact(n) * f64::from(n) / (f64::from(n) - a);
    let sum: f64 = (0..n).map(|k| a.powi(k as i32) / fact(k)).sum();
    top / (sum + top)
}

#[tokio::test]
async fn staffing_follows_erlang_c_from_measured_rates() {
    let w = play().await;
    let s = w
        .get("/api/v1/reports/staffing?to=2026-10-25&weeks=52&share=0.8")
        .await;
    assert_eq!(s["days"], 3, "three days with activity in the window");
    let dowody = s["case_types"]
        .as_array()
        .expect("cts")
        .iter()
        .find(|c| c["code"] == "dowody")
        .expect("dowody");
    // Served dowody in the window: measured mean service time.
    let served: Vec<f64> = w
        .ledger
        .recs
        .iter()
        .filter(|r| r.day <= date("2026-10-25") && r.ct == "dowody" && r.state == "done")
        .map(|r| (r.finished.expect("f") - r.started.expect("s")) as f64 / 1000.0)
        .collect();
    let mean = served.iter().sum::<f64>() / served.len() as f64;
    assert_eq!(dowody["service_time_source"], "measured");
    assert!((dowody["mean_service_s"].as_f64().expect("s") - mean).abs() < 1e-9);
    // Hour 8: dowody issued between 8:00 and 9:00 over the three days.
    let issued_8 = w
        .ledger
        .recs
        .iter()
        .filter(|r| {
            r.day <= date("2026-10-25")
                && r.issued_ct == "dowody"
                && local_hour_weekday(r.issued).0 == 8
        })
        .count() as f64;
    let h8 = dowody["hours"]
        .as_array()
        .expect("hours")
        .iter()
        .find(|h| h["hour"] == 8)
        .expect("hour 8");
    let lambda = issued_8 / 3.0;
    let load = lambda * mean / 3600.0;
    assert!((h8["arrivals_per_hour"].as_f64().expect("l") - lambda).abs() < 1e-9);
    assert!((h8["offered_load"].as_f64().expect("a") - load).abs() < 1e-9);
    let target = 20.0 * 60.0;
    let mut n = load.floor() as u32 + 1;
    while 1.0 - erlang_c(n, load) * (-(f64::from(n) - load) * target / mean).exp() < 0.8 {
        n += 1;
    }
    assert_eq!(h8["counters_needed"], n);
    // Counters open for dowody at 8:00 on an average day: counters 1 and 2 were open for the
    // hour on Friday and called only dowody and meldunki; their share is by what they called.
    assert!(h8["counters_open"].as_f64().expect("open") > 0.0);
    // Counters open per case type and hour, from the test's own minute-by-minute count: a
    // counter's open time goes to the case types it called that day, in proportion.
    let buckets = hour_buckets(&w.ledger.spans);
    let mut mix: BTreeMap<(Date, u32), BTreeMap<String, f64>> = BTreeMap::new();
    for r in w.ledger.recs.iter().filter(|r| r.first_called.is_some()) {
        *mix.entry((r.day, r.counter.expect("counter")))
            .or_default()
            .entry(r.ct.clone())
            .or_default() += 1.0;
    }
    let open_for = |ct: &str, hour: u8, days: f64, only: &dyn Fn(Date) -> bool| -> f64 {
        buckets
            .iter()
            .filter(|((d, _, h, k), _)| only(*d) && *h == hour && *k == Kind::Open)
            .map(|((d, c, _, _), ms)| {
                let m = mix.get(&(*d, *c));
                let total: f64 = m.map_or(0.0, |m| m.values().sum());
                let mine = m.and_then(|m| m.get(ct)).copied().unwrap_or(0.0);
                if total > 0.0 {
                    *ms as f64 / 3_600_000.0 * mine / total
                } else {
                    0.0
                }
            })
            .sum::<f64>()
            / days
    };
    for ct in s["case_types"].as_array().expect("cts") {
        let code = ct["code"].as_str().expect("code");
        for h in ct["hours"].as_array().expect("hours") {
            let hour = h["hour"].as_u64().expect("hour") as u8;
            let expected = open_for(code, hour, 3.0, &|d| d <= date("2026-10-25"));
            let got = h["counters_open"].as_f64().expect("open");
            assert!(
                (got - expected).abs() < 1e-9,
                "{code} {hour}: {got} vs {expected}"
            );
        }
    }
    // By hand, across the DST changes (Sundays only, one week): on 2026-03-29 counter 1
    // called only dowody and was open 1:00-2:00 CET and 3:00-4:00 CEST; hour 2 never was.
    let spring = w
        .get("/api/v1/reports/staffing?to=2026-03-29&weeks=1&weekday=7")
        .await;
    assert_eq!(spring["days"], 1);
    let d = spring["case_types"]
        .as_array()
        .expect("cts")
        .iter()
        .find(|c| c["code"] == "dowody")
        .expect("dowody");
    let open: BTreeMap<u64, f64> = d["hours"]
        .as_array()
        .expect("h")
        .iter()
        .map(|h| {
            (
                h["hour"].as_u64().expect("h"),
                h["counters_open"].as_f64().expect("o"),
            )
        })
        .collect();
    assert_eq!(open, BTreeMap::from([(1, 1.0), (3, 1.0)]));
    // On 2026-10-25 counter 2 called one meldunki and one (transferred) dowody ticket and was
    // open from 1:00 CEST to 4:00 CET: hour 2 twice.
    let autumn = w
        .get("/api/v1/reports/staffing?to=2026-10-25&weeks=1&weekday=7")
        .await;
    let m = autumn["case_types"]
        .as_array()
        .expect("cts")
        .iter()
        .find(|c| c["code"] == "meldunki")
        .expect("meldunki");
    let open: BTreeMap<u64, f64> = m["hours"]
        .as_array()
        .expect("h")
        .iter()
        .map(|h| {
            (
                h["hour"].as_u64().expect("h"),
                h["counters_open"].as_f64().expect("o"),
            )
        })
        .collect();
    assert_eq!(open, BTreeMap::from([(1, 0.5), (2, 1.0), (3, 0.5)]));
    let h2 = m["hours"]
        .as_array()
        .expect("h")
        .iter()
        .find(|h| h["hour"] == 2)
        .expect("2");
    assert_eq!(h2["arrivals_per_hour"], 2.0);
    // Bad staffing input.
    for bad in [
        "weeks=0",
        "weeks=53",
        "share=1.5",
        "share=abc",
        "weekday=8",
        "to=2026-02-30",
    ] {
        let resp = w
            .manager
            .get(&format!("/api/v1/reports/staffing?{bad}"))
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    w.app.stop().await;
}

#[tokio::test]
async fn the_public_status_shows_queues_and_nothing_personal() {
    let w = play().await;
    // Anyone may read it, without signing in, from any origin.
    let resp = w
        .app
        .anon
        .get(w.app.url("/api/v1/public/status"))
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let status: Value = resp.json().await.expect("json");
    assert_eq!(status["day"], "2026-10-26");
    let dowody = status["case_types"]
        .as_array()
        .expect("cts")
        .iter()
        .find(|c| c["code"] == "dowody")
        .expect("dowody");
    assert_eq!(dowody["letter"], "A");
    assert_eq!(dowody["last_called"], "A001");
    assert_eq!(dowody["waiting"], 1);
    assert_eq!(dowody["counters_open"], 1);
    assert_eq!(
        dowody["mean_service_min"], 8.0,
        "the configured assumption before any service"
    );
    let keys: BTreeSet<&str> = dowody
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "code",
            "letter",
            "name",
            "last_called",
            "waiting",
            "counters_open",
            "mean_service_min",
            "issuing"
        ])
    );
    // Nothing personal anywhere: no priority, no clerk, no user.
    let text = status.to_string();
    for word in [
        "priority", "ciaza", "anna", "bartek", "operator", "clerk", "user",
    ] {
        assert!(
            !text.contains(word),
            "`{word}` in the public status: {text}"
        );
    }
    let warsaw: Value = w
        .app
        .anon
        .get(w.app.url("/api/v1/public/status/um-warszawa"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(warsaw["result"]["date"], "2026-10-26");
    assert_eq!(warsaw["result"]["time"], "09:30");
    let g = warsaw["result"]["grupy"]
        .as_array()
        .expect("grupy")
        .iter()
        .find(|g| g["literaGrupy"] == "A")
        .expect("A");
    assert_eq!(g["aktualnyNumer"], 1);
    assert_eq!(g["liczbaKlwKolejce"], 1);
    assert_eq!(g["liczbaCzynnychStan"], 1);
    assert_eq!(g["czasObslugi"], "8");
    assert_eq!(g["status"], 1);
    assert_eq!(g["idGrupy"], "dowody");
    assert!(!warsaw.to_string().contains("anna"));
    let resp = w
        .app
        .anon
        .get(w.app.url("/api/v1/public/status?x=1"))
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    w.app.stop().await;
}

#[tokio::test]
async fn reports_are_for_managers_and_bad_input_is_a_clear_error() {
    let clock = Arc::new(ManualClock::new(t("2026-03-27T08:00:00+01:00")));
    let app = TestApp::spawn_with(demo_office(), clock).await;
    let clerk = app.user("anna", "clerk").await;
    let manager = app.user("kierownik", "manager").await;
    for path in [
        "/api/v1/reports/summary",
        "/api/v1/reports/export.csv",
        "/api/v1/reports/staffing",
    ] {
        let resp = app.anon.get(app.url(path)).send().await.expect("GET");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            clerk.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(manager.get(path).await.status(), StatusCode::OK, "{path}");
    }
    // An empty database and an empty day: zeros, no nulls where counts are.
    let r: Value = manager
        .get("/api/v1/reports/summary")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(r["from"], "2026-03-27");
    assert_eq!(r["totals"]["issued"], 0);
    assert_eq!(r["totals"]["wait"]["mean_s"], Value::Null);
    // Empty parameters mean "not given" (as a form sends them).
    let resp = manager
        .get("/api/v1/reports/summary?from=2026-03-01&to=2026-03-31&case_type=&counter=&clerk=")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    for (query, status) in [
        ("from=2026-13-01", StatusCode::UNPROCESSABLE_ENTITY),
        ("from=2026-3-1", StatusCode::UNPROCESSABLE_ENTITY),
        ("from=yesterday", StatusCode::UNPROCESSABLE_ENTITY),
        (
            "from=2026-03-10&to=2026-03-01",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "from=2020-01-01&to=2026-01-01",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("case_type=Bad!", StatusCode::UNPROCESSABLE_ENTITY),
        ("counter=abc", StatusCode::UNPROCESSABLE_ENTITY),
        ("counter=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("clerk=a%20b", StatusCode::UNPROCESSABLE_ENTITY),
        ("name=Jan", StatusCode::BAD_REQUEST),
    ] {
        let resp = manager
            .get(&format!("/api/v1/reports/summary?{query}"))
            .await;
        assert_eq!(resp.status(), status, "{query}");
        let body: Value = resp.json().await.expect("json error");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    let resp = manager
        .get("/api/v1/reports/export.csv?table=everything")
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}
