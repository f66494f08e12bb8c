//! Printer profiles: what one model of thermal printer needs to print a ticket correctly.
//!
//! ESC/POS is a family, not one standard: the number that selects a code page, whether the
//! printer has a cutter, understands the native QR command or answers status requests, and
//! whether a cheap clone must first leave its Chinese double-byte mode all differ by brand. A
//! profile is a small TOML file under `printer-profiles/` (the format is documented in each
//! file's comments); the ones shipped with kolejka are also built into the binary, so a server
//! without that folder still prints.
//!
//! Loading a profile checks it the way `crate::config` checks the office file: every problem
//! found is reported with file, line, column and field, so an IT person can fix the file in one
//! go.

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::codepage::CodePage;
use crate::config::Problem;

/// How Ukrainian (Cyrillic) text reaches the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UkrainianMode {
    /// Switch `ESC t` to the profile's Cyrillic table for the Cyrillic runs of a line, and back.
    Codepage,
    /// Draw each line that holds Cyrillic as a `GS v 0` raster image, which every ESC/POS
    /// printer prints whatever its tables.
    Raster,
}

/// How the paper is cut at the end of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CutMode {
    /// `GS V 0`.
    Full,
    /// `GS V 1`: leaves a hinge, so tickets do not fall on the floor.
    Partial,
    /// The printer has no cutter (the citizen tears the ticket off).
    None,
}

/// A code page as a profile selects it: which table and the number `n` of `ESC t n` (or of
/// the profile's own code-page command) that selects it on this printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableSelect {
    pub page: CodePage,
    pub number: u8,
}

/// A checked printer profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The file name without `.toml`, like `epson-tm-t88`; printers refer to profiles by it.
    pub id: String,
    /// A name for people, like "Epson TM-T20 / TM-T88 (80 mm)".
    pub name: String,
    /// Characters per line in font A (12 × 24 dots).
    pub width_chars: u16,
    /// Printable width in dots (a multiple of 8, as raster images are sent in bytes).
    pub width_dots: u16,
    /// Bytes sent first in every job (such as `FS .` then `ESC @`).
    pub init: Vec<u8>,
    /// The command that selects a character table; the table number follows it.
    pub codepage_command: Vec<u8>,
    pub polish: TableSelect,
    pub cyrillic: Option<TableSelect>,
    pub ukrainian: UkrainianMode,
    pub cut: CutMode,
    /// Lines fed before the cut, so that the last line clears the cutter.
    pub feed_lines: u8,
    /// Whether the printer draws QR codes itself (`GS ( k`); otherwise we send an image.
    pub native_qr: bool,
    /// Whether the printer answers real-time status requests (`DLE EOT n`).
    pub status: bool,
    /// The size of one QR module, in dots.
    pub qr_module_dots: u8,
}

impl Profile {
    /// The bytes that select a table: the code-page command followed by its number.
    pub fn select_table(&self, table: TableSelect) -> Vec<u8> {
        let mut bytes = self.codepage_command.clone();
        bytes.push(table.number);
        bytes
    }

    /// The page selected by a table number on this printer, if the profile uses it.
    pub fn page_for_number(&self, number: u8) -> Option<CodePage> {
        if self.polish.number == number {
            Some(self.polish.page)
        } else {
            self.cyrillic.filter(|c| c.number == number).map(|c| c.page)
        }
    }
}

/// Why a printer profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{file}: cannot read the printer profile: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// Every problem found, in file order; displayed one per line.
    #[error("{}", .0.iter().map(Problem::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl ProfileError {
    pub fn problems(&self) -> &[Problem] {
        match self {
            ProfileError::Read { .. } => &[],
            ProfileError::Invalid(problems) => problems,
        }
    }
}

/// The profiles shipped with kolejka: (id, text).
const BUILTIN: [(&str, &str); 4] = [
    (
        "epson-tm-t88",
        include_str!("../../printer-profiles/epson-tm-t88.toml"),
    ),
    (
        "generic-58mm",
        include_str!("../../printer-profiles/generic-58mm.toml"),
    ),
    (
        "generic-80mm",
        include_str!("../../printer-profiles/generic-80mm.toml"),
    ),
    (
        "star-escpos",
        include_str!("../../printer-profiles/star-escpos.toml"),
    ),
];

