//! Parse rates on synthetic files (release build): run with
//! `cargo test -p statements --release --test throughput -- --ignored --nocapture`.
//! They print figures and check the results add up; they never assert on time.

use std::time::Instant;

use statements::{ParseOptions, StatementFormat, parse, synth_bank_csv, synth_camt053};

/// CPU time of this thread (s), from `/proc/thread-self/schedstat` (Linux): on a
/// shared machine it says what the parse costs when wall time is inflated by
/// other processes.
fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

fn rate(label: &str, bytes: &[u8], entries: usize) {
    // Best of three runs.
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut parsed = Vec::new();
    for _ in 0..3 {
        drop(std::mem::take(&mut parsed));
        let cpu = thread_cpu_seconds();
        let t = Instant::now();
        parsed = parse(bytes, &ParseOptions::default()).expect("parses");
        best = best.min(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu, thread_cpu_seconds()) {
            best_cpu = best_cpu.min(b - a);
        }
    }
    assert_eq!(parsed.iter().map(|s| s.entries.len()).sum::<usize>(), entries);
    for s in &parsed {
        assert!(s.own_findings().is_empty(), "{:?}", s.own_findings());
    }
    println!(
        "{label}: {entries} entries, {:.1} MB in {best:.3} s wall: {:.0} entries/s, {:.0} MB/s; \
         {best_cpu:.3} s CPU: {:.0} entries/s",
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
