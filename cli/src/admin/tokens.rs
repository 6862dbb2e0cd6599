//! `bella admin token`: create, list, revoke the admin API's and console's tokens.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use operations::{Actor, Role};
use sqlx::PgPool;
use uuid::Uuid;

use super::{Output, Why, print_json, print_outcome, table};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make a token for the admin API and console; it is shown once.
    Create {
        /// Who holds it (recorded with each of their actions).
        #[arg(long)]
        name: String,
        /// viewer (read only) or operator (may change things).
        #[arg(long)]
        role: Role,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token: it stops working at once.
    Revoke {
        id: Uuid,
        #[command(flatten)]
        why: Why,
    },
}

pub async fn run(pool: &PgPool, actor: &Actor, command: Command, output: Output) -> anyhow::Result<()> {
    match command {
        Command::Create { name, role } => {
            let created = operations::tokens::create(pool, actor, &name, role).await?;
            if output.json {
                return print_json(&created);
            }
            println!("{}", created.token);
            eprintln!(
                "token {} for {} ({}) created: it is shown only this once (audit #{})",
                created.id,
                created.name,
                created.role.as_str(),
                created.audit_id
            );
            Ok(())
        }
        Command::List => {
            let rows = operations::tokens::list(pool).await?;
            if output.json {
                return print_json(&rows);
            }
            let rows: Vec<Vec<String>> = rows
                .iter()
                .map(|t| {
                    vec![
                        t.admin_token_id.to_string(),
                        t.name.clone(),
                        t.role.clone(),
                        t.created_at.format("%Y-%m-%d").to_string(),
                        t.last_used_at.map_or("never".into(), |at| at.format("%Y-%m-%d %H:%M").to_string()),
                        if t.revoked_at.is_some() { "revoked".into() } else { "active".into() },
                    ]
                })
                .collect();
            table(&["id", "name", "role", "created", "last used", "state"], &rows);
            Ok(())
        }
        Command::Revoke { id, why } => {
            print_outcome(&operations::tokens::revoke(pool, actor, id, &why.reason).await?, output)
        }
    }
}
