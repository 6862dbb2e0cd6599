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

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use adapters::admin;
use adapters::amqp::PUBLISHED_MS;
use adapters::amqp::{Broker, Publisher};
use adapters::metrics::{JOB_FAILURES, JOB_PICKUP_SECONDS, JOB_SECONDS, JOBS, JOBS_IN_FLIGHT, SMS};
use adapters::redis::{Pending, ResultBoard};
use adapters::trace_context;
use adapters::{Namespace, Services};
use anyhow::Context as _;
use futures_util::StreamExt as _;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel};
use rand::Rng as _;
use sqlx::PgPool;
use tokio::sync::{Semaphore, watch};
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
    /// The kinds this worker consumes.
    pub kinds: Vec<JobKind>,
    /// Whether this worker also moves its kinds' dead letters into PostgreSQL.
    pub keep_dead_letters: bool,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            prefetch: 16,
            concurrency: 16,
            failpoints: Failpoints::default(),
            sending: Sending::default(),
            model: None,
            kinds: JobKind::ALL.to_vec(),
            keep_dead_letters: true,
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
        let worker_id = format!(
            "{}:{}:{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into()),
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        );
        let gauges: Arc<Vec<(JobKind, Arc<Gauge>)>> =
            Arc::new(self.options.kinds.iter().map(|kind| (*kind, Arc::new(Gauge::default()))).collect());
        // Read the queue controls before consuming anything: a kind paused before a deploy stays
        // paused in the workers the deploy starts.
        let initial = admin::queues::paused_kinds(&self.services.pool).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "could not read the queue controls; consuming every kind");
            HashSet::new()
        });
        let (controls_tx, controls) = watch::channel(initial);
        let background = CancellationToken::new();
        let watcher = tokio::spawn(watch_controls(self.services.pool.clone(), controls_tx, background.clone()));
        let heart = tokio::spawn(heartbeat(
            self.services.redis.clone(),
            self.names.clone(),
            worker_id.clone(),
            gauges.clone(),
            background.clone(),
        ));
        let mut consumers = Vec::new();
        for (kind, gauge) in gauges.iter() {
            let kind = *kind;
            consumers.push(tokio::spawn(consume(
                Subscription {
                    broker: self.services.amqp.clone(),
                    queue: self.names.queue(kind),
                    prefetch: self.options.prefetch,
                },
                kind,
                context.clone(),
                self.options.concurrency,
                shutdown.clone(),
                controls.clone(),
                gauge.clone(),
            )));
        }
        let mut keepers = Vec::new();
        if self.options.keep_dead_letters {
            for kind in self.options.kinds.iter().copied() {
                keepers.push(tokio::spawn(keep_dead_letters(
                    Subscription {
                        broker: self.services.amqp.clone(),
                        queue: self.names.dead_letter_queue(kind),
                        prefetch: 32,
                    },
                    kind,
                    self.services.pool.clone(),
                    shutdown.clone(),
                )));
            }
        }
        let mut failed = None;
        for consumer in consumers.into_iter().chain(keepers) {
            match consumer.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => failed = failed.or(Some(error)),
                Err(join) => failed = failed.or(Some(anyhow::anyhow!("a consumer task failed: {join}"))),
            }
        }
        background.cancel();
        let _ = watcher.await;
        let _ = heart.await;
        if let Err(error) = admin::queues::farewell(&self.services.redis, &self.names, &worker_id).await {
            tracing::debug!(%error, "could not remove the worker's heartbeat");
        }
        failed.map_or(Ok(()), Err)
    }
}

/// What one kind's consumer reports in the worker's heartbeat.
#[derive(Debug, Default)]
struct Gauge {
    consuming: AtomicBool,
    in_flight: AtomicU64,
}

