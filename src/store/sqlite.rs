//! The SQLite adapter: opening the database (pragmas, migrations), appending a batch of events
//! with the ticket rows they changed in one transaction, and reading the current day back.
//!
//! Only the writer thread writes; everything else here is reads.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{StoreError, StoredEvent};
use crate::engine::{Engine, Event, Office, Ticket, TicketId};

/// The migrations, in order. Released files are never edited; a schema change is a new file
/// appended here. `PRAGMA user_version` holds how many have been applied.
pub(super) const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_events_and_tickets",
        include_str!("../../migrations/0001_events_and_tickets.sql"),
    ),
    ("0002_auth", include_str!("../../migrations/0002_auth.sql")),
    (
        "0003_hall_messages",
        include_str!("../../migrations/0003_hall_messages.sql"),
    ),
    (
        "0004_audit",
        include_str!("../../migrations/0004_audit.sql"),
    ),
    (
        "0005_phone_links",
        include_str!("../../migrations/0005_phone_links.sql"),
    ),
    (
        "0006_statistics",
        include_str!("../../migrations/0006_statistics.sql"),
    ),
];

/// How long a statement waits for a lock held by another connection (a reader taking a
/// backup, say) before it fails.
const BUSY_TIMEOUT_MS: i64 = 5_000;

/// The SQLite database: the event log and the tickets table.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

/// What one group commit writes: events with their sequence numbers and local days, and the
/// latest state of every ticket they touched.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub events: Vec<StoredEvent>,
    pub days: Vec<Date>,
    /// Ticket id → (the ticket as the tentative engine has it, the seq of the event that last
    /// changed it).
    pub tickets: BTreeMap<TicketId, (Ticket, i64)>,
}

impl Store {
    /// Opens (creating the file and its folders if needed) the database at `path`, sets the
    /// connection's pragmas and applies any migrations not yet applied.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        let mut store = Store { conn };
        store.set_pragmas()?;
        store.migrate()?;
        Ok(store)
    }

    /// Per-connection settings. WAL with `synchronous=FULL` makes every commit durable (an
    /// acknowledged ticket survives a power cut) and lets readers work while the writer writes.
    fn set_pragmas(&mut self) -> Result<(), StoreError> {
        let mode: String = self
            .conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NotWal(mode));
        }
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        self.conn
            .pragma_update(None, "busy_timeout", BUSY_TIMEOUT_MS)?;
        Ok(())
    }

    /// Applies the migrations after `user_version`, each in its own transaction together with
    /// the version bump, so a crash never leaves one half-applied.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let applied: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if applied > known {
            return Err(StoreError::TooNew {
                found: applied,
                known,
            });
        }
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(applied.max(0) as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)
                .map_err(|source| StoreError::Migration { name, source })?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
            tracing::info!(migration = name, "applied database migration");
        }
        Ok(())
    }

    /// How many migrations the database has (its schema version).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// The global event sequence: the id of the last event, 0 for an empty log.
    pub fn last_seq(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?)
    }

    /// The events of the current day: from the last `day_started` on (all of them if there is
    /// none yet), in order.
    pub fn load_day(&self) -> Result<Vec<StoredEvent>, StoreError> {
        let start: Option<i64> = self
            .conn
            .query_row(
                "SELECT MAX(id) FROM events WHERE kind = 'day_started'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        self.events_from(start.unwrap_or(0))
    }

    /// The events with `id >= from`, in order.
    pub fn events_from(&self, from: i64) -> Result<Vec<StoredEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, kind, payload FROM events WHERE id >= ?1 ORDER BY id")?;
        let rows = stmt.query_map([from], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut events = Vec::new();
        for row in rows {
            let (seq, kind, payload) = row?;
            let event: Event =
                serde_json::from_str(&payload).map_err(|e| StoreError::CorruptEvent {
                    seq,
                    reason: e.to_string(),
                })?;
            if event.kind.name() != kind {
                return Err(StoreError::CorruptEvent {
                    seq,
                    reason: format!(
                        "kind column says `{kind}` but the payload is `{}`",
                        event.kind.name()
                    ),
                });
            }
            events.push(StoredEvent { seq, event });
        }
        Ok(events)
    }

    /// Rebuilds the current day: the events since the last `day_started` applied to a fresh
    /// engine, checked against the engine's invariants. Returns the engine and the version
    /// (the last event's seq).
    pub fn restore(&self, office: Arc<Office>) -> Result<(Engine, i64), StoreError> {
        let events = self.load_day()?;
        let mut engine = Engine::new(office);
        for e in &events {
            engine.apply(&e.event);
        }
        engine.check_invariants().map_err(StoreError::Invariant)?;
        Ok((engine, self.last_seq()?))
    }

    /// Writes a batch in one transaction (one fsync at commit). On error nothing of the batch
    /// is left behind: the transaction is rolled back.
    pub(crate) fn append(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let result = self.append_in_tx(batch);
        if !self.conn.is_autocommit() {
            // A failed COMMIT can leave the transaction open; never let the next batch run
            // inside it.
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, "rollback after a failed batch failed");
            }
        }
        result
    }

    fn append_in_tx(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_rows(
            &tx,
            batch
                .events
                .iter()
                .zip(&batch.days)
                .map(|(e, day)| (e.seq, &e.event, *day)),
            batch.tickets.values().map(|(t, last)| (t, *last)),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Closes the connection, reporting any error (a plain drop would swallow it).
    pub fn close(self) -> Result<(), StoreError> {
        // Fold the WAL into the database file first, so that a stopped service leaves one
        // self-contained file (a plain copy is a backup) even if another connection (auth,
        // statistics, a read-only one) happens to close after this one. Readers still busy
        // only make the checkpoint partial: the WAL stays valid and is replayed on the next
        // start, so a failure here is logged, not fatal.
        if let Err(e) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        {
            tracing::warn!("checkpoint at shutdown: {e}");
        }
        self.conn.close().map_err(|(_, e)| StoreError::Sqlite(e))
    }

    /// Sets `PRAGMA max_page_count` on this connection and returns the cap in force.
    pub(crate) fn set_max_page_count(&self, pages: i64) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_update_and_check(None, "max_page_count", pages, |r| r.get(0))?)
    }

    /// Runs SQL on the write connection; tests use it to simulate a full disk.
    #[cfg(test)]
    pub(crate) fn execute_batch_for_test(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch(sql)?)
    }

    /// The raw connection, for tests that read the tables directly.
    #[cfg(test)]
    pub(crate) fn conn_for_test(&self) -> &Connection {
        &self.conn
    }
}

