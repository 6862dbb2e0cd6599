//! Consuming jobs: one consumer per job kind, bounded concurrency, acknowledgement only after the
//! job's effect and result are recorded, failures routed by class, and a graceful stop.
//!
//! | outcome of a delivery | what happens |
//! |---|---|
//! | the job ran (whatever its business outcome) | result posted to Redis, message acknowledged |
//! | retryable failure, attempts left | copy published to the retry tier for its delay (with jitter), original acknowledged |
//! | retry-after failure | the same, waiting at least as long as the provider asked |
//! | permanent or needs-repair failure, attempts exhausted, deadline passed, undecodable | copy published to the kind's dead letters with the reason in headers, original acknowledged |
//! | deadline passed for a kind nobody needs late (an LLM repair) | run recorded `expired`, message acknowledged |
//! | any of these publishes fails (broker trouble) | original requeued after a pause; the queue's delivery limit is the backstop |
//! | the job panicked | a retryable failure |
//! | the worker died | the broker redelivers; the job's idempotency key finds the effect done |

use std::sync::Arc;
use std::time::Duration;

use adapters::amqp::PUBLISHED_MS;
use adapters::amqp::Publisher;
use adapters::metrics::{JOB_FAILURES, JOB_PICKUP_SECONDS, JOB_SECONDS, JOBS, JOBS_IN_FLIGHT, SMS};
use adapters::redis::{Pending, ResultBoard};
use adapters::trace_context;
use adapters::{Namespace, Services};
use anyhow::Context as _;
use futures_util::StreamExt as _;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Consumer};
use rand::Rng as _;
use sqlx::PgPool;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;
use workflows::jobs::{Job, JobKind, JobOutcome, WhenLate, retry_tier, tier_label};

use crate::failpoints::Failpoints;
use crate::jobs::journal::{self, RunOf};
use crate::jobs::send_sms::{self, Sending};
use crate::jobs::{ErrorClass, JobError, book_appointment, cancel_appointment, repair_answer, reschedule_appointment};
use crate::llm::LanguageModel;

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Deliveries RabbitMQ may hand one consumer before it acknowledges any. Booking jobs are
    /// short database transactions, so a handful in flight keeps the pool busy without letting
    /// one worker hoard messages another could take.
    pub prefetch: u16,
    /// Jobs processed at once per kind (at most the prefetch).
    pub concurrency: usize,
    /// Deliberate failures, for tests (`BELLA_FAILPOINTS`).
    pub failpoints: Failpoints,
    /// How text messages are sent (no gateway: simulated).
    pub sending: Sending,
    /// The model asked to repair misheard answers (none: each repair reports that it could not).
    pub model: Option<LanguageModel>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            prefetch: 16,
            concurrency: 16,
            failpoints: Failpoints::default(),
            sending: Sending::default(),
            model: None,
        }
    }
}

/// Our headers on retried and dead-lettered messages.
pub mod headers {
    /// The run number of the next delivery (1 for a new job).
    pub const ATTEMPT: &str = "x-bella-attempt";
    pub const ERROR_CLASS: &str = "x-bella-error-class";
    pub const ERROR: &str = "x-bella-error";
    /// When the message went to the dead letters (Unix seconds).
    pub const DEAD_AT: &str = "x-bella-dead-at";
}

/// What a job needs to run, and how to route a failed delivery.
#[derive(Clone)]
struct JobContext {
    pool: PgPool,
    board: ResultBoard,
    pending: Pending,
    publisher: Publisher,
    failpoints: Failpoints,
    sending: Sending,
    model: Option<LanguageModel>,
}

pub struct Worker {
    services: Services,
    names: Namespace,
    options: WorkerOptions,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("names", &self.names).field("options", &self.options).finish_non_exhaustive()
    }
}

impl Worker {
    pub fn new(services: Services, names: Namespace, options: WorkerOptions) -> Self {
        Self { services, names, options }
    }

