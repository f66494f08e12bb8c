-- 0003: messages for the hall screens, posted, scheduled and withdrawn by a manager.
--
-- Released migrations are never edited: a change to the schema is a new numbered file.
-- Times are unix milliseconds. A message is shown from `starts_at` (NULL: from when it was
-- posted) until `ends_at` (NULL: until withdrawn), unless withdrawn. Rows are never deleted,
-- so the record of who posted and who withdrew what, and when, stays.
CREATE TABLE hall_messages (
    id           INTEGER PRIMARY KEY,
    text_pl      TEXT    NOT NULL,
    text_uk      TEXT,              -- NULL: the Polish text is shown
    text_en      TEXT,              -- NULL: the Polish text is shown
    starts_at    INTEGER,
    ends_at      INTEGER,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,  -- the actor: user:NAME
    withdrawn_at INTEGER,
    withdrawn_by TEXT,
    CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at),
    CHECK ((withdrawn_at IS NULL) = (withdrawn_by IS NULL))
) STRICT;

-- Loading the messages still to show at start-up.
CREATE INDEX hall_messages_live ON hall_messages (id) WHERE withdrawn_at IS NULL;
