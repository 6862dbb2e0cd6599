//! A consumer's queue and channel, kept across broker trouble: the channel stays while its
//! connection stands (the deliveries in flight on it can still be acknowledged), and a new one is
//! opened on the connection the [`Broker`] replaces a lost one with.

use std::time::Duration;

use adapters::amqp::Broker;
use anyhow::Context as _;
use lapin::Channel;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use tokio_util::sync::CancellationToken;

/// A queue to consume on the broker's connection in use, and how many deliveries to hold.
pub(super) struct Subscription {
    pub(super) broker: Broker,
    pub(super) queue: String,
    pub(super) prefetch: u16,
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
    pub(super) async fn start(
        &self,
        open: &mut Option<(u64, Channel)>,
        tag: &str,
    ) -> anyhow::Result<(Channel, lapin::Consumer)> {
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
    pub(super) async fn wait_for_broker(&self, seen: u64, shutdown: &CancellationToken) -> bool {
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
