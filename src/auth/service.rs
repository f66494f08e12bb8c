//! The authentication service: who is asking (session cookie or device token), signing in and
//! out, CSRF, sign-in throttling, counter claims, users and registered devices.
//!
//! The service owns the auth tables on a connection of its own to the queue's database (the
//! queue's writer thread owns the ticket tables). Every database call and every password hash
//! runs in `spawn_blocking`; the connection's mutex is never held while hashing.
//!
//! Sessions: the cookie `kolejka_session` holds 32 random bytes; the database holds their
//! SHA-256. A session ends 12 hours after sign-in, or after 2 hours without a request,
//! whichever comes first; signing out, disabling the user or changing their password ends it
//! at once. Changes made with the cookie (any method but GET, HEAD and OPTIONS) must carry the
//! session's CSRF token in `X-CSRF-Token`. Devices send `Authorization: Bearer <token>` and
//! need no CSRF token: a browser never adds that header by itself.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::{HeaderMap, Method, header};
use jiff::Timestamp;
use rusqlite::Connection;

use super::db::{self, Lifetimes, NewDevice, SessionKey};
use super::secret;
use super::throttle::Throttle;
use super::{
    AuthError, AuthSettings, Device, DeviceAuth, DeviceKind, DeviceStatus, Principal, Role,
    Session, User, UserSession,
};
use crate::clock::Clock;
use crate::engine::CounterId;
use crate::server::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "kolejka_session";
/// A session ends this long after sign-in, however busy (12 hours: a long working day).
pub const SESSION_ABSOLUTE_SECS: i64 = 12 * 3600;
/// A session ends after this long without a request (2 hours).
pub const SESSION_IDLE_SECS: i64 = 2 * 3600;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted (longer input is surely not a password).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Failed sign-ins allowed per user name and per client address within the window.
pub const LOGIN_MAX_FAILURES: usize = 5;
pub const LOGIN_WINDOW_SECS: i64 = 15 * 60;
/// A pairing code is valid this long (15 minutes).
pub const PAIRING_CODE_TTL_SECS: i64 = 15 * 60;
/// Pairing requests allowed per client address within the window.
pub const PAIR_MAX_REQUESTS: usize = 20;
pub const PAIR_WINDOW_SECS: i64 = 10 * 60;
/// The length of the first admin's generated password.
pub const FIRST_ADMIN_PASSWORD_CHARS: usize = 20;
/// The file, beside the database, that the first admin's password is written to.
pub const ADMIN_PASSWORD_FILE: &str = "admin-password.txt";

/// `last_seen` of sessions and devices is written at most once a minute.
const TOUCH_MS: i64 = 60_000;

const LIFETIMES: Lifetimes = Lifetimes {
    absolute_ms: SESSION_ABSOLUTE_SECS * 1000,
    idle_ms: SESSION_IDLE_SECS * 1000,
    touch_ms: TOUCH_MS,
};

/// The answer to a successful sign-in: the session, and the cookie's secret (sent once, in
/// `Set-Cookie`, never stored).
#[derive(Debug)]
pub struct SignedIn {
    pub session: Session,
    pub cookie_secret: String,
}

/// The answer to a pairing request.
#[derive(Debug)]
pub struct Pairing {
    pub device_id: i64,
    /// Shown on the device's screen; a manager approves the device by it.
    pub pairing_code: String,
    pub code_expires_at: Timestamp,
    /// Only the device knows it; it polls with it for its status and token.
    pub poll_token: String,
    /// The device's token, when approved at once (the demo's loopback auto-approval).
    pub token: Option<String>,
}

/// The answer to a poll.
#[derive(Debug)]
pub struct PollAnswer {
    pub status: DeviceStatus,
    /// The device's token: present exactly once, on the first poll after approval.
    pub token: Option<String>,
}

/// The first admin, created on first start.
#[derive(Debug)]
pub struct FirstAdmin {
    pub password: String,
    /// Where the password was written, if it could be.
    pub file: Option<PathBuf>,
}

