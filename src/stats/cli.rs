//! `kolejka seed` (a realistic history for demos and the benchmark) and `kolejka purge`
//! (summarize closed days and apply retention, as the service does every night).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use jiff::civil::Date;

use super::seed::{self, SeedOptions};
use super::{Retention, Stats};
use crate::clock::{Clock, SystemClock};
use crate::config;

#[derive(Args, Debug, Clone)]
pub struct SeedArgs {
    /// The SQLite database to fill; created if missing, and it must hold no events yet.
    #[arg(long, env = "KOLEJKA_DB")]
    pub db: PathBuf,
    /// Office configuration (TOML). Without it the built-in demo office is used.
    #[arg(long, env = "KOLEJKA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Working days to simulate, ending yesterday unless --start is given.
    #[arg(long, default_value_t = 250)]
    pub days: u32,
    /// Tickets on an average day.
    #[arg(long, default_value_t = 2000)]
    pub per_day: u32,
    /// The first day to simulate (YYYY-MM-DD).
    #[arg(long)]
    pub start: Option<Date>,
    /// Counters to open; by default as many as the load needs at about 75 % utilization.
    #[arg(long)]
    pub counters: Option<u32>,
    /// The random seed: the same seed gives the same history.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

#[derive(Args, Debug, Clone)]
pub struct PurgeArgs {
    /// The SQLite database.
    #[arg(long, env = "KOLEJKA_DB", default_value = "data/kolejka.db")]
    pub db: PathBuf,
    /// Office configuration (TOML), for its time zone. Without it the built-in demo office.
    #[arg(long, env = "KOLEJKA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Days to keep personal data other than priority categories (none is stored yet).
    #[arg(long, env = "KOLEJKA_PERSONAL_RETENTION_DAYS", default_value_t = 14,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub personal_retention_days: u32,
}

fn office(config_file: Option<&std::path::Path>) -> Result<config::OfficeConfig, ExitCode> {
    match config_file {
        Some(path) => config::load(path).map_err(|e| {
            eprintln!("{e}");
            ExitCode::from(2)
        }),
        None => Ok(config::demo()),
    }
}

pub fn seed(args: SeedArgs) -> ExitCode {
    let cfg = match office(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let today = SystemClock
        .now()
        .to_zoned(cfg.office.time_zone.clone())
        .date();
    let opts = SeedOptions {
        days: args.days,
        per_day: args.per_day,
        start: args.start,
        seed: args.seed,
        counters: args.counters,
    };
    let started = Instant::now();
    match seed::seed(&args.db, &cfg.office, &opts, today, |line| {
        eprintln!("{line}")
    }) {
        Ok(out) => {
            println!(
                "{}: {} working days {}..{}, {} tickets, {} events, {} counters, {} days \
                 summarized, in {:.1} s",
                args.db.display(),
                out.days,
                out.first,
                out.last,
                out.tickets,
                out.events,
                out.counters,
                out.summarized,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kolejka seed: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn purge(args: PurgeArgs) -> ExitCode {
    let cfg = match office(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if !args.db.exists() {
        eprintln!("kolejka purge: no database at {}", args.db.display());
        return ExitCode::FAILURE;
    }
    // Open through the store first: it applies any migration this version brings.
    if let Err(e) = crate::store::Store::open(&args.db).and_then(|s| s.close()) {
        eprintln!("kolejka purge: {e}");
        return ExitCode::FAILURE;
    }
    let stats = Stats::new(&args.db, Arc::new(cfg.office), Arc::new(SystemClock));
    let retention = Retention {
        personal_days: args.personal_retention_days,
    };
    match stats.purge(retention) {
        Ok(out) => {
            println!(
                "{}: {} days summarized; priority categories deleted from {} days ({} tickets, \
                 {} events); other personal data: none stored (kept {} days)",
                args.db.display(),
                out.summarized.len(),
                out.purged.len(),
                out.tickets_cleared,
                out.events_scrubbed,
                retention.personal_days
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kolejka purge: {e}");
            ExitCode::FAILURE
        }
    }
}
