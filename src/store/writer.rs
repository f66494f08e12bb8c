//! The commit pipeline: one writer thread, group commit, publish after commit.
//!
//! The writer owns the write connection and a *tentative* engine. It blocks for the first job,
//! drains whatever else is queued (up to `MAX_BATCH`), runs each command on the tentative
//! engine, writes all the resulting events and ticket rows in one transaction and commits
//! (one fsync for the whole batch). Only then does it apply the events to the shared
//! *committed* engine, broadcast them and answer each requester. If the commit fails, every job
//! of the batch is told "storage unavailable" and the tentative engine is reset from the
//! committed one, so nothing half-written is ever seen.
//!
//! The thread needs no async runtime: jobs come over a std channel and answers go back over
//! `tokio::sync::oneshot`, which works from any thread.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{broadcast, oneshot};

use super::sqlite::{Batch, Store};
use super::{StoreError, StoredEvent, SubmitError};
use crate::clock::Clock;
use crate::engine::{Actor, Command, DomainError, Engine, Event, EventKind, Office};

/// The most jobs committed in one transaction.
pub const MAX_BATCH: usize = 256;

/// How often an idle writer wakes to roll the day over (local midnight with nobody issuing).
const IDLE_TICK: Duration = Duration::from_secs(30);

/// How many events a slow subscriber may fall behind before it sees `Lagged`.
const BROADCAST_CAPACITY: usize = 1024;

type Reply = Result<Vec<StoredEvent>, SubmitError>;

struct Job {
    cmd: Command,
    actor: Actor,
    reply: oneshot::Sender<Reply>,
}

enum Msg {
    Job(Job),
    Shutdown,
    /// Caps the database's size on the write connection between batches (drills).
    MaxPageCount(i64, mpsc::Sender<Result<i64, String>>),
    /// Runs SQL on the write connection between batches (tests simulate a full disk).
    #[cfg(test)]
    Exec(String, mpsc::Sender<Result<(), String>>),
}

/// The committed state: what every reader sees.
struct Committed {
    engine: Engine,
    version: i64,
}

#[derive(Debug, Default)]
struct Stats {
    commits: AtomicU64,
    jobs: AtomicU64,
    events: AtomicU64,
    failed_commits: AtomicU64,
    largest_batch: AtomicUsize,
}

/// Counters of the writer's work since start, for tests, benchmarks and the health page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed (each one fsync).
    pub commits: u64,
    /// Jobs answered, whatever the answer.
    pub jobs: u64,
    /// Events committed.
    pub events: u64,
    /// Batches whose commit failed and were rolled back.
    pub failed_commits: u64,
    /// The most jobs in one committed transaction.
    pub largest_batch: usize,
}

