//! The command line: `kolejka serve` (the default), `kolejka check-config FILE` and
//! `kolejka user add|passwd NAME`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::app;
use crate::clock::SystemClock;
use crate::config;

#[derive(Parser, Debug)]
#[command(
    name = "kolejka",
    version,
    about = "Queue tickets, counters and hall screens for a customer-service office",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Cmd>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run the service (the default).
    Serve(ServeArgs),
    /// Check an office configuration file and report every problem with file, line and field.
    CheckConfig {
        /// The office configuration (TOML).
        file: PathBuf,
    },
    /// Manage users: `user add NAME --role ROLE`, `user passwd NAME` (password from the
    /// terminal, or standard input when it is not a terminal).
    User {
        #[command(subcommand)]
        cmd: crate::auth::cli::UserCmd,
    },
    /// Fill an empty database with a realistic history (demos, the benchmark).
    Seed(crate::stats::cli::SeedArgs),
    /// Summarize closed days and delete priority categories (retention), as the service does
    /// every night.
    Purge(crate::stats::cli::PurgeArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Office configuration (TOML). Without it the built-in demo office is used.
    #[arg(long, env = "KOLEJKA_CONFIG")]
    pub config: Option<PathBuf>,
    /// SQLite database file; created with its directory if missing.
    #[arg(long, env = "KOLEJKA_DB", default_value = "data/kolejka.db")]
    pub db: PathBuf,
    /// Address to listen on (port 0 picks a free port; the chosen address is logged).
    #[arg(long, env = "KOLEJKA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

/// Runs the command line; the exit code is 0 on success, 2 for a bad configuration, 1 for
/// any other failure.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Cmd::CheckConfig { file }) => check_config(&file),
        Some(Cmd::User { cmd }) => crate::auth::cli::run(cmd),
        Some(Cmd::Seed(args)) => crate::stats::cli::seed(args),
        Some(Cmd::Purge(args)) => crate::stats::cli::purge(args),
        Some(Cmd::Serve(args)) => serve(args),
        None => serve(cli.serve),
    }
}

fn check_config(file: &std::path::Path) -> ExitCode {
    match config::load(file) {
        Ok(cfg) => {
            let o = &cfg.office;
            println!(
                "{}: ok ({} case types, {} counters, {} priority categories)",
                file.display(),
                o.case_types.len(),
                o.counters.len(),
                o.priority_categories.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn serve(args: ServeArgs) -> ExitCode {
    init_tracing();
    // Validate everything before the port opens.
    let cfg = match &args.config {
        Some(path) => match config::load(path) {
            Ok(cfg) => cfg,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        None => {
            tracing::info!("no --config given: serving the built-in demo office");
            config::demo()
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve_async(args, cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("kolejka: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_async(args: ServeArgs, cfg: config::OfficeConfig) -> Result<(), String> {
    let printing = crate::print::PrintSetup::new(cfg.printing);
    let app = app::start_with_printing(
        app::Options {
            office: cfg.office,
            db: args.db.clone(),
            listen: args.listen,
            clock: Arc::new(SystemClock),
            auth: cfg.auth,
        },
        printing,
    )
    .await?;
    let addr = app.addr;
    tracing::info!(%addr, db = %args.db.display(), "kolejka listening on http://{addr}");
    shutdown_signal().await;
    tracing::info!(
        "shutting down: finishing requests, committing queued changes, closing the database"
    );
    app.stop().await
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}
