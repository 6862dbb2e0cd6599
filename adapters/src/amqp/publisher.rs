//! Publishing jobs with publisher confirms and the mandatory flag.
//!
//! A publish succeeds only when the broker has confirmed the message *and* routed it to a queue:
//! an unroutable message comes back as an acknowledged confirm carrying the returned message, and
//! is a failure here, as are a negative acknowledgement and no answer within the time limit.

use std::sync::Arc;
use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use workflows::jobs::Job;

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

/// The header carrying when a job was first published (Unix milliseconds), for the pickup
/// latency the worker measures.
pub const PUBLISHED_MS: &str = "x-bella-published-ms";

/// The properties every job is published with, and its headers: when it was published and the
/// trace it belongs to (the current span's).
pub fn job_properties(job: &Job) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(ShortString::from(PUBLISHED_MS), AMQPValue::LongLongInt(chrono::Utc::now().timestamp_millis()));
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

/// Publishes on one channel in confirm mode, reopened when the broker closed it (a channel-level
/// error does not drop the connection, and lapin's recovery only restores channels after a
/// connection loss).
#[derive(Clone)]
pub struct Publisher {
    connection: Arc<Connection>,
    channel: Arc<tokio::sync::Mutex<Channel>>,
    names: Namespace,
    /// Where published jobs are recorded until they finish (for the oldest-job gauge).
    pending: Option<Pending>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").field("names", &self.names).finish_non_exhaustive()
    }
}

impl Publisher {
    /// Opens a channel in confirm mode.
    pub async fn new(connection: &Arc<Connection>, names: Namespace) -> lapin::Result<Self> {
        let channel = open(connection).await?;
        Ok(Self {
            connection: connection.clone(),
            channel: Arc::new(tokio::sync::Mutex::new(channel)),
            names,
            pending: None,
        })
    }

    /// Records each confirmed job in `pending` until the worker finishes it.
    pub fn with_pending(mut self, pending: Pending) -> Self {
        self.pending = Some(pending);
        self
    }

    /// The channel, reopened first if the broker closed it while the connection is up, or if it
    /// came back from a connection recovery without confirm mode (a publish then resolves at once
    /// as "not requested", and nothing would be confirmed).
    async fn current(&self) -> lapin::Result<Channel> {
        let mut channel = self.channel.lock().await;
        let status = channel.status();
        let lost = !status.connected() || (status.connected() && !status.confirm());
        if lost && self.connection.status().connected() {
            if status.connected() {
                channel.close(200, "reopening in confirm mode".into()).await.ok();
            }
            *channel = open(&self.connection).await?;
            tracing::info!("reopened the publishing channel");
        }
        Ok(channel.clone())
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
    /// broker to confirm that it was routed to a queue.
    pub async fn send(
        &self,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
        limit: Duration,
    ) -> Result<(), PublishError> {
        let options = BasicPublishOptions { mandatory: true, ..BasicPublishOptions::default() };
        let confirm = async {
            let channel = self.current().await?;
            channel.basic_publish(exchange.into(), routing_key.into(), options, payload, properties).await?.await
        };
        match tokio::time::timeout(limit, confirm).await {
            Err(_) => Err(PublishError::Timeout(limit)),
            Ok(Err(error)) => Err(PublishError::Broker(error)),
            Ok(Ok(Confirmation::Ack(None))) => Ok(()),
            Ok(Ok(Confirmation::Ack(Some(_)))) => Err(PublishError::Returned),
            Ok(Ok(Confirmation::Nack(_))) => Err(PublishError::Nacked),
            Ok(Ok(Confirmation::NotRequested)) => Err(PublishError::Unconfirmed),
        }
    }

    pub fn names(&self) -> &Namespace {
        &self.names
    }
}

async fn open(connection: &Connection) -> lapin::Result<Channel> {
    let channel = connection.create_channel().await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    Ok(channel)
}
