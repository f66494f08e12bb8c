-- 0002: users, their sessions, and registered devices (kiosks, hall screens, counter displays).
--
-- Released migrations are never edited: a change to the schema is a new numbered file.
-- Times are unix milliseconds. No secret is stored in the clear: passwords as argon2id PHC
-- strings, session, poll and device tokens as the SHA-256 of the random token (32 bytes).

-- People who sign in. Users are never deleted (events name them as actors), only disabled.
CREATE TABLE users (
    name                TEXT    PRIMARY KEY,  -- 1-64 of [A-Za-z0-9._@-]
    password_hash       TEXT    NOT NULL,     -- argon2id, PHC string format
    role                TEXT    NOT NULL CHECK (role IN ('clerk', 'manager', 'admin')),
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL,
    last_login_at       INTEGER
) STRICT;

-- Signed-in browsers. The cookie holds a random secret; only its hash is here. A session ends
-- 12 hours after sign-in (expires_at) or 2 hours after it was last used (last_seen, updated at
-- most once a minute), whichever comes first. `counter` is the counter the session works at:
-- one session, one counter; one counter, one session (UNIQUE allows many NULLs).
CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash BLOB    NOT NULL UNIQUE,
    user       TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    counter    INTEGER UNIQUE
) STRICT;

CREATE INDEX sessions_user ON sessions (user);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Kiosks and screens. A device asks to pair (pending, with a 6-digit code shown on its screen
-- and a poll token only it knows); a manager approves it by that code; the device then fetches
-- its long-lived token once with the poll token. AUTOINCREMENT: events name devices by id as
-- actors, so an id is never given to another device.
CREATE TABLE devices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL CHECK (kind IN ('kiosk', 'screen', 'counter_display')),
    name            TEXT    NOT NULL,
    pairing_code    TEXT,             -- while pending; NULL once approved or revoked
    poll_token_hash BLOB    NOT NULL UNIQUE,
    token_hash      BLOB    UNIQUE,   -- set when the approved device fetches its token
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'revoked')),
    created_at      INTEGER NOT NULL,
    approved_by     TEXT,             -- the user who approved; NULL if approved automatically
    approved_at     INTEGER,
    last_seen       INTEGER
) STRICT;

-- A pairing code names one waiting device.
CREATE UNIQUE INDEX devices_pairing_code ON devices (pairing_code) WHERE pairing_code IS NOT NULL;
