//! The limits the kiosk burst is measured against, in the same run and the same folder as
//! the server's database: how many fsyncs the disk does a second, and how many tickets the
//! real storage code commits a second when every ticket is its own transaction (what the
//! service would do without group commit).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kolejka::clock::SystemClock;
use kolejka::engine::{Actor, CaseTypeCode, Command, Lang};
use kolejka::store::{Queue, Store};

use super::stats::{Rate, Samples};

/// Appends 4 KiB and fsyncs, again and again, for `time`, in a scratch file in `dir`: what a
/// WAL commit costs the disk at least.
pub fn fsync_rate(dir: &Path, time: Duration) -> Result<(Rate, Samples), String> {
    let path = dir.join("fsync-probe.bin");
    let mut file = std::fs::File::create(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let block = [0x5a_u8; 4096];
    let mut samples = Samples::default();
    let start = Instant::now();
    let mut ops = 0;
    while start.elapsed() < time {
        let t = Instant::now();
        file.write_all(&block).map_err(|e| format!("write: {e}"))?;
        file.sync_all().map_err(|e| format!("fsync: {e}"))?;
        samples.push(t.elapsed());
        ops += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok((Rate { ops, secs }, samples))
}

/// The real store and writer (`synchronous=FULL`, WAL) on a fresh database in `dir`, with one
/// ticket submitted at a time, so every ticket is its own transaction and its own fsync.
pub fn one_commit_per_ticket(dir: &Path, time: Duration) -> Result<(Rate, Samples), String> {
    let path = dir.join("one-commit-per-ticket.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = Store::open(&path).map_err(|e| e.to_string())?;
    let office = Arc::new(kolejka::config::demo().office);
    let queue = Queue::start(store, office, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
    let before = queue.stats();
    let case_type = CaseTypeCode::parse("dowody").map_err(|e| e.to_string())?;
    let mut samples = Samples::default();
    let start = Instant::now();
    let mut ops = 0;
    while start.elapsed() < time {
        let t = Instant::now();
        queue
            .submit_blocking(
                Command::IssueTicket {
                    case_type: case_type.clone(),
                    priority: None,
                    lang: Lang::Pl,
                },
                Actor::Device("bench".into()),
            )
            .map_err(|e| format!("issue: {e}"))?;
        samples.push(t.elapsed());
        ops += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let after = queue.stats();
    queue.shutdown().map_err(|e| e.to_string())?;
    if after.commits - before.commits < ops {
        return Err(format!(
            "expected one commit per ticket, got {} commits for {ops} tickets",
            after.commits - before.commits
        ));
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok((Rate { ops, secs }, samples))
}
