//! Who is asking: signed-in users (clerk, manager, admin) and registered devices (kiosk, hall
//! screen, counter display), and what each may do.
//!
//! `Principal` is the answer to "who is asking", `Access` is a route's rule, and `allows` is
//! the one place the two meet. `AuthService` (sessions, passwords, device tokens) finds the
//! principal of a request.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::CounterId;

pub mod cli;
mod db;
mod error;
pub mod http;
mod secret;
mod service;
mod throttle;

pub use db::{Device, DeviceStatus, Session, User};
pub use error::AuthError;
pub use service::*;

/// Settings of sign-in and devices, from the office configuration's `[devices]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthSettings {
    /// DEMO ONLY: approve a pairing request at once when it comes straight from this machine
    /// (a loopback peer, no proxy headers), so that a demo's kiosk and screens on the server
    /// itself need no manager. Off by default.
    pub auto_approve_loopback: bool,
}

/// A user's role. Roles are ordered: a manager may do what a clerk may, an admin what a
/// manager may.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Clerk,
    Manager,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "clerk" => Some(Role::Clerk),
            "manager" => Some(Role::Manager),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// What a registered device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// The ticket machine: issues tickets, reads queues and waits.
    Kiosk,
    /// A hall screen: reads calls, queues and messages.
    Screen,
    /// The small display above one counter.
    CounterDisplay,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Kiosk => "kiosk",
            DeviceKind::Screen => "screen",
            DeviceKind::CounterDisplay => "counter_display",
        }
    }
    pub fn parse(s: &str) -> Option<DeviceKind> {
        match s {
            "kiosk" => Some(DeviceKind::Kiosk),
            "screen" => Some(DeviceKind::Screen),
            "counter_display" => Some(DeviceKind::CounterDisplay),
            _ => None,
        }
    }
}

/// A signed-in user's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    pub user: String,
    pub role: Role,
    /// The session's id (never the cookie's secret itself).
    pub session_id: i64,
    /// The counter this session holds, if any (one session, one counter; one counter, one
    /// session).
    pub counter: Option<CounterId>,
}

/// An approved device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuth {
    pub id: i64,
    pub name: String,
    pub kind: DeviceKind,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User(UserSession),
    Device(DeviceAuth),
}

impl Principal {
    /// The actor recorded on events: `user:NAME` or `device:ID`.
    pub fn actor(&self) -> crate::engine::Actor {
        match self {
            Principal::User(u) => crate::engine::Actor::User(u.user.clone()),
            Principal::Device(d) => crate::engine::Actor::Device(format!("{}", d.id)),
        }
    }
    pub fn user(&self) -> Option<&UserSession> {
        match self {
            Principal::User(u) => Some(u),
            Principal::Device(_) => None,
        }
    }
}

/// A route's rule: who may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Anyone, signed in or not.
    pub public: bool,
    /// Users with at least this role.
    pub min_role: Option<Role>,
    /// Devices of these kinds.
    pub devices: &'static [DeviceKind],
}

impl Access {
    pub const PUBLIC: Access = Access {
        public: true,
        min_role: None,
        devices: &[],
    };
    pub const fn users(min: Role) -> Access {
        Access {
            public: false,
            min_role: Some(min),
            devices: &[],
        }
    }
    pub const fn devices(kinds: &'static [DeviceKind]) -> Access {
        Access {
            public: false,
            min_role: None,
            devices: kinds,
        }
    }
    pub const fn users_and_devices(min: Role, kinds: &'static [DeviceKind]) -> Access {
        Access {
            public: false,
            min_role: Some(min),
            devices: kinds,
        }
    }

    /// Whether `who` may pass: `Ok`, or `Err(false)` for "sign in" (401) and `Err(true)` for
    /// "not allowed" (403).
    pub fn allows(&self, who: Option<&Principal>) -> Result<(), bool> {
        if self.public {
            return Ok(());
        }
        match who {
            None => Err(false),
            Some(Principal::User(u)) if self.min_role.is_some_and(|min| u.role >= min) => Ok(()),
            Some(Principal::Device(d)) if self.devices.contains(&d.kind) => Ok(()),
            Some(_) => Err(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> Principal {
        Principal::User(UserSession {
            user: "anna".into(),
            role,
            session_id: 1,
            counter: None,
        })
    }
    fn device(kind: DeviceKind) -> Principal {
        Principal::Device(DeviceAuth {
            id: 7,
            name: "kiosk parter".into(),
            kind,
        })
    }

    #[test]
    fn access_rules() {
        let clerk = Access::users(Role::Clerk);
        assert_eq!(clerk.allows(None), Err(false));
        assert_eq!(clerk.allows(Some(&user(Role::Clerk))), Ok(()));
        assert_eq!(clerk.allows(Some(&user(Role::Admin))), Ok(()));
        assert_eq!(clerk.allows(Some(&device(DeviceKind::Kiosk))), Err(true));
        let manager = Access::users(Role::Manager);
        assert_eq!(manager.allows(Some(&user(Role::Clerk))), Err(true));
        let kiosk = Access::devices(&[DeviceKind::Kiosk]);
        assert_eq!(kiosk.allows(Some(&device(DeviceKind::Kiosk))), Ok(()));
        assert_eq!(kiosk.allows(Some(&device(DeviceKind::Screen))), Err(true));
        assert_eq!(kiosk.allows(Some(&user(Role::Admin))), Err(true));
        assert_eq!(Access::PUBLIC.allows(None), Ok(()));
        assert_eq!(device(DeviceKind::Kiosk).actor().to_string(), "device:7");
        assert_eq!(user(Role::Clerk).actor().to_string(), "user:anna");
    }
}
