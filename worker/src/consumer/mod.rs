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
//!
//! The parts: this module starts and stops a worker (the consumers, the queue controls it
//! follows, its heartbeat); [`subscription`] keeps a consumer's channel across broker trouble;
//! [`consuming`] takes one kind's deliveries as job slots free up, pausing and resuming;
//! [`delivery`] runs one delivery's job; [`failures`] routes a failed one by its class; and
//! [`keeper`] moves dead letters into PostgreSQL for operators.

mod consuming;
mod delivery;
mod failures;
mod keeper;
mod subscription;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use adapters::amqp::Publisher;
use adapters::redis::{Pending, ResultBoard};
use adapters::{Namespace, Services};
use anyhow::Context as _;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use workflows::jobs::JobKind;

use self::consuming::Consumer;
use self::subscription::Subscription;
use crate::failpoints::Failpoints;
use crate::jobs::send_sms::Sending;
use crate::llm::LanguageModel;

/// How a worker runs.
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

/// A worker: consumers for its kinds, until it is told to stop.
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
    /// A worker on `services`, for the queues of namespace `names`.
    pub fn new(services: Services, names: Namespace, options: WorkerOptions) -> Self {
        Self { services, names, options }
    }

    /// Consumes every job kind until `shutdown` is cancelled, then stops taking deliveries,
    /// finishes the jobs in flight and returns.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let context = self.job_context().await?;
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
        let initial = operations::queues::paused_kinds(&self.services.pool).await.unwrap_or_else(|error| {
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
        let consumers = self.consumers(&context, &controls, &gauges, &shutdown);
        let keepers = self.keepers(&shutdown);
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
        if let Err(error) = operations::queues::farewell(&self.services.redis, &self.names, &worker_id).await {
            tracing::debug!(%error, "could not remove the worker's heartbeat");
        }
        failed.map_or(Ok(()), Err)
    }

    /// What every job of this worker runs with.
    async fn job_context(&self) -> anyhow::Result<JobContext> {
        let publisher = Publisher::new(&self.services.amqp, self.names.clone())
            .await
            .context("opening the worker's publishing channel")?;
        Ok(JobContext {
            pool: self.services.pool.clone(),
            board: ResultBoard::new(self.services.redis.clone(), self.names.clone()),
            pending: Pending::new(self.services.redis.clone(), self.names.clone()),
            publisher,
            failpoints: self.options.failpoints.clone(),
            sending: self.options.sending.clone(),
            model: self.options.model.clone(),
        })
    }

    /// One consumer per kind, each reporting into its gauge.
    fn consumers(
        &self,
        context: &JobContext,
        controls: &watch::Receiver<HashSet<JobKind>>,
        gauges: &[(JobKind, Arc<Gauge>)],
        shutdown: &CancellationToken,
    ) -> Vec<JoinHandle<anyhow::Result<()>>> {
        gauges
            .iter()
            .map(|(kind, gauge)| {
                let consumer = Consumer {
                    subscription: Subscription {
                        broker: self.services.amqp.clone(),
                        queue: self.names.queue(*kind),
                        prefetch: self.options.prefetch,
                    },
                    kind: *kind,
                    context: context.clone(),
                    concurrency: self.options.concurrency,
                    shutdown: shutdown.clone(),
                    controls: controls.clone(),
                    gauge: gauge.clone(),
                };
                tokio::spawn(consumer.run())
            })
            .collect()
    }

    /// One dead-letter keeper per kind, if this worker keeps them.
    fn keepers(&self, shutdown: &CancellationToken) -> Vec<JoinHandle<anyhow::Result<()>>> {
        if !self.options.keep_dead_letters {
            return Vec::new();
        }
        self.options
            .kinds
            .iter()
            .map(|kind| {
                let subscription = Subscription {
                    broker: self.services.amqp.clone(),
                    queue: self.names.dead_letter_queue(*kind),
                    prefetch: 32,
                };
                tokio::spawn(keeper::keep_dead_letters(
                    subscription,
                    *kind,
                    self.services.pool.clone(),
                    shutdown.clone(),
                ))
            })
            .collect()
    }
}

/// What one kind's consumer reports in the worker's heartbeat.
#[derive(Debug, Default)]
struct Gauge {
    consuming: AtomicBool,
    in_flight: AtomicU64,
}

/// Follows the queue controls in PostgreSQL: the set of paused kinds, read every
/// [`operations::queues::CONTROL_POLL`]. A failed read keeps the last known state.
async fn watch_controls(pool: PgPool, controls: watch::Sender<HashSet<JobKind>>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(operations::queues::CONTROL_POLL) => {}
        }
        match operations::queues::paused_kinds(&pool).await {
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
        let beat = operations::queues::Heartbeat {
            worker: worker.clone(),
            kinds: gauges
                .iter()
                .map(|(kind, gauge)| {
                    let state = operations::queues::KindState {
                        consuming: gauge.consuming.load(Ordering::Relaxed),
                        in_flight: gauge.in_flight.load(Ordering::Relaxed),
                    };
                    (kind.name().to_owned(), state)
                })
                .collect(),
            at_ms: operations::queues::now_ms(),
        };
        if let Err(error) = operations::queues::beat(&redis, &names, &beat).await {
            tracing::debug!(%error, "could not write the worker's heartbeat");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(operations::queues::HEARTBEAT_EVERY) => {}
        }
    }
}
