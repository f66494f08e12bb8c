//! Statistics, service standards, staffing, the public status feed and retention.
//!
//! ```text
//! tickets + events ──derive (facts)──► Dataset ──► report / CSV / staffing
//!        │                               ▲
//!        └── closed days, once ──► stats_* tables (summary)
//! ```
//!
//! Reports read with their own query-only SQLite connections (WAL lets readers work beside the
//! queue writer), in one read transaction each. Closed days come from the `stats_*` summary
//! tables, later days (today) are derived live by the same code. Only maintenance (`summarize`,
//! `purge`: the nightly run and `kolejka purge`) writes, and only the `stats_*` tables, except
//! that the purge deletes priority categories of closed days (see `purge`). The definitions of
//! every figure and the staffing model are in docs/STATISTICS.md.

pub mod cli;
pub mod csv;
pub mod facts;
pub mod http;
pub mod math;
pub mod public;
pub mod purge;
pub mod report;
pub mod seed;
pub mod staffing;
pub mod summary;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::civil::Date;
use rusqlite::{Connection, OpenFlags};

use crate::clock::Clock;
use crate::engine::Office;

pub use purge::{PurgeOutcome, Retention};
pub use report::{Filter, Report};
pub use staffing::{Staffing, StaffingQuery};

/// How long a statement waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle read connections kept for the next report.
const POOLED_READERS: usize = 4;

/// Why statistics could not be read or maintained.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("cannot open the database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The statistics service: cheap to clone.
#[derive(Clone)]
pub struct Stats {
    inner: Arc<Inner>,
}

struct Inner {
    db: PathBuf,
    office: Arc<Office>,
    clock: Arc<dyn Clock>,
    readers: Mutex<Vec<Connection>>,
    /// Set on shutdown: connections are closed after use rather than pooled.
    released: AtomicBool,
    /// Closed days' facts, so that a year's report reads them from the database once.
    cache: Mutex<summary::FactCache>,
    /// One maintenance run (summarize, purge) at a time.
    maintenance: Mutex<()>,
}

impl std::fmt::Debug for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stats")
            .field("db", &self.inner.db)
            .finish_non_exhaustive()
    }
}

impl Stats {
    /// Statistics of the database at `db`, which the store has already created and migrated.
    /// Opens nothing yet.
    pub fn new(db: &Path, office: Arc<Office>, clock: Arc<dyn Clock>) -> Stats {
        Stats {
            inner: Arc::new(Inner {
                db: db.to_owned(),
                office,
                clock,
                readers: Mutex::new(Vec::new()),
                released: AtomicBool::new(false),
                cache: Mutex::new(summary::FactCache::default()),
                maintenance: Mutex::new(()),
            }),
        }
    }

    pub fn office(&self) -> &Arc<Office> {
        &self.inner.office
    }

    /// The office's local date now.
    pub fn today(&self) -> Date {
        self.inner
            .clock
            .now()
            .to_zoned(self.inner.office.time_zone.clone())
            .date()
    }

