//! Redis: call sessions (with the reply of every turn), and the board on which the worker posts
//! job results for the turn that waits for them.

mod holds;
mod pending;
mod results;
mod sessions;

pub use holds::Holds;
pub use pending::Pending;
pub use results::{ResultBoard, ResultListener};
pub use sessions::{Saved, SessionStore, StoredSession};

use std::time::Duration;

use anyhow::Context as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::redact_url;

/// Every Redis command gives up after this long: a turn must never hang on Redis (the system we
/// replace took 20 seconds per turn when its Redis timed out).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(1))
}

/// A multiplexed connection that reconnects by itself, checked with a PING.
pub async fn connect(url: &str) -> anyhow::Result<ConnectionManager> {
    let target = redact_url(url);
    let client = redis::Client::open(url).with_context(|| format!("REDIS_URL is not a valid Redis URL: {target}"))?;
    let mut manager =
        tokio::time::timeout(Duration::from_secs(5), client.get_connection_manager_with_config(manager_config()))
            .await
            .map_err(|_| anyhow::anyhow!("cannot reach Redis at {target} (REDIS_URL): no answer within 5 s"))?
            .with_context(|| format!("cannot reach Redis at {target} (REDIS_URL)"))?;
    let _: String = redis::cmd("PING")
        .query_async(&mut manager)
        .await
        .with_context(|| format!("cannot reach Redis at {target} (REDIS_URL)"))?;
    Ok(manager)
}