/// A cheap, cloneable handle to the writer thread and the committed state.
#[derive(Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<Msg>,
    committed: Arc<RwLock<Committed>>,
    events: broadcast::Sender<Arc<StoredEvent>>,
    closed: AtomicBool,
    thread: Mutex<Option<JoinHandle<Result<(), StoreError>>>>,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Queue {
    /// Restores the current day from the event log (see `Store::restore`), rolls it over to
    /// today if the date has changed, and starts the writer thread.
    pub fn start(
        store: Store,
        office: Arc<Office>,
        clock: Arc<dyn Clock>,
    ) -> Result<Queue, StoreError> {
        Self::start_with_tick(store, office, clock, IDLE_TICK)
    }

    pub(crate) fn start_with_tick(
        store: Store,
        office: Arc<Office>,
        clock: Arc<dyn Clock>,
        tick: Duration,
    ) -> Result<Queue, StoreError> {
        let (engine, version) = store.restore(office)?;
        tracing::info!(
            version,
            day = ?engine.day(),
            tickets = engine.tickets().count(),
            "restored the day from the event log"
        );
        let committed = Arc::new(RwLock::new(Committed {
            engine: engine.clone(),
            version,
        }));
        let (events, _) = broadcast::channel(BROADCAST_CAPACITY);
        let stats = Arc::new(Stats::default());
        let mut writer = Writer {
            store,
            tentative: engine,
            version,
            committed: committed.clone(),
            events: events.clone(),
            clock,
            stats: stats.clone(),
        };
        // Start today before anyone reads, so a snapshot never shows yesterday. A failure is
        // logged by commit_batch and retried on the next tick.
        writer.commit_batch(Vec::new());
        let (tx, rx) = mpsc::channel();
        let handle = thread::Builder::new()
            .name("kolejka-writer".into())
            .spawn(move || writer.run(rx, tick))
            .map_err(|e| StoreError::Writer(format!("cannot start: {e}")))?;
        Ok(Queue {
            inner: Arc::new(Inner {
                tx,
                committed,
                events,
                closed: AtomicBool::new(false),
                thread: Mutex::new(Some(handle)),
                stats,
            }),
        })
    }

    /// Submits a command and resolves once its events are committed (or it was refused).
    /// The answer holds the command's own events; events of a day roll-over committed in the
    /// same batch are only broadcast. Dropping the future does not withdraw the command.
    pub async fn submit(
        &self,
        cmd: Command,
        actor: Actor,
    ) -> Result<Vec<StoredEvent>, SubmitError> {
        let rx = self.enqueue(cmd, actor)?;
        rx.await.unwrap_or(Err(SubmitError::Closed))
    }

    /// `submit` for callers outside an async runtime. Panics if called from async code (use
    /// `submit` there).
    pub fn submit_blocking(
        &self,
        cmd: Command,
        actor: Actor,
    ) -> Result<Vec<StoredEvent>, SubmitError> {
        let rx = self.enqueue(cmd, actor)?;
        rx.blocking_recv().unwrap_or(Err(SubmitError::Closed))
    }

    fn enqueue(&self, cmd: Command, actor: Actor) -> Result<oneshot::Receiver<Reply>, SubmitError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(SubmitError::Closed);
        }
        let (reply, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Msg::Job(Job { cmd, actor, reply }))
            .map_err(|_| SubmitError::Closed)?;
        Ok(rx)
    }

    /// Reads the committed state and its version (the seq of the last event applied). Keep `f`
    /// short: the writer waits for it before publishing the next batch.
    pub fn read<R>(&self, f: impl FnOnce(&Engine, i64) -> R) -> R {
        let c = self
            .inner
            .committed
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        f(&c.engine, c.version)
    }

    /// Committed events, in order, from now on. Subscribe first, then `read` a snapshot, and
    /// skip events whose seq is not above the snapshot's version.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.inner.events.subscribe()
    }

    /// False once `shutdown` has begun.
    pub fn is_running(&self) -> bool {
        !self.inner.closed.load(Ordering::Acquire)
    }

    /// Counters of the writer's work so far.
    pub fn stats(&self) -> WriterStats {
        let s = &self.inner.stats;
        WriterStats {
            commits: s.commits.load(Ordering::Relaxed),
            jobs: s.jobs.load(Ordering::Relaxed),
            events: s.events.load(Ordering::Relaxed),
            failed_commits: s.failed_commits.load(Ordering::Relaxed),
            largest_batch: s.largest_batch.load(Ordering::Relaxed),
        }
    }

    /// Stops taking requests, lets the writer commit everything already queued, closes the
    /// database and waits for the thread. Blocking: from async code call it in
    /// `spawn_blocking`. Later calls (from any clone) return `Ok` at once; later submits get
    /// `SubmitError::Closed`.
    pub fn shutdown(&self) -> Result<(), StoreError> {
        self.inner.closed.store(true, Ordering::Release);
        // The writer may already be gone (all work done); then there is nobody to tell.
        let _ = self.inner.tx.send(Msg::Shutdown);
        let mut thread = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match thread.take() {
            Some(handle) => handle
                .join()
                .map_err(|_| StoreError::Writer("it panicked".into()))?,
            None => Ok(()),
        }
    }

    /// Caps the database at `pages` pages and returns the cap now in force (SQLite never sets
    /// it below the current size, so `1` means "no room to grow"). It is `PRAGMA
    /// max_page_count` on the writer's connection: the setting is per connection, and this is
    /// the only one that writes the event log. Commits that need a new page then fail with
    /// SQLITE_FULL, as on a full disk, until the cap is raised again. For the drills that fill
    /// the database through the real HTTP API (`tests/drills.rs`); not part of the service.
    #[doc(hidden)]
    pub fn set_max_page_count(&self, pages: i64) -> Result<i64, String> {
        let (tx, rx) = mpsc::channel();
        self.inner
            .tx
            .send(Msg::MaxPageCount(pages, tx))
            .map_err(|_| "writer gone".to_owned())?;
        rx.recv().map_err(|_| "writer gone".to_owned())?
    }

    /// Runs SQL on the writer's connection between batches.
    #[cfg(test)]
    pub(crate) fn exec_sql_for_test(&self, sql: &str) -> Result<(), String> {
        let (tx, rx) = mpsc::channel();
        self.inner
            .tx
            .send(Msg::Exec(sql.to_owned(), tx))
            .map_err(|_| "writer gone".to_owned())?;
        rx.recv().map_err(|_| "writer gone".to_owned())?
    }
}

