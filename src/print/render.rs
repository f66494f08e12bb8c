//! A queue ticket as ESC/POS bytes for one printer profile.
//!
//! The ticket's texts arrive already in the citizen's language; the labels ("people ahead",
//! "estimated wait", ...) are written here in Polish, Ukrainian and English. Every character
//! reaches the printer as a byte of one of the profile's tables: Polish through the Polish
//! table, Ukrainian through the Cyrillic table (switching `ESC t` mid-ticket, and mid-line
//! where a line mixes scripts) or as an image, and anything else as a look-alike or a
//! transliteration. No UTF-8 byte ever reaches the printer.

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption};
use serde::{Deserialize, Serialize};

use super::codepage::{fallback, is_cyrillic};
use super::profile::{CutMode, Profile, TableSelect, UkrainianMode};
use super::raster::{self, TextStyle};
use crate::engine::{Lang, TicketNumber};

/// What is printed on a ticket, with every text already in the ticket's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketPrint {
    pub office_name: String,
    pub case_type_name: String,
    pub number: TicketNumber,
    pub people_ahead: u32,
    /// The honest estimate, in minutes; `None` prints no estimate.
    pub estimated_wait_min: Option<i64>,
    /// Date and time of issue, already formatted in local time.
    pub issued_at_local: String,
    /// What to bring; line breaks start new paragraphs, each word-wrapped to the paper.
    pub documents: String,
    /// The link a phone opens to follow the ticket, printed as a QR code.
    pub qr_url: Option<String>,
    pub footer: String,
    pub lang: Lang,
}

/// The fixed texts of a ticket in one language.
struct Labels {
    people_ahead: &'static str,
    estimated_wait: &'static str,
    about: &'static str,
    minutes: &'static str,
    under_a_minute: &'static str,
    issued: &'static str,
    documents: &'static str,
    qr_hint: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::Pl => Labels {
            people_ahead: "Liczba osób przed Tobą",
            estimated_wait: "Przewidywany czas oczekiwania",
            about: "ok.",
            minutes: "min",
            under_a_minute: "poniżej\u{a0}1\u{a0}min",
            issued: "Wydano",
            documents: "Potrzebne dokumenty:",
            qr_hint: "Zeskanuj kod, aby śledzić kolejkę w telefonie",
        },
        Lang::Uk => Labels {
            people_ahead: "Кількість осіб перед вами",
            estimated_wait: "Орієнтовний час очікування",
            about: "близько",
            minutes: "хв",
            under_a_minute: "менше\u{a0}1\u{a0}хв",
            issued: "Видано",
            documents: "Потрібні документи:",
            qr_hint: "Відскануйте код, щоб стежити за чергою в телефоні",
        },
        Lang::En => Labels {
            people_ahead: "People ahead of you",
            estimated_wait: "Estimated waiting time",
            about: "about",
            minutes: "min",
            under_a_minute: "under\u{a0}1\u{a0}min",
            issued: "Issued",
            documents: "Documents to bring:",
            qr_hint: "Scan the code to follow the queue on your phone",
        },
    }
}

/// A no-break space: wrapping never breaks a line there.
const NBSP: char = '\u{a0}';

/// Character size: `GS ! n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    Normal,
    /// Double height.
    Tall,
    /// Double width and height.
    Double,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Style {
    bold: bool,
    size: Size,
    center: bool,
}

const BODY: Style = Style {
    bold: false,
    size: Size::Normal,
    center: true,
};
const BODY_LEFT: Style = Style {
    bold: false,
    size: Size::Normal,
    center: false,
};

