//! The ops console desktop app: a Tauri v2 window whose page is the egui UI
//! compiled to wasm. Commands are thin: deserialise, hand to the services, map
//! the error. The session lives here, not in the page.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use chrono::Utc;
use domain::{ApiError, Request, Response};
use service::gateway::HttpConfig;
use service::{GatewaySetup, Host, HostOptions, default_database_url, load_or_create_vault};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tracing_subscriber::fmt::writer::MakeWriterExt;

/// Command-line options (kept dependency-free: there are only a few).
struct Options {
    database_url: Option<String>,
    data_dir: PathBuf,
    /// Demo users to seed into an empty database: only the local default database
    /// is a demo (`None` with `--no-demo` or a database URL).
    demo_users: Option<usize>,
    /// Serve the carrier and bank from the local simulator although this is not a
    /// demo database (testing only).
    simulate_gateways: bool,
    ready_file: Option<PathBuf>,
}

fn usage() -> &'static str {
    "usage: ops-console [--database-url sqlite:PATH|postgres://…] [--data-dir DIR] [--no-demo | --scale USERS] [--simulate-gateways] [--ready-file FILE]\n\
     env: OPS_CONSOLE_DATABASE_URL, OPS_CONSOLE_DATA_DIR, OPS_CONSOLE_PII_KEY"
}

fn parse_options() -> Result<Options, String> {
    let mut opts = Options {
        database_url: std::env::var("OPS_CONSOLE_DATABASE_URL").ok().filter(|s| !s.is_empty()),
        data_dir: std::env::var_os("OPS_CONSOLE_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(default_data_dir),
        demo_users: Some(service::seed::DEMO_USERS),
        simulate_gateways: false,
        ready_file: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value\n{}", usage()));
        match arg.as_str() {
            "--database-url" => opts.database_url = Some(value()?),
            "--data-dir" => opts.data_dir = PathBuf::from(value()?),
            "--ready-file" => opts.ready_file = Some(PathBuf::from(value()?)),
            "--no-demo" => opts.demo_users = None,
            "--simulate-gateways" => opts.simulate_gateways = true,
            "--scale" => {
                let users = value()?.parse().map_err(|e| format!("--scale takes a number of users: {e}"))?;
                opts.demo_users = Some(users);
            }
            "--help" | "-h" => return Err(usage().to_owned()),
            other => return Err(format!("unknown option {other}\n{}", usage())),
        }
    }
    // A database named by URL is never a demo: no demo operators or customers.
    if opts.database_url.is_some() {
        opts.demo_users = None;
    }
    Ok(opts)
}

/// `$XDG_DATA_HOME/ops-console`, else `~/.local/share/ops-console`.
fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("ops-console")
}

struct AppState {
    host: Host,
    started: Instant,
    ready_file: Option<PathBuf>,
    ready_reported: AtomicBool,
}

/// The one data command: every request goes through the services' dispatcher,
/// which checks the session's permission and writes the audit log.
#[tauri::command]
async fn call(state: tauri::State<'_, AppState>, request: Request) -> Result<Response, ApiError> {
    let name = request.name();
    // No lock around the host: one desktop's requests run side by side.
    let reply = state.host.handle(request, Utc::now()).await;
    if let Err(e) = &reply {
        tracing::warn!(request = name, error = %e, "request refused");
    }
    reply
}

/// The desktop's file dialog for carrier files (rfd, through tauri-plugin-dialog).
/// A command of our own rather than the plugin's: the page gets no general
/// dialog or filesystem permission, only "pick a carrier file".
#[tauri::command]
async fn pick_file(app: tauri::AppHandle) -> Option<String> {
    use tauri_plugin_dialog::DialogExt;
    let picked = app.dialog().file().add_filter("CSV", &["csv", "txt"]).blocking_pick_file();
    picked.and_then(|p| p.into_path().ok()).map(|p| p.display().to_string())
}

/// Called by the page after its first frame: records cold start to first frame.
#[tauri::command]
fn ui_ready(state: tauri::State<'_, AppState>) {
    if state.ready_reported.swap(true, Ordering::SeqCst) {
        return;
    }
    let ms = state.started.elapsed().as_millis();
    tracing::info!(first_frame_ms = ms as u64, "first frame");
    if let Some(path) = &state.ready_file
        && let Err(e) = std::fs::write(path, format!("{ms}\n"))
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot write ready file");
    }
}

