//! The kiosk's side of the service: printing the ticket it issues, reprinting, the printers'
//! states for managers, and the ticket on the phone.
//!
//! - **Printing never delays or fails issuing.** The ticket is committed first; then its print
//!   job goes to the kiosk's printer (`[[printers]]`, `kiosks`) and the answer waits for the
//!   first attempt at most `first_attempt_wait` (2.5 s): `printed`, `failed` with the reason
//!   (the kiosk then shows the phone link's QR code instead), or `pending` (the kiosk asks
//!   `GET /api/v1/print-jobs/{id}`). Retries go on in the printer's worker meanwhile.
//! - **The phone link** printed on the ticket as a QR code is `/t/<id>.<mac>`: the ticket's
//!   internal id and the first 128 bits of an HMAC-SHA256 of it under a random secret kept in
//!   the database (`migrations/0005_phone_links.sql`), so a link cannot be made up from a
//!   number or an id, and checking one takes the same time wherever it differs.
//!   `GET /api/v1/public/ticket/{code}` answers only that ticket's number, state, counter
//!   (once called), people ahead and estimated wait: nothing about other tickets, never
//!   whether it is a priority ticket.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Extension;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rusqlite::{Connection, params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::AppState;
use super::api::LangDto;
use super::error::{ApiError, ApiJson};
use super::routes::{RouteSpec, schema};
use crate::auth::{Access, DeviceKind, Principal, Role};
use crate::engine::{Engine, TicketId, TicketNumber, TicketState};
use crate::print::setup::{self, PrintConfig, PrintSetup};
use crate::print::{FirstAttempt, JobId, JobStatus, PrinterCondition, Printers, TicketPrint};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the MAC kept in a phone link: 128 bits, 22 characters of base64url.
const MAC_BYTES: usize = 16;

/// Which printer printed which ticket, for reprints; the oldest are forgotten past this.
const REMEMBERED_TICKETS: usize = 10_000;

const KIOSK: &[DeviceKind] = &[DeviceKind::Kiosk];

// ------------------------------------------------------------------ the route list

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec {
            method: Method::POST,
            path: "/api/v1/tickets/{number}/reprint",
            access: Access::users(Role::Clerk),
            tag: "kiosk",
            summary: "Print one of today's tickets again (on its printer, or on the one named)",
            request: Some(schema::<ReprintRequest>),
            response: Some(schema::<Reprinted>),
            status: 200,
            handler: || post(reprint),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/printers",
            access: Access::users(Role::Manager),
            tag: "manager",
            summary: "The ticket printers: ok, paper near end, paper out, offline..., and their queues",
            request: None,
            response: Some(schema::<Vec<PrinterView>>),
            status: 200,
            handler: || get(printers),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/print-jobs/{id}",
            access: Access::users_and_devices(Role::Clerk, KIOSK),
            tag: "kiosk",
            summary: "How a print job is going (a kiosk asks after a `pending` answer)",
            request: None,
            response: Some(schema::<PrintJobView>),
            status: 200,
            handler: || get(print_job),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/public/ticket/{code}",
            access: Access::PUBLIC,
            tag: "phone",
            summary: "One ticket by its phone link: number, state, counter, people ahead, wait",
            request: None,
            response: Some(schema::<PublicTicket>),
            status: 200,
            handler: || get(public_ticket),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/public/ticket/{code}/qr.svg",
            access: Access::PUBLIC,
            tag: "phone",
            summary: "The ticket's phone link as a QR code (SVG), for the kiosk's screen",
            request: None,
            response: None,
            status: 200,
            handler: || get(public_ticket_qr),
        },
    ]
}

// ------------------------------------------------------------------ views and requests

/// How printing a ticket went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrintStatus {
    /// The printer took the ticket.
    Printed,
    /// The first attempt failed (retries may go on): tell the citizen, show the phone link.
    Failed,
    /// Still queued or printing; ask `GET /api/v1/print-jobs/{job}`.
    Pending,
}

