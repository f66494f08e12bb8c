//! kolejka: queue tickets, counters and waiting-room displays for a town-hall
//! customer-service office. See docs/ARCHITECTURE.md for the map.

pub mod engine;
