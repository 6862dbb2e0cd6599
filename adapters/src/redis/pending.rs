//! Jobs published and not yet finished, per kind: a sorted set of idempotency keys scored by the
//! time they were published. It answers one question the broker cannot answer over AMQP: how old
//! is the oldest job still waiting (`bella_oldest_unfinished_job_seconds`), which matters most when
//! no worker is consuming at all.
//!
//! Publishers add a key once the broker confirmed it; the worker removes it when the job ends
//! (done, dead-lettered or expired), not when it goes to a retry tier. The set is a measurement,
//! not a source of truth: an entry whose removal was lost is found finished in PostgreSQL and
//! dropped when it reaches the head.

use std::time::Duration;

use redis::aio::ConnectionManager;
use workflows::jobs::JobKind;

use crate::names::Namespace;

/// Stale heads examined per measurement before giving up.
const MAX_STALE: usize = 20;

#[derive(Clone)]
pub struct Pending {
    conn: ConnectionManager,
    names: Namespace,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").field("names", &self.names).finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Pending {
    pub fn new(conn: ConnectionManager, names: Namespace) -> Self {
        Self { conn, names }
    }

    /// Records that the job `key` of `kind` was published (the first time counts).
    pub async fn add(&self, kind: JobKind, key: &str) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("ZADD")
            .arg(self.names.pending_key(kind))
            .arg("NX")
            .arg(now_ms())
            .arg(key)
            .query_async(&mut conn)
            .await
    }

    /// Records that the job ended.
    pub async fn done(&self, kind: JobKind, key: &str) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("ZREM").arg(self.names.pending_key(kind)).arg(key).query_async(&mut conn).await
    }

    /// How long the oldest unfinished job of `kind` has waited (zero when there is none).
    /// `ended` says whether the job with a key has ended (its workflow run, in PostgreSQL): an
    /// ended job found at the head is a leftover, removed on the way.
    pub async fn oldest_age<F>(&self, kind: JobKind, ended: impl Fn(String) -> F) -> Result<Duration, anyhow::Error>
    where
        F: Future<Output = anyhow::Result<bool>> + Send,
    {
        let mut conn = self.conn.clone();
        let set = self.names.pending_key(kind);
        for _ in 0..MAX_STALE {
            let head: Vec<(String, i64)> =
                redis::cmd("ZRANGE").arg(&set).arg(0).arg(0).arg("WITHSCORES").query_async(&mut conn).await?;
            let Some((key, published_ms)) = head.into_iter().next() else { return Ok(Duration::ZERO) };
            if !ended(key.clone()).await? {
                let age_ms = u64::try_from(now_ms().saturating_sub(published_ms)).unwrap_or(0);
                return Ok(Duration::from_millis(age_ms));
            }
            let _: () = redis::cmd("ZREM").arg(&set).arg(&key).query_async(&mut conn).await?;
        }
        Ok(Duration::ZERO)
    }
}
