//! How bytes reach a printer: a small blocking trait with four implementations, a network
//! printer on TCP port 9100, a USB printer through its `/dev/usb/lp*` device file, a serial
//! printer through its device file, and the virtual printer that saves each job to files.
//!
//! Every call blocks; the job queue calls it on the printer's own worker thread, never on the
//! async runtime. Every call ends: connecting, writing and reading status all have timeouts,
//! and a device file that hangs is written on a helper thread that is given up on.
//!
//! We do not use `escpos`'s drivers: its network driver wants an IP address (not a host name),
//! shares one timeout between writing and reading, and reports errors as strings; its file
//! driver has no timeout at all.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::decode::{decode_text, preview_png};
use super::profile::Profile;
use super::status::{self, DeviceStatus, StatusError};

/// One job as a transport sees it.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    /// The ticket number, for file names and messages.
    pub number: &'a str,
    pub bytes: &'a [u8],
    pub profile: &'a Profile,
}

/// A way to send bytes to a printer. `send` blocks until the bytes are out (and the printer,
/// if it reports status, has said how it is), or fails with a reason a person can act on.
pub trait Transport: Send + Sync + 'static {
    /// Where the printer is, like `tcp 10.0.0.7:9100` or `usb /dev/usb/lp0`.
    fn describe(&self) -> String;
    /// Sends one job; returns what the printer said about itself afterwards.
    fn send(&self, job: &Job<'_>) -> Result<DeviceStatus, TransportError>;
}

/// Why a job did not reach the printer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot find printer `{target}`: {reason}")]
    Resolve { target: String, reason: String },
    #[error("cannot connect to the printer at {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error(
        "the printer stopped taking data: {sent} of {total} bytes sent, then nothing for {} ms",
        .after.as_millis()
    )]
    WriteTimeout {
        sent: usize,
        total: usize,
        after: Duration,
    },
    #[error(
        "the printer took only {sent} of {total} bytes in {} ms",
        .after.as_millis()
    )]
    TooSlow {
        sent: usize,
        total: usize,
        after: Duration,
    },
    #[error("the connection to the printer broke after {sent} of {total} bytes: {source}")]
    Write {
        sent: usize,
        total: usize,
        #[source]
        source: std::io::Error,
    },
    #[error("the printer closed the connection before it had read the whole ticket")]
    ClosedEarly,
    #[error("the printer reports {}{}", .status.describe(), if *.after_sending { " after the ticket was sent" } else { "" })]
    NotReady {
        status: DeviceStatus,
        after_sending: bool,
    },
    #[error(transparent)]
    Status(#[from] StatusError),
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write to {path}: {source}")]
    Device {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} did not take the ticket within {} ms", .after.as_millis())]
    DeviceTimeout { path: String, after: Duration },
    #[error("{path} is still busy with an earlier ticket that did not finish")]
    Busy { path: String },
    #[error("the virtual printer cannot save to {path}: {source}")]
    Save {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl TransportError {
    /// Whether the printer is unreachable (rather than reachable but failing).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            TransportError::Resolve { .. }
                | TransportError::Connect { .. }
                | TransportError::Open { .. }
        )
    }
}

// ---------------------------------------------------------------------------------------
// Network (TCP 9100)

/// Timeouts of a network printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpTimeouts {
    /// To open the connection.
    pub connect: Duration,
    /// For the printer to take the next bytes while writing.
    pub write: Duration,
    /// For the whole ticket to be written: a printer that takes a few bytes now and then
    /// never trips `write`, but trips this.
    pub job: Duration,
    /// For each status reply.
    pub status: Duration,
    /// After the ticket is sent, for the printer to close its side; a printer that keeps the
    /// connection open is fine, a printer that resets it had not read everything.
    pub close: Duration,
}

impl Default for TcpTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(3),
            write: Duration::from_secs(5),
            job: Duration::from_secs(30),
            status: Duration::from_millis(800),
            close: Duration::from_millis(500),
        }
    }
}

