//! The benchmark's parts (docs/BENCHMARKS.md): the real server as a child process, clients
//! that drive it through its HTTP and websocket API, the baselines each figure is printed
//! beside, generated databases, and the runner that prints the report.
//!
//! `src/bin/kolejka-bench.rs` is a thin shell over `run::main`; `tests/drills.rs` includes
//! this module by path to put the same load on the server in its kill drill.

pub mod baseline;
pub mod client;
pub mod data;
pub mod printer;
pub mod run;
pub mod server;
pub mod stats;
