//! Queues: what each job kind has waiting, running, retrying and dead; pause, resume and drain.
//!
//! Pausing is a row in `queue_controls`. Every worker polls the table (every
//! [`CONTROL_POLL`]) and cancels its consumer of a paused kind, so the broker stops handing it
//! messages; jobs already running finish and are acknowledged as usual. Workers report what they
//! consume and hold in flight in a heartbeat in Redis ([`Heartbeat`]), which is how a pause is
//! confirmed and a drain knows when it is done.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use adapters::postgres::runs::control as runs;
use adapters::redis::Pending;
use chrono::Utc;
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use workflows::jobs::JobKind;
use workflows::runs::RunStatus;

use super::audit::{self, Entry};
use super::{Actor, AdminError, Outcome};
use crate::Ops;

/// How often workers read the queue controls: a pause is obeyed within this (plus a query).
pub const CONTROL_POLL: Duration = Duration::from_millis(250);
/// How often workers write their heartbeat, and how long one lives.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
pub const HEARTBEAT_TTL: Duration = Duration::from_secs(5);

/// The kinds paused now.
pub async fn paused_kinds(pool: &PgPool) -> Result<HashSet<JobKind>, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar("select kind from queue_controls where paused").fetch_all(pool).await?;
    Ok(JobKind::ALL.into_iter().filter(|k| names.iter().any(|n| n == k.name())).collect())
}

/// One kind in a worker's heartbeat.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct KindState {
    /// Whether the worker has a consumer on the kind's queue.
    pub consuming: bool,
    /// Deliveries taken and not yet settled.
    pub in_flight: u64,
}

/// What one worker reports every second.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Heartbeat {
    /// `host:pid:random`.
    pub worker: String,
    pub kinds: BTreeMap<String, KindState>,
    pub at_ms: i64,
}

/// Writes a worker's heartbeat.
pub async fn beat(
    redis: &redis::aio::ConnectionManager,
    names: &adapters::Namespace,
    heartbeat: &Heartbeat,
) -> redis::RedisResult<()> {
    let mut conn = redis.clone();
    let body = serde_json::to_string(heartbeat).unwrap_or_default();
    redis::cmd("SET")
        .arg(names.worker_key(&heartbeat.worker))
        .arg(body)
        .arg("PX")
        .arg(u64::try_from(HEARTBEAT_TTL.as_millis()).unwrap_or(5_000))
        .query_async(&mut conn)
        .await
}

/// Removes a worker's heartbeat when it stops.
pub async fn farewell(
    redis: &redis::aio::ConnectionManager,
    names: &adapters::Namespace,
    worker: &str,
) -> redis::RedisResult<()> {
    let mut conn = redis.clone();
    redis::cmd("DEL").arg(names.worker_key(worker)).query_async(&mut conn).await
}

/// Every live worker's heartbeat.
pub async fn workers(ops: &Ops) -> Result<Vec<Heartbeat>, AdminError> {
    let mut conn = ops.redis.clone();
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(ops.names.worker_pattern())
            .arg("COUNT")
            .arg(200)
            .query_async(&mut conn)
            .await
            .map_err(anyhow::Error::from)?;
        keys.extend(batch);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let bodies: Vec<Option<String>> =
        redis::cmd("MGET").arg(&keys).query_async(&mut conn).await.map_err(anyhow::Error::from)?;
    let mut beats: Vec<Heartbeat> =
        bodies.into_iter().flatten().filter_map(|body| serde_json::from_str(&body).ok()).collect();
    beats.sort_by(|a, b| a.worker.cmp(&b.worker));
    Ok(beats)
}

/// One kind's queues, as `bella admin queues` shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueStats {
    pub kind: String,
    /// Messages waiting in the work queue.
    pub ready: u64,
    /// Deliveries workers hold and have not settled (from their heartbeats).
    pub unacked: u64,
    /// Runs waiting in a retry tier before their next attempt.
    pub retrying: u64,
    /// Dead letters waiting for an operator (kept in PostgreSQL, plus any the keeper has not
    /// moved yet).
    pub dead: u64,
    /// Consumers the broker counts on the work queue.
    pub consumers: u64,
    /// Workers that report consuming this kind.
    pub workers_consuming: u64,
    pub paused: bool,
    pub pause_reason: Option<String>,
    /// Age of the oldest job published and not finished, in seconds.
    pub oldest_seconds: f64,
    /// Runs completed per minute, over the last five minutes.
    pub completed_per_minute: f64,
    /// Runs that failed or were dead-lettered per minute, over the last five minutes.
    pub failed_per_minute: f64,
}

