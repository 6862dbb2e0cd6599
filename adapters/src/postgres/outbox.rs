//! The outbox: jobs waiting to be published, written in PostgreSQL so that nothing accepted is
//! lost while the broker cannot confirm it. [`crate::relay`] publishes them.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use workflows::jobs::Job;

/// A job waiting in the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub outbox_id: i64,
    pub idempotency_key: String,
    pub kind: String,
    pub routing_key: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    /// The trace the job belongs to (`traceparent`, `tracestate`).
    pub trace_context: Option<sqlx::types::Json<std::collections::HashMap<String, String>>>,
}

/// Writes `job` to the outbox, once: a second write of the same job changes nothing. Returns
/// whether it was written now. The current trace goes with it.
pub async fn enqueue(conn: &mut PgConnection, job: &Job) -> Result<bool, sqlx::Error> {
    enqueue_as(conn, job.idempotency_key(), job).await
}

/// Writes `job` to the outbox under `key` rather than the job's own idempotency key: for an
/// operator's retry or resume, which publishes a job again once per request
/// (`retry:{dead_letter_id}`, `resume:{run}:{n}`), while the job's own key still guards its
/// effect.
pub async fn enqueue_as(conn: &mut PgConnection, key: &str, job: &Job) -> Result<bool, sqlx::Error> {
    let payload = serde_json::to_value(job).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let trace = crate::trace_context::current();
    let inserted = sqlx::query(
        "insert into outbox (idempotency_key, kind, routing_key, payload, trace_context)
         values ($1, $2, $3, $4, $5)
         on conflict (idempotency_key) do nothing",
    )
    .bind(key)
    .bind(job.kind().name())
    .bind(job.kind().name())
    .bind(payload)
    .bind((!trace.is_empty()).then_some(sqlx::types::Json(trace)))
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Locks up to `limit` jobs that are due, oldest first, skipping those another relay holds.
pub async fn claim(conn: &mut PgConnection, limit: i64) -> Result<Vec<Pending>, sqlx::Error> {
    sqlx::query_as(
        "select outbox_id, idempotency_key, kind, routing_key, payload, attempts, trace_context
           from outbox
          where published_at is null and available_at <= now()
          order by outbox_id
          limit $1
          for update skip locked",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn mark_published(conn: &mut PgConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update outbox set published_at = now(), attempts = attempts + 1, last_error = null where outbox_id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_failed(
    conn: &mut PgConnection,
    id: i64,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update outbox set attempts = attempts + 1, last_error = $2, available_at = $3 where outbox_id = $1")
        .bind(id)
        .bind(error)
        .bind(retry_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many jobs wait to be published, and the age of the oldest.
pub async fn backlog(pool: &PgPool) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    sqlx::query_as("select count(*), min(created_at) from outbox where published_at is null").fetch_one(pool).await
}