struct Inner {
    conn: Mutex<Connection>,
    clock: Arc<dyn Clock>,
    settings: AuthSettings,
    /// Failed sign-ins, keyed `user:NAME` and `ip:ADDRESS`.
    login_failures: Throttle,
    /// Pairing requests, keyed by client address.
    pairings: Throttle,
}

/// Cheap to clone: all state is behind one `Arc`.
#[derive(Clone)]
pub struct AuthService {
    inner: Arc<Inner>,
}

impl fmt::Debug for AuthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// Opens the auth tables of the database at `db` (the store must have created and migrated
    /// it). On first start, when there is no user at all, creates the user `admin` with a
    /// random password, logs it once and writes it to `admin-password.txt` beside the database.
    pub async fn open(
        db: &Path,
        settings: AuthSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<AuthService, AuthError> {
        let path = db.to_owned();
        let conn = tokio::task::spawn_blocking(move || db::open(&path))
            .await
            .map_err(|e| AuthError::Task(e.to_string()))??;
        if settings.auto_approve_loopback {
            tracing::warn!(
                "[devices] auto_approve_loopback is on (DEMO ONLY): pairing requests from this \
                 machine are approved without a manager"
            );
        }
        let service = AuthService {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                clock,
                settings,
                login_failures: Throttle::new(LOGIN_MAX_FAILURES, LOGIN_WINDOW_SECS * 1000),
                pairings: Throttle::new(PAIR_MAX_REQUESTS, PAIR_WINDOW_SECS * 1000),
            }),
        };
        if let Some(first) = service.create_first_admin(db).await? {
            log_first_admin(&first);
        }
        Ok(service)
    }

    fn now(&self) -> i64 {
        self.inner.clock.now().as_millisecond()
    }

    /// Runs `f` on the connection, off the async runtime.
    async fn db<R, F>(&self, f: F) -> Result<R, AuthError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, AuthError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| AuthError::Task(e.to_string()))?
    }

    async fn first_admin_needed(&self) -> Result<bool, AuthError> {
        self.db(|c| Ok(db::user_count(c)? == 0)).await
    }

    async fn create_first_admin(&self, db_path: &Path) -> Result<Option<FirstAdmin>, AuthError> {
        if !self.first_admin_needed().await? {
            return Ok(None);
        }
        let password = secret::generate_password(FIRST_ADMIN_PASSWORD_CHARS);
        let hash = hash(password.clone()).await?;
        let now = self.now();
        let created = self
            .db(move |c| db::insert_first_admin(c, "admin", &hash, now))
            .await?;
        if !created {
            return Ok(None);
        }
        let file = db_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join(ADMIN_PASSWORD_FILE);
        let file = match write_secret_file(&file, &password) {
            Ok(()) => Some(file),
            Err(e) => {
                tracing::error!(
                    "cannot write the first admin's password to {}: {e}",
                    file.display()
                );
                None
            }
        };
        Ok(Some(FirstAdmin { password, file }))
    }

    // -------------------------------------------------------------- who is asking

    /// The principal of a request from its headers (session cookie, or a device's bearer
    /// token), checking CSRF for cookie-authenticated changes. `Ok(None)`: nobody signed in
    /// (no credentials, or ones that are unknown, expired, revoked or of a disabled user).
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        method: &Method,
        _peer: Option<SocketAddr>,
    ) -> Result<Option<Principal>, ApiError> {
        if let Some(token) = bearer_token(headers) {
            let hash = secret::token_hash(token);
            let now = self.now();
            let device = self
                .db(move |c| db::device_by_token(c, &hash, now, TOUCH_MS))
                .await?;
            return Ok(device.map(|d| {
                Principal::Device(DeviceAuth {
                    id: d.id,
                    name: d.name,
                    kind: d.kind,
                })
            }));
        }
        let Some(session) = self.session_from_cookie(headers).await? else {
            return Ok(None);
        };
        let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = headers
                .get("x-csrf-token")
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !secret::constant_time_eq(sent, session.csrf_token.as_bytes()) {
                tracing::warn!(
                    user = %session.user,
                    %method,
                    "refused a change without the session's CSRF token"
                );
                return Err(ApiError::Csrf);
            }
        }
        Ok(Some(Principal::User(UserSession {
            user: session.user,
            role: session.role,
            session_id: session.id,
            counter: session.counter,
        })))
    }

    /// The live session the request's cookie names, if any.
    pub async fn session_from_cookie(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<Session>, AuthError> {
        let Some(secret) = session_cookie(headers) else {
            return Ok(None);
        };
        let hash = secret::token_hash(secret);
        let now = self.now();
        self.db(move |c| db::live_session(c, SessionKey::TokenHash(&hash), now, LIFETIMES))
            .await
    }

    /// A live session by id.
    pub async fn session(&self, id: i64) -> Result<Option<Session>, AuthError> {
        let now = self.now();
        self.db(move |c| db::live_session(c, SessionKey::Id(id), now, LIFETIMES))
            .await
    }

    // -------------------------------------------------------------- signing in and out

    /// Signs in: `TooManyRequests` while the user name or the client address has had too
    /// many failures (even with the right password), `Unauthorized` for a wrong name or
    /// password or a disabled user (one answer for all, so that it does not tell which names
    /// exist).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<SignedIn, ApiError> {
        let now = self.now();
        let name_ok = valid_name(username).is_ok();
        // Names that cannot exist share one key, so that junk cannot grow the map.
        let user_key = if name_ok {
            format!("user:{username}")
        } else {
            "user:(not a valid name)".to_owned()
        };
        let ip_key = client.map(|ip| format!("ip:{ip}"));
        let throttled = [Some(&user_key), ip_key.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|k| self.inner.login_failures.check(k, now).err())
            .max();
        if let Some(retry_after_secs) = throttled {
            tracing::warn!(
                user = ?username,
                client = ?client,
                retry_after_secs,
                "sign-in refused: too many failed attempts"
            );
            return Err(ApiError::TooManyRequests { retry_after_secs });
        }
        let row = if name_ok {
            let name = username.to_owned();
            self.db(move |c| db::login_row(c, &name)).await?
        } else {
            None
        };
        // Verify against a dummy hash for an unknown user, so that the answer takes as long.
        let (stored, role, disabled) = match row {
            Some((hash, role, disabled)) => (Some(hash), role, disabled),
            None => (None, Role::Clerk, false),
        };
        let ok = verify(password.to_owned(), stored.clone()).await? && stored.is_some();
        if !ok {
            self.inner.login_failures.hit(&user_key, now);
            if let Some(k) = &ip_key {
                self.inner.login_failures.hit(k, now);
            }
            // Debug formatting: the name is the client's input and may hold line breaks.
            tracing::warn!(user = ?username, client = ?client, "failed sign-in: wrong user name or password");
            return Err(ApiError::Unauthorized);
        }
        if disabled {
            tracing::warn!(user = %username, client = ?client, "refused sign-in of a disabled user");
            return Err(ApiError::Unauthorized);
        }
        self.inner.login_failures.clear(&user_key);
        let cookie_secret = secret::random_token();
        let csrf_token = secret::random_token();
        let hash = secret::token_hash(&cookie_secret);
        let name = username.to_owned();
        let csrf = csrf_token.clone();
        let id = self
            .db(move |c| db::insert_session(c, &name, &hash, &csrf, now, LIFETIMES))
            .await?;
        tracing::info!(user = %username, role = role.as_str(), client = ?client, "signed in");
        Ok(SignedIn {
            session: Session {
                id,
                user: username.to_owned(),
                role,
                csrf_token,
                created_at: ts(now),
                expires_at: ts(now + LIFETIMES.absolute_ms),
                counter: None,
            },
            cookie_secret,
        })
    }

    /// Signs out: the session is deleted, and with it its counter claim.
    pub async fn logout(&self, session_id: i64) -> Result<(), AuthError> {
        self.db(move |c| db::delete_session(c, session_id)).await
    }

    // -------------------------------------------------------------- counter claims

    /// Binds a counter to a session: refused (409) if another live session holds it, or if
    /// this session holds another counter.
    pub async fn claim_counter(&self, session_id: i64, counter: CounterId) -> Result<(), ApiError> {
        let now = self.now();
        self.db(move |c| db::claim_counter(c, session_id, counter, now, LIFETIMES))
            .await
            .map_err(ApiError::from)
    }

    /// Frees whatever counter a session holds.
    pub async fn release_counter(&self, session_id: i64) -> Result<(), ApiError> {
        self.db(move |c| db::release_counter(c, session_id))
            .await
            .map_err(ApiError::from)
    }

    /// Frees a counter from whichever session holds it (the counter was closed).
    pub async fn release_counter_everywhere(&self, counter: CounterId) -> Result<(), ApiError> {
        self.db(move |c| db::release_counter_everywhere(c, counter))
            .await
            .map_err(ApiError::from)
    }

    // -------------------------------------------------------------- users

    /// Creates a user (for the API, the command line's twin, and tests).
    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<(), AuthError> {
        valid_name(name)?;
        valid_password(password)?;
        let hash = hash(password.to_owned()).await?;
        let name = name.to_owned();
        let now = self.now();
        self.db(move |c| db::insert_user(c, &name, &hash, role, now))
            .await?;
        Ok(())
    }

    pub async fn users(&self) -> Result<Vec<User>, AuthError> {
        self.db(|c| db::users(c)).await
    }

    pub async fn user(&self, name: &str) -> Result<User, AuthError> {
        let name = name.to_owned();
        self.db(move |c| db::user(c, &name)?.ok_or(AuthError::UnknownUser(name)))
            .await
    }

    /// Changes a user's role or disables them (their sessions end); never leaves no admin.
    pub async fn update_user(
        &self,
        name: &str,
        role: Option<Role>,
        disabled: Option<bool>,
    ) -> Result<User, AuthError> {
        let name = name.to_owned();
        self.db(move |c| db::update_user(c, &name, role, disabled))
            .await
    }

    /// Sets a user's password; their sessions end, except `keep`.
    pub async fn set_password(
        &self,
        name: &str,
        password: &str,
        keep: Option<i64>,
    ) -> Result<(), AuthError> {
        valid_password(password)?;
        let hash = hash(password.to_owned()).await?;
        let name = name.to_owned();
        let now = self.now();
        self.db(move |c| db::set_password(c, &name, &hash, now, keep))
            .await
    }

    /// Checks a signed-in user's current password (before they change it), throttled like a
    /// sign-in.
    pub async fn check_current_password(
        &self,
        name: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        let now = self.now();
        let user_key = format!("user:{name}");
        if let Err(retry_after_secs) = self.inner.login_failures.check(&user_key, now) {
            return Err(ApiError::TooManyRequests { retry_after_secs });
        }
        let owned = name.to_owned();
        let stored = self.db(move |c| db::password_hash(c, &owned)).await?;
        if !verify(password.to_owned(), stored).await? {
            self.inner.login_failures.hit(&user_key, now);
            tracing::warn!(user = %name, client = ?client, "wrong current password on a password change");
            return Err(ApiError::Forbidden("the current password is wrong".into()));
        }
        Ok(())
    }

    // -------------------------------------------------------------- devices

    /// A device asks to be paired. Throttled per client address; approved at once when the
    /// demo setting `auto_approve_loopback` is on and the request comes from this machine
    /// (and not through a proxy).
    pub async fn pair(
        &self,
        kind: DeviceKind,
        name: Option<&str>,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
    ) -> Result<Pairing, ApiError> {
        let now = self.now();
        let client = client_ip(headers, peer);
        let key = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        if let Err(retry_after_secs) = self.inner.pairings.check(&key, now) {
            tracing::warn!(client = %key, "pairing refused: too many requests");
            return Err(ApiError::TooManyRequests { retry_after_secs });
        }
        self.inner.pairings.hit(&key, now);
        let name = match name {
            Some(n) => valid_device_name(n)?,
            None => kind.as_str().to_owned(),
        };
        let auto = self.inner.settings.auto_approve_loopback && direct_from_loopback(headers, peer);
        let poll_token = secret::random_token();
        let token = auto.then(secret::random_token);
        let poll_hash = secret::token_hash(&poll_token);
        let token_hash = token.as_deref().map(secret::token_hash);
        let (device_id, pairing_code) = self
            .db(move |c| {
                db::sweep_pending(c, now - PAIRING_CODE_TTL_SECS * 1000)?;
                // A code names one waiting device: draw again on a clash.
                for _ in 0..50 {
                    let code = secret::pairing_code();
                    let new = NewDevice {
                        kind,
                        name: &name,
                        code: &code,
                        poll_token_hash: &poll_hash,
                        token_hash: token_hash.as_deref(),
                    };
                    if let Some(id) = db::insert_device(c, &new, now)? {
                        return Ok((id, code));
                    }
                }
                Err(AuthError::Invalid(
                    "too many devices are waiting to be paired; try again later".into(),
                ))
            })
            .await?;
        if auto {
            tracing::warn!(
                device = device_id,
                kind = kind.as_str(),
                "device approved automatically (auto_approve_loopback, DEMO ONLY)"
            );
        } else {
            tracing::info!(
                device = device_id,
                kind = kind.as_str(),
                client = %key,
                "device asks to be paired; approve it by the code on its screen"
            );
        }
        Ok(Pairing {
            device_id,
            pairing_code,
            code_expires_at: ts(now + PAIRING_CODE_TTL_SECS * 1000),
            poll_token,
            token,
        })
    }

    /// A device polls for its status with its poll token. `NotFound` for an unknown device,
    /// a wrong poll token, or a code that expired. The token is handed out exactly once.
    pub async fn poll(
        &self,
        device_id: i64,
        poll_token: Option<&str>,
    ) -> Result<PollAnswer, ApiError> {
        let not_found = || {
            ApiError::NotFound(format!(
                "no pairing request {device_id} for this poll token (a code expires after \
                 {} minutes: pair again)",
                PAIRING_CODE_TTL_SECS / 60
            ))
        };
        let Some(poll_token) = poll_token else {
            return Err(not_found());
        };
        let poll_hash = secret::token_hash(poll_token);
        let now = self.now();
        let answer = self
            .db(move |c| {
                db::sweep_pending(c, now - PAIRING_CODE_TTL_SECS * 1000)?;
                let Some((status, no_token)) = db::poll_device(c, device_id, &poll_hash)? else {
                    return Ok(None);
                };
                if status == DeviceStatus::Approved && no_token {
                    let token = secret::random_token();
                    if db::set_device_token(c, device_id, &secret::token_hash(&token))? {
                        return Ok(Some(PollAnswer {
                            status,
                            token: Some(token),
                        }));
                    }
                }
                Ok(Some(PollAnswer {
                    status,
                    token: None,
                }))
            })
            .await?;
        let answer = answer.ok_or_else(not_found)?;
        if answer.token.is_some() {
            tracing::info!(device = device_id, "device fetched its token");
        }
        Ok(answer)
    }

    /// Every device, after dropping pairing requests whose code expired.
    pub async fn devices(&self) -> Result<Vec<Device>, AuthError> {
        let expired = self.now() - PAIRING_CODE_TTL_SECS * 1000;
        self.db(move |c| {
            db::sweep_pending(c, expired)?;
            db::devices(c)
        })
        .await
    }

    /// A manager approves the waiting device whose screen shows `code`.
    pub async fn approve_device(
        &self,
        code: &str,
        name: &str,
        by: &str,
    ) -> Result<Device, ApiError> {
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::Unprocessable(
                "a pairing code is the 6 digits shown on the device's screen".into(),
            ));
        }
        let name = valid_device_name(name)?;
        let now = self.now();
        let (code, by) = (code.to_owned(), by.to_owned());
        let found = self
            .db(move |c| {
                db::approve_device(
                    c,
                    &code,
                    &name,
                    &by,
                    now,
                    now - PAIRING_CODE_TTL_SECS * 1000,
                )
            })
            .await?;
        let device = found.ok_or_else(|| {
            ApiError::NotFound(format!(
                "no device is waiting with this pairing code (codes expire after {} minutes)",
                PAIRING_CODE_TTL_SECS / 60
            ))
        })?;
        tracing::info!(device = device.id, name = %device.name, "device approved");
        Ok(device)
    }

    pub async fn rename_device(&self, id: i64, name: &str) -> Result<Device, ApiError> {
        let name = valid_device_name(name)?;
        Ok(self.db(move |c| db::rename_device(c, id, &name)).await?)
    }

    /// Revokes a device: its token stops working at once.
    pub async fn revoke_device(&self, id: i64) -> Result<Device, ApiError> {
        Ok(self.db(move |c| db::revoke_device(c, id)).await?)
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Hashes a password off the async runtime.
async fn hash(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || secret::hash_password(&password))
        .await
        .map_err(|e| AuthError::Task(e.to_string()))?
}

