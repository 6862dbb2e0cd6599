//! The workflow journal: one run per job (unique by its idempotency key) and one row per step,
//! written in the same transaction as the step's effect. This module decides what is recorded
//! when; the statements are `adapters::postgres::runs::journal`'s.

use serde_json::Value;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;
use workflows::jobs::{JobKind, JobOutcome};
use workflows::runs::RunStatus;

use adapters::postgres::runs::journal as runs;
pub use adapters::postgres::runs::journal::{RunOf, begin_step};
use workflows::{BusinessId, CallSid};

use super::{ErrorClass, JobError};

/// Where a run stands when a delivery starts.
#[derive(Debug)]
pub enum Started {
    /// No earlier delivery got this far: a new run.
    New(Uuid),
    /// A previous delivery committed this run: its recorded output (a [`JobOutcome`] for the
    /// jobs that report one, see [`Started::outcome`]; a text's delivery status for `send_sms`).
    Finished(Value),
    /// A run that exists but did not finish (a retry, a redelivery, or an operator's resume): go
    /// on with it.
    Unfinished(Uuid),
    /// An operator cancelled the run: leave it alone.
    Cancelled,
}

/// The outcome a finished run recorded, for the jobs whose output is one.
pub fn recorded_outcome(output: Value) -> Result<JobOutcome, JobError> {
    serde_json::from_value(output).map_err(JobError::retryable)
}

/// Creates the run for `key`, or finds the one a previous delivery created. The row is locked
/// until the transaction ends, so two deliveries of one job never run it side by side.
pub async fn start(
    tx: &mut Transaction<'_, Postgres>,
    kind: JobKind,
    key: &str,
    call_sid: &CallSid,
    business: BusinessId,
    input: Value,
) -> Result<Started, JobError> {
    let run = RunOf { kind, key, call_sid, business, input };
    if let Some(id) = runs::insert(tx, &run).await? {
        tracing::Span::current().record("workflow.id", tracing::field::display(id));
        return Ok(Started::New(id));
    }
    let (id, status, output) = runs::lock(tx, key).await?;
    tracing::Span::current().record("workflow.id", tracing::field::display(id));
    if status == RunStatus::Cancelled {
        tracing::info!(job.key = key, "the run was cancelled by an operator; not running it");
        return Ok(Started::Cancelled);
    }
    if !status.has_answer() {
        // Another delivery of an unfinished run (back from a retry tier, or redelivered).
        runs::run_again(tx, id).await?;
    }
    match output {
        Some(output) if status.has_answer() => Ok(Started::Finished(output)),
        _ => Ok(Started::Unfinished(id)),
    }
}

/// How a step (or a run) ended.
#[derive(Debug, Clone)]
pub struct StepEnd {
    pub succeeded: bool,
    pub error_class: Option<ErrorClass>,
    pub error: Option<String>,
    pub output: Value,
}

impl StepEnd {
    /// As the journal's statements record it.
    fn recorded(&self) -> runs::Ended<'_> {
        runs::Ended {
            succeeded: self.succeeded,
            error_class: self.error_class.map(ErrorClass::as_str),
            error: self.error.as_deref(),
            output: &self.output,
        }
    }

    /// The end of a booking, move or cancellation, from its outcome.
    pub fn of(outcome: &JobOutcome) -> Result<Self, JobError> {
        let (succeeded, error_class, error) = match outcome {
            JobOutcome::Booked { .. } | JobOutcome::Rescheduled { .. } | JobOutcome::Cancelled { .. } => {
                (true, None, None)
            }
            JobOutcome::SlotTaken => {
                (false, Some(ErrorClass::Permanent), Some("slot_taken: every resource is booked then".to_owned()))
            }
            JobOutcome::NotFound => {
                (false, Some(ErrorClass::Permanent), Some("not_found: the appointment is not booked".to_owned()))
            }
            JobOutcome::Rejected { reason } => {
                (false, Some(ErrorClass::Permanent), Some(format!("rejected: {reason}")))
            }
            JobOutcome::NotSubmitted | JobOutcome::Queued => {
                (false, Some(ErrorClass::Retryable), Some("not submitted".to_owned()))
            }
            JobOutcome::Repaired { .. } => (true, None, None),
        };
        let output = serde_json::to_value(outcome).map_err(JobError::retryable)?;
        Ok(Self { succeeded, error_class, error, output })
    }
}

