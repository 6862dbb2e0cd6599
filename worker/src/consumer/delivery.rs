//! One delivery: decoded, checked against its kind's deadline, its job run (bounded in time, a
//! panic being a failed run), then acknowledged, or handed to [`failures`](super::failures).

use std::time::Duration;

use adapters::amqp::headers;
use adapters::metrics::{JOB_PICKUP_SECONDS, JOB_SECONDS, JOBS, JOBS_IN_FLIGHT};
use adapters::trace_context;
use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use tracing::Instrument as _;
use workflows::jobs::{Job, JobOutcome};

use super::JobContext;
use super::failures::{dead_letter, finished, late, settle_failure};
use crate::jobs::{self, Done, ErrorClass, JobError};

/// The longest one run of a job may take (a text's send and lookup, a model's answer, a
/// booking's transaction each have tighter bounds of their own).
const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// The run number of this delivery: 1 for a new job, higher when it came back from a retry tier.
fn attempt(delivery: &Delivery) -> u32 {
    headers::integer(headers::get(delivery, headers::ATTEMPT)).and_then(|n| u32::try_from(n).ok()).unwrap_or(1).max(1)
}

/// Runs one delivery's job and settles the message.
pub(super) async fn process(context: &JobContext, delivery: Delivery) {
    let job: Job = match serde_json::from_slice(&delivery.data) {
        Ok(job) => job,
        Err(error) => {
            // A message no version of the code can read: straight to the dead letters.
            // serde quotes the value it could not read: masked like every other error.
            let error = workflows::privacy::mask_numbers(&error.to_string());
            tracing::error!(error, "undecodable job; dead-lettering it");
            let kind = delivery.routing_key.as_str().split('.').next().unwrap_or("unknown").to_owned();
            dead_letter(context, &delivery, &kind, ErrorClass::Permanent, &format!("undecodable: {error}"), 1).await;
            return;
        }
    };
    let span = tracing::info_span!(
        "job",
        job.kind = job.kind().name(),
        call.sid = %job.call_sid(),
        business = %job.business_id(),
        workflow.id = tracing::field::Empty,
    );
    // The job belongs to the trace of the turn (or job) that published it.
    trace_context::adopt(&span, delivery.properties.headers().as_ref());
    let in_flight = metrics::gauge!(JOBS_IN_FLIGHT, "kind" => job.kind().name());
    in_flight.increment(1.0);
    run_delivered(context, &delivery, &job).instrument(span).await;
    in_flight.decrement(1.0);
}

/// The decoded job of a delivery: run unless it is too late, then settled.
async fn run_delivered(context: &JobContext, delivery: &Delivery, job: &Job) {
    let kind = job.kind().name();
    let attempt = attempt(delivery);
    if attempt == 1
        && let Some(published_ms) = headers::integer(headers::get(delivery, headers::PUBLISHED_MS))
    {
        let waited = chrono::Utc::now().timestamp_millis().saturating_sub(published_ms).max(0);
        metrics::histogram!(JOB_PICKUP_SECONDS, "kind" => kind).record(waited as f64 / 1000.0);
    }
    if let Some(deadline) = job.kind().spec().deadline {
        let age = chrono::Utc::now() - job.requested_at();
        if age.to_std().unwrap_or_default() > deadline {
            let reason =
                format!("deadline passed: requested {} s ago, deadline {} s", age.num_seconds(), deadline.as_secs());
            late(context, delivery, job, &reason, attempt).await;
            return;
        }
    }
    let started = std::time::Instant::now();
    let run = run_bounded(context, job).await;
    metrics::histogram!(JOB_SECONDS, "kind" => kind).record(started.elapsed());
    match run {
        Ok(()) => {
            metrics::counter!(JOBS, "kind" => kind, "outcome" => "completed").increment(1);
            if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
                // The effect is committed; a redelivery will find it done and report it.
                tracing::warn!(%error, "could not acknowledge a finished job");
            }
            finished(context, job).await;
        }
        Err(failure) => settle_failure(context, delivery, job, failure, attempt).await,
    }
}

/// Runs the job on a task of its own: a panic in a job is a failed job, not a dead worker; and no
/// job holds its delivery (and a job slot) for ever: one stuck on a network call that never
/// answers is stopped and retried.
async fn run_bounded(context: &JobContext, job: &Job) -> Result<(), JobError> {
    let mut running = tokio::spawn(run_job(context.clone(), job.clone()).in_current_span());
    match tokio::time::timeout(JOB_TIMEOUT, &mut running).await {
        Ok(Ok(run)) => run,
        Ok(Err(join)) => Err(JobError::retryable(anyhow::anyhow!("the job panicked: {join}"))),
        Err(_) => {
            running.abort();
            Err(JobError::retryable(anyhow::anyhow!("the job took longer than {} s", JOB_TIMEOUT.as_secs())))
        }
    }
}

/// Runs the job, posts its outcome for the call waiting on it (if one waits), and passes the
/// failpoint after its commit.
async fn run_job(context: JobContext, job: Job) -> Result<(), JobError> {
    context.failpoints.check(&format!("before:{}", job.kind().name())).await?;
    let done = jobs::run(&job, &context.pool, &context.sending, context.model.as_ref(), &context.failpoints).await?;
    if let Done::Answered(outcome) = &done {
        tracing::info!(outcome = outcome_name(outcome), "job done");
        context.board.post(job.idempotency_key(), outcome).await.map_err(JobError::retryable)?;
    }
    context.failpoints.check(&format!("after_commit:{}", job.kind().name())).await?;
    Ok(())
}

fn outcome_name(outcome: &JobOutcome) -> &'static str {
    use JobOutcome::*;
    match outcome {
        Booked { .. } => "booked",
        Rescheduled { .. } => "rescheduled",
        Cancelled { .. } => "cancelled",
        NotFound => "not_found",
        SlotTaken => "slot_taken",
        Rejected { .. } => "rejected",
        NotSubmitted => "not_submitted",
        Queued => "queued",
        Repaired { .. } => "repaired",
    }
}
