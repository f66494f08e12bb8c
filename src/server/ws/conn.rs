//! One websocket connection, from `hello` to close.
//!
//! The socket is split: a writer task owns the sending half and drains a bounded queue of
//! outgoing messages; this task owns the receiving half and does the rest (authentication,
//! snapshots, turning committed events into messages, pings). This task never waits for the
//! client: it puts messages on the queue with `try_send`, and a full queue (`OUTBOUND_QUEUE`
//! messages or `OUTBOUND_BYTES`) means the client is not reading, so it is disconnected
//! instead of buffered without end.
//!
//! Order of start-up (STYLE.md point 11): subscribe to the committed events first, then read
//! the snapshot and its version, and skip events at or below that version, so that nothing
//! committed is missed or sent twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;

use super::protocol::{Channel, ClientMessage, Envelope, Hello, Out, Refusal, close, close_reason};
use super::views::{Batch, Tracker};
use super::{
    HELLO_TIMEOUT, MAX_BAD_MESSAGES, MAX_INBOUND_MESSAGE, OUTBOUND_BYTES, OUTBOUND_QUEUE,
    PING_INTERVAL, RESYNC_INTERVAL, SILENCE_LIMIT, Upgrade, WRITE_TIMEOUT,
};
use crate::auth::{DeviceKind, Principal, Role};
use crate::server::AppState;
use crate::server::error::ApiError;
use crate::store::StoredEvent;

/// The most events handled in one go before the views are refreshed.
const MAX_EVENTS_PER_BATCH: usize = 512;

/// Why the connection ends.
#[derive(Debug)]
enum End {
    /// Send a close frame with this code and reason, then hang up.
    Close(u16, String),
    /// The client does not read: hang up without waiting for it.
    Slow,
    /// The client left, or the writer is gone.
    Gone,
}

impl From<Refusal> for End {
    fn from(r: Refusal) -> Self {
        End::Close(r.code, r.reason)
    }
}

/// How the client proved who it is, kept to check now and then that it still holds.
enum Credentials {
    Cookie(HeaderMap),
    Token(HeaderMap),
}

/// The sending side of the outgoing queue, bounded in messages and in bytes.
#[derive(Clone)]
struct Outbox {
    tx: mpsc::Sender<Message>,
    /// Bytes of text messages queued and not yet written (the writer subtracts).
    queued: Arc<AtomicUsize>,
}

impl Outbox {
    fn push(&self, msg: Message) -> Result<(), End> {
        let len = text_len(&msg);
        let queued = self.queued.load(Ordering::Acquire);
        if queued > 0 && queued + len > OUTBOUND_BYTES {
            return Err(End::Slow);
        }
        self.queued.fetch_add(len, Ordering::AcqRel);
        self.tx.try_send(msg).map_err(|e| {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            match e {
                mpsc::error::TrySendError::Full(_) => End::Slow,
                mpsc::error::TrySendError::Closed(_) => End::Gone,
            }
        })
    }
}

fn text_len(msg: &Message) -> usize {
    match msg {
        Message::Text(t) => t.len(),
        _ => 0,
    }
}

struct Conn {
    state: AppState,
    out: Outbox,
    /// The sequence number of the last message sent.
    seq: u64,
    /// The global version this connection has reached.
    version: i64,
    /// Events at or below this seq are in the last snapshot.
    skip_until: i64,
    tracker: Tracker,
    credentials: Credentials,
    peer: Option<std::net::SocketAddr>,
    last_heard: Instant,
    last_snapshot: Instant,
    bad_messages: u32,
}

/// Serves one upgraded socket until it closes.
pub(super) async fn serve(socket: WebSocket, state: AppState, upgrade: Upgrade) {
    let (sink, mut stream) = socket.split();
    let (tx, queue) = mpsc::channel(OUTBOUND_QUEUE);
    let out = Outbox {
        tx,
        queued: Arc::new(AtomicUsize::new(0)),
    };
    let mut writer = tokio::spawn(write(sink, queue, out.queued.clone()));
    let end = run(&state, upgrade, out.clone(), &mut stream).await;
    match end {
        End::Close(code, reason) => {
            tracing::debug!(code, %reason, "closing websocket");
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from(close_reason(&reason)),
            };
            // If even the close frame does not fit, the client is not reading: hang up.
            if out.tx.try_send(Message::Close(Some(frame))).is_err() {
                writer.abort();
            }
        }
        End::Slow => {
            tracing::warn!("websocket client too slow to read; disconnected");
            writer.abort();
        }
        End::Gone => {}
    }
    drop(out);
    // The writer ends after the close frame (or when the queue closes); give it a moment.
    if tokio::time::timeout(WRITE_TIMEOUT, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
    // Dropping the receiving half (with the writer's half gone) closes the TCP connection.
    drop(stream);
}

