//! The statements the worker's journal writes a run and its steps with (`worker::jobs::journal`
//! decides when; this module is how). Each takes the job's transaction, so that a step's record
//! commits with its effect.

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;
use workflows::jobs::JobKind;
use workflows::runs::RunStatus;
use workflows::{BusinessId, CallSid};

/// Which run a job belongs to.
#[derive(Debug)]
pub struct RunOf<'a> {
    pub kind: JobKind,
    pub key: &'a str,
    pub call_sid: &'a CallSid,
    pub business: BusinessId,
    /// The job's payload, kept with the run for operators.
    pub input: Value,
}

/// How a step or a run ended, as recorded.
#[derive(Debug, Clone, Copy)]
pub struct Ended<'a> {
    pub succeeded: bool,
    /// How it failed (`retryable`, `permanent`, …), if it did.
    pub error_class: Option<&'static str>,
    pub error: Option<&'a str>,
    pub output: &'a Value,
}

/// Creates the run of `run`, unless a run with its key exists: the new run's id.
pub async fn insert(tx: &mut Transaction<'_, Postgres>, run: &RunOf<'_>) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "insert into workflow_runs
            (workflow_run_id, kind, idempotency_key, call_sid, business_id, status, input, attempts, trace_id)
         values ($1, $2, $3, $4, $5, 'running', $6, 1, $7)
         on conflict (idempotency_key) do nothing
         returning workflow_run_id",
    )
    .bind(Uuid::now_v7())
    .bind(run.kind.name())
    .bind(run.key)
    .bind(run.call_sid.as_str())
    .bind(run.business.as_uuid())
    .bind(&run.input)
    .bind(crate::trace_context::trace_id(&tracing::Span::current()))
    .fetch_optional(&mut **tx)
    .await
}

/// The run with key `key`, locked until the transaction ends: its id, status and output.
pub async fn lock(
    tx: &mut Transaction<'_, Postgres>,
    key: &str,
) -> Result<(Uuid, RunStatus, Option<Value>), sqlx::Error> {
    let (id, status, output): (Uuid, String, Option<Value>) = sqlx::query_as(
        "select workflow_run_id, status, output from workflow_runs where idempotency_key = $1 for update",
    )
    .bind(key)
    .fetch_one(&mut **tx)
    .await?;
    let status = status.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok((id, status, output))
}

/// Another delivery of an unfinished run: running again, one attempt more.
pub async fn run_again(tx: &mut Transaction<'_, Postgres>, run: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update workflow_runs set attempts = attempts + 1, status = 'running', updated_at = now()
          where workflow_run_id = $1",
    )
    .bind(run)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `step` (at `position` in its workflow) is running, one attempt more.
pub async fn begin_step(
    tx: &mut Transaction<'_, Postgres>,
    run: Uuid,
    step: &str,
    position: i32,
    input: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into workflow_steps (workflow_run_id, step, position, status, attempts, input)
         values ($1, $2, $3, 'running', 1, $4)
         on conflict (workflow_run_id, step)
         do update set status = 'running', attempts = workflow_steps.attempts + 1, started_at = now(), finished_at = null",
    )
    .bind(run)
    .bind(step)
    .bind(position)
    .bind(input)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A step another job will run (a text the change sends): recorded as not started yet, once.
pub async fn plan_step(
    tx: &mut Transaction<'_, Postgres>,
    run: Uuid,
    step: &str,
    position: i32,
    input: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into workflow_steps (workflow_run_id, step, position, status, attempts, input)
         values ($1, $2, $3, 'running', 0, $4)
         on conflict (workflow_run_id, step) do nothing",
    )
    .bind(run)
    .bind(step)
    .bind(position)
    .bind(input)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A step's end.
pub async fn finish_step(
    tx: &mut Transaction<'_, Postgres>,
    run: Uuid,
    step: &str,
    end: Ended<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update workflow_steps
            set status = $3, error_class = $4, last_error = $5, output = $6, finished_at = now(),
                attempts = greatest(attempts, 1)
          where workflow_run_id = $1 and step = $2",
    )
    .bind(run)
    .bind(step)
    .bind(if end.succeeded { "succeeded" } else { "failed" })
    .bind(end.error_class)
    .bind(end.error)
    .bind(end.output)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A run's end, with its status, the error of its last step, and its outcome.
pub async fn end(
    tx: &mut Transaction<'_, Postgres>,
    run: Uuid,
    status: RunStatus,
    end: Ended<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update workflow_runs
            set status = $2, output = $3, error_class = coalesce($4, error_class),
                last_error = coalesce($5, last_error), updated_at = now()
          where workflow_run_id = $1",
    )
    .bind(run)
    .bind(status.as_str())
    .bind(end.output)
    .bind(end.error_class)
    .bind(end.error)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The recorded output of `step` if it already succeeded.
pub async fn succeeded_output(
    tx: &mut Transaction<'_, Postgres>,
    run: Uuid,
    step: &str,
) -> Result<Option<Value>, sqlx::Error> {
    Ok(sqlx::query_scalar(
        "select output from workflow_steps where workflow_run_id = $1 and step = $2 and status = 'succeeded'",
    )
    .bind(run)
    .bind(step)
    .fetch_optional(&mut **tx)
    .await?
    .flatten())
}

/// A failed delivery on the job's run, outside the job's own transaction (which rolled back): the
/// run is created if the failure came before it, and its status says what happens next. A run
/// that ended is left as it is.
pub async fn record_failure(
    pool: &PgPool,
    run: RunOf<'_>,
    status: RunStatus,
    class: &str,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into workflow_runs
            (workflow_run_id, kind, idempotency_key, call_sid, business_id, status, input, attempts, error_class,
             last_error, trace_id)
         values ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10)
         on conflict (idempotency_key) do update
            set status = excluded.status, error_class = excluded.error_class, last_error = excluded.last_error,
                attempts = case when workflow_runs.status = 'running' then workflow_runs.attempts
                                else workflow_runs.attempts + 1 end,
                updated_at = now()
          where workflow_runs.status not in ('completed', 'failed', 'expired', 'cancelled')",
    )
    .bind(Uuid::now_v7())
    .bind(run.kind.name())
    .bind(run.key)
    .bind(run.call_sid.as_str())
    .bind(run.business.as_uuid())
    .bind(status.as_str())
    .bind(run.input)
    .bind(class)
    .bind(error)
    .bind(crate::trace_context::trace_id(&tracing::Span::current()))
    .execute(pool)
    .await?;
    Ok(())
}
