-- 0001: the event log and the tickets' current state.
--
-- Released migrations are never edited: a change to the schema is a new numbered file.
-- Pragmas (WAL, synchronous=FULL) are set per connection by the program, not here.

-- The append-only event log: the truth. `id` is the global event sequence (the state's version);
-- `payload` is the whole engine event as JSON, from which a restart replays the day.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,  -- unix time in milliseconds
    local_day  TEXT    NOT NULL,  -- the office's local day the event belongs to, YYYY-MM-DD
    actor      TEXT    NOT NULL,  -- user:NAME, device:NAME or system
    kind       TEXT    NOT NULL,  -- EventKind::name(), e.g. ticket_issued
    ticket_id  INTEGER,
    counter_id INTEGER,
    payload    TEXT    NOT NULL
) STRICT;

-- Finding the last day_started (restart) and counting events by kind.
CREATE INDEX events_kind_id ON events (kind, id);
CREATE INDEX events_local_day ON events (local_day);
CREATE INDEX events_ticket ON events (ticket_id) WHERE ticket_id IS NOT NULL;

-- One row per ticket ever issued, as it is now; written in the same transaction as the events
-- that changed it. Times are unix milliseconds.
CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY,
    day              TEXT    NOT NULL,  -- the local day it was issued on
    number           TEXT    NOT NULL,  -- as printed, e.g. A012
    seq              INTEGER NOT NULL,  -- the number without its prefix
    case_type        TEXT    NOT NULL,  -- queued for now (a transfer changes it)
    issued_case_type TEXT    NOT NULL,
    priority         TEXT,              -- health data (RODO art. 9): cleared by retention
    lang             TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    issued_at        INTEGER NOT NULL,
    queued_at        INTEGER NOT NULL,
    first_called_at  INTEGER,
    called_at        INTEGER,
    started_at       INTEGER,
    finished_at      INTEGER,
    counter          INTEGER,
    target_counter   INTEGER,
    calls            INTEGER NOT NULL,
    transfers        INTEGER NOT NULL,
    last_event       INTEGER NOT NULL,  -- events.id of the last event that changed the row
    UNIQUE (day, number)
) STRICT;

-- Statistics: per day and case type, and per case type over a period.
CREATE INDEX tickets_day_case_type ON tickets (day, case_type);
CREATE INDEX tickets_case_type_day ON tickets (issued_case_type, day);
