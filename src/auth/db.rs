//! The auth tables (users, sessions, devices; `migrations/0002_auth.sql`) on a connection of
//! their own. These functions block: the service calls them inside `spawn_blocking`, the
//! command line calls them directly. Times are unix milliseconds, passed in by the caller.

use std::path::Path;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{AuthError, DeviceKind, Role};
use crate::engine::CounterId;

/// How long a statement waits for a lock held by another connection (the queue's writer, a
/// backup, the command line) before it fails.
const BUSY_TIMEOUT_MS: i64 = 5_000;

/// The schema version (`PRAGMA user_version`) that has the auth tables.
const AUTH_SCHEMA_VERSION: i64 = 2;

/// Opens a connection to a database the store has already created and migrated, with the same
/// per-connection settings as the store's: WAL, `synchronous=FULL` (a sign-in or approval
/// that was answered survives a power cut), foreign keys, and a busy timeout.
pub(crate) fn open(path: &Path) -> Result<Connection, AuthError> {
    let conn = Connection::open(path)?;
    let _mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "busy_timeout", BUSY_TIMEOUT_MS)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version < AUTH_SCHEMA_VERSION {
        return Err(AuthError::Invalid(format!(
            "the database {} has schema version {version}, without the user tables; \
             open it with the store first so that its migrations run",
            path.display()
        )));
    }
    Ok(conn)
}

// ------------------------------------------------------------------ users

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn role_of(s: &str) -> Role {
    // The CHECK constraint allows only the three roles; an unknown one (a newer program's
    // database) gets the least power.
    Role::parse(s).unwrap_or(Role::Clerk)
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        name: r.get(0)?,
        role: role_of(&r.get::<_, String>(1)?),
        disabled: r.get::<_, i64>(2)? != 0,
        created_at: ts(r.get(3)?),
        last_login_at: r.get::<_, Option<i64>>(4)?.map(ts),
    })
}

const USER_COLUMNS: &str = "name, role, disabled, created_at, last_login_at";

pub(crate) fn user_count(conn: &Connection) -> Result<i64, AuthError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
}

/// Inserts a user; `UserExists` if the name is taken.
pub(crate) fn insert_user(
    conn: &Connection,
    name: &str,
    password_hash: &str,
    role: Role,
    now: i64,
) -> Result<(), AuthError> {
    let inserted = conn.execute(
        "INSERT INTO users (name, password_hash, role, disabled, created_at, password_changed_at)
         VALUES (?1, ?2, ?3, 0, ?4, ?4)
         ON CONFLICT (name) DO NOTHING",
        params![name, password_hash, role.as_str(), now],
    )?;
    if inserted == 0 {
        return Err(AuthError::UserExists(name.to_owned()));
    }
    Ok(())
}

/// Creates the first admin if there is no user at all (in one transaction, so that two
/// processes starting at once cannot both do it). Returns whether it was created.
pub(crate) fn insert_first_admin(
    conn: &mut Connection,
    name: &str,
    password_hash: &str,
    now: i64,
) -> Result<bool, AuthError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n: i64 = tx.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?;
    if n > 0 {
        return Ok(false);
    }
    insert_user(&tx, name, password_hash, Role::Admin, now)?;
    tx.commit()?;
    Ok(true)
}

/// The password hash, role and whether the user is disabled, for signing in.
pub(crate) fn login_row(
    conn: &Connection,
    name: &str,
) -> Result<Option<(String, Role, bool)>, AuthError> {
    Ok(conn
        .query_row(
            "SELECT password_hash, role, disabled FROM users WHERE name = ?1",
            [name],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    role_of(&r.get::<_, String>(1)?),
                    r.get::<_, i64>(2)? != 0,
                ))
            },
        )
        .optional()?)
}

