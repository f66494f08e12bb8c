-- 0004: the audit log of managers' and admins' changes.
--
-- Released migrations are never edited: a change to the schema is a new numbered file.
-- Times are unix milliseconds. The queue engine's changes are already in `events` with their
-- actor and time; this table holds the rest (users, devices, hall messages) and, for the
-- manager's queue changes (a counter's case types, issuing, daily caps, a cancelled ticket),
-- what the thing was before and after. Rows are only ever added.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,  -- unix time in milliseconds
    actor  TEXT    NOT NULL,  -- user:NAME
    action TEXT    NOT NULL,  -- e.g. counter.serves, user.create, device.revoke
    target TEXT    NOT NULL,  -- e.g. counter:3, user:anna, device:5, message:2, ticket:A001
    before TEXT,              -- JSON: the thing before the change (NULL: it did not exist)
    after  TEXT               -- JSON: the thing after the change (NULL: nothing to show)
) STRICT;

-- Filtering by time, and by who did it.
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
