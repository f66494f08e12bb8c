//! The runner: each phase starts its own server on a fresh database in one data folder,
//! measures, and prints its figures beside the limits measured in the same run. The report is
//! Markdown, ready for docs/BENCHMARKS.md.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use futures_util::future::join_all;
use tokio::sync::watch;

use super::client::{self, LoopReport, User};
use super::server::{self, Server};
use super::stats::{Rate, Samples};
use super::{baseline, data};

#[derive(Parser, Debug)]
#[command(
    name = "kolejka-bench",
    about = "Benchmarks the kolejka server on this machine (loopback only); see docs/BENCHMARKS.md"
)]
pub struct Args {
    /// Folder for the databases (one sub-folder per phase). The fsync and SQLite baselines
    /// are measured here too, so put it on the disk the service will use.
    #[arg(long, default_value = "target/bench-data")]
    pub data_dir: PathBuf,
    /// The phases to run.
    #[arg(long, value_delimiter = ',', default_value = "burst,screens,restart")]
    pub only: Vec<Phase>,
    /// Kiosks issuing at once in the burst.
    #[arg(long, default_value_t = 32)]
    pub kiosks: usize,
    /// Length of the kiosk burst and of the /healthz run, in seconds.
    #[arg(long, default_value_t = 10)]
    pub burst_secs: u64,
    /// Length of each baseline (fsync, one commit per ticket), in seconds.
    #[arg(long, default_value_t = 3)]
    pub baseline_secs: u64,
    /// Hall screens connected while the clerks call.
    #[arg(long, default_value_t = 1000)]
    pub screens: usize,
    /// Hall screens for the second memory figure.
    #[arg(long, default_value_t = 5000)]
    pub more_screens: usize,
    /// Calls a second, spread over the eight counters of the demo office.
    #[arg(long, default_value_t = 4.0)]
    pub calls_per_sec: f64,
    /// How long the clerks call, in seconds.
    #[arg(long, default_value_t = 20)]
    pub call_secs: u64,
    /// Tickets on the busy day (today, in both restart databases).
    #[arg(long, default_value_t = 1500)]
    pub busy_day: usize,
    /// Working days before today in the full-year database.
    #[arg(long, default_value_t = 250)]
    pub year_days: usize,
    /// Tickets on each of those days.
    #[arg(long, default_value_t = 800)]
    pub per_day: usize,
    /// Restarts measured per database.
    #[arg(long, default_value_t = 5)]
    pub restarts: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Phase {
    Burst,
    Screens,
    Restart,
}

pub fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kolejka-bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kolejka-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints progress on stderr (the report goes to stdout).
fn note(msg: impl std::fmt::Display) {
    eprintln!("kolejka-bench: {msg}");
}

async fn run(args: Args) -> Result<String, String> {
    let bin = server::binary()?;
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", args.data_dir.display()))?;
    let mut out = String::new();
    let _ = writeln!(out, "{}", machine(&args.data_dir, &bin));
    if args.only.contains(&Phase::Burst) {
        let _ = writeln!(out, "{}", burst(&args, &bin).await?);
    }
    if args.only.contains(&Phase::Screens) {
        let _ = writeln!(out, "{}", screens(&args, &bin).await?);
    }
    if args.only.contains(&Phase::Restart) {
        let _ = writeln!(out, "{}", restart(&args, &bin).await?);
    }
    Ok(out)
}

/// The machine facts printed at the top of the report.
fn machine(dir: &Path, bin: &Path) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0)
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "## Machine\n\n\
         | fact | value |\n|---|---|\n\
         | cores (nproc) | {cores} |\n| CPU | {cpu} |\n| memory | {memory} |\n\
         | kernel | {kernel} |\n| data folder | `{}` ({}) |\n| server binary | `{}` |\n\
         | clients | this process, on the same cores as the server |\n",
        dir.display(),
        server::fs_type(dir),
        bin.display()
    )
}

/// A fresh folder for a phase's database.
fn fresh(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let path = dir.join(name);
    if path.exists() {
        std::fs::remove_dir_all(&path)
            .map_err(|e| format!("cannot clear {}: {e}", path.display()))?;
    }
    std::fs::create_dir_all(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    Ok(path)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "**not met**" }
}

