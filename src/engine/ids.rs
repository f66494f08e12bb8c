//! Identifiers and small value types of the domain, each parsed once at the edge.
//!
//! A value of one of these types is valid by construction: `CaseTypeCode::parse("dowody")`
//! either returns a code or says what is wrong with the text, so the rest of the engine
//! never re-checks its inputs.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a piece of text is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Implements `Serialize`/`Deserialize` through `Display`/`parse`, so that JSON, TOML and the
/// database all see the same text form and deserializing can never build an invalid value.
macro_rules! text_serde {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                <$ty>::parse(&text).map_err(serde::de::Error::custom)
            }
        }
        impl std::str::FromStr for $ty {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                <$ty>::parse(s)
            }
        }
    };
}

fn is_code_text(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// The code of a case type, such as `dowody` or `pojazdy`: 1 to 32 characters, lower-case
/// ASCII letters, digits, `_` or `-`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseTypeCode(String);

impl CaseTypeCode {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if is_code_text(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError(format!(
                "`{s}` is not a valid case type code (expected 1-32 characters: lower-case letters, digits, `_` or `-`, starting with a letter)"
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for CaseTypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
text_serde!(CaseTypeCode);

/// The code of a priority category, such as `ciaza` or `niepelnosprawnosc`; same form as a
/// case type code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PriorityCode(String);

impl PriorityCode {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if is_code_text(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError(format!(
                "`{s}` is not a valid priority category code (expected 1-32 characters: lower-case letters, digits, `_` or `-`, starting with a letter)"
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for PriorityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
text_serde!(PriorityCode);

/// The number a counter is known by in the hall ("stanowisko 3"): 1 to 999, because it is
/// read out loud and shown in big digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct CounterId(u16);

impl CounterId {
    pub const MAX: u16 = 999;
    pub fn new(n: u32) -> Result<Self, ParseError> {
        if (1..=u32::from(Self::MAX)).contains(&n) {
            Ok(Self(n as u16))
        } else {
            Err(ParseError(format!(
                "{n} is not a valid counter number (expected 1 to {})",
                Self::MAX
            )))
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let n: u32 = s
            .trim()
            .parse()
            .map_err(|_| ParseError(format!("`{s}` is not a counter number")))?;
        Self::new(n)
    }
    pub fn get(self) -> u16 {
        self.0
    }
}
impl TryFrom<u32> for CounterId {
    type Error = ParseError;
    fn try_from(n: u32) -> Result<Self, ParseError> {
        Self::new(n)
    }
}
impl From<CounterId> for u32 {
    fn from(c: CounterId) -> u32 {
        u32::from(c.0)
    }
}
impl fmt::Display for CounterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The letters in front of a ticket number: 1 to 3 upper-case ASCII letters (`A`, `B`, `USC`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix(String);

impl Prefix {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if (1..=3).contains(&s.len()) && s.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError(format!(
                "`{s}` is not a valid number prefix (expected 1 to 3 upper-case letters A-Z)"
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
text_serde!(Prefix);

/// A ticket number as printed and called: the case type's prefix and a sequence number of at
/// least three digits (`A001` ... `A999`, then `A1000`; numbers never wrap).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketNumber {
    prefix: Prefix,
    seq: u32,
}

impl TicketNumber {
    pub fn new(prefix: Prefix, seq: u32) -> Result<Self, ParseError> {
        if seq == 0 {
            return Err(ParseError("ticket sequence numbers start at 1".into()));
        }
        Ok(Self { prefix, seq })
    }
    /// Parses `A012` or `a12` (a clerk typing a number); spaces are ignored.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let cleaned: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let split = cleaned
            .find(|c: char| c.is_ascii_digit())
            .ok_or_else(|| ParseError(format!("`{s}` is not a ticket number (like A012)")))?;
        let (letters, digits) = cleaned.split_at(split);
        let prefix = Prefix::parse(letters)
            .map_err(|_| ParseError(format!("`{s}` is not a ticket number (like A012)")))?;
        if digits.is_empty() || digits.len() > 9 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(ParseError(format!(
                "`{s}` is not a ticket number (like A012)"
            )));
        }
        let seq: u32 = digits
            .parse()
            .map_err(|_| ParseError(format!("`{s}` is not a ticket number (like A012)")))?;
        Self::new(prefix, seq)
    }
    pub fn prefix(&self) -> &Prefix {
        &self.prefix
    }
    pub fn seq(&self) -> u32 {
        self.seq
    }
}
impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:03}", self.prefix, self.seq)
    }
}
text_serde!(TicketNumber);

/// The internal, never reused identity of a ticket (numbers repeat from day to day; ids don't).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct TicketId(pub u64);

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The languages the office serves citizens in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Pl,
    Uk,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Pl, Lang::Uk, Lang::En];
    pub fn code(self) -> &'static str {
        match self {
            Lang::Pl => "pl",
            Lang::Uk => "uk",
            Lang::En => "en",
        }
    }
}

/// A text in every language the office serves; the config loader refuses a missing one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Texts {
    pub pl: String,
    pub uk: String,
    pub en: String,
}

impl Texts {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Pl => &self.pl,
            Lang::Uk => &self.uk,
            Lang::En => &self.en,
        }
    }
    /// The same text in every language, for tests and names that are not translated.
    pub fn same(s: &str) -> Self {
        Self {
            pl: s.into(),
            uk: s.into(),
            en: s.into(),
        }
    }
}

/// Who made a change: a signed-in user, a registered device, or the service itself (day
/// roll-over, automatic no-show). Written as `user:anna`, `device:kiosk-1` or `system`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Actor {
    User(String),
    Device(String),
    System,
}

impl Actor {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = |name: &str| {
            !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
        };
        match s.split_once(':') {
            Some(("user", name)) if ok(name) => Ok(Actor::User(name.into())),
            Some(("device", name)) if ok(name) => Ok(Actor::Device(name.into())),
            None if s == "system" => Ok(Actor::System),
            _ => Err(ParseError(format!(
                "`{s}` is not an actor (expected user:NAME, device:NAME or system)"
            ))),
        }
    }
}
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User(n) => write!(f, "user:{n}"),
            Actor::Device(n) => write!(f, "device:{n}"),
            Actor::System => f.write_str("system"),
        }
    }
}
text_serde!(Actor);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_have_at_least_three_digits_and_never_wrap() {
        let a = Prefix::parse("A").unwrap();
        assert_eq!(TicketNumber::new(a.clone(), 1).unwrap().to_string(), "A001");
        assert_eq!(
            TicketNumber::new(a.clone(), 999).unwrap().to_string(),
            "A999"
        );
        assert_eq!(TicketNumber::new(a, 1000).unwrap().to_string(), "A1000");
    }

    #[test]
    fn ticket_numbers_parse_what_a_clerk_types() {
        let n = TicketNumber::parse(" a 12 ").unwrap();
        assert_eq!(n.to_string(), "A012");
        assert_eq!(TicketNumber::parse("USC1000").unwrap().seq(), 1000);
        for bad in ["", "A", "012", "A0", "A-1", "ABCD1", "A1B", "A99999999999"] {
            assert!(TicketNumber::parse(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn codes_and_counters_are_checked() {
        assert!(CaseTypeCode::parse("dowody").is_ok());
        assert!(CaseTypeCode::parse("Dowody").is_err());
        assert!(CaseTypeCode::parse("1a").is_err());
        assert!(CaseTypeCode::parse("").is_err());
        assert!(CounterId::new(0).is_err());
        assert!(CounterId::new(1000).is_err());
        assert_eq!(CounterId::parse("8").unwrap().get(), 8);
        assert!(Prefix::parse("a").is_err());
        assert!(Prefix::parse("Ą").is_err());
    }

    #[test]
    fn actors_round_trip_through_text() {
        for a in [
            Actor::User("anna".into()),
            Actor::Device("kiosk-1".into()),
            Actor::System,
        ] {
            assert_eq!(Actor::parse(&a.to_string()).unwrap(), a);
        }
        assert!(Actor::parse("root").is_err());
        assert!(Actor::parse("user:").is_err());
    }

    #[test]
    fn serde_goes_through_parse() {
        let n: TicketNumber = serde_json::from_str("\"B007\"").unwrap();
        assert_eq!(n.to_string(), "B007");
        assert!(serde_json::from_str::<TicketNumber>("\"7\"").is_err());
        assert!(serde_json::from_str::<CounterId>("0").is_err());
    }
}
