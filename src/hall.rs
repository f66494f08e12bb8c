//! Hall messages: short texts a manager posts to the hall screens ("Wydział komunikacji
//! nieczynny 12-13", "Від 1 липня нові бланки"), now or on a schedule, and withdraws.
//!
//! Messages live in the `hall_messages` table (migration 0003) through the service's own
//! connection to the database file, and in memory as the list of messages not yet withdrawn
//! or ended. The messages active *now* are published on a `tokio::sync::watch` channel that
//! every hall websocket holds: a change (post, withdraw, a scheduled start or end) replaces the
//! list, and each socket pushes the new list to its screen. A watch channel keeps only the
//! latest list, so a screen can never fall behind on messages.
//!
//! `Hall` also carries the signal that the service is stopping (`shutdown`), which ends the
//! schedule keeper and tells every websocket to close with "service restarting": upgraded
//! sockets are not covered by the HTTP server's graceful shutdown.
//!
//! Nothing here names a citizen; the author of a message (a staff member) is recorded and
//! shown to signed-in users only, never to screens.

use std::path::Path as FsPath;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use crate::auth::{Access, DeviceKind, Principal, Role};
use crate::clock::Clock;
use crate::server::AppState;
use crate::server::api::TextsView;
use crate::server::error::{ApiError, ApiJson};
use crate::server::routes::{RouteSpec, schema};

/// The most messages posted and neither withdrawn nor ended at once. A hall screen shows a
/// few at most; the bound also keeps every hall snapshot small.
pub const MAX_LIVE_MESSAGES: usize = 20;

/// The longest text of one language, in characters.
pub const MAX_TEXT_CHARS: usize = 500;

/// How long the schedule keeper sleeps at most before looking at the clock again (the clock
/// may be moved, in tests, or stepped by NTP).
const RECHECK: Duration = Duration::from_secs(30);

/// How long a statement waits for the write lock held by the event writer.
const BUSY_TIMEOUT_MS: i64 = 5_000;

/// The messages a screen shows now, in posting order.
pub type ActiveMessages = Arc<[ScreenMessage]>;

/// The hall messages service: cheap to clone.
#[derive(Clone)]
pub struct Hall {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Hall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hall").finish_non_exhaustive()
    }
}

struct Inner {
    /// Used only from blocking tasks. Locked before `live` when both are needed.
    db: Mutex<Connection>,
    /// Messages neither withdrawn nor ended (as of the last look at the clock).
    live: Mutex<Vec<StoredMessage>>,
    clock: Arc<dyn Clock>,
    active: watch::Sender<ActiveMessages>,
    /// Wakes the schedule keeper when the list changes (a new start or end to wait for).
    wake: Notify,
    closing: watch::Sender<bool>,
}