/// The profiles built into the binary, in name order.
pub fn builtin_profiles() -> Vec<Profile> {
    BUILTIN
        .iter()
        .map(|(id, text)| {
            // A unit test proves that every built-in profile parses.
            parse_profile(text, &format!("printer-profiles/{id}.toml"), id)
                .expect("the built-in printer profiles are valid")
        })
        .collect()
}

/// One built-in profile by id, like `epson-tm-t88`.
pub fn builtin_profile(id: &str) -> Option<Profile> {
    builtin_profiles().into_iter().find(|p| p.id == id)
}

/// Reads and checks a profile file; its id is the file name without `.toml`.
pub fn load_profile(path: &Path) -> Result<Profile, ProfileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
        file: file.clone(),
        source,
    })?;
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    parse_profile(&text, &file, &id)
}

/// The built-in profiles, with those of a folder's `*.toml` files added or replacing the
/// built-in profile of the same id. A folder that does not exist is not an error (the
/// built-in profiles are enough); a broken file in it is.
pub fn load_profiles(dir: Option<&Path>) -> Result<Vec<Profile>, ProfileError> {
    let mut profiles = builtin_profiles();
    let Some(dir) = dir.filter(|d| d.is_dir()) else {
        return Ok(profiles);
    };
    let entries = std::fs::read_dir(dir).map_err(|source| ProfileError::Read {
        file: dir.display().to_string(),
        source,
    })?;
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let profile = load_profile(&path)?;
        profiles.retain(|p| p.id != profile.id);
        profiles.push(profile);
    }
    profiles.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(profiles)
}

/// Checks the text of a profile; `file_name` is only used in problem reports.
pub fn parse_profile(text: &str, file_name: &str, id: &str) -> Result<Profile, ProfileError> {
    let mut p = Problems {
        text,
        file: file_name,
        found: Vec::new(),
    };
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        for e in &syntax_errors {
            let span = e.span().unwrap_or(0..0);
            let field = path_at(root.get_ref(), span.start);
            p.add(span, field, format!("invalid TOML: {}", e.message()));
        }
        return Err(p.into_error());
    }
    let whole = Spanned::new(0..text.len(), DeValue::Table(root.get_ref().clone()));
    let raw = match RawProfile::deserialize(ValueDeserializer::from(whole)) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let field = path_at(root.get_ref(), span.start);
            p.add(span, field, e.message().to_owned());
            return Err(p.into_error());
        }
    };
    match validate(&raw, id, &mut p) {
        Some(profile) if p.found.is_empty() => Ok(profile),
        _ => Err(p.into_error()),
    }
}

/// The profile as written, with spans for the checks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a printer profile")]
struct RawProfile {
    name: Spanned<String>,
    width_chars: Spanned<i64>,
    width_dots: Spanned<i64>,
    init: Spanned<Vec<Spanned<i64>>>,
    codepage_command: Option<Spanned<Vec<Spanned<i64>>>>,
    polish: Spanned<RawTable>,
    cyrillic: Option<Spanned<RawTable>>,
    ukrainian: Spanned<String>,
    cut: Spanned<RawCut>,
    native_qr: Spanned<bool>,
    status: Spanned<bool>,
    qr_module_dots: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a code page, like { table = \"cp852\", number = 18 }"
)]
struct RawTable {
    table: Spanned<String>,
    number: Spanned<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a cut, like { mode = \"partial\", feed_lines = 4 }"
)]
struct RawCut {
    mode: Spanned<String>,
    feed_lines: Spanned<i64>,
}

/// Font A is 12 dots wide on every printer we know.
const FONT_A_DOTS: i64 = 12;