/// Follows the queue controls in PostgreSQL: the set of paused kinds, read every
/// [`admin::queues::CONTROL_POLL`]. A failed read keeps the last known state.
async fn watch_controls(pool: PgPool, controls: watch::Sender<HashSet<JobKind>>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(admin::queues::CONTROL_POLL) => {}
        }
        match admin::queues::paused_kinds(&pool).await {
            Ok(paused) => {
                controls.send_if_modified(|current| {
                    let changed = *current != paused;
                    if changed {
                        tracing::info!(paused = ?paused.iter().map(|k| k.name()).collect::<Vec<_>>(), "queue controls changed");
                        *current = paused;
                    }
                    changed
                });
            }
            Err(error) => tracing::debug!(%error, "could not read the queue controls"),
        }
    }
}

/// Writes this worker's heartbeat (what it consumes, what it holds in flight) every second.
async fn heartbeat(
    redis: redis::aio::ConnectionManager,
    names: Namespace,
    worker: String,
    gauges: Arc<Vec<(JobKind, Arc<Gauge>)>>,
    stop: CancellationToken,
) {
    loop {
        let beat = admin::queues::Heartbeat {
            worker: worker.clone(),
            kinds: gauges
                .iter()
                .map(|(kind, gauge)| {
                    let state = admin::queues::KindState {
                        consuming: gauge.consuming.load(Ordering::Relaxed),
                        in_flight: gauge.in_flight.load(Ordering::Relaxed),
                    };
                    (kind.name().to_owned(), state)
                })
                .collect(),
            at_ms: admin::queues::now_ms(),
        };
        if let Err(error) = admin::queues::beat(&redis, &names, &beat).await {
            tracing::debug!(%error, "could not write the worker's heartbeat");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(admin::queues::HEARTBEAT_EVERY) => {}
        }
    }
}

/// Why a consumer stopped taking deliveries.
enum Stop {
    Shutdown,
    Paused,
    /// The consumer's channel or connection is gone: consume again once the broker is back.
    Lost,
}

/// Consumes one kind until `shutdown`: stops taking deliveries while the kind is paused (its
/// jobs in flight finish), and starts again when it is resumed.
#[allow(clippy::too_many_arguments)]
/// A queue to consume on the broker's connection in use, and how many deliveries to hold.
struct Subscription {
    broker: Broker,
    queue: String,
    prefetch: u16,
}

impl Subscription {
    /// The channel to consume on: `open`'s while its connection stands (dropping a channel closes
    /// it, and the deliveries still in flight on it could no longer be acknowledged), else a new
    /// one with the prefetch set, on the connection in use.
    async fn channel(&self, open: &mut Option<(u64, Channel)>) -> anyhow::Result<Channel> {
        let generation = self.broker.generation();
        if let Some((on, channel)) = open
            && *on == generation
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        let channel = self.broker.create_channel().await.context("opening a consumer channel")?;
        channel.basic_qos(self.prefetch, BasicQosOptions::default()).await.context("setting the prefetch")?;
        *open = Some((generation, channel.clone()));
        Ok(channel)
    }

    /// A channel (see [`channel`](Self::channel)) and a consumer on it.
    async fn start(&self, open: &mut Option<(u64, Channel)>, tag: &str) -> anyhow::Result<(Channel, lapin::Consumer)> {
        let channel = self.channel(open).await?;
        let consumer = channel
            .basic_consume(
                self.queue.as_str().into(),
                tag.into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("consuming {}", self.queue))?;
        Ok((channel, consumer))
    }

    /// After the consumer was interrupted on the connection of generation `seen`: waits until the
    /// broker has connected again (or, if only the channel failed, a second), or until shutdown
    /// (`false`).
    async fn wait_for_broker(&self, seen: u64, shutdown: &CancellationToken) -> bool {
        let settled = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            while !self.broker.is_connected() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => false,
            () = self.broker.reconnected_since(seen) => true,
            () = settled => true,
        }
    }
}