// tracing-subscriber writes through std's Mutex only (its `MakeWriter` impl).
#[allow(clippy::disallowed_types)]
fn init_logging(data_dir: &std::path::Path) {
    // The log names operators and cases: readable by the owner only.
    let file = std::fs::create_dir_all(data_dir).and_then(|()| {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(data_dir.join("ops-console.log"))
    });
    let subscriber = tracing_subscriber::fmt().with_env_filter(
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
    );
    match file {
        Ok(file) => {
            subscriber.with_writer(std::io::stderr.and(std::sync::Mutex::new(file))).with_ansi(false).init()
        }
        Err(_) => subscriber.with_writer(std::io::stderr).init(),
    }
}

/// Real gateways when both endpoints are configured; the local simulator only for
/// the demo database or with `--simulate-gateways`; otherwise a clear startup error
/// (never a simulator silently answering for real customers).
fn gateway_setup(opts: &Options) -> Result<GatewaySetup, ApiError> {
    match (std::env::var("OPS_CONSOLE_CARRIER_URL"), std::env::var("OPS_CONSOLE_BANK_URL")) {
        (Ok(carrier), Ok(bank)) => {
            // A private CA, when the gateways' certificates are not from a public one.
            let ca_file =
                std::env::var_os("OPS_CONSOLE_GATEWAY_CA").filter(|v| !v.is_empty()).map(PathBuf::from);
            let keyed = |config: HttpConfig, var: &str| {
                let config = HttpConfig { ca_file: ca_file.clone(), ..config };
                match std::env::var(var) {
                    Ok(key) if !key.is_empty() => config.with_api_key(key),
                    _ => config,
                }
            };
            Ok(GatewaySetup::Http {
                carrier: keyed(HttpConfig::new(carrier), "OPS_CONSOLE_CARRIER_API_KEY"),
                bank: keyed(HttpConfig::new(bank), "OPS_CONSOLE_BANK_API_KEY"),
            })
        }
        _ if opts.simulate_gateways => Ok(GatewaySetup::Simulator),
        // Decided once the database is open: only a demo database gets the simulator.
        _ => Ok(GatewaySetup::SimulatorForDemo),
    }
}

/// `ops-console admin create-first --username NAME [--display-name NAME]
/// [--database-url URL] [--data-dir DIR]`: the first administrator of a database
/// with no usable operator. The password is read from standard input (one line),
/// never from the command line, where other users and the shell history see it.
fn admin_command(args: &[String]) -> Result<String, String> {
    let usage = "usage: ops-console admin create-first --username NAME [--display-name NAME] \
                 [--database-url URL] [--data-dir DIR]  (password on standard input)";
    if args.first().map(String::as_str) != Some("create-first") {
        return Err(usage.to_owned());
    }
    let mut username = None;
    let mut display_name = None;
    let mut url = std::env::var("OPS_CONSOLE_DATABASE_URL").ok().filter(|s| !s.is_empty());
    let mut data_dir =
        std::env::var_os("OPS_CONSOLE_DATA_DIR").map(PathBuf::from).unwrap_or_else(default_data_dir);
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        let value = rest.next().cloned().ok_or_else(|| format!("{arg} needs a value\n{usage}"))?;
        match arg.as_str() {
            "--username" => username = Some(value),
            "--display-name" => display_name = Some(value),
            "--database-url" => url = Some(value),
            "--data-dir" => data_dir = PathBuf::from(value),
            other => return Err(format!("unknown option {other}\n{usage}")),
        }
    }
    let username = username.ok_or_else(|| usage.to_owned())?;
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).map_err(|e| format!("cannot read the password: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']);
    let url = url.unwrap_or_else(|| default_database_url(&data_dir));
    let display_name = display_name.unwrap_or_else(|| username.clone());
    tauri::async_runtime::block_on(async {
        let store = store::open(&url).await.map_err(|e| e.to_string())?;
        service::admin::create_first_admin(store.as_ref(), &username, &display_name, password, Utc::now())
            .await
            .map_err(|e| catalogue::error_text(catalogue::Lang::Zh, &ApiError::from(e)))
    })?;
    Ok(format!("administrator {username} created in {}", service::redact_database_url(&url)))
}

/// `ops-console migrate --database-url URL [--app-role NAME]`: the database
/// owner migrates a shared PostgreSQL database and grants the application role
/// desktops connect as (no DDL, no writes to the audit tables). Desktops never
/// migrate a shared database themselves.
fn migrate_command(args: &[String]) -> Result<String, String> {
    let usage = "usage: ops-console migrate --database-url postgres://OWNER@HOST/DB [--app-role NAME]";
    let mut url = std::env::var("OPS_CONSOLE_DATABASE_URL").ok().filter(|s| !s.is_empty());
    let mut app_role = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let value = rest.next().cloned().ok_or_else(|| format!("{arg} needs a value\n{usage}"))?;
        match arg.as_str() {
            "--database-url" => url = Some(value),
            "--app-role" => app_role = Some(value),
            other => return Err(format!("unknown option {other}\n{usage}")),
        }
    }
    let url = url.filter(|u| u.starts_with("postgres")).ok_or_else(|| usage.to_owned())?;
    let version = tauri::async_runtime::block_on(store::migrate_postgres(&url, app_role.as_deref()))
        .map_err(|e| e.to_string())?;
    let granted = app_role.map(|r| format!(", role {r} granted")).unwrap_or_default();
    Ok(format!("{} at schema version {version}{granted}", service::redact_database_url(&url)))
}

