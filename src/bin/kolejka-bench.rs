//! `kolejka-bench`: the benchmark of docs/BENCHMARKS.md. It starts the real `kolejka` binary
//! (the one built beside it) on loopback addresses only, drives it through its HTTP and
//! websocket API, and prints every figure beside the limit it is bounded by, measured in the
//! same run. Run it in release mode: `cargo run --release --bin kolejka-bench`.

// Some of the shared parts are used only by the drills (tests/drills.rs).
#[allow(dead_code)]
#[path = "../bench/mod.rs"]
mod bench;

fn main() -> std::process::ExitCode {
    bench::run::main()
}
