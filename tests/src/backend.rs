//! The UI's backend for native runs: calls the services directly, in process.

use chrono::{DateTime, Utc};
use domain::{ApiError, Request};
use service::{GatewaySetup, Host, HostOptions, PiiVault};
use ui::backend::{Backend, Reply};

/// Calls the services directly, on its own Tokio runtime. Used by tests (which
/// drive the real UI against real databases) and by the bench's UI frames.
pub struct InProcessBackend {
    runtime: tokio::runtime::Runtime,
    host: Host,
    clock: Box<dyn Fn() -> DateTime<Utc>>,
    replies: Vec<(u64, Reply)>,
}

impl InProcessBackend {
    /// Opens `database_url`, seeding `demo_users` demo users into an empty database;
    /// the gateways are the local simulator, evidence goes to a temporary folder.
    pub fn open(database_url: &str, vault: PiiVault, demo_users: Option<usize>) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let options = HostOptions {
            demo_users,
            gateways: GatewaySetup::Simulator,
            evidence_dir: std::env::temp_dir().join("ops-console-evidence"),
        };
        let host = runtime.block_on(Host::open(database_url, vault, options, Utc::now()));
        Ok(Self { runtime, host, clock: Box::new(Utc::now), replies: Vec::new() })
    }

    /// Replaces the clock (tests use it to step past the idle timeout).
    pub fn set_clock(&mut self, clock: impl Fn() -> DateTime<Utc> + 'static) {
        self.clock = Box::new(clock);
    }

    /// The host, for assertions on what the services stored.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// Runs a future on the backend's runtime (tests read the database with it).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }
}

/// Passes a value through JSON, as Tauri IPC does, so native tests catch
/// anything that would not survive the real wire.
fn over_the_wire<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> Result<T, ApiError> {
    let wire_error = |e: serde_json::Error| ApiError::Unavailable { message: format!("IPC encoding: {e}") };
    serde_json::from_str(&serde_json::to_string(value).map_err(wire_error)?).map_err(wire_error)
}

impl Backend for InProcessBackend {
    fn send(&mut self, id: u64, request: Request) {
        let now = (self.clock)();
        let reply = over_the_wire(&request)
            .and_then(|request| self.runtime.block_on(self.host.handle(request, now)))
            .and_then(|response| over_the_wire(&response));
        self.replies.push((id, reply));
    }

    fn poll(&mut self) -> Vec<(u64, Reply)> {
        std::mem::take(&mut self.replies)
    }
}
