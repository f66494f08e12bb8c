//! The print queue: named printers, each with its own worker thread that prints one job at a
//! time, in order, retrying a failed job a few times before giving up.
//!
//! `submit` returns at once with a job id; the kiosk then waits a couple of seconds for the
//! first attempt (to tell the citizen "printing failed" while retries go on), and the manager
//! reads each printer's state or subscribes to its changes. A printer that hangs or fails only
//! ever holds up its own worker: every other printer, and every caller, carries on.
//!
//! Workers are plain threads (the transports block); they talk to async callers through
//! tokio's `watch` and `broadcast` channels, whose sending side needs no runtime. Dropping the
//! last `Printers` handle stops the workers once their current job is done.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use super::profile::Profile;
use super::render::{TicketPrint, render};
use super::status::DeviceStatus;
use super::transport::{Job, Transport, TransportError};

/// The identity of a print job (not reused while the service runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Printing {
        attempt: u32,
    },
    /// An attempt failed; the next one starts after a pause.
    WaitingToRetry {
        attempts: u32,
        reason: String,
    },
    Printed {
        attempts: u32,
    },
    Failed {
        attempts: u32,
        reason: String,
    },
}

impl JobStatus {
    /// Whether the job is over (printed or given up).
    pub fn is_final(&self) -> bool {
        matches!(self, JobStatus::Printed { .. } | JobStatus::Failed { .. })
    }
}

/// How a job's first attempt ended: what the kiosk tells the citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FirstAttempt {
    Printed,
    Failed { reason: String, retrying: bool },
}

/// A printer's condition, for the manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PrinterCondition {
    /// Nothing has been printed yet.
    Unknown,
    Ok,
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Cannot be reached, or says it is offline.
    Offline {
        reason: String,
    },
    /// Reachable but failing.
    Error {
        reason: String,
    },
}

/// A printer as the manager sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterState {
    pub name: String,
    /// The profile's id, like `epson-tm-t88`.
    pub profile: String,
    /// Where the printer is, like `tcp 10.0.0.7:9100`.
    pub transport: String,
    pub condition: PrinterCondition,
    /// When a job last reached the printer.
    pub last_ok_at: Option<Timestamp>,
    /// The reason the last failed attempt gave.
    pub last_error: Option<String>,
    /// Jobs waiting or printing.
    pub queued: usize,
}

/// A change of a printer's condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterEvent {
    pub state: PrinterState,
}

/// How the queue behaves; the defaults suit a real office, tests shorten the delays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    /// The pause before each retry; a job gets one attempt more than there are pauses.
    pub retry_delays: Vec<Duration>,
    /// Jobs a printer may hold waiting, besides the one printing; `submit` refuses more.
    pub capacity: usize,
    /// Finished jobs whose status is kept for `job_status`.
    pub keep_finished: usize,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            retry_delays: vec![
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(4),
            ],
            capacity: 32,
            keep_finished: 1000,
        }
    }
}

/// Why a job was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("there is no printer named `{0}`")]
    UnknownPrinter(String),
    #[error("printer `{0}` has too many tickets waiting; it is probably not printing")]
    QueueFull(String),
    #[error("printer `{0}` has stopped")]
    Stopped(String),
}

/// Why a printer could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("there is already a printer named `{0}`")]
    Duplicate(String),
    #[error("cannot start the worker of printer `{name}`: {source}")]
    Spawn {
        name: String,
        #[source]
        source: std::io::Error,
    },
}

/// A job id that is not (or no longer) known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("there is no print job {0}")]
pub struct UnknownJob(pub JobId);

/// The printers of the office and their queues. Cheap to clone: all clones share them.
#[derive(Clone)]
pub struct Printers {
    inner: Arc<Inner>,
}

struct Inner {
    settings: QueueSettings,
    printers: RwLock<BTreeMap<String, Handle>>,
    jobs: Arc<Mutex<JobTable>>,
    next_id: AtomicU64,
    events: broadcast::Sender<PrinterEvent>,
}

/// What `submit` needs of a printer: its queue and its shared state.
struct Handle {
    queue: SyncSender<Queued>,
    shared: Arc<Shared>,
}

/// A printer's state, shared by its worker and the handle.
struct Shared {
    profile: Profile,
    transport: Arc<dyn Transport>,
    state: Mutex<PrinterState>,
}

