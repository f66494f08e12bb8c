//! Wiring: opens the database, restores the day, starts the writer and the HTTP server. The
//! binary and the integration tests start the service the same way, through `start`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::{AuthService, AuthSettings};
use crate::clock::Clock;
use crate::engine::Office;
use crate::server::{self, AppState};
use crate::store::{Queue, Store};

/// What the service needs to start.
pub struct Options {
    pub office: Office,
    pub db: PathBuf,
    pub listen: SocketAddr,
    pub clock: Arc<dyn Clock>,
    /// Sign-in and device settings (the office file's `[devices]` section).
    pub auth: AuthSettings,
}

/// A running service.
pub struct App {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    /// Summarizes closed days and applies retention every night (`crate::stats::nightly`).
    nightly: JoinHandle<()>,
}

/// Opens the database, restores the day, binds the listener and starts serving, with the
/// printing of the default setup (one virtual printer). Everything is validated and restored
/// before the port opens.
pub async fn start(opts: Options) -> Result<App, String> {
    start_with_printing(opts, crate::print::PrintSetup::default()).await
}

/// `start`, with the printers of the office file (`[[printers]]`, `[printing]`): a virtual
/// printer saves its tickets under `<database folder>/prints/<printer name>/`.
pub async fn start_with_printing(
    opts: Options,
    printing: crate::print::PrintSetup,
) -> Result<App, String> {
    let office = Arc::new(opts.office);
    let db = opts.db.clone();
    let clock = opts.clock.clone();
    let office_for_queue = office.clone();
    let queue = tokio::task::spawn_blocking(move || {
        let store = Store::open(&db)
            .map_err(|e| format!("cannot open the database {}: {e}", db.display()))?;
        Queue::start(store, office_for_queue, clock)
            .map_err(|e| format!("cannot restore the day from {}: {e}", db.display()))
    })
    .await
    .map_err(|e| format!("the start-up task failed: {e}"))??;
    // After the store has migrated the database. On first start this creates the user
    // `admin` and logs its generated password once (also written beside the database).
    let auth = AuthService::open(&opts.db, opts.auth, opts.clock.clone())
        .await
        .map_err(|e| format!("cannot open the users in {}: {e}", opts.db.display()))?;
    let hall = crate::hall::Hall::open(&opts.db, opts.clock.clone())
        .await
        .map_err(|e| {
            format!(
                "cannot open the hall messages in {}: {e}",
                opts.db.display()
            )
        })?;
    let audit = crate::audit::Audit::open(&opts.db, opts.clock.clone())
        .await
        .map_err(|e| format!("cannot open the audit log in {}: {e}", opts.db.display()))?;
    let printing =
        server::kiosk::Printing::start(printing, &opts.db, opts.clock.now().as_millisecond())
            .await?;
    let retention = crate::stats::Retention::from_env()?;
    let stats = crate::stats::Stats::new(&opts.db, office.clone(), opts.clock.clone());
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let state = AppState {
        queue,
        office,
        clock: opts.clock,
        auth,
        hall,
        audit,
        idempotency: Default::default(),
        printing,
        stats,
    };
    let nightly = tokio::spawn(crate::stats::nightly(state.stats.clone(), retention));
    let (stop, stopped) = oneshot::channel::<()>();
    // Upgraded websockets outlive the HTTP server's graceful shutdown: tell them to close.
    let hall = state.hall.clone();
    let server = tokio::spawn(server::run(listener, state.clone(), async move {
        let _ = stopped.await;
        hall.shutdown();
    }));
    Ok(App {
        addr,
        state,
        stop: Some(stop),
        server,
        nightly,
    })
}

impl App {
    /// Stops gracefully: no new connections, requests in flight finish, queued writes are
    /// committed, the database is closed.
    pub async fn stop(mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.nightly.abort();
        self.state.stats.release();
        let served = (&mut self.server)
            .await
            .map_err(|e| format!("the server task failed: {e}"))?;
        let queue = self.state.queue.clone();
        tokio::task::spawn_blocking(move || queue.shutdown())
            .await
            .map_err(|e| format!("the shutdown task failed: {e}"))?
            .map_err(|e| format!("closing the database: {e}"))?;
        served.map_err(|e| format!("server error: {e}"))
    }
}