/// Records a step's end.
pub async fn finish_step(
    tx: &mut Transaction<'_, Postgres>,
    run: Uuid,
    step: &str,
    end: &StepEnd,
) -> Result<(), JobError> {
    runs::finish_step(tx, run, step, end.recorded()).await?;
    Ok(())
}

/// Records a run's end.
pub async fn finish_run(tx: &mut Transaction<'_, Postgres>, run: Uuid, end: &StepEnd) -> Result<(), JobError> {
    let status = if end.succeeded { RunStatus::Completed } else { RunStatus::Failed };
    end_run(tx, run, status, end).await
}

/// Records a run's end, with its status, the error of its last step, and its outcome.
pub async fn end_run(
    tx: &mut Transaction<'_, Postgres>,
    run: Uuid,
    status: RunStatus,
    end: &StepEnd,
) -> Result<(), JobError> {
    runs::end(tx, run, status, end.recorded()).await?;
    Ok(())
}

/// Records the step's and the run's end from the job's outcome.
pub async fn finish(
    tx: &mut Transaction<'_, Postgres>,
    run: Uuid,
    step: &str,
    outcome: &JobOutcome,
) -> Result<(), JobError> {
    let end = StepEnd::of(outcome)?;
    finish_step(tx, run, step, &end).await?;
    finish_run(tx, run, &end).await
}

/// Runs a one-step job: start (or find) the run, do the step inside the same transaction,
/// record the outcome, commit.
pub async fn one_step<F>(pool: &sqlx::PgPool, run: RunOf<'_>, step: &str, effect: F) -> Result<JobOutcome, JobError>
where
    F: AsyncFnOnce(&mut Transaction<'_, Postgres>, Uuid) -> Result<JobOutcome, JobError>,
{
    let mut tx = pool.begin().await?;
    let id = match start(&mut tx, run.kind, run.key, run.call_sid, run.business, run.input.clone()).await? {
        Started::Finished(output) => {
            tx.commit().await?;
            tracing::info!(job.key = run.key, "job already done; reporting its recorded outcome");
            return recorded_outcome(output);
        }
        Started::Cancelled => {
            tx.commit().await?;
            return Ok(cancelled());
        }
        Started::New(id) => id,
        Started::Unfinished(id) => {
            // A step the journal records as done is not done again (a resumed run): its recorded
            // output is the outcome.
            if let Some(outcome) = succeeded(&mut tx, id, step).await? {
                tracing::info!(job.key = run.key, step, "step already succeeded; skipping it");
                finish_run(&mut tx, id, &StepEnd::of(&outcome)?).await?;
                tx.commit().await?;
                return Ok(outcome);
            }
            id
        }
    };
    begin_step(&mut tx, id, step, 1, run.input).await?;
    let outcome = effect(&mut tx, id).await?;
    finish(&mut tx, id, step, &outcome).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// The outcome reported for a run an operator cancelled.
pub fn cancelled() -> JobOutcome {
    JobOutcome::Rejected { reason: "cancelled by an operator".to_owned() }
}

/// The recorded outcome of `step` if it already succeeded.
pub async fn succeeded(
    tx: &mut Transaction<'_, Postgres>,
    run: Uuid,
    step: &str,
) -> Result<Option<JobOutcome>, JobError> {
    let output = runs::succeeded_output(tx, run, step).await?;
    Ok(output.and_then(|output| serde_json::from_value(output).ok()))
}

/// Records a failed delivery on the job's run, outside the job's own transaction (which rolled
/// back): the run is created if the failure came before it, and its status says what happens
/// next (`retrying` or `dead_lettered`). Best effort: the broker still holds the message.
pub async fn record_failure(
    pool: &sqlx::PgPool,
    run: RunOf<'_>,
    status: RunStatus,
    class: ErrorClass,
    error: &str,
) -> Result<(), sqlx::Error> {
    runs::record_failure(pool, run, status, class.as_str(), error).await
}