async fn consume(
    subscription: Subscription,
    kind: JobKind,
    context: JobContext,
    concurrency: usize,
    shutdown: CancellationToken,
    mut controls: watch::Receiver<HashSet<JobKind>>,
    gauge: Arc<Gauge>,
) -> anyhow::Result<()> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let tracker = TaskTracker::new();
    // A delivery runs on the job slot taken for it; one taken without (after a cancel) waits for
    // a slot like any other.
    let spawn = |delivery: Delivery, slot: Option<tokio::sync::OwnedSemaphorePermit>| {
        let context = context.clone();
        let gauge = gauge.clone();
        gauge.in_flight.fetch_add(1, Ordering::Relaxed);
        let permits = permits.clone();
        tracker.spawn(async move {
            let slot = match slot {
                Some(slot) => Ok(slot),
                None => permits.acquire_owned().await,
            };
            process(&context, delivery).await;
            drop(slot);
            gauge.in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    };
    let mut open = None;
    'consuming: loop {
        // Paused: wait to be resumed (or stopped).
        if controls.borrow().contains(&kind) {
            tracing::info!(job.kind = kind.name(), "paused: not consuming");
            tokio::select! {
                () = shutdown.cancelled() => break 'consuming,
                resumed = controls.wait_for(|paused| !paused.contains(&kind)) => {
                    if resumed.is_err() { break 'consuming; }
                }
            }
        }
        let tag = format!("bella-worker-{}-{}-{}", kind.name(), std::process::id(), uuid::Uuid::new_v4().simple());
        let seen = subscription.broker.generation();
        let (channel, mut consumer) = match subscription.start(&mut open, &tag).await {
            Ok(started) => started,
            Err(error) => {
                tracing::warn!(
                    job.kind = kind.name(),
                    error = format!("{error:#}"),
                    "cannot consume; trying again once the broker is back"
                );
                if subscription.wait_for_broker(seen, &shutdown).await {
                    continue 'consuming;
                }
                break 'consuming;
            }
        };
        let queue = &subscription.queue;
        gauge.consuming.store(true, Ordering::Relaxed);
        tracing::info!(job.kind = kind.name(), %queue, "worker consuming");
        let stop = loop {
            // Take a delivery only when a job slot is free: deliveries left with the broker can
            // go to another worker.
            let permit = tokio::select! {
                () = shutdown.cancelled() => break Stop::Shutdown,
                _ = controls.wait_for(|paused| paused.contains(&kind)) => break Stop::Paused,
                permit = permits.clone().acquire_owned() => permit.context("the job semaphore closed")?,
            };
            let next = tokio::select! {
                () = shutdown.cancelled() => break Stop::Shutdown,
                _ = controls.wait_for(|paused| paused.contains(&kind)) => break Stop::Paused,
                next = consumer.next() => next,
            };
            match next {
                Some(Ok(delivery)) => spawn(delivery, Some(permit)),
                // The channel or its connection is gone (a node lost, the broker restarting): the
                // deliveries it held go back to the queue, and this consumer starts again on the
                // connection the broker handle opens next.
                Some(Err(error)) => {
                    tracing::warn!(job.kind = kind.name(), %error, "consumer interrupted; consuming again once the broker is back");
                    break Stop::Lost;
                }
                None => {
                    tracing::warn!(job.kind = kind.name(), "the broker ended the consumer; consuming again");
                    break Stop::Lost;
                }
            }
        };
        if matches!(stop, Stop::Lost) {
            gauge.consuming.store(false, Ordering::Relaxed);
            if subscription.wait_for_broker(seen, &shutdown).await {
                continue 'consuming;
            }
            break 'consuming;
        }
        // Stop the broker from sending more; deliveries it had already sent are run (they are
        // in flight), then the consumer's stream ends.
        // Bounded: a channel whose node just died may never answer.
        match tokio::time::timeout(
            Duration::from_secs(2),
            channel.basic_cancel(tag.into(), BasicCancelOptions::default()),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "could not cancel the consumer cleanly"),
            Err(_) => tracing::warn!("the broker did not confirm the consumer's cancel within 2 s"),
        }
        gauge.consuming.store(false, Ordering::Relaxed);
        while let Ok(Some(Ok(delivery))) = tokio::time::timeout(Duration::from_secs(2), consumer.next()).await {
            spawn(delivery, None);
        }
        match stop {
            Stop::Paused | Stop::Lost => continue 'consuming,
            Stop::Shutdown => break 'consuming,
        }
    }
    // Let the jobs in flight finish and acknowledge.
    tracker.close();
    tracker.wait().await;
    tracing::info!(job.kind = kind.name(), "consumer stopped");
    Ok(())
}