/// A job's progress: its status and, once known, how its first attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Progress {
    status: JobStatus,
    first: Option<FirstAttempt>,
}

#[derive(Default)]
struct JobTable {
    jobs: HashMap<JobId, Arc<watch::Sender<Progress>>>,
    finished: VecDeque<JobId>,
}

struct Queued {
    id: JobId,
    ticket: TicketPrint,
    progress: Arc<watch::Sender<Progress>>,
}

/// A lock that a panicking thread left poisoned is still used: the data behind our locks is
/// always consistent between statements.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for Printers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Printers")
            .field("printers", &self.names())
            .finish_non_exhaustive()
    }
}

impl Default for Printers {
    fn default() -> Self {
        Self::new(QueueSettings::default())
    }
}

impl Printers {
    pub fn new(settings: QueueSettings) -> Self {
        let (events, _) = broadcast::channel(64);
        Self {
            inner: Arc::new(Inner {
                settings,
                printers: RwLock::new(BTreeMap::new()),
                jobs: Arc::new(Mutex::new(JobTable::default())),
                next_id: AtomicU64::new(1),
                events,
            }),
        }
    }

    /// Adds a printer and starts its worker thread.
    pub fn add(
        &self,
        name: &str,
        profile: Profile,
        transport: Arc<dyn Transport>,
    ) -> Result<(), AddError> {
        let mut printers = self
            .inner
            .printers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if printers.contains_key(name) {
            return Err(AddError::Duplicate(name.to_owned()));
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(PrinterState {
                name: name.to_owned(),
                profile: profile.id.clone(),
                transport: transport.describe(),
                condition: PrinterCondition::Unknown,
                last_ok_at: None,
                last_error: None,
                queued: 0,
            }),
            profile,
            transport,
        });
        let (queue, jobs_rx) = std::sync::mpsc::sync_channel(self.inner.settings.capacity.max(1));
        let worker = Worker {
            shared: Arc::clone(&shared),
            jobs: Arc::clone(&self.inner.jobs),
            events: self.inner.events.clone(),
            retry_delays: self.inner.settings.retry_delays.clone(),
            keep_finished: self.inner.settings.keep_finished,
        };
        std::thread::Builder::new()
            .name(format!("kolejka-printer-{name}"))
            .spawn(move || worker.run(jobs_rx))
            .map_err(|source| AddError::Spawn {
                name: name.to_owned(),
                source,
            })?;
        printers.insert(name.to_owned(), Handle { queue, shared });
        Ok(())
    }

    /// The names of the printers, in order.
    pub fn names(&self) -> Vec<String> {
        let printers = self
            .inner
            .printers
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        printers.keys().cloned().collect()
    }

    /// The profile of a printer.
    pub fn profile(&self, printer: &str) -> Option<Profile> {
        let printers = self
            .inner
            .printers
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        printers.get(printer).map(|h| h.shared.profile.clone())
    }

    /// Queues a ticket on a printer; returns at once.
    pub fn submit(&self, printer: &str, ticket: TicketPrint) -> Result<JobId, SubmitError> {
        let printers = self
            .inner
            .printers
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let handle = printers
            .get(printer)
            .ok_or_else(|| SubmitError::UnknownPrinter(printer.to_owned()))?;
        let id = JobId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let (progress, _) = watch::channel(Progress {
            status: JobStatus::Queued,
            first: None,
        });
        let progress = Arc::new(progress);
        lock(&self.inner.jobs)
            .jobs
            .insert(id, Arc::clone(&progress));
        // Counted before sending, so the worker can never take it below zero.
        lock(&handle.shared.state).queued += 1;
        match handle.queue.try_send(Queued {
            id,
            ticket,
            progress,
        }) {
            Ok(()) => Ok(id),
            Err(e) => {
                lock(&handle.shared.state).queued -= 1;
                lock(&self.inner.jobs).jobs.remove(&id);
                Err(match e {
                    TrySendError::Full(_) => SubmitError::QueueFull(printer.to_owned()),
                    TrySendError::Disconnected(_) => SubmitError::Stopped(printer.to_owned()),
                })
            }
        }
    }

    /// Where a job is; `None` for an unknown job (or one finished long ago).
    pub fn job_status(&self, id: JobId) -> Option<JobStatus> {
        let jobs = lock(&self.inner.jobs);
        jobs.jobs.get(&id).map(|p| p.borrow().status.clone())
    }

    fn subscribe_job(&self, id: JobId) -> Result<watch::Receiver<Progress>, UnknownJob> {
        let jobs = lock(&self.inner.jobs);
        jobs.jobs
            .get(&id)
            .map(|p| p.subscribe())
            .ok_or(UnknownJob(id))
    }

    /// Waits up to `timeout` for the job's first attempt to end; `None` if it is still
    /// queued or printing then.
    pub async fn wait_first_attempt(
        &self,
        id: JobId,
        timeout: Duration,
    ) -> Result<Option<FirstAttempt>, UnknownJob> {
        let mut rx = self.subscribe_job(id)?;
        let waited = tokio::time::timeout(timeout, async {
            rx.wait_for(|p| p.first.is_some())
                .await
                .ok()
                .and_then(|p| p.first.clone())
        })
        .await;
        Ok(waited.ok().flatten())
    }

    /// Waits up to `timeout` for the job to end (printed or failed); `None` if it has not.
    pub async fn wait_finished(
        &self,
        id: JobId,
        timeout: Duration,
    ) -> Result<Option<JobStatus>, UnknownJob> {
        let mut rx = self.subscribe_job(id)?;
        let waited = tokio::time::timeout(timeout, async {
            rx.wait_for(|p| p.status.is_final())
                .await
                .ok()
                .map(|p| p.status.clone())
        })
        .await;
        Ok(waited.ok().flatten())
    }

    /// Every printer's state, by name.
    pub fn states(&self) -> Vec<PrinterState> {
        let printers = self
            .inner
            .printers
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        printers
            .values()
            .map(|h| lock(&h.shared.state).clone())
            .collect()
    }

    /// One printer's state.
    pub fn state(&self, printer: &str) -> Option<PrinterState> {
        let printers = self
            .inner
            .printers
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        printers.get(printer).map(|h| lock(&h.shared.state).clone())
    }

    /// Changes of printers' conditions from now on (a receiver that lags misses events; read
    /// `states()` again then).
    pub fn subscribe(&self) -> broadcast::Receiver<PrinterEvent> {
        self.inner.events.subscribe()
    }
}