/// Passive declare: the message and consumer counts of an existing queue.
async fn queue_counts(ops: &Ops, queue: &str) -> Result<(u64, u64), AdminError> {
    let channel = ops.amqp.create_channel().await.map_err(anyhow::Error::from)?;
    let declared = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() },
            FieldTable::default(),
        )
        .await;
    let _ = channel.close(200, "OK".into()).await;
    let queue_state = declared.map_err(|e| anyhow::anyhow!("reading queue {queue}: {e}"))?;
    Ok((u64::from(queue_state.message_count()), u64::from(queue_state.consumer_count())))
}

/// Every kind's queues.
pub async fn stats(ops: &Ops) -> Result<Vec<QueueStats>, AdminError> {
    let retrying: Vec<(String, i64)> = runs::retrying_by_kind(&ops.pool).await?;
    let dead: Vec<(String, i64)> =
        sqlx::query_as("select kind, count(*) from dead_letters where status = 'dead' group by kind")
            .fetch_all(&ops.pool)
            .await?;
    let rates = runs::recent_ends(&ops.pool).await?;
    let controls: Vec<(String, bool, Option<String>)> =
        sqlx::query_as("select kind, paused, reason from queue_controls").fetch_all(&ops.pool).await?;
    let beats = workers(ops).await?;
    let pending = Pending::new(ops.redis.clone(), ops.names.clone());
    let count = |rows: &[(String, i64)], kind: &str| {
        rows.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0))
    };
    let mut out = Vec::new();
    for kind in JobKind::ALL {
        let name = kind.name();
        let (ready, consumers) = queue_counts(ops, &ops.names.queue(kind)).await?;
        let (dead_in_transit, _) = queue_counts(ops, &ops.names.dead_letter_queue(kind)).await?;
        let states = beats.iter().filter_map(|b| b.kinds.get(name));
        let (unacked, workers_consuming) =
            states.fold((0, 0), |(n, w), s| (n + s.in_flight, w + u64::from(s.consuming)));
        let per_minute = |statuses: &[&str]| {
            let total: i64 =
                rates.iter().filter(|(k, s, _)| k == name && statuses.contains(&s.as_str())).map(|r| r.2).sum();
            total as f64 / 5.0
        };
        let control = controls.iter().find(|(k, ..)| k == name);
        out.push(QueueStats {
            kind: name.to_owned(),
            ready,
            unacked,
            retrying: count(&retrying, name),
            dead: count(&dead, name) + dead_in_transit,
            consumers,
            workers_consuming,
            paused: control.is_some_and(|c| c.1),
            pause_reason: control.filter(|c| c.1).and_then(|c| c.2.clone()),
            oldest_seconds: pending
                .oldest_age(kind, adapters::postgres::runs::ended_in(&ops.pool))
                .await
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            completed_per_minute: per_minute(&[RunStatus::Completed.as_str()]),
            failed_per_minute: per_minute(&[RunStatus::Failed.as_str(), RunStatus::DeadLettered.as_str()]),
        });
    }
    Ok(out)
}

/// Parses kind names; an empty list means every kind.
pub fn kinds(names: &[String]) -> Result<Vec<JobKind>, AdminError> {
    if names.is_empty() {
        return Ok(JobKind::ALL.to_vec());
    }
    names
        .iter()
        .map(|name| {
            JobKind::from_name(name).ok_or_else(|| {
                let all: Vec<&str> = JobKind::ALL.iter().map(|k| k.name()).collect();
                AdminError::Invalid(format!("unknown job kind {name:?}; kinds are {}", all.join(", ")))
            })
        })
        .collect()
}

fn kind_names(kinds: &[JobKind]) -> Vec<&'static str> {
    kinds.iter().map(|k| k.name()).collect()
}

