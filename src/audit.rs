//! The audit log: who changed what, when, and what it was before and after.
//!
//! Two sources make one list. The queue engine's changes (calls, transfers, a counter moved
//! to other case types...) are already in the event log (`events`) with their actor and time.
//! Everything else a manager or an admin changes (users, devices, hall messages) is written
//! here to the `audit_log` table (migration 0004), and so are the manager's queue changes
//! (a counter's case types, issuing, daily caps, a cancelled ticket) with what they were
//! before and after, which the event log does not say. `GET /api/v1/audit` merges both,
//! newest first, filtered by time, actor, action and source.
//!
//! `Audit` has its own connection to the database file (WAL, `synchronous=FULL`, a busy
//! timeout): it only ever adds rows to `audit_log` and reads `events`, so the one-writer rule
//! of the event log holds. A record is written after the change it describes has been
//! committed and before the change is acknowledged; if writing it fails, the change stands
//! and the failure is logged (a change is never undone for want of its audit record).
//!
//! Nothing here shows a priority category (health data, RODO art. 9): event payloads are
//! shown with `priority` as true or false only, and the tickets a new day carried over as a
//! count.

use std::path::Path as FsPath;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Query, State};
use axum::http::Method;
use axum::routing::get;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rusqlite::{Connection, params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{Access, Principal, Role};
use crate::clock::Clock;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiJson};
use crate::server::routes::{RouteSpec, schema};

/// How long a statement waits for the write lock held by the event writer.
const BUSY_TIMEOUT_MS: i64 = 5_000;

/// The answer's default and largest number of entries.
pub const DEFAULT_LIMIT: usize = 200;
pub const MAX_LIMIT: usize = 2_000;

/// The audit log: cheap to clone.
#[derive(Clone)]
pub struct Audit {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit").finish_non_exhaustive()
    }
}

struct Inner {
    /// Used only from blocking tasks.
    db: Mutex<Connection>,
    clock: Arc<dyn Clock>,
}

/// Why the audit log could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit_log table is missing; was migration 0004 applied? ({0})")]
    NoTable(rusqlite::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a blocking task failed: {0}")]
    Task(String),
}

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// One entry of the merged list.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct AuditEntry {
    /// `audit` (a change recorded here, with before and after) or `event` (the queue's
    /// event log).
    pub source: String,
    /// The row's id within its source.
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// `user:NAME`, `device:ID` or `system`.
    pub actor: String,
    /// For `audit`: e.g. `counter.serves`, `case_type.issuing`, `case_type.daily_cap`,
    /// `ticket.cancel`, `user.create`, `user.update`, `user.password`, `device.approve`,
    /// `device.rename`, `device.revoke`, `message.post`, `message.withdraw`. For `event`: the
    /// event's type, e.g. `ticket_called`, `counter_serves_changed`.
    pub action: String,
    /// What was changed: `counter:3`, `case_type:dowody`, `ticket:A001`, `user:anna`,
    /// `device:5`, `message:2`, `day:2025-03-10`.
    pub target: Option<String>,
    /// The thing before the change (`null`: it did not exist, or the source does not say).
    pub before: Option<Value>,
    /// The thing after the change; for events, the event's details.
    pub after: Option<Value>,
}

/// The filters of `GET /api/v1/audit`, all optional.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// From this time (RFC 3339) or the start of this local day (YYYY-MM-DD), inclusive.
    #[serde(default)]
    pub from: Option<String>,
    /// Until this time (RFC 3339, exclusive) or the end of this local day (YYYY-MM-DD).
    #[serde(default)]
    pub to: Option<String>,
    /// Who: `user:anna`, `anna` (the same), `device:3` or `system`.
    #[serde(default)]
    pub actor: Option<String>,
    /// The action, or the start of it: `counter.` gives every counter change, `ticket_`
    /// every ticket event.
    #[serde(default)]
    pub action: Option<String>,
    /// `audit`, `events` or `all` (the default).
    #[serde(default)]
    pub source: Option<String>,
    /// At most this many entries (1 to 2000, default 200), newest first.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// The answer of `GET /api/v1/audit`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AuditView {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
    /// Whether more entries matched than `limit` allowed (narrow the filters to see them).
    pub more: bool,
}

/// A query parsed: what the database is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filter {
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    actor: Option<String>,
    action: Option<String>,
    audit: bool,
    events: bool,
    limit: usize,
}

