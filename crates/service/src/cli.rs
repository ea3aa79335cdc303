//! The scheduled job's commands (bank files arrive around 10:00):
//! `ops-console statement import FILE …` and `ops-console reconcile run --date …`.
//! They go through the same [`Host`] and services as a desktop, logged in as an
//! operator with the `service_operator` role, so the permission check and the
//! audit rows are the same. Output is words (Chinese, from the catalogue) or, with
//! `--json`, the typed answer; the exit code tells a script what happened.

use crate::{GatewaySetup, Host, HostOptions, default_database_url, load_or_create_vault};
use chrono::Utc;
use domain::{ApiError, InputProblem, ReconRequest, Request, Response};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Exit codes, for scripts.
pub mod exit {
    /// Done (a dry run: every statement adds up, names a known account, has no findings).
    pub const OK: i32 = 0;
    /// A dry run found something (does not add up, unknown account, gaps, duplicates…).
    pub const FINDINGS: i32 = 1;
    /// Wrong arguments.
    pub const USAGE: i32 = 2;
    /// The file cannot be read or parsed (the message names where and why).
    pub const BAD_FILE: i32 = 3;
    /// Refused: a statement that does not add up, an unknown account, a closed day.
    pub const REFUSED: i32 = 4;
    /// Login or permission refused.
    pub const DENIED: i32 = 5;
    /// The database is not available.
    pub const UNAVAILABLE: i32 = 6;
}

/// What a command printed and its exit code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobOutput {
    /// Exit code ([`exit`]).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

const ENV: &str = "env: OPS_CONSOLE_DATABASE_URL, OPS_CONSOLE_DATA_DIR, OPS_CONSOLE_SERVICE_USER, \
                   OPS_CONSOLE_SERVICE_PASSWORD_FILE (else the password is read from standard input)";

struct Options {
    url: Option<String>,
    data_dir: PathBuf,
    user: Option<String>,
    password_file: Option<PathBuf>,
    json: bool,
}

fn usage(command: &str) -> String {
    let common = "[--json] [--user NAME] [--password-file FILE] [--database-url URL] [--data-dir DIR]";
    match command {
        "statement" => format!(
            "usage: ops-console statement import FILE [--account NUMBER] [--preset cmb|icbc|mybank] [--dry-run] \
             [--acknowledge-difference] {common}\n{ENV}\n"
        ),
        _ => format!("usage: ops-console reconcile run --date YYYY-MM-DD [--dry-run] {common}\n{ENV}\n"),
    }
}

fn refused(code: i32, message: String) -> JobOutput {
    JobOutput { code, stdout: String::new(), stderr: message }
}

/// Runs `ops-console statement …` or `ops-console reconcile …`; `password` reads
/// the password when no password file is named (standard input).
pub async fn job(
    command: &str,
    args: &[String],
    default_data_dir: PathBuf,
    password: impl FnOnce() -> String,
) -> JobOutput {
    let mut o = Options {
        url: std::env::var("OPS_CONSOLE_DATABASE_URL").ok().filter(|s| !s.is_empty()),
        data_dir: std::env::var_os("OPS_CONSOLE_DATA_DIR").map(PathBuf::from).unwrap_or(default_data_dir),
        user: std::env::var("OPS_CONSOLE_SERVICE_USER").ok().filter(|s| !s.is_empty()),
        password_file: std::env::var_os("OPS_CONSOLE_SERVICE_PASSWORD_FILE").map(PathBuf::from),
        json: false,
    };
    let request = match parse(command, args, &mut o) {
        Ok(r) => r,
        Err(message) => return refused(exit::USAGE, format!("{message}\n{}", usage(command))),
    };
    let dry_run = matches!(request, ReconRequest::ImportStatement { dry_run: true, .. });
    let outcome = run(&o, request, password).await;
    report(&o, outcome, dry_run)
}

fn parse(command: &str, args: &[String], o: &mut Options) -> Result<ReconRequest, String> {
    let sub = if command == "statement" { "import" } else { "run" };
    if args.first().map(String::as_str) != Some(sub) {
        return Err(format!("{command} {sub} …"));
    }
    let (mut file, mut account, mut preset, mut day) = (None, None, None, None);
    let (mut dry_run, mut acknowledge) = (false, false);
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        let mut value = || rest.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--account" if command == "statement" => account = Some(value()?),
            "--preset" if command == "statement" => preset = Some(value()?),
            "--acknowledge-difference" if command == "statement" => acknowledge = true,
            "--date" if command == "reconcile" => {
                let v = value()?;
                day = Some(
                    chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                        .map_err(|e| format!("--date {v}: {e}"))?,
                );
            }
            "--dry-run" => dry_run = true,
            "--json" => o.json = true,
            "--database-url" => o.url = Some(value()?),
            "--data-dir" => o.data_dir = PathBuf::from(value()?),
            "--user" => o.user = Some(value()?),
            "--password-file" => o.password_file = Some(PathBuf::from(value()?)),
            other if command == "statement" && !other.starts_with("--") && file.is_none() => {
                file = Some(other.to_owned())
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if command == "statement" {
        let file = file.ok_or("FILE is missing")?;
        // Absolute: the services read it whatever their working folder.
        let path = std::fs::canonicalize(&file).map(|p| p.display().to_string()).unwrap_or(file);
        Ok(ReconRequest::ImportStatement {
            path,
            account,
            preset,
            dry_run,
            acknowledge_difference: acknowledge,
        })
    } else {
        Ok(ReconRequest::Reconcile { day: day.ok_or("--date is missing")?, physical_id: None, dry_run })
    }
}

async fn run(
    o: &Options,
    request: ReconRequest,
    password: impl FnOnce() -> String,
) -> Result<Response, (i32, ApiError)> {
    let input = |field: &str, problem| (exit::USAGE, ApiError::InvalidInput { field: field.into(), problem });
    let user = o.user.clone().ok_or_else(|| input("user", InputProblem::Required))?;
    let password = match &o.password_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| input("password_file", InputProblem::Unreadable { detail: e.to_string() }))?,
        None => password(),
    };
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let url = o.url.clone().unwrap_or_else(|| default_database_url(&o.data_dir));
    let vault = load_or_create_vault(&o.data_dir)
        .map_err(|message| (exit::UNAVAILABLE, ApiError::Unavailable { message }))?;
    let options = HostOptions {
        demo_users: None,
        gateways: GatewaySetup::Offline,
        evidence_dir: o.data_dir.join("evidence"),
    };
    let host = Host::open(&url, vault, options, Utc::now()).await;
    if let Err(e) = host.services() {
        return Err((exit::UNAVAILABLE, e.clone()));
    }
    host.handle(Request::Login { username: user, password }, Utc::now())
        .await
        .map_err(|e| (exit::DENIED, e))?;
    let reply = host.handle(Request::Recon(request), Utc::now()).await;
    let _ = host.handle(Request::Logout, Utc::now()).await;
    reply.map_err(|e| {
        let code = match &e {
            ApiError::StatementFile { .. } | ApiError::InvalidInput { .. } => exit::BAD_FILE,
            ApiError::Conflict { .. } | ApiError::NotFound { .. } => exit::REFUSED,
            ApiError::Forbidden { .. } | ApiError::NotLoggedIn | ApiError::InvalidCredentials { .. } => {
                exit::DENIED
            }
            _ => exit::UNAVAILABLE,
        };
        (code, e)
    })
}

