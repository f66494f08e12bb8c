//! Reliability drills (docs/BENCHMARKS.md, "Drills"): the real service under the
//! benchmark's load and under abuse, every drill bounded in time and on loopback only.
//!
//! - `kill`: SIGKILL at random moments while kiosks burst, clerks call and hall screens
//!   watch; nothing acknowledged or shown on a screen is lost.
//! - `full_disk`: the database may not grow (SQLITE_FULL); issuing answers 503, nothing is
//!   half-written, the service recovers when space returns.
//! - `ws_abuse`: garbage, oversized and broken frames, clients that never read, thousands of
//!   connections; the server keeps serving the others and its memory stays bounded.
//! - `slowloris`: clients that send their headers or bodies too slowly are cut off.
//!
//! The load comes from the benchmark's own clients (`src/bench/`, included by path). Drills
//! that load the machine take `heavy()` so that they do not run at the same time.

// Parts of the benchmark that the drills do not use.
#[allow(dead_code)]
#[path = "../src/bench/mod.rs"]
mod bench;

#[path = "drills/full_disk.rs"]
mod full_disk;
#[path = "drills/kill.rs"]
mod kill;
#[path = "drills/slowloris.rs"]
mod slowloris;
#[path = "drills/support.rs"]
mod support;
#[path = "drills/ws_abuse.rs"]
mod ws_abuse;