/// The writer thread's state.
struct Writer {
    store: Store,
    /// The committed state plus the batch being built; reset from `committed` on failure.
    tentative: Engine,
    /// The committed version (seq of the last committed event).
    version: i64,
    committed: Arc<RwLock<Committed>>,
    events: broadcast::Sender<Arc<StoredEvent>>,
    clock: Arc<dyn Clock>,
    stats: Arc<Stats>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Msg>, tick: Duration) -> Result<(), StoreError> {
        loop {
            let first = match rx.recv_timeout(tick) {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => {
                    // Idle: a day may have ended with nobody issuing.
                    self.commit_batch(Vec::new());
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut jobs = Vec::new();
            let mut stop = self.take(first, &mut jobs);
            while !stop && jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(msg) => stop = self.take(msg, &mut jobs),
                    Err(_) => break,
                }
            }
            self.commit_batch(jobs);
            if stop {
                // Commit what was queued before (or raced with) the shutdown request.
                loop {
                    let mut jobs = Vec::new();
                    while jobs.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(msg) => {
                                self.take(msg, &mut jobs);
                            }
                            Err(_) => break,
                        }
                    }
                    if jobs.is_empty() {
                        break;
                    }
                    self.commit_batch(jobs);
                }
                break;
            }
        }
        // Jobs that arrive from now on are dropped with the receiver, and their senders see
        // `Closed`.
        drop(rx);
        tracing::info!(version = self.version, "storage writer stopped");
        self.store.close()
    }

    /// Adds a message to the batch being collected; true if it asks the writer to stop.
    fn take(&mut self, msg: Msg, jobs: &mut Vec<Job>) -> bool {
        match msg {
            Msg::Job(job) => {
                jobs.push(job);
                false
            }
            Msg::Shutdown => true,
            Msg::MaxPageCount(pages, reply) => {
                self.commit_batch(std::mem::take(jobs));
                let result = self
                    .store
                    .set_max_page_count(pages)
                    .map_err(|e| e.to_string());
                let _ = reply.send(result);
                false
            }
            #[cfg(test)]
            Msg::Exec(sql, reply) => {
                self.commit_batch(std::mem::take(jobs));
                let result = self
                    .store
                    .execute_batch_for_test(&sql)
                    .map_err(|e| e.to_string());
                let _ = reply.send(result);
                false
            }
        }
    }

    /// Runs the jobs on the tentative engine, commits their events in one transaction, then
    /// publishes and answers. With no jobs it only rolls the day over if due.
    fn commit_batch(&mut self, jobs: Vec<Job>) {
        let mut batch = Batch::default();
        let mut outcomes: Vec<Result<Range<usize>, DomainError>> = Vec::with_capacity(jobs.len());
        if jobs.is_empty() {
            self.stage_rollover(self.clock.now(), &mut batch);
        }
        for job in &jobs {
            let now = self.clock.now();
            self.stage_rollover(now, &mut batch);
            let outcome = self
                .tentative
                .handle(&job.cmd, &job.actor, now)
                .map(|events| {
                    let start = batch.events.len();
                    for e in events {
                        self.stage(e, &mut batch);
                    }
                    start..batch.events.len()
                });
            outcomes.push(outcome);
        }

        if !batch.events.is_empty()
            && let Err(e) = self.store.append(&batch)
        {
            tracing::error!(error = %e, jobs = jobs.len(), "commit failed; batch rolled back");
            self.stats.failed_commits.fetch_add(1, Ordering::Relaxed);
            self.tentative = self
                .committed
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .engine
                .clone();
            let message = e.to_string();
            let replies = std::iter::repeat_with(|| Err(SubmitError::Unavailable(message.clone())));
            self.answer(jobs, replies);
            return;
        }

        if let Some(last) = batch.events.last() {
            self.version = last.seq;
            {
                let mut c = self
                    .committed
                    .write()
                    .unwrap_or_else(PoisonError::into_inner);
                for e in &batch.events {
                    c.engine.apply(&e.event);
                }
                c.version = self.version;
            }
            let s = &self.stats;
            s.commits.fetch_add(1, Ordering::Relaxed);
            s.events
                .fetch_add(batch.events.len() as u64, Ordering::Relaxed);
            s.largest_batch.fetch_max(jobs.len(), Ordering::Relaxed);
            tracing::debug!(
                jobs = jobs.len(),
                events = batch.events.len(),
                version = self.version,
                "committed a batch"
            );
            for e in &batch.events {
                // No subscribers is fine: nobody is watching.
                let _ = self.events.send(Arc::new(e.clone()));
            }
        }
        let replies = outcomes.into_iter().map(|outcome| match outcome {
            Ok(range) => Ok(batch
                .events
                .get(range)
                .map(<[StoredEvent]>::to_vec)
                .unwrap_or_default()),
            Err(e) => Err(SubmitError::Domain(e)),
        });
        self.answer(jobs, replies);
    }

    /// Sends each job its answer (jobs and answers in the same order).
    fn answer(&self, jobs: Vec<Job>, replies: impl IntoIterator<Item = Reply>) {
        self.stats
            .jobs
            .fetch_add(jobs.len() as u64, Ordering::Relaxed);
        for (job, reply) in jobs.into_iter().zip(replies) {
            // The requester may have gone away; the command stands regardless.
            let _ = job.reply.send(reply);
        }
    }

    /// Stages the day roll-over's events if `now` is on a later local date than the tentative
    /// engine's day. The check mirrors `Engine::rollover`'s own, so the engine is cloned only
    /// when a day really starts: the clone yields the events, and `stage` applies them one by
    /// one so that each ticket row is captured as the event leaves it (a ticket cancelled at
    /// the end of the day is gone from the engine once `DayStarted` is applied).
    fn stage_rollover(&mut self, now: Timestamp, batch: &mut Batch) {
        if self
            .tentative
            .day()
            .is_some_and(|d| d >= self.tentative.local_date(now))
        {
            return;
        }
        let events = self.tentative.clone().rollover(now);
        for e in events {
            self.stage(e, batch);
        }
    }

    /// Applies one event to the tentative engine and adds it, with the rows of the tickets it
    /// touched, to the batch.
    fn stage(&mut self, event: Event, batch: &mut Batch) {
        let seq = self.version + batch.events.len() as i64 + 1;
        self.tentative.apply(&event);
        let day = self
            .tentative
            .day()
            .unwrap_or_else(|| self.tentative.local_date(event.at));
        let mut touched: Vec<_> = event.kind.ticket().into_iter().collect();
        if let EventKind::DayStarted { carried, .. } = &event.kind {
            touched.extend(carried.iter().map(|t| t.id));
        }
        for id in touched {
            if let Some(t) = self.tentative.ticket(id) {
                batch.tickets.insert(id, (t.clone(), seq));
            }
        }
        batch.events.push(StoredEvent { seq, event });
        batch.days.push(day);
    }
}
