//! A desktop's backend in its own process, for the fault tests to kill with SIGKILL
//! in the middle of its work: `fault_worker import URL FILE` imports a carrier
//! file; `fault_worker decide URL` confirms every open case as cs1 and approves it
//! as sup1 (each approval unbinds a phone), until none is left.
//!
//! Prints `ready` once logged in and `done` at the end, on stdout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use domain::cases::{CaseDecision, ImportState, QueueFilter};
use domain::recycle::CaseStatus;
use domain::{RecycledRequest, Response};
use e2e::recycled::{call, login, recycled_services};
use std::io::Write;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = tempfile::tempdir().unwrap();
    let s = recycled_services(&args[2], dir.path()).await;
    let mut cs1 = login(&s, "cs1").await;
    let mut sup1 = login(&s, "sup1").await;
    say("ready");
    match args[1].as_str() {
        "import" => {
            let req = RecycledRequest::ImportCarrierFile { path: args[3].clone() };
            let Response::ImportStarted { job_id } = call(&s, &mut cs1, req).await.unwrap() else { panic!() };
            loop {
                let status = call(&s, &mut cs1, RecycledRequest::ImportStatus { job_id }).await.unwrap();
                match status {
                    Response::Import(ImportState::Done(_)) => break,
                    Response::Import(ImportState::Rejected { .. } | ImportState::Failed { .. }) => {
                        panic!("{status:?}")
                    }
                    _ => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
                }
            }
        }
        "decide" => {
            // Every open case once; one that cannot be confirmed (manual-only, in a
            // freeze window) is left as it is.
            let filter = QueueFilter { status: Some(CaseStatus::Open), ..QueueFilter::default() };
            let req = RecycledRequest::Queue { filter, after: None, limit: 200 };
            let Response::Queue(page) = call(&s, &mut cs1, req).await.unwrap() else { panic!() };
            for case in page.rows {
                let claim = RecycledRequest::ClaimCase { case_id: case.id };
                if let Err(e) = call(&s, &mut cs1, claim).await {
                    eprintln!("claim {}: {e:?}", case.id);
                    continue;
                }
                let confirm = CaseDecision::ConfirmRecycled { note: "运营商确认已二次放号".into() };
                let decide = RecycledRequest::DecideCase { case_id: case.id, decision: confirm };
                if let Err(e) = call(&s, &mut cs1, decide).await {
                    eprintln!("confirm {}: {e:?}", case.id);
                    continue;
                }
                let Some(row) = s.store().case_row(case.id).await.unwrap() else { continue };
                if row.status != CaseStatus::PendingApproval {
                    continue;
                }
                let version = row.version;
                let approve = RecycledRequest::ApproveCase {
                    case_id: case.id,
                    approve: true,
                    note: "同意".into(),
                    version,
                };
                if let Err(e) = call(&s, &mut sup1, approve).await {
                    eprintln!("approve {}: {e:?}", case.id);
                }
            }
        }
        other => panic!("unknown mode {other}"),
    }
    say("done");
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
