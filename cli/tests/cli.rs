//! The `bella` binary as a user runs it: its help, `bella parse`, and the one-line error and exit
//! status when a service cannot be reached. (Building this test also builds the binary that the
//! fault-injection suite starts and kills.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn bella(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bella"));
    command.args(args).env("HOME", std::env::temp_dir()).env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("bella runs")
}

#[test]
fn help_lists_the_subcommands() {
    let out = bella(&["--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for command in ["all", "api", "worker", "migrate", "call", "parse", "admin", "bench"] {
        assert!(help.contains(command), "`{command}` is missing from:\n{help}");
    }
}

#[test]
fn parse_reads_a_spoken_number_as_e164() {
    let out = bella(&["parse", "phone", "four one six five five five zero one two three"], &[]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["e164"], "+14165550123");
}

#[test]
fn an_unreachable_service_is_named_in_one_line_and_exits_non_zero() {
    let out = bella(&["worker"], &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/bella")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let error: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(error[0].contains("cannot reach PostgreSQL at 127.0.0.1:1 (DATABASE_URL)"), "{stderr}");
}

/// `bella bench` end to end, small: its own database and namespace, the api and worker as child
/// processes, every call booked, every job's effect exactly once, a results file.
#[test]
fn a_small_bench_books_every_call_and_every_job_once() {
    let name = format!("bella_bench_test_{}", std::process::id());
    let out_file = std::env::temp_dir().join(format!("{name}.json"));
    let out_arg = out_file.display().to_string();
    let out = bella(
        &[
            "bench",
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
        ],
        &[],
    );
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