/// A printer's worker: owns the receiving end of its queue.
struct Worker {
    shared: Arc<Shared>,
    jobs: Arc<Mutex<JobTable>>,
    events: broadcast::Sender<PrinterEvent>,
    retry_delays: Vec<Duration>,
    keep_finished: usize,
}

impl Worker {
    fn run(self, queue: Receiver<Queued>) {
        // Ends when every `Printers` handle is gone.
        while let Ok(job) = queue.recv() {
            // One broken job must not stop the printer: a panic (a bug) fails that job only.
            let (status, first) = catch_unwind(AssertUnwindSafe(|| self.print(&job)))
                .unwrap_or_else(|_| {
                    tracing::error!(job = %job.id, "print job panicked");
                    let reason = "internal error while printing".to_owned();
                    (
                        JobStatus::Failed {
                            attempts: 0,
                            reason: reason.clone(),
                        },
                        FirstAttempt::Failed {
                            reason,
                            retrying: false,
                        },
                    )
                });
            // The printer's state is up to date before anyone learns that the job ended.
            {
                let mut state = lock(&self.shared.state);
                state.queued = state.queued.saturating_sub(1);
            }
            job.progress.send_modify(|p| {
                p.status = status;
                p.first.get_or_insert(first);
            });
            self.finished(job.id);
        }
    }

