//! The load's clients, all through the real HTTP and websocket API: signing in (the
//! first-start admin, clerks it creates), pairing kiosks and screens (the demo office approves
//! loopback devices at once), kiosks that issue as fast as they can, clerks that call at a
//! steady rate, and hall screens that note when each call reaches them.
//!
//! Every loop ends by itself: at its deadline, when told to stop, or when the server is gone
//! (a transport error, as in a kill drill). Only loopback addresses are ever used.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::stats::Samples;

/// How long one HTTP request of the load may take before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Case types without a daily cap in the demo office, so a burst is never refused for it.
pub const UNCAPPED: &[&str] = &["dowody", "meldunki", "usc", "podatki", "dzialalnosc"];

pub fn http_client() -> Client {
    Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .tcp_nodelay(true)
        .build()
        .unwrap_or_else(|_| Client::new())
}

/// A signed-in user: the session cookie and the CSRF token, sent with every request.
#[derive(Clone)]
pub struct User {
    pub http: Client,
    pub base: String,
    pub cookie: String,
    pub csrf: String,
    pub name: String,
}

/// An answer: status and JSON body (`Null` if the body was not JSON).
pub type Answer = (StatusCode, Value);

impl User {
    pub async fn login(base: &str, name: &str, password: &str) -> Result<User, String> {
        let http = http_client();
        let resp = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": name, "password": password}))
            .send()
            .await
            .map_err(|e| format!("sign-in of {name}: {e}"))?;
        let status = resp.status();
        let cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("kolejka_session="))
            .and_then(|c| c.split(';').next())
            .map(str::to_owned);
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let (Some(cookie), Some(csrf)) = (cookie, body["csrf_token"].as_str()) else {
            return Err(format!("sign-in of {name}: {status} {body}"));
        };
        Ok(User {
            http,
            base: base.to_owned(),
            cookie,
            csrf: csrf.to_owned(),
            name: name.to_owned(),
        })
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, reqwest::Error> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let body = resp.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Answer, reqwest::Error> {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> Result<Answer, reqwest::Error> {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// Creates a user with `role` (as this admin) and signs them in.
    pub async fn create_user(&self, name: &str, role: &str) -> Result<User, String> {
        let password = format!("{name}-bench-password");
        let (status, body) = self
            .post(
                "/api/v1/users",
                &json!({"name": name, "role": role, "password": password}),
            )
            .await
            .map_err(|e| format!("create {name}: {e}"))?;
        if status != StatusCode::CREATED {
            return Err(format!("create {name}: {status} {body}"));
        }
        User::login(&self.base, name, &password).await
    }

    /// Creates a clerk and opens counter `counter` in their name.
    pub async fn clerk_at(&self, name: &str, counter: u32) -> Result<User, String> {
        let clerk = self.create_user(name, "clerk").await?;
        let (status, body) = clerk
            .post(&format!("/api/v1/counters/{counter}/open"), &json!({}))
            .await
            .map_err(|e| format!("open counter {counter}: {e}"))?;
        if status != StatusCode::OK {
            return Err(format!("open counter {counter}: {status} {body}"));
        }
        Ok(clerk)
    }
}

/// Pairs a device of `kind` from the loopback address `from` and returns its token. Needs the
/// demo setting `auto_approve_loopback` (the built-in demo office has it).
pub async fn pair(base: &str, kind: &str, from: Ipv4Addr) -> Result<String, String> {
    pair_named(base, kind, from, None).await
}

/// `pair`, suggesting the device's name (auto-approved devices keep it).
pub async fn pair_named(
    base: &str,
    kind: &str,
    from: Ipv4Addr,
    name: Option<&str>,
) -> Result<String, String> {
    let http = Client::builder()
        .local_address(IpAddr::V4(from))
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let resp = http
        .post(format!("{base}/api/v1/devices/pair"))
        .json(&json!({"kind": kind, "name": name}))
        .send()
        .await
        .map_err(|e| format!("pair a {kind}: {e}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    body["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("pair a {kind}: {status} {body} (is auto_approve_loopback on?)"))
}

/// Pairs `n` devices of `kind`. Pairing is limited per client address, so the requests come
/// from several loopback addresses (127.0.0.2, 127.0.0.3...), at most 15 from each.
pub async fn pair_many(base: &str, kind: &str, n: usize) -> Result<Vec<String>, String> {
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        let host = u8::try_from(2 + i / 15).map_err(|_| "too many devices to pair")?;
        let name = format!("bench-{kind}-{}", i + 1);
        tokens.push(pair_named(base, kind, Ipv4Addr::new(127, 0, 0, host), Some(&name)).await?);
    }
    Ok(tokens)
}

/// One acknowledged answer about a ticket: what the response said, and when it came.
#[derive(Debug, Clone)]
pub struct Ack {
    pub number: String,
    pub state: String,
    pub issued_case_type: String,
    pub version: i64,
    /// When the response arrived.
    pub at: Instant,
    pub latency: Duration,
}

impl Ack {
    fn from_body(ticket: &Value, version: &Value, at: Instant, latency: Duration) -> Option<Ack> {
        Some(Ack {
            number: ticket["number"].as_str()?.to_owned(),
            state: ticket["state"].as_str()?.to_owned(),
            issued_case_type: ticket["issued_case_type"].as_str()?.to_owned(),
            version: version.as_i64()?,
            at,
            latency,
        })
    }
}

/// What one load loop did.
#[derive(Debug, Default)]
pub struct LoopReport {
    pub acks: Vec<Ack>,
    /// Answers other than success, by status.
    pub refused: std::collections::BTreeMap<u16, u64>,
    /// Latency of every request that got an answer.
    pub latency: Samples,
    /// The server went away (a transport error) with a request in flight.
    pub cut_off: bool,
    /// Issued tickets whose answer said they were printed.
    pub printed: usize,
}

impl LoopReport {
    pub fn merge(&mut self, other: LoopReport) {
        self.acks.extend(other.acks);
        for (k, v) in other.refused {
            *self.refused.entry(k).or_default() += v;
        }
        self.latency.extend(other.latency);
        self.cut_off |= other.cut_off;
        self.printed += other.printed;
    }
}

/// A kiosk issuing tickets one after another, as fast as the answers come, until `until`.
/// Ends early if the server goes away.
pub async fn kiosk(base: String, token: String, start: usize, until: Instant) -> LoopReport {
    let http = http_client();
    let mut report = LoopReport::default();
    let mut n = start;
    while Instant::now() < until {
        n += 1;
        let case_type = UNCAPPED[n % UNCAPPED.len()];
        let sent = Instant::now();
        let resp = http
            .post(format!("{base}/api/v1/tickets"))
            .bearer_auth(&token)
            .json(&json!({"case_type": case_type, "lang": "pl"}))
            .send()
            .await;
        let Ok(resp) = resp else {
            report.cut_off = true;
            break;
        };
        let status = resp.status();
        let Ok(body) = resp.json::<Value>().await else {
            report.cut_off = true;
            break;
        };
        let now = Instant::now();
        report.latency.push(now - sent);
        if status == StatusCode::CREATED {
            report.printed += usize::from(body["print"]["status"] == "printed");
            if let Some(ack) = Ack::from_body(&body["ticket"], &body["version"], now, now - sent) {
                report.acks.push(ack);
            }
        } else {
            *report.refused.entry(status.as_u16()).or_default() += 1;
        }
    }
    report
}

/// A client asking `GET /healthz` one request after another until `until`: the same HTTP
/// path as a kiosk without authentication, storage or the engine.
pub async fn healthz(base: String, until: Instant) -> LoopReport {
    let http = http_client();
    let mut report = LoopReport::default();
    while Instant::now() < until {
        let sent = Instant::now();
        let Ok(resp) = http.get(format!("{base}/healthz")).send().await else {
            report.cut_off = true;
            break;
        };
        let status = resp.status();
        if resp.bytes().await.is_err() {
            report.cut_off = true;
            break;
        }
        report.latency.push(sent.elapsed());
        if status != StatusCode::OK {
            *report.refused.entry(status.as_u16()).or_default() += 1;
        }
    }
    report
}

/// A clerk at counter `counter` calling at a steady pace: every `period` (starting after
/// `offset`) it starts and finishes the ticket it holds, if any, and calls the next. Every
/// successful answer is acknowledged (`Ack`), the calls' with the moment the response
/// arrived.
pub async fn clerk(
    user: User,
    counter: u32,
    period: Duration,
    offset: Duration,
    until: Instant,
) -> LoopReport {
    let mut report = LoopReport::default();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut holding = false;
    loop {
        tick.tick().await;
        if Instant::now() >= until {
            break;
        }
        for action in ["start", "finish", "call-next"] {
            if action != "call-next" && !holding {
                continue;
            }
            let sent = Instant::now();
            let answer = user
                .post(&format!("/api/v1/counters/{counter}/{action}"), &json!({}))
                .await;
            let Ok((status, body)) = answer else {
                report.cut_off = true;
                return report;
            };
            let now = Instant::now();
            report.latency.push(now - sent);
            if status == StatusCode::OK {
                if let Some(ack) =
                    Ack::from_body(&body["ticket"], &body["version"], now, now - sent)
                {
                    report.acks.push(ack);
                }
                holding = action != "finish";
            } else {
                *report.refused.entry(status.as_u16()).or_default() += 1;
                // A counter that still holds a ticket (say after a restart) is worked through
                // on the next tick; one that holds none calls.
                let message = body["message"].as_str().unwrap_or_default();
                if message.contains("still has ticket") {
                    holding = true;
                } else if message.contains("no current ticket") {
                    holding = false;
                }
            }
        }
    }
    report
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A lean client: small buffers, so that thousands fit in the benchmark's own memory.
pub fn lean_ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024)
}

/// Opens a hall screen's socket, says hello with `token` and waits for the snapshot.
pub async fn screen(ws_url: &str, token: &str) -> Result<Socket, String> {
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(ws_url, Some(lean_ws_config()), true)
            .await
            .map_err(|e| format!("websocket connect: {e}"))?;
    ws.send(Message::text(
        json!({"type": "hello", "channel": "hall", "token": token}).to_string(),
    ))
    .await
    .map_err(|e| format!("hello: {e}"))?;
    let first = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .map_err(|_| "no snapshot within 30 s".to_owned())?;
    match first {
        Some(Ok(Message::Text(t))) if t.as_str().contains("\"type\":\"snapshot\"") => Ok(ws),
        other => Err(format!("expected a snapshot, got {other:?}")),
    }
}

/// Opens `n` screens, `parallel` at a time.
pub async fn screens(
    ws_url: &str,
    token: &str,
    n: usize,
    parallel: usize,
) -> Result<Vec<Socket>, String> {
    let mut sockets = Vec::with_capacity(n);
    let mut pending = futures_util::stream::iter((0..n).map(|_| screen(ws_url, token)))
        .buffer_unordered(parallel.max(1));
    while let Some(s) = pending.next().await {
        sockets.push(s?);
    }
    Ok(sockets)
}

/// What a screen saw.
#[derive(Debug, Default)]
pub struct ScreenLog {
    /// Each call: the ticket number and when the message arrived.
    pub calls: Vec<(String, Instant)>,
    pub messages: u64,
    /// How the connection ended, if it did before `stop`.
    pub ended: Option<String>,
}

/// Reads a screen's messages until `stop` turns true or the socket closes, noting when each
/// `call` arrives. Only calls are parsed; the other messages are counted. The socket is given
/// back still open if it did not end.
pub async fn watch_screen(
    mut ws: Socket,
    mut stop: watch::Receiver<bool>,
) -> (Option<Socket>, ScreenLog) {
    let mut log = ScreenLog::default();
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(t))) => {
                    let at = Instant::now();
                    log.messages += 1;
                    if t.as_str().contains("\"type\":\"call\"")
                        && let Ok(v) = serde_json::from_str::<Value>(t.as_str())
                        && let Some(n) = v["number"].as_str()
                    {
                        log.calls.push((n.to_owned(), at));
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    log.ended = Some(format!("closed: {frame:?}"));
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    log.ended = Some(format!("error: {e}"));
                    break;
                }
                None => {
                    log.ended = Some("ended".into());
                    break;
                }
            }
        }
    }
    let open = log.ended.is_none().then_some(ws);
    (open, log)
}

/// Websocket round trips on an open hall socket: `n` pings, one at a time, each timed until
/// its pong (the server's connection task answers them), `gap` apart.
pub async fn ping_rtt(ws: &mut Socket, n: usize, gap: Duration) -> Result<Samples, String> {
    let mut samples = Samples::default();
    for i in 0..n {
        let payload = format!("rtt-{i}");
        let sent = Instant::now();
        ws.send(Message::Ping(payload.clone().into_bytes().into()))
            .await
            .map_err(|e| format!("ping: {e}"))?;
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
                .await
                .map_err(|_| "no pong within 10 s".to_owned())?;
            match frame {
                Some(Ok(Message::Pong(p))) if p.as_ref() == payload.as_bytes() => {
                    samples.push(sent.elapsed());
                    break;
                }
                Some(Ok(_)) => {}
                other => return Err(format!("socket ended during the ping: {other:?}")),
            }
        }
        tokio::time::sleep(gap).await;
    }
    Ok(samples)
}
