//! The real `kolejka` binary as a child process: started on a loopback port with a database
//! in a given folder, its address read from its log, its resident memory read from
//! `/proc/PID/status`, stopped with SIGTERM or killed with SIGKILL. A separate process, so
//! that its memory is measured without the clients'.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// A running `kolejka serve`; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// The folder holding the database (and `admin-password.txt`).
    pub dir: PathBuf,
    /// Every line the server logged so far (stderr).
    pub log: Arc<Mutex<Vec<String>>>,
    /// When the process was started.
    pub started: Instant,
    /// When it logged its address (the port is open).
    pub listening: Instant,
}

/// The `kolejka` binary: `$KOLEJKA_BIN`, or the one beside this executable (cargo puts all
/// of a package's binaries in one folder).
pub fn binary() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("KOLEJKA_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let bin = me.with_file_name("kolejka");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "no kolejka binary at {}; build it (cargo build --release --bin kolejka) or set KOLEJKA_BIN",
            bin.display()
        ))
    }
}

impl Server {
    /// Starts `bin serve` on 127.0.0.1 (a free port) with the database `dir/kolejka.db` and
    /// waits until it logs its address.
    pub fn start(bin: &Path, dir: &Path) -> Result<Server, String> {
        Self::start_with(bin, dir, None)
    }

    /// `start` with an office file instead of the built-in demo office.
    pub fn start_with(bin: &Path, dir: &Path, config: Option<&Path>) -> Result<Server, String> {
        let started = Instant::now();
        let mut command = Command::new(bin);
        command.arg("serve");
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        let mut child = command
            .arg("--db")
            .arg(dir.join("kolejka.db"))
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let addr = addr
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send((addr, Instant::now()));
                    }
                }
                if let Ok(mut l) = lines.lock() {
                    l.push(line);
                }
            }
        });
        let (addr, listening) = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(found) => found,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = log.lock().map(|l| l.join("\n")).unwrap_or_default();
                return Err(format!("kolejka did not announce its address:\n{log}"));
            }
        };
        let addr = addr
            .parse()
            .map_err(|e| format!("bad address {addr:?} in the log: {e}"))?;
        Ok(Server {
            child,
            addr,
            dir: dir.to_owned(),
            log,
            started,
            listening,
        })
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory (VmRSS) in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.child.id())
    }

    /// The first-start admin's password, from the file beside the database.
    pub fn admin_password(&self) -> Result<String, String> {
        let path = self.dir.join("admin-password.txt");
        std::fs::read_to_string(&path)
            .map(|s| s.trim().to_owned())
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    }

    /// Log lines that tell of a panic.
    pub fn panics(&self) -> Vec<String> {
        self.log
            .lock()
            .map(|l| {
                l.iter()
                    .filter(|l| l.contains("panicked"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit; true if it exited with success in time.
    pub fn stop(&mut self, within: Duration) -> bool {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !sent {
            self.kill();
            return false;
        }
        let deadline = Instant::now() + within;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => {
                    self.kill();
                    return false;
                }
            }
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    /// A failed run must not leave a server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory (VmRSS) of a process in KiB, from `/proc/PID/status` (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The file system type of the mount holding `path` (from `/proc/mounts`), e.g. `ext4`.
pub fn fs_type(path: &Path) -> String {
    let Ok(path) = path.canonicalize() else {
        return "unknown".into();
    };
    let Ok(mounts) = std::fs::read_to_string("/proc/mounts") else {
        return "unknown".into();
    };
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_dev, mount, kind) = (f.next()?, f.next()?, f.next()?);
            path.starts_with(mount)
                .then(|| (mount.len(), kind.to_owned()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, kind)| kind)
        .unwrap_or_else(|| "unknown".into())
}