impl Filter {
    fn parse(q: AuditQuery, tz: &TimeZone) -> Result<Filter, ApiError> {
        let from_ms = q
            .from
            .as_deref()
            .map(|s| time_bound("from", s, tz, false))
            .transpose()?;
        let to_ms =
            q.to.as_deref()
                .map(|s| time_bound("to", s, tz, true))
                .transpose()?;
        let actor = q
            .actor
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .map(|a| {
                if a.contains(':') || a == "system" {
                    a
                } else {
                    format!("user:{a}")
                }
            });
        let action = q
            .action
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty());
        if actor.as_ref().is_some_and(|a| a.len() > 100)
            || action.as_ref().is_some_and(|a| a.len() > 100)
        {
            return Err(ApiError::BadRequest(
                "`actor` and `action` are at most 100 characters".into(),
            ));
        }
        let (audit, events) = match q.source.as_deref().map(str::trim) {
            None | Some("") | Some("all") => (true, true),
            Some("audit") => (true, false),
            Some("events") => (false, true),
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "`source` is `audit`, `events` or `all`, not `{other}`"
                )));
            }
        };
        let limit = match q.limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(n) => {
                return Err(ApiError::BadRequest(format!(
                    "`limit` is 1 to {MAX_LIMIT}, not {n}"
                )));
            }
        };
        Ok(Filter {
            from_ms,
            to_ms,
            actor,
            action,
            audit,
            events,
            limit,
        })
    }
}

/// A bound of the time filter: an instant as given, or a local day's start (`from`) or the
/// next day's start (`to`, exclusive) in the office's time zone.
fn time_bound(field: &str, s: &str, tz: &TimeZone, end: bool) -> Result<i64, ApiError> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let bad = |e: String| {
        ApiError::BadRequest(format!(
            "`{field}` is a date like 2025-03-10 or a time like 2025-03-10T12:00:00+01:00: {e}"
        ))
    };
    let date: Date = s.parse().map_err(|e: jiff::Error| bad(e.to_string()))?;
    let date = if end {
        date.tomorrow().map_err(|e| bad(e.to_string()))?
    } else {
        date
    };
    let start = date.to_zoned(tz.clone()).map_err(|e| bad(e.to_string()))?;
    Ok(start.timestamp().as_millisecond())
}

/// A value as JSON for `before` or `after`.
pub fn json<T: Serialize>(value: &T) -> Option<Value> {
    serde_json::to_value(value).ok()
}

impl Audit {
    /// Opens the audit log's connection to the database at `db` (its migrations already
    /// applied by `Store::open`).
    pub async fn open(db: &FsPath, clock: Arc<dyn Clock>) -> Result<Audit, AuditError> {
        let path = db.to_owned();
        let conn = tokio::task::spawn_blocking(move || {
            let conn = Connection::open(&path)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "busy_timeout", BUSY_TIMEOUT_MS)?;
            conn.prepare("SELECT 1 FROM audit_log LIMIT 1")
                .map_err(AuditError::NoTable)?;
            Ok::<_, AuditError>(conn)
        })
        .await
        .map_err(|e| AuditError::Task(e.to_string()))??;
        Ok(Audit {
            inner: Arc::new(Inner {
                db: Mutex::new(conn),
                clock,
            }),
        })
    }

    /// Records a change made by `who`. Call it after the change is committed and before it
    /// is acknowledged. A failure is logged, not returned: the change itself stands.
    pub async fn record(
        &self,
        who: &Principal,
        action: &str,
        target: impl Into<String>,
        before: Option<Value>,
        after: Option<Value>,
    ) {
        let actor = who.actor().to_string();
        let action = action.to_owned();
        let target = target.into();
        let at = self.inner.clock.now().as_millisecond();
        let inner = self.inner.clone();
        let (log_action, log_target) = (action.clone(), target.clone());
        let written = tokio::task::spawn_blocking(move || {
            let db = lock(&inner.db);
            db.execute(
                "INSERT INTO audit_log (at, actor, action, target, before, after)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    at,
                    actor,
                    action,
                    target,
                    before.map(|v| v.to_string()),
                    after.map(|v| v.to_string()),
                ],
            )
        })
        .await;
        match written {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(
                action = %log_action, target = %log_target, error = %e,
                "cannot write the audit record of a change that was made"
            ),
            Err(e) => tracing::error!(
                action = %log_action, target = %log_target, error = %e,
                "the audit record task failed"
            ),
        }
    }

    /// The audit records and the queue's events matching `q`, newest first.
    pub async fn query(&self, q: AuditQuery, tz: &TimeZone) -> Result<AuditView, ApiError> {
        let filter = Filter::parse(q, tz)?;
        let inner = self.inner.clone();
        let view = tokio::task::spawn_blocking(move || {
            let db = lock(&inner.db);
            let mut entries = Vec::new();
            let mut more = false;
            if filter.audit {
                let (rows, m) = audit_rows(&db, &filter)?;
                entries.extend(rows);
                more |= m;
            }
            if filter.events {
                let (rows, m) = event_rows(&db, &filter)?;
                entries.extend(rows);
                more |= m;
            }
            // Newest first; within a millisecond, recorded changes after the events they
            // describe.
            entries.sort_by(|a, b| {
                (b.0, b.1.source == "audit", b.1.id).cmp(&(a.0, a.1.source == "audit", a.1.id))
            });
            if entries.len() > filter.limit {
                entries.truncate(filter.limit);
                more = true;
            }
            Ok::<_, AuditError>(AuditView {
                entries: entries.into_iter().map(|(_, e)| e).collect(),
                more,
            })
        })
        .await
        .map_err(|e| AuditError::Task(e.to_string()))??;
        Ok(view)
    }
}

