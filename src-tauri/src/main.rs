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

/// The desktop's file dialog for carrier files and statements (rfd, through tauri-plugin-dialog).
/// A command of our own rather than the plugin's: the page gets no general
/// dialog or filesystem permission, only "pick a file to import".
#[tauri::command]
async fn pick_file(app: tauri::AppHandle) -> Option<String> {
    use tauri_plugin_dialog::DialogExt;
    let picked = app
        .dialog()
        .file()
        .add_filter("CSV", &["csv", "txt"])
        .add_filter("Statements (camt, MT940, CSV)", &["xml", "sta", "mt940", "940", "txt", "csv"])
        .blocking_pick_file();
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(command @ ("statement" | "reconcile")) = args.first().map(String::as_str) {
        // The scheduled job's commands: through the same services, as the service operator.
        let out = tauri::async_runtime::block_on(service::cli::job(
            command,
            &args[1..],
            default_data_dir(),
            || {
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
                line
            },
        ));
        print!("{}", out.stdout);
        eprint!("{}", out.stderr);
        std::process::exit(out.code);
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
