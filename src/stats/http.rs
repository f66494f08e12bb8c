//! The statistics routes: reports, CSV export and staffing for managers, and the public
//! status feed for anyone (a city portal). Query parameters are parsed here, once, into
//! domain values; bad ones are a 400 (unknown parameter, malformed query) or a 422 (a value
//! that is not valid), never a panic.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::civil::Date;
use serde::Deserialize;

use super::csv::Table;
use super::public::{PublicStatus, WarsawFeed};
use super::report::{Filter, Report};
use super::staffing::{Staffing, StaffingQuery};
use super::{StatsError, public};
use crate::auth::{Access, Role};
use crate::engine::{CaseTypeCode, CounterId};
use crate::server::AppState;
use crate::server::error::{ApiError, ApiJson};
use crate::server::routes::{RouteSpec, schema};

/// The longest range a report covers, in days (three years).
pub const MAX_RANGE_DAYS: i32 = 3 * 366;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/reports/summary",
            access: Access::users(Role::Manager),
            tag: "reports",
            summary: "Statistics of a range of days (query: from, to as YYYY-MM-DD; optional \
                      case_type, counter, clerk); see docs/STATISTICS.md",
            request: None,
            response: Some(schema::<Report>),
            status: 200,
            handler: || get(summary),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/reports/export.csv",
            access: Access::users(Role::Manager),
            tag: "reports",
            summary: "A report table as CSV for Polish Excel and LibreOffice (UTF-8 with BOM, \
                      `;`, whole seconds; query as the summary plus table = summary, days, \
                      hours, heatmap, counters or clerks)",
            request: None,
            response: None,
            status: 200,
            handler: || get(export_csv),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/reports/staffing",
            access: Access::users(Role::Manager),
            tag: "reports",
            summary: "Counters needed per case type and hour by the Erlang C model, beside the \
                      counters open (query: to, weeks, share, weekday)",
            request: None,
            response: Some(schema::<Staffing>),
            status: 200,
            handler: || get(staffing),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/public/status",
            access: Access::PUBLIC,
            tag: "public",
            summary: "Live status of each queue for a city portal: letter, last number called, \
                      people waiting, counters open, mean service time; no personal data",
            request: None,
            response: Some(schema::<PublicStatus>),
            status: 200,
            handler: || get(public_status),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/public/status/um-warszawa",
            access: Access::PUBLIC,
            tag: "public",
            summary: "The public status in the shape and field names of Warsaw's open-data \
                      queue feed",
            request: None,
            response: Some(schema::<WarsawFeed>),
            status: 200,
            handler: || get(public_status_warsaw),
        },
    ]
}

// ------------------------------------------------------------------ query parameters

/// `?from=&to=&case_type=&counter=&clerk=`: empty values mean "not given".
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub case_type: Option<String>,
    pub counter: Option<String>,
    pub clerk: Option<String>,
}

/// `ReportParams` and `table`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub case_type: Option<String>,
    pub counter: Option<String>,
    pub clerk: Option<String>,
    pub table: Option<String>,
}

/// `?to=&weeks=&share=&weekday=`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffingParams {
    pub to: Option<String>,
    pub weeks: Option<String>,
    pub share: Option<String>,
    pub weekday: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_date(name: &str, v: &str) -> Result<Date, ApiError> {
    let bad = || ApiError::Unprocessable(format!("`{name}` must be a date YYYY-MM-DD, not `{v}`"));
    if v.len() != 10 {
        return Err(bad());
    }
    v.parse::<Date>().map_err(|_| bad())
}

/// A parsed report query: the days and the filter.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportQuery {
    pub from: Date,
    pub to: Date,
    pub filter: Filter,
}

impl ReportQuery {
    /// Parses the parameters; a missing `from` is today, a missing `to` is `from`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        case_type: Option<&str>,
        counter: Option<&str>,
        clerk: Option<&str>,
        today: Date,
    ) -> Result<ReportQuery, ApiError> {
        let from = from
            .map(|v| parse_date("from", v))
            .transpose()?
            .unwrap_or(today);
        let to = to.map(|v| parse_date("to", v)).transpose()?.unwrap_or(from);
        if to < from {
            return Err(ApiError::Unprocessable(format!(
                "`to` ({to}) is before `from` ({from})"
            )));
        }
        if (to - from).get_days() >= MAX_RANGE_DAYS {
            return Err(ApiError::Unprocessable(format!(
                "a report covers at most {MAX_RANGE_DAYS} days"
            )));
        }
        let case_type = case_type
            .map(CaseTypeCode::parse)
            .transpose()
            .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
        let counter = counter
            .map(CounterId::parse)
            .transpose()
            .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
        let clerk = clerk.map(parse_clerk).transpose()?;
        Ok(ReportQuery {
            from,
            to,
            filter: Filter {
                case_type,
                counter,
                clerk,
            },
        })
    }
}

