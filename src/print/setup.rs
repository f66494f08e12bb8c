//! The office's printers as configured: the `[[printers]]` and `[printing]` sections of the
//! office file (checked by `crate::config`, which reports every problem with file, line and
//! field), which kiosk prints where, and `start`, which turns the configuration into a running
//! `Printers` queue.
//!
//! A printer is reached by a transport written as a short string: `tcp://10.0.0.7:9100` (a
//! network printer; the port defaults to 9100), `usb:/dev/usb/lp0`, `serial:/dev/ttyUSB0`, or
//! `virtual` (the printer of the default setup, which saves every ticket under the data
//! directory as raw bytes, text and a picture).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::profile::builtin_profile;
use super::queue::{Printers, QueueSettings};
use super::transport::{
    DeviceKind, DeviceTransport, TcpTimeouts, TcpTransport, Transport, VirtualPrinter,
};
use crate::engine::Texts;

/// How a printer is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportSpec {
    /// A network printer, `host:port` (the port defaults to 9100).
    Tcp(String),
    /// A USB printer's device file, like `/dev/usb/lp0`.
    Usb(PathBuf),
    /// A serial printer's device file, like `/dev/ttyUSB0` (its speed set by `stty` or udev).
    Serial(PathBuf),
    /// Saves each ticket under `<data dir>/prints/<printer name>/`.
    Virtual,
}

impl TransportSpec {
    /// Reads `tcp://host:port`, `usb:/dev/...`, `serial:/dev/...` or `virtual`; the error says
    /// what was expected.
    pub fn parse(text: &str) -> Result<TransportSpec, String> {
        let text = text.trim();
        let expected = "expected \"tcp://HOST:PORT\" (a network printer, like \
                        \"tcp://10.0.0.7:9100\"), \"usb:/dev/usb/lp0\", \"serial:/dev/ttyUSB0\" \
                        or \"virtual\"";
        if text == "virtual" {
            return Ok(TransportSpec::Virtual);
        }
        if let Some(target) = text.strip_prefix("tcp://") {
            let target = target.trim_end_matches('/');
            // The same checks the transport makes when it starts, so that a bad address is
            // reported with its line in the office file.
            TcpTransport::new(target, TcpTimeouts::default()).map_err(|e| e.to_string())?;
            return Ok(TransportSpec::Tcp(target.to_owned()));
        }
        let device = |rest: &str, what: &str| {
            if rest.starts_with('/') && rest.len() > 1 {
                Ok(PathBuf::from(rest))
            } else {
                Err(format!(
                    "`{text}`: the {what} printer needs the absolute path of its device file, \
                     like \"{}\"",
                    if what == "USB" {
                        "usb:/dev/usb/lp0"
                    } else {
                        "serial:/dev/ttyUSB0"
                    }
                ))
            }
        };
        if let Some(rest) = text.strip_prefix("usb:") {
            return device(rest, "USB").map(TransportSpec::Usb);
        }
        if let Some(rest) = text.strip_prefix("serial:") {
            return device(rest, "serial").map(TransportSpec::Serial);
        }
        Err(format!("unknown printer transport `{text}`, {expected}"))
    }
}

/// One printer of the office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterConfig {
    /// Letters, digits, `-` and `_`; managers see it, and the virtual printer's folder has it.
    pub name: String,
    /// A printer profile's id, like `epson-tm-t88` (`printer-profiles/`).
    pub profile: String,
    pub transport: TransportSpec,
    /// The names of the kiosks (as registered) that print here.
    pub kiosks: Vec<String>,
}

/// The printing part of the office configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintConfig {
    pub printers: Vec<PrinterConfig>,
    /// The printer of every kiosk that no printer names; the first printer when not given.
    pub default_printer: Option<String>,
    /// The first line of a ticket; the office's name when not given.
    pub header: Option<Texts>,
    /// The last line of a ticket.
    pub footer: Option<Texts>,
    /// The address phones open, like `https://kolejka.example.pl`, for the QR code on the
    /// ticket; when not given, the address the kiosk itself uses.
    pub phone_url: Option<String>,
}

impl Default for PrintConfig {
    /// One virtual printer, the default of every kiosk: tickets are saved, not printed.
    fn default() -> Self {
        PrintConfig {
            printers: vec![PrinterConfig {
                name: "virtual".into(),
                profile: "generic-80mm".into(),
                transport: TransportSpec::Virtual,
                kiosks: Vec::new(),
            }],
            default_printer: None,
            header: None,
            footer: None,
            phone_url: None,
        }
    }
}

impl PrintConfig {
    /// The printer a kiosk prints on: the one that lists the kiosk's name (compared without
    /// regard to case and surrounding spaces), else the default printer, else the first one;
    /// `None` when the office has no printer.
    pub fn printer_for_kiosk(&self, kiosk: &str) -> Option<&str> {
        let kiosk = kiosk.trim();
        self.printers
            .iter()
            .find(|p| {
                p.kiosks
                    .iter()
                    .any(|k| k.trim().eq_ignore_ascii_case(kiosk))
            })
            .or_else(|| {
                self.default_printer
                    .as_deref()
                    .and_then(|d| self.printers.iter().find(|p| p.name == d))
            })
            .or_else(|| self.printers.first())
            .map(|p| p.name.as_str())
    }