/// What the kiosk learns about printing its ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PrintOutcome {
    pub status: PrintStatus,
    /// Why it failed, for the log and the staff (the kiosk shows its own plain words).
    pub reason: Option<String>,
    /// The printer's name, when there is one.
    pub printer: Option<String>,
    /// The print job, when one was queued.
    pub job: Option<u64>,
}

impl PrintOutcome {
    /// Not known yet.
    pub fn pending() -> Self {
        PrintOutcome {
            status: PrintStatus::Pending,
            reason: None,
            printer: None,
            job: None,
        }
    }

    fn failed(printer: Option<&str>, reason: impl Into<String>) -> Self {
        PrintOutcome {
            status: PrintStatus::Failed,
            reason: Some(reason.into()),
            printer: printer.map(str::to_owned),
            job: None,
        }
    }
}

/// The link that follows a ticket on a phone (the QR code on the ticket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PhoneLink {
    /// The unguessable code: `/t/{code}` is the phone page.
    pub code: String,
    /// The whole address, as printed in the QR code.
    pub url: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReprintRequest {
    /// A printer's name; the ticket's own printer (or the default one) when left out.
    #[serde(default)]
    pub printer: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Reprinted {
    pub number: String,
    pub print: PrintOutcome,
}

/// A printer as a manager sees it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PrinterView {
    pub name: String,
    /// The printer profile's id, like `epson-tm-t88`.
    pub profile: String,
    /// Where it is, like `tcp 10.0.0.7:9100`.
    pub transport: String,
    /// `unknown` (nothing printed yet), `ok`, `paper_near_end`, `paper_out`, `cover_open`,
    /// `offline` or `error`.
    pub state: String,
    /// What is wrong, for `offline` and `error`.
    pub reason: Option<String>,
    pub last_ok_at: Option<String>,
    pub last_error: Option<String>,
    /// Tickets waiting or printing.
    pub queued: usize,
    /// Whether kiosks not named by any printer print here.
    pub default: bool,
    /// The kiosks named for this printer.
    pub kiosks: Vec<String>,
}

/// A print job's progress.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PrintJobView {
    pub job: u64,
    /// `queued`, `printing`, `waiting_to_retry`, `printed` or `failed`.
    pub state: String,
    pub attempts: Option<u32>,
    pub reason: Option<String>,
}

/// One ticket as its holder's phone sees it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PublicTicket {
    pub number: String,
    /// `waiting`, `called`, `serving`, `done`, `no_show`, `parked` or `cancelled`.
    pub state: String,
    /// The ticket's language: the page speaks it.
    pub lang: LangDto,
    /// The office's name, in the ticket's language.
    pub office: String,
    /// The case type's name, in the ticket's language.
    pub case_type: String,
    /// People ahead while waiting.
    pub people_ahead: Option<usize>,
    /// Estimated wait in whole minutes while waiting; `null` when no counter is open for it.
    pub estimated_wait_min: Option<i64>,
    /// The counter, once called (and while served).
    pub counter: Option<PublicCounter>,
    /// How many times it has been called (a recall makes it 2, 3...).
    pub calls: u32,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PublicCounter {
    pub id: u32,
    pub name: String,
    pub location: String,
}

// ------------------------------------------------------------------ the service

/// The printers and phone links: cheap to clone.
#[derive(Clone)]
pub struct Printing {
    inner: Arc<Inner>,
}

struct Inner {
    printers: Printers,
    config: PrintConfig,
    first_attempt_wait: Duration,
    links: PhoneLinks,
    /// Ticket → the printer it was printed on.
    printed_on: Mutex<BTreeMap<TicketId, String>>,
}

impl Printing {
    /// Starts the configured printers (a virtual one saves under `<db dir>/prints/<name>/`) and
    /// reads (on first start, creates) the phone links' secret. The database must be migrated.
    pub async fn start(setup: PrintSetup, db: &Path, now_ms: i64) -> Result<Printing, String> {
        let dir = db
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("prints");
        let printers = setup::start(&setup, &dir)?;
        for p in &setup.config.printers {
            tracing::info!(
                printer = %p.name,
                profile = %p.profile,
                kiosks = ?p.kiosks,
                "printer {}",
                printers.state(&p.name).map(|s| s.transport).unwrap_or_default()
            );
        }
        let path = db.to_owned();
        let links = tokio::task::spawn_blocking(move || PhoneLinks::open(&path, now_ms))
            .await
            .map_err(|e| format!("the start-up task failed: {e}"))??;
        Ok(Printing {
            inner: Arc::new(Inner {
                printers,
                config: setup.config,
                first_attempt_wait: setup.first_attempt_wait,
                links,
                printed_on: Mutex::new(BTreeMap::new()),
            }),
        })
    }