/// Moves one kind's dead letters from RabbitMQ into PostgreSQL, where operators work on them;
/// each is acknowledged after it is committed.
async fn keep_dead_letters(
    subscription: Subscription,
    kind: JobKind,
    pool: PgPool,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let tag = format!("bella-keeper-{}-{}-{}", kind.name(), std::process::id(), uuid::Uuid::new_v4().simple());
    let mut open = None;
    'consuming: loop {
        let seen = subscription.broker.generation();
        let (channel, mut consumer) = match subscription.start(&mut open, &tag).await {
            Ok(started) => started,
            Err(error) => {
                tracing::warn!(
                    job.kind = kind.name(),
                    error = format!("{error:#}"),
                    "cannot keep dead letters; trying again once the broker is back"
                );
                if subscription.wait_for_broker(seen, &shutdown).await {
                    continue 'consuming;
                }
                return Ok(());
            }
        };
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => {
                    let cancel = channel.basic_cancel(tag.as_str().into(), BasicCancelOptions::default());
                    let _ = tokio::time::timeout(Duration::from_secs(2), cancel).await;
                    return Ok(());
                }
                next = consumer.next() => next,
            };
            let Some(Ok(delivery)) = next else {
                // Interrupted: start again on the broker's next connection.
                if subscription.wait_for_broker(seen, &shutdown).await {
                    continue 'consuming;
                }
                return Ok(());
            };
            keep_one(&pool, kind, delivery).await;
        }
    }
}

/// Keeps one dead letter in PostgreSQL, then acknowledges it.
async fn keep_one(pool: &PgPool, kind: JobKind, delivery: Delivery) {
    {
        let headers = header_texts(&delivery);
        let incoming = admin::dead_letters::Incoming { kind: kind.name(), payload: &delivery.data, headers };
        match admin::dead_letters::keep(pool, &incoming).await {
            Ok(new) => {
                if new {
                    tracing::info!(job.kind = kind.name(), "dead letter kept for operators");
                }
                if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
                    tracing::warn!(%error, "could not acknowledge a kept dead letter; it will be kept once");
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not keep a dead letter; handing it back");
                tokio::time::sleep(Duration::from_secs(1)).await;
                let _ = delivery.nack(BasicNackOptions { requeue: true, ..BasicNackOptions::default() }).await;
            }
        }
    }
}

/// A message's headers as text, for the dead letters' record.
fn header_texts(delivery: &Delivery) -> std::collections::BTreeMap<String, String> {
    delivery
        .properties
        .headers()
        .as_ref()
        .map(|table| table.inner().iter().map(|(name, value)| (name.to_string(), value_text(value))).collect())
        .unwrap_or_default()
}

fn value_text(value: &AMQPValue) -> String {
    match value {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.to_string(),
        other => match integer(Some(other)) {
            Some(n) => n.to_string(),
            None => format!("{other:?}"),
        },
    }
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
        let mut running = tokio::spawn(run_job(context.clone(), job.clone()).in_current_span());
        // No job holds its delivery (and a job slot) for ever: one stuck on a network call that
        // never answers is stopped and retried.
        let run = match tokio::time::timeout(JOB_TIMEOUT, &mut running).await {
            Ok(run) => run,
            Err(_) => {
                running.abort();
                Ok(Err(JobError::retryable(anyhow::anyhow!("the job took longer than {} s", JOB_TIMEOUT.as_secs()))))
            }
        };
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
/// The longest one run of a job may take (a text's send and lookup, a model's answer, a
/// booking's transaction each have tighter bounds of their own).
const JOB_TIMEOUT: Duration = Duration::from_secs(60);

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
    // Names this dead-lettering, so that the keeper keeps it once however often it is delivered.
    let dead_id = uuid::Uuid::now_v7().to_string();
    table.insert(
        ShortString::from(admin::dead_letters::DEAD_ID_HEADER),
        AMQPValue::LongString(LongString::from(dead_id.into_bytes())),
    );
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
