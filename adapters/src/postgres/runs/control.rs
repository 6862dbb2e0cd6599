//! The statements operators' verbs (the `operations` crate) make on runs and steps: listing and
//! showing them, and moving a run between statuses when an operator resumes, retries or cancels
//! it, or when a dead letter is kept. Each takes the verb's transaction where the verb has one,
//! so that its audit row commits with the change.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder, Transaction};
use uuid::Uuid;
use workflows::jobs::JobKind;
use workflows::runs::RunStatus;

/// Which runs to list.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Filter {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub business: Option<Uuid>,
    pub call_sid: Option<String>,
    /// Created on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Created on or before this day (UTC).
    pub to: Option<NaiveDate>,
}

/// A run in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct RunSummary {
    pub workflow_run_id: Uuid,
    pub kind: String,
    pub idempotency_key: String,
    pub call_sid: Option<String>,
    pub business_id: Option<Uuid>,
    pub status: String,
    pub attempts: i32,
    pub error_class: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub trace_id: Option<String>,
}

/// One step of a run's journal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Step {
    pub step: String,
    pub position: i32,
    pub status: String,
    pub attempts: i32,
    pub error_class: Option<String>,
    pub last_error: Option<String>,
    pub output: Option<Value>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const RUN_COLUMNS: &str = "select workflow_run_id, kind, idempotency_key, call_sid, business_id, status, attempts,
    error_class, last_error, created_at, updated_at, trace_id from workflow_runs";

/// The runs matching `filter`, newest first (the filter's values are checked by the caller).
pub async fn list(pool: &PgPool, filter: &Filter, limit: i64) -> Result<Vec<RunSummary>, sqlx::Error> {
    let mut query = QueryBuilder::new(RUN_COLUMNS);
    query.push(" where true");
    if let Some(status) = &filter.status {
        query.push(" and status = ").push_bind(status.clone());
    }
    if let Some(kind) = &filter.kind {
        query.push(" and kind = ").push_bind(kind.clone());
    }
    if let Some(business) = filter.business {
        query.push(" and business_id = ").push_bind(business);
    }
    if let Some(call) = &filter.call_sid {
        query.push(" and call_sid = ").push_bind(call.clone());
    }
    if let Some(from) = filter.from {
        query.push(" and created_at >= ").push_bind(from.and_hms_opt(0, 0, 0).map(|d| d.and_utc()));
    }
    if let Some(to) = filter.to.and_then(|d| d.succ_opt()) {
        query.push(" and created_at < ").push_bind(to.and_hms_opt(0, 0, 0).map(|d| d.and_utc()));
    }
    query.push(" order by created_at desc, workflow_run_id desc limit ").push_bind(limit.clamp(1, 5_000));
    query.build_query_as().fetch_all(pool).await
}