/// Renders a ticket for a printer.
pub fn render(profile: &Profile, t: &TicketPrint) -> Vec<u8> {
    let l = labels(t.lang);
    let mut out = Out::new(profile);
    out.bytes.extend_from_slice(&profile.init);
    // Select the Polish table at once, so the ticket never depends on the power-on table.
    out.select(profile.polish);

    out.paragraph(&t.office_name, Style { bold: true, ..BODY });
    out.rule();
    out.paragraph(
        &t.case_type_name,
        Style {
            bold: true,
            size: Size::Tall,
            center: true,
        },
    );
    out.feed();
    out.paragraph(
        &t.number.to_string(),
        Style {
            bold: true,
            size: Size::Double,
            center: true,
        },
    );
    out.feed();
    out.paragraph(
        &format!("{}:\u{a0}{}", l.people_ahead, t.people_ahead),
        BODY,
    );
    if let Some(min) = t.estimated_wait_min {
        let wait = if min < 1 {
            l.under_a_minute.to_owned()
        } else {
            // No-break spaces keep "ok. 25 min" on one line.
            format!("{}\u{a0}{min}\u{a0}{}", l.about, l.minutes)
        };
        out.paragraph(&format!("{}: {wait}", l.estimated_wait), BODY);
    }
    out.paragraph(&format!("{}: {}", l.issued, t.issued_at_local), BODY);

    if !t.documents.trim().is_empty() {
        out.rule();
        out.paragraph(
            l.documents,
            Style {
                bold: true,
                ..BODY_LEFT
            },
        );
        for paragraph in t.documents.lines() {
            out.paragraph(paragraph, BODY_LEFT);
        }
    }
    if let Some(url) = t.qr_url.as_deref().filter(|u| !u.trim().is_empty()) {
        out.rule();
        out.paragraph(l.qr_hint, BODY);
        out.qr(url);
    }
    if !t.footer.trim().is_empty() {
        out.feed();
        out.paragraph(&t.footer, BODY);
    }
    out.finish();
    out.bytes
}

/// The ESC/POS stream being written, with the printer state it has set so far, so that a
/// command is only sent when something changes.
struct Out<'p> {
    profile: &'p Profile,
    bytes: Vec<u8>,
    table: Option<TableSelect>,
    style: Option<Style>,
}

impl<'p> Out<'p> {
    fn new(profile: &'p Profile) -> Self {
        Self {
            profile,
            bytes: Vec::with_capacity(2048),
            table: None,
            style: None,
        }
    }

    /// Whether Cyrillic is printed as text through the Cyrillic table.
    fn cyrillic_as_text(&self) -> bool {
        self.profile.ukrainian == UkrainianMode::Codepage && self.profile.cyrillic.is_some()
    }

    fn select(&mut self, table: TableSelect) {
        if self.table != Some(table) {
            self.bytes
                .extend_from_slice(&self.profile.select_table(table));
            self.table = Some(table);
        }
    }

    fn set_style(&mut self, style: Style) {
        let old = self.style;
        if old.map(|s| s.center) != Some(style.center) {
            self.bytes
                .extend_from_slice(&[0x1B, 0x61, u8::from(style.center)]);
        }
        if old.map(|s| s.bold) != Some(style.bold) {
            self.bytes
                .extend_from_slice(&[0x1B, 0x45, u8::from(style.bold)]);
        }
        if old.map(|s| s.size) != Some(style.size) {
            let n = match style.size {
                Size::Normal => 0x00,
                Size::Tall => 0x01,
                Size::Double => 0x11,
            };
            self.bytes.extend_from_slice(&[0x1D, 0x21, n]);
        }
        self.style = Some(style);
    }

    fn feed(&mut self) {
        self.bytes.push(b'\n');
    }

    fn rule(&mut self) {
        self.set_style(BODY);
        let width = usize::from(self.profile.width_chars);
        self.bytes.extend(std::iter::repeat_n(b'-', width));
        self.feed();
    }

