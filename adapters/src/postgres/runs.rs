//! Reading workflow runs (the worker writes them, see `worker::jobs::journal`).

use sqlx::PgPool;
use workflows::jobs::JobOutcome;

/// The recorded outcome of the job with this idempotency key, once its run has ended. The api
/// falls back on it when the result board in Redis lost the result (a Redis restart).
pub async fn outcome(pool: &PgPool, key: &str) -> anyhow::Result<Option<JobOutcome>> {
    let output: Option<serde_json::Value> = sqlx::query_scalar(
        "select output from workflow_runs
          where idempotency_key = $1 and status in ('completed', 'failed', 'expired') and output is not null",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    Ok(output.map(serde_json::from_value).transpose()?)
}
