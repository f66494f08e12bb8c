//! CSV export of a report, for Polish Excel and LibreOffice: UTF-8 with a byte-order mark (so
//! Excel reads the Polish letters), `;` between fields (Polish Excel's list separator, because
//! `,` is the decimal mark), CRLF line ends, durations as whole seconds (plain integers, which
//! every spreadsheet reads as numbers whatever its locale), shares as percentages and other
//! fractions with a decimal comma. Text that a spreadsheet would take for a formula gets a
//! leading apostrophe. The format is documented in docs/STATISTICS.md.

use super::report::{Figures, Report, WorkFigures};

/// The tables a report exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One row per case type, and the total.
    Summary,
    Days,
    Hours,
    Heatmap,
    Counters,
    Clerks,
}

impl Table {
    pub const ALL: [Table; 6] = [
        Table::Summary,
        Table::Days,
        Table::Hours,
        Table::Heatmap,
        Table::Counters,
        Table::Clerks,
    ];
    pub fn parse(s: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == s)
    }
    pub fn name(self) -> &'static str {
        match self {
            Table::Summary => "summary",
            Table::Days => "days",
            Table::Hours => "hours",
            Table::Heatmap => "heatmap",
            Table::Counters => "counters",
            Table::Clerks => "clerks",
        }
    }
    /// The Polish word used in the file name.
    pub fn file_word(self) -> &'static str {
        match self {
            Table::Summary => "podsumowanie",
            Table::Days => "dni",
            Table::Hours => "godziny",
            Table::Heatmap => "tygodniowo",
            Table::Counters => "stanowiska",
            Table::Clerks => "urzednicy",
        }
    }
}

const BOM: &str = "\u{feff}";
const WEEKDAYS: [&str; 7] = [
    "poniedziałek",
    "wtorek",
    "środa",
    "czwartek",
    "piątek",
    "sobota",
    "niedziela",
];

/// A field of text: quoted when it holds `;`, `"` or a line break; an apostrophe in front
/// when it starts like a formula (`=`, `+`, `-`, `@`), so a name never runs as one.
fn text(s: &str) -> String {
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if guarded.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Whole seconds, rounded half away from zero; empty when there is no value.
fn secs(v: Option<f64>) -> String {
    v.map(|s| format!("{}", s.round() as i64))
        .unwrap_or_default()
}

/// A number with `places` decimals and a decimal comma.
fn dec(v: f64, places: usize) -> String {
    format!("{v:.places$}").replace('.', ",")
}

/// A share (0 to 1) as a percentage with one decimal and a decimal comma; empty when none.
fn pct(v: Option<f64>) -> String {
    v.map(|s| dec(s * 100.0, 1)).unwrap_or_default()
}

fn row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    let fields: Vec<String> = fields.into_iter().collect();
    out.push_str(&fields.join(";"));
    out.push_str("\r\n");
}

const FIGURE_HEADERS: [&str; 19] = [
    "Wydane",
    "Obsłużone",
    "Nieobecni",
    "Anulowane",
    "Przekierowane",
    "Z pierwszeństwem",
    "Oczekiwanie: liczba",
    "Oczekiwanie: średnia [s]",
    "Oczekiwanie: mediana [s]",
    "Oczekiwanie: 90. percentyl [s]",
    "Oczekiwanie: maksimum [s]",
    "Obsługa: liczba",
    "Obsługa: średnia [s]",
    "Obsługa: mediana [s]",
    "Obsługa: 90. percentyl [s]",
    "Obsługa: maksimum [s]",
    "Standard: liczone",
    "Standard: w czasie",
    "Standard [%]",
];

fn figure_headers() -> impl Iterator<Item = String> {
    FIGURE_HEADERS.iter().map(|h| (*h).to_owned())
}

fn figure_fields(f: &Figures) -> Vec<String> {
    vec![
        f.issued.to_string(),
        f.served.to_string(),
        f.no_show.to_string(),
        f.cancelled.to_string(),
        f.transferred.to_string(),
        f.priority.to_string(),
        f.wait.count.to_string(),
        secs(f.wait.mean_s),
        secs(f.wait.median_s),
        secs(f.wait.p90_s),
        secs(f.wait.max_s),
        f.service.count.to_string(),
        secs(f.service.mean_s),
        secs(f.service.median_s),
        secs(f.service.p90_s),
        secs(f.service.max_s),
        f.within_target.counted.to_string(),
        f.within_target.met.to_string(),
        pct(f.within_target.share),
    ]
}

fn work_fields(w: &WorkFigures) -> Vec<String> {
    vec![
        w.served.to_string(),
        w.no_show.to_string(),
        secs(Some(w.open_s)),
        secs(Some(w.paused_s)),
        secs(Some(w.busy_s)),
        secs(Some(w.serving_s)),
        secs(Some(w.idle_s)),
        w.served_per_open_hour
            .map(|v| dec(v, 2))
            .unwrap_or_default(),
        pct(w.utilization),
    ]
}

