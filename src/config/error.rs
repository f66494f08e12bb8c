//! What can be wrong with an office file, said so that a person can find and fix it: every
//! problem names the file, the line and column (1-based, columns counted in characters), the
//! field and what was expected.

use std::fmt;
use std::ops::Range;

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters (not bytes), so it matches what an editor shows.
    pub column: usize,
    /// Where in the document, like `counters[3].serves` (array indices count from 0); empty
    /// for a problem that belongs to no field, such as a syntax error between entries.
    pub field: String,
    /// What is wrong and what is expected instead.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Why an office configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all.
    #[error("{file}: cannot read the office configuration: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file was read but has problems: every one found, in the order they appear in it.
    /// Displayed one line per problem.
    #[error("{}", one_per_line(.0))]
    Invalid(Vec<Problem>),
}

impl ConfigError {
    /// The problems found in the file (none for a file that could not be read).
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid(problems) => problems,
        }
    }
}

fn one_per_line(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Collects problems while a file is checked, turning byte spans into lines and columns.
pub(super) struct Problems<'a> {
    text: &'a str,
    file: &'a str,
    /// Each problem with the byte offset it was found at, to sort them into file order.
    found: Vec<(usize, Problem)>,
}

impl<'a> Problems<'a> {
    pub(super) fn new(text: &'a str, file: &'a str) -> Self {
        Self {
            text,
            file,
            found: Vec::new(),
        }
    }

    /// Records a problem at the start of a span of the text.
    pub(super) fn add(
        &mut self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        let offset = floor_char_boundary(self.text, span.start);
        let before = &self.text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let problem = Problem {
            file: self.file.to_owned(),
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            field: field.into(),
            message: message.into(),
        };
        self.found.push((offset, problem));
    }

    /// How many problems have been found so far.
    pub(super) fn count(&self) -> usize {
        self.found.len()
    }

    /// The problems found, in file order (problems at the same place keep the order they were
    /// found in).
    pub(super) fn into_error(mut self) -> ConfigError {
        self.found.sort_by_key(|(offset, _)| *offset);
        ConfigError::Invalid(self.found.into_iter().map(|(_, p)| p).collect())
    }
}

/// The largest character boundary at or before `offset`, so that a span from the parser can
/// never make slicing panic.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}
