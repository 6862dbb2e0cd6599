//! Guessing tokens is throttled: refused sign-ins and bearer tokens are counted per client
//! address, in Redis so that every api replica sees the same count, and past [`LIMIT`] in
//! [`WINDOW`] the address is answered 429 (with `Retry-After`) until the window ends, whatever
//! it presents: a correct guess among the refused ones would otherwise still get in. Each refusal
//! and each throttling is logged with the address.
//!
//! The address is the connection's peer, or, behind a proxy that appends it
//! (`TRUST_FORWARDED_FOR`, as the load balancer in infra/ does), the last address of
//! `X-Forwarded-For`: the one the proxy itself saw, which a client cannot forge.
//!
//! If Redis does not answer, nothing is throttled (the check fails open, and says so in the log):
//! operators keep their way in while the session store is away.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};

use crate::AppState;

/// Refusals an address may collect in a window before it is throttled.
pub const LIMIT: u64 = 10;
/// The window, from the first refusal: the longest an address stays throttled.
pub const WINDOW: Duration = Duration::from_secs(300);

/// Who is asking: the address the refusals are counted for.
pub fn client(state: &AppState, headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
    // The last line of the header, and its last entry: what the trusted proxy appended, even if
    // the client sent a header of its own.
    if state.config.trust_forwarded_for
        && let Some(forwarded) = headers.get_all("x-forwarded-for").iter().next_back().and_then(|v| v.to_str().ok())
        && let Some(last) = forwarded.rsplit(',').next()
        && let Ok(address) = last.trim().parse::<IpAddr>()
    {
        return Some(address);
    }
    extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip())
}

fn key(state: &AppState, client: IpAddr) -> String {
    format!("{}:refused:{client}", state.config.namespace)
}

/// How long `client` must wait, if it has been refused too often.
pub async fn throttled(state: &AppState, client: Option<IpAddr>) -> Option<Duration> {
    let client = client?;
    let mut redis = state.services.redis.clone();
    let key = key(state, client);
    let counted: redis::RedisResult<(Option<u64>, i64)> =
        redis::pipe().get(&key).ttl(&key).query_async(&mut redis).await;
    match counted {
        Ok((Some(refused), ttl)) if refused >= LIMIT => {
            let wait = match u64::try_from(ttl) {
                Ok(seconds) => Duration::from_secs(seconds.max(1)),
                // No expiry (it can only be lost with a failover): given one, from now.
                Err(_) => {
                    let _: redis::RedisResult<()> =
                        redis::cmd("EXPIRE").arg(&key).arg(WINDOW.as_secs()).query_async(&mut redis).await;
                    WINDOW
                }
            };
            tracing::warn!(client = %client, refused, "too many refused tokens from this address; throttled");
            Some(wait)
        }
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(client = %client, %error, "cannot count refused tokens; not throttling");
            None
        }
    }
}

/// Counts a refused token for `client`, and logs the refusal with its address.
pub async fn refused(state: &AppState, client: Option<IpAddr>, what: &str) {
    let Some(client) = client else {
        tracing::info!(what, "token refused (client address unknown)");
        return;
    };
    let mut redis = state.services.redis.clone();
    let key = key(state, client);
    // One transaction: the count and its expiry (set by the first refusal of a window) can never
    // be parted, or an address could stay throttled for good.
    let counted: redis::RedisResult<(u64, i64)> = redis::pipe()
        .atomic()
        .incr(&key, 1)
        .cmd("EXPIRE")
        .arg(&key)
        .arg(WINDOW.as_secs())
        .arg("NX")
        .query_async(&mut redis)
        .await;
    match counted {
        Ok((refused, _)) => tracing::info!(client = %client, refused, what, "token refused"),
        Err(error) => tracing::warn!(client = %client, %error, what, "token refused; cannot count it"),
    }
}