const WORK_HEADERS: [&str; 9] = [
    "Obsłużone",
    "Nieobecni",
    "Otwarte [s]",
    "Przerwy [s]",
    "Zajęte [s]",
    "Obsługa [s]",
    "Bezczynne [s]",
    "Obsłużeni na godzinę",
    "Wykorzystanie [%]",
];

/// The CSV of one table of a report, as bytes (UTF-8 with a BOM).
pub fn render(report: &Report, table: Table) -> Vec<u8> {
    let mut out = String::from(BOM);
    match table {
        Table::Summary => {
            row(
                &mut out,
                ["Rodzaj sprawy", "Kod", "Cel oczekiwania [min]"]
                    .into_iter()
                    .map(str::to_owned)
                    .chain(figure_headers()),
            );
            for c in &report.case_types {
                let mut fields = vec![
                    text(c.name.as_deref().unwrap_or(&c.code)),
                    text(&c.code),
                    c.target_wait_min.map(|t| t.to_string()).unwrap_or_default(),
                ];
                fields.extend(figure_fields(&c.figures));
                row(&mut out, fields);
            }
            let mut fields = vec!["Razem".to_owned(), String::new(), String::new()];
            fields.extend(figure_fields(&report.totals));
            row(&mut out, fields);
        }
        Table::Days => {
            row(
                &mut out,
                ["Dzień", "Dzień tygodnia"]
                    .into_iter()
                    .map(str::to_owned)
                    .chain(figure_headers()),
            );
            for d in &report.by_day {
                let mut fields = vec![d.day.clone(), weekday_name(d.weekday).to_owned()];
                fields.extend(figure_fields(&d.figures));
                row(&mut out, fields);
            }
        }
        Table::Hours => {
            row(
                &mut out,
                [
                    "Godzina",
                    "Przybyli",
                    "Przybyli na dzień",
                    "Oczekiwanie: średnia [s]",
                    "Standard [%]",
                ]
                .map(str::to_owned),
            );
            for h in &report.by_hour {
                row(
                    &mut out,
                    [
                        format!("{}:00", h.hour),
                        h.arrivals.to_string(),
                        dec(h.arrivals_per_day, 2),
                        secs(h.wait_mean_s),
                        pct(h.within_target_share),
                    ],
                );
            }
        }
        Table::Heatmap => {
            row(
                &mut out,
                [
                    "Dzień tygodnia",
                    "Godzina",
                    "Dni",
                    "Przybyli",
                    "Przybyli na dzień",
                    "Oczekiwanie: średnia [s]",
                ]
                .map(str::to_owned),
            );
            for c in &report.heatmap {
                row(
                    &mut out,
                    [
                        weekday_name(c.weekday).to_owned(),
                        format!("{}:00", c.hour),
                        c.days.to_string(),
                        c.arrivals.to_string(),
                        dec(c.arrivals_per_day, 2),
                        secs(c.wait_mean_s),
                    ],
                );
            }
        }
        Table::Counters => {
            row(
                &mut out,
                std::iter::once("Stanowisko".to_owned())
                    .chain(WORK_HEADERS.iter().map(|h| (*h).to_owned())),
            );
            for w in &report.counters {
                let mut fields = vec![w.counter.map(|c| c.to_string()).unwrap_or_default()];
                fields.extend(work_fields(w));
                row(&mut out, fields);
            }
        }
        Table::Clerks => {
            row(
                &mut out,
                std::iter::once("Urzędnik".to_owned())
                    .chain(WORK_HEADERS.iter().map(|h| (*h).to_owned())),
            );
            for w in &report.clerks {
                let mut fields = vec![text(w.clerk.as_deref().unwrap_or(""))];
                fields.extend(work_fields(w));
                row(&mut out, fields);
            }
        }
    }
    out.into_bytes()
}

fn weekday_name(w: u8) -> &'static str {
    WEEKDAYS
        .get(usize::from(w.saturating_sub(1)))
        .copied()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_safe_for_spreadsheets() {
        assert_eq!(text("Dowody osobiste"), "Dowody osobiste");
        assert_eq!(text("a;b"), "\"a;b\"");
        assert_eq!(text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text("=1+2"), "'=1+2");
        assert_eq!(text("@admin"), "'@admin");
        assert_eq!(text("-x;y"), "\"'-x;y\"");
        assert_eq!(secs(Some(12.5)), "13");
        assert_eq!(secs(Some(12.4999)), "12");
        assert_eq!(secs(None), "");
        assert_eq!(pct(Some(0.875)), "87,5");
        assert_eq!(pct(Some(1.0)), "100,0");
        assert_eq!(dec(2.0 / 3.0, 2), "0,67");
    }
}
