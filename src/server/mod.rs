//! The HTTP and websocket room around the engine: the route table, the shared state, and
//! `run`, which serves on a listener until a shutdown signal. `crate::app` wires it up for
//! `main` and for the tests alike (the tests on port 0).
//!
//! `run` drives hyper's HTTP/1 connections itself rather than through `axum::serve`, because
//! `axum::serve` sets no timer and so has no header timeout: a client that sends its headers
//! a byte at a time (slowloris) could hold a connection for ever. Three limits bound every
//! connection: the request head within `HEADER_READ_TIMEOUT` (which also closes idle
//! keep-alive connections), no pause longer than `BODY_IDLE_TIMEOUT` in a body, and the whole
//! request within `REQUEST_TIMEOUT`. `tests/drills.rs` holds slow clients against them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

pub mod api;
pub mod error;
pub mod kiosk;
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

/// The time a client has to send a request's line and headers, counted from when the server
/// starts waiting for them: on a new connection, and after each response on a kept-alive one
/// (so an idle keep-alive connection is closed after this long, too).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest pause allowed between two pieces of a request body.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a whole request may take, body included (408 after that).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait before accepting again after `accept` failed for want of resources
/// (out of file descriptors, say): the waiting connections stay in the backlog meanwhile.
const ACCEPT_RETRY: Duration = Duration::from_millis(250);

/// What every handler can reach: cheap to clone, all `Arc`s inside.
#[derive(Clone)]
pub struct AppState {
    pub queue: Queue,
    pub office: Arc<Office>,
    pub clock: Arc<dyn Clock>,
    pub auth: AuthService,
    pub hall: crate::hall::Hall,
    /// The audit log of managers' and admins' changes (`crate::audit`).
    pub audit: crate::audit::Audit,
    /// Answers to counter actions kept for retries with the same `Idempotency-Key`.
    pub idempotency: api::Idempotency,
    /// The ticket printers and the phone links (`kiosk`).
    pub printing: kiosk::Printing,
    /// Statistics, staffing and the public status feed (`crate::stats`).
    pub stats: crate::stats::Stats,
}

pub fn router(state: AppState) -> Router {
    routes::router(&state)
        .merge(pages::router())
        .fallback(|| async { error::ApiError::NotFound("no such route".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyTimeoutLayer::new(BODY_IDLE_TIMEOUT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish. The caller closes
/// the queue (and with it the database) after this returns.
///
/// Each accepted connection gets its own task running hyper's HTTP/1 connection with
/// upgrades (websockets) and the header timeout. On shutdown the listener stops accepting,
/// every connection is told to finish its current request and close, and `run` returns once
/// they all have. Upgraded websockets have left hyper by then; `crate::app` closes them.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    // `stop` tells connections to finish; every connection holds a clone of `open`, so
    // `all_closed` resolves when the last one has ended.
    let (stop, stopping) = watch::channel(false);
    let (all_closed, open) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small answers and websocket messages go out at once rather than after Nagle's delay.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let conn = http
            .serve_connection(TokioIo::new(tcp), service)
            .with_upgrades();
        let mut stopping = stopping.clone();
        let open = open.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            let served = tokio::select! {
                served = conn.as_mut() => served,
                () = async { let _ = stopping.wait_for(|stop| *stop).await; } => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = served {
                // Timeouts, resets and bad requests from clients: theirs to fix, not ours.
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(open);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(open);
    all_closed.closed().await;
    Ok(())
}

/// After a failed `accept`: a connection that went away before it was accepted is nothing;
/// anything else (no file descriptors left, say) is logged, and accepting pauses briefly so
/// that the loop does not spin. The server keeps serving its open connections meanwhile.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection; retrying shortly");
    tokio::time::sleep(ACCEPT_RETRY).await;
}
