//! The office configuration: reads `office.toml` (case types, counters, priority categories
//! and policy, opening hours, closed dates) into an `engine::Office`, and its printing
//! sections (`printing`: the printers, which kiosk prints where, the ticket's texts).
//!
//! The format is documented at the top of `config/office.toml`, the demo office that is also
//! built into the binary. Loading goes in two steps, so that a person fixing a file sees every
//! problem at once, each with file, line, column and field:
//! 1. `raw`: the TOML is parsed with spans and each section and entry is deserialized into
//!    `Raw*` structs that refuse unknown keys;
//! 2. `validate`: the values are checked (codes, prefixes, hours, translations, ranges,
//!    references between entries) and turned into engine types.

mod error;
mod printing;
mod raw;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

use toml::de::DeTable;

use crate::engine::Office;
pub use error::{ConfigError, Problem};

/// A loaded and checked office configuration.
#[derive(Debug, Clone)]
pub struct OfficeConfig {
    pub office: Office,
    /// Sign-in and device settings (`[devices]`).
    pub auth: crate::auth::AuthSettings,
    /// The printers, which kiosk prints where, and the ticket's texts (`[printing]`,
    /// `[[printers]]`).
    pub printing: crate::print::PrintConfig,
}

/// The demo office, built into the binary as the default.
pub const DEMO_OFFICE_TOML: &str = include_str!("../../config/office.toml");

/// The file name problems in `DEMO_OFFICE_TOML` are reported under.
pub const DEMO_FILE_NAME: &str = "config/office.toml";

/// Reads and checks an office file; problems are reported under the path as given.
pub fn load(path: &Path) -> Result<OfficeConfig, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&text, &file)
}

/// Checks the text of an office file; `file_name` is only used in problem reports.
pub fn parse(text: &str, file_name: &str) -> Result<OfficeConfig, ConfigError> {
    let mut problems = error::Problems::new(text, file_name);
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        for e in &syntax_errors {
            let span = e.span().unwrap_or(0..0);
            let field = raw::path_at(root.get_ref(), span.start);
            // Quote what the parser points at when no field can be named, as in "duplicate
            // key `prefix`".
            let quoted = text
                .get(span.clone())
                .filter(|s| {
                    field.is_empty() && !s.trim().is_empty() && s.len() <= 40 && !s.contains('\n')
                })
                .map(|s| format!("`{s}`"))
                .filter(|q| !e.message().contains(q.as_str()))
                .map(|q| format!(" {q}"))
                .unwrap_or_default();
            problems.add(
                span,
                field,
                format!("invalid TOML: {}{quoted}", e.message()),
            );
        }
        return Err(problems.into_error());
    }
    let doc = raw::RawDocument::read(root.get_ref(), &mut problems);
    let office = validate::office(&doc, &mut problems);
    let printing = printing::printing(&doc, &mut problems);
    match (office, printing) {
        (Some(office), Some(printing)) if problems.count() == 0 => Ok(OfficeConfig {
            office,
            auth: doc.auth_settings(),
            printing,
        }),
        _ => Err(problems.into_error()),
    }
}

/// The demo office (`DEMO_OFFICE_TOML`).
pub fn demo() -> OfficeConfig {
    // A unit test proves that the embedded file parses.
    parse(DEMO_OFFICE_TOML, DEMO_FILE_NAME).expect("the built-in demo office config is valid")
}