/// Why a hall message could not be posted, withdrawn or loaded.
#[derive(Debug, thiserror::Error)]
pub enum HallError {
    #[error("{0}")]
    Invalid(String),
    #[error("{MAX_LIVE_MESSAGES} messages are already shown or scheduled; withdraw one first")]
    TooMany,
    #[error("no hall message {0}")]
    NotFound(i64),
    #[error("hall message {id} in the database is unreadable: {reason}")]
    Corrupt { id: i64, reason: String },
    #[error("the hall messages table is missing; was migration 0003 applied? ({0})")]
    NoTable(rusqlite::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a blocking task failed: {0}")]
    Task(String),
}

impl From<HallError> for ApiError {
    fn from(e: HallError) -> Self {
        match e {
            HallError::Invalid(m) => ApiError::Unprocessable(m),
            HallError::TooMany => ApiError::Conflict {
                code: "too_many_messages",
                message: e.to_string(),
            },
            HallError::NotFound(_) => ApiError::NotFound(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StoredMessage {
    id: i64,
    pl: String,
    uk: Option<String>,
    en: Option<String>,
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
    created_at: Timestamp,
    created_by: String,
    withdrawn_at: Option<Timestamp>,
    withdrawn_by: Option<String>,
}

/// Where a message stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Posted with a start in the future.
    Scheduled,
    /// Shown on the hall screens now.
    Active,
    /// Past its end.
    Ended,
    Withdrawn,
}

impl StoredMessage {
    fn status(&self, now: Timestamp) -> MessageStatus {
        if self.withdrawn_at.is_some() {
            MessageStatus::Withdrawn
        } else if self.ends_at.is_some_and(|end| end <= now) {
            MessageStatus::Ended
        } else if self.starts_at.is_some_and(|start| start > now) {
            MessageStatus::Scheduled
        } else {
            MessageStatus::Active
        }
    }

    fn text(&self) -> TextsView {
        TextsView {
            pl: self.pl.clone(),
            uk: self.uk.clone().unwrap_or_else(|| self.pl.clone()),
            en: self.en.clone().unwrap_or_else(|| self.pl.clone()),
        }
    }

    fn screen(&self) -> ScreenMessage {
        ScreenMessage {
            id: self.id,
            text: self.text(),
        }
    }

    /// The message as the API shows it; `with_authors` only for signed-in users.
    fn view(&self, now: Timestamp, with_authors: bool) -> MessageView {
        let ts = |t: Option<Timestamp>| t.map(|t| t.to_string());
        MessageView {
            id: self.id,
            text: self.text(),
            status: self.status(now),
            starts_at: ts(self.starts_at),
            ends_at: ts(self.ends_at),
            created_at: self.created_at.to_string(),
            created_by: with_authors.then(|| self.created_by.clone()),
            withdrawn_at: ts(self.withdrawn_at),
            withdrawn_by: self.withdrawn_by.clone().filter(|_| with_authors),
        }
    }
}

/// A message as a hall screen gets it: the text in each language, nothing about who posted
/// it. Languages without their own text carry the Polish one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScreenMessage {
    pub id: i64,
    pub text: TextsView,
}

/// A hall message as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MessageView {
    pub id: i64,
    /// The text in each language (the Polish one where no translation was given).
    pub text: TextsView,
    pub status: MessageStatus,
    /// When it starts being shown (RFC 3339); `null`: from when it was posted.
    pub starts_at: Option<String>,
    /// When it stops being shown; `null`: until withdrawn.
    pub ends_at: Option<String>,
    pub created_at: String,
    /// Who posted it (`user:NAME`); only for signed-in users.
    pub created_by: Option<String>,
    pub withdrawn_at: Option<String>,
    /// Who withdrew it; only for signed-in users.
    pub withdrawn_by: Option<String>,
}

/// A new hall message: exactly one of `text` (the same in every language) and `texts`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessageRequest {
    /// One text for every language, 1 to 500 characters.
    #[serde(default)]
    pub text: Option<String>,
    /// A text per language; Ukrainian and English fall back to the Polish one.
    #[serde(default)]
    pub texts: Option<MessageTexts>,
    /// When to start showing it (RFC 3339 with an offset, e.g. `2025-03-10T12:00:00+01:00`);
    /// omitted: now.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// When to stop showing it; omitted: until withdrawn.
    #[serde(default)]
    pub ends_at: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageTexts {
    pub pl: String,
    #[serde(default)]
    pub uk: Option<String>,
    #[serde(default)]
    pub en: Option<String>,
}

/// A request parsed and checked: what gets stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NewMessage {
    pl: String,
    uk: Option<String>,
    en: Option<String>,
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
}

impl NewMessage {
    fn parse(req: PostMessageRequest, now: Timestamp) -> Result<NewMessage, HallError> {
        let (pl, uk, en) = match (req.text, req.texts) {
            (Some(text), None) => (checked_text("text", &text)?, None, None),
            (None, Some(t)) => (
                checked_text("texts.pl", &t.pl)?,
                t.uk.as_deref()
                    .map(|s| checked_text("texts.uk", s))
                    .transpose()?,
                t.en.as_deref()
                    .map(|s| checked_text("texts.en", s))
                    .transpose()?,
            ),
            _ => {
                return Err(HallError::Invalid(
                    "give exactly one of `text` (one text for every language) and `texts` \
                     ({\"pl\": ..., \"uk\": ..., \"en\": ...})"
                        .into(),
                ));
            }
        };
        let starts_at = req
            .starts_at
            .as_deref()
            .map(|s| parse_time("starts_at", s))
            .transpose()?;
        let ends_at = req
            .ends_at
            .as_deref()
            .map(|s| parse_time("ends_at", s))
            .transpose()?;
        if let Some(end) = ends_at {
            if end <= now {
                return Err(HallError::Invalid(format!(
                    "ends_at ({end}) is not in the future"
                )));
            }
            if starts_at.is_some_and(|start| end <= start) {
                return Err(HallError::Invalid("ends_at must be after starts_at".into()));
            }
        }
        Ok(NewMessage {
            pl,
            uk,
            en,
            starts_at,
            ends_at,
        })
    }
}

/// Trims a text and checks its length and characters: line breaks are kept, other control
/// characters refused (they would garble a screen).
fn checked_text(field: &str, s: &str) -> Result<String, HallError> {
    let s = s.trim();
    let chars = s.chars().count();
    if chars == 0 || chars > MAX_TEXT_CHARS {
        return Err(HallError::Invalid(format!(
            "`{field}` must be 1 to {MAX_TEXT_CHARS} characters, not {chars}"
        )));
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(HallError::Invalid(format!(
            "`{field}` contains a control character; only line breaks are allowed"
        )));
    }
    Ok(s.to_owned())
}

fn parse_time(field: &str, s: &str) -> Result<Timestamp, HallError> {
    s.trim().parse::<Timestamp>().map_err(|e| {
        HallError::Invalid(format!(
            "`{field}` is not a time with an offset like 2025-03-10T12:00:00+01:00: {e}"
        ))
    })
}

impl Hall {
    /// Opens the service's connection to the database at `db` (its migrations already
    /// applied by `Store::open`), loads the messages still to show, and starts the schedule
    /// keeper. Needs a tokio runtime.
    pub async fn open(db: &FsPath, clock: Arc<dyn Clock>) -> Result<Hall, HallError> {
        let path = db.to_owned();
        let now = clock.now();
        let (conn, live) = tokio::task::spawn_blocking(move || {
            let conn = Connection::open(&path)?;
            // WAL persists in the file (the store sets it first); asking again costs nothing
            // and makes sure. The others are per connection.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "busy_timeout", BUSY_TIMEOUT_MS)?;
            let live = load_live(&conn, now)?;
            Ok::<_, HallError>((conn, live))
        })
        .await
        .map_err(|e| HallError::Task(e.to_string()))??;
        let active = active_at(&live, now);
        let inner = Arc::new(Inner {
            db: Mutex::new(conn),
            live: Mutex::new(live),
            clock,
            active: watch::Sender::new(active),
            wake: Notify::new(),
            closing: watch::Sender::new(false),
        });
        tokio::spawn(keep_schedule(inner.clone()));
        Ok(Hall { inner })
    }

