//! The websocket protocol's messages: what a client may send (`hello`, `resync`), what the
//! server sends (snapshots and events, each in an envelope with the connection's sequence
//! number and the global version), and the close codes. docs/PROTOCOL.md describes the same
//! things for client authors; keep the two in step.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::views::{
    Call, ClerkSnapshot, CounterSnapshot, HallCounter, HallQueue, HallSnapshot, ManagerSnapshot,
    Recall,
};
use crate::engine::{CaseTypeCode, CounterId, Office};
use crate::hall::ScreenMessage;
use crate::server::api::{CaseTypeQueue, CounterView, TicketView};

/// Close codes. 1000-1015 are the RFC 6455 ones; 4000-4999 are for applications, and ours
/// mirror HTTP statuses so that they are easy to remember.
pub mod close {
    /// The service is stopping or restarting: reconnect after a pause.
    pub const RESTART: u16 = 1012;
    /// A frame the server cannot accept (a binary frame before `hello`).
    pub const UNSUPPORTED: u16 = 1003;
    /// Too many bad messages, or a client too slow to read what it is sent.
    pub const POLICY: u16 = 1008;
    /// A message over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// A broken frame (bad masking, bad UTF-8...).
    pub const PROTOCOL: u16 = 1002;
    /// Something went wrong in the server.
    pub const INTERNAL: u16 = 1011;
    /// The first message was not a valid `hello`.
    pub const BAD_HELLO: u16 = 4400;
    /// No credentials: no `hello` in time, an unknown or revoked token, no session, or the
    /// session or device was signed out while connected.
    pub const UNAUTHORIZED: u16 = 4401;
    /// Signed in, but not allowed on this channel.
    pub const FORBIDDEN: u16 = 4403;
    /// The channel names a counter or case type the office does not have.
    pub const NOT_FOUND: u16 = 4404;
    /// No answer to pings for too long.
    pub const TIMEOUT: u16 = 4408;
    /// Too many failed token attempts from this address; wait and retry.
    pub const TOO_MANY: u16 = 4429;
}

/// What a client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Hello(Hello),
    Resync(Resync),
}

/// The first message of every connection: which channel, and a device's token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    pub channel: ChannelName,
    /// A device's token. Users are authenticated by the session cookie of the upgrade
    /// request and send none.
    #[serde(default)]
    pub token: Option<String>,
    /// Hall: only these case types' queues and calls.
    #[serde(default)]
    pub case_types: Option<Vec<String>>,
    /// Hall: only calls to and the state of these counters.
    #[serde(default)]
    pub counters: Option<Vec<u32>>,
    /// Counter and clerk: the counter.
    #[serde(default)]
    pub counter: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resync {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelName {
    Hall,
    Counter,
    Clerk,
    Manager,
}

/// A channel with its filters, parsed against the office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    Hall(HallFilter),
    Counter(CounterId),
    Clerk(CounterId),
    Manager,
}

/// What a hall screen wants to see; `None` means everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HallFilter {
    pub case_types: Option<BTreeSet<CaseTypeCode>>,
    pub counters: Option<BTreeSet<CounterId>>,
}

impl HallFilter {
    pub fn case_type(&self, code: &CaseTypeCode) -> bool {
        self.case_types.as_ref().is_none_or(|s| s.contains(code))
    }
    pub fn counter(&self, id: CounterId) -> bool {
        self.counters.as_ref().is_none_or(|s| s.contains(&id))
    }
}

/// Why a `hello` was refused: a close code and a reason for the client's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    pub reason: String,
}

impl Refusal {
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Refusal {
            code,
            reason: reason.into(),
        }
    }
}

