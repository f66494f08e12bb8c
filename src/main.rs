//! The `kolejka` binary: a thin shell over `kolejka::cli`.

fn main() -> std::process::ExitCode {
    kolejka::cli::main()
}
