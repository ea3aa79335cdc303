//! What a desktop runs: the services (or why they could not start) plus the session.

use crate::error::gateway_error;
use crate::gateway::{BankGateway, CarrierGateway, HttpBankGateway, HttpCarrierGateway, HttpConfig};
use crate::recycle::Workflow;
use crate::seed;
use crate::services::{Services, Session};
use crate::simulator::Simulator;
use crate::vault::PiiVault;
use chrono::{DateTime, Utc};
use domain::api::GatewayService;
use domain::auth::LoginPolicy;
use domain::{ApiError, Request, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the carrier and bank gateways point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewaySetup {
    /// Start the local simulator (over HTTP on 127.0.0.1) and use the HTTP clients
    /// against it, whatever the database (tests, `--simulate-gateways`).
    Simulator,
    /// The simulator if the database turns out to be a demo database; otherwise
    /// refuse to start (`ApiError::GatewaysMissing`).
    SimulatorForDemo,
    /// No gateways: the command line's statement import and reconciliation,
    /// which call neither carrier nor bank.
    Offline,
    /// Real endpoints.
    Http {
        /// Carrier gateway.
        carrier: HttpConfig,
        /// Bank gateway.
        bank: HttpConfig,
    },
}

/// How a desktop's backend starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOptions {
    /// Seed this many demo users into an empty database.
    pub demo_users: Option<usize>,
    /// Gateways.
    pub gateways: GatewaySetup,
    /// Where evidence packs are written.
    pub evidence_dir: PathBuf,
}

/// The default embedded database in `data_dir`.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite:{}", data_dir.join("ops-console.db").display())
}

/// One desktop's backend: services over the opened database, or the reason the
/// database could not be opened (shown on screen instead of a blank window).
pub struct Host {
    services: Result<Services, ApiError>,
    session: Session,
}

impl Host {
    /// Opens `database_url`, migrating it, starts the gateways, and seeds demo
    /// users into an empty database when asked. Never fails: a failure is kept and
    /// reported by `Status`.
    pub async fn open(database_url: &str, vault: PiiVault, options: HostOptions, now: DateTime<Utc>) -> Self {
        let services = Self::start(database_url, vault, &options, now).await;
        if let Err(e) = &services {
            tracing::error!(url = %store::redact_url(database_url), error = %e, "database could not be opened");
        }
        Self { services, session: Session::default() }
    }

    /// Opens the store, checks the key, seeds a demo database when asked, retires
    /// demo operators anywhere else, then starts the gateways — the simulator only
    /// once the database is known to be a demo (or when forced for tests).
    async fn start(
        database_url: &str,
        vault: PiiVault,
        options: &HostOptions,
        now: DateTime<Utc>,
    ) -> Result<Services, ApiError> {
        let store = store::open(database_url).await.map_err(crate::error::store_error)?;
        check_pii_key(store.as_ref(), &vault, now).await?;
        fill_last4_hashes(store.as_ref(), &vault).await?;
        let services = Services::new(store.clone(), vault.clone(), LoginPolicy::default());
        let demo = match options.demo_users {
            Some(users) => seed::seed_demo_if_empty(&services, users, now).await?,
            None => seed::is_demo(&services).await?,
        };
        if !demo {
            seed::retire_demo_operators(&services, now).await?;
        }
        if demo && options.demo_users.is_some() {
            // Next to the evidence folder: the statements a person can import by hand.
            let dir = options.evidence_dir.with_file_name("demo-statements");
            services.recon().seed_demo(seed::demo_anchor(), &dir).await?;
        }
        let (carrier, bank) = match &options.gateways {
            GatewaySetup::Offline => {
                return Ok(services.with_workflow(Workflow::new(None, None, options.evidence_dir.clone())));
            }
            GatewaySetup::Http { carrier, bank } => (carrier.clone(), bank.clone()),
            GatewaySetup::SimulatorForDemo if !demo => return Err(ApiError::GatewaysMissing),
            GatewaySetup::Simulator | GatewaySetup::SimulatorForDemo => {
                // Even the simulator wants a key, as the real gateways do: a fresh
                // one per start, known only to this process.
                let mut key = [0u8; 16];
                getrandom_fill(&mut key);
                let key = hex::encode(key);
                let sim = Simulator::with_api_key(store, vault, key.clone());
                // The simulated bank holds what the ledger booked plus the demo's
                // notices not fetched yet.
                for (number, booked_minor, pending) in services.vam().demo_bank().await? {
                    sim.open_bank_account(&number, booked_minor);
                    for notice in pending {
                        sim.bank_credit(&number, notice);
                    }
                }
                let addr = sim.serve(0).await.map_err(|e| ApiError::Unavailable {
                    message: format!("carrier/bank simulator could not start: {e}"),
                })?;
                tracing::info!(%addr, "carrier and bank simulator listening");
                let endpoint = format!("http://{addr}");
                let config = HttpConfig::new(endpoint).with_api_key(key);
                (config.clone(), config)
            }
        };
        let carrier: Arc<dyn CarrierGateway> = HttpCarrierGateway::new(carrier)
            .map_err(|e| ApiError::from(gateway_error(GatewayService::Carrier, e)))?;
        // The lease of a return in flight outlasts the client's own retries.
        let bank_config = bank.clone();
        let bank: Arc<dyn BankGateway> =
            HttpBankGateway::new(bank).map_err(|e| ApiError::from(gateway_error(GatewayService::Bank, e)))?;
        // Returns to payers leave through the bank after their resolution commits
        // (and any left pending by an earlier run go on the first pass).
        Arc::new(
            crate::recon::returns::ReturnDispatcher::new(services.store().clone(), bank.clone())
                .with_client_limits(&bank_config),
        )
        .spawn(std::time::Duration::from_secs(60), chrono::Utc::now);
        Ok(services.with_workflow(Workflow::new(Some(carrier), Some(bank), options.evidence_dir.clone())))
    }