/// A network printer, raw TCP (port 9100, "JetDirect"), one connection per job.
#[derive(Debug, Clone)]
pub struct TcpTransport {
    host: String,
    port: u16,
    timeouts: TcpTimeouts,
}

impl TcpTransport {
    /// The port network printers listen on when none is given.
    pub const DEFAULT_PORT: u16 = 9100;

    /// A printer at `host`, `host:port`, `ip:port` or `[ipv6]:port`; the host name is resolved
    /// at each job, so a printer that changes address is found again.
    pub fn new(target: &str, timeouts: TcpTimeouts) -> Result<Self, TransportError> {
        let target = target.trim();
        let bad = |reason: &str| TransportError::Resolve {
            target: target.to_owned(),
            reason: reason.to_owned(),
        };
        if target.is_empty() {
            return Err(bad(
                "no address given (expected host:port, like 10.0.0.7:9100)",
            ));
        }
        if let Ok(addr) = target.parse::<SocketAddr>() {
            return Ok(Self {
                host: addr.ip().to_string(),
                port: addr.port(),
                timeouts,
            });
        }
        let (host, port) = match target.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => {
                let port = port
                    .parse::<u16>()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
                (host, port)
            }
            // A bare IPv6 address, or a host without a port.
            _ => (target, Self::DEFAULT_PORT),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host name before the port"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            timeouts,
        })
    }

    fn target(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn connect(&self) -> Result<TcpStream, TransportError> {
        let target = self.target();
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| TransportError::Resolve {
                target: target.clone(),
                reason: e.to_string(),
            })?
            .collect();
        let mut last = String::from("the name has no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.timeouts.connect) {
                Ok(stream) => return Ok(stream),
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                    last = format!("no answer within {} ms", self.timeouts.connect.as_millis());
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(TransportError::Connect {
            target,
            reason: last,
        })
    }
}

impl Transport for TcpTransport {
    fn describe(&self) -> String {
        format!("tcp {}", self.target())
    }

    fn send(&self, job: &Job<'_>) -> Result<DeviceStatus, TransportError> {
        let mut stream = self.connect()?;
        let io = |e: std::io::Error| TransportError::Write {
            sent: 0,
            total: job.bytes.len(),
            source: e,
        };
        stream
            .set_write_timeout(Some(self.timeouts.write))
            .map_err(io)?;
        stream
            .set_read_timeout(Some(self.timeouts.status))
            .map_err(io)?;
        stream.set_nodelay(true).map_err(io)?;

        // Ask first: a ticket sent to a printer without paper would wait in its buffer and
        // come out later, after the citizen was told it had failed.
        let before = if job.profile.status {
            discard_pending(&mut stream);
            let s = status::query(&mut stream)?;
            if s.blocks_printing() {
                return Err(TransportError::NotReady {
                    status: s,
                    after_sending: false,
                });
            }
            s
        } else {
            DeviceStatus::Unknown
        };

        write_all(&mut stream, job.bytes, self.timeouts)?;

        // A printer that did not answer before will not answer now.
        let after = if before == DeviceStatus::Unknown {
            DeviceStatus::Unknown
        } else {
            // A printer may have taken a DLE EOT inside image data for a request and answered
            // it; that byte is not the answer to ours.
            discard_pending(&mut stream);
            let s = status::query(&mut stream)?;
            if s.blocks_printing() {
                return Err(TransportError::NotReady {
                    status: s,
                    after_sending: true,
                });
            }
            s
        };

        wait_for_close(&mut stream, self.timeouts.close)?;
        Ok(after)
    }
}

