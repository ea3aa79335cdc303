//! Parse rates on synthetic files (release build): run with
//! `cargo test -p statements --release --test throughput -- --ignored --nocapture`.
//! They print figures and check the results add up; they never assert on time.

// Helpers of a test file: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use statements::{ParseOptions, StatementFormat, parse, synth_bank_csv, synth_camt053};

/// CPU time of the process, all threads (s), from `/proc/self/stat` (Linux, in
/// 1/100 s): on a shared machine it says what the parse costs when wall time is
/// inflated by other processes.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn rate(label: &str, bytes: &[u8], entries: usize) {
    // Best of three runs.
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut parsed = Vec::new();
    for _ in 0..3 {
        drop(std::mem::take(&mut parsed));
        let cpu = cpu_seconds();
        let t = Instant::now();
        parsed = parse(bytes, &ParseOptions::default()).expect("parses");
        best = best.min(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu, cpu_seconds()) {
            best_cpu = best_cpu.min(b - a);
        }
    }
    assert_eq!(parsed.iter().map(|s| s.entries.len()).sum::<usize>(), entries);
    for s in &parsed {
        assert!(s.own_findings().is_empty(), "{:?}", s.own_findings());
    }
    println!(
        "{label}: {entries} entries, {:.1} MB in {best:.3} s wall: {:.0} entries/s, {:.0} MB/s; \
         {best_cpu:.2} s CPU (all threads): {:.0} entries per CPU-second",
        bytes.len() as f64 / 1e6,
        entries as f64 / best,
        bytes.len() as f64 / 1e6 / best,
        entries as f64 / best_cpu,
    );
}

#[test]
#[ignore = "prints parse rates; run in release"]
fn camt053_parse_rate() {
    let n = 1_000_000;
    let bytes = synth_camt053(n, 42);
    assert_eq!(statements::detect(&bytes), Some(StatementFormat::Camt053));
    rate("camt.053.001.08", &bytes, n);
}

#[test]
#[ignore = "prints parse rates; run in release"]
fn bank_csv_parse_rate() {
    let n = 1_000_000;
    let bytes = synth_bank_csv(n, 42);
    assert_eq!(statements::detect(&bytes), Some(StatementFormat::BankCsv));
    rate("bank CSV (cmb)", &bytes, n);
}
