//! Routing what did not succeed: a failed run goes to the retry tier for its delay (with jitter,
//! no sooner than a provider asked) while attempts are left, otherwise to the kind's dead letters
//! with the reason in headers; a job past its deadline is dead-lettered or expired as its kind
//! says. The original is acknowledged only once its copy is published; if that fails it is handed
//! back to its queue.

use std::time::Duration;

use adapters::amqp::headers;
use adapters::metrics::{JOB_FAILURES, JOBS};
use lapin::BasicProperties;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lapin::types::{AMQPValue, LongString, ShortString};
use rand::Rng as _;
use workflows::jobs::{Job, WhenLate, retry_tier, tier_label};
use workflows::runs::RunStatus;

use super::JobContext;
use crate::jobs::journal::{self, RunOf};
use crate::jobs::{ErrorClass, JobError};

/// How long the broker may take to confirm a forwarded copy.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// A job found past its deadline before it ran: dead-lettered, or dropped as expired for a kind
/// nobody needs late (an LLM repair).
pub(super) async fn late(context: &JobContext, delivery: &Delivery, job: &Job, reason: &str, attempt: u32) {
    let kind = job.kind().name();
    match job.kind().spec().when_late {
        WhenLate::DeadLetter => {
            metrics::counter!(JOBS, "kind" => kind, "outcome" => "dead_lettered").increment(1);
            record(context, job, RunStatus::DeadLettered, ErrorClass::Permanent, reason).await;
            finished(context, job).await;
            dead_letter(context, delivery, kind, ErrorClass::Permanent, reason, attempt).await;
        }
        WhenLate::Expire => {
            tracing::info!(reason, "job expired before it ran; dropping it");
            metrics::counter!(JOBS, "kind" => kind, "outcome" => "expired").increment(1);
            record(context, job, RunStatus::Expired, ErrorClass::Permanent, reason).await;
            finished(context, job).await;
            if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
                tracing::warn!(%error, "could not acknowledge an expired job");
            }
        }
    }
}

/// The job ended (done, dead-lettered or expired): it is no longer pending.
pub(super) async fn finished(context: &JobContext, job: &Job) {
    if let Err(error) = context.pending.done(job.kind(), job.idempotency_key()).await {
        tracing::debug!(%error, "could not clear a pending job");
    }
}

fn run_of(job: &Job) -> RunOf<'_> {
    RunOf {
        kind: job.kind(),
        key: job.idempotency_key(),
        call_sid: job.call_sid(),
        business: job.business_id(),
        input: serde_json::to_value(job).unwrap_or_default(),
    }
}

async fn record(context: &JobContext, job: &Job, status: RunStatus, class: ErrorClass, error: &str) {
    if let Err(e) = journal::record_failure(&context.pool, run_of(job), status, class, error).await {
        tracing::warn!(error = %e, "could not record the failure on the workflow run");
    }
}

/// Routes a failed delivery by its error class.
pub(super) async fn settle_failure(
    context: &JobContext,
    delivery: &Delivery,
    job: &Job,
    failure: JobError,
    attempt: u32,
) {
    let policy = job.kind().spec().retry;
    // One text for the log line, the run's last error and the dead letter's headers, with any
    // phone number in it masked: an error can quote one (a provider's message, a URL).
    let error = workflows::privacy::mask_numbers(&format!("{:#}", failure.source));
    let class = failure.class;
    let kind = job.kind().name();
    metrics::counter!(JOB_FAILURES, "kind" => kind, "class" => class.as_str()).increment(1);
    let retry = matches!(class, ErrorClass::Retryable | ErrorClass::RetryAfter);
    if retry && policy.allows_another(attempt) {
        // Exponential backoff with jitter: the tier for the delay, and up to a quarter more.
        let delay = policy.delay(attempt).max(failure.retry_after.unwrap_or_default());
        let tier = retry_tier(delay);
        let jitter = rand::rng().random_range(0.0..0.25);
        let expiration = tier.mul_f64(1.0 + jitter);
        tracing::warn!(
            error,
            attempt,
            class = class.as_str(),
            retry_in_ms = expiration.as_millis() as u64,
            "job failed; it will be retried"
        );
        metrics::counter!(JOBS, "kind" => kind, "outcome" => "retried").increment(1);
        record(context, job, RunStatus::Retrying, class, &error).await;
        let routing_key = format!("{}.{}", job.kind().name(), tier_label(tier));
        let properties = republished(delivery, attempt + 1, class, &error)
            .with_expiration(expiration.as_millis().to_string().into());
        let exchange = context.publisher.names().retry_exchange();
        settle(
            delivery,
            context.publisher.send(&exchange, &routing_key, &delivery.data, properties, PUBLISH_TIMEOUT).await,
        )
        .await;
        return;
    }
    let reason = if retry { format!("retries exhausted after {attempt} runs: {error}") } else { error };
    tracing::error!(error = reason, class = class.as_str(), "job failed; dead-lettering it");
    metrics::counter!(JOBS, "kind" => kind, "outcome" => "dead_lettered").increment(1);
    record(context, job, RunStatus::DeadLettered, class, &reason).await;
    dead_letter(context, delivery, job.kind().name(), class, &reason, attempt).await;
    finished(context, job).await;
}

/// The original message's properties, with our headers for the next stop.
fn republished(delivery: &Delivery, next_attempt: u32, class: ErrorClass, error: &str) -> BasicProperties {
    let mut table = delivery.properties.headers().clone().unwrap_or_default();
    let text = |s: &str| AMQPValue::LongString(LongString::from(s.chars().take(500).collect::<String>().into_bytes()));
    table.insert(ShortString::from(headers::ATTEMPT), AMQPValue::LongLongInt(i64::from(next_attempt)));
    table.insert(ShortString::from(headers::ERROR_CLASS), text(class.as_str()));
    table.insert(ShortString::from(headers::ERROR), text(error));
    delivery.properties.clone().with_headers(table)
}

/// Publishes a copy to the kind's dead letters, with the reason, then acknowledges the original.
pub(super) async fn dead_letter(
    context: &JobContext,
    delivery: &Delivery,
    kind: &str,
    class: ErrorClass,
    reason: &str,
    attempt: u32,
) {
    let mut properties = republished(delivery, attempt, class, reason);
    let mut table = properties.headers().clone().unwrap_or_default();
    table.insert(ShortString::from(headers::DEAD_AT), AMQPValue::LongLongInt(chrono::Utc::now().timestamp()));
    // Names this dead-lettering, so that the keeper keeps it once however often it is delivered.
    let dead_id = uuid::Uuid::now_v7().to_string();
    table.insert(ShortString::from(headers::DEAD_ID), AMQPValue::LongString(LongString::from(dead_id.into_bytes())));
    properties = properties.with_headers(table);
    let exchange = context.publisher.names().dead_letter_exchange();
    settle(delivery, context.publisher.send(&exchange, kind, &delivery.data, properties, PUBLISH_TIMEOUT).await).await;
}

/// Acknowledges the original once its copy is safely elsewhere; otherwise hands it back.
async fn settle(delivery: &Delivery, forwarded: Result<(), adapters::amqp::PublishError>) {
    match forwarded {
        Ok(()) => {
            if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
                // The copy is published; the original will be redelivered and find its run done.
                tracing::warn!(%error, "could not acknowledge a forwarded job");
            }
        }
        Err(error) => {
            tracing::warn!(%error, "could not forward a failed job; handing it back to its queue");
            tokio::time::sleep(Duration::from_secs(1)).await;
            let _ = delivery.nack(BasicNackOptions { requeue: true, ..BasicNackOptions::default() }).await;
        }
    }
}