    /// The messages active now, kept current: `borrow_and_update` gives the list, `changed`
    /// waits for the next one.
    pub fn subscribe(&self) -> watch::Receiver<ActiveMessages> {
        self.inner.active.subscribe()
    }

    /// The messages active now.
    pub fn active(&self) -> ActiveMessages {
        self.inner.active.borrow().clone()
    }

    /// The messages shown now or scheduled, in posting order. `with_authors`: include who
    /// posted them (for signed-in users).
    pub fn list(&self, with_authors: bool) -> Vec<MessageView> {
        self.inner.refresh();
        let now = self.inner.clock.now();
        lock(&self.inner.live)
            .iter()
            .map(|m| m.view(now, with_authors))
            .collect()
    }

    /// Stores a new message and, if it is active now, shows it on the hall screens.
    pub async fn post(
        &self,
        req: PostMessageRequest,
        who: &Principal,
    ) -> Result<MessageView, HallError> {
        let now = self.inner.clock.now();
        let new = NewMessage::parse(req, now)?;
        let author = who.actor().to_string();
        let inner = self.inner.clone();
        let view = tokio::task::spawn_blocking(move || {
            let db = lock(&inner.db);
            if lock(&inner.live).len() >= MAX_LIVE_MESSAGES {
                inner.refresh();
                if lock(&inner.live).len() >= MAX_LIVE_MESSAGES {
                    return Err(HallError::TooMany);
                }
            }
            db.execute(
                "INSERT INTO hall_messages (text_pl, text_uk, text_en, starts_at, ends_at,
                     created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    new.pl,
                    new.uk,
                    new.en,
                    new.starts_at.map(|t| t.as_millisecond()),
                    new.ends_at.map(|t| t.as_millisecond()),
                    now.as_millisecond(),
                    author,
                ],
            )?;
            let stored = StoredMessage {
                id: db.last_insert_rowid(),
                pl: new.pl,
                uk: new.uk,
                en: new.en,
                starts_at: new.starts_at,
                ends_at: new.ends_at,
                created_at: now,
                created_by: author,
                withdrawn_at: None,
                withdrawn_by: None,
            };
            let view = stored.view(now, true);
            // Published only after the row is committed (autocommit), under the db lock so
            // that two changes are published in the order they were stored.
            lock(&inner.live).push(stored);
            inner.refresh();
            drop(db);
            Ok(view)
        })
        .await
        .map_err(|e| HallError::Task(e.to_string()))??;
        self.inner.wake.notify_one();
        tracing::info!(id = view.id, status = ?view.status, "hall message posted");
        Ok(view)
    }

