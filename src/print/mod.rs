//! Printing queue tickets on ESC/POS thermal printers, without any operating-system driver.
//!
//! - `profile`: what a printer model needs (paper width, init bytes, code-page numbers, cut,
//!   QR and status support, how it prints Ukrainian), loaded from `printer-profiles/*.toml`
//!   or the copies built into the binary;
//! - `codepage`: the character tables and the fallbacks for characters missing from them;
//! - `render`: a ticket (`TicketPrint`) as ESC/POS bytes for one profile;
//! - `raster`: text and QR codes drawn as `GS v 0` images;
//! - `decode`: bytes back to text (and a PNG picture), for tests and the virtual printer;
//! - `status`: `DLE EOT` real-time status;
//! - `transport`: network (TCP 9100), USB and serial device files, the virtual printer;
//! - `queue`: `Printers`, one worker thread per printer, retries, job and printer states;
//! - `setup`: the office's printers as configured (`[[printers]]`, `[printing]`), which kiosk
//!   prints where, and starting them.
//!
//! Invariant: no UTF-8 byte reaches a printer. Every character of a ticket is a byte of the
//! table selected at that point, part of an image, or replaced by a look-alike or a
//! transliteration; the golden tests decode every built-in profile's output to prove it.

pub mod codepage;
pub mod decode;
pub mod profile;
pub mod queue;
pub mod raster;
pub mod render;
pub mod setup;
pub mod status;
pub mod transport;

#[cfg(test)]
mod tests;

pub use codepage::CodePage;
pub use decode::{Piece, decode, decode_text, preview_png};
pub use profile::{
    CutMode, Profile, ProfileError, TableSelect, UkrainianMode, builtin_profile, builtin_profiles,
    load_profile, load_profiles, parse_profile,
};
pub use queue::{
    AddError, FirstAttempt, JobId, JobStatus, PrinterCondition, PrinterEvent, PrinterState,
    Printers, QueueSettings, SubmitError, UnknownJob,
};
pub use render::{TicketPrint, render};
pub use setup::{PrintConfig, PrintSetup, PrinterConfig, TransportSpec};
pub use status::DeviceStatus;
pub use transport::{
    DeviceKind, DeviceTransport, Job, TcpTimeouts, TcpTransport, Transport, TransportError,
    VirtualPrinter,
};