async fn admin(server: &Server) -> Result<User, String> {
    User::login(&server.base(), "admin", &server.admin_password()?).await
}

// ------------------------------------------------------------------ kiosk burst

async fn burst(args: &Args, bin: &Path) -> Result<String, String> {
    let dir = fresh(&args.data_dir, "burst")?;
    let time = Duration::from_secs(args.burst_secs);
    let baseline_time = Duration::from_secs(args.baseline_secs);

    note("burst: fsync baseline");
    let (fsync, fsync_lat) =
        tokio::task::block_in_place(|| baseline::fsync_rate(&dir, baseline_time))?;
    note("burst: one commit per ticket baseline");
    let (one_commit, one_lat) =
        tokio::task::block_in_place(|| baseline::one_commit_per_ticket(&dir, baseline_time))?;

    // Each kiosk prints on its own network printer (a fake one, answering at once), as in an
    // office; the demo's single virtual printer would measure PNG rendering instead.
    let (printer, printed) = super::printer::start().await?;
    let config = dir.join("office.toml");
    std::fs::write(
        &config,
        super::printer::office_with_printers(args.kiosks, printer),
    )
    .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let server = Server::start_with(bin, &dir, Some(&config))?;
    let base = server.base();
    note(format!("burst: pairing {} kiosks", args.kiosks));
    let tokens = client::pair_many(&base, "kiosk", args.kiosks).await?;

    // Warm up connections and caches for a second; not counted.
    let warm_until = Instant::now() + Duration::from_secs(1);
    join_all(
        tokens
            .iter()
            .enumerate()
            .map(|(i, t)| client::kiosk(base.clone(), t.clone(), i, warm_until)),
    )
    .await;

    note(format!(
        "burst: {} kiosks for {} s",
        args.kiosks, args.burst_secs
    ));
    let started = Instant::now();
    let until = started + time;
    let reports = join_all(
        tokens
            .iter()
            .enumerate()
            .map(|(i, t)| tokio::spawn(client::kiosk(base.clone(), t.clone(), 1000 + i, until))),
    )
    .await;
    let secs = started.elapsed().as_secs_f64();
    let mut kiosks = LoopReport::default();
    for r in reports {
        kiosks.merge(r.map_err(|e| e.to_string())?);
    }
    if kiosks.cut_off {
        return Err("the server went away during the burst".into());
    }
    let issued = Rate {
        ops: kiosks.acks.len() as u64,
        secs,
    };

    note(format!(
        "burst: /healthz with {} clients for {} s",
        args.kiosks, args.burst_secs
    ));
    let started = Instant::now();
    let until = started + time;
    let reports =
        join_all((0..args.kiosks).map(|_| tokio::spawn(client::healthz(base.clone(), until))))
            .await;
    let secs = started.elapsed().as_secs_f64();
    let mut health = LoopReport::default();
    for r in reports {
        health.merge(r.map_err(|e| e.to_string())?);
    }
    let healthz = Rate {
        ops: health.latency.len() as u64,
        secs,
    };
    let mut server = server;
    let panics = server.panics();
    server.stop(Duration::from_secs(30));
    let printed_bytes = printed.load(std::sync::atomic::Ordering::Relaxed);
    let not_printed = kiosks.acks.len().saturating_sub(kiosks.printed);

    let half_health = issued.per_sec() >= 0.5 * healthz.per_sec();
    let five_commits = issued.per_sec() >= 5.0 * one_commit.per_sec();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Kiosk burst\n\n\
         {} kiosks (one device token, one keep-alive connection and one network printer each) \
         issue tickets one after another for {} s against the real server, \
         `synchronous=FULL`, WAL. The printers are a fake ESC/POS printer on loopback that \
         takes the bytes and answers status requests at once ({:.1} MiB received; {} tickets \
         not reported printed).\n\n\
         | figure | value | limit beside it (same run, same folder) | target | |\n|---|---|---|---|---|\n\
         | tickets issued | **{:.0}/s** ({} tickets) | `/healthz` with {} clients: {:.0}/s | ≥ half: {:.0}/s | {} |\n\
         | | | one commit per ticket (real store, one at a time): {:.0}/s | ≥ 5×: {:.0}/s | {} |\n\
         | | | disk: 4 KiB append + fsync: {:.0}/s | | |\n\
         | issue latency | {} | `/healthz` latency: {} | | |\n\
         | one-commit latency | {} | fsync latency: {} | | |\n",
        args.kiosks,
        args.burst_secs,
        printed_bytes as f64 / 1024.0 / 1024.0,
        not_printed,
        issued.per_sec(),
        issued.ops,
        args.kiosks,
        healthz.per_sec(),
        0.5 * healthz.per_sec(),
        verdict(half_health),
        one_commit.per_sec(),
        5.0 * one_commit.per_sec(),
        verdict(five_commits),
        fsync.per_sec(),
        kiosks.latency.summary(),
        health.latency.summary(),
        one_lat.summary(),
        fsync_lat.summary(),
    );
    if !kiosks.refused.is_empty() || !health.refused.is_empty() {
        let _ = writeln!(
            out,
            "Refused answers: kiosks {:?}, /healthz {:?}.\n",
            kiosks.refused, health.refused
        );
    }
    if !panics.is_empty() {
        let _ = writeln!(out, "**The server panicked:** {panics:?}\n");
    }
    Ok(out)
}

