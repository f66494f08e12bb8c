//! The queue API under `/api/v1`: issuing tickets, counter actions, manager changes, and the
//! queue state. Bodies are parsed into domain types here, once; the engine decides; the
//! answer is sent only after the change is committed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::AppState;
use super::error::{ApiError, ApiJson};
use super::routes::{RouteSpec, schema};
use crate::audit;
use crate::auth::{Access, DeviceKind, Principal, Role};
use crate::engine::{
    CaseTypeCode, Command, CounterId, CounterState, CounterStatus, Engine, Lang, PriorityCode,
    Texts, Ticket, TicketNumber, TransferTarget,
};
use crate::store::StoredEvent;

const KIOSK: &[DeviceKind] = &[DeviceKind::Kiosk];
const ALL_DEVICES: &[DeviceKind] = &[
    DeviceKind::Kiosk,
    DeviceKind::Screen,
    DeviceKind::CounterDisplay,
];

// ------------------------------------------------------------------ the route list

pub fn routes() -> Vec<RouteSpec> {
    let mut r = vec![
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/office",
            access: Access::users_and_devices(Role::Clerk, ALL_DEVICES),
            tag: "queue",
            summary: "The office: case types, counters and priority categories with their names",
            request: None,
            response: Some(schema::<OfficeView>),
            status: 200,
            handler: || get(office),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/queues",
            access: Access::users_and_devices(Role::Clerk, ALL_DEVICES),
            tag: "queue",
            summary: "Each case type's queue: people waiting, estimated wait, whether it issues",
            request: None,
            response: Some(schema::<QueuesView>),
            status: 200,
            handler: || get(queues),
        },
        RouteSpec {
            method: Method::POST,
            path: "/api/v1/tickets",
            access: Access::devices(KIOSK),
            tag: "kiosk",
            summary: "Issue a ticket (kiosk)",
            request: Some(schema::<IssueRequest>),
            response: Some(schema::<IssuedTicket>),
            status: 201,
            handler: || post(issue),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/tickets",
            access: Access::users(Role::Clerk),
            tag: "queue",
            summary: "Today's tickets",
            request: None,
            response: Some(schema::<Vec<TicketView>>),
            status: 200,
            handler: || get(tickets),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/tickets/{number}",
            access: Access::users(Role::Clerk),
            tag: "queue",
            summary: "One of today's tickets by number",
            request: None,
            response: Some(schema::<TicketView>),
            status: 200,
            handler: || get(ticket),
        },
        RouteSpec {
            method: Method::POST,
            path: "/api/v1/tickets/{number}/cancel",
            access: Access::users(Role::Manager),
            tag: "manager",
            summary: "Cancel a ticket that is not finished, with a reason",
            request: Some(schema::<ReasonRequest>),
            response: Some(schema::<TicketView>),
            status: 200,
            handler: || post(cancel),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/counters",
            access: Access::users(Role::Clerk),
            tag: "counter",
            summary: "Every counter: open, paused or closed, who, and its current ticket",
            request: None,
            response: Some(schema::<Vec<CounterView>>),
            status: 200,
            handler: || get(counters),
        },
        RouteSpec {
            method: Method::PUT,
            path: "/api/v1/counters/{id}/serves",
            access: Access::users(Role::Manager),
            tag: "manager",
            summary: "Move a counter between case types and set weights (from its next call)",
            request: Some(schema::<ServesRequest>),
            response: Some(schema::<CounterView>),
            status: 200,
            handler: || put(set_serves),
        },
        RouteSpec {
            method: Method::PUT,
            path: "/api/v1/case-types/{code}/issuing",
            access: Access::users(Role::Manager),
            tag: "manager",
            summary: "Open or stop issuing tickets of a case type for today",
            request: Some(schema::<IssuingRequest>),
            response: Some(schema::<CaseTypeQueue>),
            status: 200,
            handler: || put(set_issuing),
        },
        RouteSpec {
            method: Method::PUT,
            path: "/api/v1/case-types/{code}/daily-cap",
            access: Access::users(Role::Manager),
            tag: "manager",
            summary: "Set or clear today's cap on tickets of a case type",
            request: Some(schema::<DailyCapRequest>),
            response: Some(schema::<CaseTypeQueue>),
            status: 200,
            handler: || put(set_daily_cap),
        },
        RouteSpec {
            method: Method::POST,
            path: "/api/v1/day/close",
            access: Access::users(Role::Manager),
            tag: "manager",
            summary: "Close the day now: open tickets cancelled or kept (office policy), counters \
                      closed, issuing stopped until tomorrow; refused while a ticket is at a counter",
            request: None,
            response: Some(schema::<DayClosed>),
            status: 200,
            handler: || post(close_day),
        },
    ];
    r.extend(counter_action_routes());
    r
}

