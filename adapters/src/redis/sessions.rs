//! Call sessions: one hash per CallSid (`version`, `data`), written atomically per turn.
//!
//! A turn loads the session with its version, runs the state machine, and saves with a
//! compare-and-set on that version in one Lua script, which also stores the turn's TwiML under
//! the turn number. Two webhooks for one call can therefore never interleave: the second sees a
//! newer version, reloads, finds that its turn was answered, and replays that answer. Keys expire
//! after the session TTL, refreshed on every save.

use std::time::Duration;

use anyhow::Context as _;
use redis::Script;
use redis::aio::ConnectionManager;
use workflows::CallSid;
use workflows::dialogue::Session;

use crate::names::Namespace;

/// A session with the version it was stored under.
#[derive(Debug, Clone)]
pub struct StoredSession {
    pub version: u64,
    pub session: Session,
}

/// The result of a compare-and-set save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Saved,
    /// Another request saved this call's session first.
    Conflict,
}

const SAVE: &str = r"
-- KEYS[1] session hash, KEYS[2] reply of this turn
-- ARGV[1] expected version (0: the session must not exist), ARGV[2] new version,
-- ARGV[3] session JSON, ARGV[4] reply TwiML, ARGV[5] TTL in seconds
local current = redis.call('HGET', KEYS[1], 'version')
if (current or '0') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'data', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[5])
return 1
";

#[derive(Clone)]
pub struct SessionStore {
    conn: ConnectionManager,
    names: Namespace,
    ttl: Duration,
    save: Script,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore").field("names", &self.names).field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl SessionStore {
    /// About fifteen minutes, as Twilio's calls to a booking line rarely last longer; each turn
    /// extends it.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);

    pub fn new(conn: ConnectionManager, names: Namespace, ttl: Duration) -> Self {
        Self { conn, names, ttl, save: Script::new(SAVE) }
    }

    pub async fn load(&self, call: &CallSid) -> anyhow::Result<Option<StoredSession>> {
        let mut conn = self.conn.clone();
        let (version, data): (Option<u64>, Option<String>) = redis::cmd("HMGET")
            .arg(self.names.session_key(call))
            .arg("version")
            .arg("data")
            .query_async(&mut conn)
            .await
            .context("loading the call session from Redis")?;
        match (version, data) {
            (Some(version), Some(data)) => {
                let session = serde_json::from_str(&data).context("decoding the call session")?;
                Ok(Some(StoredSession { version, session }))
            }
            _ => Ok(None),
        }
    }

    /// Saves `session` if the stored version is still `expected` (0 for a new session), together
    /// with the TwiML answered for `turn`.
    pub async fn save(&self, expected: u64, session: &Session, turn: u32, reply: &str) -> anyhow::Result<Saved> {
        let mut conn = self.conn.clone();
        let data = serde_json::to_string(session).context("encoding the call session")?;
        let saved: i64 = self
            .save
            .key(self.names.session_key(&session.call_sid))
            .key(self.names.reply_key(&session.call_sid, turn))
            .arg(expected)
            .arg(expected + 1)
            .arg(data)
            .arg(reply)
            .arg(self.ttl.as_secs())
            .invoke_async(&mut conn)
            .await
            .context("saving the call session to Redis")?;
        Ok(if saved == 1 { Saved::Saved } else { Saved::Conflict })
    }

    /// The TwiML answered for `turn` of a call, if it is still kept.
    pub async fn reply(&self, call: &CallSid, turn: u32) -> anyhow::Result<Option<String>> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(self.names.reply_key(call, turn))
            .query_async(&mut conn)
            .await
            .context("loading a turn's reply from Redis")
    }

    /// Ends a call: its session is deleted. Replies stay until they expire, so a webhook that
    /// arrives late still gets its answer.
    pub async fn end(&self, call: &CallSid) -> anyhow::Result<bool> {
        let mut conn = self.conn.clone();
        let deleted: i64 = redis::cmd("DEL")
            .arg(self.names.session_key(call))
            .query_async(&mut conn)
            .await
            .context("deleting the call session from Redis")?;
        Ok(deleted > 0)
    }
}