    /// Consumes every job kind until `shutdown` is cancelled, then stops taking deliveries,
    /// finishes the jobs in flight and returns.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let publisher = Publisher::new(&self.services.amqp, self.names.clone())
            .await
            .context("opening the worker's publishing channel")?;
        let context = JobContext {
            pool: self.services.pool.clone(),
            board: ResultBoard::new(self.services.redis.clone(), self.names.clone()),
            pending: Pending::new(self.services.redis.clone(), self.names.clone()),
            publisher,
            failpoints: self.options.failpoints.clone(),
            sending: self.options.sending.clone(),
            model: self.options.model.clone(),
        };
        let mut consumers = Vec::new();
        for kind in JobKind::ALL {
            let channel = self.services.amqp.create_channel().await.context("opening a consumer channel")?;
            channel
                .basic_qos(self.options.prefetch, BasicQosOptions::default())
                .await
                .context("setting the prefetch")?;
            let tag = format!("bella-worker-{}-{}-{}", kind.name(), std::process::id(), uuid::Uuid::new_v4().simple());
            let consumer = channel
                .basic_consume(
                    self.names.queue(kind).into(),
                    tag.clone().into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .with_context(|| format!("consuming {}", self.names.queue(kind)))?;
            tracing::info!(job.kind = kind.name(), queue = %self.names.queue(kind), "worker consuming");
            consumers.push(tokio::spawn(consume(
                channel,
                consumer,
                tag,
                context.clone(),
                self.options.concurrency,
                shutdown.clone(),
            )));
        }
        for consumer in consumers {
            consumer.await.context("a consumer task failed")??;
        }
        Ok(())
    }
}

async fn consume(
    channel: Channel,
    mut consumer: Consumer,
    tag: String,
    context: JobContext,
    concurrency: usize,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let tracker = TaskTracker::new();
    loop {
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = permits.clone().acquire_owned() => permit.context("the job semaphore closed")?,
        };
        let next = tokio::select! {
            () = shutdown.cancelled() => break,
            next = consumer.next() => next,
        };
        let delivery = match next {
            Some(Ok(delivery)) => delivery,
            Some(Err(error)) => {
                tracing::warn!(%error, "consumer interrupted; waiting for the connection to recover");
                channel.wait_for_recovery(error).await.context("the broker connection could not recover")?;
                continue;
            }
            None => break,
        };
        let context = context.clone();
        tracker.spawn(async move {
            process(&context, delivery).await;
            drop(permit);
        });
    }
    // Stop the broker from sending more, then let the jobs in flight finish and acknowledge.
    if let Err(error) = channel.basic_cancel(tag.into(), BasicCancelOptions::default()).await {
        tracing::warn!(%error, "could not cancel the consumer cleanly");
    }
    tracker.close();
    tracker.wait().await;
    tracing::info!("consumer stopped");
    Ok(())
}

fn header<'a>(delivery: &'a Delivery, name: &str) -> Option<&'a AMQPValue> {
    delivery.properties.headers().as_ref().and_then(|h| h.inner().get(name))
}

fn integer(value: Option<&AMQPValue>) -> Option<i64> {
    match value? {
        AMQPValue::LongLongInt(n) => Some(*n),
        AMQPValue::LongInt(n) => Some(i64::from(*n)),
        AMQPValue::LongUInt(n) => Some(i64::from(*n)),
        AMQPValue::ShortInt(n) => Some(i64::from(*n)),
        AMQPValue::ShortShortInt(n) => Some(i64::from(*n)),
        _ => None,
    }
}

/// The run number of this delivery: 1 for a new job, higher when it came back from a retry tier.
fn attempt(delivery: &Delivery) -> u32 {
    integer(header(delivery, headers::ATTEMPT)).and_then(|n| u32::try_from(n).ok()).unwrap_or(1).max(1)
}