/// The writer task: sends queued messages in order; stops after a close frame, when the
/// queue closes, or when a write fails or takes longer than `WRITE_TIMEOUT`.
async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Message>,
    queued: Arc<AtomicUsize>,
) {
    while let Some(msg) = queue.recv().await {
        let last = matches!(msg, Message::Close(_));
        let len = text_len(&msg);
        let sent = tokio::time::timeout(WRITE_TIMEOUT, sink.send(msg)).await;
        queued.fetch_sub(len, Ordering::AcqRel);
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "websocket write failed");
                return;
            }
            Err(_) => {
                tracing::warn!("websocket write timed out; the client is not reading");
                return;
            }
        }
        if last {
            return;
        }
    }
    let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.close()).await;
}

async fn run(
    state: &AppState,
    upgrade: Upgrade,
    out: Outbox,
    stream: &mut SplitStream<WebSocket>,
) -> End {
    let stopping = state.hall.stopping();
    tokio::pin!(stopping);
    let text = tokio::select! {
        r = tokio::time::timeout(HELLO_TIMEOUT, first_text(stream)) => match r {
            Ok(Ok(text)) => text,
            Ok(Err(end)) => return end,
            Err(_) => {
                return End::Close(
                    close::UNAUTHORIZED,
                    format!("send hello within {} s", HELLO_TIMEOUT.as_secs()),
                );
            }
        },
        _ = &mut stopping => {
            return End::Close(close::RESTART, "the service is restarting".into());
        }
    };
    let hello = match serde_json::from_str::<ClientMessage>(&text) {
        Ok(ClientMessage::Hello(h)) => h,
        Ok(_) => {
            return End::Close(close::BAD_HELLO, "the first message must be hello".into());
        }
        Err(e) => return End::Close(close::BAD_HELLO, format!("bad hello: {e}")),
    };
    let mut conn = match Conn::authenticate(state, upgrade, hello, out).await {
        Ok(conn) => conn,
        Err(end) => return end,
    };
    match conn.serve(stream, stopping).await {
        Ok(()) => End::Gone,
        Err(end) => end,
    }
}

/// The first text message, skipping pings; anything else ends the connection.
async fn first_text(stream: &mut SplitStream<WebSocket>) -> Result<String, End> {
    loop {
        match stream.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Binary(_))) => {
                return Err(End::Close(
                    close::UNSUPPORTED,
                    "binary frames are not supported; send hello as JSON text".into(),
                ));
            }
            Some(Ok(Message::Close(_))) | None => return Err(End::Gone),
            Some(Err(e)) => return Err(read_error(&e)),
        }
    }
}

/// What a failed read means: a message over the limit gets 1009, anything else 1002.
fn read_error(e: &axum::Error) -> End {
    let text = e.to_string();
    tracing::debug!(error = %text, "websocket read failed");
    if text.contains("too long") || text.contains("Space limit") {
        End::Close(
            close::TOO_BIG,
            format!("message over {MAX_INBOUND_MESSAGE} bytes"),
        )
    } else if text.contains("Connection reset")
        || text.contains("closed")
        || text.contains("Broken pipe")
    {
        End::Gone
    } else {
        End::Close(close::PROTOCOL, format!("broken frame: {text}"))
    }
}

/// Whether `who` may use `channel`.
fn allowed(who: &Principal, channel: &Channel) -> bool {
    match (who, channel) {
        (Principal::User(_), Channel::Hall(_) | Channel::Counter(_)) => true,
        (Principal::User(u), Channel::Clerk(_)) => u.role >= Role::Clerk,
        (Principal::User(u), Channel::Manager) => u.role >= Role::Manager,
        (Principal::Device(d), Channel::Hall(_)) => matches!(
            d.kind,
            DeviceKind::Screen | DeviceKind::CounterDisplay | DeviceKind::Kiosk
        ),
        (Principal::Device(d), Channel::Counter(_)) => d.kind == DeviceKind::CounterDisplay,
        (Principal::Device(_), _) => false,
    }
}

/// Maps an authentication error to a close: too many attempts is its own code.
fn auth_error(e: ApiError) -> End {
    match e {
        ApiError::TooManyRequests { retry_after_secs } => End::Close(
            close::TOO_MANY,
            format!("too many attempts; retry in {retry_after_secs} s"),
        ),
        ApiError::Unavailable(m) => End::Close(close::RESTART, m),
        ApiError::Internal(detail) => {
            tracing::error!(%detail, "websocket authentication failed");
            End::Close(close::INTERNAL, "internal error".into())
        }
        other => End::Close(close::UNAUTHORIZED, other.to_string()),
    }
}