/// A clerk's action at a counter: each is `POST /api/v1/counters/{id}/<action>`.
fn counter_action_routes() -> Vec<RouteSpec> {
    type H = fn() -> MethodRouter<AppState>;
    let no_body: [(&'static str, &'static str, H); 9] = [
        (
            "/api/v1/counters/{id}/open",
            "Sign in at a counter and open it",
            || post(open_counter),
        ),
        (
            "/api/v1/counters/{id}/close",
            "Close a counter (it must hold no ticket)",
            || post(close_counter),
        ),
        (
            "/api/v1/counters/{id}/resume",
            "Resume after a pause",
            || post(resume),
        ),
        (
            "/api/v1/counters/{id}/call-next",
            "Call the next ticket by the routing rules",
            || post(call_next),
        ),
        (
            "/api/v1/counters/{id}/recall",
            "Call the current ticket again (past the limit: no-show)",
            || post(recall),
        ),
        (
            "/api/v1/counters/{id}/start",
            "The citizen is at the counter: start serving",
            || post(start),
        ),
        ("/api/v1/counters/{id}/finish", "Service done", || {
            post(finish)
        }),
        (
            "/api/v1/counters/{id}/no-show",
            "The called citizen did not come",
            || post(no_show),
        ),
        (
            "/api/v1/counters/{id}/park",
            "Put the current ticket aside, to call it back by number",
            || post(park),
        ),
    ];
    let mut routes: Vec<RouteSpec> = no_body
        .into_iter()
        .map(|(path, summary, handler)| RouteSpec {
            method: Method::POST,
            path,
            access: Access::users(Role::Clerk),
            tag: "counter",
            summary,
            request: None,
            response: Some(schema::<CounterActionResult>),
            status: 200,
            handler,
        })
        .collect();
    let with_body: [(&'static str, &'static str, SchemaFnAlias, H); 3] = [
        (
            "/api/v1/counters/{id}/pause",
            "Pause with a reason",
            schema::<ReasonRequest>,
            || post(pause),
        ),
        (
            "/api/v1/counters/{id}/call",
            "Call a ticket by number (waiting, parked or no-show)",
            schema::<CallRequest>,
            || post(call_ticket),
        ),
        (
            "/api/v1/counters/{id}/transfer",
            "Send the current ticket to another case type or counter",
            schema::<TransferRequest>,
            || post(transfer),
        ),
    ];
    routes.extend(
        with_body
            .into_iter()
            .map(|(path, summary, req, handler)| RouteSpec {
                method: Method::POST,
                path,
                access: Access::users(Role::Clerk),
                tag: "counter",
                summary,
                request: Some(req),
                response: Some(schema::<CounterActionResult>),
                status: 200,
                handler,
            }),
    );
    routes
}

type SchemaFnAlias = super::routes::SchemaFn;

// ------------------------------------------------------------------ views (answers)

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct TextsView {
    pub pl: String,
    pub uk: String,
    pub en: String,
}