// ------------------------------------------------------------------ screens and memory

async fn screens(args: &Args, bin: &Path) -> Result<String, String> {
    let dir = fresh(&args.data_dir, "screens")?;
    let server = Server::start(bin, &dir)?;
    let base = server.base();
    let admin = admin(&server).await?;
    let mut clerks = Vec::new();
    for counter in 1..=8 {
        clerks.push((
            counter,
            admin.clerk_at(&format!("clerk{counter}"), counter).await?,
        ));
    }
    let screen_token = client::pair(&base, "screen", std::net::Ipv4Addr::new(127, 0, 0, 2)).await?;
    let kiosk_token = client::pair(&base, "kiosk", std::net::Ipv4Addr::new(127, 0, 0, 2)).await?;

    // Enough waiting tickets of every case type for every counter's calls.
    let calls = (args.calls_per_sec * args.call_secs as f64).ceil() as usize;
    let per_type = (calls / 3 + 20).min(90);
    note(format!("screens: issuing {} tickets", per_type * 7));
    let http = client::http_client();
    for n in 0..per_type {
        for ct in [
            "dowody",
            "meldunki",
            "pojazdy",
            "prawa-jazdy",
            "usc",
            "podatki",
            "dzialalnosc",
        ] {
            let resp = http
                .post(format!("{base}/api/v1/tickets"))
                .bearer_auth(&kiosk_token)
                .json(&serde_json::json!({"case_type": ct, "lang": "pl"}))
                .send()
                .await
                .map_err(|e| format!("issue: {e}"))?;
            if resp.status() != reqwest::StatusCode::CREATED {
                return Err(format!("issue {ct} #{n}: {}", resp.status()));
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = server.rss_kib().unwrap_or(0);

    note(format!("screens: connecting {} hall screens", args.screens));
    let sockets = client::screens(&server.ws_url(), &screen_token, args.screens, 32).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_first = server.rss_kib().unwrap_or(0);

    note(format!(
        "screens: {} calls a second for {} s with {} screens",
        args.calls_per_sec, args.call_secs, args.screens
    ));
    let (stop, stopped) = watch::channel(false);
    let watchers: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(client::watch_screen(ws, stopped.clone())))
        .collect();
    let mut probe = client::screen(&server.ws_url(), &screen_token).await?;
    let period = Duration::from_secs_f64(clerks.len() as f64 / args.calls_per_sec);
    let started = Instant::now();
    let until = started + Duration::from_secs(args.call_secs);
    let n_clerks = clerks.len() as u32;
    let clerk_tasks: Vec<_> = clerks
        .iter()
        .enumerate()
        .map(|(i, (counter, user))| {
            let offset = period * i as u32 / n_clerks;
            tokio::spawn(client::clerk(user.clone(), *counter, period, offset, until))
        })
        .collect();
    // Round trips on the same machine, while the calls go on.
    let pings = (args.call_secs as usize * 10).max(20);
    let rtt = client::ping_rtt(&mut probe, pings, Duration::from_millis(90)).await?;
    let mut calls_report = LoopReport::default();
    for t in clerk_tasks {
        calls_report.merge(t.await.map_err(|e| e.to_string())?);
    }
    // Let the last calls arrive, then stop the screens.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop.send(true);
    let mut kept = Vec::new();
    let mut logs = Vec::new();
    for w in watchers {
        let (ws, log) = w.await.map_err(|e| e.to_string())?;
        kept.extend(ws);
        logs.push(log);
    }
    let responses: HashMap<&str, Instant> = calls_report
        .acks
        .iter()
        .filter(|a| a.state == "called")
        .map(|a| (a.number.as_str(), a.at))
        .collect();
    let mut delay = Samples::default();
    let mut unexpected = 0;
    let mut ended = 0;
    for log in &logs {
        ended += usize::from(log.ended.is_some());
        for (number, at) in &log.calls {
            match responses.get(number.as_str()) {
                Some(resp) => {
                    let us = if *at >= *resp {
                        (*at - *resp).as_micros() as i64
                    } else {
                        -((*resp - *at).as_micros() as i64)
                    };
                    delay.push_signed_us(us);
                }
                None => unexpected += 1,
            }
        }
    }
    let expected = responses.len() * args.screens;
    let delay_sum = delay.summary();
    let rss_after_calls = server.rss_kib().unwrap_or(0);

    let more = args.more_screens.saturating_sub(kept.len());
    note(format!("screens: connecting {more} more hall screens"));
    let extra = client::screens(&server.ws_url(), &screen_token, more, 32).await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let total = kept.len() + extra.len() + 1;
    let rss_more = server.rss_kib().unwrap_or(0);
    let mut server = server;
    let panics = server.panics();
    drop(kept);
    drop(extra);
    drop(probe);
    server.stop(Duration::from_secs(30));

    let per_first = (rss_first.saturating_sub(rss_idle)) as f64 / args.screens as f64;
    let per_more = (rss_more.saturating_sub(rss_idle)) as f64 / total as f64;
    let rtt_sum = rtt.summary();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Call to screen\n\n\
         {} hall screens (websocket, `hall` channel) connected; 8 clerks call at {} calls/s in \
         all for {} s (each finishes its ticket, then calls the next). Delay: from the moment \
         the clerk's `call-next` response arrived to the moment each screen received the \
         `call` (negative: the screen had it first).\n\n\
         | figure | value | limit beside it (same run) | target | |\n|---|---|---|---|---|\n\
         | call → screen | p50 {:.2} ms, p99 **{:.2} ms**, max {:.2} ms (min {:.2} ms; {} receipts of {} expected) | websocket ping → pong on one of the screens' connections, during the calls: {} | p99 < 50 ms | {} |\n\
         | clerk's `call-next`/`finish` latency | {} | | | |\n",
        args.screens,
        args.calls_per_sec,
        args.call_secs,
        delay_sum.p50_ms,
        delay_sum.p99_ms,
        delay_sum.max_ms,
        delay_sum.min_ms,
        delay_sum.count,
        expected,
        rtt_sum,
        verdict(delay_sum.count > 0 && delay_sum.p99_ms < 50.0),
        calls_report.latency.summary(),
    );
    if unexpected > 0 || ended > 0 || !calls_report.refused.is_empty() {
        let _ = writeln!(
            out,
            "Calls with no acknowledged response: {unexpected}; screens that ended early: \
             {ended}; refused clerk requests: {:?}.\n",
            calls_report.refused
        );
    }
    let _ = writeln!(
        out,
        "## Memory\n\n\
         Server resident memory (`VmRSS` of the server process) with idle hall screens \
         connected (each had its snapshot).\n\n\
         | state | server RSS | per connection | target | |\n|---|---|---|---|---|\n\
         | idle (signed in, {} tickets waiting) | {:.1} MiB | | | |\n\
         | {} screens | {:.1} MiB | {:.1} KiB | < 16 KiB | {} |\n\
         | {} screens, after the calls | {:.1} MiB | | | |\n\
         | {} screens | {:.1} MiB | **{:.1} KiB** | < 16 KiB | {} |\n",
        per_type * 7,
        rss_idle as f64 / 1024.0,
        args.screens,
        rss_first as f64 / 1024.0,
        per_first,
        verdict(per_first < 16.0),
        args.screens,
        rss_after_calls as f64 / 1024.0,
        total,
        rss_more as f64 / 1024.0,
        per_more,
        verdict(per_more < 16.0),
    );
    if !panics.is_empty() {
        let _ = writeln!(out, "**The server panicked:** {panics:?}\n");
    }
    Ok(out)
}

// ------------------------------------------------------------------ restart

async fn restart(args: &Args, bin: &Path) -> Result<String, String> {
    let office = kolejka::config::demo().office;
    let mut rows = String::new();
    let mut all_ok = true;
    for (name, past_days) in [("busy-day", 0), ("year", args.year_days)] {
        let dir = args.data_dir.join(format!("restart-{name}"));
        let db = dir.join("kolejka.db");
        let stamp = dir.join("generated.txt");
        let wanted = format!(
            "{} past={past_days} per_day={} today={}",
            data::today(&office),
            args.per_day,
            args.busy_day
        );
        if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
            let dir = fresh(&args.data_dir, &format!("restart-{name}"))?;
            note(format!(
                "restart: generating {name} ({past_days} working days of {} tickets, today {})",
                args.per_day, args.busy_day
            ));
            let g =
                data::generate(&db, office.clone(), past_days, args.per_day, args.busy_day).await?;
            note(format!("restart: {name}: {g:?}"));
            // First start: creates the admin (an argon2 hash) and takes the database as its
            // own; not measured.
            let mut first = Server::start(bin, &dir)?;
            if !first.stop(Duration::from_secs(60)) {
                return Err(format!("the first start on {name} did not stop cleanly"));
            }
            std::fs::write(&stamp, &wanted).map_err(|e| e.to_string())?;
        }
        let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
        let (events, today_tickets) = count(&db)?;
        let mut times = Samples::default();
        let mut listening = Samples::default();
        for _ in 0..args.restarts {
            let mut server = Server::start(bin, &dir)?;
            let http = client::http_client();
            loop {
                let ok = http
                    .get(format!("{}/healthz", server.base()))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    break;
                }
                if server.started.elapsed() > Duration::from_secs(30) {
                    return Err(format!("{name}: not serving 30 s after start"));
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            times.push(server.started.elapsed());
            listening.push(server.listening - server.started);
            if !server.stop(Duration::from_secs(30)) {
                return Err(format!("{name}: the server did not stop cleanly"));
            }
        }
        let s = times.summary();
        all_ok &= s.max_ms < 1000.0;
        let _ = writeln!(
            rows,
            "| {name} | {:.0} MiB, {events} events, {today_tickets} tickets today | median {:.0} ms, max **{:.0} ms** (port open after median {:.0} ms) | < 1 s | {} |",
            size as f64 / 1024.0 / 1024.0,
            s.p50_ms,
            s.max_ms,
            listening.summary().p50_ms,
            verdict(s.max_ms < 1000.0),
        );
    }
    let _ = all_ok;
    Ok(format!(
        "## Restart\n\n\
         Time from starting the process (`kolejka serve`, SIGTERM-stopped before) to its first \
         `200` on `/healthz`, {} times per database; the files are in the page cache (a \
         restart, not a cold boot). Both databases hold today's busy day of {} tickets; the \
         year adds {} working days of {} tickets before it.\n\n\
         | database | size | start → serving | target | |\n|---|---|---|---|---|\n{rows}",
        args.restarts, args.busy_day, args.year_days, args.per_day
    ))
}

/// Events in the log and tickets of today's day in a database (read-only).
fn count(db: &Path) -> Result<(i64, i64), String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| e.to_string())?;
    let events = conn
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let today = conn
        .query_row(
            "SELECT COUNT(*) FROM tickets WHERE day = (SELECT MAX(day) FROM tickets)",
            [],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    Ok((events, today))
}