impl Conn {
    async fn authenticate(
        state: &AppState,
        upgrade: Upgrade,
        hello: Hello,
        out: Outbox,
    ) -> Result<Conn, End> {
        let channel = hello.channel(&state.office)?;
        let (principal, credentials) = match &hello.token {
            Some(token) => {
                let headers = bearer(token).ok_or_else(|| {
                    End::Close(close::UNAUTHORIZED, "the token is not valid".into())
                })?;
                let who = state
                    .auth
                    .authenticate(&headers, &Method::GET, upgrade.peer)
                    .await
                    .map_err(auth_error)?;
                (who, Credentials::Token(headers))
            }
            None => (upgrade.principal, Credentials::Cookie(upgrade.cookies)),
        };
        let Some(who) = principal else {
            return Err(End::Close(
                close::UNAUTHORIZED,
                "sign in, or send a device token in hello".into(),
            ));
        };
        if !allowed(&who, &channel) {
            return Err(End::Close(
                close::FORBIDDEN,
                format!(
                    "{} may not use the {:?} channel",
                    who_str(&who),
                    hello.channel
                ),
            ));
        }
        tracing::debug!(who = %who.actor(), ?channel, "websocket subscribed");
        let now = Instant::now();
        Ok(Conn {
            state: state.clone(),
            out,
            seq: 0,
            version: 0,
            skip_until: 0,
            tracker: Tracker::new(channel),
            credentials,
            peer: upgrade.peer,
            last_heard: now,
            last_snapshot: now,
            bad_messages: 0,
        })
    }