    /// Withdraws a message: it leaves the hall screens at once. Withdrawing one already
    /// withdrawn changes nothing and answers with it as it is.
    pub async fn withdraw(&self, id: i64, who: &Principal) -> Result<MessageView, HallError> {
        let now = self.inner.clock.now();
        let actor = who.actor().to_string();
        let inner = self.inner.clone();
        let view = tokio::task::spawn_blocking(move || {
            let db = lock(&inner.db);
            db.execute(
                "UPDATE hall_messages SET withdrawn_at = ?2, withdrawn_by = ?3
                 WHERE id = ?1 AND withdrawn_at IS NULL",
                params![id, now.as_millisecond(), actor],
            )?;
            let stored = db
                .query_row(&format!("{SELECT} WHERE id = ?1"), [id], |r| {
                    Ok(row_values(r))
                })
                .optional()?
                .ok_or(HallError::NotFound(id))?
                .and_then(to_message)?;
            lock(&inner.live).retain(|m| m.id != id);
            inner.refresh();
            drop(db);
            Ok::<_, HallError>(stored.view(now, true))
        })
        .await
        .map_err(|e| HallError::Task(e.to_string()))??;
        self.inner.wake.notify_one();
        tracing::info!(id, "hall message withdrawn");
        Ok(view)
    }

    /// Tells the schedule keeper and every websocket that the service is stopping.
    pub fn shutdown(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Resolves once `shutdown` has been called (at once if it already has).
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        stopping(self.inner.closing.subscribe())
    }
}

impl Inner {
    /// Drops ended messages from the live list and publishes the active ones if they
    /// changed. Returns when the next scheduled start or end falls due.
    fn refresh(&self) -> Option<Timestamp> {
        let now = self.clock.now();
        let mut live = lock(&self.live);
        live.retain(|m| m.status(now) != MessageStatus::Ended);
        let active = active_at(&live, now);
        self.active.send_if_modified(|current| {
            if **current == *active {
                false
            } else {
                *current = active;
                true
            }
        });
        live.iter()
            .flat_map(|m| [m.starts_at, m.ends_at])
            .flatten()
            .filter(|t| *t > now)
            .min()
    }
}

fn active_at(live: &[StoredMessage], now: Timestamp) -> ActiveMessages {
    live.iter()
        .filter(|m| m.status(now) == MessageStatus::Active)
        .map(StoredMessage::screen)
        .collect()
}