/// Verifies a password off the async runtime; against the dummy hash if `hash` is `None`
/// (then false, but after the same work).
async fn verify(password: String, hash: Option<String>) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => secret::verify_password(&password, &h),
        None => {
            secret::verify_password(&password, secret::dummy_hash()?)?;
            Ok(false)
        }
    })
    .await
    .map_err(|e| AuthError::Task(e.to_string()))?
}

fn log_first_admin(first: &FirstAdmin) {
    let file = first.file.as_ref().map_or_else(
        || "(it could not be written to a file)".to_owned(),
        |f| format!("it is also in {} (readable by this user only)", f.display()),
    );
    tracing::warn!(
        "FIRST START: created the user `admin` (role admin) with the password  {}  ; {file}. \
         Sign in and change it now (PUT /api/v1/users/admin/password, or \
         `kolejka user passwd admin`), then delete the file. This is shown only once.",
        first.password
    );
}

/// Writes `secret` to `path`, readable and writable by the owner only (mode 0600 from the
/// moment it exists: an old file is removed first rather than rewritten with its old mode).
fn write_secret_file(path: &Path, secret: &str) -> Result<(), AuthError> {
    use std::io::Write;
    let io = |source| AuthError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(format!("{secret}\n").as_bytes())
        .map_err(io)?;
    file.sync_all().map_err(io)
}

