//! kolejka: queue tickets, counters and waiting-room displays for a town-hall
//! customer-service office. See docs/ARCHITECTURE.md for the map.

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod engine;
pub mod hall;
pub mod print;
pub mod server;
pub mod stats;
pub mod store;
