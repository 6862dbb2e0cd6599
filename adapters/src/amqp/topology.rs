//! Every exchange, queue and binding Bella uses, declared in one function.
//!
//! ```text
//!  publisher ──► {ns}.jobs (topic) ──{kind}.#──► {ns}.{kind} (quorum) ──► worker
//!                     ▲                              │ delivered too often (x-delivery-limit)
//!                     │ after the tier's delay       ▼
//!                     │            {ns}.jobs.dead (direct) ──{kind}──► {ns}.{kind}.dead
//!                     │                              ▲ a permanent failure, with its reason
//!  worker ─ retryable failure ─► {ns}.retry (topic) ─*.{tier}─► {ns}.retry.{tier} (TTL)
//! ```
//!
//! A job that fails with a retryable error is published again to the retry exchange with
//! routing key `{kind}.{tier}`; it waits in that tier's queue until its expiration, then
//! dead-letters back to the jobs exchange with the same routing key, which its work queue's
//! `{kind}.#` binding matches. One queue per tier means a job waiting an hour never holds back
//! one waiting a second.
//!
//! Declaring is idempotent, and both the api and the worker declare at start, so either may
//! start first. RabbitMQ refuses to redeclare a queue with different arguments, so arguments of
//! existing queues are changed only by a migration of the broker (see docs/operations.md).

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};
use workflows::jobs::{JobKind, RETRY_TIERS, tier_label};

use crate::names::Namespace;

/// How many times a message may be delivered before it is dead-lettered. A message that keeps
/// crashing its worker (a poison message) stops there instead of looping forever; transient
/// failures are retried well within it. Set explicitly: RabbitMQ 4's default of 20 drops the
/// message silently when no dead-letter exchange is configured.
pub const DELIVERY_LIMIT: i64 = 5;

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.as_bytes().to_vec()))
}

fn work_queue_arguments(names: &Namespace, kind: JobKind) -> FieldTable {
    let mut args = FieldTable::default();
    // Quorum queues are replicated and durable, track redeliveries (x-delivery-count) and
    // enforce a delivery limit; classic mirrored queues are deprecated.
    args.insert(ShortString::from("x-queue-type"), text("quorum"));
    args.insert(ShortString::from("x-delivery-limit"), AMQPValue::LongLongInt(DELIVERY_LIMIT));
    // Messages rejected without requeue, or past the delivery limit, go to the dead-letter
    // exchange with their kind as routing key, never dropped.
    args.insert(ShortString::from("x-dead-letter-exchange"), text(&names.dead_letter_exchange()));
    args.insert(ShortString::from("x-dead-letter-routing-key"), text(kind.name()));
    // At-least-once dead-lettering (RabbitMQ 3.10+): the queue keeps a message until the dead
    // letter queue has confirmed it, so a dead letter cannot be lost in transit. It requires the
    // reject-publish overflow behaviour.
    args.insert(ShortString::from("x-dead-letter-strategy"), text("at-least-once"));
    args.insert(ShortString::from("x-overflow"), text("reject-publish"));
    args
}

/// The longest a message waits in a tier: the tier plus the most jitter the worker adds.
pub fn tier_ceiling_ms(tier: std::time::Duration) -> i64 {
    i64::try_from(tier.as_millis() * 5 / 4).unwrap_or(i64::MAX)
}

fn retry_queue_arguments(names: &Namespace, tier: std::time::Duration) -> FieldTable {
    let mut args = FieldTable::default();
    // Durable like the work queues: a job waiting for its retry survives a broker restart.
    args.insert(ShortString::from("x-queue-type"), text("quorum"));
    // A ceiling: each message also carries its own expiration (the tier plus jitter), so that
    // jobs failing together do not all come back at the same instant.
    args.insert(ShortString::from("x-message-ttl"), AMQPValue::LongLongInt(tier_ceiling_ms(tier)));
    // Expired messages go back to the jobs exchange, keeping their routing key `{kind}.{tier}`.
    args.insert(ShortString::from("x-dead-letter-exchange"), text(&names.jobs_exchange()));
    args.insert(ShortString::from("x-dead-letter-strategy"), text("at-least-once"));
    args.insert(ShortString::from("x-overflow"), text("reject-publish"));
    args
}

fn dead_letter_queue_arguments() -> FieldTable {
    let mut args = FieldTable::default();
    // Dead letters wait for an operator; they must survive a broker restart as work does.
    args.insert(ShortString::from("x-queue-type"), text("quorum"));
    args
}

/// Declares the exchanges, queues and bindings of every job kind.
pub async fn declare(channel: &Channel, names: &Namespace) -> lapin::Result<()> {
    let durable = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
    // Topic, so that later consumers (metrics, an audit tap) can bind by pattern.
    channel.exchange_declare(names.jobs_exchange().into(), ExchangeKind::Topic, durable, FieldTable::default()).await?;
    channel
        .exchange_declare(names.dead_letter_exchange().into(), ExchangeKind::Direct, durable, FieldTable::default())
        .await?;
    channel
        .exchange_declare(names.retry_exchange().into(), ExchangeKind::Topic, durable, FieldTable::default())
        .await?;
    let queue = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
    for tier in RETRY_TIERS {
        let label = tier_label(tier);
        channel.queue_declare(names.retry_queue(&label).into(), queue, retry_queue_arguments(names, tier)).await?;
        channel
            .queue_bind(
                names.retry_queue(&label).into(),
                names.retry_exchange().into(),
                format!("*.{label}").into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    for kind in JobKind::ALL {
        channel.queue_declare(names.queue(kind).into(), queue, work_queue_arguments(names, kind)).await?;
        // `{kind}.#` matches both a new job (`{kind}`) and one back from a retry tier
        // (`{kind}.30s`).
        channel
            .queue_bind(
                names.queue(kind).into(),
                names.jobs_exchange().into(),
                format!("{}.#", kind.name()).into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        channel.queue_declare(names.dead_letter_queue(kind).into(), queue, dead_letter_queue_arguments()).await?;
        channel
            .queue_bind(
                names.dead_letter_queue(kind).into(),
                names.dead_letter_exchange().into(),
                kind.name().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(())
}

/// Deletes everything [`declare`] created. For tests, which each use a namespace of their own.
pub async fn delete(channel: &Channel, names: &Namespace) -> lapin::Result<()> {
    for kind in JobKind::ALL {
        channel.queue_delete(names.queue(kind).into(), QueueDeleteOptions::default()).await?;
        channel.queue_delete(names.dead_letter_queue(kind).into(), QueueDeleteOptions::default()).await?;
    }
    for tier in RETRY_TIERS {
        channel.queue_delete(names.retry_queue(&tier_label(tier)).into(), QueueDeleteOptions::default()).await?;
    }
    channel.exchange_delete(names.retry_exchange().into(), Default::default()).await?;
    channel.exchange_delete(names.jobs_exchange().into(), Default::default()).await?;
    channel.exchange_delete(names.dead_letter_exchange().into(), Default::default()).await?;
    Ok(())
}