impl Hello {
    /// The channel and its filters, checked against the office.
    pub fn channel(&self, office: &Office) -> Result<Channel, Refusal> {
        let bad = |why: String| Refusal::new(close::BAD_HELLO, why);
        let counter = |n: u32| {
            let id = CounterId::new(n).map_err(|e| bad(e.to_string()))?;
            office
                .counter(id)
                .map(|c| c.id)
                .ok_or_else(|| Refusal::new(close::NOT_FOUND, format!("no counter {n}")))
        };
        let only = |allowed: &[&str]| -> Result<(), Refusal> {
            let given = [
                ("case_types", self.case_types.is_some()),
                ("counters", self.counters.is_some()),
                ("counter", self.counter.is_some()),
            ];
            match given
                .iter()
                .find(|(name, set)| *set && !allowed.contains(name))
            {
                Some((name, _)) => Err(bad(format!(
                    "`{name}` does not apply to the {:?} channel",
                    self.channel
                ))),
                None => Ok(()),
            }
        };
        match self.channel {
            ChannelName::Hall => {
                only(&["case_types", "counters"])?;
                let case_types = self
                    .case_types
                    .as_ref()
                    .map(|codes| {
                        codes
                            .iter()
                            .map(|c| {
                                let code =
                                    CaseTypeCode::parse(c).map_err(|e| bad(e.to_string()))?;
                                office.case_type(&code).ok_or_else(|| {
                                    Refusal::new(close::NOT_FOUND, format!("no case type `{c}`"))
                                })?;
                                Ok(code)
                            })
                            .collect::<Result<BTreeSet<_>, Refusal>>()
                    })
                    .transpose()?;
                let counters = self
                    .counters
                    .as_ref()
                    .map(|ids| ids.iter().map(|n| counter(*n)).collect())
                    .transpose()?;
                Ok(Channel::Hall(HallFilter {
                    case_types,
                    counters,
                }))
            }
            ChannelName::Counter | ChannelName::Clerk => {
                only(&["counter"])?;
                let n = self
                    .counter
                    .ok_or_else(|| bad("give the `counter` the channel is about".into()))?;
                let id = counter(n)?;
                Ok(if self.channel == ChannelName::Counter {
                    Channel::Counter(id)
                } else {
                    Channel::Clerk(id)
                })
            }
            ChannelName::Manager => {
                only(&[])?;
                Ok(Channel::Manager)
            }
        }
    }
}

/// Every message the server sends: the connection's sequence number (1, 2, 3... with no
/// gaps), the global version the connection has reached, and the body.
#[derive(Debug, Serialize)]
pub struct Envelope<'a> {
    pub seq: u64,
    pub version: i64,
    #[serde(flatten)]
    pub body: &'a Out,
}

/// The bodies of server messages.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Out {
    /// The whole state of the channel; replaces whatever the client had.
    Snapshot(Snapshot),
    /// A ticket was called to a counter.
    Call(Call),
    /// A ticket was called again.
    Recall(Recall),
    /// A counter changed (hall and counter channels: its public state).
    Counter { counter: HallCounter },
    /// A counter changed (clerk and manager channels: everything about it).
    #[serde(rename = "counter")]
    CounterDetail { counter: Box<CounterView> },
    /// The queues changed (hall channel).
    Queues { queues: Vec<HallQueue> },
    /// The queues changed (clerk and manager channels).
    #[serde(rename = "queues")]
    QueueDetails { queues: Vec<CaseTypeQueue> },
    /// A ticket changed (manager channel).
    Ticket { ticket: Box<TicketView> },
    /// The hall messages shown now changed (hall and manager channels): the whole list.
    Messages { messages: Vec<ScreenMessage> },
    /// The last message from the client was not understood; nothing changed.
    Error { code: &'static str, message: String },
}

#[derive(Debug, Serialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Snapshot {
    Hall(Box<HallSnapshot>),
    Counter(Box<CounterSnapshot>),
    Clerk(Box<ClerkSnapshot>),
    Manager(Box<ManagerSnapshot>),
}

/// A close reason fits in 123 bytes (RFC 6455 5.5); cut at a character boundary.
pub fn close_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ClientMessage, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn hello_is_strict() {
        assert!(matches!(
            parse(r#"{"type":"hello","channel":"hall"}"#),
            Ok(ClientMessage::Hello(_))
        ));
        assert!(matches!(
            parse(r#"{"type":"resync"}"#),
            Ok(ClientMessage::Resync(_))
        ));
        for bad in [
            r#"{"type":"hello","channel":"hall","extra":1}"#,
            r#"{"type":"hello","channel":"kitchen"}"#,
            r#"{"type":"hello"}"#,
            r#"{"type":"resync","x":1}"#,
            r#"{"type":"subscribe"}"#,
            r#"{"channel":"hall"}"#,
            "hello",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn close_reasons_fit_a_control_frame() {
        let long = "ż".repeat(100);
        let cut = close_reason(&long);
        assert!(cut.len() <= 123 && long.starts_with(&cut));
        assert_eq!(close_reason("short"), "short");
    }
}