pub(crate) fn password_hash(conn: &Connection, name: &str) -> Result<Option<String>, AuthError> {
    Ok(conn
        .query_row(
            "SELECT password_hash FROM users WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn user(conn: &Connection, name: &str) -> Result<Option<User>, AuthError> {
    Ok(conn
        .query_row(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
            [name],
            user_from_row,
        )
        .optional()?)
}

pub(crate) fn users(conn: &Connection) -> Result<Vec<User>, AuthError> {
    let mut stmt = conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
    let rows = stmt.query_map([], user_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Changes a user's role and/or disabled flag. Refuses to leave no enabled admin. Disabling
/// a user ends their sessions (and frees the counters they held).
pub(crate) fn update_user(
    conn: &mut Connection,
    name: &str,
    role: Option<Role>,
    disabled: Option<bool>,
) -> Result<User, AuthError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let before = user(&tx, name)?.ok_or_else(|| AuthError::UnknownUser(name.to_owned()))?;
    let role = role.unwrap_or(before.role);
    let disabled = disabled.unwrap_or(before.disabled);
    let was_admin = before.role == Role::Admin && !before.disabled;
    let stays_admin = role == Role::Admin && !disabled;
    if was_admin && !stays_admin {
        let others: i64 = tx.query_row(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND name <> ?1",
            [name],
            |r| r.get(0),
        )?;
        if others == 0 {
            return Err(AuthError::LastAdmin);
        }
    }
    tx.execute(
        "UPDATE users SET role = ?2, disabled = ?3 WHERE name = ?1",
        params![name, role.as_str(), i64::from(disabled)],
    )?;
    if disabled {
        tx.execute("DELETE FROM sessions WHERE user = ?1", [name])?;
    }
    let after = user(&tx, name)?.ok_or_else(|| AuthError::UnknownUser(name.to_owned()))?;
    tx.commit()?;
    Ok(after)
}

/// Sets a user's password hash and ends their sessions, except `keep` (the session that
/// changed its own password).
pub(crate) fn set_password(
    conn: &mut Connection,
    name: &str,
    password_hash: &str,
    now: i64,
    keep: Option<i64>,
) -> Result<(), AuthError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx.execute(
        "UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE name = ?1",
        params![name, password_hash, now],
    )?;
    if n == 0 {
        return Err(AuthError::UnknownUser(name.to_owned()));
    }
    tx.execute(
        "DELETE FROM sessions WHERE user = ?1 AND id IS NOT ?2",
        params![name, keep],
    )?;
    tx.commit()?;
    Ok(())
}

// ------------------------------------------------------------------ sessions

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: i64,
    pub user: String,
    pub role: Role,
    pub csrf_token: String,
    pub created_at: Timestamp,
    /// The absolute end (12 hours after sign-in); an idle session ends earlier.
    pub expires_at: Timestamp,
    pub counter: Option<CounterId>,
}

/// Session lifetimes, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifetimes {
    pub absolute_ms: i64,
    pub idle_ms: i64,
    /// `last_seen` is written at most this often.
    pub touch_ms: i64,
}

/// Signs a user in: a new session row. Also drops sessions that have ended.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_session(
    conn: &mut Connection,
    user: &str,
    token_hash: &[u8],
    csrf_token: &str,
    now: i64,
    life: Lifetimes,
) -> Result<i64, AuthError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    sweep_sessions(&tx, now, life)?;
    tx.execute(
        "INSERT INTO sessions (token_hash, user, csrf_token, created_at, last_seen, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        params![token_hash, user, csrf_token, now, now + life.absolute_ms],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "UPDATE users SET last_login_at = ?2 WHERE name = ?1",
        params![user, now],
    )?;
    tx.commit()?;
    Ok(id)
}

/// Deletes the sessions that have ended (absolute or idle), freeing their counters.
fn sweep_sessions(conn: &Connection, now: i64, life: Lifetimes) -> Result<(), AuthError> {
    conn.execute(
        "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen <= ?2",
        params![now, now - life.idle_ms],
    )?;
    Ok(())
}

