//! Real-time status of an ESC/POS printer: `DLE EOT n` requests and what their one-byte replies
//! mean.
//!
//! A printer answers `DLE EOT` at once, even when it is offline or its buffer is full, which is
//! what makes "paper out" and "cover open" visible to the manager. A printer that does not
//! answer is "unknown", not broken: many clones ignore the request. A reply that is not a
//! status byte is an error with the byte in its message.

use std::io::{ErrorKind, Read, Write};

use escpos::utils::{RealTimeStatusRequest, RealTimeStatusResponse};
use serde::{Deserialize, Serialize};

/// What a printer says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// The printer does not report status, or did not answer.
    Unknown,
    Ok,
    /// Paper is running low: it still prints, but someone should bring a roll.
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Offline for another reason (an error, the feed button held).
    Offline,
}

impl DeviceStatus {
    /// Whether a ticket sent now would not be printed.
    pub fn blocks_printing(self) -> bool {
        matches!(
            self,
            DeviceStatus::PaperOut | DeviceStatus::CoverOpen | DeviceStatus::Offline
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            DeviceStatus::Unknown => "status unknown",
            DeviceStatus::Ok => "ready",
            DeviceStatus::PaperNearEnd => "paper near end",
            DeviceStatus::PaperOut => "paper out",
            DeviceStatus::CoverOpen => "cover open",
            DeviceStatus::Offline => "offline",
        }
    }
}

/// A status reply that could not be understood, or a connection that broke while asking.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error(
        "the printer answered 0x{byte:02X} to DLE EOT {request}, which is not a status byte \
         (expected the bit pattern 0xx1xx10)"
    )]
    BadReply { request: u8, byte: u8 },
    #[error("the connection broke while asking the printer for its status: {0}")]
    Io(#[source] std::io::Error),
}

/// The three one-byte replies we ask for; `None` for one the printer did not give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Replies {
    /// `DLE EOT 1`: printer status.
    pub printer: Option<u8>,
    /// `DLE EOT 2`: offline cause.
    pub offline_cause: Option<u8>,
    /// `DLE EOT 4`: roll paper sensor.
    pub paper: Option<u8>,
}

/// What the replies mean; the first reply missing means the printer does not answer.
pub fn interpret(replies: Replies) -> Result<DeviceStatus, StatusError> {
    let Some(printer) = replies.printer else {
        return Ok(DeviceStatus::Unknown);
    };
    let flags = |request: RealTimeStatusRequest, n: u8, byte: u8| {
        RealTimeStatusResponse::parse(request, byte)
            .map_err(|_| StatusError::BadReply { request: n, byte })
    };
    let printer = flags(RealTimeStatusRequest::Printer, 1, printer)?;
    let online = printer
        .get(&RealTimeStatusResponse::Online)
        .copied()
        .unwrap_or(true);
    let (cover_open, stopped_by_paper_end) = match replies.offline_cause {
        Some(byte) => {
            let f = flags(RealTimeStatusRequest::OfflineCause, 2, byte)?;
            (
                f.get(&RealTimeStatusResponse::CoverClosed) == Some(&false),
                f.get(&RealTimeStatusResponse::PrintingStopsDueToPaperEnd) == Some(&true),
            )
        }
        None => (false, false),
    };
    let (near_end, paper_end) = match replies.paper {
        Some(byte) => {
            let f = flags(RealTimeStatusRequest::RollPaperSensor, 4, byte)?;
            (
                f.get(&RealTimeStatusResponse::RollPaperNearEndSensorPaperAdequate) == Some(&false),
                f.get(&RealTimeStatusResponse::RollPaperEndSensorPaperPresent) == Some(&false),
            )
        }
        None => (false, false),
    };
    Ok(if cover_open {
        DeviceStatus::CoverOpen
    } else if paper_end || stopped_by_paper_end {
        DeviceStatus::PaperOut
    } else if !online {
        DeviceStatus::Offline
    } else if near_end {
        DeviceStatus::PaperNearEnd
    } else {
        DeviceStatus::Ok
    })
}

/// Asks the printer for its status over a connection whose read timeout the caller has set:
/// `DLE EOT 1`, then (if it answered) `DLE EOT 2` and `DLE EOT 4`, one byte each.
pub fn query<S: Read + Write>(stream: &mut S) -> Result<DeviceStatus, StatusError> {
    let mut replies = Replies {
        printer: ask(stream, 1)?,
        ..Replies::default()
    };
    if replies.printer.is_some() {
        replies.offline_cause = ask(stream, 2)?;
        replies.paper = ask(stream, 4)?;
    }
    interpret(replies)
}