/// Writes everything, counting what went out, so that an error says how far it got.
fn write_all(
    stream: &mut TcpStream,
    bytes: &[u8],
    timeouts: TcpTimeouts,
) -> Result<(), TransportError> {
    let total = bytes.len();
    let mut sent = 0;
    let started = Instant::now();
    let too_slow = |sent| TransportError::TooSlow {
        sent,
        total,
        after: timeouts.job,
    };
    while sent < total {
        let remaining = timeouts.job.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            return Err(too_slow(sent));
        }
        let timeout = timeouts.write.min(remaining);
        if let Err(source) = stream.set_write_timeout(Some(timeout)) {
            return Err(TransportError::Write {
                sent,
                total,
                source,
            });
        }
        let end = (sent + 16 * 1024).min(total);
        match stream.write(bytes.get(sent..end).unwrap_or_default()) {
            Ok(0) => {
                return Err(TransportError::Write {
                    sent,
                    total,
                    source: ErrorKind::WriteZero.into(),
                });
            }
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(if timeout < timeouts.write {
                    too_slow(sent)
                } else {
                    TransportError::WriteTimeout {
                        sent,
                        total,
                        after: timeout,
                    }
                });
            }
            Err(source) => {
                return Err(TransportError::Write {
                    sent,
                    total,
                    source,
                });
            }
        }
    }
    stream.flush().map_err(|source| TransportError::Write {
        sent,
        total,
        source,
    })
}

/// Reads and drops what the printer sent unasked (some send automatic status on connect), so
/// that it is not taken for the reply to our status request.
fn discard_pending(stream: &mut TcpStream) {
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    let mut buf = [0u8; 64];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
    // Back to blocking with timeouts; if this fails, the next read reports it.
    let _ = stream.set_nonblocking(false);
}

/// Half-closes the connection and waits briefly for the printer to close its side. A reset
/// means the printer dropped the connection with our bytes unread.
fn wait_for_close(stream: &mut TcpStream, timeout: Duration) -> Result<(), TransportError> {
    if let Err(e) = stream.shutdown(Shutdown::Write) {
        return match e.kind() {
            ErrorKind::NotConnected => Ok(()),
            _ => Err(TransportError::ClosedEarly),
        };
    }
    if stream.set_read_timeout(Some(timeout)).is_err() {
        return Ok(());
    }
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            // Late status bytes; keep reading until the close.
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::BrokenPipe
                ) =>
            {
                return Err(TransportError::ClosedEarly);
            }
            Err(_) => return Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Device files (USB /dev/usb/lp*, serial /dev/tty*)

/// Which kind of device file, for messages only: both are written the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A USB printer through the kernel's `usblp` driver (`/dev/usb/lp0`).
    Usb,
    /// A serial printer (`/dev/ttyUSB0`, `/dev/ttyS0`), its speed set beforehand (by
    /// `stty` or a udev rule): we open and write the file, nothing more.
    Serial,
}

/// A printer behind a device file. A write that hangs (a USB printer that is off but still
/// enumerated, a serial line with hardware flow control held) runs on a helper thread that is
/// given up on after the timeout; until it ends, later jobs fail at once as busy.
#[derive(Debug, Clone)]
pub struct DeviceTransport {
    path: PathBuf,
    kind: DeviceKind,
    timeout: Duration,
    busy: Arc<AtomicBool>,
}

