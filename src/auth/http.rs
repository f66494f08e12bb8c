//! The sign-in, user and device routes under `/api/v1`: `auth/login`, `auth/logout`,
//! `auth/me`, `users`, and `devices` (pairing, approval, revocation). Each is a `RouteSpec`
//! with its access rule; `server::routes::all` adds them to the route table.

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::service::{
    SESSION_IDLE_SECS, client_ip, over_tls, session_clear_cookie, session_set_cookie,
};
use super::{Access, Device, DeviceKind, Principal, Role, User, UserSession};
use crate::audit;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiJson};
use crate::server::routes::{RouteSpec, schema};

// ------------------------------------------------------------------ the route list

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec {
            method: Method::POST,
            path: "/api/v1/auth/login",
            access: Access::PUBLIC,
            tag: "auth",
            summary: "Sign in: sets the session cookie and answers with the CSRF token \
                      (429 with Retry-After after 5 failures in 15 minutes)",
            request: Some(schema::<LoginRequest>),
            response: Some(schema::<LoginResponse>),
            status: 200,
            handler: || post(login),
        },
        RouteSpec {
            method: Method::POST,
            path: "/api/v1/auth/logout",
            access: Access::users(Role::Clerk),
            tag: "auth",
            summary: "Sign out: ends the session, frees its counter and clears the cookie",
            request: None,
            response: None,
            status: 204,
            handler: || post(logout),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/auth/me",
            access: Access::users(Role::Clerk),
            tag: "auth",
            summary: "The signed-in user: role, counter held, CSRF token and session expiry",
            request: None,
            response: Some(schema::<MeResponse>),
            status: 200,
            handler: || get(me),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/users",
            access: Access::users(Role::Manager),
            tag: "users",
            summary: "Every user with role and status",
            request: None,
            response: Some(schema::<Vec<UserView>>),
            status: 200,
            handler: || get(list_users),
        },
        RouteSpec {
            method: Method::POST,
            path: "/api/v1/users",
            access: Access::users(Role::Manager),
            tag: "users",
            summary: "Create a user",
            request: Some(schema::<CreateUserRequest>),
            response: Some(schema::<UserView>),
            status: 201,
            handler: || post(create_user),
        },
        RouteSpec {
            method: Method::PATCH,
            path: "/api/v1/users/{name}",
            access: Access::users(Role::Manager),
            tag: "users",
            summary: "Change a user's role, or disable or enable them (disabling ends their sessions)",
            request: Some(schema::<UpdateUserRequest>),
            response: Some(schema::<UserView>),
            status: 200,
            handler: || patch(update_user),
        },
        RouteSpec {
            method: Method::PUT,
            path: "/api/v1/users/{name}/password",
            access: Access::users(Role::Clerk),
            tag: "users",
            summary: "Set a password: an admin for anyone, a user for themself with the current \
                      one; the user's other sessions end",
            request: Some(schema::<PasswordRequest>),
            response: None,
            status: 204,
            handler: || put(set_password),
        },
        RouteSpec {
            method: Method::POST,
            path: "/api/v1/devices/pair",
            access: Access::PUBLIC,
            tag: "devices",
            summary: "A device asks to be registered: answers a 6-digit code to show on its \
                      screen and a poll token",
            request: Some(schema::<PairRequest>),
            response: Some(schema::<PairResponse>),
            status: 201,
            handler: || post(pair),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/devices/pair/{id}",
            access: Access::PUBLIC,
            tag: "devices",
            summary: "A device polls with `Authorization: Bearer <poll_token>`: its status, and \
                      its token once after approval",
            request: None,
            response: Some(schema::<PollResponse>),
            status: 200,
            handler: || get(poll),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/v1/devices",
            access: Access::users(Role::Manager),
            tag: "devices",
            summary: "Every registered or waiting device (never their tokens or codes)",
            request: None,
            response: Some(schema::<Vec<DeviceView>>),
            status: 200,
            handler: || get(list_devices),
        },
        RouteSpec {
            method: Method::POST,
            path: "/api/v1/devices/approve",
            access: Access::users(Role::Manager),
            tag: "devices",
            summary: "Approve the waiting device whose screen shows this code, and name it",
            request: Some(schema::<ApproveRequest>),
            response: Some(schema::<DeviceView>),
            status: 200,
            handler: || post(approve),
        },
        RouteSpec {
            method: Method::PATCH,
            path: "/api/v1/devices/{id}",
            access: Access::users(Role::Manager),
            tag: "devices",
            summary: "Rename a device",
            request: Some(schema::<RenameDeviceRequest>),
            response: Some(schema::<DeviceView>),
            status: 200,
            handler: || patch(rename_device),
        },
        RouteSpec {
            method: Method::POST,
            path: "/api/v1/devices/{id}/revoke",
            access: Access::users(Role::Manager),
            tag: "devices",
            summary: "Revoke a device: its token stops working at once",
            request: None,
            response: Some(schema::<DeviceView>),
            status: 200,
            handler: || post(revoke_device),
        },
    ]
}

