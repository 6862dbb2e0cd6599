//! `bella admin appointments`: list, show, cancel.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use adapters::postgres::appointments;
use operations::Actor;
use sqlx::PgPool;

use super::{Confirm, Output, Why, confirm, print_json, print_outcome, table};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List appointments by start time.
    List {
        #[arg(long = "call-sid")]
        call_sid: Option<String>,
        /// booked or cancelled.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// One appointment (id or reference), its texts and runs.
    Show { appointment: String },
    /// Cancel an appointment (id or reference) and text the caller.
    Cancel {
        appointment: String,
        #[command(flatten)]
        why: Why,
        #[command(flatten)]
        confirm: Confirm,
    },
}

pub async fn run(pool: &PgPool, actor: &Actor, command: Command, output: Output) -> anyhow::Result<()> {
    match command {
        Command::List { call_sid, status, limit } => {
            let filter = appointments::Filter { call_sid, status, limit: limit.clamp(1, 5_000), ..Default::default() };
            let rows = appointments::list(pool, &filter).await?;
            let views: Vec<serde_json::Value> = rows
                .iter()
                .map(|a| {
                    let zone: chrono_tz::Tz = a.time_zone.parse().unwrap_or(chrono_tz::UTC);
                    serde_json::json!({
                        "id": a.appointment_id, "reference": a.reference, "business": a.business_name,
                        "name": a.name, "name_to_check": a.name_to_check, "phone": a.phone, "status": a.status, "call_sid": a.call_sid,
                        "starts_at": a.starts_at.with_timezone(&zone).to_rfc3339(),
                    })
                })
                .collect();
            if output.json {
                return print_json(&views);
            }
            let rows: Vec<Vec<String>> = rows
                .iter()
                .map(|a| {
                    let zone: chrono_tz::Tz = a.time_zone.parse().unwrap_or(chrono_tz::UTC);
                    vec![
                        a.reference.clone(),
                        a.starts_at.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z").to_string(),
                        if a.name_to_check { format!("{} (check)", a.name) } else { a.name.clone() },
                        operations::mask_phone_numbers(&a.phone),
                        a.status.clone(),
                        a.business_name.clone(),
                    ]
                })
                .collect();
            table(&["reference", "starts", "name", "phone", "status", "business"], &rows);
            Ok(())
        }
        Command::Show { appointment } => print_json(&operations::calls::appointment(pool, &appointment).await?),
        Command::Cancel { appointment, why, confirm: yes } => {
            confirm(yes, &format!("cancel appointment {appointment} and text the caller"))?;
            print_outcome(&operations::calls::cancel_appointment(pool, actor, &appointment, &why.reason).await?, output)
        }
    }
}