/// Exit codes of `statement` and `reconcile`, for scheduled jobs.
mod exit {
    /// Done (a dry run: every statement adds up and names a known account).
    pub const OK: i32 = 0;
    /// A dry run found a problem (does not add up, unknown account, findings).
    pub const FINDINGS: i32 = 1;
    /// Wrong arguments.
    pub const USAGE: i32 = 2;
    /// The file cannot be read or parsed (the error names where and why).
    pub const BAD_FILE: i32 = 3;
    /// Refused: a statement that does not add up, an unknown account, a closed day.
    pub const REFUSED: i32 = 4;
    /// Login or permission refused.
    pub const DENIED: i32 = 5;
    /// The database is not available.
    pub const UNAVAILABLE: i32 = 6;
}

/// What a scheduled job's command needs: who it is and where the database is.
struct JobOptions {
    url: String,
    data_dir: PathBuf,
    user: Option<String>,
    password_file: Option<PathBuf>,
    json: bool,
}

impl JobOptions {
    fn new() -> Self {
        let data_dir =
            std::env::var_os("OPS_CONSOLE_DATA_DIR").map(PathBuf::from).unwrap_or_else(default_data_dir);
        Self {
            url: std::env::var("OPS_CONSOLE_DATABASE_URL").ok().filter(|s| !s.is_empty()).unwrap_or_default(),
            data_dir,
            user: std::env::var("OPS_CONSOLE_SERVICE_USER").ok().filter(|s| !s.is_empty()),
            password_file: std::env::var_os("OPS_CONSOLE_SERVICE_PASSWORD_FILE").map(PathBuf::from),
            json: false,
        }
    }

