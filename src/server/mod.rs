//! The HTTP and websocket room around the engine: the route table, the shared state, and
//! `run`, which serves on a listener until a shutdown signal. `crate::app` wires it up for
//! `main` and for the tests alike (the tests on port 0).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub mod api;
pub mod error;
pub mod meta;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod ws;

use crate::auth::AuthService;
use crate::clock::Clock;
use crate::engine::Office;
use crate::store::Queue;

/// The largest request body accepted anywhere (bigger bodies get 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler can reach: cheap to clone, all `Arc`s inside.
#[derive(Clone)]
pub struct AppState {
    pub queue: Queue,
    pub office: Arc<Office>,
    pub clock: Arc<dyn Clock>,
    pub auth: AuthService,
    pub hall: crate::hall::Hall,
}

pub fn router(state: AppState) -> Router {
    routes::router(&state)
        .merge(pages::router())
        .fallback(|| async { error::ApiError::NotFound("no such route".into()) })
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
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
