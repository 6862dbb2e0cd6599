//! Job results: the worker posts one when a job's effect has committed; the turn that published
//! the job waits for it, briefly.
//!
//! A result is a Redis key (kept an hour, so a retried webhook or a later redirect reads it
//! again) plus a notification on a pub/sub channel that wakes the waiting turn at once. The
//! listener holds one RESP3 connection for the whole api and resubscribes after a reconnect; as a
//! safety net the waiter also re-reads the key every [`POLL_INTERVAL`], so a notification lost
//! while Redis restarts costs at most that long.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use redis::aio::ConnectionManager;
use redis::{ProtocolVersion, PushKind, Value};
use tokio::sync::{Notify, mpsc};
use workflows::jobs::JobOutcome;

use crate::config::redact_url;
use crate::names::Namespace;

const RESULT_TTL: Duration = Duration::from_secs(60 * 60);
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Posting and reading results (worker and api).
#[derive(Clone)]
pub struct ResultBoard {
    conn: ConnectionManager,
    names: Namespace,
}

impl std::fmt::Debug for ResultBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultBoard").field("names", &self.names).finish_non_exhaustive()
    }
}

impl ResultBoard {
    pub fn new(conn: ConnectionManager, names: Namespace) -> Self {
        Self { conn, names }
    }

    /// Records the result of the job with `key` and wakes whoever waits for it.
    pub async fn post(&self, key: &str, outcome: &JobOutcome) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let value = serde_json::to_string(outcome)?;
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.names.result_key(key))
            .arg(value)
            .arg("EX")
            .arg(RESULT_TTL.as_secs())
            .ignore()
            .cmd("PUBLISH")
            .arg(self.names.results_channel())
            .arg(key)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .context("posting a job result to Redis")
    }

    pub async fn get(&self, key: &str) -> anyhow::Result<Option<JobOutcome>> {
        let mut conn = self.conn.clone();
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.names.result_key(key))
            .query_async(&mut conn)
            .await
            .context("reading a job result from Redis")?;
        raw.map(|r| serde_json::from_str(&r).context("decoding a job result")).transpose()
    }
}

/// Waiting for results (api). Cheap to clone.
#[derive(Clone)]
pub struct ResultListener {
    board: ResultBoard,
    waiters: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
    // Keeps the subscription alive as long as a listener exists.
    _subscription: Arc<ConnectionManager>,
}

impl std::fmt::Debug for ResultListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultListener").field("board", &self.board).finish_non_exhaustive()
    }
}

impl ResultListener {
    /// Subscribes to the results channel on a connection of its own.
    pub async fn start(url: &str, board: ResultBoard) -> anyhow::Result<Self> {
        let target = redact_url(url);
        let client =
            redis::Client::open(url).with_context(|| format!("REDIS_URL is not a valid Redis URL: {target}"))?;
        let info = client.get_connection_info().clone();
        let settings = info.redis_settings().clone().set_protocol(ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(settings))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let config = super::manager_config().set_push_sender(tx).set_automatic_resubscription();
        let mut subscription = client
            .get_connection_manager_with_config(config)
            .await
            .with_context(|| format!("cannot reach Redis at {target} (REDIS_URL)"))?;
        subscription.subscribe(board.names.results_channel()).await.context("subscribing to job results")?;
        let waiters: Arc<Mutex<HashMap<String, Arc<Notify>>>> = Arc::default();
        tokio::spawn(dispatch(rx, Arc::downgrade(&waiters)));
        Ok(Self { board, waiters, _subscription: Arc::new(subscription) })
    }

    pub fn board(&self) -> &ResultBoard {
        &self.board
    }

    /// Waits up to `limit` for the result of the job with `key`.
    pub async fn wait(&self, key: &str, limit: Duration) -> anyhow::Result<Option<JobOutcome>> {
        let notify = {
            let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
            waiters.entry(key.to_owned()).or_default().clone()
        };
        let _unregister = Unregister { waiters: &self.waiters, key };
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            // Registered before reading, so a result posted in between still wakes us.
            let notified = notify.notified();
            if let Some(outcome) = self.board.get(key).await? {
                return Ok(Some(outcome));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let nap = (deadline - now).min(POLL_INTERVAL);
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }
}

struct Unregister<'a> {
    waiters: &'a Mutex<HashMap<String, Arc<Notify>>>,
    key: &'a str,
}

impl Drop for Unregister<'_> {
    fn drop(&mut self) {
        let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        // Only the last waiter for a key removes it.
        if waiters.get(self.key).is_some_and(|n| Arc::strong_count(n) <= 1) {
            waiters.remove(self.key);
        }
    }
}

async fn dispatch(
    mut rx: mpsc::UnboundedReceiver<redis::PushInfo>,
    waiters: std::sync::Weak<Mutex<HashMap<String, Arc<Notify>>>>,
) {
    while let Some(push) = rx.recv().await {
        let Some(waiters) = waiters.upgrade() else {
            return;
        };
        if push.kind != PushKind::Message {
            continue;
        }
        let key = match push.data.last() {
            Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
            Some(Value::SimpleString(s)) => s.clone(),
            _ => continue,
        };
        let waiters = waiters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(notify) = waiters.get(&key) {
            notify.notify_waiters();
        }
    }
}
