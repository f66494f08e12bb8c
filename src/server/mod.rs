//! The HTTP and websocket room around the engine: the router, the shared state, and `run`,
//! which serves on a listener until a shutdown signal. `main` and the tests call the same
//! `run` (tests on port 0).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use serde::Serialize;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub mod error;

use crate::engine::Office;
use crate::store::Queue;

/// The largest request body accepted anywhere (bigger bodies get 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler can reach: cheap to clone, all `Arc`s inside.
#[derive(Clone)]
pub struct AppState {
    pub queue: Queue,
    pub office: Arc<Office>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish. The caller closes
/// the queue (and with it the database) after this returns.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    /// The local day the queue is in, if one has started.
    day: Option<String>,
    /// The version (last committed event) of the queue state.
    version: i64,
}

/// Liveness and readiness: answers 200 once the day is restored and the writer is running.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let (day, version) = state
        .queue
        .read(|engine, version| (engine.day().map(|d| d.to_string()), version));
    if state.queue.is_running() {
        (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                day,
                version,
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "stopping",
                day,
                version,
            }),
        )
    }
}