    /// Makes the attempts; returns how the job ended and how its first attempt went.
    fn print(&self, job: &Queued) -> (JobStatus, FirstAttempt) {
        let profile = &self.shared.profile;
        let bytes = render(profile, &job.ticket);
        let number = job.ticket.number.to_string();
        let attempts = u32::try_from(self.retry_delays.len()).unwrap_or(u32::MAX - 1) + 1;
        let mut first = None;
        let mut last_reason = String::new();
        for attempt in 1..=attempts {
            job.progress
                .send_modify(|p| p.status = JobStatus::Printing { attempt });
            let result = self.shared.transport.send(&Job {
                number: &number,
                bytes: &bytes,
                profile,
            });
            match result {
                Ok(device) => {
                    self.printed(device);
                    return (
                        JobStatus::Printed { attempts: attempt },
                        first.unwrap_or(FirstAttempt::Printed),
                    );
                }
                Err(e) => {
                    let reason = e.to_string();
                    tracing::warn!(
                        printer = %lock(&self.shared.state).name,
                        job = %job.id,
                        attempt,
                        "printing failed: {reason}"
                    );
                    self.failed(&e);
                    let retrying = attempt < attempts;
                    let failed = FirstAttempt::Failed {
                        reason: reason.clone(),
                        retrying,
                    };
                    first.get_or_insert(failed.clone());
                    if retrying {
                        job.progress.send_modify(|p| {
                            p.status = JobStatus::WaitingToRetry {
                                attempts: attempt,
                                reason: reason.clone(),
                            };
                            p.first.get_or_insert(failed);
                        });
                    }
                    if let Some(delay) = self.retry_delays.get(attempt as usize - 1) {
                        std::thread::sleep(*delay);
                    }
                    last_reason = reason;
                }
            }
        }
        (
            JobStatus::Failed {
                attempts,
                reason: last_reason,
            },
            first.unwrap_or(FirstAttempt::Failed {
                reason: String::new(),
                retrying: false,
            }),
        )
    }

    fn printed(&self, device: DeviceStatus) {
        let condition = match device {
            DeviceStatus::PaperNearEnd => PrinterCondition::PaperNearEnd,
            _ => PrinterCondition::Ok,
        };
        self.set(condition, |s| {
            s.last_ok_at = Some(Timestamp::now());
        });
    }

    fn failed(&self, e: &TransportError) {
        let reason = e.to_string();
        let condition = match e {
            TransportError::NotReady { status, .. } => match status {
                DeviceStatus::PaperOut => PrinterCondition::PaperOut,
                DeviceStatus::CoverOpen => PrinterCondition::CoverOpen,
                _ => PrinterCondition::Offline {
                    reason: reason.clone(),
                },
            },
            e if e.is_unreachable() => PrinterCondition::Offline {
                reason: reason.clone(),
            },
            _ => PrinterCondition::Error {
                reason: reason.clone(),
            },
        };
        self.set(condition, |s| s.last_error = Some(reason));
    }

    /// Updates the state; tells subscribers when the condition changed.
    fn set(&self, condition: PrinterCondition, also: impl FnOnce(&mut PrinterState)) {
        let changed = {
            let mut state = lock(&self.shared.state);
            also(&mut state);
            let changed = state.condition != condition;
            state.condition = condition;
            changed.then(|| state.clone())
        };
        if let Some(state) = changed {
            // No subscriber is not an error.
            let _ = self.events.send(PrinterEvent { state });
        }
    }

