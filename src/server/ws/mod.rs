//! The websocket API, `GET /ws`: live state for hall screens, counter displays, clerks and
//! managers, pushed after every commit. docs/PROTOCOL.md is the client's manual.
//!
//! The route is public in the route table because browsers cannot send an `Authorization`
//! header on a websocket; the socket authenticates itself instead: a user by the session
//! cookie of the upgrade request (same origin only), a device by the token in its first
//! message, `hello`, which also names the channel.
//!
//! Every limit is set here, per connection: the size of an incoming message and frame, the
//! socket's read and write buffers, the queue of outgoing messages (a client that does not
//! read is disconnected when it is full, or when one write takes too long), the time to say
//! hello, the ping interval and how long a silent client is kept.

mod conn;
mod protocol;
mod views;

pub use protocol::close;

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use super::routes::RouteSpec;
use crate::auth::{Access, Principal};

/// The largest message (and frame) a client may send. `hello` and `resync` are far smaller.
pub const MAX_INBOUND_MESSAGE: usize = 4 * 1024;
/// The socket's read buffer (tungstenite's default is 128 KiB).
pub const READ_BUFFER: usize = 4 * 1024;
/// Outgoing bytes collected before a write to the socket (tungstenite's default: 128 KiB).
pub const WRITE_BUFFER: usize = 8 * 1024;
/// The most outgoing bytes the socket layer may hold; one message must fit, and a manager's
/// snapshot of a busy day (every ticket) is the largest message there is.
pub const MAX_WRITE_BUFFER: usize = 8 * 1024 * 1024;
/// Messages waiting for the writer. A client that lets this fill up is too slow and is
/// disconnected; it gets a snapshot when it reconnects.
pub const OUTBOUND_QUEUE: usize = 64;
/// Bytes waiting for the writer, the same rule: more than this queued and the client is too
/// slow. (A single larger message, a manager's snapshot, may go when nothing else waits.)
pub const OUTBOUND_BYTES: usize = 1024 * 1024;
/// The longest one write to the socket may take before the client counts as gone.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time to send `hello` after the upgrade.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the server pings (and refreshes the views that move with the clock).
pub const PING_INTERVAL: Duration = Duration::from_secs(20);
/// A client silent for this long (no pong, no message) is disconnected.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(60);
/// How many messages the server could not understand before it gives up on a client.
pub const MAX_BAD_MESSAGES: u32 = 20;
/// The least time between two snapshots a client asks for with `resync`.
pub const RESYNC_INTERVAL: Duration = Duration::from_secs(1);

pub fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec {
        method: Method::GET,
        path: "/ws",
        // The socket authenticates itself (see the module comment and docs/PROTOCOL.md).
        access: Access::PUBLIC,
        tag: "websocket",
        summary: "Websocket: live hall, counter, clerk and manager channels (docs/PROTOCOL.md)",
        request: None,
        response: None,
        status: 101,
        handler: || get(upgrade),
    }]
}

/// What the upgrade request told us about the client.
pub(crate) struct Upgrade {
    /// The signed-in user of a same-origin upgrade, by the session cookie.
    pub principal: Option<Principal>,
    /// The cookie header(s), to check from time to time that the session still stands.
    pub cookies: HeaderMap,
    pub peer: Option<SocketAddr>,
}

async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let mut cookies = HeaderMap::new();
    if same_origin(&headers) {
        for value in headers.get_all(header::COOKIE) {
            cookies.append(header::COOKIE, value.clone());
        }
    }
    // Errors (an expired session, say) leave the client anonymous: a device may still
    // authenticate with its token in `hello`.
    let principal = if cookies.is_empty() {
        None
    } else {
        state
            .auth
            .authenticate(&cookies, &Method::GET, Some(peer))
            .await
            .ok()
            .flatten()
    };
    let ctx = Upgrade {
        principal,
        cookies,
        peer: Some(peer),
    };
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(MAX_INBOUND_MESSAGE)
        .max_frame_size(MAX_INBOUND_MESSAGE)
        .on_failed_upgrade(|e| tracing::debug!(error = %e, "websocket upgrade failed"))
        .on_upgrade(move |socket| conn::serve(socket, state, ctx))
}

/// Whether a browser's upgrade comes from a page of this service. Browsers send cookies on
/// cross-site websocket upgrades too, and the same-origin policy does not apply to
/// websockets, so a session cookie counts only when `Origin` matches `Host` (or there is no
/// `Origin`: not a browser). This stops another site from opening a clerk's socket in the
/// clerk's name.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(Ok(host))) = (
        origin.to_str(),
        headers.get(header::HOST).map(|h| h.to_str()),
    ) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).expect("host"));
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).expect("origin"));
        }
        h
    }

    #[test]
    fn cookies_count_only_from_our_own_pages() {
        assert!(same_origin(&headers(None, "kolejka.local:8080")));
        assert!(same_origin(&headers(
            Some("http://kolejka.local:8080"),
            "kolejka.local:8080"
        )));
        assert!(same_origin(&headers(
            Some("https://Kolejka.local"),
            "kolejka.local"
        )));
        assert!(!same_origin(&headers(
            Some("https://evil.example"),
            "kolejka.local"
        )));
        assert!(!same_origin(&headers(Some("null"), "kolejka.local")));
        assert!(!same_origin(&headers(
            Some("http://kolejka.local:8081"),
            "kolejka.local:8080"
        )));
    }
}