    /// The subscribed connection: snapshot, then events, client messages and pings until
    /// one side ends it.
    async fn serve(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
        mut stopping: std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> Result<(), End> {
        // Subscribe first, then read: see the module comment.
        let mut events = self.state.queue.subscribe();
        let mut messages = self.state.hall.subscribe();
        self.snapshot(&mut messages)?;
        let mut wants_messages = self.tracker.wants_messages();
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stopping => {
                    return Err(End::Close(
                        close::RESTART,
                        "the service is restarting; reconnect in a moment".into(),
                    ));
                }
                r = events.recv() => match r {
                    Ok(first) => {
                        let mut batch = vec![first];
                        let mut lagged = false;
                        while batch.len() < MAX_EVENTS_PER_BATCH {
                            match events.try_recv() {
                                Ok(e) => batch.push(e),
                                Err(TryRecvError::Lagged(_)) => {
                                    lagged = true;
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        if lagged {
                            // Events were lost for this connection: the whole state again.
                            self.snapshot(&mut messages)?;
                        } else {
                            self.events(&batch, &mut messages)?;
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        tracing::debug!(missed = n, "websocket lagged behind the events");
                        self.snapshot(&mut messages)?;
                    }
                    Err(RecvError::Closed) => {
                        return Err(End::Close(close::RESTART, "the service is stopping".into()));
                    }
                },
                r = messages.changed(), if wants_messages => {
                    if r.is_ok() {
                        let list = messages.borrow_and_update().to_vec();
                        self.send(&Out::Messages { messages: list })?;
                    } else {
                        // The hall service is gone (only at shutdown): nothing more to wait for.
                        wants_messages = false;
                    }
                }
                frame = stream.next() => self.inbound(frame, &mut messages)?,
                _ = ping.tick() => self.tick().await?,
            }
        }
    }

    /// Sends a snapshot of the channel and starts skipping the events it already holds.
    fn snapshot(
        &mut self,
        messages: &mut tokio::sync::watch::Receiver<crate::hall::ActiveMessages>,
    ) -> Result<(), End> {
        let list = messages.borrow_and_update().clone();
        let now = self.state.clock.now();
        let (snapshot, version) = self
            .state
            .queue
            .read(|engine, version| (self.tracker.snapshot(engine, now, &list), version));
        self.tracker.record_snapshot(&snapshot);
        self.skip_until = version;
        self.version = self.version.max(version);
        self.last_snapshot = Instant::now();
        self.send(&Out::Snapshot(snapshot))
    }

    fn events(
        &mut self,
        batch: &[std::sync::Arc<StoredEvent>],
        messages: &mut tokio::sync::watch::Receiver<crate::hall::ActiveMessages>,
    ) -> Result<(), End> {
        let fresh: Vec<&StoredEvent> = batch
            .iter()
            .map(|e| e.as_ref())
            .filter(|e| e.seq > self.skip_until)
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let now = self.state.clock.now();
        let tracker = &self.tracker;
        let (result, version): (Batch, i64) = self
            .state
            .queue
            .read(|engine, version| (tracker.on_events(engine, &fresh, now), version));
        if result.day_started {
            return self.snapshot(messages);
        }
        self.version = self.version.max(version);
        for out in &self.tracker.finish(result) {
            self.send(out)?;
        }
        Ok(())
    }

    /// Handles what the client sent.
    fn inbound(
        &mut self,
        frame: Option<Result<Message, axum::Error>>,
        messages: &mut tokio::sync::watch::Receiver<crate::hall::ActiveMessages>,
    ) -> Result<(), End> {
        self.last_heard = Instant::now();
        let text = match frame {
            None | Some(Ok(Message::Close(_))) => return Err(End::Gone),
            Some(Err(e)) => return Err(read_error(&e)),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => return Ok(()),
            Some(Ok(Message::Binary(_))) => {
                return self.bad("binary frames are not supported; send JSON text".into());
            }
            Some(Ok(Message::Text(t))) => t,
        };
        match serde_json::from_str::<ClientMessage>(text.as_str()) {
            Ok(ClientMessage::Resync(_)) => {
                if self.last_snapshot.elapsed() < RESYNC_INTERVAL {
                    return self.send(&Out::Error {
                        code: "too_soon",
                        message: format!(
                            "a snapshot was sent less than {} s ago; resync again later",
                            RESYNC_INTERVAL.as_secs()
                        ),
                    });
                }
                self.snapshot(messages)
            }
            Ok(ClientMessage::Hello(_)) => {
                self.bad("already subscribed; to change the channel, open a new connection".into())
            }
            Err(e) => self.bad(format!(
                "not understood ({e}); expected {{\"type\":\"resync\"}}"
            )),
        }
    }

    /// Answers a message it could not understand; too many of them end the connection.
    fn bad(&mut self, message: String) -> Result<(), End> {
        self.bad_messages += 1;
        if self.bad_messages > MAX_BAD_MESSAGES {
            return Err(End::Close(
                close::POLICY,
                format!("more than {MAX_BAD_MESSAGES} messages not understood"),
            ));
        }
        self.send(&Out::Error {
            code: "bad_message",
            message,
        })
    }

    /// Every `PING_INTERVAL`: hang up on a silent client, ping, check that the credentials
    /// still hold, and refresh the views that move with the clock.
    async fn tick(&mut self) -> Result<(), End> {
        if self.last_heard.elapsed() > SILENCE_LIMIT {
            return Err(End::Close(
                close::TIMEOUT,
                format!("no answer to pings for {} s", SILENCE_LIMIT.as_secs()),
            ));
        }
        self.out.push(Message::Ping(Default::default()))?;
        self.recheck().await?;
        let now = self.state.clock.now();
        let tracker = &self.tracker;
        let (result, version) = self
            .state
            .queue
            .read(|engine, version| (tracker.on_tick(engine, now), version));
        self.version = self.version.max(version);
        for out in &self.tracker.finish(result) {
            self.send(out)?;
        }
        Ok(())
    }

    /// Checks that the session or device token still stands and still allows the channel
    /// (a user signed out, a device revoked, a role changed). A passing failure of the
    /// check itself (storage busy) keeps the connection.
    async fn recheck(&mut self) -> Result<(), End> {
        let headers = match &self.credentials {
            Credentials::Cookie(h) | Credentials::Token(h) => h,
        };
        match self
            .state
            .auth
            .authenticate(headers, &Method::GET, self.peer)
            .await
        {
            Ok(Some(who)) if allowed(&who, self.tracker.channel()) => Ok(()),
            Ok(Some(_)) => Err(End::Close(
                close::FORBIDDEN,
                "no longer allowed on this channel".into(),
            )),
            Ok(None) | Err(ApiError::Unauthorized) => Err(End::Close(
                close::UNAUTHORIZED,
                "signed out or the device was revoked".into(),
            )),
            Err(e) => {
                tracing::debug!(error = %e, "websocket re-authentication failed; kept");
                Ok(())
            }
        }
    }

    /// Sends a message with the next sequence number.
    fn send(&mut self, body: &Out) -> Result<(), End> {
        let envelope = Envelope {
            seq: self.seq + 1,
            version: self.version,
            body,
        };
        let json = serde_json::to_string(&envelope).map_err(|e| {
            tracing::error!(error = %e, "cannot serialize a websocket message");
            End::Close(close::INTERNAL, "internal error".into())
        })?;
        self.out.push(Message::Text(json.into()))?;
        self.seq += 1;
        Ok(())
    }
}

fn bearer(token: &str) -> Option<HeaderMap> {
    let value = HeaderValue::from_str(&format!("Bearer {}", token.trim())).ok()?;
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);
    Some(headers)
}

fn who_str(who: &Principal) -> String {
    match who {
        Principal::User(u) => format!("a {}", u.role.as_str()),
        Principal::Device(d) => format!("a {} device", d.kind.as_str()),
    }
}
