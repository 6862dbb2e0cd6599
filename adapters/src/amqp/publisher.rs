//! Publishing jobs with publisher confirms and the mandatory flag.
//!
//! A publish succeeds only when the broker has confirmed the message *and* routed it to a queue:
//! an unroutable message comes back as an acknowledged confirm carrying the returned message, and
//! is a failure here, as are a negative acknowledgement and no answer within the time limit.

use std::sync::Arc;
use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation};
use workflows::jobs::Job;

use super::Broker;
use crate::metrics as names_of;
use crate::names::Namespace;
use crate::redis::Pending;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the broker returned the job: no queue is bound for it")]
    Returned,
    #[error("the broker refused the job (negative acknowledgement)")]
    Nacked,
    #[error("the publishing channel was not in confirm mode; it is reopened")]
    Unconfirmed,
    #[error("the broker did not confirm the job within {0:?}")]
    Timeout(Duration),
    #[error("the broker is unavailable: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the job could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The properties every job is published with, and its headers: when it was published and the
/// trace it belongs to (the current span's).
pub fn job_properties(job: &Job) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(
        ShortString::from(super::headers::PUBLISHED_MS),
        AMQPValue::LongLongInt(chrono::Utc::now().timestamp_millis()),
    );
    crate::trace_context::inject(&mut headers);
    BasicProperties::default()
        .with_headers(headers)
        // Persistent: the message survives a broker restart (quorum queues persist anyway).
        .with_delivery_mode(2)
        .with_content_type("application/json".into())
        // The idempotency key travels as the message id, for tracing and deduplication.
        .with_message_id(job.idempotency_key().into())
        .with_type(job.kind().name().into())
        .with_priority(job.kind().spec().priority)
        .with_timestamp(u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default())
}

/// Publishes on one channel in confirm mode, opened again on the new connection after the
/// [`Broker`] replaced a lost one, reopened when the broker closed it (a channel-level error does
/// not drop the connection), and replaced after a refusal, so that one bad channel never refuses
/// more than the publish that found it out.
#[derive(Clone)]
pub struct Publisher {
    broker: Broker,
    channel: Arc<tokio::sync::Mutex<Current>>,
    names: Namespace,
    /// Where published jobs are recorded until they finish (for the oldest-job gauge).
    pending: Option<Pending>,
}

/// The channel in use, how many channels were opened before it (so that of several publishes
/// refused on one channel, only the first replaces it), the broker connection it is on, and
/// whether a refusal marked it for replacement.
struct Current {
    generation: u64,
    connection: u64,
    channel: Channel,
    stale: bool,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").field("names", &self.names).finish_non_exhaustive()
    }
}

impl Publisher {
    /// Opens a channel in confirm mode.
    pub async fn new(broker: &Broker, names: Namespace) -> lapin::Result<Self> {
        let connection = broker.generation();
        let channel = open(broker).await?;
        Ok(Self {
            broker: broker.clone(),
            channel: Arc::new(tokio::sync::Mutex::new(Current { generation: 0, connection, channel, stale: false })),
            names,
            pending: None,
        })
    }

    /// Records each confirmed job in `pending` until the worker finishes it.
    pub fn with_pending(mut self, pending: Pending) -> Self {
        self.pending = Some(pending);
        self
    }

    /// The channel, opened first on the broker's new connection if it was replaced, reopened if
    /// the broker closed it while the connection is up, or replaced if a refusal marked it. The
    /// channel it replaces is not closed here: publishes still waiting for their confirms on it
    /// keep it (they hold it), and it closes when the last of them lets go.
    async fn current(&self) -> lapin::Result<(u64, Channel)> {
        let mut current = self.channel.lock().await;
        let status = current.channel.status();
        let usable =
            status.connected() && status.confirm() && current.connection == self.broker.generation() && !current.stale;
        if !usable && self.broker.is_connected() {
            current.connection = self.broker.generation();
            current.channel = open(&self.broker).await?;
            current.generation += 1;
            current.stale = false;
            tracing::info!("opened a new publishing channel");
        }
        Ok((current.generation, current.channel.clone()))
    }

    /// Marks the channel of `generation` for replacement after it refused a publish (unless it
    /// was replaced already); the next publish opens a new one. No network I/O here, so no
    /// publish waits on this one.
    async fn replace(&self, generation: u64, why: &str) {
        let mut current = self.channel.lock().await;
        if current.generation == generation && !current.stale {
            current.stale = true;
            tracing::info!(reason = why, "the publishing channel will be replaced");
        }
    }