    /// One paragraph: word-wrapped to the paper, printed as text, or drawn as an image when it
    /// holds Cyrillic and the profile prints Cyrillic as images.
    fn paragraph(&mut self, text: &str, style: Style) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        if self.profile.ukrainian == UkrainianMode::Raster
            && text.chars().any(is_cyrillic)
            && let Some(font) = raster::font()
        {
            let text_style = TextStyle {
                px: match style.size {
                    Size::Normal => 22,
                    Size::Tall => 30,
                    Size::Double => 44,
                },
                bold: style.bold,
                center: style.center,
            };
            let width = usize::from(self.profile.width_dots);
            let clean: String = text
                .chars()
                .map(|c| {
                    if c.is_whitespace() && c != NBSP {
                        ' '
                    } else {
                        c
                    }
                })
                .filter(|c| !c.is_control())
                .collect();
            let lines: Vec<String> = raster::wrap_dots(font, &clean, text_style, width)
                .into_iter()
                .map(|l| l.replace(NBSP, " "))
                .collect();
            let bitmap = raster::draw_lines(font, &lines, text_style, width);
            // The image carries the size and weight; the printer's own styles stay plain.
            self.set_style(Style {
                bold: false,
                size: Size::Normal,
                center: style.center,
            });
            self.bytes.extend_from_slice(&bitmap.to_escpos());
            return;
        }
        self.set_style(style);
        let printable = self.printable(text);
        let columns = match style.size {
            Size::Double => usize::from(self.profile.width_chars) / 2,
            Size::Normal | Size::Tall => usize::from(self.profile.width_chars),
        };
        for line in wrap_by(&printable, columns, |s| s.chars().count()) {
            self.encode_line(&line.replace(NBSP, " "));
            self.feed();
        }
    }

    /// Whether a character can be printed as text on this printer. The Cyrillic table is used
    /// for Cyrillic letters, and for other characters only in a paragraph that has Cyrillic
    /// (`cyrillic_paragraph`): a Polish ticket never depends on the Cyrillic table.
    fn can_print(&self, c: char, cyrillic_paragraph: bool) -> bool {
        self.profile.polish.page.encode(c).is_some()
            || (self.cyrillic_as_text()
                && (cyrillic_paragraph || is_cyrillic(c))
                && self
                    .profile
                    .cyrillic
                    .is_some_and(|t| t.page.encode(c).is_some()))
    }

    /// The text with every character the printer cannot print replaced by a look-alike or a
    /// transliteration (before wrapping, so that the line lengths are right).
    fn printable(&self, text: &str) -> String {
        let cyrillic_paragraph = text.chars().any(is_cyrillic);
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c == NBSP {
                // Kept until the line is wrapped, then printed as a space.
                out.push(NBSP);
            } else if c.is_whitespace() {
                out.push(' ');
            } else if c.is_control() {
                continue;
            } else {
                self.push_printable(c, cyrillic_paragraph, 0, &mut out);
            }
        }
        out
    }

    fn push_printable(&self, c: char, cyrillic_paragraph: bool, depth: u8, out: &mut String) {
        if self.can_print(c, cyrillic_paragraph) {
            out.push(c);
            return;
        }
        match fallback(c) {
            Some(replacement) if depth < 2 => {
                for r in replacement.chars() {
                    self.push_printable(r, cyrillic_paragraph, depth + 1, out);
                }
            }
            // Nothing printable is like this character (an emoji, a Chinese character).
            _ => out.push('?'),
        }
    }

    /// Encodes one line of printable text, switching tables where a character needs it.
    fn encode_line(&mut self, line: &str) {
        for c in line.chars() {
            if (' '..='~').contains(&c) {
                self.bytes.push(c as u8);
                continue;
            }
            let current = self.table.and_then(|t| t.page.encode(c));
            if let Some(b) = current {
                self.bytes.push(b);
                continue;
            }
            let polish = self.profile.polish;
            if let Some(b) = polish.page.encode(c) {
                self.select(polish);
                self.bytes.push(b);
                continue;
            }
            if self.cyrillic_as_text()
                && let Some(cyrillic) = self.profile.cyrillic
                && let Some(b) = cyrillic.page.encode(c)
            {
                self.select(cyrillic);
                self.bytes.push(b);
                continue;
            }
            // `printable` leaves no such character; never send anything but a table byte.
            self.bytes.push(b'?');
        }
    }

    fn qr(&mut self, url: &str) {
        self.set_style(BODY);
        let module = self.profile.qr_module_dots;
        if self.profile.native_qr
            && let Some(bytes) = native_qr(url, module)
        {
            self.bytes.extend_from_slice(&bytes);
            self.feed();
            return;
        }
        match raster::qr_bitmap(
            url,
            usize::from(module),
            usize::from(self.profile.width_dots),
        ) {
            Some(bitmap) => self.bytes.extend_from_slice(&bitmap.to_escpos()),
            // Too long for a QR code: print the link itself, which a person can still type.
            None => {
                let printable = self.printable(url);
                let width = usize::from(self.profile.width_chars);
                for line in wrap_by(&printable, width, |s| s.chars().count()) {
                    self.encode_line(&line);
                    self.feed();
                }
            }
        }
    }

    /// Resets the styles, feeds the ticket past the cutter and cuts.
    fn finish(&mut self) {
        self.set_style(BODY_LEFT);
        let feed = self.profile.feed_lines;
        if feed > 0 {
            self.bytes.extend_from_slice(&[0x1B, 0x64, feed]);
        }
        match self.profile.cut {
            CutMode::Full => self.bytes.extend_from_slice(&[0x1D, 0x56, 0x00]),
            CutMode::Partial => self.bytes.extend_from_slice(&[0x1D, 0x56, 0x01]),
            CutMode::None => {}
        }
    }
}

