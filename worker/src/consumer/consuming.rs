//! One kind's consumer: takes a delivery only when a job slot is free (deliveries left with the
//! broker can go to another worker), stops taking them while the kind is paused (its jobs in
//! flight finish) and starts again when it is resumed, consumes again after broker trouble, and
//! at shutdown lets the jobs in flight finish and acknowledge.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::StreamExt as _;
use lapin::message::Delivery;
use lapin::options::BasicCancelOptions;
use lapin::{Channel, Consumer as Stream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use workflows::jobs::JobKind;

use super::subscription::Subscription;
use super::{Gauge, JobContext, delivery};

/// How long the broker may take to confirm a consumer's cancel, and to hand over the deliveries
/// it had already sent: a channel whose node just died may never answer.
const CANCEL_WAIT: Duration = Duration::from_secs(2);

/// What one kind's consumer consumes, with what, and when it stops.
pub(super) struct Consumer {
    pub(super) subscription: Subscription,
    pub(super) kind: JobKind,
    pub(super) context: JobContext,
    /// Jobs run at once.
    pub(super) concurrency: usize,
    pub(super) shutdown: CancellationToken,
    /// The paused kinds.
    pub(super) controls: watch::Receiver<HashSet<JobKind>>,
    pub(super) gauge: Arc<Gauge>,
}

/// Why a consumer stopped taking deliveries.
enum Stop {
    Shutdown,
    Paused,
    /// The consumer's channel or connection is gone: consume again once the broker is back.
    Lost,
}

/// The jobs a consumer runs: each on a slot of the kind's concurrency.
struct Slots {
    permits: Arc<Semaphore>,
    tracker: TaskTracker,
}

impl Consumer {
    /// Consumes until shutdown, then waits for the jobs in flight.
    pub(super) async fn run(mut self) -> anyhow::Result<()> {
        let slots = Slots { permits: Arc::new(Semaphore::new(self.concurrency.max(1))), tracker: TaskTracker::new() };
        let mut open = None;
        loop {
            if !self.wait_while_paused().await {
                break;
            }
            let tag =
                format!("bella-worker-{}-{}-{}", self.kind.name(), std::process::id(), uuid::Uuid::new_v4().simple());
            let seen = self.subscription.broker.generation();
            let (channel, mut stream) = match self.subscription.start(&mut open, &tag).await {
                Ok(started) => started,
                Err(error) => {
                    tracing::warn!(
                        job.kind = self.kind.name(),
                        error = format!("{error:#}"),
                        "cannot consume; trying again once the broker is back"
                    );
                    if self.subscription.wait_for_broker(seen, &self.shutdown).await {
                        continue;
                    }
                    break;
                }
            };
            self.gauge.consuming.store(true, Ordering::Relaxed);
            tracing::info!(job.kind = self.kind.name(), queue = %self.subscription.queue, "worker consuming");
            let stop = self.take_deliveries(&slots, &mut stream).await?;
            if !matches!(stop, Stop::Lost) {
                self.cancel(&slots, &channel, tag, &mut stream).await;
            }
            self.gauge.consuming.store(false, Ordering::Relaxed);
            let go_on = match stop {
                Stop::Lost => self.subscription.wait_for_broker(seen, &self.shutdown).await,
                Stop::Paused => true,
                Stop::Shutdown => false,
            };
            if !go_on {
                break;
            }
        }
        slots.tracker.close();
        slots.tracker.wait().await;
        tracing::info!(job.kind = self.kind.name(), "consumer stopped");
        Ok(())
    }

    /// While the kind is paused, waits to be resumed: `false` if shut down meanwhile.
    async fn wait_while_paused(&mut self) -> bool {
        let kind = self.kind;
        if !self.controls.borrow().contains(&kind) {
            return true;
        }
        tracing::info!(job.kind = kind.name(), "paused: not consuming");
        tokio::select! {
            () = self.shutdown.cancelled() => false,
            resumed = self.controls.wait_for(|paused| !paused.contains(&kind)) => resumed.is_ok(),
        }
    }

    /// Takes deliveries, each when a job slot is free, until shutdown, a pause or broker trouble.
    async fn take_deliveries(&mut self, slots: &Slots, stream: &mut Stream) -> anyhow::Result<Stop> {
        let kind = self.kind;
        loop {
            let permit = tokio::select! {
                () = self.shutdown.cancelled() => return Ok(Stop::Shutdown),
                _ = self.controls.wait_for(|paused| paused.contains(&kind)) => return Ok(Stop::Paused),
                permit = slots.permits.clone().acquire_owned() => permit.context("the job semaphore closed")?,
            };
            let next = tokio::select! {
                () = self.shutdown.cancelled() => return Ok(Stop::Shutdown),
                _ = self.controls.wait_for(|paused| paused.contains(&kind)) => return Ok(Stop::Paused),
                next = stream.next() => next,
            };
            match next {
                Some(Ok(delivery)) => self.spawn(slots, delivery, Some(permit)),
                // The channel or its connection is gone (a node lost, the broker restarting): the
                // deliveries it held go back to the queue, and this consumer starts again on the
                // connection the broker handle opens next.
                Some(Err(error)) => {
                    tracing::warn!(job.kind = kind.name(), %error, "consumer interrupted; consuming again once the broker is back");
                    return Ok(Stop::Lost);
                }
                None => {
                    tracing::warn!(job.kind = kind.name(), "the broker ended the consumer; consuming again");
                    return Ok(Stop::Lost);
                }
            }
        }
    }

    /// Stops the broker sending more; the deliveries it had already sent are run (they are in
    /// flight), then the consumer's stream ends.
    async fn cancel(&self, slots: &Slots, channel: &Channel, tag: String, stream: &mut Stream) {
        match tokio::time::timeout(CANCEL_WAIT, channel.basic_cancel(tag.into(), BasicCancelOptions::default())).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "could not cancel the consumer cleanly"),
            Err(_) => tracing::warn!("the broker did not confirm the consumer's cancel within 2 s"),
        }
        while let Ok(Some(Ok(delivery))) = tokio::time::timeout(CANCEL_WAIT, stream.next()).await {
            self.spawn(slots, delivery, None);
        }
    }

    /// Runs a delivery on the job slot taken for it; one taken without (after a cancel) waits for
    /// a slot like any other.
    fn spawn(&self, slots: &Slots, delivery: Delivery, slot: Option<OwnedSemaphorePermit>) {
        let context = self.context.clone();
        let gauge = self.gauge.clone();
        gauge.in_flight.fetch_add(1, Ordering::Relaxed);
        let permits = slots.permits.clone();
        slots.tracker.spawn(async move {
            let slot = match slot {
                Some(slot) => Ok(slot),
                None => permits.acquire_owned().await,
            };
            delivery::process(&context, delivery).await;
            drop(slot);
            gauge.in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
}
