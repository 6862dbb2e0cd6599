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
    for command in ["all", "api", "worker", "migrate", "call", "parse", "admin"] {
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