    /// A host that could not start (e.g. an unreadable PII key): every request but
    /// `Status` answers `Unavailable`, and `Status` carries `error`.
    pub fn failed(error: ApiError) -> Self {
        tracing::error!(error = %error, "backend could not start");
        Self { services: Err(error), session: Session::default() }
    }

    /// The services, if the database opened.
    pub fn services(&self) -> Result<&Services, &ApiError> {
        self.services.as_ref()
    }

    /// Handles a request for this desktop's session.
    /// `&self`: requests of one desktop run side by side (a slow gateway call does
    /// not hold up the others); the session serialises only its own state.
    pub async fn handle(&self, req: Request, now: DateTime<Utc>) -> Result<Response, ApiError> {
        match &self.services {
            Ok(services) => services.handle(&self.session, req, now).await,
            Err(e) if req == Request::Status => Ok(Response::Status {
                demo: false,
                database: None,
                startup_error: Some(e.clone()),
                operator: None,
            }),
            Err(e) => Err(ApiError::Unavailable { message: e.to_string() }),
        }
    }
}

/// Settings key of the PII key's check value.
const KEY_CHECK: &str = "pii.key_check";

/// Every desktop of one database must seal and hash PII with the same key: a
/// different key would silently break the same-person check and split attempt
/// budgets. The database keeps a check value (a keyed hash of a constant, which
/// tells nothing about the key); a desktop with another key refuses to start.
async fn check_pii_key(
    store: &dyn store::Store,
    vault: &PiiVault,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let check = vault.keyed_hash("ops-console pii key check v1");
    match store.setting(KEY_CHECK).await.map_err(crate::error::store_error)? {
        Some(stored) if stored == check => Ok(()),
        Some(_) => Err(ApiError::PiiKeyMismatch),
        // A database with sealed data but no check value yet (made before there was
        // one): the first desktop records its key only if that key opens the data.
        None if store
            .sealed_id_sample()
            .await
            .map_err(crate::error::store_error)?
            .is_some_and(|sealed| vault.open(&sealed).is_err()) =>
        {
            Err(ApiError::PiiKeyMismatch)
        }
        None => {
            let audit = store::NewAudit::new(
                now,
                domain::audit::SYSTEM_ACTOR,
                "pii.key_check_set",
                "database",
                serde_json::json!({}),
            );
            store.swap_setting(KEY_CHECK, None, &check, audit).await.map_err(crate::error::store_error)
        }
    }
}

/// Rows written before the last-four hash existed get it from their sealed ID
/// number (only a desktop holds the key). Runs once per database in practice: later
/// starts find nothing to do.
async fn fill_last4_hashes(store: &dyn store::Store, vault: &PiiVault) -> Result<(), ApiError> {
    const BATCH: u32 = 5_000;
    loop {
        let rows = store.customers_without_last4_hash(BATCH).await.map_err(crate::error::store_error)?;
        let hashes: Vec<(uuid::Uuid, String)> = rows
            .iter()
            .filter_map(|(id, sealed)| Some((*id, vault.id_number_last4_hash(&vault.open(sealed).ok()?))))
            .collect();
        // Every row of the batch must be hashable, or the loop would never end; the
        // key check before this makes an unopenable row a damaged one.
        if hashes.len() < rows.len() {
            return Err(ApiError::PiiKeyMismatch);
        }
        if hashes.is_empty() {
            return Ok(());
        }
        store.set_last4_hashes(&hashes).await.map_err(crate::error::store_error)?;
    }
}

/// Loads the PII key: `OPS_CONSOLE_PII_KEY` (64 hex digits) if set, which shared
/// PostgreSQL deployments must use on every desktop, else `data_dir/pii.key`,
/// created with a fresh random key on first run.
pub fn load_or_create_vault(data_dir: &Path) -> Result<PiiVault, String> {
    if let Ok(hex_key) = std::env::var("OPS_CONSOLE_PII_KEY") {
        return PiiVault::from_hex(&hex_key)
            .ok_or_else(|| "OPS_CONSOLE_PII_KEY must be 64 hex digits".to_owned());
    }
    let path = data_dir.join("pii.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            PiiVault::from_hex(&text).ok_or_else(|| format!("{} must hold 64 hex digits", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom_fill(&mut key);
            std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
            write_private(&path, &hex::encode(key)).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(PiiVault::new(&key))
        }
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn getrandom_fill(buf: &mut [u8]) {
    use aes_gcm::aead::rand_core::RngCore;
    aes_gcm::aead::OsRng.fill_bytes(buf);
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