/// One run, its input and its output.
pub async fn show(pool: &PgPool, id: Uuid) -> Result<Option<(RunSummary, Value, Option<Value>)>, sqlx::Error> {
    let Some(run): Option<RunSummary> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{RUN_COLUMNS} where workflow_run_id = $1")))
            .bind(id)
            .fetch_optional(pool)
            .await?
    else {
        return Ok(None);
    };
    let (input, output): (Value, Option<Value>) =
        sqlx::query_as("select input, output from workflow_runs where workflow_run_id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?;
    Ok(Some((run, input, output)))
}

/// A run's steps, in workflow order.
pub async fn steps(pool: &PgPool, id: Uuid) -> Result<Vec<Step>, sqlx::Error> {
    sqlx::query_as(
        "select step, position, status, attempts, error_class, last_error, output, started_at, finished_at
           from workflow_steps where workflow_run_id = $1 order by position, started_at",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

/// The run with the job of key `key`, as JSON for a dead letter's page.
pub async fn brief(pool: &PgPool, key: &str) -> Result<Option<Value>, sqlx::Error> {
    sqlx::query_scalar(
        "select json_build_object('workflow_run_id', workflow_run_id, 'status', status, 'attempts', attempts,
                'error_class', error_class, 'last_error', last_error, 'updated_at', updated_at)
           from workflow_runs where idempotency_key = $1",
    )
    .bind(key)
    .fetch_optional(pool)
    .await
}

/// The ids of a call's runs.
pub async fn ids_of_call(pool: &PgPool, call: &str) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select workflow_run_id from workflow_runs where call_sid = $1").bind(call).fetch_all(pool).await
}

/// A run locked for a change, until the transaction ends.
#[derive(Debug, sqlx::FromRow)]
pub struct Locked {
    #[sqlx(try_from = "String")]
    pub kind: JobKind,
    pub key: String,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub input: Value,
    pub call_sid: Option<String>,
    pub business: Option<Uuid>,
}

/// Locks run `id` for a change.
pub async fn lock(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> Result<Option<Locked>, sqlx::Error> {
    sqlx::query_as(
        "select kind, idempotency_key as key, status, input, call_sid, business_id as business
           from workflow_runs where workflow_run_id = $1 for update",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// The first step of a run that failed, in workflow order, with its input.
pub async fn first_failed_step(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
) -> Result<Option<(String, Option<Value>)>, sqlx::Error> {
    sqlx::query_as(
        "select step, input from workflow_steps where workflow_run_id = $1 and status = 'failed'
          order by position limit 1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// A failed step going again.
pub async fn restart_step(tx: &mut Transaction<'_, Postgres>, id: Uuid, step: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update workflow_steps set status = 'running', finished_at = null where workflow_run_id = $1 and step = $2",
    )
    .bind(id)
    .bind(step)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Run `id` going again with `input`.
pub async fn rerun(tx: &mut Transaction<'_, Postgres>, id: Uuid, input: &Value) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update workflow_runs set status = 'retrying', input = $2, updated_at = now() where workflow_run_id = $1",
    )
    .bind(id)
    .bind(input)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The run of the job with key `key` going again, unless it is running now.
pub async fn retry_unless_running(tx: &mut Transaction<'_, Postgres>, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update workflow_runs set status = 'retrying', updated_at = now()
          where idempotency_key = $1 and status <> 'running'",
    )
    .bind(key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The run of the job with key `key` going again, if it had stopped (dead-lettered, failed or
/// cancelled): ready for the delivery an operator asked for.
pub async fn requeue(tx: &mut Transaction<'_, Postgres>, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update workflow_runs set status = 'retrying', updated_at = now()
          where idempotency_key = $1 and status in ('dead_lettered', 'failed', 'cancelled')",
    )
    .bind(key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Run `id` cancelled, with why.
pub async fn cancel(tx: &mut Transaction<'_, Postgres>, id: Uuid, why: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update workflow_runs set status = 'cancelled', last_error = $2, updated_at = now() where workflow_run_id = $1",
    )
    .bind(id)
    .bind(why)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The dead-lettered runs of the jobs with these keys cancelled, with why.
pub async fn cancel_dead_lettered(
    tx: &mut Transaction<'_, Postgres>,
    keys: &[String],
    why: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update workflow_runs set status = 'cancelled', last_error = $2, updated_at = now()
          where idempotency_key = any($1) and status = 'dead_lettered'",
    )
    .bind(keys)
    .bind(why)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The run of a job the broker dead-lettered (without telling the worker) learns it, if it was
/// still going.
pub async fn dead_lettered(
    tx: &mut Transaction<'_, Postgres>,
    key: &str,
    error_class: Option<&str>,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update workflow_runs
            set status = 'dead_lettered', error_class = coalesce(error_class, $2),
                last_error = coalesce($3, last_error), updated_at = now()
          where idempotency_key = $1 and status in ('running', 'retrying')",
    )
    .bind(key)
    .bind(error_class)
    .bind(error)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Runs waiting in a retry tier, per kind.
pub async fn retrying_by_kind(pool: &PgPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("select kind, count(*) from workflow_runs where status = 'retrying' group by kind")
        .fetch_all(pool)
        .await
}

/// Runs that ended in the last five minutes, per kind and status (completed, failed,
/// dead-lettered): the queues' rates.
pub async fn recent_ends(pool: &PgPool) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select kind, status, count(*) from workflow_runs
          where updated_at > now() - interval '5 minutes' and status in ('completed', 'failed', 'dead_lettered')
          group by kind, status",
    )
    .fetch_all(pool)
    .await
}
