//! Routes about the service itself: health and the OpenAPI document.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use schemars::JsonSchema;
use serde::Serialize;

use super::AppState;
use super::routes::{RouteSpec, schema};
use crate::auth::Access;

pub fn routes() -> Vec<RouteSpec> {
    // The pages' version is computed now, at start, from the files this build serves.
    let _ = super::pages::version();
    vec![
        RouteSpec {
            method: Method::GET,
            path: "/healthz",
            access: Access::PUBLIC,
            tag: "service",
            summary: "Liveness and readiness: 200 once the day is restored and the writer runs",
            request: None,
            response: Some(schema::<Health>),
            status: 200,
            handler: || get(healthz),
        },
        RouteSpec {
            method: Method::GET,
            path: "/api/openapi.json",
            access: Access::PUBLIC,
            tag: "service",
            summary: "This API as an OpenAPI 3.1 document",
            request: None,
            response: None,
            status: 200,
            handler: || get(openapi),
        },
    ]
}

#[derive(Serialize, JsonSchema)]
pub struct Health {
    /// `ok`, or `stopping` during a shutdown (then with status 503).
    pub status: &'static str,
    /// The local day the queue is in, once started (YYYY-MM-DD).
    pub day: Option<String>,
    /// The version (last committed event) of the queue state.
    pub version: i64,
    /// A version of the embedded web pages (a hash of their files); screens reload themselves
    /// when it changes, i.e. after an upgrade.
    pub pages: &'static str,
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let (day, version) = state
        .queue
        .read(|engine, version| (engine.day().map(|d| d.to_string()), version));
    let running = state.queue.is_running();
    let status = if running {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: if running { "ok" } else { "stopping" },
            day,
            version,
            pages: super::pages::version(),
        }),
    )
}

async fn openapi() -> impl IntoResponse {
    Json(super::openapi::document())
}