// ------------------------------------------------------------------ rules for names

/// A user name: 1 to 64 characters from `A-Z a-z 0-9 . _ @ -`.
pub fn valid_name(name: &str) -> Result<(), AuthError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::Invalid(format!(
            "`{}` is not a valid user name: use 1 to 64 of the characters A-Z, a-z, 0-9, \
             '.', '_', '@' and '-'",
            name.chars().take(80).collect::<String>()
        )))
    }
}

/// A password: at least `MIN_PASSWORD_CHARS` characters, at most `MAX_PASSWORD_CHARS`.
pub fn valid_password(password: &str) -> Result<(), AuthError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(AuthError::Invalid(format!(
            "the password is too short: use at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(AuthError::Invalid(format!(
            "the password is too long: at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// A device name: 1 to 64 characters after trimming, no control characters.
fn valid_device_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::Unprocessable(
            "a device name is 1 to 64 characters, without control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

// ------------------------------------------------------------------ reading requests

/// The session cookie's value, from any `Cookie` header.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == SESSION_COOKIE && !v.is_empty())
        .map(|(_, v)| v)
}

/// The token of `Authorization: Bearer <token>`.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Headers a reverse proxy adds: a request that has one did not come straight from a peer.
const PROXY_HEADERS: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];

/// The client's address: the peer's, or, when the peer is a reverse proxy on this machine
/// (loopback), the last address in its `X-Forwarded-For` (the one the proxy itself added;
/// earlier ones are the client's word and could be forged).
pub fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
    let peer = peer?.ip().to_canonical();
    if peer.is_loopback()
        && let Some(forwarded) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back()
    {
        return Some(forwarded.to_canonical());
    }
    Some(peer)
}

/// Whether the request came from this machine itself, not through a proxy.
fn direct_from_loopback(headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    peer.is_some_and(|p| p.ip().to_canonical().is_loopback())
        && PROXY_HEADERS.iter().all(|h| !headers.contains_key(*h))
}

/// Whether the request reached the proxy over TLS (then the cookie is marked `Secure`).
pub fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` value that sets the session cookie.
pub fn session_set_cookie(secret: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_ABSOLUTE_SECS}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn session_clear_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.append(*k, v);
            }
        }
        h
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; kolejka_session=abc; b=2")]);
        assert_eq!(session_cookie(&h), Some("abc"));
        let h = headers(&[("cookie", "a=1"), ("cookie", "kolejka_session=xyz")]);
        assert_eq!(session_cookie(&h), Some("xyz"));
        assert_eq!(
            session_cookie(&headers(&[("cookie", "kolejka_sessionx=1")])),
            None
        );
        assert_eq!(
            session_cookie(&headers(&[("cookie", "kolejka_session=")])),
            None
        );
    }

    #[test]
    fn bearer_tokens_are_read() {
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Bearer abc")])),
            Some("abc")
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "bearer  abc ")])),
            Some("abc")
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Basic abc")])),
            None
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Bearer ")])),
            None
        );
    }

    #[test]
    fn names_and_passwords_follow_the_rules() {
        assert!(valid_name("anna.kowalska@um-01_x").is_ok());
        assert!(valid_name("").is_err());
        assert!(valid_name(&"a".repeat(65)).is_err());
        assert!(valid_name("anna kowalska").is_err());
        assert!(valid_name("żaneta").is_err());
        assert!(valid_password("123456789").is_err());
        assert!(valid_password("1234567890").is_ok());
        assert!(
            valid_password("ąęółśżźćńą").is_ok(),
            "characters, not bytes"
        );
        assert!(valid_device_name("  Kiosk – parter ").is_ok());
        assert!(valid_device_name(" ").is_err());
        assert!(valid_device_name("a\nb").is_err());
    }

    #[test]
    fn the_client_address_trusts_only_a_local_proxy() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap_or_else(|_| unreachable!());
        let remote: SocketAddr = "192.0.2.7:5000".parse().unwrap_or_else(|_| unreachable!());
        let xff = headers(&[("x-forwarded-for", "10.0.0.1, 198.51.100.9")]);
        assert_eq!(
            client_ip(&xff, Some(local)).map(|i| i.to_string()),
            Some("198.51.100.9".into())
        );
        assert_eq!(
            client_ip(&xff, Some(remote)).map(|i| i.to_string()),
            Some("192.0.2.7".into())
        );
        assert!(direct_from_loopback(&HeaderMap::new(), Some(local)));
        assert!(!direct_from_loopback(&xff, Some(local)));
        assert!(!direct_from_loopback(&HeaderMap::new(), Some(remote)));
        assert!(over_tls(&headers(&[("x-forwarded-proto", "https")])));
        assert!(!over_tls(&headers(&[("x-forwarded-proto", "http")])));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_tls() {
        let c = session_set_cookie("s3cret", false);
        assert!(c.starts_with("kolejka_session=s3cret;"));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/"));
        assert!(!c.contains("Secure"));
        assert!(session_set_cookie("s", true).ends_with("; Secure"));
        assert!(session_clear_cookie(false).contains("Max-Age=0"));
    }
}
