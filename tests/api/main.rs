//! API integration tests: the real server on port 0 with a temporary database, driven by real
//! HTTP and websocket clients. One test binary keeps link time down.

mod audit;
mod auth;
mod helpers;
mod printing;
mod routes;
mod stats;
mod ws;