    /// Publishes `job` to the jobs exchange and waits up to `limit` for the broker to confirm it.
    pub async fn publish(&self, job: &Job, limit: Duration) -> Result<(), PublishError> {
        let payload = serde_json::to_vec(job)?;
        let kind = job.kind().name();
        // Pending before it is sent: a worker may finish the job before the confirm arrives, and
        // its removal must find the entry there.
        self.record_pending(job).await;
        let started = std::time::Instant::now();
        let sent = self.send(&self.names.jobs_exchange(), kind, &payload, job_properties(job), limit).await;
        match &sent {
            Ok(()) => {
                metrics::histogram!(names_of::PUBLISH_CONFIRM_SECONDS, "kind" => kind).record(started.elapsed());
            }
            Err(_) => {
                metrics::counter!(names_of::PUBLISH_FAILURES, "kind" => kind).increment(1);
                // Whoever takes the job over (the outbox relay) records it again when it publishes.
                self.clear_pending(job).await;
            }
        }
        sent
    }

    /// Takes back [`record_pending`](Self::record_pending) for a job that was not published.
    async fn clear_pending(&self, job: &Job) {
        if let Some(pending) = &self.pending
            && let Err(error) = pending.done(job.kind(), job.idempotency_key()).await
        {
            tracing::debug!(%error, "could not clear a pending job");
        }
    }

    /// Records a job about to be published as pending (for the oldest-job gauge), when this
    /// publisher does.
    pub async fn record_pending(&self, job: &Job) {
        if let Some(pending) = &self.pending
            && let Err(error) = pending.add(job.kind(), job.idempotency_key()).await
        {
            tracing::debug!(%error, "could not record a pending job");
        }
    }

    /// Publishes a message with confirms and the mandatory flag, and waits up to `limit` for the
    /// broker to confirm that it was routed to a queue. A message the broker refuses (or that a
    /// channel without confirms cannot have confirmed) is sent once more on a fresh channel,
    /// within the same limit: the job's idempotency key makes a second copy harmless.
    pub async fn send(
        &self,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
        limit: Duration,
    ) -> Result<(), PublishError> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut result = self.send_once(exchange, routing_key, payload, properties.clone(), deadline, limit).await;
        if let Err((generation, error @ (PublishError::Nacked | PublishError::Unconfirmed))) = &result {
            self.replace(*generation, &error.to_string()).await;
            if tokio::time::Instant::now() < deadline {
                result = self.send_once(exchange, routing_key, payload, properties, deadline, limit).await;
            }
        }
        match result {
            Ok(()) => Ok(()),
            Err((generation, error)) => {
                if matches!(error, PublishError::Nacked | PublishError::Unconfirmed | PublishError::Timeout(_)) {
                    // The next publish starts on a fresh channel.
                    self.replace(generation, &error.to_string()).await;
                }
                Err(error)
            }
        }
    }

    async fn send_once(
        &self,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
        deadline: tokio::time::Instant,
        limit: Duration,
    ) -> Result<(), (u64, PublishError)> {
        let options = BasicPublishOptions { mandatory: true, ..BasicPublishOptions::default() };
        // Opening a channel is a round trip too: within the same limit.
        let (generation, channel) = match tokio::time::timeout_at(deadline, self.current()).await {
            Ok(Ok(current)) => current,
            Ok(Err(error)) => return Err((u64::MAX, PublishError::Broker(error))),
            Err(_) => return Err((u64::MAX, PublishError::Timeout(limit))),
        };
        let confirm = async {
            channel.basic_publish(exchange.into(), routing_key.into(), options, payload, properties).await?.await
        };
        match tokio::time::timeout_at(deadline, confirm).await {
            Err(_) => Err((generation, PublishError::Timeout(limit))),
            Ok(Err(error)) => Err((generation, PublishError::Broker(error))),
            Ok(Ok(Confirmation::Ack(None))) => Ok(()),
            Ok(Ok(Confirmation::Ack(Some(_)))) => Err((generation, PublishError::Returned)),
            Ok(Ok(Confirmation::Nack(_))) => Err((generation, PublishError::Nacked)),
            Ok(Ok(Confirmation::NotRequested)) => Err((generation, PublishError::Unconfirmed)),
        }
    }

    pub fn names(&self) -> &Namespace {
        &self.names
    }
}

async fn open(broker: &Broker) -> lapin::Result<Channel> {
    let channel = broker.create_channel().await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    Ok(channel)
}
