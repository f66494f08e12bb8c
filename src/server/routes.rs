//! The route table: every HTTP route with its method, path, who may call it, a summary, and
//! the schemas of its body and answer. The router, the access checks, the OpenAPI document
//! and the 401/403 tests are all built from this one list, so they cannot drift apart.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::AppState;
use super::error::ApiError;
use crate::auth::Access;

/// A function that adds a type's schema to the generator and returns a reference to it.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The schema of `T`, for `RouteSpec::request`/`response`.
pub fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// One route.
pub struct RouteSpec {
    pub method: Method,
    /// The path in axum's syntax (`/api/v1/counters/{id}/call-next`), which is also OpenAPI's.
    pub path: &'static str,
    pub access: Access,
    /// A tag grouping routes in the OpenAPI document.
    pub tag: &'static str,
    pub summary: &'static str,
    pub request: Option<SchemaFn>,
    pub response: Option<SchemaFn>,
    /// The success status (200, 201, 204...).
    pub status: u16,
    pub handler: fn() -> MethodRouter<AppState>,
}

/// Every route of the service.
pub fn all() -> Vec<RouteSpec> {
    let mut routes = super::meta::routes();
    routes.extend(super::api::routes());
    routes.extend(super::kiosk::routes());
    routes.extend(crate::auth::http::routes());
    routes.extend(super::ws::routes());
    routes.extend(crate::hall::routes());
    routes.extend(crate::audit::routes());
    routes.extend(crate::stats::http::routes());
    routes
}

/// The router built from `all()`, each route behind its access check.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    for spec in all() {
        let access = spec.access;
        let guarded = (spec.handler)().route_layer(middleware::from_fn_with_state(
            state.clone(),
            move |State(state): State<AppState>, req: Request, next: Next| {
                authorize(state, access, req, next)
            },
        ));
        router = router.route(spec.path, guarded);
    }
    router
}

/// Finds who is asking, applies the route's rule (401 for nobody, 403 for the wrong role),
/// and hands the principal to the handler as a request extension.
async fn authorize(state: AppState, access: Access, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let principal = match state
        .auth
        .authenticate(req.headers(), req.method(), peer)
        .await
    {
        Ok(p) => p,
        // A public route (sign-in, pairing) serves a caller whose stale cookie or missing
        // CSRF token fails the check as an anonymous one.
        Err(_) if access.public => None,
        Err(e) => return e.into_response(),
    };
    match access.allows(principal.as_ref()) {
        Ok(()) => {}
        Err(false) => return ApiError::Unauthorized.into_response(),
        Err(true) => {
            return ApiError::Forbidden("your role does not allow this".into()).into_response();
        }
    }
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    next.run(req).await
}