fn validate(raw: &RawProfile, id: &str, p: &mut Problems<'_>) -> Option<Profile> {
    let name = raw.name.get_ref().trim();
    if name.is_empty() {
        p.add(
            raw.name.span(),
            "name",
            "the name is empty; give the printer model, like \"Epson TM-T20\"",
        );
    }
    let width_chars = int_in(&raw.width_chars, "width_chars", 24..=80, p);
    let width_dots = int_in(&raw.width_dots, "width_dots", 256..=832, p).and_then(|d| {
        if d % 8 != 0 {
            p.add(
                raw.width_dots.span(),
                "width_dots",
                format!("{d} is not a multiple of 8 (576 for 80 mm paper, 384 for 58 mm)"),
            );
            None
        } else {
            Some(d)
        }
    });
    if let (Some(chars), Some(dots)) = (width_chars, width_dots)
        && chars * FONT_A_DOTS > dots
    {
        p.add(
            raw.width_chars.span(),
            "width_chars",
            format!(
                "{chars} characters of font A ({FONT_A_DOTS} dots each) do not fit in \
                 width_dots = {dots}; at most {} fit",
                dots / FONT_A_DOTS
            ),
        );
    }
    let init = bytes(&raw.init, "init", 0..=64, p);
    let codepage_command = match &raw.codepage_command {
        Some(c) => bytes(c, "codepage_command", 1..=4, p),
        None => Some(vec![0x1B, 0x74]),
    };
    let polish = table(&raw.polish, "polish", true, p);
    let cyrillic = raw
        .cyrillic
        .as_ref()
        .map(|c| table(c, "cyrillic", false, p));
    if let (Some(pl), Some(Some(cy))) = (polish, cyrillic)
        && pl.number == cy.number
    {
        p.add(
            raw.cyrillic
                .as_ref()
                .map_or(0..0, |c| c.get_ref().number.span()),
            "cyrillic.number",
            format!(
                "table number {} is already the Polish table; each table has its own number",
                cy.number
            ),
        );
    }
    let ukrainian = match raw.ukrainian.get_ref().as_str() {
        "codepage" => {
            if raw.cyrillic.is_none() {
                p.add(
                    raw.ukrainian.span(),
                    "ukrainian",
                    "\"codepage\" needs a [cyrillic] table (table and number); without one, \
                     use \"raster\"",
                );
            }
            Some(UkrainianMode::Codepage)
        }
        "raster" => Some(UkrainianMode::Raster),
        other => {
            p.add(
                raw.ukrainian.span(),
                "ukrainian",
                format!(
                    "unknown way to print Ukrainian `{other}`, expected \"codepage\" (switch to \
                     the Cyrillic table) or \"raster\" (print it as an image)"
                ),
            );
            None
        }
    };
    let cut_raw = raw.cut.get_ref();
    let cut = match cut_raw.mode.get_ref().as_str() {
        "full" => Some(CutMode::Full),
        "partial" => Some(CutMode::Partial),
        "none" => Some(CutMode::None),
        other => {
            p.add(
                cut_raw.mode.span(),
                "cut.mode",
                format!("unknown cut `{other}`, expected \"full\", \"partial\" or \"none\""),
            );
            None
        }
    };
    let feed_lines = int_in(&cut_raw.feed_lines, "cut.feed_lines", 0..=20, p);
    let qr_module_dots = match &raw.qr_module_dots {
        Some(m) => int_in(m, "qr_module_dots", 1..=16, p),
        None => width_dots.map(|d| (d / 96).clamp(1, 16)),
    };

    Some(Profile {
        id: id.to_owned(),
        name: name.to_owned(),
        width_chars: u16::try_from(width_chars?).ok()?,
        width_dots: u16::try_from(width_dots?).ok()?,
        init: init?,
        codepage_command: codepage_command?,
        polish: polish?,
        cyrillic: cyrillic.flatten(),
        ukrainian: ukrainian?,
        cut: cut?,
        feed_lines: u8::try_from(feed_lines?).ok()?,
        native_qr: *raw.native_qr.get_ref(),
        status: *raw.status.get_ref(),
        qr_module_dots: u8::try_from(qr_module_dots?).ok()?,
    })
}

fn int_in(
    value: &Spanned<i64>,
    field: &str,
    range: std::ops::RangeInclusive<i64>,
    p: &mut Problems<'_>,
) -> Option<i64> {
    let v = *value.get_ref();
    if range.contains(&v) {
        Some(v)
    } else {
        p.add(
            value.span(),
            field,
            format!(
                "{v} is out of range, expected {} to {}",
                range.start(),
                range.end()
            ),
        );
        None
    }
}

