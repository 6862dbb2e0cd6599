//! `bella admin calls show`: a call's timeline.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use sqlx::PgPool;

use super::{Output, print_json};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// A call's timeline: each turn (heard and said), its jobs, appointment, texts, operator
    /// actions.
    Show { call_sid: String },
}

pub async fn run(pool: &PgPool, command: Command, output: Output) -> anyhow::Result<()> {
    let Command::Show { call_sid } = command;
    let events = operations::calls::timeline(pool, &call_sid).await?;
    if output.json {
        return print_json(&events);
    }
    for event in events {
        println!("{}  {:<11}  {}", event.at.format("%Y-%m-%d %H:%M:%S%.3f"), event.source, event.summary);
        if event.source == "turn"
            && let Some(said) = event.detail.get("said").and_then(|s| s.as_str())
        {
            println!("{:>38}said \u{201c}{said}\u{201d}", "");
        }
    }
    Ok(())
}