/// Sends `DLE EOT n` and reads one byte; `None` if nothing came before the timeout or the
/// printer closed the connection without answering.
fn ask<S: Read + Write>(stream: &mut S, n: u8) -> Result<Option<u8>, StatusError> {
    stream
        .write_all(&[0x10, 0x04, n])
        .and_then(|()| stream.flush())
        .map_err(StatusError::Io)?;
    let mut byte = [0u8; 1];
    loop {
        return match stream.read(&mut byte) {
            Ok(0) => Ok(None),
            Ok(_) => Ok(Some(byte[0])),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(None),
            Err(e) => Err(StatusError::Io(e)),
        };
    }
}

/// The replies of a printer in a given state, for fake printers in tests.
pub fn reply_for(status: DeviceStatus, request: u8) -> u8 {
    // Every reply has bit 1 and bit 4 set and bits 0 and 7 clear.
    let base = 0b0001_0010;
    let (offline, cover, paper_end_stop, near_end, paper_end) = match status {
        DeviceStatus::Ok | DeviceStatus::Unknown => (false, false, false, false, false),
        DeviceStatus::PaperNearEnd => (false, false, false, true, false),
        DeviceStatus::PaperOut => (true, false, true, true, true),
        DeviceStatus::CoverOpen => (true, true, false, false, false),
        DeviceStatus::Offline => (true, false, false, false, false),
    };
    match request {
        1 => base | if offline { 0x08 } else { 0 },
        2 => base | if cover { 0x04 } else { 0 } | if paper_end_stop { 0x20 } else { 0 },
        4 => base | if near_end { 0x0C } else { 0 } | if paper_end { 0x60 } else { 0 },
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replies(status: DeviceStatus) -> Replies {
        Replies {
            printer: Some(reply_for(status, 1)),
            offline_cause: Some(reply_for(status, 2)),
            paper: Some(reply_for(status, 4)),
        }
    }

    #[test]
    fn replies_map_to_states() {
        for s in [
            DeviceStatus::Ok,
            DeviceStatus::PaperNearEnd,
            DeviceStatus::PaperOut,
            DeviceStatus::CoverOpen,
            DeviceStatus::Offline,
        ] {
            assert_eq!(interpret(replies(s)).expect("valid"), s);
        }
        assert_eq!(
            interpret(Replies::default()).expect("no answer"),
            DeviceStatus::Unknown
        );
        // Epson's documented examples: 0x16 online, 0x1E offline.
        let only_printer = |b| Replies {
            printer: Some(b),
            ..Replies::default()
        };
        assert_eq!(interpret(only_printer(0x16)).expect("ok"), DeviceStatus::Ok);
        assert_eq!(
            interpret(only_printer(0x1E)).expect("ok"),
            DeviceStatus::Offline
        );
    }

    #[test]
    fn a_bad_reply_is_an_error_that_names_the_byte() {
        let e = interpret(Replies {
            printer: Some(b'A'),
            ..Replies::default()
        })
        .expect_err("not a status byte");
        assert_eq!(
            e.to_string(),
            "the printer answered 0x41 to DLE EOT 1, which is not a status byte (expected the \
             bit pattern 0xx1xx10)"
        );
    }

    /// A fake printer on a byte buffer: answers each request from a list.
    struct Fake {
        answers: Vec<u8>,
        written: Vec<u8>,
    }
    impl Read for Fake {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.answers.is_empty() {
                return Err(ErrorKind::TimedOut.into());
            }
            buf[0] = self.answers.remove(0);
            Ok(1)
        }
    }
    impl Write for Fake {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn query_asks_three_times_or_stops_when_there_is_no_answer() {
        let mut fake = Fake {
            answers: vec![0x1A, 0x32, 0x7E],
            written: vec![],
        };
        assert_eq!(query(&mut fake).expect("ok"), DeviceStatus::PaperOut);
        assert_eq!(fake.written, [0x10, 4, 1, 0x10, 4, 2, 0x10, 4, 4]);

        let mut silent = Fake {
            answers: vec![],
            written: vec![],
        };
        assert_eq!(query(&mut silent).expect("ok"), DeviceStatus::Unknown);
        assert_eq!(silent.written, [0x10, 4, 1]);
    }
}