    /// Runs `f` in a read transaction on a pooled query-only connection. Blocking.
    fn read<R>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<R>,
    ) -> Result<R, StatsError> {
        let pooled = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => {
                // Read-write but query-only: whichever connection closes last must be able to
                // checkpoint and remove the WAL file, which a read-only one cannot.
                let c = self.open(OpenFlags::SQLITE_OPEN_READ_WRITE)?;
                c.pragma_update(None, "query_only", true)?;
                c
            }
        };
        let result = (|| {
            let tx = conn.transaction()?;
            let r = f(&tx)?;
            tx.finish()?;
            Ok(r)
        })();
        let mut pool = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if result.is_ok()
            && pool.len() < POOLED_READERS
            && !self.inner.released.load(Ordering::Acquire)
        {
            pool.push(conn);
        }
        result
    }

    /// Closes the pooled connections and keeps no more (the service is stopping: the queue
    /// writer's connection should be the last to close).
    pub fn release(&self) {
        self.inner.released.store(true, Ordering::Release);
        self.inner
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn open(&self, flags: OpenFlags) -> Result<Connection, StatsError> {
        let path = &self.inner.db;
        let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|source| StatsError::Open {
                path: path.clone(),
                source,
            })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(conn)
    }

    /// The facts of `from..=to`. Blocking.
    pub fn dataset(&self, from: Date, to: Date) -> Result<facts::Dataset, StatsError> {
        let tz = self.inner.office.time_zone.clone();
        let now = self.inner.clock.now();
        self.read(|tx| {
            let mut cache = self
                .inner
                .cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            summary::load(tx, from, to, &tz, now, &mut cache)
        })
    }

    /// Reads the last year's closed days into the cache, so that the first report of the day
    /// is as quick as the next. Blocking.
    pub fn warm(&self) -> Result<usize, StatsError> {
        let today = self.today();
        let from = today
            .checked_sub(jiff::Span::new().days(400))
            .unwrap_or(today);
        let ds = self.dataset(from, today.yesterday().unwrap_or(today))?;
        Ok(ds.days.len())
    }

    /// The report of `from..=to`. Blocking.
    pub fn report(&self, from: Date, to: Date, filter: &Filter) -> Result<Report, StatsError> {
        let started = std::time::Instant::now();
        let ds = self.dataset(from, to)?;
        let loaded = started.elapsed();
        let report = report::compute(&ds, &self.inner.office, from, to, filter);
        tracing::debug!(
            %from,
            %to,
            tickets = ds.tickets(),
            load_ms = loaded.as_millis() as u64,
            compute_ms = (started.elapsed() - loaded).as_millis() as u64,
            "report"
        );
        Ok(report)
    }

    /// One table of the report as CSV bytes. Blocking.
    pub fn csv(
        &self,
        from: Date,
        to: Date,
        filter: &Filter,
        table: csv::Table,
    ) -> Result<Vec<u8>, StatsError> {
        Ok(csv::render(&self.report(from, to, filter)?, table))
    }

    /// Staffing from the weeks before `q.to`. Blocking.
    pub fn staffing(&self, q: &StaffingQuery) -> Result<Staffing, StatsError> {
        let ds = self.dataset(q.from(), q.to)?;
        Ok(staffing::compute(&ds, &self.inner.office, q))
    }

    /// Summarizes the closed days not summarized yet. Blocking.
    pub fn summarize(&self) -> Result<Vec<Date>, StatsError> {
        let _one = self
            .inner
            .maintenance
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut conn = self.open(OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let tz = self.inner.office.time_zone.clone();
        Ok(summary::summarize_closed(
            &mut conn,
            &tz,
            self.inner.clock.now(),
        )?)
    }

    /// Summarizes closed days and deletes what retention says. Blocking.
    pub fn purge(&self, retention: Retention) -> Result<PurgeOutcome, StatsError> {
        let _one = self
            .inner
            .maintenance
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut conn = self.open(OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let tz = self.inner.office.time_zone.clone();
        Ok(purge::run(
            &mut conn,
            &tz,
            self.inner.clock.now(),
            retention,
        )?)
    }

    /// How long until the next nightly run: 02:30 local time (after the day has rolled over,
    /// before anyone comes in).
    pub fn until_next_night(&self) -> Duration {
        let tz = self.inner.office.time_zone.clone();
        let now = self.inner.clock.now();
        let local = now.to_zoned(tz.clone());
        let at = |d: Date| {
            d.at(2, 30, 0, 0)
                .to_zoned(tz.clone())
                .map(|z| z.timestamp())
                .ok()
        };
        let next = at(local.date())
            .filter(|t| *t > now)
            .or_else(|| local.date().tomorrow().ok().and_then(at));
        next.map(|t| t.duration_since(now))
            .and_then(|d| Duration::try_from(d).ok())
            .unwrap_or(Duration::from_secs(24 * 3600))
    }
}

/// The nightly maintenance: once at start-up (catching up on days closed while the service
/// was down), then every night at 02:30 local time, summarize closed days and purge. Runs
/// until the task is aborted (`crate::app` aborts it on shutdown). Failures are logged and
/// retried the next night.
pub async fn nightly(stats: Stats, retention: Retention) {
    loop {
        let s = stats.clone();
        match tokio::task::spawn_blocking(move || s.purge(retention)).await {
            Ok(Ok(out)) => {
                if !out.summarized.is_empty() || !out.purged.is_empty() {
                    tracing::info!(
                        summarized = out.summarized.len(),
                        purged_days = out.purged.len(),
                        tickets_cleared = out.tickets_cleared,
                        events_scrubbed = out.events_scrubbed,
                        "statistics summarized and retention applied"
                    );
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "nightly statistics run failed"),
            Err(e) => tracing::error!(error = %e, "nightly statistics task failed"),
        }
        let s = stats.clone();
        let started = std::time::Instant::now();
        match tokio::task::spawn_blocking(move || s.warm()).await {
            Ok(Ok(days)) => tracing::debug!(
                days,
                ms = started.elapsed().as_millis() as u64,
                "statistics of the last year read into memory"
            ),
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot read the statistics into memory"),
            Err(e) => tracing::warn!(error = %e, "statistics warm-up task failed"),
        }
        tokio::time::sleep(stats.until_next_night()).await;
    }
}