/// Writes events (with their sequence numbers and local days) and the current rows of the
/// tickets they touched, inside the caller's transaction. The one place that knows how the
/// `events` and `tickets` tables are written: the writer thread and `kolejka seed` both use it.
pub(crate) fn write_rows<'a>(
    tx: &Connection,
    events: impl IntoIterator<Item = (i64, &'a Event, Date)>,
    tickets: impl IntoIterator<Item = (&'a Ticket, i64)>,
) -> Result<(), StoreError> {
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (id, at, local_day, actor, kind, ticket_id, counter_id, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (seq, event, day) in events {
            let payload = serde_json::to_string(event)
                .map_err(|source| StoreError::Serialize { seq, source })?;
            insert.execute(params![
                seq,
                event.at.as_millisecond(),
                day.to_string(),
                event.actor.to_string(),
                event.kind.name(),
                event.kind.ticket().map(|t| t.0),
                event.kind.counter().map(u32::from),
                payload,
            ])?;
        }
        let mut upsert = tx.prepare_cached(
            "INSERT INTO tickets (id, day, number, seq, case_type, issued_case_type, priority,
                 lang, state, issued_at, queued_at, first_called_at, called_at, started_at,
                 finished_at, counter, target_counter, calls, transfers, last_event)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20)
             ON CONFLICT (id) DO UPDATE SET
                 day = excluded.day, number = excluded.number, seq = excluded.seq,
                 case_type = excluded.case_type, issued_case_type = excluded.issued_case_type,
                 priority = excluded.priority, lang = excluded.lang, state = excluded.state,
                 issued_at = excluded.issued_at, queued_at = excluded.queued_at,
                 first_called_at = excluded.first_called_at, called_at = excluded.called_at,
                 started_at = excluded.started_at, finished_at = excluded.finished_at,
                 counter = excluded.counter, target_counter = excluded.target_counter,
                 calls = excluded.calls, transfers = excluded.transfers,
                 last_event = excluded.last_event",
        )?;
        for (t, last_event) in tickets {
            upsert.execute(params![
                t.id.0,
                t.day.to_string(),
                t.number.to_string(),
                t.number.seq(),
                t.case_type.as_str(),
                t.issued_case_type.as_str(),
                t.priority.as_ref().map(|p| p.as_str()),
                t.lang.code(),
                t.state.as_str(),
                ms(t.issued_at),
                ms(t.queued_at),
                t.first_called_at.map(ms),
                t.called_at.map(ms),
                t.started_at.map(ms),
                t.finished_at.map(ms),
                t.counter.map(u32::from),
                t.target_counter.map(u32::from),
                t.calls,
                t.transfers,
                last_event,
            ])?;
        }
    }
    Ok(())
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}