/// Sets the pause of `kinds`; returns how many changed. Audited as `action`.
async fn set_paused(
    ops: &Ops,
    actor: &Actor,
    kinds: &[JobKind],
    paused: bool,
    why: &str,
    action: &str,
) -> Result<Outcome, AdminError> {
    actor.require_operator()?;
    let why = super::reason(why)?;
    let mut tx = ops.pool.begin().await?;
    let mut affected = 0;
    for kind in kinds {
        let was: Option<bool> = sqlx::query_scalar("select paused from queue_controls where kind = $1 for update")
            .bind(kind.name())
            .fetch_optional(&mut *tx)
            .await?;
        if was.unwrap_or(false) == paused {
            continue;
        }
        sqlx::query(
            "insert into queue_controls (kind, paused, reason, updated_by, updated_at)
             values ($1, $2, $3, $4, now())
             on conflict (kind) do update
                set paused = excluded.paused, reason = excluded.reason, updated_by = excluded.updated_by,
                    updated_at = now()",
        )
        .bind(kind.name())
        .bind(paused)
        .bind(&why)
        .bind(&actor.name)
        .execute(&mut *tx)
        .await?;
        affected += 1;
    }
    let verb = if paused { "paused" } else { "resumed" };
    let result = match affected {
        0 => format!("already {verb}"),
        n => format!("{n} {} {verb}", if n == 1 { "kind" } else { "kinds" }),
    };
    let entry = Entry {
        actor,
        action,
        target: json!({ "kinds": kind_names(kinds) }),
        reason: &why,
        dry_run: false,
        affected,
        result: &result,
    };
    let outcome = audit::outcome(&mut *tx, &entry).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Stops every worker consuming `kinds`; jobs already running finish.
pub async fn pause(ops: &Ops, actor: &Actor, kinds: &[JobKind], why: &str) -> Result<Outcome, AdminError> {
    set_paused(ops, actor, kinds, true, why, "queues.pause").await
}

/// Lets workers consume `kinds` again.
pub async fn resume(ops: &Ops, actor: &Actor, kinds: &[JobKind], why: &str) -> Result<Outcome, AdminError> {
    set_paused(ops, actor, kinds, false, why, "queues.resume").await
}

/// Where a drain stands.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DrainState {
    /// Workers still consuming one of the kinds.
    pub consuming: u64,
    /// Jobs of the kinds still running.
    pub in_flight: u64,
}

/// The kinds' in-flight work across live workers.
pub async fn drain_state(ops: &Ops, kinds: &[JobKind]) -> Result<DrainState, AdminError> {
    let beats = workers(ops).await?;
    let mut state = DrainState::default();
    for beat in &beats {
        for kind in kinds {
            if let Some(s) = beat.kinds.get(kind.name()) {
                state.consuming += u64::from(s.consuming);
                state.in_flight += s.in_flight;
            }
        }
    }
    Ok(state)
}

/// What a drain left behind.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Drained {
    pub outcome: Outcome,
    /// Whether every worker stopped and every job in flight finished in time.
    pub complete: bool,
    pub in_flight: u64,
    /// What is left, per kind, for after the deploy: ready, retrying and dead.
    pub left: Vec<QueueStats>,
}

/// Pauses `kinds`, waits (at most `limit`) for every job in flight to finish, and reports what is
/// left. `progress` is told where the drain stands about every 200 ms. The kinds stay paused:
/// resume them after the deploy.
pub async fn drain(
    ops: &Ops,
    actor: &Actor,
    kinds: &[JobKind],
    why: &str,
    limit: Duration,
    mut progress: impl FnMut(&DrainState),
) -> Result<Drained, AdminError> {
    actor.require_operator()?;
    let why = super::reason(why)?;
    pause(ops, actor, kinds, &format!("drain: {why}")).await?;
    let deadline = tokio::time::Instant::now() + limit;
    // A worker may take one poll to see the pause and one heartbeat to report it.
    let settle = tokio::time::Instant::now() + CONTROL_POLL + HEARTBEAT_EVERY + Duration::from_millis(200);
    let state = loop {
        let state = drain_state(ops, kinds).await?;
        progress(&state);
        let done = state.consuming == 0 && state.in_flight == 0 && tokio::time::Instant::now() >= settle;
        if done || tokio::time::Instant::now() >= deadline {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let complete = state.consuming == 0 && state.in_flight == 0;
    let left: Vec<QueueStats> =
        stats(ops).await?.into_iter().filter(|s| kinds.iter().any(|k| k.name() == s.kind)).collect();
    let ready: u64 = left.iter().map(|s| s.ready).sum();
    let retrying: u64 = left.iter().map(|s| s.retrying).sum();
    let dead: u64 = left.iter().map(|s| s.dead).sum();
    let result = if complete {
        format!("drained: nothing in flight; left {ready} ready, {retrying} retrying, {dead} dead")
    } else {
        format!(
            "not drained within {} s: {} in flight on {} consuming workers; left {ready} ready",
            limit.as_secs(),
            state.in_flight,
            state.consuming
        )
    };
    let entry = Entry {
        actor,
        action: "queues.drain",
        target: json!({ "kinds": kind_names(kinds), "timeout_seconds": limit.as_secs() }),
        reason: &why,
        dry_run: false,
        affected: u64::try_from(kinds.len()).unwrap_or(0),
        result: &result,
    };
    let outcome = audit::outcome(&ops.pool, &entry).await?;
    Ok(Drained { outcome, complete, in_flight: state.in_flight, left })
}

/// The time now in milliseconds, for heartbeats.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}
