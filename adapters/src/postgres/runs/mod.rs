//! Workflow runs and their steps: every statement on `workflow_runs` and `workflow_steps` is in
//! this module. [`journal`] holds the writes of the worker's journal (`worker::jobs::journal`
//! decides when to make them), [`control`] those of the operators' verbs (the `operations` crate
//! decides when), and the reads the api needs are here.

pub mod control;
pub mod journal;

use futures_util::future::BoxFuture;
use sqlx::PgPool;
use workflows::jobs::JobOutcome;
use workflows::runs::RunStatus;

/// The recorded outcome of the job with this idempotency key, once its run has ended. The api
/// falls back on it when the result board in Redis lost the result (a Redis restart).
pub async fn outcome(pool: &PgPool, key: &str) -> anyhow::Result<Option<JobOutcome>> {
    let output: Option<serde_json::Value> = sqlx::query_scalar(
        "select output from workflow_runs
          where idempotency_key = $1 and status in ('completed', 'failed', 'expired') and output is not null
          -- (the statuses of RunStatus::has_answer)",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    Ok(output.map(serde_json::from_value).transpose()?)
}

/// The status of the run of the job with this idempotency key, if it has one.
pub async fn status(pool: &PgPool, key: &str) -> anyhow::Result<Option<RunStatus>> {
    let status: Option<String> = sqlx::query_scalar("select status from workflow_runs where idempotency_key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await?;
    Ok(status.map(|s| s.parse()).transpose()?)
}

/// Whether the job with this idempotency key has ended: its run is terminal. (No run yet: it
/// has not.)
pub async fn has_ended(pool: &PgPool, key: &str) -> anyhow::Result<bool> {
    Ok(status(pool, key).await?.is_some_and(RunStatus::is_terminal))
}

/// [`has_ended`] on `pool`, as a function of a key (for [`crate::redis::Pending::oldest_age`]).
pub fn ended_in(pool: &PgPool) -> impl Fn(String) -> BoxFuture<'static, anyhow::Result<bool>> {
    let pool = pool.clone();
    move |key| {
        let pool = pool.clone();
        Box::pin(async move { has_ended(&pool, &key).await })
    }
}
