//! Dead letters: jobs that will not succeed without an operator.
//!
//! RabbitMQ's dead-letter queues are where they land (the worker publishes a copy with the reason,
//! or the broker moves a message past its delivery limit); the worker's keeper moves each one into
//! the `dead_letters` table ([`keep`]) and acknowledges it after the commit. In PostgreSQL they
//! can be filtered, inspected and retried one by one, which a queue cannot do.
//!
//! A retry writes the job to the outbox under a key of its own (`retry:{dead_letter_id}`) in the
//! transaction that marks the dead letter `retried`: each dead letter is published again at most
//! once, however often the retry is asked for, and the job's own idempotency key still guards its
//! effect.

use std::collections::BTreeMap;
use std::time::Duration;

use adapters::amqp::headers as amqp_headers;
use adapters::postgres::runs::control as runs;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;
use workflows::jobs::Job;

use super::audit::{self, Entry};
use super::{Actor, AdminError, Outcome, mask_phone_numbers};

/// A dead letter as it left RabbitMQ.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// The dead-letter queue's kind.
    pub kind: &'a str,
    pub payload: &'a [u8],
    /// The message's headers, as text.
    pub headers: BTreeMap<String, String>,
}

/// Keeps a dead letter in PostgreSQL, once (a redelivered one is recognised by its key), and
/// marks its workflow run dead-lettered. Returns whether it was new.
pub async fn keep(pool: &PgPool, incoming: &Incoming<'_>) -> Result<bool, sqlx::Error> {
    let headers = &incoming.headers;
    // The worker names each dead-lettering; the broker's own (past the delivery limit) are told
    // apart by their x-death record.
    let dead_key = match headers.get(amqp_headers::DEAD_ID) {
        Some(id) => id.clone(),
        None => {
            let mut hash = Sha256::new();
            hash.update(incoming.payload);
            hash.update(headers.get("x-death").map(String::as_bytes).unwrap_or_default());
            hash.update(headers.get("x-first-death-reason").map(String::as_bytes).unwrap_or_default());
            format!("broker:{:x}", hash.finalize())
        }
    };
    let job: Option<Job> = serde_json::from_slice(incoming.payload).ok();
    let (error_class, error) = match (headers.get(amqp_headers::ERROR_CLASS), headers.get(amqp_headers::ERROR)) {
        (Some(class), error) => (Some(class.clone()), error.cloned()),
        (None, _) => {
            let reason = headers.get("x-first-death-reason").cloned().unwrap_or_else(|| "unknown".into());
            (
                Some("permanent".to_owned()),
                Some(format!("dead-lettered by RabbitMQ ({reason}): the job kept failing its worker")),
            )
        }
    };
    let attempts = headers.get(amqp_headers::ATTEMPT).and_then(|a| a.parse::<i32>().ok()).unwrap_or(1);
    let dead_at = headers
        .get(amqp_headers::DEAD_AT)
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or_else(Utc::now);
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "insert into dead_letters
            (dead_letter_id, dead_key, kind, job_key, call_sid, business_id, payload, headers, error_class,
             last_error, attempts, dead_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         on conflict (dead_key) do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(&dead_key)
    .bind(incoming.kind)
    .bind(job.as_ref().map(Job::idempotency_key))
    .bind(job.as_ref().map(|j| j.call_sid().as_str().to_owned()))
    .bind(job.as_ref().map(|j| j.business_id().as_uuid()))
    .bind(incoming.payload)
    .bind(json!(headers))
    .bind(&error_class)
    .bind(&error)
    .bind(attempts)
    .bind(dead_at)
    .execute(&mut *tx)
    .await?;
    if let Some(job) = &job {
        // The broker dead-letters without telling the worker: the run learns it here.
        runs::dead_lettered(&mut tx, job.idempotency_key(), error_class.as_deref(), error.as_deref()).await?;
    }
    tx.commit().await?;
    Ok(inserted.rows_affected() == 1)
}

/// Which dead letters a verb applies to. Every field narrows; none means all.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Filter {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_sid: Option<String>,
    /// The job's idempotency key: every dead-lettering of one job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business: Option<Uuid>,
    /// Dead for at least this long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub older_than_seconds: Option<u64>,
    /// Dead for at most this long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newer_than_seconds: Option<u64>,
    /// `dead` (the default for every verb but purge), `retried`, `discarded`, or `any`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl Filter {
    /// Checks the values a person typed, naming the one to fix.
    pub fn validate(&self) -> Result<(), AdminError> {
        if let Some(kind) = &self.kind {
            super::queues::kinds(std::slice::from_ref(kind))?;
        }
        if let Some(class) = &self.error_class
            && !matches!(class.as_str(), "retryable" | "permanent" | "retry_after" | "needs_repair")
        {
            return Err(AdminError::Invalid(format!(
                "error class must be retryable, permanent, retry_after or needs_repair, not {class:?}"
            )));
        }
        if let Some(status) = &self.status
            && !matches!(status.as_str(), "dead" | "retried" | "discarded" | "any")
        {
            return Err(AdminError::Invalid(format!("status must be dead, retried, discarded or any, not {status:?}")));
        }
        Ok(())
    }

    fn push_where(&self, query: &mut QueryBuilder<Postgres>, default_status: &str) {
        query.push(" where true");
        let status = self.status.clone().unwrap_or_else(|| default_status.to_owned());
        if status != "any" {
            query.push(" and status = ").push_bind(status);
        }
        if !self.ids.is_empty() {
            query.push(" and dead_letter_id = any(").push_bind(self.ids.clone()).push(")");
        }
        if let Some(kind) = &self.kind {
            query.push(" and kind = ").push_bind(kind.clone());
        }
        if let Some(class) = &self.error_class {
            query.push(" and error_class = ").push_bind(class.clone());
        }
        if let Some(call) = &self.call_sid {
            query.push(" and call_sid = ").push_bind(call.clone());
        }
        if let Some(key) = &self.job_key {
            query.push(" and job_key = ").push_bind(key.clone());
        }
        if let Some(business) = self.business {
            query.push(" and business_id = ").push_bind(business);
        }
        if let Some(secs) = self.older_than_seconds {
            query.push(" and dead_at <= now() - make_interval(secs => ").push_bind(secs as f64).push(")");
        }
        if let Some(secs) = self.newer_than_seconds {
            query.push(" and dead_at >= now() - make_interval(secs => ").push_bind(secs as f64).push(")");
        }
    }
}

