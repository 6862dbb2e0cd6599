//! The audit log: one row per operator action (who, when, why, on what, how many, and how it
//! ended). Written in the transaction of the change it describes, so a change is never without
//! its row and a row never claims a change that rolled back.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgExecutor;

use super::{Actor, Outcome};

/// One action, as written.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor: &'a Actor,
    /// `queues.pause`, `dead_letters.retry`, `workflows.resume`, ...
    pub action: &'a str,
    pub target: Value,
    pub reason: &'a str,
    pub dry_run: bool,
    pub affected: u64,
    pub result: &'a str,
}

/// Writes `entry` and returns its id.
pub async fn record(db: impl PgExecutor<'_>, entry: &Entry<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into audit_log (actor, role, action, target, reason, dry_run, affected, result)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning audit_id",
    )
    .bind(&entry.actor.name)
    .bind(entry.actor.role.as_str())
    .bind(entry.action)
    .bind(&entry.target)
    .bind(entry.reason)
    .bind(entry.dry_run)
    .bind(i32::try_from(entry.affected).unwrap_or(i32::MAX))
    .bind(entry.result)
    .fetch_one(db)
    .await
}

/// Records an action refused for want of a role (a viewer's change): refusals are on record
/// too, as the audit log's definition says.
pub async fn refused(db: impl PgExecutor<'_>, actor: &Actor, action: &str, target: Value) -> Result<i64, sqlx::Error> {
    record(
        db,
        &Entry {
            actor,
            action,
            target,
            reason: "",
            dry_run: false,
            affected: 0,
            result: "refused: the viewer role cannot change anything",
        },
    )
    .await
}

/// Records how a long action ended, on the row written when it started (a bulk retry writes its
/// row first, so that an interrupted one is still on record).
pub async fn finish(db: impl PgExecutor<'_>, audit_id: i64, affected: u64, result: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update audit_log set affected = $2, result = $3 where audit_id = $1")
        .bind(audit_id)
        .bind(i32::try_from(affected).unwrap_or(i32::MAX))
        .bind(result)
        .execute(db)
        .await?;
    Ok(())
}

/// Writes `entry` and turns it into the verb's [`Outcome`].
pub async fn outcome(db: impl PgExecutor<'_>, entry: &Entry<'_>) -> Result<Outcome, sqlx::Error> {
    let audit_id = record(db, entry).await?;
    Ok(Outcome { affected: entry.affected, dry_run: entry.dry_run, message: entry.result.to_owned(), audit_id })
}

/// One row of the audit log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct AuditRow {
    pub audit_id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: Value,
    pub reason: String,
    pub dry_run: bool,
    pub affected: i32,
    pub result: String,
}

/// Which rows to list (newest first).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    /// An action, or a prefix ending in `.` (`dead_letters.`).
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub limit: i64,
}

pub async fn list(db: impl PgExecutor<'_>, filter: &Filter) -> Result<Vec<AuditRow>, sqlx::Error> {
    // An exact action, or a prefix ending in `.`: matched literally (a `%` or `_` in the filter
    // is a character, not a wildcard).
    let (action, prefix) = match &filter.action {
        Some(a) if a.ends_with('.') => (Some(a.clone()), true),
        Some(a) => (Some(a.clone()), false),
        None => (None, false),
    };
    sqlx::query_as(
        "select audit_id, at, actor, role, action, target, reason, dry_run, affected, result
           from audit_log
          where ($1::text is null or actor = $1)
            and ($2::text is null or (case when $5 then starts_with(action, $2) else action = $2 end))
            and ($3::timestamptz is null or at >= $3)
          order by audit_id desc
          limit $4",
    )
    .bind(&filter.actor)
    .bind(action)
    .bind(filter.since)
    .bind(filter.limit.clamp(1, 5_000))
    .bind(prefix)
    .fetch_all(db)
    .await
}