fn report(o: &Options, outcome: Result<Response, (i32, ApiError)>, dry_run: bool) -> JobOutput {
    let lang = catalogue::Lang::Zh;
    match outcome {
        Ok(reply) => {
            let findings = match &reply {
                Response::StatementImported(r) => {
                    dry_run
                        && r.statements.iter().any(|s| {
                            !s.adds_up || !s.known_account || s.findings.iter().any(|f| f.is_problem())
                        })
                }
                _ => false,
            };
            let stdout = if o.json {
                serde_json::to_string_pretty(&reply).unwrap_or_default() + "\n"
            } else {
                words(lang, &reply)
            };
            JobOutput {
                code: if findings { exit::FINDINGS } else { exit::OK },
                stdout,
                stderr: String::new(),
            }
        }
        Err((code, e)) => {
            let message = catalogue::error_text(lang, &e);
            if o.json {
                let body = serde_json::json!({ "error": e, "message": message, "exit": code });
                JobOutput {
                    code,
                    stdout: serde_json::to_string_pretty(&body).unwrap_or_default() + "\n",
                    stderr: String::new(),
                }
            } else {
                refused(code, message + "\n")
            }
        }
    }
}

/// The answer in words (the catalogue's), for a person reading the job's log.
fn words(lang: catalogue::Lang, reply: &Response) -> String {
    use catalogue::{T, fill};
    let mut out = String::new();
    let yes_no = |b: bool| if b { "✔" } else { "✘" };
    match reply {
        Response::StatementImported(r) => {
            let format =
                T::SusFormat.text(lang).replace("{format}", catalogue::statement_format(r.format).text(lang));
            let state = if r.dry_run {
                T::SusDryRunNothing
            } else if r.repeat {
                T::SusRepeat
            } else {
                T::SusStored
            };
            let _ = writeln!(out, "{format} · {}", state.text(lang));
            for s in &r.statements {
                let money =
                    |d: Option<rust_decimal::Decimal>| d.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
                let _ = writeln!(
                    out,
                    "{} {} · {} {} · {} {} · {} {} · {} {} · {} {} · {} {} · {} {}",
                    T::SusColStatementId.text(lang),
                    s.statement_id,
                    T::SusColKnown.text(lang),
                    yes_no(s.known_account),
                    T::SusColOpening.text(lang),
                    money(s.opening),
                    T::SusColClosing.text(lang),
                    money(s.closing),
                    T::SusColAddsUp.text(lang),
                    yes_no(s.adds_up),
                    T::SusColEntries.text(lang),
                    s.entries,
                    T::SusColCredits.text(lang),
                    s.credits,
                    T::SusColDebits.text(lang),
                    s.debits
                );
                if s.replaces {
                    let _ = writeln!(out, "  {}", T::SusReplaces.text(lang));
                }
                for f in &s.findings {
                    let _ = writeln!(out, "  {}", catalogue::statement_finding_text(f, lang));
                }
            }
        }
        Response::Reconciled(r) => {
            let head = if r.dry_run { T::SusRunDry } else { T::SusRunDone };
            let _ = writeln!(out, "{}", fill(head.text(lang), &[("day", &r.day)]));
            for (key, n) in [
                (T::SusRunLines, r.lines),
                (T::SusRunConfirmed, r.confirmed),
                (T::SusRunSuggested, r.suggested),
                (T::SusRunAmbiguous, r.ambiguous),
                (T::SusRunAlreadyBooked, r.already_booked),
                (T::SusRunReversed, r.reversed),
            ] {
                let _ = writeln!(out, "  {}: {n}", key.text(lang));
            }
            for (kind, n) in &r.found {
                let kind = catalogue::suspense_kind(*kind).text(lang);
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    T::SusRunFound.text(lang),
                    fill(T::SusFoundKind.text(lang), &[("kind", &kind), ("n", n)])
                );
            }
        }
        other => {
            let _ = writeln!(out, "{}", serde_json::to_string(other).unwrap_or_default());
        }
    }
    out
}