async fn stopping(mut closing: watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, before anything else is awaited.
    let _ = closing.wait_for(|c| *c).await;
}

/// Starts and ends scheduled messages on time, until the service stops.
async fn keep_schedule(inner: Arc<Inner>) {
    let stop = stopping(inner.closing.subscribe());
    tokio::pin!(stop);
    loop {
        let wait = match inner.refresh() {
            Some(next) => {
                let until = inner.clock.now().duration_until(next);
                // A few milliseconds past the boundary, so that it has surely passed.
                Duration::try_from(until)
                    .unwrap_or_default()
                    .saturating_add(Duration::from_millis(5))
                    .min(RECHECK)
            }
            None => RECHECK,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = inner.wake.notified() => {}
            _ = &mut stop => break,
        }
    }
}

const SELECT: &str = "SELECT id, text_pl, text_uk, text_en, starts_at, ends_at, created_at,
    created_by, withdrawn_at, withdrawn_by FROM hall_messages";

type Row = (
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
    String,
    Option<i64>,
    Option<String>,
);

fn row_values(r: &rusqlite::Row<'_>) -> Result<Row, HallError> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn to_message(row: Row) -> Result<StoredMessage, HallError> {
    let (id, pl, uk, en, starts, ends, created, created_by, withdrawn, withdrawn_by) = row;
    let ts = |ms: i64| {
        Timestamp::from_millisecond(ms).map_err(|e| HallError::Corrupt {
            id,
            reason: e.to_string(),
        })
    };
    Ok(StoredMessage {
        id,
        pl,
        uk,
        en,
        starts_at: starts.map(ts).transpose()?,
        ends_at: ends.map(ts).transpose()?,
        created_at: ts(created)?,
        created_by,
        withdrawn_at: withdrawn.map(ts).transpose()?,
        withdrawn_by,
    })
}

/// The messages neither withdrawn nor ended at `now`.
fn load_live(conn: &Connection, now: Timestamp) -> Result<Vec<StoredMessage>, HallError> {
    let mut stmt = conn
        .prepare(&format!(
            "{SELECT} WHERE withdrawn_at IS NULL AND (ends_at IS NULL OR ends_at > ?1)
             ORDER BY id"
        ))
        .map_err(HallError::NoTable)?;
    let rows = stmt.query_map([now.as_millisecond()], |r| Ok(row_values(r)))?;
    let mut live = Vec::new();
    for row in rows {
        live.push(row?.and_then(to_message)?);
    }
    Ok(live)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ------------------------------------------------------------------ routes

const SCREENS: &[DeviceKind] = &[DeviceKind::Screen];

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/messages",
            access: Access::users_and_devices(Role::Clerk, SCREENS),
            tag: "messages",
            summary: "Hall messages shown now or scheduled",
            request: None,
            response: Some(schema::<Vec<MessageView>>),
            status: 200,
            handler: || get(list_messages),
        },
        RouteSpec {
            method: Method::POST,
            path: "/api/v1/messages",
            access: Access::users(Role::Manager),
            tag: "messages",
            summary: "Post a message to the hall screens, now or scheduled",
            request: Some(schema::<PostMessageRequest>),
            response: Some(schema::<MessageView>),
            status: 201,
            handler: || post(post_message),
        },
        RouteSpec {
            method: Method::DELETE,
            path: "/api/v1/messages/{id}",
            access: Access::users(Role::Manager),
            tag: "messages",
            summary: "Withdraw a hall message (it leaves the screens at once)",
            request: None,
            response: Some(schema::<MessageView>),
            status: 200,
            handler: || delete(withdraw_message),
        },
    ]
}