// ------------------------------------------------------------------ requests and answers

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LoginResponse {
    pub user: String,
    pub role: Role,
    /// Send it as `X-CSRF-Token` with every change (any method but GET, HEAD, OPTIONS).
    pub csrf_token: String,
    /// When the session ends at the latest (12 hours after sign-in), RFC 3339.
    pub expires_at: String,
    /// A session also ends after this many seconds without a request (2 hours).
    pub idle_timeout_s: i64,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct MeResponse {
    pub user: String,
    pub role: Role,
    /// The counter this session works at, if any.
    pub counter: Option<u32>,
    pub csrf_token: String,
    /// When the session ends at the latest (12 hours after sign-in), RFC 3339.
    pub expires_at: String,
    /// A session also ends after this many seconds without a request (2 hours).
    pub idle_timeout_s: i64,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct UserView {
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            name: u.name,
            role: u.role,
            disabled: u.disabled,
            created_at: u.created_at.to_string(),
            last_login_at: u.last_login_at.map(|t| t.to_string()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// 1 to 64 of `A-Z a-z 0-9 . _ @ -`.
    pub name: String,
    pub role: Role,
    /// At least 10 characters.
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// The new password, at least 10 characters.
    pub password: String,
    /// Required when users change their own password (admins need not give it).
    #[serde(default)]
    pub current_password: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    pub kind: DeviceKind,
    /// A name to suggest (the approving manager names the device anyway).
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PairResponse {
    pub device_id: i64,
    /// Show it on the device's screen: a manager approves the device by it.
    pub pairing_code: String,
    /// When the code stops working (15 minutes), RFC 3339.
    pub code_expires_at: String,
    /// Poll `GET /api/v1/devices/pair/{device_id}` with `Authorization: Bearer <poll_token>`.
    pub poll_token: String,
    /// `pending`, or `approved` when approved at once (demo setting `auto_approve_loopback`).
    pub status: String,
    /// The device's token, when approved at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PollResponse {
    /// `pending`, `approved` or `revoked`.
    pub status: String,
    /// The device's token for `Authorization: Bearer`: in the first answer after approval
    /// only. Keep it; it is never shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DeviceView {
    pub id: i64,
    pub kind: DeviceKind,
    pub name: String,
    /// `pending`, `approved` or `revoked`.
    pub status: String,
    pub created_at: String,
    /// The user who approved it; `null` while pending or when approved automatically.
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    /// The last request with its token (to within a minute).
    pub last_seen: Option<String>,
}

impl From<Device> for DeviceView {
    fn from(d: Device) -> Self {
        let ts = |t: Option<Timestamp>| t.map(|t| t.to_string());
        DeviceView {
            id: d.id,
            kind: d.kind,
            name: d.name,
            status: d.status.as_str().to_owned(),
            created_at: d.created_at.to_string(),
            approved_by: d.approved_by,
            approved_at: ts(d.approved_at),
            last_seen: ts(d.last_seen),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// The 6 digits shown on the device's screen.
    pub pairing_code: String,
    /// 1 to 64 characters, e.g. "Kiosk parter".
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameDeviceRequest {
    pub name: String,
}

// ------------------------------------------------------------------ helpers

/// The TCP peer's address, when the server was started with connect info.
struct Peer(Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

fn signed_in_user(who: &Principal) -> Result<&UserSession, ApiError> {
    who.user()
        .ok_or_else(|| ApiError::Forbidden("only a signed-in user may do this".into()))
}

/// Adds a header to a response.
fn with_header(mut resp: Response, name: header::HeaderName, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(name, v);
    }
    resp
}

/// Answers holding secrets are never cached.
fn no_store(resp: Response) -> Response {
    with_header(resp, header::CACHE_CONTROL, "no-store")
}

fn parse_device_id(id: &str) -> Result<i64, ApiError> {
    id.parse::<i64>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| ApiError::NotFound(format!("there is no device `{id}`")))
}

// ------------------------------------------------------------------ handlers: sessions

async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let client = client_ip(&headers, peer);
    let signed = state
        .auth
        .login(&req.username, &req.password, client)
        .await?;
    let body = LoginResponse {
        user: signed.session.user,
        role: signed.session.role,
        csrf_token: signed.session.csrf_token,
        expires_at: signed.session.expires_at.to_string(),
        idle_timeout_s: SESSION_IDLE_SECS,
    };
    let cookie = session_set_cookie(&signed.cookie_secret, over_tls(&headers));
    Ok(no_store(with_header(
        ApiJson(body).into_response(),
        header::SET_COOKIE,
        &cookie,
    )))
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Option<Extension<Principal>>,
) -> Result<Response, ApiError> {
    if let Some(Extension(Principal::User(u))) = who {
        // Signing out closes the clerk's counter if no ticket is at it; with a ticket there
        // it stays open under their name (a manager can close it) rather than lose the ticket.
        if let Some(counter) = u.counter {
            let closed = state
                .queue
                .submit(
                    crate::engine::Command::CloseCounter { counter },
                    crate::engine::Actor::User(u.user.clone()),
                )
                .await;
            if let Err(e) = closed {
                tracing::info!(user = %u.user, %counter, "counter left open at sign-out: {e}");
            }
        }
        state.auth.logout(u.session_id).await?;
        tracing::info!(user = %u.user, "signed out");
    }
    Ok(with_header(
        StatusCode::NO_CONTENT.into_response(),
        header::SET_COOKIE,
        &session_clear_cookie(over_tls(&headers)),
    ))
}

async fn me(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Response, ApiError> {
    let user = signed_in_user(&who)?;
    let session = state
        .auth
        .session(user.session_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let body = MeResponse {
        user: session.user,
        role: session.role,
        counter: session.counter.map(u32::from),
        csrf_token: session.csrf_token,
        expires_at: session.expires_at.to_string(),
        idle_timeout_s: SESSION_IDLE_SECS,
    };
    Ok(no_store(ApiJson(body).into_response()))
}

// ------------------------------------------------------------------ handlers: users

async fn list_users(State(state): State<AppState>) -> Result<ApiJson<Vec<UserView>>, ApiError> {
    let users = state.auth.users().await?;
    Ok(ApiJson(users.into_iter().map(UserView::from).collect()))
}

/// Admins manage every account; managers manage clerks' accounts (the console's "users"), so
/// nobody below admin can create, promote or take over a manager or an admin.
fn may_manage(who: &Principal, role: Role) -> Result<(), ApiError> {
    let me = signed_in_user(who)?;
    if me.role == Role::Admin || (me.role == Role::Manager && role == Role::Clerk) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "managers manage clerks' accounts; an admin manages the rest".into(),
        ))
    }
}

async fn create_user(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, ApiJson<UserView>), ApiError> {
    may_manage(&who, req.role)?;
    state
        .auth
        .create_user(&req.name, req.role, &req.password)
        .await?;
    tracing::info!(by = %who.actor(), user = %req.name, role = req.role.as_str(), "user created");
    let user: UserView = state.auth.user(&req.name).await?.into();
    state
        .audit
        .record(
            &who,
            "user.create",
            format!("user:{}", user.name),
            None,
            audit::json(&user),
        )
        .await;
    Ok((StatusCode::CREATED, ApiJson(user)))
}

async fn update_user(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> Result<ApiJson<UserView>, ApiError> {
    let before = state.auth.user(&name).await?;
    may_manage(&who, before.role)?;
    if let Some(role) = req.role {
        may_manage(&who, role)?;
    }
    let before = Some(UserView::from(before));
    let user = state
        .auth
        .update_user(&name, req.role, req.disabled)
        .await?;
    tracing::info!(
        by = %who.actor(),
        user = %name,
        role = user.role.as_str(),
        disabled = user.disabled,
        "user changed"
    );
    let user = UserView::from(user);
    state
        .audit
        .record(
            &who,
            "user.update",
            format!("user:{name}"),
            before.as_ref().and_then(audit::json),
            audit::json(&user),
        )
        .await;
    Ok(ApiJson(user))
}

async fn set_password(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let me = signed_in_user(&who)?;
    let own = me.user == name;
    if !own {
        // Resetting someone else's password: an admin for anyone, a manager for a clerk.
        let target = state.auth.user(&name).await?;
        may_manage(&who, target.role)?;
    } else if me.role != Role::Admin {
        let current = req.current_password.as_deref().ok_or_else(|| {
            ApiError::Unprocessable("give your current password as `current_password`".into())
        })?;
        state
            .auth
            .check_current_password(&name, current, client_ip(&headers, peer))
            .await?;
    }
    // Users changing their own password stay signed in here; everywhere else they are signed
    // out.
    let keep = own.then_some(me.session_id);
    state.auth.set_password(&name, &req.password, keep).await?;
    tracing::info!(by = %who.actor(), user = %name, "password changed");
    // Never the password itself, nor its hash.
    state
        .audit
        .record(
            &who,
            "user.password",
            format!("user:{name}"),
            None,
            Some(serde_json::json!({"password": "changed", "own": own})),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ handlers: devices

async fn pair(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PairRequest>,
) -> Result<Response, ApiError> {
    let p = state
        .auth
        .pair(req.kind, req.name.as_deref(), &headers, peer)
        .await?;
    let body = PairResponse {
        device_id: p.device_id,
        pairing_code: p.pairing_code,
        code_expires_at: p.code_expires_at.to_string(),
        poll_token: p.poll_token,
        status: if p.token.is_some() {
            "approved"
        } else {
            "pending"
        }
        .to_owned(),
        token: p.token,
    };
    Ok(no_store(
        (StatusCode::CREATED, ApiJson(body)).into_response(),
    ))
}

async fn poll(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_device_id(&id)?;
    let answer = state
        .auth
        .poll(id, super::service::bearer_token(&headers))
        .await?;
    let body = PollResponse {
        status: answer.status.as_str().to_owned(),
        token: answer.token,
    };
    Ok(no_store(ApiJson(body).into_response()))
}

async fn list_devices(State(state): State<AppState>) -> Result<ApiJson<Vec<DeviceView>>, ApiError> {
    let devices = state.auth.devices().await?;
    Ok(ApiJson(devices.into_iter().map(DeviceView::from).collect()))
}

async fn approve(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiJson(req): ApiJson<ApproveRequest>,
) -> Result<ApiJson<DeviceView>, ApiError> {
    let me = signed_in_user(&who)?;
    let device = state
        .auth
        .approve_device(req.pairing_code.trim(), &req.name, &me.user)
        .await?;
    let device = DeviceView::from(device);
    state
        .audit
        .record(
            &who,
            "device.approve",
            format!("device:{}", device.id),
            None,
            audit::json(&device),
        )
        .await;
    Ok(ApiJson(device))
}

async fn rename_device(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RenameDeviceRequest>,
) -> Result<ApiJson<DeviceView>, ApiError> {
    let id = parse_device_id(&id)?;
    let before = device_view(&state, id).await;
    let device = DeviceView::from(state.auth.rename_device(id, &req.name).await?);
    state
        .audit
        .record(
            &who,
            "device.rename",
            format!("device:{id}"),
            before.as_ref().and_then(audit::json),
            audit::json(&device),
        )
        .await;
    Ok(ApiJson(device))
}

/// A device as it is now, for the audit record's "before".
async fn device_view(state: &AppState, id: i64) -> Option<DeviceView> {
    let devices = state.auth.devices().await.ok()?;
    devices
        .into_iter()
        .find(|d| d.id == id)
        .map(DeviceView::from)
}

async fn revoke_device(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<ApiJson<DeviceView>, ApiError> {
    let id = parse_device_id(&id)?;
    let before = device_view(&state, id).await;
    let device = DeviceView::from(state.auth.revoke_device(id).await?);
    tracing::warn!(by = %who.actor(), device = id, "device revoked");
    state
        .audit
        .record(
            &who,
            "device.revoke",
            format!("device:{id}"),
            before.as_ref().and_then(audit::json),
            audit::json(&device),
        )
        .await;
    Ok(ApiJson(device))
}
