//! What the drills share: the real binary, a lock for the heavy drills, raw TCP clients for
//! misbehaving on purpose.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, MutexGuard};

use crate::bench::client::User;
use crate::bench::server::Server;

pub const BIN: &str = env!("CARGO_BIN_EXE_kolejka");

/// Drills that put the machine under load take this, so that they run one at a time (the
/// test harness runs tests in parallel) and their timings mean something on two cores.
pub async fn heavy() -> MutexGuard<'static, ()> {
    static HEAVY: Mutex<()> = Mutex::const_new(());
    HEAVY.lock().await
}

/// The real binary on a fresh database in `dir`.
pub fn start(dir: &Path) -> Server {
    Server::start(Path::new(BIN), dir).expect("start kolejka")
}

/// The real binary on a fresh database in `dir` as the benchmark runs it: the demo office
/// with one fake network printer per kiosk (`bench-kiosk-1`...), written to `dir/office.toml`.
/// (The demo's virtual printer draws a picture of every ticket, too slow for a load in a
/// debug build.) Start it again with `restart`.
pub async fn start_with_printers(dir: &Path, kiosks: usize) -> Server {
    let (printer, _) = crate::bench::printer::start().await.expect("fake printer");
    let config = dir.join("office.toml");
    std::fs::write(
        &config,
        crate::bench::printer::office_with_printers(kiosks, printer),
    )
    .expect("office file");
    restart(dir)
}

/// Starts the binary again on `dir` with the office file `start_with_printers` wrote.
pub fn restart(dir: &Path) -> Server {
    Server::start_with(Path::new(BIN), dir, Some(&dir.join("office.toml"))).expect("start kolejka")
}

pub async fn admin(server: &Server) -> User {
    User::login(
        &server.base(),
        "admin",
        &server.admin_password().expect("admin password"),
    )
    .await
    .expect("admin signs in")
}

/// The soft limit on open files of this process (the server inherits it), to scale the
/// drills that open thousands of connections.
pub fn open_files_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        })
        .unwrap_or(1024)
}

/// Reads from a raw connection until the server closes it (or resets it); what it sent and
/// how long it took. Gives up after `within`.
pub async fn read_until_closed(
    tcp: &mut TcpStream,
    within: Duration,
) -> (Vec<u8>, Option<Duration>) {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        let left = within.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, Some(start.elapsed())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (got, None),
        }
    }
}

/// Opens a websocket by hand (so that the frames after it can be anything) and returns the
/// connection after the server's 101.
pub async fn raw_websocket(addr: std::net::SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(
        format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .expect("upgrade request");
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut byte))
            .await
            .expect("upgrade answer in time")
            .expect("read");
        assert_eq!(n, 1, "closed during the upgrade");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    tcp
}

/// A masked client frame header: FIN, `opcode`, and a 64-bit payload length (the payload
/// itself is the caller's to send, or not).
pub fn frame_header(opcode: u8, len: u64) -> Vec<u8> {
    let mut h = vec![0x80 | opcode, 0x80 | 127];
    h.extend_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&[1, 2, 3, 4]);
    h
}

/// The close code in the first close frame the server sent, if any (server frames are not
/// masked).
pub fn close_code(bytes: &[u8]) -> Option<u16> {
    let mut i = 0;
    while i + 2 <= bytes.len() {
        let opcode = bytes[i] & 0x0f;
        let mut len = u64::from(bytes[i + 1] & 0x7f);
        let mut at = i + 2;
        if len == 126 {
            len = u64::from(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?));
            at += 2;
        } else if len == 127 {
            len = u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
            at += 8;
        }
        if opcode == 0x8 {
            return Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?));
        }
        i = at + usize::try_from(len).ok()?;
    }
    None
}