/// A user name as the sign-in takes it: 1 to 64 of `A-Z a-z 0-9 . _ @ -`.
fn parse_clerk(v: &str) -> Result<String, ApiError> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(ApiError::Unprocessable(format!(
            "`clerk` must be a user name (1-64 of letters, digits, `.`, `_`, `@`, `-`), not `{v}`"
        )))
    }
}

impl StaffingParams {
    fn parse(&self, today: Date) -> Result<StaffingQuery, ApiError> {
        let to = match given(&self.to) {
            Some(v) => parse_date("to", v)?,
            None => today.yesterday().unwrap_or(today),
        };
        let weeks = match given(&self.weeks) {
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|w| (1..=52).contains(w))
                .ok_or_else(|| {
                    ApiError::Unprocessable(format!("`weeks` must be 1 to 52, not `{v}`"))
                })?,
            None => 8,
        };
        let share = match given(&self.share) {
            Some(v) => v
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|s| (0.5..=0.99).contains(s))
                .ok_or_else(|| {
                    ApiError::Unprocessable(format!(
                        "`share` must be a fraction from 0.5 to 0.99, not `{v}`"
                    ))
                })?,
            None => 0.8,
        };
        let weekday = given(&self.weekday)
            .map(|v| {
                v.parse::<u8>()
                    .ok()
                    .filter(|w| (1..=7).contains(w))
                    .ok_or_else(|| {
                        ApiError::Unprocessable(format!(
                            "`weekday` must be 1 (Monday) to 7 (Sunday), not `{v}`"
                        ))
                    })
            })
            .transpose()?;
        Ok(StaffingQuery {
            to,
            weeks,
            share,
            weekday,
        })
    }
}

// ------------------------------------------------------------------ handlers

impl From<StatsError> for ApiError {
    fn from(e: StatsError) -> Self {
        ApiError::Internal(format!("statistics: {e}"))
    }
}

/// Runs blocking statistics work off the async runtime.
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, StatsError> + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("statistics task: {e}")))?
        .map_err(ApiError::from)
}

async fn summary(
    State(state): State<AppState>,
    query: Result<Query<ReportParams>, QueryRejection>,
) -> Result<ApiJson<Report>, ApiError> {
    let Query(p) = query?;
    let stats = state.stats.clone();
    let q = ReportQuery::parse(
        given(&p.from),
        given(&p.to),
        given(&p.case_type),
        given(&p.counter),
        given(&p.clerk),
        stats.today(),
    )?;
    let report = blocking(move || stats.report(q.from, q.to, &q.filter)).await?;
    Ok(ApiJson(report))
}

async fn export_csv(
    State(state): State<AppState>,
    query: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = query?;
    let stats = state.stats.clone();
    let q = ReportQuery::parse(
        given(&p.from),
        given(&p.to),
        given(&p.case_type),
        given(&p.counter),
        given(&p.clerk),
        stats.today(),
    )?;
    let table = match given(&p.table) {
        None => Table::Summary,
        Some(t) => Table::parse(t).ok_or_else(|| {
            let names: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
            ApiError::Unprocessable(format!(
                "`table` must be one of {}, not `{t}`",
                names.join(", ")
            ))
        })?,
    };
    let file = format!("kolejka-{}-{}-{}.csv", table.file_word(), q.from, q.to);
    let bytes = blocking(move || stats.csv(q.from, q.to, &q.filter, table)).await?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

async fn staffing(
    State(state): State<AppState>,
    query: Result<Query<StaffingParams>, QueryRejection>,
) -> Result<ApiJson<Staffing>, ApiError> {
    let Query(p) = query?;
    let stats = state.stats.clone();
    let q = p.parse(stats.today())?;
    let answer = blocking(move || stats.staffing(&q)).await?;
    Ok(ApiJson(answer))
}

/// The public feed may be read by a portal's page in a browser on another origin, and may be
/// cached for a few seconds.
fn public_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=5"),
    );
    resp
}

/// No parameters: anything given is a 400.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

async fn public_status(
    State(state): State<AppState>,
    query: Result<Query<NoParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    query?;
    let now = state.clock.now();
    let status = state.queue.read(|engine, _| public::status(engine, now));
    Ok(public_headers(ApiJson(status).into_response()))
}

async fn public_status_warsaw(
    State(state): State<AppState>,
    query: Result<Query<NoParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    query?;
    let now = state.clock.now();
    let feed = state.queue.read(|engine, _| {
        let status = public::status(engine, now);
        public::warsaw(&status, engine, now)
    });
    Ok(public_headers(ApiJson(feed).into_response()))
}