const SESSION_SELECT: &str = "SELECT s.id, s.user, u.role, s.csrf_token, s.created_at,
        s.expires_at, s.counter, s.last_seen
     FROM sessions s JOIN users u ON u.name = s.user
     WHERE u.disabled = 0 AND ";

fn session_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Session, i64)> {
    Ok((
        Session {
            id: r.get(0)?,
            user: r.get(1)?,
            role: role_of(&r.get::<_, String>(2)?),
            csrf_token: r.get(3)?,
            created_at: ts(r.get(4)?),
            expires_at: ts(r.get(5)?),
            counter: r
                .get::<_, Option<i64>>(6)?
                .and_then(|c| u32::try_from(c).ok())
                .and_then(|c| CounterId::new(c).ok()),
        },
        r.get(7)?,
    ))
}

/// The live session with this token hash (or id), touching `last_seen` if it is older than
/// `touch_ms`. A session that has ended is deleted (freeing its counter) and not returned; so
/// is one of a disabled user (not returned).
pub(crate) fn live_session(
    conn: &Connection,
    key: SessionKey<'_>,
    now: i64,
    life: Lifetimes,
) -> Result<Option<Session>, AuthError> {
    let found = match key {
        SessionKey::TokenHash(h) => conn
            .prepare_cached(&format!("{SESSION_SELECT} s.token_hash = ?1"))?
            .query_row([h], session_from_row)
            .optional()?,
        SessionKey::Id(id) => conn
            .prepare_cached(&format!("{SESSION_SELECT} s.id = ?1"))?
            .query_row([id], session_from_row)
            .optional()?,
    };
    let Some((session, last_seen)) = found else {
        return Ok(None);
    };
    if now >= session.expires_at.as_millisecond() || now >= last_seen + life.idle_ms {
        conn.execute("DELETE FROM sessions WHERE id = ?1", [session.id])?;
        return Ok(None);
    }
    if now - last_seen >= life.touch_ms {
        conn.execute(
            "UPDATE sessions SET last_seen = ?2 WHERE id = ?1",
            params![session.id, now],
        )?;
    }
    Ok(Some(session))
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum SessionKey<'a> {
    TokenHash(&'a [u8]),
    Id(i64),
}

pub(crate) fn delete_session(conn: &Connection, id: i64) -> Result<(), AuthError> {
    conn.execute("DELETE FROM sessions WHERE id = ?1", [id])?;
    Ok(())
}

/// Binds `counter` to session `id`: refused if another live session holds it, or if this
/// session holds another counter. Sessions that have ended, and sessions of disabled users,
/// lose their counters first.
pub(crate) fn claim_counter(
    conn: &mut Connection,
    id: i64,
    counter: CounterId,
    now: i64,
    life: Lifetimes,
) -> Result<(), AuthError> {
    let c = i64::from(counter.get());
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    sweep_sessions(&tx, now, life)?;
    tx.execute(
        "UPDATE sessions SET counter = NULL
         WHERE counter IS NOT NULL AND user IN (SELECT name FROM users WHERE disabled = 1)",
        [],
    )?;
    let mine: Option<(Option<i64>, String)> = tx
        .query_row(
            "SELECT counter, user FROM sessions WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((mine, me)) = mine else {
        return Err(AuthError::SessionGone);
    };
    match mine {
        Some(held) if held == c => return Ok(()),
        Some(held) => {
            return Err(AuthError::Counter {
                code: "holds_other_counter",
                message: format!(
                    "you are already signed in at counter {held}; close it before opening \
                     counter {counter}"
                ),
            });
        }
        None => {}
    }
    let holder: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, user FROM sessions WHERE counter = ?1 AND id <> ?2",
            params![c, id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    // The same clerk in a new browser (the old one crashed, or the cookie was lost) takes
    // their counter over; only another person's session holds it against them.
    if let Some((old, holder)) = &holder
        && *holder == me
    {
        tx.execute("UPDATE sessions SET counter = NULL WHERE id = ?1", [old])?;
    } else if let Some((_, holder)) = holder {
        return Err(AuthError::Counter {
            code: "counter_taken",
            message: format!(
                "counter {counter} is held by {holder}'s session (perhaps in another browser); \
                 sign out there, or ask a manager to close the counter"
            ),
        });
    }
    tx.execute(
        "UPDATE sessions SET counter = ?2 WHERE id = ?1",
        params![id, c],
    )?;
    tx.commit()?;
    Ok(())
}

pub(crate) fn release_counter(conn: &Connection, id: i64) -> Result<(), AuthError> {
    conn.execute("UPDATE sessions SET counter = NULL WHERE id = ?1", [id])?;
    Ok(())
}

pub(crate) fn release_counter_everywhere(
    conn: &Connection,
    counter: CounterId,
) -> Result<(), AuthError> {
    conn.execute(
        "UPDATE sessions SET counter = NULL WHERE counter = ?1",
        [i64::from(counter.get())],
    )?;
    Ok(())
}

// ------------------------------------------------------------------ devices

/// Where a device is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Asked to pair; waits for a manager to approve its code.
    Pending,
    Approved,
    Revoked,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "pending",
            DeviceStatus::Approved => "approved",
            DeviceStatus::Revoked => "revoked",
        }
    }
    fn parse(s: &str) -> DeviceStatus {
        match s {
            "pending" => DeviceStatus::Pending,
            "approved" => DeviceStatus::Approved,
            // The CHECK constraint allows nothing else; anything unknown gets no access.
            _ => DeviceStatus::Revoked,
        }
    }
}