    pub fn printers(&self) -> &Printers {
        &self.inner.printers
    }

    pub fn config(&self) -> &PrintConfig {
        &self.inner.config
    }

    /// The phone link of a ticket; the address is `phone_url`, or the one the request came to.
    pub fn phone_link(&self, id: TicketId, headers: &HeaderMap) -> PhoneLink {
        let code = self.inner.links.code(id);
        let base = match &self.inner.config.phone_url {
            Some(url) => url.clone(),
            None => request_origin(headers),
        };
        PhoneLink {
            url: format!("{base}/t/{code}"),
            code,
        }
    }

    /// Queues a ticket on a printer and waits (at most `first_attempt_wait`) for the first
    /// attempt.
    async fn print(
        &self,
        printer: Option<&str>,
        id: TicketId,
        ticket: TicketPrint,
    ) -> PrintOutcome {
        let Some(printer) = printer else {
            return PrintOutcome::failed(None, "no printer is configured for this kiosk");
        };
        let number = ticket.number.to_string();
        let job = match self.inner.printers.submit(printer, ticket) {
            Ok(job) => job,
            Err(e) => {
                tracing::warn!(ticket = %number, printer, "not printed: {e}");
                return PrintOutcome::failed(Some(printer), e.to_string());
            }
        };
        self.remember(id, printer);
        let first = self
            .inner
            .printers
            .wait_first_attempt(job, self.inner.first_attempt_wait)
            .await;
        let (status, reason) = match first {
            Ok(Some(FirstAttempt::Printed)) => (PrintStatus::Printed, None),
            Ok(Some(FirstAttempt::Failed { reason, retrying })) => {
                tracing::warn!(
                    ticket = %number,
                    printer,
                    retrying,
                    "printing the ticket failed: {reason}"
                );
                (PrintStatus::Failed, Some(reason))
            }
            Ok(None) => (PrintStatus::Pending, None),
            // Forgotten already: only after a thousand later jobs, so it ended long ago.
            Err(e) => (PrintStatus::Failed, Some(e.to_string())),
        };
        PrintOutcome {
            status,
            reason,
            printer: Some(printer.to_owned()),
            job: Some(job.0),
        }
    }

    fn remember(&self, id: TicketId, printer: &str) {
        let mut map = self
            .inner
            .printed_on
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.insert(id, printer.to_owned());
        while map.len() > REMEMBERED_TICKETS {
            map.pop_first();
        }
    }

