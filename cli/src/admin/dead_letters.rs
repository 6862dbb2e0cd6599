//! `bella admin dead-letters`: list, show, retry, discard, purge.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use operations::Actor;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Confirm, Output, Why, confirm, duration, print_json, print_outcome, short, table};

/// Which dead letters: every option narrows.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DeadFilter {
    /// Dead letter ids.
    pub ids: Vec<Uuid>,
    #[arg(long)]
    pub kind: Option<String>,
    /// retryable, permanent, retry_after or needs_repair.
    #[arg(long = "error-class")]
    pub error_class: Option<String>,
    #[arg(long = "call-sid")]
    pub call_sid: Option<String>,
    /// A business id.
    #[arg(long)]
    pub business: Option<Uuid>,
    /// Dead for at least this long (90s, 2h, 3days).
    #[arg(long = "older-than", value_parser = duration)]
    pub older_than: Option<Duration>,
    /// Dead for at most this long.
    #[arg(long = "newer-than", value_parser = duration)]
    pub newer_than: Option<Duration>,
    /// dead (the default), retried, discarded or any.
    #[arg(long)]
    pub status: Option<String>,
}

impl DeadFilter {
    fn to_filter(&self) -> operations::dead_letters::Filter {
        operations::dead_letters::Filter {
            ids: self.ids.clone(),
            kind: self.kind.clone(),
            error_class: self.error_class.clone(),
            call_sid: self.call_sid.clone(),
            business: self.business,
            older_than_seconds: self.older_than.map(|d| d.as_secs()),
            newer_than_seconds: self.newer_than.map(|d| d.as_secs()),
            status: self.status.clone(),
            job_key: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.ids.is_empty()
            && self.kind.is_none()
            && self.error_class.is_none()
            && self.call_sid.is_none()
            && self.business.is_none()
            && self.older_than.is_none()
            && self.newer_than.is_none()
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List dead letters, oldest first.
    List {
        #[command(flatten)]
        filter: DeadFilter,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// One dead letter: its payload (phone numbers masked), headers, run and history.
    Show { id: Uuid },
    /// Publish dead letters again, each at most once. Name ids or filter; --all for every one.
    Retry {
        #[command(flatten)]
        filter: DeadFilter,
        /// Retry every dead letter.
        #[arg(long)]
        all: bool,
        /// Count what would be retried, change nothing.
        #[arg(long = "dry-run")]
        dry_run: bool,
        /// At most this many per second (0: no limit).
        #[arg(long, default_value_t = 20)]
        rate: u32,
        #[command(flatten)]
        why: Why,
    },
    /// Give up on dead letters, with the reason; their workflow runs end cancelled.
    Discard {
        #[command(flatten)]
        filter: DeadFilter,
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        why: Why,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Delete dead letters for good (any status unless --status says).
    Purge {
        #[command(flatten)]
        filter: DeadFilter,
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        why: Why,
        #[command(flatten)]
        confirm: Confirm,
    },
}

/// The dead letters matching `filter`, as a table or JSON.
async fn list(pool: &PgPool, filter: &DeadFilter, limit: i64, output: Output) -> anyhow::Result<()> {
    let rows = operations::dead_letters::list(pool, &filter.to_filter(), limit).await?;
    if output.json {
        return print_json(&rows);
    }
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|d| {
            vec![
                d.dead_letter_id.to_string(),
                d.kind.clone(),
                d.dead_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                d.status.clone(),
                short(d.error_class.as_deref(), 12),
                short(d.call_sid.as_deref(), 34),
                short(d.last_error.as_deref().map(operations::mask_phone_numbers).as_deref(), 60),
            ]
        })
        .collect();
    table(&["id", "kind", "dead at (UTC)", "status", "class", "call", "error"], &rows);
    Ok(())
}

/// Runs `bella admin dead-letters …`.
pub async fn run(pool: &PgPool, actor: &Actor, command: Command, output: Output) -> anyhow::Result<()> {
    let need_filter = |filter: &DeadFilter, all: bool, verb: &str| -> anyhow::Result<()> {
        if filter.is_empty() && !all {
            anyhow::bail!(
                "name dead letter ids or a filter (--kind, --call-sid, --older-than, ...) to {verb}, or --all"
            );
        }
        Ok(())
    };
    match command {
        Command::List { filter, limit } => list(pool, &filter, limit, output).await,
        Command::Show { id } => print_json(&operations::dead_letters::show(pool, id).await?),
        Command::Retry { filter, all, dry_run, rate, why } => {
            need_filter(&filter, all, "retry")?;
            let bar = indicatif::ProgressBar::hidden();
            if !dry_run && !output.json {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_style(
                    indicatif::ProgressStyle::with_template("retrying {bar:40} {pos}/{len} ({per_sec}, {eta} left)")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
            }
            let options = operations::dead_letters::RetryOptions { dry_run, per_second: rate };
            let outcome = operations::dead_letters::retry(
                pool,
                actor,
                &filter.to_filter(),
                &why.reason,
                options,
                |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            )
            .await?;
            bar.finish_and_clear();
            print_outcome(&outcome, output)
        }
        Command::Discard { filter, all, why, confirm: yes } => {
            need_filter(&filter, all, "discard")?;
            let count = operations::dead_letters::list(pool, &filter.to_filter(), 5_000).await?.len();
            confirm(yes, &format!("discard {count} dead letters"))?;
            print_outcome(
                &operations::dead_letters::discard(pool, actor, &filter.to_filter(), &why.reason).await?,
                output,
            )
        }
        Command::Purge { filter, all, why, confirm: yes } => {
            need_filter(&filter, all, "purge")?;
            let mut counting = filter.to_filter();
            counting.status = counting.status.or(Some("any".into()));
            let count = operations::dead_letters::list(pool, &counting, 5_000).await?.len();
            confirm(yes, &format!("delete {count} dead letters for good"))?;
            print_outcome(
                &operations::dead_letters::purge(pool, actor, &filter.to_filter(), &why.reason).await?,
                output,
            )
        }
    }
}
