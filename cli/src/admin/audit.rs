//! `bella admin audit`: the audit log, newest first.

use sqlx::PgPool;

use super::{Output, print_json, short, table};

/// Which entries.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[arg(long)]
    actor: Option<String>,
    /// An action (workflows.resume) or a prefix (dead_letters.).
    #[arg(long)]
    action: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: i64,
}

pub async fn run(pool: &PgPool, args: Args, output: Output) -> anyhow::Result<()> {
    let filter = operations::audit::Filter { actor: args.actor, action: args.action, since: None, limit: args.limit };
    let rows = operations::audit::list(pool, &filter).await?;
    if output.json {
        return print_json(&rows);
    }
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                format!("#{}", r.audit_id),
                r.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                r.actor.clone(),
                r.action.clone(),
                if r.dry_run { format!("{} (dry run)", r.affected) } else { r.affected.to_string() },
                short(Some(&r.reason), 40),
                short(Some(&r.result), 60),
            ]
        })
        .collect();
    table(&["id", "at (UTC)", "actor", "action", "affected", "reason", "result"], &rows);
    Ok(())
}
