//! The dead-letter keeper: moves one kind's dead letters from RabbitMQ into PostgreSQL, where
//! operators list, retry, discard and purge them; each message is acknowledged only after its
//! row is committed, and a redelivered one is kept once (its dead-lettering's id is the key).

use std::time::Duration;

use adapters::amqp::headers;
use futures_util::StreamExt as _;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicCancelOptions, BasicNackOptions};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use workflows::jobs::JobKind;

use super::subscription::Subscription;

/// Moves one kind's dead letters from RabbitMQ into PostgreSQL, where operators work on them;
/// each is acknowledged after it is committed.
pub(super) async fn keep_dead_letters(
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
    let headers = headers::texts(delivery.properties.headers().as_ref());
    let incoming = operations::dead_letters::Incoming { kind: kind.name(), payload: &delivery.data, headers };
    match operations::dead_letters::keep(pool, &incoming).await {
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