/// Runs one delivery's job and settles the message.
async fn process(context: &JobContext, delivery: Delivery) {
    let job: Job = match serde_json::from_slice(&delivery.data) {
        Ok(job) => job,
        Err(error) => {
            // A message no version of the code can read: straight to the dead letters.
            tracing::error!(%error, "undecodable job; dead-lettering it");
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
    let kind = job.kind().name();
    let in_flight = metrics::gauge!(JOBS_IN_FLIGHT, "kind" => kind);
    in_flight.increment(1.0);
    async move {
        let attempt = attempt(&delivery);
        let spec = job.kind().spec();
        if attempt == 1
            && let Some(published_ms) = integer(header(&delivery, PUBLISHED_MS))
        {
            let waited = chrono::Utc::now().timestamp_millis().saturating_sub(published_ms).max(0);
            metrics::histogram!(JOB_PICKUP_SECONDS, "kind" => kind).record(waited as f64 / 1000.0);
        }
        if let Some(deadline) = spec.deadline {
            let age = chrono::Utc::now() - job.requested_at();
            if age.to_std().unwrap_or_default() > deadline {
                let reason = format!(
                    "deadline passed: requested {} s ago, deadline {} s",
                    age.num_seconds(),
                    deadline.as_secs()
                );
                match spec.when_late {
                    WhenLate::DeadLetter => {
                        metrics::counter!(JOBS, "kind" => kind, "outcome" => "dead_lettered").increment(1);
                        record(context, &job, "dead_lettered", ErrorClass::Permanent, &reason).await;
                        finished(context, &job).await;
                        dead_letter(context, &delivery, job.kind().name(), ErrorClass::Permanent, &reason, attempt)
                            .await;
                    }
                    WhenLate::Expire => {
                        tracing::info!(reason, "job expired before it ran; dropping it");
                        metrics::counter!(JOBS, "kind" => kind, "outcome" => "expired").increment(1);
                        record(context, &job, "expired", ErrorClass::Permanent, &reason).await;
                        finished(context, &job).await;
                        if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
                            tracing::warn!(%error, "could not acknowledge an expired job");
                        }
                    }
                }
                return;
            }
        }
        // A panic in a job is a failed job, not a dead worker.
        let started = std::time::Instant::now();
        let run = tokio::spawn(run_job(context.clone(), job.clone()).in_current_span()).await;
        metrics::histogram!(JOB_SECONDS, "kind" => kind).record(started.elapsed());
        let failure = match run {
            Ok(Ok(())) => {
                metrics::counter!(JOBS, "kind" => kind, "outcome" => "completed").increment(1);
                if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
                    // The effect is committed; a redelivery will find it done and report it.
                    tracing::warn!(%error, "could not acknowledge a finished job");
                }
                finished(context, &job).await;
                return;
            }
            Ok(Err(failure)) => failure,
            Err(join) => JobError::retryable(anyhow::anyhow!("the job panicked: {join}")),
        };
        settle_failure(context, &delivery, &job, failure, attempt).await;
    }
    .instrument(span)
    .await;
    in_flight.decrement(1.0);
}

/// The job ended (done, dead-lettered or expired): it is no longer pending.
async fn finished(context: &JobContext, job: &Job) {
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

async fn record(context: &JobContext, job: &Job, status: &str, class: ErrorClass, error: &str) {
    if let Err(e) = journal::record_failure(&context.pool, run_of(job), status, class, error).await {
        tracing::warn!(error = %e, "could not record the failure on the workflow run");
    }
}

/// Routes a failed delivery by its error class.
async fn settle_failure(context: &JobContext, delivery: &Delivery, job: &Job, failure: JobError, attempt: u32) {
    let policy = job.kind().spec().retry;
    let error = format!("{:#}", failure.source);
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
        record(context, job, "retrying", class, &error).await;
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
    record(context, job, "dead_lettered", class, &reason).await;
    dead_letter(context, delivery, job.kind().name(), class, &reason, attempt).await;
    finished(context, job).await;
}

const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

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
async fn dead_letter(
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

async fn run_job(context: JobContext, job: Job) -> Result<(), JobError> {
    context.failpoints.check(&format!("before:{}", job.kind().name())).await?;
    let outcome = match &job {
        Job::BookAppointmentV1(j) => book_appointment::run(&context.pool, j).await,
        Job::RescheduleAppointmentV1(j) => reschedule_appointment::run(&context.pool, j).await,
        Job::CancelAppointmentV1(j) => cancel_appointment::run(&context.pool, j).await,
        Job::RepairAnswerV1(j) => repair_answer::run(&context.pool, context.model.as_ref(), j).await,
        Job::SendSmsV1(j) => {
            // Nobody waits on the line for a text: nothing to post.
            let status = send_sms::run(&context.pool, &context.sending, &context.failpoints, j).await?;
            tracing::info!(sms.status = status, "text message job done");
            metrics::counter!(SMS, "status" => status.clone()).increment(1);
            context.failpoints.check("after_commit:send_sms").await?;
            return Ok(());
        }
    }?;
    tracing::info!(outcome = outcome_name(&outcome), "job done");
    context.board.post(job.idempotency_key(), &outcome).await.map_err(JobError::retryable)?;
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