impl DeviceTransport {
    pub fn new(path: impl Into<PathBuf>, kind: DeviceKind, timeout: Duration) -> Self {
        Self {
            path: path.into(),
            kind,
            timeout,
            busy: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl Transport for DeviceTransport {
    fn describe(&self) -> String {
        let kind = match self.kind {
            DeviceKind::Usb => "usb",
            DeviceKind::Serial => "serial",
        };
        format!("{kind} {}", self.path.display())
    }

    fn send(&self, job: &Job<'_>) -> Result<DeviceStatus, TransportError> {
        let path = self.path.display().to_string();
        if self.busy.swap(true, Ordering::SeqCst) {
            return Err(TransportError::Busy { path });
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let file_path = self.path.clone();
        let bytes = job.bytes.to_vec();
        let busy = Arc::clone(&self.busy);
        let spawned = std::thread::Builder::new()
            .name("kolejka-print-device".into())
            .spawn(move || {
                let result = write_device(&file_path, &bytes);
                busy.store(false, Ordering::SeqCst);
                // The job may have been given up on; nobody is listening then.
                let _ = tx.send(result);
            });
        if let Err(source) = spawned {
            self.busy.store(false, Ordering::SeqCst);
            return Err(TransportError::Device { path, source });
        }
        match rx.recv_timeout(self.timeout) {
            Ok(Ok(())) => Ok(DeviceStatus::Unknown),
            Ok(Err((opened, source))) if !opened => Err(TransportError::Open { path, source }),
            Ok(Err((_, source))) => Err(TransportError::Device { path, source }),
            Err(_) => Err(TransportError::DeviceTimeout {
                path,
                after: self.timeout,
            }),
        }
    }
}

/// Opens and writes a device file; the error says whether the file could be opened.
fn write_device(path: &Path, bytes: &[u8]) -> Result<(), (bool, std::io::Error)> {
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| (false, e))?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(|e| (true, e))
}

// ---------------------------------------------------------------------------------------
// Virtual printer

/// The printer of the default setup: saves each job under a directory as the raw bytes
/// (`.bin`), the text the paper would show (`.txt`) and a picture of it (`.png`), named by
/// time and ticket number, like `20260302-081503-123-A012.bin`.
#[derive(Debug, Clone)]
pub struct VirtualPrinter {
    dir: PathBuf,
    png: bool,
}

impl VirtualPrinter {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            png: true,
        }
    }

    /// Without the `.png` picture (it costs a few milliseconds per ticket).
    pub fn without_png(mut self) -> Self {
        self.png = false;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Transport for VirtualPrinter {
    fn describe(&self) -> String {
        format!("virtual {}", self.dir.display())
    }

    fn send(&self, job: &Job<'_>) -> Result<DeviceStatus, TransportError> {
        let save = |path: &Path, e: std::io::Error| TransportError::Save {
            path: path.display().to_string(),
            source: e,
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| save(&self.dir, e))?;
        let now = jiff::Zoned::now();
        let number: String = job
            .number
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let stem = format!(
            "{}-{:03}-{number}",
            now.strftime("%Y%m%d-%H%M%S"),
            now.millisecond()
        );
        // Two jobs in the same millisecond for the same number (a reprint) get a suffix; the
        // `.bin` is created with `create_new`, so two workers can never take the same name.
        let mut attempt = 1;
        let (bin_path, mut bin) = loop {
            let name = if attempt == 1 {
                format!("{stem}.bin")
            } else {
                format!("{stem}-{attempt}.bin")
            };
            let path = self.dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                Err(e) if e.kind() == ErrorKind::AlreadyExists && attempt < 1000 => attempt += 1,
                Err(e) => return Err(save(&path, e)),
            }
        };
        bin.write_all(job.bytes)
            .and_then(|()| bin.sync_all())
            .map_err(|e| save(&bin_path, e))?;
        let txt_path = bin_path.with_extension("txt");
        std::fs::write(&txt_path, decode_text(job.profile, job.bytes))
            .map_err(|e| save(&txt_path, e))?;
        if self.png {
            let png_path = bin_path.with_extension("png");
            let png = preview_png(job.profile, job.bytes)
                .map_err(|e| save(&png_path, std::io::Error::other(e)))?;
            std::fs::write(&png_path, png).map_err(|e| save(&png_path, e))?;
        }
        Ok(DeviceStatus::Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_targets_parse() {
        let t = |s| TcpTransport::new(s, TcpTimeouts::default()).map(|t| t.describe());
        assert_eq!(t("10.0.0.7").ok().as_deref(), Some("tcp 10.0.0.7:9100"));
        assert_eq!(
            t("10.0.0.7:9101").ok().as_deref(),
            Some("tcp 10.0.0.7:9101")
        );
        assert_eq!(
            t("printer-hall.local").ok().as_deref(),
            Some("tcp printer-hall.local:9100")
        );
        assert_eq!(t("[::1]:9100").ok().as_deref(), Some("tcp [::1]:9100"));
        assert_eq!(t("::1").ok().as_deref(), Some("tcp [::1]:9100"));
        for bad in ["", "host:0", "host:99999", "host:x", ":9100"] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }
}
