//! Parse rate of the camt.053 reader on a synthetic file (run in release):
//!
//! ```text
//! cargo run -p statements --example camt_rate --release -- --lines 1000000
//! ```
//!
//! Prints `camt.053: parsed N entries (M MB) in S s: R entries/s` for the best of
//! three runs, and the CPU seconds (all threads) of that run.

use std::time::Instant;

use statements::{ParseOptions, parse, synth_camt053};

/// CPU time of the process, all threads (s), from `/proc/self/stat` (Linux).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let mut lines = 1_000_000usize;
    let mut runs = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lines" => lines = args.next().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(lines),
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(runs).max(1),
            other => {
                eprintln!("unknown argument {other}; usage: camt_rate [--lines N] [--runs N]");
                std::process::exit(2);
            }
        }
    }
    let bytes = synth_camt053(lines, 7);
    let mut best = f64::MAX;
    let mut best_cpu = f64::NAN;
    let mut parsed = 0usize;
    for _ in 0..runs {
        let cpu = cpu_seconds();
        let t = Instant::now();
        let out = match parse(&bytes, &ParseOptions::default()) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("parse failed: {e:?}");
                std::process::exit(1);
            }
        };
        let elapsed = t.elapsed().as_secs_f64();
        parsed = out.iter().map(|s| s.entries.len()).sum();
        drop(out);
        if elapsed < best {
            best = elapsed;
            if let (Some(a), Some(b)) = (cpu, cpu_seconds()) {
                best_cpu = b - a;
            }
        }
    }
    println!(
        "camt.053: parsed {parsed} entries ({:.0} MB) in {best:.3} s: {:.0} entries/s \
         ({best_cpu:.2} s CPU, all threads: {:.0} entries per CPU-second)",
        bytes.len() as f64 / 1e6,
        parsed as f64 / best,
        parsed as f64 / best_cpu,
    );
}
