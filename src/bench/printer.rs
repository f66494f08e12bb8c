//! A fake network ticket printer on loopback, for the kiosk burst: it takes ESC/POS bytes as
//! fast as they come and answers every real-time status request (`DLE EOT n`) with "all
//! well" (0x12: online, cover closed, paper present). So the burst measures issuing, not a
//! printer's paper speed, while the kiosks still go through the real printing path.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The "all well" answer to `DLE EOT 1`, `2` and `4`.
const STATUS_OK: u8 = 0x12;

/// Starts the printer; its address and a count of the bytes it received.
pub async fn start() -> Result<(SocketAddr, Arc<AtomicU64>), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("fake printer: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let received = Arc::new(AtomicU64::new(0));
    let count = received.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut buf = vec![0_u8; 16 * 1024];
                // The last two bytes of the previous read, for a request split between reads.
                let mut tail: Vec<u8> = Vec::new();
                loop {
                    let n = match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    count.fetch_add(n as u64, Ordering::Relaxed);
                    let mut seen = std::mem::take(&mut tail);
                    seen.extend_from_slice(&buf[..n]);
                    let requests = seen
                        .windows(3)
                        .filter(|w| w[0] == 0x10 && w[1] == 0x04 && matches!(w[2], 1..=4))
                        .count();
                    tail = seen[seen.len().saturating_sub(2)..].to_vec();
                    if requests > 0 && socket.write_all(&vec![STATUS_OK; requests]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok((addr, received))
}

/// The demo office with one network printer per bench kiosk (`bench-kiosk-1`...), each at
/// the fake printer's address, as an office file's text.
pub fn office_with_printers(kiosks: usize, addr: SocketAddr) -> String {
    let mut toml = kolejka::config::DEMO_OFFICE_TOML.to_owned();
    for i in 1..=kiosks {
        toml.push_str(&format!(
            "\n[[printers]]\nname = \"bench-{i}\"\nprofile = \"generic-80mm\"\n\
             transport = \"tcp://{addr}\"\nkiosks = [\"bench-kiosk-{i}\"]\n"
        ));
    }
    toml
}
