//! Durable storage and the one path every change takes.
//!
//! `Store` is the SQLite adapter: an append-only event log (the truth) and a tickets table
//! (each ticket as it is now, for statistics), written together in one transaction.
//! `Queue` is the handle to the single writer thread that owns the write connection:
//!
//! ```text
//! submit(cmd) ─► queue ─► writer: drain up to MAX_BATCH jobs
//!                           for each: rollover(now), execute(cmd) on a tentative engine
//!                           one transaction: events + ticket rows ─► COMMIT (one fsync)
//!                           then: apply to the committed engine, broadcast, reply
//! ```
//!
//! Invariants: nothing is published or acknowledged before its commit; a failed commit leaves
//! nothing behind (the tentative engine is reset from the committed one); the committed engine
//! is always what replaying the log since the last `day_started` gives, which is how `Queue::start`
//! restores the day after a restart. The global event sequence (the last event's id) is the
//! state's version.

mod sqlite;
mod writer;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::engine::{DomainError, Event};

pub use sqlite::Store;
pub(crate) use sqlite::write_rows;
pub use writer::{MAX_BATCH, Queue, WriterStats};

/// An event as committed to the log, with its place in the global sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub seq: i64,
    #[serde(flatten)]
    pub event: Event,
}

/// Why the storage layer could not open, restore or close the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the database folder {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the database journal mode is `{0}`, not WAL; is the file on a network drive?")]
    NotWal(String),
    #[error(
        "the database has schema version {found}, newer than this program knows ({known}); \
         run a newer kolejka or restore a backup"
    )]
    TooNew { found: i64, known: i64 },
    #[error("database migration {name} failed: {source}")]
    Migration {
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error("event {seq} in the log is unreadable: {reason}")]
    CorruptEvent { seq: i64, reason: String },
    #[error("cannot serialize event {seq}: {source}")]
    Serialize { seq: i64, source: serde_json::Error },
    #[error("the day restored from the log breaks an invariant: {0}")]
    Invariant(String),
    #[error("the storage writer thread: {0}")]
    Writer(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Why a submitted command was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The engine refused the command; nothing changed.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The commit failed (disk full, IO error): nothing of the request was kept. Worth retrying
    /// later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The service is shutting down and takes no more requests.
    #[error("the service is shutting down")]
    Closed,
}