/// A dead letter in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Summary {
    pub dead_letter_id: Uuid,
    pub kind: String,
    pub job_key: Option<String>,
    pub call_sid: Option<String>,
    pub business_id: Option<Uuid>,
    pub error_class: Option<String>,
    pub last_error: Option<String>,
    pub attempts: i32,
    pub dead_at: DateTime<Utc>,
    pub status: String,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
}

const SUMMARY_COLUMNS: &str = "select dead_letter_id, kind, job_key, call_sid, business_id, error_class, last_error,
    attempts, dead_at, status, resolved_at, resolved_by, resolution from dead_letters";

/// Dead letters matching `filter`, oldest first.
pub async fn list(pool: &PgPool, filter: &Filter, limit: i64) -> Result<Vec<Summary>, AdminError> {
    filter.validate()?;
    let mut query = QueryBuilder::new(SUMMARY_COLUMNS);
    filter.push_where(&mut query, "dead");
    query.push(" order by dead_at, dead_letter_id limit ").push_bind(limit.clamp(1, 5_000));
    Ok(query.build_query_as().fetch_all(pool).await?)
}

/// One dead letter in full, phone numbers masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Detail {
    #[serde(flatten)]
    pub summary: Summary,
    /// The job as published (JSON when it decodes, else the raw text), phone numbers masked.
    pub payload: Value,
    pub headers: Value,
    /// The job's workflow run, when it has one: its status and attempts.
    pub run: Option<Value>,
    /// Earlier dead-letterings of the same job.
    pub history: Vec<Summary>,
}

/// Masks phone numbers in every string of a JSON value.
pub fn masked(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(mask_phone_numbers(s)),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), masked(v))).collect()),
        other => other.clone(),
    }
}

