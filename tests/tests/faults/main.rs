//! The fault-injection suite: whole calls while processes are killed and services restarted.
//!
//! Each scenario starts Bella's api (with the outbox relay) in this process and its workers as
//! real `bella worker` processes, places calls through the Twilio simulator, injects one kind of
//! fault, and then checks, for every call, what a user would check: exactly one booking when the
//! caller was told it is booked (or that a text will follow), none when told it failed, at most
//! one text per booking, every workflow run ended (completed, failed, expired, or dead-lettered
//! with a reason), the outbox and the SMS ledger drained, and every queue empty once the workers
//! are gone (so nothing was left unacknowledged).
//!
//! It stops and starts the machine's PostgreSQL, Redis and RabbitMQ, so it runs its scenarios one
//! after another, in a test binary of its own (without the libtest harness, so that its summary
//! line is always printed), and brings every service back up at the end, whatever happened.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod calls;
mod check;
mod failover;
mod scenarios;

use std::process::ExitCode;

const NAME: &str = "fault_injection";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("{NAME}: test");
        return ExitCode::SUCCESS;
    }
    // `cargo test some_filter` passes the filter to every test binary: honour it.
    if let Some(filter) = args.iter().find(|a| !a.starts_with('-'))
        && !NAME.contains(filter.as_str())
    {
        return ExitCode::SUCCESS;
    }
    if std::env::var_os("BELLA_SKIP_FAULTS").is_some() {
        println!("fault injection: skipped (BELLA_SKIP_FAULTS is set)");
        return ExitCode::SUCCESS;
    }
    if let Err(missing) = e2e::services::controllable() {
        println!(
            "fault injection: cannot stop and start the services here ({missing}); set BELLA_SKIP_FAULTS=1 to skip"
        );
        return ExitCode::FAILURE;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(scenarios::all())));
    // Leave the machine as CI found it, whatever happened.
    if let Err(error) = runtime.block_on(e2e::services::ensure_up()) {
        println!("fault injection: could not bring the services back up: {error}");
    }
    match outcome {
        Ok(tally) => {
            println!("{}", tally.summary());
            if tally.violations() == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(_) => {
            println!("fault injection: a scenario panicked (see above)");
            ExitCode::FAILURE
        }
    }
}