fn bytes(
    value: &Spanned<Vec<Spanned<i64>>>,
    field: &str,
    len: std::ops::RangeInclusive<usize>,
    p: &mut Problems<'_>,
) -> Option<Vec<u8>> {
    let list = value.get_ref();
    if !len.contains(&list.len()) {
        p.add(
            value.span(),
            field,
            format!(
                "{} bytes, expected {} to {}",
                list.len(),
                len.start(),
                len.end()
            ),
        );
        return None;
    }
    let mut out = Vec::with_capacity(list.len());
    let mut ok = true;
    for (i, b) in list.iter().enumerate() {
        match u8::try_from(*b.get_ref()) {
            Ok(byte) => out.push(byte),
            Err(_) => {
                p.add(
                    b.span(),
                    format!("{field}[{i}]"),
                    format!(
                        "{} is not a byte, expected 0 to 255 (0x00 to 0xFF)",
                        b.get_ref()
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn table(
    raw: &Spanned<RawTable>,
    section: &str,
    latin2: bool,
    p: &mut Problems<'_>,
) -> Option<TableSelect> {
    let raw = raw.get_ref();
    let name = raw.table.get_ref();
    let expected = if latin2 {
        CodePage::LATIN2_NAMES
    } else {
        CodePage::CYRILLIC_NAMES
    };
    let page = match CodePage::from_name(name) {
        Some(page) if page.is_latin2() == latin2 => Some(page),
        Some(page) => {
            p.add(
                raw.table.span(),
                format!("{section}.table"),
                format!("{page} is not a {section} table, expected {expected}"),
            );
            None
        }
        None => {
            p.add(
                raw.table.span(),
                format!("{section}.table"),
                format!("unknown code page `{name}`, expected {expected}"),
            );
            None
        }
    };
    let number = int_in(&raw.number, &format!("{section}.number"), 0..=255, p)
        .and_then(|n| u8::try_from(n).ok());
    Some(TableSelect {
        page: page?,
        number: number?,
    })
}

/// Collects problems, turning byte spans into lines and columns as `crate::config` does.
struct Problems<'a> {
    text: &'a str,
    file: &'a str,
    found: Vec<(usize, Problem)>,
}

impl Problems<'_> {
    fn add(&mut self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
        let mut offset = span.start.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = self.text.get(..offset).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let problem = Problem {
            file: self.file.to_owned(),
            line: before.matches('\n').count() + 1,
            column: before.get(line_start..).unwrap_or_default().chars().count() + 1,
            field: field.into(),
            message: message.into(),
        };
        self.found.push((offset, problem));
    }

    fn into_error(mut self) -> ProfileError {
        self.found.sort_by_key(|(offset, _)| *offset);
        ProfileError::Invalid(self.found.into_iter().map(|(_, p)| p).collect())
    }
}

/// The field at a byte offset, like `cut.mode` or `init[2]`: the deepest key or value whose
/// span holds it (a table opened by a header spans only the header, so all keys are searched).
fn path_at(root: &DeTable<'_>, offset: usize) -> String {
    fn holds(span: Range<usize>, offset: usize) -> bool {
        span.contains(&offset) || (span.is_empty() && span.start == offset)
    }
    fn walk_table(
        t: &DeTable<'_>,
        offset: usize,
        path: &str,
        depth: usize,
        best: &mut (usize, String),
    ) {
        for (key, value) in t.iter() {
            let here = if path.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{path}.{}", key.get_ref())
            };
            if holds(key.span(), offset) && depth + 1 > best.0 {
                *best = (depth + 1, here.clone());
            }
            walk_value(value, offset, &here, depth + 1, best);
        }
    }
    fn walk_value(
        v: &Spanned<DeValue<'_>>,
        offset: usize,
        path: &str,
        depth: usize,
        best: &mut (usize, String),
    ) {
        if holds(v.span(), offset) && depth > best.0 {
            *best = (depth, path.to_owned());
        }
        match v.get_ref() {
            DeValue::Table(t) => walk_table(t, offset, path, depth, best),
            DeValue::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    walk_value(item, offset, &format!("{path}[{i}]"), depth + 1, best);
                }
            }
            _ => {}
        }
    }
    let mut best = (0, String::new());
    walk_table(root, offset, "", 0, &mut best);
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_parse_and_have_distinct_ids() {
        let profiles = builtin_profiles();
        let ids: Vec<_> = profiles.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "epson-tm-t88",
                "generic-58mm",
                "generic-80mm",
                "star-escpos"
            ]
        );
        let epson = &profiles[0];
        assert_eq!(epson.polish.number, 18);
        assert_eq!(epson.width_dots, 512);
        let clone = &profiles[1];
        assert_eq!(clone.init.get(..2), Some(&[0x1C, 0x2E][..]));
        assert_eq!(clone.width_chars, 32);
    }

    #[test]
    fn the_files_in_the_folder_are_the_built_in_ones() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("printer-profiles");
        let loaded = load_profiles(Some(&dir)).expect("profiles load");
        assert_eq!(loaded, builtin_profiles());
        assert_eq!(
            load_profiles(Some(Path::new("/nonexistent"))).ok(),
            Some(builtin_profiles())
        );
    }

    fn problems(text: &str) -> Vec<String> {
        match parse_profile(text, "p.toml", "p") {
            Ok(_) => vec![],
            Err(e) => e.problems().iter().map(Problem::to_string).collect(),
        }
    }

    const GOOD: &str = r#"name = "Test"
