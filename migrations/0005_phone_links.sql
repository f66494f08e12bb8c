-- 0005: the secret that signs the phone links printed on tickets (/t/<ticket id>.<mac>).
--
-- Released migrations are never edited: a change to the schema is a new numbered file.
-- One row, created on first start with 32 random bytes. The link's code is an HMAC-SHA256 of
-- the ticket's id under this secret, so a link cannot be guessed from a ticket's number or id;
-- replacing the secret (deleting the row) makes every link printed so far invalid.
CREATE TABLE phone_link_secret (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    secret     BLOB    NOT NULL CHECK (length(secret) = 32),
    created_at INTEGER NOT NULL  -- unix milliseconds
) STRICT;