pub async fn show(pool: &PgPool, id: Uuid) -> Result<Detail, AdminError> {
    let filter = Filter { ids: vec![id], status: Some("any".into()), ..Filter::default() };
    let summary = list(pool, &filter, 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AdminError::NotFound(format!("no dead letter {id}")))?;
    let (payload, headers): (Vec<u8>, Value) =
        sqlx::query_as("select payload, headers from dead_letters where dead_letter_id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?;
    let payload = match serde_json::from_slice::<Value>(&payload) {
        Ok(json) => masked(&json),
        Err(_) => Value::String(mask_phone_numbers(&String::from_utf8_lossy(&payload))),
    };
    let run = match &summary.job_key {
        Some(key) => runs::brief(pool, key).await?.map(|run| masked(&run)),
        None => None,
    };
    let history = match &summary.job_key {
        Some(key) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SUMMARY_COLUMNS} where job_key = $1 and dead_letter_id <> $2 order by dead_at limit 100"
            )))
            .bind(key)
            .bind(id)
            .fetch_all(pool)
            .await?
        }
        None => Vec::new(),
    };
    Ok(Detail { summary, payload, headers: masked(&headers), run, history })
}

/// How a bulk retry goes.
#[derive(Debug, Clone, Copy)]
pub struct RetryOptions {
    /// Count, audit, change nothing.
    pub dry_run: bool,
    /// Dead letters republished per second, at most (0: no limit).
    pub per_second: u32,
}

async fn matching_ids(pool: &PgPool, filter: &Filter, default_status: &str) -> Result<Vec<Uuid>, AdminError> {
    filter.validate()?;
    let mut query = QueryBuilder::new("select dead_letter_id from dead_letters");
    filter.push_where(&mut query, default_status);
    query.push(" order by dead_at, dead_letter_id limit 100000");
    Ok(query.build_query_scalar().fetch_all(pool).await?)
}

/// Publishes the matching dead letters again (through the outbox), each at most once; their
/// workflow runs go back to `retrying`. `progress(done, total)` is called after each one. A
/// dead letter that cannot be decoded is skipped: discard it instead.
pub async fn retry(
    pool: &PgPool,
    actor: &Actor,
    filter: &Filter,
    why: &str,
    options: RetryOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<Outcome, AdminError> {
    actor.require_operator()?;
    let why = super::reason(why)?;
    if filter.status.as_deref().is_some_and(|s| s != "dead") {
        return Err(AdminError::Invalid("only dead letters with status dead can be retried".into()));
    }
    let ids = matching_ids(pool, filter, "dead").await?;
    let total = u64::try_from(ids.len()).unwrap_or(u64::MAX);
    let target = json!({ "filter": filter, "per_second": options.per_second });
    if options.dry_run {
        let result = format!("dry run: {} would be retried", letters(total));
        let entry = Entry {
            actor,
            action: "dead_letters.retry",
            target,
            reason: &why,
            dry_run: true,
            affected: total,
            result: &result,
        };
        return Ok(audit::outcome(pool, &entry).await?);
    }
    let started = format!("retrying {total} dead letters");
    let audit_id = audit::record(
        pool,
        &Entry {
            actor,
            action: "dead_letters.retry",
            target,
            reason: &why,
            dry_run: false,
            affected: 0,
            result: &started,
        },
    )
    .await?;
    let gap = (options.per_second > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(options.per_second)));
    let (mut retried, mut skipped) = (0u64, 0u64);
    for (done, id) in ids.into_iter().enumerate() {
        let began = tokio::time::Instant::now();
        match retry_one(pool, actor, id, &why).await? {
            RetryOne::Retried => retried += 1,
            RetryOne::Undecodable => skipped += 1,
            RetryOne::Gone => {}
        }
        progress(u64::try_from(done + 1).unwrap_or(u64::MAX), total);
        if let Some(gap) = gap {
            tokio::time::sleep_until(began + gap).await;
        }
    }
    let mut result = format!("{} retried", letters(retried));
    if skipped > 0 {
        result.push_str(&format!("; {skipped} undecodable skipped (discard them)"));
    }
    audit::finish(pool, audit_id, retried, &result).await?;
    Ok(Outcome { affected: retried, dry_run: false, message: result, audit_id })
}

enum RetryOne {
    Retried,
    /// Another retry or discard got there first.
    Gone,
    Undecodable,
}