    /// Takes a shared option; `false` if `arg` is not one.
    fn take(&mut self, arg: &str, value: &mut dyn FnMut() -> Result<String, String>) -> Result<bool, String> {
        match arg {
            "--database-url" => self.url = value()?,
            "--data-dir" => self.data_dir = PathBuf::from(value()?),
            "--user" => self.user = Some(value()?),
            "--password-file" => self.password_file = Some(PathBuf::from(value()?)),
            "--json" => self.json = true,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Opens the database, logs in as the service operator and runs `request`.
    fn run(&self, request: domain::ReconRequest) -> Result<Response, (i32, ApiError)> {
        let user = self.user.clone().ok_or((
            exit::USAGE,
            ApiError::InvalidInput { field: "user".into(), problem: domain::InputProblem::Required },
        ))?;
        let password = match &self.password_file {
            Some(path) => std::fs::read_to_string(path).map_err(|e| {
                let problem = domain::InputProblem::Unreadable { detail: e.to_string() };
                (exit::USAGE, ApiError::InvalidInput { field: "password_file".into(), problem })
            })?,
            None => {
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
                line
            }
        };
        let password = password.trim_end_matches(['\r', '\n']).to_owned();
        let url = if self.url.is_empty() { default_database_url(&self.data_dir) } else { self.url.clone() };
        let vault = load_or_create_vault(&self.data_dir).map_err(|message| (exit::UNAVAILABLE, ApiError::Unavailable { message }))?;
        let options = HostOptions {
            demo_users: None,
            gateways: GatewaySetup::Offline,
            evidence_dir: self.data_dir.join("evidence"),
        };
        tauri::async_runtime::block_on(async {
            let host = Host::open(&url, vault, options, Utc::now()).await;
            host.handle(Request::Login { username: user, password }, Utc::now())
                .await
                .map_err(|e| (exit::DENIED, e))?;
            let reply = host.handle(Request::Recon(request), Utc::now()).await;
            let _ = host.handle(Request::Logout, Utc::now()).await;
            reply.map_err(|e| {
                let code = match &e {
                    ApiError::StatementFile { .. } | ApiError::InvalidInput { .. } => exit::BAD_FILE,
                    ApiError::Conflict { .. } | ApiError::NotFound { .. } => exit::REFUSED,
                    ApiError::Forbidden { .. } | ApiError::NotLoggedIn | ApiError::InvalidCredentials { .. } => exit::DENIED,
                    _ => exit::UNAVAILABLE,
                };
                (code, e)
            })
        })
    }

    /// Prints an answer (JSON or words) and returns the exit code.
    fn report(&self, outcome: Result<Response, (i32, ApiError)>, findings: impl Fn(&Response) -> bool) -> i32 {
        let lang = catalogue::Lang::Zh;
        match outcome {
            Ok(reply) => {
                if self.json {
                    println!("{}", serde_json::to_string_pretty(&reply).unwrap_or_default());
                } else {
                    println!("{}", serde_json::to_string_pretty(&reply).unwrap_or_default());
                }
                if findings(&reply) { exit::FINDINGS } else { exit::OK }
            }
            Err((code, e)) => {
                let message = catalogue::error_text(lang, &e);
                if self.json {
                    let body = serde_json::json!({ "error": e, "message": message, "exit": code });
                    println!("{}", serde_json::to_string_pretty(&body).unwrap_or_default());
                } else {
                    eprintln!("{message}");
                }
                code
            }
        }
    }
}

const JOB_ENV: &str = "env: OPS_CONSOLE_DATABASE_URL, OPS_CONSOLE_DATA_DIR, OPS_CONSOLE_SERVICE_USER, \
                       OPS_CONSOLE_SERVICE_PASSWORD_FILE (else the password is read from standard input)";

/// `ops-console statement import FILE [--account NUMBER] [--preset NAME] [--dry-run]
/// [--acknowledge-difference] [--json]` as the service operator.
fn statement_command(args: &[String]) -> i32 {
    let usage = format!(
        "usage: ops-console statement import FILE [--account NUMBER] [--preset cmb|icbc|mybank] [--dry-run] \
         [--acknowledge-difference] [--json] [--user NAME] [--password-file FILE] [--database-url URL] [--data-dir DIR]\n{JOB_ENV}"
    );
    let mut opts = JobOptions::new();
    let (mut file, mut account, mut preset, mut dry_run, mut acknowledge) = (None, None, None, false, false);
    if args.first().map(String::as_str) != Some("import") {
        eprintln!("{usage}");
        return exit::USAGE;
    }
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        let mut value = || rest.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        let parsed = match arg.as_str() {
            "--account" => value().map(|v| account = Some(v)),
            "--preset" => value().map(|v| preset = Some(v)),
            "--dry-run" => Ok(dry_run = true),
            "--acknowledge-difference" => Ok(acknowledge = true),
            other if !other.starts_with("--") && file.is_none() => Ok(file = Some(other.to_owned())),
            other => match opts.take(other, &mut value) {
                Ok(true) => Ok(()),
                Ok(false) => Err(format!("unknown option {other}")),
                Err(e) => Err(e),
            },
        };
        if let Err(message) = parsed {
            eprintln!("{message}\n{usage}");
            return exit::USAGE;
        }
    }
    let Some(file) = file else {
        eprintln!("{usage}");
        return exit::USAGE;
    };
    // An absolute path: the backend reads it, whatever its working folder.
    let path = std::fs::canonicalize(&file).map(|p| p.display().to_string()).unwrap_or(file);
    let request = domain::ReconRequest::ImportStatement {
        path,
        account,
        preset,
        dry_run,
        acknowledge_difference: acknowledge,
    };
    let outcome = opts.run(request);
    opts.report(outcome, |reply| match reply {
        Response::StatementImported(r) => {
            r.dry_run && r.statements.iter().any(|s| !s.adds_up || !s.known_account || !s.findings.is_empty())
        }
        _ => false,
    })
}

/// `ops-console reconcile run --date YYYY-MM-DD [--dry-run] [--json]` as the service operator.
fn reconcile_command(args: &[String]) -> i32 {
    let usage = format!(
        "usage: ops-console reconcile run --date YYYY-MM-DD [--dry-run] [--json] [--user NAME] \
         [--password-file FILE] [--database-url URL] [--data-dir DIR]\n{JOB_ENV}"
    );
    let mut opts = JobOptions::new();
    let (mut day, mut dry_run) = (None, false);
    if args.first().map(String::as_str) != Some("run") {
        eprintln!("{usage}");
        return exit::USAGE;
    }
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        let mut value = || rest.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        let parsed = match arg.as_str() {
            "--date" => value().and_then(|v| {
                chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d").map(|d| day = Some(d)).map_err(|e| format!("--date {v}: {e}"))
            }),
            "--dry-run" => Ok(dry_run = true),
            other => match opts.take(other, &mut value) {
                Ok(true) => Ok(()),
                Ok(false) => Err(format!("unknown option {other}")),
                Err(e) => Err(e),
            },
        };
        if let Err(message) = parsed {
            eprintln!("{message}\n{usage}");
            return exit::USAGE;
        }
    }
    let Some(day) = day else {
        eprintln!("{usage}");
        return exit::USAGE;
    };
    let outcome = opts.run(domain::ReconRequest::Reconcile { day, physical_id: None, dry_run });
    opts.report(outcome, |_| false)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("statement") => std::process::exit(statement_command(&args[1..])),
        Some("reconcile") => std::process::exit(reconcile_command(&args[1..])),
        _ => {}
    }
    let command = match args.first().map(String::as_str) {
        Some("admin") => Some(admin_command(&args[1..])),
        Some("migrate") => Some(migrate_command(&args[1..])),
        _ => None,
    };
    if let Some(outcome) = command {
        match outcome {
            Ok(done) => {
                println!("{done}");
                return;
            }
            Err(message) => {
                eprintln!("{message}");
                std::process::exit(2);
            }
        }
    }
    let started = Instant::now();
    let opts = match parse_options() {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    init_logging(&opts.data_dir);
    let url = opts.database_url.clone().unwrap_or_else(|| default_database_url(&opts.data_dir));
    tracing::info!(url = %service::redact_database_url(&url), data_dir = %opts.data_dir.display(), "starting");
    let host = match (load_or_create_vault(&opts.data_dir), gateway_setup(&opts)) {
        (Ok(vault), Ok(gateways)) => {
            let options = HostOptions {
                demo_users: opts.demo_users,
                gateways,
                evidence_dir: opts.data_dir.join("evidence"),
            };
            tauri::async_runtime::block_on(Host::open(&url, vault, options, Utc::now()))
        }
        (Err(message), _) => Host::failed(ApiError::Unavailable { message }),
        (_, Err(missing)) => Host::failed(missing),
    };
    let state =
        AppState { host, started, ready_file: opts.ready_file, ready_reported: AtomicBool::new(false) };
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .invoke_handler(tauri::generate_handler![call, ui_ready, pick_file])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "the window could not be opened");
        eprintln!("ops-console: the window could not be opened: {e}");
        std::process::exit(1);
    }
}