    /// Keeps the status of the last `keep_finished` finished jobs.
    fn finished(&self, id: JobId) {
        let mut table = lock(&self.jobs);
        table.finished.push_back(id);
        while table.finished.len() > self.keep_finished {
            if let Some(old) = table.finished.pop_front() {
                table.jobs.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Lang, TicketNumber};
    use crate::print::profile::builtin_profile;
    use std::sync::atomic::AtomicUsize;

    /// A transport that fails the first `fail` sends, then succeeds; counts sends.
    struct Flaky {
        fail: usize,
        sends: AtomicUsize,
        device: DeviceStatus,
    }
    impl Transport for Flaky {
        fn describe(&self) -> String {
            "flaky".into()
        }
        fn send(&self, _job: &Job<'_>) -> Result<DeviceStatus, TransportError> {
            let n = self.sends.fetch_add(1, Ordering::SeqCst);
            if n < self.fail {
                Err(TransportError::ClosedEarly)
            } else {
                Ok(self.device)
            }
        }
    }

    fn ticket(n: u32) -> TicketPrint {
        TicketPrint {
            office_name: "Urząd".into(),
            case_type_name: "Dowody".into(),
            number: TicketNumber::parse(&format!("A{n}")).expect("number"),
            people_ahead: 0,
            estimated_wait_min: None,
            issued_at_local: "2026-03-02 08:00".into(),
            documents: String::new(),
            qr_url: None,
            footer: String::new(),
            lang: Lang::Pl,
        }
    }

    fn quick() -> QueueSettings {
        QueueSettings {
            retry_delays: vec![Duration::from_millis(10), Duration::from_millis(10)],
            capacity: 4,
            keep_finished: 2,
        }
    }

    fn profile() -> Profile {
        builtin_profile("generic-80mm").expect("built in")
    }

    #[tokio::test]
    async fn a_job_is_retried_until_it_prints_and_the_first_failure_is_reported() {
        let printers = Printers::new(quick());
        let flaky = Arc::new(Flaky {
            fail: 2,
            sends: AtomicUsize::new(0),
            device: DeviceStatus::PaperNearEnd,
        });
        printers
            .add("hall", profile(), flaky.clone())
            .expect("added");
        let mut events = printers.subscribe();
        let id = printers.submit("hall", ticket(1)).expect("queued");
        let first = printers
            .wait_first_attempt(id, Duration::from_secs(5))
            .await
            .expect("known");
        assert_eq!(
            first,
            Some(FirstAttempt::Failed {
                reason: "the printer closed the connection before it had read the whole ticket"
                    .into(),
                retrying: true
            })
        );
        let done = printers
            .wait_finished(id, Duration::from_secs(5))
            .await
            .expect("known");
        assert_eq!(done, Some(JobStatus::Printed { attempts: 3 }));
        assert_eq!(flaky.sends.load(Ordering::SeqCst), 3);
        let state = printers.state("hall").expect("state");
        assert_eq!(state.condition, PrinterCondition::PaperNearEnd);
        assert!(state.last_ok_at.is_some());
        assert_eq!(state.queued, 0);
        let first_event = events.recv().await.expect("event");
        assert!(matches!(
            first_event.state.condition,
            PrinterCondition::Error { .. }
        ));
        let second_event = events.recv().await.expect("event");
        assert_eq!(second_event.state.condition, PrinterCondition::PaperNearEnd);
    }

    #[tokio::test]
    async fn a_job_that_keeps_failing_ends_failed() {
        let printers = Printers::new(quick());
        let flaky = Arc::new(Flaky {
            fail: usize::MAX,
            sends: AtomicUsize::new(0),
            device: DeviceStatus::Ok,
        });
        printers
            .add("hall", profile(), flaky.clone())
            .expect("added");
        let id = printers.submit("hall", ticket(1)).expect("queued");
        let done = printers
            .wait_finished(id, Duration::from_secs(5))
            .await
            .expect("known");
        assert!(
            matches!(done, Some(JobStatus::Failed { attempts: 3, ref reason }) if reason.contains("closed")),
            "{done:?}"
        );
    }

    #[tokio::test]
    async fn unknown_printers_full_queues_and_old_jobs_are_refused_clearly() {
        let printers = Printers::new(QueueSettings {
            retry_delays: vec![Duration::from_millis(200)],
            capacity: 1,
            keep_finished: 1,
        });
        assert_eq!(
            printers.submit("nowhere", ticket(1)),
            Err(SubmitError::UnknownPrinter("nowhere".into()))
        );
        let flaky = Arc::new(Flaky {
            fail: usize::MAX,
            sends: AtomicUsize::new(0),
            device: DeviceStatus::Ok,
        });
        printers.add("hall", profile(), flaky).expect("added");
        assert!(matches!(
            printers.add(
                "hall",
                profile(),
                Arc::new(Flaky {
                    fail: 0,
                    sends: AtomicUsize::new(0),
                    device: DeviceStatus::Ok
                })
            ),
            Err(AddError::Duplicate(_))
        ));
        let first = printers.submit("hall", ticket(1)).expect("queued");
        // The worker takes the first job; the queue holds one more; the third is refused.
        printers
            .wait_first_attempt(first, Duration::from_secs(2))
            .await
            .expect("known");
        let _second = printers.submit("hall", ticket(2)).expect("queued");
        assert_eq!(
            printers.submit("hall", ticket(3)),
            Err(SubmitError::QueueFull("hall".into()))
        );
        assert!(printers.job_status(JobId(999)).is_none());
        assert_eq!(
            printers
                .wait_first_attempt(JobId(999), Duration::from_millis(1))
                .await,
            Err(UnknownJob(JobId(999)))
        );
    }
}