async fn list_messages(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> ApiJson<Vec<MessageView>> {
    ApiJson(state.hall.list(who.user().is_some()))
}

async fn post_message(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiJson(req): ApiJson<PostMessageRequest>,
) -> Result<(StatusCode, ApiJson<MessageView>), ApiError> {
    let view = state.hall.post(req, &who).await?;
    state
        .audit
        .record(
            &who,
            "message.post",
            format!("message:{}", view.id),
            None,
            crate::audit::json(&view),
        )
        .await;
    Ok((StatusCode::CREATED, ApiJson(view)))
}

async fn withdraw_message(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<ApiJson<MessageView>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("`{id}` is not a hall message id")))?;
    let before = state.hall.list(true).into_iter().find(|m| m.id == id);
    let view = state.hall.withdraw(id, &who).await?;
    // Withdrawing a message already withdrawn changes nothing: nothing to record.
    if before.is_some() {
        state
            .audit
            .record(
                &who,
                "message.withdraw",
                format!("message:{id}"),
                before.as_ref().and_then(crate::audit::json),
                crate::audit::json(&view),
            )
            .await;
    }
    Ok(ApiJson(view))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn req(text: Option<&str>, starts: Option<&str>, ends: Option<&str>) -> PostMessageRequest {
        PostMessageRequest {
            text: text.map(str::to_owned),
            texts: None,
            starts_at: starts.map(str::to_owned),
            ends_at: ends.map(str::to_owned),
        }
    }

    #[test]
    fn requests_are_parsed_once() {
        let now = at("2025-03-10T10:00:00Z");
        let m = NewMessage::parse(req(Some("  Przerwa 12-13 \n"), None, None), now).expect("valid");
        assert_eq!(m.pl, "Przerwa 12-13");
        assert!(NewMessage::parse(req(None, None, None), now).is_err());
        assert!(NewMessage::parse(req(Some("   "), None, None), now).is_err());
        assert!(NewMessage::parse(req(Some(&"x".repeat(501)), None, None), now).is_err());
        assert!(NewMessage::parse(req(Some(&"ż".repeat(500)), None, None), now).is_ok());
        assert!(NewMessage::parse(req(Some("a\u{7}b"), None, None), now).is_err());
        assert!(NewMessage::parse(req(Some("a\nb"), None, None), now).is_ok());
        // Ends in the past, ends before it starts, no offset.
        assert!(
            NewMessage::parse(req(Some("a"), None, Some("2025-03-10T09:00:00Z")), now).is_err()
        );
        assert!(
            NewMessage::parse(
                req(
                    Some("a"),
                    Some("2025-03-10T12:00:00Z"),
                    Some("2025-03-10T11:00:00Z")
                ),
                now
            )
            .is_err()
        );
        assert!(NewMessage::parse(req(Some("a"), Some("2025-03-10T12:00:00"), None), now).is_err());
        let both = PostMessageRequest {
            texts: Some(MessageTexts {
                pl: "a".into(),
                uk: None,
                en: None,
            }),
            ..req(Some("a"), None, None)
        };
        assert!(NewMessage::parse(both, now).is_err());
    }

    #[test]
    fn status_follows_the_schedule() {
        let m = StoredMessage {
            id: 1,
            pl: "Przerwa".into(),
            uk: None,
            en: Some("Break".into()),
            starts_at: Some(at("2025-03-10T12:00:00Z")),
            ends_at: Some(at("2025-03-10T13:00:00Z")),
            created_at: at("2025-03-10T08:00:00Z"),
            created_by: "user:kierownik".into(),
            withdrawn_at: None,
            withdrawn_by: None,
        };
        assert_eq!(
            m.status(at("2025-03-10T11:59:59Z")),
            MessageStatus::Scheduled
        );
        assert_eq!(m.status(at("2025-03-10T12:00:00Z")), MessageStatus::Active);
        assert_eq!(m.status(at("2025-03-10T13:00:00Z")), MessageStatus::Ended);
        let text = m.text();
        assert_eq!((text.uk.as_str(), text.en.as_str()), ("Przerwa", "Break"));
        let view = m.view(at("2025-03-10T12:30:00Z"), false);
        assert_eq!(view.created_by, None);
        let json = serde_json::to_string(&m.screen()).expect("json");
        assert!(!json.contains("kierownik"), "{json}");
    }
}
