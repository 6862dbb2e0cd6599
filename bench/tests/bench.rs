//! The `bella-bench` binary as a user runs it. It starts the `bella` binary Cargo built into the
//! same target directory: `cargo test --workspace` builds it (the `bella` package has integration
//! tests of its own); alone, build it first with `cargo build -p bella`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn bella_bench(args: &[&str]) -> Output {
    let home = std::env::temp_dir();
    Command::new(env!("CARGO_BIN_EXE_bella-bench")).args(args).env("HOME", home).output().expect("bella-bench runs")
}

#[test]
fn help_lists_the_options_and_hides_the_floor() {
    let out = bella_bench(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for option in
        ["--calls", "--rounds", "--think-ms", "--jobs", "--memory-calls", "--only", "--out", "--name", "--keep"]
    {
        assert!(help.contains(option), "`{option}` is missing from:\n{help}");
    }
    assert!(!help.lines().any(|line| line.trim_start().starts_with("floor")), "{help}");
}

/// `bella-bench` end to end, small: its own database and namespace, the api and worker as child
/// processes (of the `bella` built beside it), every call booked, every job's effect exactly once, a results file.
#[test]
fn a_small_bench_books_every_call_and_every_job_once() {
    let name = format!("bella_bench_test_{}", std::process::id());
    let out_file = std::env::temp_dir().join(format!("{name}.json"));
    let out_arg = out_file.display().to_string();
    let out = bella_bench(&[
        "--calls",
        "3",
        "--rounds",
        "2",
        "--think-ms",
        "10",
        "--jobs",
        "60",
        "--memory-calls",
        "4",
        "--name",
        &name,
        "--out",
        &out_arg,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("turn latency") && stdout.contains("targets:"), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let _ = std::fs::remove_file(&out_file);
    assert_eq!(report["turns"]["bella"]["booked"], 6, "{report:#}");
    assert_eq!(report["turns"]["floor"]["calls"], 6, "{report:#}");
    // Every turn kind of a booking call was measured.
    for turn in ["greeting", "intent", "name", "time", "number", "confirm", "status"] {
        assert!(report["turns"]["bella"]["by_turn"][turn]["count"].as_u64().unwrap() >= 6, "{turn}: {report:#}");
    }
    assert_eq!(report["memory"]["booked"], 4, "{report:#}");
    assert!(report["memory"]["rss_with_calls_mb"].as_f64().unwrap() > 1.0, "{report:#}");
    let effects = &report["pipeline"]["effects"];
    assert_eq!(effects["appointments"], 60, "{report:#}");
    assert_eq!(effects["texts"], 60, "{report:#}");
    assert_eq!(effects["calls_with_two_appointments"], 0);
    assert!(report["pipeline"]["floor"]["jobs_per_second"].as_f64().unwrap() > 0.0);
}