    fn printed_on(&self, id: TicketId) -> Option<String> {
        self.inner
            .printed_on
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    /// What the ticket says: every text in the ticket's language, the people ahead and the
    /// wait as they are now.
    fn ticket_print(&self, engine: &Engine, id: TicketId, qr_url: &str) -> Option<TicketPrint> {
        let t = engine.ticket(id)?;
        let office = engine.office();
        let ct = office.case_type(&t.case_type)?;
        let lang = t.lang;
        let waiting = t.state == TicketState::Waiting;
        let ahead = if waiting { engine.people_ahead(t) } else { 0 };
        let config = &self.inner.config;
        Some(TicketPrint {
            office_name: config
                .header
                .as_ref()
                .unwrap_or(&office.name)
                .get(lang)
                .to_owned(),
            case_type_name: ct.name.get(lang).to_owned(),
            number: t.number.clone(),
            people_ahead: u32::try_from(ahead).unwrap_or(u32::MAX),
            estimated_wait_min: if waiting {
                engine.estimated_wait(&t.case_type, ahead).map(minutes)
            } else {
                None
            },
            issued_at_local: t
                .issued_at
                .to_zoned(office.time_zone.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string(),
            documents: ct.documents.get(lang).to_owned(),
            qr_url: Some(qr_url.to_owned()),
            footer: config
                .footer
                .as_ref()
                .map(|f| f.get(lang).to_owned())
                .unwrap_or_default(),
            lang,
        })
    }
}

/// Whole minutes, rounded up (as the queue views round them).
fn minutes(d: jiff::SignedDuration) -> i64 {
    (d.as_secs() + 59) / 60
}

/// `http://host:port` as the request names it (`https` behind a TLS proxy). A Host header that
/// is not a plain host and port is not trusted, and the link stays relative.
fn request_origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
    match host {
        Some(host) => {
            let scheme = if crate::auth::over_tls(headers) {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{host}")
        }
        None => String::new(),
    }
}

/// Prints a ticket the kiosk `who` has just issued (committed), on the kiosk's printer.
/// Never fails: a problem is an outcome of `failed` with its reason.
pub async fn print_issued(
    state: &AppState,
    who: &Principal,
    id: TicketId,
    phone: &PhoneLink,
) -> PrintOutcome {
    let printing = &state.printing;
    let printer = match who {
        Principal::Device(d) => printing.config().printer_for_kiosk(&d.name),
        Principal::User(_) => printing.config().default_printer_name(),
    }
    .map(str::to_owned);
    let ticket = state
        .queue
        .read(|engine, _| printing.ticket_print(engine, id, &phone.url));
    match ticket {
        Some(ticket) => printing.print(printer.as_deref(), id, ticket).await,
        None => PrintOutcome::failed(printer.as_deref(), "the ticket is no longer in the queue"),
    }
}

// ------------------------------------------------------------------ phone links

/// The secret behind phone links, and making and checking codes.
struct PhoneLinks {
    /// HMAC-SHA256 keyed with the secret, cloned for each code.
    keyed: HmacSha256,
}

impl PhoneLinks {
    /// Reads the secret from the database, creating it on first start.
    fn open(db: &Path, now_ms: i64) -> Result<PhoneLinks, String> {
        let fail = |e: rusqlite::Error| {
            format!(
                "cannot read the phone links' secret in {}: {e}",
                db.display()
            )
        };
        let conn = Connection::open(db).map_err(fail)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(fail)?;
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        conn.execute(
            "INSERT OR IGNORE INTO phone_link_secret (id, secret, created_at) VALUES (1, ?1, ?2)",
            params![fresh.to_vec(), now_ms],
        )
        .map_err(fail)?;
        let secret: Vec<u8> = conn
            .query_row(
                "SELECT secret FROM phone_link_secret WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .map_err(fail)?;
        Self::with_secret(&secret)
    }

    fn with_secret(secret: &[u8]) -> Result<PhoneLinks, String> {
        let keyed = HmacSha256::new_from_slice(secret)
            .map_err(|e| format!("the phone links' secret is unusable: {e}"))?;
        Ok(PhoneLinks { keyed })
    }

    fn mac(&self, id: TicketId) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(b"kolejka phone link v1\0");
        mac.update(&id.0.to_be_bytes());
        mac
    }

    /// `<id>.<mac>`.
    fn code(&self, id: TicketId) -> String {
        let tag = self.mac(id).finalize().into_bytes();
        let short = tag.get(..MAC_BYTES).unwrap_or_default();
        format!("{}.{}", id.0, URL_SAFE_NO_PAD.encode(short))
    }

    /// The ticket a code names, if the code is genuine; the MAC is compared in constant time.
    fn verify(&self, code: &str) -> Option<TicketId> {
        let (id, tag) = code.split_once('.')?;
        if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let id = TicketId(id.parse().ok()?);
        if tag.len() != 22 {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(id).verify_truncated_left(&tag).ok()?;
        Some(id)
    }
}

// ------------------------------------------------------------------ handlers

fn parse_number(n: &str) -> Result<TicketNumber, ApiError> {
    TicketNumber::parse(n).map_err(|e| ApiError::Unprocessable(e.to_string()))
}

async fn reprint(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    UrlPath(number): UrlPath<String>,
    ApiJson(req): ApiJson<ReprintRequest>,
) -> Result<ApiJson<Reprinted>, ApiError> {
    let number = parse_number(&number)?;
    let printing = &state.printing;
    let id = state
        .queue
        .read(|engine, _| engine.find(&number).map(|t| t.id))
        .ok_or_else(|| ApiError::NotFound(format!("no ticket {number} today")))?;
    let printer = match req.printer {
        Some(name) => {
            if printing.printers().state(&name).is_none() {
                return Err(ApiError::NotFound(format!(
                    "there is no printer named `{name}`"
                )));
            }
            Some(name)
        }
        None => printing
            .printed_on(id)
            .or_else(|| printing.config().default_printer_name().map(str::to_owned)),
    };
    let phone = printing.phone_link(id, &headers);
    let ticket = state
        .queue
        .read(|engine, _| printing.ticket_print(engine, id, &phone.url))
        .ok_or_else(|| ApiError::NotFound(format!("no ticket {number} today")))?;
    tracing::info!(ticket = %number, printer = ?printer, by = %who.actor(), "reprint");
    let print = printing.print(printer.as_deref(), id, ticket).await;
    Ok(ApiJson(Reprinted {
        number: number.to_string(),
        print,
    }))
}

async fn printers(State(state): State<AppState>) -> ApiJson<Vec<PrinterView>> {
    let config = state.printing.config();
    let default = config.default_printer_name();
    let views = state
        .printing
        .printers()
        .states()
        .into_iter()
        .map(|s| {
            let (name, reason) = match s.condition {
                PrinterCondition::Unknown => ("unknown", None),
                PrinterCondition::Ok => ("ok", None),
                PrinterCondition::PaperNearEnd => ("paper_near_end", None),
                PrinterCondition::PaperOut => ("paper_out", None),
                PrinterCondition::CoverOpen => ("cover_open", None),
                PrinterCondition::Offline { reason } => ("offline", Some(reason)),
                PrinterCondition::Error { reason } => ("error", Some(reason)),
            };
            PrinterView {
                default: default == Some(s.name.as_str()),
                kiosks: config
                    .printers
                    .iter()
                    .find(|p| p.name == s.name)
                    .map(|p| p.kiosks.clone())
                    .unwrap_or_default(),
                name: s.name,
                profile: s.profile,
                transport: s.transport,
                state: name.to_owned(),
                reason,
                last_ok_at: s.last_ok_at.map(|t| t.to_string()),
                last_error: s.last_error,
                queued: s.queued,
            }
        })
        .collect();
    ApiJson(views)
}

async fn print_job(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<ApiJson<PrintJobView>, ApiError> {
    let job = id
        .parse::<u64>()
        .map_err(|_| ApiError::NotFound(format!("there is no print job {id}")))?;
    let status = state
        .printing
        .printers()
        .job_status(JobId(job))
        .ok_or_else(|| ApiError::NotFound(format!("there is no print job {job}")))?;
    let (name, attempts, reason) = match status {
        JobStatus::Queued => ("queued", None, None),
        JobStatus::Printing { attempt } => ("printing", Some(attempt.saturating_sub(1)), None),
        JobStatus::WaitingToRetry { attempts, reason } => {
            ("waiting_to_retry", Some(attempts), Some(reason))
        }
        JobStatus::Printed { attempts } => ("printed", Some(attempts), None),
        JobStatus::Failed { attempts, reason } => ("failed", Some(attempts), Some(reason)),
    };
    Ok(ApiJson(PrintJobView {
        job,
        state: name.to_owned(),
        attempts,
        reason,
    }))
}

/// A code that is not genuine, and a ticket no longer in today's queue, get the same answer.
fn unknown_link() -> ApiError {
    ApiError::NotFound("this ticket link is not valid, or the ticket is not from today".into())
}

async fn public_ticket(
    State(state): State<AppState>,
    UrlPath(code): UrlPath<String>,
) -> Result<Response, ApiError> {
    let id = state
        .printing
        .inner
        .links
        .verify(&code)
        .ok_or_else(unknown_link)?;
    let view = state.queue.read(|engine, _| {
        let t = engine.ticket(id)?;
        let office = engine.office();
        let lang = t.lang;
        let waiting = t.state == TicketState::Waiting;
        let ahead = waiting.then(|| engine.people_ahead(t));
        let counter = t
            .counter
            .filter(|_| t.state.at_counter())
            .map(|c| PublicCounter {
                id: u32::from(c),
                name: office
                    .counter(c)
                    .map(|x| x.name.get(lang).to_owned())
                    .unwrap_or_else(|| c.to_string()),
                location: office
                    .counter(c)
                    .map(|x| x.location.get(lang).to_owned())
                    .unwrap_or_default(),
            });
        Some(PublicTicket {
            number: t.number.to_string(),
            state: t.state.as_str().to_owned(),
            lang: lang.into(),
            office: office.name.get(lang).to_owned(),
            case_type: office
                .case_type(&t.case_type)
                .map(|c| c.name.get(lang).to_owned())
                .unwrap_or_default(),
            people_ahead: ahead,
            estimated_wait_min: ahead
                .and_then(|a| engine.estimated_wait(&t.case_type, a))
                .map(minutes),
            counter,
            calls: t.calls,
        })
    });
    let view = view.ok_or_else(unknown_link)?;
    let mut resp = ApiJson(view).into_response();
    private(&mut resp);
    Ok(resp)
}

async fn public_ticket_qr(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(code): UrlPath<String>,
) -> Result<Response, ApiError> {
    let id = state
        .printing
        .inner
        .links
        .verify(&code)
        .ok_or_else(unknown_link)?;
    let url = state.printing.phone_link(id, &headers).url;
    let svg = qr_svg(&url)
        .ok_or_else(|| ApiError::Internal("the link is too long for a QR code".into()))?;
    let mut resp = svg.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    private(&mut resp);
    Ok(resp)
}

/// A ticket's answers are for its holder only: never cached, never sent as a referrer.
fn private(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// A QR code (error correction M, a quiet zone of 4 modules) as an SVG image.
fn qr_svg(data: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M).ok()?;
    let n = code.width();
    let quiet = 4;
    let size = n + 2 * quiet;
    let mut path = String::new();
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let _ = write!(path, "M{} {}h1v1h-1z", i % n + quiet, i / n + quiet);
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_codes_verify_and_cannot_be_made_up() {
        let links = PhoneLinks::with_secret(&[7u8; 32]).expect("key");
        let code = links.code(TicketId(42));
        let (id, tag) = code.split_once('.').expect("two parts");
        assert_eq!(id, "42");
        assert_eq!(tag.len(), 22);
        assert_eq!(links.verify(&code), Some(TicketId(42)));
        // Another ticket's id with this MAC, a changed MAC, another secret: refused.
        assert_eq!(links.verify(&format!("43.{tag}")), None);
        let mut bad = tag.to_owned();
        bad.replace_range(0..1, if tag.starts_with('A') { "B" } else { "A" });
        assert_eq!(links.verify(&format!("42.{bad}")), None);
        let other = PhoneLinks::with_secret(&[8u8; 32]).expect("key");
        assert_eq!(other.verify(&code), None);
        for junk in [
            "",
            "42",
            "42.",
            ".abc",
            "x.abc",
            "-1.abc",
            "42.a.b",
            &"9".repeat(30),
        ] {
            assert_eq!(links.verify(junk), None, "{junk}");
        }
    }

    #[test]
    fn the_origin_comes_from_a_plain_host_header_only() {
        let mut h = HeaderMap::new();
        assert_eq!(request_origin(&h), "");
        h.insert(header::HOST, HeaderValue::from_static("192.168.1.10:8080"));
        assert_eq!(request_origin(&h), "http://192.168.1.10:8080");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(request_origin(&h), "https://192.168.1.10:8080");
        h.insert(
            header::HOST,
            HeaderValue::from_static("evil.example/<script>"),
        );
        assert_eq!(request_origin(&h), "");
    }

    #[test]
    fn a_qr_svg_is_drawn() {
        let svg = qr_svg("http://127.0.0.1:8080/t/1.abcdefghijklmnopqrstuv").expect("fits");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("h1v1h-1z"));
    }
}