/// Collects what `escpos` writes, to take its QR command as bytes.
#[derive(Default, Clone)]
struct Capture(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Driver for Capture {
    fn name(&self) -> String {
        "capture".to_owned()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// The native QR command (`GS ( k`: model 2, module size, error correction M, store, print),
/// built by `escpos`; `None` if the data is too long for it.
fn native_qr(url: &str, module: u8) -> Option<Vec<u8>> {
    let capture = Capture::default();
    let mut printer = Printer::new(capture.clone(), Protocol::default(), None);
    printer
        .qrcode_option(
            url,
            QRCodeOption::new(QRCodeModel::Model2, module, QRCodeCorrectionLevel::M),
        )
        .ok()?
        .print()
        .ok()?;
    let bytes = capture.0.borrow().clone();
    Some(bytes)
}

/// Splits a paragraph into lines at most `width` wide as `measure` counts, breaking between
/// words; a word wider than a line is broken where it must be.
pub(crate) fn wrap_by(text: &str, width: usize, measure: impl Fn(&str) -> usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if measure(&candidate) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // The word alone: break it if it is wider than a line.
        let mut piece = String::new();
        for c in word.chars() {
            piece.push(c);
            if measure(&piece) > width && piece.chars().count() > 1 {
                piece.pop();
                lines.push(std::mem::take(&mut piece));
                piece.push(c);
            }
        }
        line = piece;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(s: &str) -> usize {
        s.chars().count()
    }

    #[test]
    fn wrapping_breaks_between_words_and_inside_long_ones() {
        assert_eq!(
            wrap_by("Dowód osobisty albo paszport", 14, count),
            ["Dowód osobisty", "albo paszport"]
        );
        assert_eq!(wrap_by("abcdefghij", 4, count), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap_by("  a   b ", 10, count), ["a b"]);
        assert!(wrap_by("", 10, count).is_empty());
    }

    #[test]
    fn the_native_qr_command_is_model_2_with_the_url() {
        let bytes = native_qr("https://k.example/t/A1", 6).expect("qr");
        assert!(bytes.starts_with(&[0x1D, 0x28, 0x6B, 4, 0, 49, 65, 50, 0]));
        let url = b"https://k.example/t/A1";
        assert!(bytes.windows(url.len()).any(|w| w == url));
        assert!(bytes.ends_with(&[0x1D, 0x28, 0x6B, 3, 0, 49, 81, 48]));
    }
}
