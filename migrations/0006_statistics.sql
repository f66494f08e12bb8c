-- 0006: statistics of closed days (see docs/STATISTICS.md).
--
-- Released migrations are never edited: a change to the schema is a new numbered file.
-- Times are unix milliseconds; hours and weekdays are the office's local ones.
--
-- A day is summarized once it is closed (a later local day has begun and every ticket of the
-- day is final): its figures are derived from `tickets` and `events` exactly as the live
-- figures of today are, and kept here. Reports read closed days from these tables and derive
-- the days after the last summarized one live. Only `crate::stats` writes these tables (never
-- the queue writer), and it never writes `events` or `tickets` except for the retention purge.
-- Summaries keep no priority category, only whether the ticket was a priority one.

-- Every summarized day, and when its priority categories were purged (retention).
CREATE TABLE stats_days (
    day           TEXT    PRIMARY KEY,  -- YYYY-MM-DD, local
    summarized_at INTEGER NOT NULL,
    tickets       INTEGER NOT NULL,
    purged_at     INTEGER               -- NULL until `kolejka purge` (or the nightly run) has run
) STRICT;

-- One row per ticket of a summarized day.
CREATE TABLE stats_tickets (
    day              TEXT    NOT NULL,
    ticket_id        INTEGER NOT NULL,
    issued_case_type TEXT    NOT NULL,
    case_type        TEXT    NOT NULL,  -- the case type it ended in (after any transfer)
    priority         INTEGER NOT NULL CHECK (priority IN (0, 1)),
    state            TEXT    NOT NULL,  -- done, no_show or cancelled
    issued_at        INTEGER NOT NULL,
    hour             INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),     -- local hour of issue
    weekday          INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),  -- 1 = Monday
    wait_ms          INTEGER,           -- issue to first call; NULL if never called
    unserved_ms      INTEGER,           -- never called: issue to cancellation
    service_ms       INTEGER,           -- done: start to finish of service
    counter          INTEGER,           -- the last counter that called it
    clerk            TEXT,              -- the clerk who handled it last there
    transfers        INTEGER NOT NULL,
    PRIMARY KEY (day, ticket_id)
) STRICT, WITHOUT ROWID;

-- Each counter's time per local hour of a summarized day, split by the clerk signed in.
CREATE TABLE stats_counter_hours (
    day        TEXT    NOT NULL,
    counter    INTEGER NOT NULL,
    clerk      TEXT    NOT NULL,  -- '' when the log names nobody
    hour       INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    open_ms    INTEGER NOT NULL,  -- open and not paused
    paused_ms  INTEGER NOT NULL,
    busy_ms    INTEGER NOT NULL,  -- holding a ticket (called or serving)
    serving_ms INTEGER NOT NULL,  -- serving (service started, not yet ended)
    PRIMARY KEY (day, counter, clerk, hour)
) STRICT, WITHOUT ROWID;
