//! `bella admin queues|dead-letters|workflows|appointments|calls|token|audit`: the operator verbs
//! of [`adapters::admin`], at the command line. Each prints a table (or `--json`), and each
//! mutating verb takes `--reason` and prints the audit entry it wrote.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::time::Duration;

use adapters::admin::{self, Actor, Ops, Outcome, Role};
use adapters::postgres::appointments;
use anyhow::Context as _;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

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

#[derive(Debug, clap::Subcommand)]
pub enum QueuesCommand {
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
    fn to_filter(&self) -> admin::dead_letters::Filter {
        admin::dead_letters::Filter {
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
pub enum DeadLettersCommand {
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

#[derive(Debug, clap::Subcommand)]
pub enum WorkflowsCommand {
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

#[derive(Debug, clap::Subcommand)]
pub enum AppointmentsCommand {
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

#[derive(Debug, clap::Subcommand)]
pub enum CallsCommand {
    /// A call's timeline: each turn (heard and said), its jobs, appointment, texts, operator
    /// actions.
    Show { call_sid: String },
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
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

/// Operator verbs.
#[derive(Debug, clap::Subcommand)]
pub enum OpsCommand {
    /// Job queues: counts, pause, resume, drain.
    Queues {
        #[command(subcommand)]
        command: Option<QueuesCommand>,
    },
    /// Dead letters: list, show, retry, discard, purge.
    #[command(name = "dead-letters", alias = "dlq")]
    DeadLetters {
        #[command(subcommand)]
        command: DeadLettersCommand,
    },
    /// Workflow runs: list, show, resume, cancel.
    Workflows {
        #[command(subcommand)]
        command: WorkflowsCommand,
    },
    /// Appointments: list, show, cancel.
    Appointments {
        #[command(subcommand)]
        command: AppointmentsCommand,
    },
    /// Calls: the timeline of one call.
    Calls {
        #[command(subcommand)]
        command: CallsCommand,
    },
    /// Admin API and console tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit log, newest first.
    Audit {
        #[arg(long)]
        actor: Option<String>,
        /// An action (workflows.resume) or a prefix (dead_letters.).
        #[arg(long)]
        action: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
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

fn kinds_or_all(kinds: &[String], all: bool, verb: &str) -> anyhow::Result<Vec<workflows::jobs::JobKind>> {
    if kinds.is_empty() && !all {
        anyhow::bail!("name the kinds to {verb} (or --all): book_appointment, send_sms, ...");
    }
    Ok(admin::queues::kinds(kinds)?)
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

/// Runs an operator verb. `ops` is built only for verbs that need Redis and RabbitMQ.
pub async fn run(
    pool: &PgPool,
    connect_ops: impl AsyncFnOnce() -> anyhow::Result<Ops>,
    command: OpsCommand,
    output: Output,
) -> anyhow::Result<()> {
    let actor = Actor::cli();
    match command {
        OpsCommand::Queues { command } => queues(&connect_ops().await?, &actor, command, output).await,
        OpsCommand::DeadLetters { command } => dead_letters(pool, &actor, command, output).await,
        OpsCommand::Workflows { command } => workflows(pool, &actor, command, output).await,
        OpsCommand::Appointments { command } => appointments_verbs(pool, &actor, command, output).await,
        OpsCommand::Calls { command: CallsCommand::Show { call_sid } } => {
            let events = admin::calls::timeline(pool, &call_sid).await?;
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
        OpsCommand::Token { command } => tokens(pool, &actor, command, output).await,
        OpsCommand::Audit { actor: who, action, limit } => {
            let filter = admin::audit::Filter { actor: who, action, since: None, limit };
            let rows = admin::audit::list(pool, &filter).await?;
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
    }
}

async fn queues(ops: &Ops, actor: &Actor, command: Option<QueuesCommand>, output: Output) -> anyhow::Result<()> {
    match command.unwrap_or(QueuesCommand::List) {
        QueuesCommand::List => {
            let stats = admin::queues::stats(ops).await?;
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
                &[
                    "kind",
                    "state",
                    "ready",
                    "unacked",
                    "retrying",
                    "dead",
                    "consumers",
                    "oldest",
                    "done/min",
                    "failed/min",
                ],
                &rows,
            );
            Ok(())
        }
        QueuesCommand::Pause { kinds, all, why } => {
            let kinds = kinds_or_all(&kinds, all, "pause")?;
            let outcome = admin::queues::pause(ops, actor, &kinds, &why.reason).await?;
            print_outcome(&outcome, output)?;
            confirm_workers(ops, &kinds, true).await
        }
        QueuesCommand::Resume { kinds, all, why } => {
            let kinds = kinds_or_all(&kinds, all, "resume")?;
            let outcome = admin::queues::resume(ops, actor, &kinds, &why.reason).await?;
            print_outcome(&outcome, output)
        }
        QueuesCommand::Drain { kinds, timeout, why } => {
            let kinds = admin::queues::kinds(&kinds)?;
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.enable_steady_tick(Duration::from_millis(120));
            let drained = admin::queues::drain(ops, actor, &kinds, &why.reason, timeout, |state| {
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
async fn confirm_workers(ops: &Ops, kinds: &[workflows::jobs::JobKind], paused: bool) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let state = admin::queues::drain_state(ops, kinds).await?;
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

async fn dead_letters(pool: &PgPool, actor: &Actor, command: DeadLettersCommand, output: Output) -> anyhow::Result<()> {
    let need_filter = |filter: &DeadFilter, all: bool, verb: &str| -> anyhow::Result<()> {
        if filter.is_empty() && !all {
            anyhow::bail!(
                "name dead letter ids or a filter (--kind, --call-sid, --older-than, ...) to {verb}, or --all"
            );
        }
        Ok(())
    };
    match command {
        DeadLettersCommand::List { filter, limit } => {
            let rows = admin::dead_letters::list(pool, &filter.to_filter(), limit).await?;
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
                        short(d.last_error.as_deref().map(admin::mask_phone_numbers).as_deref(), 60),
                    ]
                })
                .collect();
            table(&["id", "kind", "dead at (UTC)", "status", "class", "call", "error"], &rows);
            Ok(())
        }
        DeadLettersCommand::Show { id } => print_json(&admin::dead_letters::show(pool, id).await?),
        DeadLettersCommand::Retry { filter, all, dry_run, rate, why } => {
            need_filter(&filter, all, "retry")?;
            let bar = indicatif::ProgressBar::hidden();
            if !dry_run && !output.json {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_style(
                    indicatif::ProgressStyle::with_template("retrying {bar:40} {pos}/{len} ({per_sec}, {eta} left)")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
            }
            let options = admin::dead_letters::RetryOptions { dry_run, per_second: rate };
            let outcome =
                admin::dead_letters::retry(pool, actor, &filter.to_filter(), &why.reason, options, |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
                .await?;
            bar.finish_and_clear();
            print_outcome(&outcome, output)
        }
        DeadLettersCommand::Discard { filter, all, why, confirm: yes } => {
            need_filter(&filter, all, "discard")?;
            let count = admin::dead_letters::list(pool, &filter.to_filter(), 5_000).await?.len();
            confirm(yes, &format!("discard {count} dead letters"))?;
            print_outcome(&admin::dead_letters::discard(pool, actor, &filter.to_filter(), &why.reason).await?, output)
        }
        DeadLettersCommand::Purge { filter, all, why, confirm: yes } => {
            need_filter(&filter, all, "purge")?;
            let mut counting = filter.to_filter();
            counting.status = counting.status.or(Some("any".into()));
            let count = admin::dead_letters::list(pool, &counting, 5_000).await?.len();
            confirm(yes, &format!("delete {count} dead letters for good"))?;
            print_outcome(&admin::dead_letters::purge(pool, actor, &filter.to_filter(), &why.reason).await?, output)
        }
    }
}

async fn workflows(pool: &PgPool, actor: &Actor, command: WorkflowsCommand, output: Output) -> anyhow::Result<()> {
    match command {
        WorkflowsCommand::List { status, kind, business, call_sid, from, to, limit } => {
            let filter = admin::workflows::Filter { status, kind, business, call_sid, from, to };
            let runs = admin::workflows::list(pool, &filter, limit).await?;
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
                        short(r.last_error.as_deref().map(admin::mask_phone_numbers).as_deref(), 50),
                    ]
                })
                .collect();
            table(&["id", "kind", "status", "attempts", "created (UTC)", "call", "last error"], &rows);
            Ok(())
        }
        WorkflowsCommand::Show { id } => {
            let run = admin::workflows::show(pool, id).await?;
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
                println!("last error: {}", admin::mask_phone_numbers(error));
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
        WorkflowsCommand::Resume { id, set, why } => {
            let mut edits = BTreeMap::new();
            for pair in set {
                let (field, value) = pair.split_once('=').with_context(|| {
                    format!("--set takes FIELD=VALUE, such as name=\"Marie Tremblay\"; got {pair:?}")
                })?;
                edits.insert(field.trim().to_owned(), value.to_owned());
            }
            print_outcome(&admin::workflows::resume(pool, actor, id, &edits, &why.reason).await?, output)
        }
        WorkflowsCommand::Cancel { id, why, confirm: yes } => {
            confirm(yes, &format!("cancel workflow run {id}"))?;
            print_outcome(&admin::workflows::cancel(pool, actor, id, &why.reason).await?, output)
        }
    }
}

async fn appointments_verbs(
    pool: &PgPool,
    actor: &Actor,
    command: AppointmentsCommand,
    output: Output,
) -> anyhow::Result<()> {
    match command {
        AppointmentsCommand::List { call_sid, status, limit } => {
            let filter = appointments::Filter { call_sid, status, limit: limit.clamp(1, 5_000), ..Default::default() };
            let rows = appointments::list(pool, &filter).await?;
            let views: Vec<serde_json::Value> = rows
                .iter()
                .map(|a| {
                    let zone: chrono_tz::Tz = a.time_zone.parse().unwrap_or(chrono_tz::UTC);
                    serde_json::json!({
                        "id": a.appointment_id, "reference": a.reference, "business": a.business_name,
                        "name": a.name, "phone": a.phone, "status": a.status, "call_sid": a.call_sid,
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
                        a.name.clone(),
                        admin::mask_phone_numbers(&a.phone),
                        a.status.clone(),
                        a.business_name.clone(),
                    ]
                })
                .collect();
            table(&["reference", "starts", "name", "phone", "status", "business"], &rows);
            Ok(())
        }
        AppointmentsCommand::Show { appointment } => print_json(&admin::calls::appointment(pool, &appointment).await?),
        AppointmentsCommand::Cancel { appointment, why, confirm: yes } => {
            confirm(yes, &format!("cancel appointment {appointment} and text the caller"))?;
            print_outcome(&admin::calls::cancel_appointment(pool, actor, &appointment, &why.reason).await?, output)
        }
    }
}

async fn tokens(pool: &PgPool, actor: &Actor, command: TokenCommand, output: Output) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { name, role } => {
            let created = admin::tokens::create(pool, actor, &name, role).await?;
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
        TokenCommand::List => {
            let rows = admin::tokens::list(pool).await?;
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
        TokenCommand::Revoke { id, why } => {
            print_outcome(&admin::tokens::revoke(pool, actor, id, &why.reason).await?, output)
        }
    }
}
