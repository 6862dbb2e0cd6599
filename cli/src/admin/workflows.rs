//! `bella admin workflows`: list, show, resume, cancel.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;

use anyhow::Context as _;
use chrono::NaiveDate;
use operations::Actor;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Confirm, Output, Why, confirm, print_json, print_outcome, short, table};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List runs, newest first.
    List {
        /// running, retrying, completed, failed, dead_lettered, cancelled or expired.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        business: Option<Uuid>,
        #[arg(long = "call-sid")]
        call_sid: Option<String>,
        /// Created on or after this day (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Created on or before this day.
        #[arg(long)]
        to: Option<NaiveDate>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// One run: its step journal, dead letters and texts.
    Show { id: Uuid },
    /// Resume a failed or dead-lettered run from its failed step; --set edits a field first.
    Resume {
        id: Uuid,
        /// A field of the job to change first: --set name="Marie Tremblay" (repeatable).
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
        #[command(flatten)]
        why: Why,
    },
    /// Cancel a run that has not completed: workers leave it alone.
    Cancel {
        id: Uuid,
        #[command(flatten)]
        why: Why,
        #[command(flatten)]
        confirm: Confirm,
    },
}

pub async fn run(pool: &PgPool, actor: &Actor, command: Command, output: Output) -> anyhow::Result<()> {
    match command {
        Command::List { status, kind, business, call_sid, from, to, limit } => {
            let filter = operations::workflows::Filter { status, kind, business, call_sid, from, to };
            let runs = operations::workflows::list(pool, &filter, limit).await?;
            if output.json {
                return print_json(&runs);
            }
            let rows: Vec<Vec<String>> = runs
                .iter()
                .map(|r| {
                    vec![
                        r.workflow_run_id.to_string(),
                        r.kind.clone(),
                        r.status.clone(),
                        r.attempts.to_string(),
                        r.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                        short(r.call_sid.as_deref(), 34),
                        short(r.last_error.as_deref().map(operations::mask_phone_numbers).as_deref(), 50),
                    ]
                })
                .collect();
            table(&["id", "kind", "status", "attempts", "created (UTC)", "call", "last error"], &rows);
            Ok(())
        }
        Command::Show { id } => {
            let run = operations::workflows::show(pool, id).await?;
            if output.json {
                return print_json(&run);
            }
            println!(
                "run {} ({}) {}, {} attempts",
                run.run.workflow_run_id, run.run.kind, run.run.status, run.run.attempts
            );
            if let Some(call) = &run.run.call_sid {
                println!("call {call}   timeline: bella admin calls show {call}");
            }
            if let Some(error) = &run.run.last_error {
                println!("last error: {}", operations::mask_phone_numbers(error));
            }
            println!("job: {}", serde_json::to_string(&run.input)?);
            println!("steps:");
            for step in &run.steps {
                println!(
                    "  {}. {:<20} {:<10} attempts {}  {}",
                    step.position,
                    step.step,
                    step.status,
                    step.attempts,
                    step.last_error.as_deref().unwrap_or("")
                );
            }
            if run.steps.is_empty() {
                println!("  (no step started)");
            }
            for letter in &run.dead_letters {
                println!("dead letter {} ({}) at {}", letter.dead_letter_id, letter.status, letter.dead_at);
            }
            for text in &run.texts {
                println!("text: {text}");
            }
            Ok(())
        }
        Command::Resume { id, set, why } => {
            let mut edits = BTreeMap::new();
            for pair in set {
                let (field, value) = pair.split_once('=').with_context(|| {
                    format!("--set takes FIELD=VALUE, such as name=\"Marie Tremblay\"; got {pair:?}")
                })?;
                edits.insert(field.trim().to_owned(), value.to_owned());
            }
            print_outcome(&operations::workflows::resume(pool, actor, id, &edits, &why.reason).await?, output)
        }
        Command::Cancel { id, why, confirm: yes } => {
            confirm(yes, &format!("cancel workflow run {id}"))?;
            print_outcome(&operations::workflows::cancel(pool, actor, id, &why.reason).await?, output)
        }
    }
}
