//! `bella admin queues`: counts per kind, pause, resume, drain.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use operations::{Actor, Ops};

use super::{Output, Why, duration, kinds_or_all, print_json, print_outcome, table};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Per kind: ready, unacked, retrying and dead jobs, consumers, oldest job, rates (the default).
    List,
    /// Stop every worker taking jobs of these kinds (within a second); jobs running finish.
    Pause {
        /// Kinds to pause: book_appointment, reschedule_appointment, cancel_appointment, send_sms,
        /// repair_answer.
        kinds: Vec<String>,
        /// Pause every kind.
        #[arg(long, conflicts_with = "kinds")]
        all: bool,
        #[command(flatten)]
        why: Why,
    },
    /// Let workers take jobs of these kinds again.
    Resume {
        kinds: Vec<String>,
        #[arg(long, conflicts_with = "kinds")]
        all: bool,
        #[command(flatten)]
        why: Why,
    },
    /// Before a deploy: pause the kinds (all when none is named), wait for the jobs in flight to
    /// finish, and report what is left. Resume them after the deploy.
    Drain {
        kinds: Vec<String>,
        /// How long to wait for the jobs in flight.
        #[arg(long, default_value = "60s", value_parser = duration)]
        timeout: Duration,
        #[command(flatten)]
        why: Why,
    },
}

/// The counts per kind, as a table or JSON.
async fn list(ops: &Ops, output: Output) -> anyhow::Result<()> {
    let stats = operations::queues::stats(ops).await?;
    if output.json {
        return print_json(&stats);
    }
    let rows: Vec<Vec<String>> = stats
        .iter()
        .map(|s| {
            vec![
                s.kind.clone(),
                if s.paused { "paused".into() } else { "consuming".into() },
                s.ready.to_string(),
                s.unacked.to_string(),
                s.retrying.to_string(),
                s.dead.to_string(),
                s.consumers.to_string(),
                format!("{:.0}s", s.oldest_seconds),
                format!("{:.1}", s.completed_per_minute),
                format!("{:.1}", s.failed_per_minute),
            ]
        })
        .collect();
    table(
        &["kind", "state", "ready", "unacked", "retrying", "dead", "consumers", "oldest", "done/min", "failed/min"],
        &rows,
    );
    Ok(())
}

/// Runs `bella admin queues …`.
pub async fn run(ops: &Ops, actor: &Actor, command: Option<Command>, output: Output) -> anyhow::Result<()> {
    match command.unwrap_or(Command::List) {
        Command::List => list(ops, output).await,
        Command::Pause { kinds, all, why } => {
            let kinds = kinds_or_all(&kinds, all, "pause")?;
            let outcome = operations::queues::pause(ops, actor, &kinds, &why.reason).await?;
            print_outcome(&outcome, output)?;
            confirm_workers(ops, &kinds, true).await
        }
        Command::Resume { kinds, all, why } => {
            let kinds = kinds_or_all(&kinds, all, "resume")?;
            let outcome = operations::queues::resume(ops, actor, &kinds, &why.reason).await?;
            print_outcome(&outcome, output)
        }
        Command::Drain { kinds, timeout, why } => {
            let kinds = operations::queues::kinds(&kinds)?;
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.enable_steady_tick(Duration::from_millis(120));
            let drained = operations::queues::drain(ops, actor, &kinds, &why.reason, timeout, |state| {
                spinner.set_message(format!(
                    "draining: {} jobs in flight, {} workers still consuming",
                    state.in_flight, state.consuming
                ));
            })
            .await?;
            spinner.finish_and_clear();
            if output.json {
                return print_json(&drained);
            }
            println!("{} (audit #{})", drained.outcome.message, drained.outcome.audit_id);
            for left in drained.left {
                println!("  {:<24} {} ready, {} retrying, {} dead", left.kind, left.ready, left.retrying, left.dead);
            }
            println!(
                "the kinds stay paused: resume them after the deploy (bella admin queues resume --all --reason ...)"
            );
            if !drained.complete {
                anyhow::bail!("the drain did not finish within {} s", timeout.as_secs());
            }
            Ok(())
        }
    }
}

/// After a pause: wait (a few seconds at most) until no live worker consumes the kinds.
async fn confirm_workers(ops: &Ops, kinds: &[::workflows::jobs::JobKind], paused: bool) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let state = operations::queues::drain_state(ops, kinds).await?;
        if (state.consuming == 0) == paused {
            eprintln!("every worker has stopped consuming ({} jobs still finishing)", state.in_flight);
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            eprintln!("warning: {} workers still consume these kinds after 5 s", state.consuming);
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