width_chars = 48
width_dots = 576
init = [0x1B, 0x40]
ukrainian = "codepage"
native_qr = true
status = false

[polish]
table = "cp852"
number = 18

[cyrillic]
table = "wpc1251"
number = 46

[cut]
mode = "partial"
feed_lines = 4
"#;

    #[test]
    fn a_good_profile_parses_with_defaults() {
        let p = parse_profile(GOOD, "p.toml", "p").expect("valid");
        assert_eq!(p.codepage_command, [0x1B, 0x74]);
        assert_eq!(p.qr_module_dots, 6);
        assert_eq!(p.select_table(p.polish), [0x1B, 0x74, 18]);
        assert_eq!(p.page_for_number(46), Some(CodePage::Wpc1251));
    }

    #[test]
    fn semantic_problems_name_line_column_and_field() {
        let bad = GOOD
            .replace("width_dots = 576", "width_dots = 570")
            .replace("init = [0x1B, 0x40]", "init = [0x1B, 300]")
            .replace("table = \"cp852\"", "table = \"wpc1251\"")
            .replace("mode = \"partial\"", "mode = \"half\"");
        assert_eq!(
            problems(&bad),
            [
                "p.toml:3:14: width_dots: 570 is not a multiple of 8 (576 for 80 mm paper, 384 for 58 mm)",
                "p.toml:4:15: init[1]: 300 is not a byte, expected 0 to 255 (0x00 to 0xFF)",
                "p.toml:10:9: polish.table: wpc1251 is not a polish table, expected \"cp852\", \"wpc1250\" or \"iso8859-2\"",
                "p.toml:18:8: cut.mode: unknown cut `half`, expected \"full\", \"partial\" or \"none\"",
            ]
        );
    }

    #[test]
    fn codepage_mode_needs_a_cyrillic_table() {
        let bad = GOOD.replace("[cyrillic]\ntable = \"wpc1251\"\nnumber = 46\n", "");
        let found = problems(&bad);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("p.toml:5:13: ukrainian: \"codepage\" needs"),
            "{found:?}"
        );
    }

    #[test]
    fn unknown_keys_and_syntax_errors_are_located() {
        let found = problems(&GOOD.replace("status = false", "status = false\ncolour = 1"));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("p.toml:8:1: colour: unknown field `colour`"),
            "{found:?}"
        );

        let found = problems(&GOOD.replace("native_qr = true", "native_qr = tru"));
        assert!(
            found[0].starts_with("p.toml:6:13: native_qr: invalid TOML"),
            "{found:?}"
        );

        let found = problems(&GOOD.replace("width_chars = 48", "width_chars = 60"));
        assert!(
            found[0].starts_with("p.toml:2:15: width_chars: 60 characters"),
            "{found:?}"
        );
    }

    #[test]
    fn an_unreadable_file_says_so() {
        let e = load_profile(Path::new("/nonexistent/x.toml")).expect_err("no file");
        assert!(
            e.to_string()
                .starts_with("/nonexistent/x.toml: cannot read the printer profile")
        );
    }
}