impl From<&Texts> for TextsView {
    fn from(t: &Texts) -> Self {
        TextsView {
            pl: t.pl.clone(),
            uk: t.uk.clone(),
            en: t.en.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LangDto {
    Pl,
    Uk,
    En,
}

impl From<LangDto> for Lang {
    fn from(l: LangDto) -> Lang {
        match l {
            LangDto::Pl => Lang::Pl,
            LangDto::Uk => Lang::Uk,
            LangDto::En => Lang::En,
        }
    }
}
impl From<Lang> for LangDto {
    fn from(l: Lang) -> LangDto {
        match l {
            Lang::Pl => LangDto::Pl,
            Lang::Uk => LangDto::Uk,
            Lang::En => LangDto::En,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct OfficeView {
    pub name: TextsView,
    pub time_zone: String,
    pub case_types: Vec<CaseTypeInfo>,
    pub counters: Vec<CounterInfo>,
    /// Self-declared categories offered at the kiosk (never shown on screens or tickets).
    pub priority_categories: Vec<PriorityInfo>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CaseTypeInfo {
    pub code: String,
    pub prefix: String,
    pub name: TextsView,
    pub documents: TextsView,
    pub target_wait_min: u32,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CounterInfo {
    pub id: u32,
    pub name: TextsView,
    pub location: TextsView,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PriorityInfo {
    pub code: String,
    pub name: TextsView,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct QueuesView {
    /// The local day (YYYY-MM-DD).
    pub day: Option<String>,
    /// The state's version: the last committed event.
    pub version: i64,
    pub case_types: Vec<CaseTypeQueue>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CaseTypeQueue {
    pub code: String,
    pub prefix: String,
    pub name: TextsView,
    pub waiting: usize,
    /// How long the longest-waiting ticket has waited, in seconds.
    pub longest_wait_s: Option<i64>,
    /// Estimated wait for a ticket issued now, in whole minutes (rounded up); `null` when no
    /// open counter serves the case type.
    pub estimated_wait_min: Option<i64>,
    /// Effective open counters (fractions: a counter's share of its weights).
    pub counters_open: f64,
    pub target_wait_min: u32,
    pub issued_today: u32,
    pub daily_cap: Option<u32>,
    /// Whether a ticket can be issued now.
    pub issuing: bool,
    /// Why not, when `issuing` is false: `closed_today`, `not_yet_open`, `too_late`,
    /// `daily_cap_reached`, `stopped_by_manager`.
    pub not_issuing_reason: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TicketView {
    pub id: u64,
    pub number: String,
    pub day: String,
    pub case_type: String,
    pub issued_case_type: String,
    /// Whether the ticket is served out of turn (the category itself is never shown).
    pub priority: bool,
    pub lang: LangDto,
    /// waiting, called, serving, done, no_show, parked, cancelled
    pub state: String,
    pub issued_at: String,
    pub called_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub counter: Option<u32>,
    pub target_counter: Option<u32>,
    pub calls: u32,
    pub transfers: u32,
}

impl From<&Ticket> for TicketView {
    fn from(t: &Ticket) -> Self {
        let ts = |x: Option<Timestamp>| x.map(|x| x.to_string());
        TicketView {
            id: t.id.0,
            number: t.number.to_string(),
            day: t.day.to_string(),
            case_type: t.case_type.to_string(),
            issued_case_type: t.issued_case_type.to_string(),
            priority: t.is_priority(),
            lang: t.lang.into(),
            state: t.state.as_str().to_owned(),
            issued_at: t.issued_at.to_string(),
            called_at: ts(t.called_at),
            started_at: ts(t.started_at),
            finished_at: ts(t.finished_at),
            counter: t.counter.map(u32::from),
            target_counter: t.target_counter.map(u32::from),
            calls: t.calls,
            transfers: t.transfers,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct IssuedTicket {
    pub ticket: TicketView,
    /// People ahead in the queue when issued.
    pub people_ahead: usize,
    /// Estimated wait in whole minutes, `null` when no counter is open for the case type.
    pub estimated_wait_min: Option<i64>,
    /// The state's version after issuing.
    pub version: i64,
    /// How printing went: `printed`, `failed` (with the reason; show the phone link instead)
    /// or `pending`. Issuing never waits for printing for more than a few seconds.
    pub print: super::kiosk::PrintOutcome,
    /// The link that follows the ticket on a phone (the QR code on the ticket).
    pub phone: super::kiosk::PhoneLink,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CounterView {
    pub id: u32,
    pub name: TextsView,
    /// closed, open or paused
    pub status: String,
    pub pause_reason: Option<String>,
    pub operator: Option<String>,
    pub since: Option<String>,
    pub current: Option<TicketView>,
    pub serves: Vec<ServesEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServesEntry {
    pub case_type: String,
    /// 1 to 100: a counter calls a higher-weight case type first.
    pub weight: u32,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CounterActionResult {
    pub counter: CounterView,
    /// The ticket the action was about (for call: the ticket called).
    pub ticket: Option<TicketView>,
    /// The version after the change.
    pub version: i64,
}

// ------------------------------------------------------------------ requests

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub case_type: String,
    /// A priority category's code, self-declared at the kiosk.
    #[serde(default)]
    pub priority: Option<String>,
    pub lang: LangDto,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// 1 to 200 characters.
    pub reason: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallRequest {
    /// The ticket number, e.g. A012.
    pub number: String,
}

/// Exactly one of `case_type` and `counter`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    #[serde(default)]
    pub case_type: Option<String>,
    #[serde(default)]
    pub counter: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServesRequest {
    pub serves: Vec<ServesEntry>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuingRequest {
    pub open: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DailyCapRequest {
    /// `null` clears today's cap (the configured one applies again).
    pub cap: Option<u32>,
}

// ------------------------------------------------------------------ parsing at the edge

fn parse_counter(id: &str) -> Result<CounterId, ApiError> {
    CounterId::parse(id).map_err(|e| ApiError::NotFound(e.to_string()))
}

/// A counter of this office, or 404 (checked before anything else about the caller).
fn known_counter(state: &AppState, id: &str) -> Result<CounterId, ApiError> {
    let counter = parse_counter(id)?;
    match state.office.counter(counter) {
        Some(_) => Ok(counter),
        None => Err(ApiError::NotFound(format!("unknown counter {counter}"))),
    }
}
fn parse_case_type(code: &str) -> Result<CaseTypeCode, ApiError> {
    CaseTypeCode::parse(code).map_err(|e| ApiError::Unprocessable(e.to_string()))
}
fn parse_number(n: &str) -> Result<TicketNumber, ApiError> {
    TicketNumber::parse(n).map_err(|e| ApiError::Unprocessable(e.to_string()))
}

// ------------------------------------------------------------------ builders of views

/// A counter as `GET /api/v1/counters` shows it (the manager's and clerk's websocket channels
/// send the same view).
pub(crate) fn counter_view(engine: &Engine, c: &CounterState) -> CounterView {
    let office = engine.office();
    let (status, pause_reason) = match &c.status {
        CounterStatus::Closed => ("closed", None),
        CounterStatus::Open => ("open", None),
        CounterStatus::Paused { reason } => ("paused", Some(reason.clone())),
    };
    CounterView {
        id: u32::from(c.id),
        name: office
            .counter(c.id)
            .map(|x| TextsView::from(&x.name))
            .unwrap_or_else(|| TextsView::from(&Texts::same(&c.id.to_string()))),
        status: status.to_owned(),
        pause_reason,
        operator: c.operator.clone(),
        since: c.since.map(|s| s.to_string()),
        current: c
            .current
            .and_then(|t| engine.ticket(t))
            .map(TicketView::from),
        serves: c
            .serves
            .iter()
            .map(|(code, w)| ServesEntry {
                case_type: code.to_string(),
                weight: *w,
            })
            .collect(),
    }
}

pub(crate) fn case_type_queue(
    engine: &Engine,
    code: &CaseTypeCode,
    now: Timestamp,
) -> Option<CaseTypeQueue> {
    let ct = engine.office().case_type(code)?;
    let waiting: Vec<&Ticket> = engine.waiting(code).collect();
    let longest = waiting
        .iter()
        .map(|t| now.duration_since(t.queued_at).as_secs())
        .max();
    let availability = engine.availability(code, now);
    Some(CaseTypeQueue {
        code: code.to_string(),
        prefix: ct.prefix.to_string(),
        name: (&ct.name).into(),
        waiting: waiting.len(),
        longest_wait_s: longest.map(|s| s.max(0)),
        estimated_wait_min: engine
            .estimated_wait(code, waiting.len())
            .map(|d| (d.as_secs() + 59) / 60),
        counters_open: engine.effective_counters(code),
        target_wait_min: ct.target_wait_min,
        issued_today: engine.issued_today(code),
        daily_cap: engine.daily_cap(code),
        issuing: availability.is_ok(),
        not_issuing_reason: availability.err().map(|r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        }),
    })
}

fn now(state: &AppState) -> Timestamp {
    state.clock.now()
}

/// The version after a change: the last event's seq, or the current version if there were
/// no events (an idempotent no-op).
fn version_after(state: &AppState, events: &[StoredEvent]) -> i64 {
    events
        .last()
        .map(|e| e.seq)
        .unwrap_or_else(|| state.queue.read(|_, v| v))
}

// ------------------------------------------------------------------ idempotent counter actions

/// How long the answer to a counter action is kept for a retry with the same
/// `Idempotency-Key`.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(10 * 60);
/// The most answers kept at once, all sessions together (a clerk presses a button every few
/// seconds at most: thousands of answers cover every counter of an office for ten minutes).
pub const IDEMPOTENCY_MAX: usize = 20_000;
/// The longest key accepted.
const IDEMPOTENCY_KEY_MAX: usize = 100;
/// The largest answer body kept (a counter action's answer is a few KiB).
const IDEMPOTENCY_BODY_MAX: usize = 256 * 1024;

/// Answers to counter actions (`POST /api/v1/counters/{id}/...`), kept in memory for
/// `IDEMPOTENCY_TTL` under the session and the request's `Idempotency-Key` header, so that a
/// button press sent again after a network error is acted on once.
///
/// The clerk's page makes a fresh key for every press and sends the same key again only when
/// it retries that press after a network error (it never learnt whether the first one
/// arrived). The same key from the same session within ten minutes gets the first answer
/// (with `Idempotent-Replayed: true`), whether the first request is finished or still
/// running: the action runs in its own task, so a client that hangs up mid-request does not
/// cancel it half-way. The same key for another action or counter is refused (422). Answers
/// "storage unavailable" (503) are not kept: nothing changed, and a retry should act. Kept
/// in memory only: after a restart a retried key acts again, which is safe for the page
/// because it reloads the counter's state from the snapshot on reconnect.
#[derive(Clone, Default)]
pub struct Idempotency {
    inner: Arc<Mutex<HashMap<(i64, String), Remembered>>>,
}

struct Remembered {
    at: Instant,
    /// The counter and action the key was first used for.
    scope: String,
    answer: watch::Receiver<Option<KeptAnswer>>,
}

#[derive(Clone)]
struct KeptAnswer {
    status: StatusCode,
    body: Bytes,
}

/// The `Idempotency-Key` header of a request, if any: 1 to 100 visible ASCII characters.
pub struct IdempotencyKey(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(v) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let key = v
            .to_str()
            .ok()
            .filter(|k| {
                (1..=IDEMPOTENCY_KEY_MAX).contains(&k.len())
                    && k.bytes().all(|b| b.is_ascii_graphic())
            })
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters"
                ))
            })?;
        Ok(IdempotencyKey(Some(key.to_owned())))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs a counter action at most once per session and `Idempotency-Key` (see `Idempotency`);
/// without a key, just runs it.
async fn idempotent<F>(
    state: &AppState,
    who: &Principal,
    key: IdempotencyKey,
    action: &'static str,
    counter: &str,
    run: F,
) -> Response
where
    F: Future<Output = Result<ApiJson<CounterActionResult>, ApiError>> + Send + 'static,
{
    let (Some(key), Some(user)) = (key.0, who.user()) else {
        return run.await.into_response();
    };
    let scope = format!("{counter}/{action}");
    let id = (user.session_id, key);
    let cache = state.idempotency.inner.clone();
    let (mut answer, replay) = {
        let mut map = lock(&cache);
        let now = Instant::now();
        map.retain(|_, r| now.duration_since(r.at) < IDEMPOTENCY_TTL);
        match map.get(&id) {
            Some(r) if r.scope != scope => {
                return ApiError::Unprocessable(
                    "this Idempotency-Key was used for another action; send a new key for \
                     each button press"
                        .into(),
                )
                .into_response();
            }
            Some(r) => (r.answer.clone(), true),
            None => {
                if map.len() >= IDEMPOTENCY_MAX {
                    return ApiError::TooManyRequests {
                        retry_after_secs: 60,
                    }
                    .into_response();
                }
                let (tx, rx) = watch::channel(None);
                map.insert(
                    id.clone(),
                    Remembered {
                        at: now,
                        scope,
                        answer: rx.clone(),
                    },
                );
                let cache = cache.clone();
                let id = id.clone();
                // Its own task: a client hanging up does not cancel the action half-way.
                tokio::spawn(async move {
                    let resp = run.await.into_response();
                    let status = resp.status();
                    let body = axum::body::to_bytes(resp.into_body(), IDEMPOTENCY_BODY_MAX)
                        .await
                        .unwrap_or_default();
                    if status == StatusCode::SERVICE_UNAVAILABLE {
                        lock(&cache).remove(&id);
                    }
                    let _ = tx.send(Some(KeptAnswer { status, body }));
                });
                (rx, false)
            }
        }
    };
    let kept = match answer.wait_for(Option::is_some).await {
        Ok(a) => a.clone(),
        Err(_) => None,
    };
    let Some(kept) = kept else {
        lock(&cache).remove(&id);
        return ApiError::Internal("a counter action's task ended without an answer".into())
            .into_response();
    };
    let mut resp = (kept.status, kept.body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replay {
        h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

// ------------------------------------------------------------------ handlers

async fn office(State(state): State<AppState>) -> ApiJson<OfficeView> {
    let o = &state.office;
    ApiJson(OfficeView {
        name: (&o.name).into(),
        time_zone: o.time_zone.iana_name().unwrap_or("UTC").to_owned(),
        case_types: o
            .case_types
            .iter()
            .map(|c| CaseTypeInfo {
                code: c.code.to_string(),
                prefix: c.prefix.to_string(),
                name: (&c.name).into(),
                documents: (&c.documents).into(),
                target_wait_min: c.target_wait_min,
            })
            .collect(),
        counters: o
            .counters
            .iter()
            .map(|c| CounterInfo {
                id: u32::from(c.id),
                name: (&c.name).into(),
                location: (&c.location).into(),
            })
            .collect(),
        priority_categories: o
            .priority_categories
            .iter()
            .map(|p| PriorityInfo {
                code: p.code.to_string(),
                name: (&p.name).into(),
            })
            .collect(),
    })
}

async fn queues(State(state): State<AppState>) -> ApiJson<QueuesView> {
    let now = now(&state);
    ApiJson(state.queue.read(|engine, version| {
        QueuesView {
            day: engine.day().map(|d| d.to_string()),
            version,
            case_types: engine
                .office()
                .case_types
                .iter()
                .filter_map(|ct| case_type_queue(engine, &ct.code, now))
                .collect(),
        }
    }))
}

async fn issue(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<IssueRequest>,
) -> Result<(StatusCode, ApiJson<IssuedTicket>), ApiError> {
    let cmd = Command::IssueTicket {
        case_type: parse_case_type(&req.case_type)?,
        priority: req
            .priority
            .as_deref()
            .map(PriorityCode::parse)
            .transpose()
            .map_err(|e| ApiError::Unprocessable(e.to_string()))?,
        lang: req.lang.into(),
    };
    let events = state.queue.submit(cmd, who.actor()).await?;
    let id = events
        .iter()
        .find_map(|e| e.event.kind.ticket())
        .ok_or_else(|| ApiError::Internal("issuing produced no ticket".into()))?;
    let version = version_after(&state, &events);
    let phone = state.printing.phone_link(id, &headers);
    let issued = state.queue.read(|engine, _| {
        let t = engine.ticket(id)?;
        let ahead = engine.people_ahead(t);
        Some(IssuedTicket {
            ticket: t.into(),
            people_ahead: ahead,
            estimated_wait_min: engine
                .estimated_wait(&t.case_type, ahead)
                .map(|d| (d.as_secs() + 59) / 60),
            version,
            print: super::kiosk::PrintOutcome::pending(),
            phone: phone.clone(),
        })
    });
    let mut issued =
        issued.ok_or_else(|| ApiError::Internal("issued ticket not in the state".into()))?;
    // The ticket is committed: printing can only add to the answer, never undo it.
    issued.print = super::kiosk::print_issued(&state, &who, id, &phone).await;
    Ok((StatusCode::CREATED, ApiJson(issued)))
}

async fn tickets(State(state): State<AppState>) -> ApiJson<Vec<TicketView>> {
    ApiJson(
        state
            .queue
            .read(|engine, _| engine.tickets().map(TicketView::from).collect()),
    )
}

async fn ticket(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<ApiJson<TicketView>, ApiError> {
    let number = parse_number(&number)?;
    state
        .queue
        .read(|engine, _| engine.find(&number).map(TicketView::from))
        .map(ApiJson)
        .ok_or_else(|| ApiError::NotFound(format!("no ticket {number} today")))
}

async fn cancel(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(number): Path<String>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> Result<ApiJson<TicketView>, ApiError> {
    let number = parse_number(&number)?;
    let before = state
        .queue
        .read(|engine, _| engine.find(&number).map(TicketView::from));
    let reason = req.reason.clone();
    state
        .queue
        .submit(
            Command::Cancel {
                number: number.clone(),
                reason: req.reason,
            },
            who.actor(),
        )
        .await?;
    let after = state
        .queue
        .read(|engine, _| engine.find(&number).map(TicketView::from))
        .ok_or_else(|| ApiError::NotFound(format!("no ticket {number} today")))?;
    let mut after_json = audit::json(&after);
    if let Some(serde_json::Value::Object(m)) = &mut after_json {
        m.insert("reason".into(), reason.into());
    }
    state
        .audit
        .record(
            &who,
            "ticket.cancel",
            format!("ticket:{number}"),
            before.as_ref().and_then(audit::json),
            after_json,
        )
        .await;
    Ok(ApiJson(after))
}

async fn counters(State(state): State<AppState>) -> ApiJson<Vec<CounterView>> {
    ApiJson(
        state
            .queue
            .read(|engine, _| engine.counters().map(|c| counter_view(engine, c)).collect()),
    )
}

async fn set_serves(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ServesRequest>,
) -> Result<ApiJson<CounterView>, ApiError> {
    let counter = parse_counter(&id)?;
    let serves = req
        .serves
        .iter()
        .map(|e| Ok((parse_case_type(&e.case_type)?, e.weight)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    let before = read_counter(&state, counter).ok().map(|c| c.serves);
    state
        .queue
        .submit(Command::SetCounterServes { counter, serves }, who.actor())
        .await?;
    let after = read_counter(&state, counter)?;
    state
        .audit
        .record(
            &who,
            "counter.serves",
            format!("counter:{counter}"),
            before.as_ref().and_then(audit::json),
            audit::json(&after.serves),
        )
        .await;
    Ok(ApiJson(after))
}

async fn set_issuing(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<IssuingRequest>,
) -> Result<ApiJson<CaseTypeQueue>, ApiError> {
    let case_type = parse_case_type(&code)?;
    let issuing = |state: &AppState| {
        let stopped = state
            .queue
            .read(|engine, _| engine.issuing_stopped(&case_type));
        read_case_type(state, &case_type).map(|q| {
            serde_json::json!({
                "stopped_by_manager": stopped,
                "issuing": q.issuing,
                "not_issuing_reason": q.not_issuing_reason,
            })
        })
    };
    let before = issuing(&state).ok();
    state
        .queue
        .submit(
            Command::SetIssuing {
                case_type: case_type.clone(),
                open: req.open,
            },
            who.actor(),
        )
        .await?;
    let after = issuing(&state).ok();
    state
        .audit
        .record(
            &who,
            "case_type.issuing",
            format!("case_type:{case_type}"),
            before,
            after,
        )
        .await;
    read_case_type(&state, &case_type).map(ApiJson)
}

async fn set_daily_cap(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<DailyCapRequest>,
) -> Result<ApiJson<CaseTypeQueue>, ApiError> {
    let case_type = parse_case_type(&code)?;
    if req.cap.is_some_and(|c| c > 100_000) {
        return Err(ApiError::Unprocessable(
            "a daily cap is at most 100000".into(),
        ));
    }
    let before = read_case_type(&state, &case_type).ok();
    state
        .queue
        .submit(
            Command::SetDailyCap {
                case_type: case_type.clone(),
                cap: req.cap,
            },
            who.actor(),
        )
        .await?;
    let after = read_case_type(&state, &case_type)?;
    let cap = |q: &CaseTypeQueue| {
        serde_json::json!({
            "daily_cap": q.daily_cap,
            "issued_today": q.issued_today,
        })
    };
    state
        .audit
        .record(
            &who,
            "case_type.daily_cap",
            format!("case_type:{case_type}"),
            before.as_ref().map(cap),
            Some(cap(&after)),
        )
        .await;
    Ok(ApiJson(after))
}

/// What closing the day did.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DayClosed {
    /// Tickets cancelled (none under the office's "keep" policy).
    pub cancelled: usize,
    pub counters_closed: usize,
    /// Case types whose issuing was stopped.
    pub issuing_stopped: usize,
    pub version: i64,
}

async fn close_day(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<ApiJson<DayClosed>, ApiError> {
    let events = state.queue.submit(Command::CloseDay, who.actor()).await?;
    let count = |f: fn(&crate::engine::EventKind) -> bool| {
        events.iter().filter(|e| f(&e.event.kind)).count()
    };
    use crate::engine::EventKind as K;
    let closed = DayClosed {
        cancelled: count(|k| matches!(k, K::TicketCancelled { .. })),
        counters_closed: count(|k| matches!(k, K::CounterClosed { .. })),
        issuing_stopped: count(|k| matches!(k, K::IssuingChanged { open: false, .. })),
        version: version_after(&state, &events),
    };
    // Counters closed by the day's end are free for any session tomorrow.
    for e in &events {
        if let K::CounterClosed { counter } = e.event.kind {
            state.auth.release_counter_everywhere(counter).await?;
        }
    }
    state
        .audit
        .record(&who, "day.close", "day", None, audit::json(&closed))
        .await;
    Ok(ApiJson(closed))
}

fn read_counter(state: &AppState, counter: CounterId) -> Result<CounterView, ApiError> {
    state
        .queue
        .read(|engine, _| engine.counter(counter).map(|c| counter_view(engine, c)))
        .ok_or_else(|| ApiError::NotFound(format!("unknown counter {counter}")))
}

fn read_case_type(state: &AppState, code: &CaseTypeCode) -> Result<CaseTypeQueue, ApiError> {
    let now = now(state);
    state
        .queue
        .read(|engine, _| case_type_queue(engine, code, now))
        .ok_or_else(|| ApiError::NotFound(format!("unknown case type `{code}`")))
}

/// Runs a clerk's action at a counter the caller holds, and answers with the counter and the
/// ticket the action was about.
async fn at_counter(
    state: &AppState,
    who: &Principal,
    id: &str,
    make: impl FnOnce(CounterId) -> Command,
) -> Result<ApiJson<CounterActionResult>, ApiError> {
    let counter = known_counter(state, id)?;
    let user = who
        .user()
        .ok_or_else(|| ApiError::Forbidden("only a signed-in clerk acts at a counter".into()))?;
    if user.counter != Some(counter) {
        return Err(ApiError::Forbidden(format!(
            "you are not signed in at counter {counter}; open it first"
        )));
    }
    let cmd = make(counter);
    let events = state.queue.submit(cmd, who.actor()).await?;
    counter_result(state, counter, &events)
}

fn counter_result(
    state: &AppState,
    counter: CounterId,
    events: &[StoredEvent],
) -> Result<ApiJson<CounterActionResult>, ApiError> {
    let ticket_id = events.iter().find_map(|e| e.event.kind.ticket());
    let version = version_after(state, events);
    state
        .queue
        .read(|engine, _| {
            let c = engine.counter(counter)?;
            Some(CounterActionResult {
                counter: counter_view(engine, c),
                ticket: ticket_id
                    .and_then(|t| engine.ticket(t))
                    .map(TicketView::from),
                version,
            })
        })
        .map(ApiJson)
        .ok_or_else(|| ApiError::NotFound(format!("unknown counter {counter}")))
}

async fn open_counter(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    key: IdempotencyKey,
) -> Response {
    idempotent(
        &state.clone(),
        &who.clone(),
        key,
        "open",
        &id.clone(),
        async move { open_counter_now(&state, &who, &id).await },
    )
    .await
}

async fn open_counter_now(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<ApiJson<CounterActionResult>, ApiError> {
    let counter = known_counter(state, id)?;
    let user = who
        .user()
        .ok_or_else(|| ApiError::Forbidden("only a signed-in clerk opens a counter".into()))?;
    // A claim on a counter the engine has since closed (say, at the end of the day) is stale.
    if let Some(held) = user.counter
        && held != counter
        && state.queue.read(|engine, _| {
            engine
                .counter(held)
                .is_none_or(|c| c.status == CounterStatus::Closed)
        })
    {
        state.auth.release_counter(user.session_id).await?;
    }
    // One session, one counter; one counter, one session.
    state.auth.claim_counter(user.session_id, counter).await?;
    let result = state
        .queue
        .submit(
            Command::OpenCounter {
                counter,
                operator: user.user.clone(),
            },
            who.actor(),
        )
        .await;
    match result {
        Ok(events) => counter_result(state, counter, &events),
        Err(e) => {
            state.auth.release_counter(user.session_id).await?;
            Err(e.into())
        }
    }
}

async fn close_counter(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    key: IdempotencyKey,
) -> Response {
    idempotent(
        &state.clone(),
        &who.clone(),
        key,
        "close",
        &id.clone(),
        async move { close_counter_now(&state, &who, &id).await },
    )
    .await
}

async fn close_counter_now(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<ApiJson<CounterActionResult>, ApiError> {
    let counter = known_counter(state, id)?;
    let user = who
        .user()
        .ok_or_else(|| ApiError::Forbidden("only a signed-in user closes a counter".into()))?;
    // The clerk at the counter closes it; a manager may close any counter.
    if user.counter != Some(counter) && user.role < Role::Manager {
        return Err(ApiError::Forbidden(format!(
            "you are not signed in at counter {counter}"
        )));
    }
    let events = state
        .queue
        .submit(
            Command::CloseCounter { counter },
            crate::engine::Actor::User(user.user.clone()),
        )
        .await?;
    state.auth.release_counter_everywhere(counter).await?;
    counter_result(state, counter, &events)
}

/// The counter actions with no body: each runs one engine command at the caller's counter.
macro_rules! counter_actions {
    ($($name:ident => $action:literal $variant:ident),* $(,)?) => {$(
        async fn $name(
            State(state): State<AppState>,
            Extension(who): Extension<Principal>,
            Path(id): Path<String>,
            key: IdempotencyKey,
        ) -> Response {
            idempotent(&state.clone(), &who.clone(), key, $action, &id.clone(), async move {
                at_counter(&state, &who, &id, |counter| Command::$variant { counter }).await
            })
            .await
        }
    )*};
}

counter_actions! {
    resume => "resume" ResumeCounter,
    call_next => "call-next" CallNext,
    recall => "recall" Recall,
    start => "start" StartService,
    finish => "finish" FinishService,
    no_show => "no-show" MarkNoShow,
    park => "park" Park,
}

async fn pause(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> Response {
    idempotent(
        &state.clone(),
        &who.clone(),
        key,
        "pause",
        &id.clone(),
        async move {
            at_counter(&state, &who, &id, |counter| Command::PauseCounter {
                counter,
                reason: req.reason,
            })
            .await
        },
    )
    .await
}

async fn call_ticket(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<CallRequest>,
) -> Response {
    idempotent(
        &state.clone(),
        &who.clone(),
        key,
        "call",
        &id.clone(),
        async move {
            let number = parse_number(&req.number)?;
            at_counter(&state, &who, &id, |counter| Command::CallTicket {
                counter,
                number,
            })
            .await
        },
    )
    .await
}

async fn transfer(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<TransferRequest>,
) -> Response {
    idempotent(
        &state.clone(),
        &who.clone(),
        key,
        "transfer",
        &id.clone(),
        async move { transfer_now(&state, &who, &id, req).await },
    )
    .await
}

async fn transfer_now(
    state: &AppState,
    who: &Principal,
    id: &str,
    req: TransferRequest,
) -> Result<ApiJson<CounterActionResult>, ApiError> {
    let to = match (req.case_type, req.counter) {
        (Some(code), None) => TransferTarget::CaseType {
            case_type: parse_case_type(&code)?,
        },
        (None, Some(c)) => TransferTarget::Counter {
            counter: CounterId::new(c).map_err(|e| ApiError::Unprocessable(e.to_string()))?,
        },
        _ => {
            return Err(ApiError::Unprocessable(
                "give exactly one of `case_type` and `counter`".into(),
            ));
        }
    };
    at_counter(state, who, id, |counter| Command::Transfer { counter, to }).await
}