/// A registered device as the API shows it (never its tokens or pairing code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: i64,
    pub kind: DeviceKind,
    pub name: String,
    pub status: DeviceStatus,
    pub created_at: Timestamp,
    /// Who approved it; `None` while pending, or when approved automatically (the demo
    /// setting `auto_approve_loopback`).
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
}

const DEVICE_COLUMNS: &str =
    "id, kind, name, status, created_at, approved_by, approved_at, last_seen";

fn device_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    let kind: String = r.get(1)?;
    Ok(Device {
        id: r.get(0)?,
        kind: DeviceKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                1,
                rusqlite::types::Type::Text,
                format!("unknown device kind `{kind}`").into(),
            )
        })?,
        name: r.get(2)?,
        status: DeviceStatus::parse(&r.get::<_, String>(3)?),
        created_at: ts(r.get(4)?),
        approved_by: r.get(5)?,
        approved_at: r.get::<_, Option<i64>>(6)?.map(ts),
        last_seen: r.get::<_, Option<i64>>(7)?.map(ts),
    })
}

pub(crate) fn device(conn: &Connection, id: i64) -> Result<Option<Device>, AuthError> {
    Ok(conn
        .query_row(
            &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"),
            [id],
            device_from_row,
        )
        .optional()?)
}

pub(crate) fn devices(conn: &Connection) -> Result<Vec<Device>, AuthError> {
    let mut stmt = conn.prepare(&format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY id"))?;
    let rows = stmt.query_map([], device_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes pairing requests whose code has expired (created at or before `before`).
pub(crate) fn sweep_pending(conn: &Connection, before: i64) -> Result<(), AuthError> {
    conn.execute(
        "DELETE FROM devices WHERE status = 'pending' AND created_at <= ?1",
        [before],
    )?;
    Ok(())
}

/// A new pairing request: pending with `code`, or approved at once with `token_hash` (the
/// demo's loopback auto-approval). `Ok(None)` if the code is in use by another waiting device
/// (the caller draws another).
pub(crate) struct NewDevice<'a> {
    pub kind: DeviceKind,
    pub name: &'a str,
    pub code: &'a str,
    pub poll_token_hash: &'a [u8],
    /// Set for a device approved at once.
    pub token_hash: Option<&'a [u8]>,
}

pub(crate) fn insert_device(
    conn: &Connection,
    d: &NewDevice<'_>,
    now: i64,
) -> Result<Option<i64>, AuthError> {
    let (status, code, approved_at) = match d.token_hash {
        Some(_) => ("approved", None, Some(now)),
        None => ("pending", Some(d.code), None),
    };
    let inserted = conn.execute(
        "INSERT INTO devices (kind, name, pairing_code, poll_token_hash, token_hash, status,
             created_at, approved_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT DO NOTHING",
        params![
            d.kind.as_str(),
            d.name,
            code,
            d.poll_token_hash,
            d.token_hash,
            status,
            now,
            approved_at
        ],
    )?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

/// The poll: the device's status and whether its token is still to be delivered, if
/// `poll_token_hash` is the device's. `None`: no such device for that poll token.
pub(crate) fn poll_device(
    conn: &Connection,
    id: i64,
    poll_token_hash: &[u8],
) -> Result<Option<(DeviceStatus, bool)>, AuthError> {
    let row: Option<(Vec<u8>, String, bool)> = conn
        .query_row(
            "SELECT poll_token_hash, status, token_hash IS NULL FROM devices WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(row.and_then(|(hash, status, no_token)| {
        super::secret::constant_time_eq(&hash, poll_token_hash)
            .then(|| (DeviceStatus::parse(&status), no_token))
    }))
}

/// Stores the hash of an approved device's token, if none is stored yet: true if this call
/// stored it (the token may be handed out), false if another poll was first.
pub(crate) fn set_device_token(
    conn: &Connection,
    id: i64,
    token_hash: &[u8],
) -> Result<bool, AuthError> {
    let n = conn.execute(
        "UPDATE devices SET token_hash = ?2
         WHERE id = ?1 AND status = 'approved' AND token_hash IS NULL",
        params![id, token_hash],
    )?;
    Ok(n == 1)
}

/// Approves the waiting device with `code` (created after `not_before`): `None` if there is
/// none.
pub(crate) fn approve_device(
    conn: &Connection,
    code: &str,
    name: &str,
    by: &str,
    now: i64,
    not_before: i64,
) -> Result<Option<Device>, AuthError> {
    let id: Option<i64> = conn
        .query_row(
            "UPDATE devices
             SET status = 'approved', name = ?2, approved_by = ?3, approved_at = ?4,
                 pairing_code = NULL
             WHERE pairing_code = ?1 AND status = 'pending' AND created_at > ?5
             RETURNING id",
            params![code, name, by, now, not_before],
            |r| r.get(0),
        )
        .optional()?;
    match id {
        Some(id) => device(conn, id),
        None => Ok(None),
    }
}

pub(crate) fn rename_device(conn: &Connection, id: i64, name: &str) -> Result<Device, AuthError> {
    conn.execute(
        "UPDATE devices SET name = ?2 WHERE id = ?1",
        params![id, name],
    )?;
    device(conn, id)?.ok_or(AuthError::UnknownDevice(id))
}

/// Revokes a device: its token stops working at once and is forgotten.
pub(crate) fn revoke_device(conn: &Connection, id: i64) -> Result<Device, AuthError> {
    conn.execute(
        "UPDATE devices SET status = 'revoked', token_hash = NULL, pairing_code = NULL
         WHERE id = ?1",
        [id],
    )?;
    device(conn, id)?.ok_or(AuthError::UnknownDevice(id))
}

/// The approved device with this token hash, touching `last_seen` if it is older than
/// `touch_ms`.
pub(crate) fn device_by_token(
    conn: &Connection,
    token_hash: &[u8],
    now: i64,
    touch_ms: i64,
) -> Result<Option<Device>, AuthError> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = ?1 AND status = 'approved'"
        ))?
        .query_row([token_hash], device_from_row)
        .optional()?;
    if let Some(d) = &found
        && d.last_seen
            .is_none_or(|t| now - t.as_millisecond() >= touch_ms)
    {
        conn.execute(
            "UPDATE devices SET last_seen = ?2 WHERE id = ?1",
            params![d.id, now],
        )?;
    }
    Ok(found)
}