async fn retry_one(pool: &PgPool, actor: &Actor, id: Uuid, why: &str) -> Result<RetryOne, AdminError> {
    let mut tx = pool.begin().await?;
    let row: Option<(Vec<u8>, String)> = sqlx::query_as(
        "select payload, kind from dead_letters where dead_letter_id = $1 and status = 'dead' for update skip locked",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((payload, _kind)) = row else { return Ok(RetryOne::Gone) };
    let Ok(job) = serde_json::from_slice::<Job>(&payload) else { return Ok(RetryOne::Undecodable) };
    sqlx::query(
        "update dead_letters set status = 'retried', resolved_at = now(), resolved_by = $2, resolution = $3
          where dead_letter_id = $1",
    )
    .bind(id)
    .bind(&actor.name)
    .bind(why)
    .execute(&mut *tx)
    .await?;
    requeue_run(&mut tx, &job).await?;
    adapters::postgres::outbox::enqueue_as(&mut tx, &format!("retry:{id}"), &job).await?;
    tx.commit().await?;
    Ok(RetryOne::Retried)
}

/// Puts a job's run back to `retrying`, ready for the delivery an operator asked for.
pub(crate) async fn requeue_run(tx: &mut sqlx::Transaction<'_, Postgres>, job: &Job) -> Result<(), sqlx::Error> {
    runs::requeue(tx, job.idempotency_key()).await?;
    Ok(())
}

/// Marks the matching dead letters discarded, with the reason; their runs end `cancelled`.
pub async fn discard(pool: &PgPool, actor: &Actor, filter: &Filter, why: &str) -> Result<Outcome, AdminError> {
    actor.require_operator()?;
    let why = super::reason(why)?;
    let ids = matching_ids(pool, filter, "dead").await?;
    let mut tx = pool.begin().await?;
    let keys: Vec<Option<String>> = sqlx::query_scalar(
        "update dead_letters set status = 'discarded', resolved_at = now(), resolved_by = $2, resolution = $3
          where dead_letter_id = any($1) and status = 'dead'
          returning job_key",
    )
    .bind(&ids)
    .bind(&actor.name)
    .bind(&why)
    .fetch_all(&mut *tx)
    .await?;
    let outcome = given_up(&mut tx, actor, filter, &why, keys, "discard").await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Deletes the matching dead letters for good (any status unless the filter says). Runs still
/// dead-lettered end `cancelled`.
pub async fn purge(pool: &PgPool, actor: &Actor, filter: &Filter, why: &str) -> Result<Outcome, AdminError> {
    actor.require_operator()?;
    let why = super::reason(why)?;
    let ids = matching_ids(pool, filter, "any").await?;
    let mut tx = pool.begin().await?;
    let keys: Vec<Option<String>> =
        sqlx::query_scalar("delete from dead_letters where dead_letter_id = any($1) returning job_key")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
    let outcome = given_up(&mut tx, actor, filter, &why, keys, "purge").await?;
    tx.commit().await?;
    Ok(outcome)
}

/// After a discard or purge (`verb`) of dead letters with these job keys: their runs still
/// dead-lettered end `cancelled`, and the audit row is written.
async fn given_up(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    actor: &Actor,
    filter: &Filter,
    why: &str,
    keys: Vec<Option<String>>,
    verb: &str,
) -> Result<Outcome, sqlx::Error> {
    let affected = u64::try_from(keys.len()).unwrap_or(0);
    let keys: Vec<String> = keys.into_iter().flatten().collect();
    runs::cancel_dead_lettered(tx, &keys, &format!("dead letter {verb}d by {}: {why}", actor.name)).await?;
    let result = match affected {
        0 => format!("nothing to {verb}"),
        n => format!("{} {verb}d", letters(n)),
    };
    let entry = Entry {
        actor,
        action: &format!("dead_letters.{verb}"),
        target: json!({ "filter": filter }),
        reason: why,
        dry_run: false,
        affected,
        result: &result,
    };
    audit::outcome(&mut **tx, &entry).await
}

/// "1 dead letter", "3 dead letters".
fn letters(n: u64) -> String {
    if n == 1 { "1 dead letter".to_owned() } else { format!("{n} dead letters") }
}