    /// The default printer's name (the printer of kiosks no printer lists).
    pub fn default_printer_name(&self) -> Option<&str> {
        self.default_printer
            .as_deref()
            .or_else(|| self.printers.first().map(|p| p.name.as_str()))
    }
}

/// Everything needed to start printing: the configuration and the timings, which the defaults
/// set for a real office and tests shorten.
#[derive(Debug, Clone)]
pub struct PrintSetup {
    pub config: PrintConfig,
    pub queue: QueueSettings,
    pub tcp: TcpTimeouts,
    /// For a USB or serial device file to take a ticket.
    pub device_timeout: Duration,
    /// How long issuing a ticket waits for the first print attempt before answering `pending`.
    pub first_attempt_wait: Duration,
}

impl PrintSetup {
    pub fn new(config: PrintConfig) -> Self {
        PrintSetup {
            config,
            queue: QueueSettings::default(),
            tcp: TcpTimeouts::default(),
            device_timeout: Duration::from_secs(10),
            first_attempt_wait: Duration::from_millis(2500),
        }
    }
}

impl Default for PrintSetup {
    fn default() -> Self {
        PrintSetup::new(PrintConfig::default())
    }
}

/// Starts a worker for every configured printer. A virtual printer saves under
/// `<prints_dir>/<name>/`. Fails only on a profile that is not known (the config loader checks
/// that) or a thread that cannot be started.
pub fn start(setup: &PrintSetup, prints_dir: &Path) -> Result<Printers, String> {
    let printers = Printers::new(setup.queue.clone());
    for p in &setup.config.printers {
        let profile = builtin_profile(&p.profile)
            .ok_or_else(|| format!("printer `{}`: unknown profile `{}`", p.name, p.profile))?;
        let transport: Arc<dyn Transport> = match &p.transport {
            TransportSpec::Tcp(target) => Arc::new(
                TcpTransport::new(target, setup.tcp)
                    .map_err(|e| format!("printer `{}`: {e}", p.name))?,
            ),
            TransportSpec::Usb(path) => Arc::new(DeviceTransport::new(
                path,
                DeviceKind::Usb,
                setup.device_timeout,
            )),
            TransportSpec::Serial(path) => Arc::new(DeviceTransport::new(
                path,
                DeviceKind::Serial,
                setup.device_timeout,
            )),
            TransportSpec::Virtual => Arc::new(VirtualPrinter::new(prints_dir.join(&p.name))),
        };
        printers
            .add(&p.name, profile, transport)
            .map_err(|e| e.to_string())?;
    }
    Ok(printers)
}

/// Whether a printer name is usable: 1 to 40 letters, digits, `-` and `_`.
pub fn valid_printer_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_parse_or_say_what_was_expected() {
        assert_eq!(
            TransportSpec::parse("tcp://10.0.0.7:9100"),
            Ok(TransportSpec::Tcp("10.0.0.7:9100".into()))
        );
        assert_eq!(
            TransportSpec::parse("tcp://printer-hall.local"),
            Ok(TransportSpec::Tcp("printer-hall.local".into()))
        );
        assert_eq!(
            TransportSpec::parse("usb:/dev/usb/lp0"),
            Ok(TransportSpec::Usb("/dev/usb/lp0".into()))
        );
        assert_eq!(
            TransportSpec::parse("serial:/dev/ttyUSB0"),
            Ok(TransportSpec::Serial("/dev/ttyUSB0".into()))
        );
        assert_eq!(TransportSpec::parse("virtual"), Ok(TransportSpec::Virtual));
        let e = TransportSpec::parse("lpt1").expect_err("unknown");
        assert!(e.starts_with("unknown printer transport `lpt1`"), "{e}");
        let e = TransportSpec::parse("usb:lp0").expect_err("relative");
        assert!(e.contains("absolute path"), "{e}");
        let e = TransportSpec::parse("tcp://host:99999").expect_err("bad port");
        assert!(e.contains("port"), "{e}");
    }

    #[test]
    fn a_kiosk_prints_where_it_is_named_else_on_the_default() {
        let printer = |name: &str, kiosks: &[&str]| PrinterConfig {
            name: name.into(),
            profile: "generic-80mm".into(),
            transport: TransportSpec::Virtual,
            kiosks: kiosks.iter().map(|k| (*k).to_owned()).collect(),
        };
        let mut config = PrintConfig {
            printers: vec![printer("a", &["Kiosk parter"]), printer("b", &[])],
            default_printer: Some("b".into()),
            ..PrintConfig::default()
        };
        assert_eq!(config.printer_for_kiosk(" kiosk PARTER "), Some("a"));
        assert_eq!(config.printer_for_kiosk("kiosk piętro"), Some("b"));
        config.default_printer = None;
        assert_eq!(config.printer_for_kiosk("kiosk piętro"), Some("a"));
        assert_eq!(config.default_printer_name(), Some("a"));
        config.printers.clear();
        assert_eq!(config.printer_for_kiosk("kiosk piętro"), None);
    }
}