/// The `WHERE` clause shared by both sources, over columns `at`, `actor` and the action
/// column `action_col`, with the parameters in order.
fn where_clause(f: &Filter, action_col: &str) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value as V;
    let mut sql = vec!["1 = 1".to_owned()];
    let mut params: Vec<V> = Vec::new();
    if let Some(from) = f.from_ms {
        params.push(V::Integer(from));
        sql.push(format!("at >= ?{}", params.len()));
    }
    if let Some(to) = f.to_ms {
        params.push(V::Integer(to));
        sql.push(format!("at < ?{}", params.len()));
    }
    if let Some(actor) = &f.actor {
        params.push(V::Text(actor.clone()));
        sql.push(format!("actor = ?{}", params.len()));
    }
    if let Some(action) = &f.action {
        params.push(V::Text(action.clone()));
        let n = params.len();
        sql.push(format!("substr({action_col}, 1, length(?{n})) = ?{n}"));
    }
    (sql.join(" AND "), params)
}

type Rows = (Vec<(i64, AuditEntry)>, bool);

fn audit_rows(db: &Connection, f: &Filter) -> Result<Rows, AuditError> {
    let (cond, params) = where_clause(f, "action");
    let sql = format!(
        "SELECT id, at, actor, action, target, before, after FROM audit_log
         WHERE {cond} ORDER BY at DESC, id DESC LIMIT {}",
        f.limit + 1
    );
    let mut stmt = db.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, actor, action, target, before, after) = row?;
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        out.push((
            at,
            AuditEntry {
                source: "audit".into(),
                id,
                at: rfc3339(at),
                actor,
                action,
                target: Some(target),
                before: parse(before),
                after: parse(after),
            },
        ));
    }
    let more = out.len() > f.limit;
    out.truncate(f.limit);
    Ok((out, more))
}

fn event_rows(db: &Connection, f: &Filter) -> Result<Rows, AuditError> {
    let (cond, params) = where_clause(f, "kind");
    // The event id grows with time: newest first by id is newest first by time, and SQLite
    // walks the primary key backwards and stops at the limit.
    let sql = format!(
        "SELECT id, at, actor, kind, counter_id, payload FROM events
         WHERE {cond} ORDER BY id DESC LIMIT {}",
        f.limit + 1
    );
    let mut stmt = db.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, actor, kind, counter, payload) = row?;
        let details = serde_json::from_str::<Value>(&payload)
            .map(event_details)
            .unwrap_or(Value::Null);
        let target = event_target(&details, counter);
        out.push((
            at,
            AuditEntry {
                source: "event".into(),
                id,
                at: rfc3339(at),
                actor,
                action: kind,
                target,
                before: None,
                after: Some(details),
            },
        ));
    }
    let more = out.len() > f.limit;
    out.truncate(f.limit);
    Ok((out, more))
}

/// An event's payload as shown: without the fields the entry already has (`at`, `actor`,
/// `type`), with every `priority` reduced to true or false and carried-over tickets to a
/// count, so that no priority category leaves the service.
fn event_details(payload: Value) -> Value {
    let mut v = redact(payload);
    if let Value::Object(map) = &mut v {
        for k in ["at", "actor", "type"] {
            map.remove(k);
        }
    }
    v
}

fn redact(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("priority", v) => Value::Bool(!v.is_null() && v != Value::Bool(false)),
                        ("carried", Value::Array(a)) => Value::from(a.len()),
                        (_, v) => redact(v),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(redact).collect()),
        other => other,
    }
}

