//! The authentication service: finds the principal of a request.
//!
//! PLACEHOLDER until sessions and device tokens land: it authenticates nobody, so every
//! protected route answers 401. Replaced by the real service (issue 4).

use std::net::SocketAddr;

use axum::http::{HeaderMap, Method};

use super::Principal;
use crate::server::error::ApiError;

#[derive(Clone, Debug, Default)]
pub struct AuthService {}

impl AuthService {
    /// The principal of a request from its headers (session cookie, or a device's bearer
    /// token), checking CSRF for cookie-authenticated changes. `Ok(None)`: nobody signed in.
    pub async fn authenticate(
        &self,
        _headers: &HeaderMap,
        _method: &Method,
        _peer: Option<SocketAddr>,
    ) -> Result<Option<Principal>, ApiError> {
        Ok(None)
    }
}

impl AuthService {
    /// Binds a counter to a session: refused (409) if another live session holds it, or if
    /// this session holds another counter.
    pub async fn claim_counter(
        &self,
        _session_id: i64,
        _counter: crate::engine::CounterId,
    ) -> Result<(), ApiError> {
        Err(ApiError::Unauthorized)
    }

    /// Frees whatever counter a session holds.
    pub async fn release_counter(&self, _session_id: i64) -> Result<(), ApiError> {
        Ok(())
    }

    /// Frees a counter from whichever session holds it (the counter was closed).
    pub async fn release_counter_everywhere(
        &self,
        _counter: crate::engine::CounterId,
    ) -> Result<(), ApiError> {
        Ok(())
    }
}
