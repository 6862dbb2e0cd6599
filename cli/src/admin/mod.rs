//! `bella admin …`: operators' commands, one file per verb group like [`operations`], whose
//! verbs they call (the same library the admin API and the console call). Each prints a table
//! (or `--json`), and each change takes `--reason` and prints the audit entry it wrote.
//!
//! `bella admin` talks to PostgreSQL directly, and to Redis and RabbitMQ only for the queue verbs.
//! It never changes the schema: a database behind this version of Bella is refused with a message
//! to run `bella migrate` first.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

pub mod appointments;
pub mod audit;
pub mod business;
pub mod calls;
pub mod dead_letters;
pub mod queues;
pub mod tokens;
pub mod workflows;

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::time::Duration;

use adapters::Config;
use operations::{Actor, Ops, Outcome};
use serde::Serialize;

use crate::bootstrap;

/// Operators' commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Businesses: the profile each call is answered with.
    Business {
        #[command(subcommand)]
        command: business::Command,
    },
    /// Job queues: counts, pause, resume, drain.
    Queues {
        #[command(subcommand)]
        command: Option<queues::Command>,
    },
    /// Dead letters: list, show, retry, discard, purge.
    #[command(name = "dead-letters", alias = "dlq")]
    DeadLetters {
        #[command(subcommand)]
        command: dead_letters::Command,
    },
    /// Workflow runs: list, show, resume, cancel.
    Workflows {
        #[command(subcommand)]
        command: workflows::Command,
    },
    /// Appointments: list, show, cancel.
    Appointments {
        #[command(subcommand)]
        command: appointments::Command,
    },
    /// Calls: the timeline of one call.
    Calls {
        #[command(subcommand)]
        command: calls::Command,
    },
    /// Admin API and console tokens.
    Token {
        #[command(subcommand)]
        command: tokens::Command,
    },
    /// The audit log, newest first.
    Audit(audit::Args),
}

/// Runs an operator command. Redis and RabbitMQ are reached only by the verbs that need them.
pub async fn run(command: Command, output: Output) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let pool = adapters::postgres::connect(&config.database_url, 2).await?;
    adapters::postgres::require_migrated(&pool).await?;
    let actor = Actor::cli();
    match command {
        Command::Business { command } => business::run(&pool, command).await,
        Command::Queues { command } => {
            let services = bootstrap::connect(&config).await?;
            let ops = Ops::new(&services, config.namespace.clone());
            queues::run(&ops, &actor, command, output).await
        }
        Command::DeadLetters { command } => dead_letters::run(&pool, &actor, command, output).await,
        Command::Workflows { command } => workflows::run(&pool, &actor, command, output).await,
        Command::Appointments { command } => appointments::run(&pool, &actor, command, output).await,
        Command::Calls { command } => calls::run(&pool, command, output).await,
        Command::Token { command } => tokens::run(&pool, &actor, command, output).await,
        Command::Audit(args) => audit::run(&pool, args, output).await,
    }
}

fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e}: write a duration such as 90s, 15m, 2h or 3days"))
}

/// How a list or a record is printed.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Output {
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Why a change is made: required, written to the audit log.
#[derive(Debug, Clone, clap::Args)]
pub struct Why {
    /// Why you are doing this (written to the audit log).
    #[arg(long)]
    pub reason: String,
}

/// Confirmation of a destructive verb.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Confirm {
    /// Do it without asking.
    #[arg(long)]
    pub yes: bool,
}

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn print_outcome(outcome: &Outcome, output: Output) -> anyhow::Result<()> {
    if output.json {
        return print_json(outcome);
    }
    println!("{} (audit #{})", outcome.message, outcome.audit_id);
    Ok(())
}

/// Asks before a destructive verb; `--yes` answers for scripts.
fn confirm(confirm: Confirm, what: &str) -> anyhow::Result<()> {
    if confirm.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{what}: this cannot be undone; add --yes to confirm");
    }
    eprint!("{what}. This cannot be undone. Type yes to go on: ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        anyhow::bail!("not confirmed: nothing changed");
    }
    Ok(())
}

fn kinds_or_all(kinds: &[String], all: bool, verb: &str) -> anyhow::Result<Vec<::workflows::jobs::JobKind>> {
    if kinds.is_empty() && !all {
        anyhow::bail!("name the kinds to {verb} (or --all): book_appointment, send_sms, ...");
    }
    Ok(operations::queues::kinds(kinds)?)
}

/// A table: columns padded to their widest cell.
fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().enumerate().map(|(i, c)| format!("{c:<w$}", w = widths[i])).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        line(row.clone());
    }
    if rows.is_empty() {
        println!("(none)");
    }
}

fn short(text: Option<&str>, max: usize) -> String {
    let text = text.unwrap_or("-");
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}