/// What an event is about: its ticket, else its counter, else its case type or day.
fn event_target(details: &Value, counter: Option<i64>) -> Option<String> {
    let field = |k: &str| details.get(k).and_then(Value::as_str);
    if let Some(n) = field("number") {
        return Some(format!("ticket:{n}"));
    }
    if let Some(c) = counter {
        return Some(format!("counter:{c}"));
    }
    if let Some(c) = field("case_type") {
        return Some(format!("case_type:{c}"));
    }
    field("date").map(|d| format!("day:{d}"))
}

fn rfc3339(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ms.to_string())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ------------------------------------------------------------------ routes

pub fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec {
        method: Method::GET,
        path: "/api/v1/audit",
        access: Access::users(Role::Manager),
        tag: "manager",
        summary: "The audit log: managers' changes with before and after, merged with the \
                  queue's events; filter by from, to, actor, action, source, limit",
        request: None,
        response: Some(schema::<AuditView>),
        status: 200,
        handler: || get(list),
    }]
}

async fn list(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<ApiJson<AuditView>, ApiError> {
    let Query(q) = query?;
    Ok(ApiJson(
        state.audit.query(q, &state.office.time_zone).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_are_parsed_once() {
        let tz = TimeZone::get("Europe/Warsaw").expect("tz");
        let f = Filter::parse(
            AuditQuery {
                from: Some("2025-03-10".into()),
                to: Some("2025-03-10".into()),
                actor: Some("anna".into()),
                action: Some(" counter. ".into()),
                ..Default::default()
            },
            &tz,
        )
        .expect("valid");
        // Local midnight in Warsaw (UTC+1 in March before the change) to the next one.
        let t = |s: &str| s.parse::<Timestamp>().expect("ts").as_millisecond();
        assert_eq!(f.from_ms, Some(t("2025-03-09T23:00:00Z")));
        assert_eq!(f.to_ms, Some(t("2025-03-10T23:00:00Z")));
        assert_eq!(f.actor.as_deref(), Some("user:anna"));
        assert_eq!(f.action.as_deref(), Some("counter."));
        assert!(f.audit && f.events);
        assert_eq!(f.limit, DEFAULT_LIMIT);
        let exact = Filter::parse(
            AuditQuery {
                from: Some("2025-03-10T12:00:00+01:00".into()),
                actor: Some("system".into()),
                source: Some("audit".into()),
                limit: Some(5),
                ..Default::default()
            },
            &tz,
        )
        .expect("valid");
        assert_eq!(exact.from_ms, Some(t("2025-03-10T11:00:00Z")));
        assert_eq!(exact.actor.as_deref(), Some("system"));
        assert!(exact.audit && !exact.events);
        for bad in [
            AuditQuery {
                from: Some("yesterday".into()),
                ..Default::default()
            },
            AuditQuery {
                source: Some("both".into()),
                ..Default::default()
            },
            AuditQuery {
                limit: Some(0),
                ..Default::default()
            },
            AuditQuery {
                limit: Some(MAX_LIMIT + 1),
                ..Default::default()
            },
        ] {
            assert!(Filter::parse(bad, &tz).is_err());
        }
    }

    #[test]
    fn event_details_never_show_a_priority_category() {
        let issued = json!({"at": "2025-03-10T08:00:00Z", "actor": "device:1",
            "type": "ticket_issued", "ticket": 1, "number": "A001", "case_type": "dowody",
            "priority": "ciaza", "lang": "pl"});
        let d = event_details(issued);
        assert_eq!(d["priority"], json!(true));
        assert!(d.get("at").is_none() && d.get("type").is_none());
        assert_eq!(event_target(&d, None).as_deref(), Some("ticket:A001"));
        let normal = event_details(json!({"type": "ticket_issued", "priority": null}));
        assert_eq!(normal["priority"], json!(false));
        let day = event_details(json!({"type": "day_started", "date": "2025-03-10",
            "carried": [{"priority": "niepelnosprawnosc"}, {"priority": null}]}));
        assert_eq!(day["carried"], json!(2));
        assert!(!day.to_string().contains("niepelnosprawnosc"));
        assert_eq!(event_target(&day, None).as_deref(), Some("day:2025-03-10"));
        let serves = event_details(json!({"type": "counter_serves_changed", "counter": 3}));
        assert_eq!(event_target(&serves, Some(3)).as_deref(), Some("counter:3"));
    }
}
