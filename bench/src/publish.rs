//! Publishing many messages at once while keeping a window: at most so many outstanding
//! (published and not yet finished), and at most [`MAX_UNCONFIRMED`] awaiting the broker's
//! confirmation. The pipeline's Bella run and the job floor publish through it alike.

use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;

/// Publishes confirmed at once, at most.
pub const MAX_UNCONFIRMED: usize = 256;

/// How many jobs may be outstanding, and how to count them given how many were published.
pub(crate) struct Window<'a> {
    pub size: usize,
    pub outstanding: &'a (dyn Fn(usize) -> usize + Sync),
}

/// Calls `publish(n)` for `n` in `0..count`, many at once, keeping the window.
pub(crate) async fn publish_all(
    count: usize,
    window: Window<'_>,
    progress: &indicatif::ProgressBar,
    publish: impl AsyncFn(usize) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut in_flight = FuturesUnordered::new();
    let (mut next, mut confirmed) = (0, 0);
    while confirmed < count {
        let outstanding = (window.outstanding)(confirmed);
        progress.set_position(confirmed.saturating_sub(outstanding) as u64);
        while next < count && in_flight.len() < MAX_UNCONFIRMED && outstanding + in_flight.len() < window.size {
            in_flight.push(publish(next));
            next += 1;
        }
        if in_flight.is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        tokio::select! {
            Some(result) = in_flight.next() => {
                result?;
                confirmed += 1;
            }
            () = tokio::time::sleep(Duration::from_millis(2)) => {}
        }
    }
    Ok(())
}
