//! Times held for a caller: from "Tuesday at 2 is available" (or the first time offered) until the
//! booking, a change of time or the end of the call. Other callers are neither offered nor read
//! back a held time, so "that was just taken" after a yes becomes rare.
//!
//! One sorted set per business. A member is `start:end:CallSid` (Unix seconds), scored by the
//! instant the hold lapses, so a hold whose caller walked away ends by itself; every turn that
//! still wants the time renews it. Taking a hold is one Lua script: it drops lapsed holds, counts
//! the other callers' holds that overlap the time, and takes it only while the business has a
//! resource free for it. PostgreSQL's exclusion constraint stays the guard against double
//! booking; a hold only spares callers a refusal after their yes.

use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, TimeZone, Utc};
use redis::Script;
use redis::aio::ConnectionManager;
use workflows::schedule::Slot;
use workflows::{BusinessId, CallSid};

use crate::names::Namespace;

const TAKE: &str = r"
-- KEYS[1] the business's holds
-- ARGV[1] now (ms), ARGV[2] lapses at (ms), ARGV[3] start (s), ARGV[4] end (s), ARGV[5] CallSid,
-- ARGV[6] resources free for the time besides holds, ARGV[7] key TTL (ms)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local start, finish, call = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local mine = ARGV[3] .. ':' .. ARGV[4] .. ':' .. call
local others = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local s, e, c = string.match(member, '^(%d+):(%d+):(.+)$')
  if c == call then
    if member ~= mine then redis.call('ZREM', KEYS[1], member) end
  elseif tonumber(s) < finish and start < tonumber(e) then
    others = others + 1
  end
end
if redis.call('ZSCORE', KEYS[1], mine) == false and others >= tonumber(ARGV[6]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], mine)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 1
";

const RELEASE: &str = r"
-- KEYS[1] the business's holds; ARGV[1] CallSid
local suffix = ':' .. ARGV[1]
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, -string.len(suffix)) == suffix then redis.call('ZREM', KEYS[1], member) end
end
return 1
";

#[derive(Clone)]
pub struct Holds {
    conn: ConnectionManager,
    names: Namespace,
    take: Script,
    release: Script,
}

impl std::fmt::Debug for Holds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Holds").field("names", &self.names).finish_non_exhaustive()
    }
}

impl Holds {
    /// How long a hold lasts without a turn renewing it: a few turns of a caller thinking.
    pub const LAPSE: Duration = Duration::from_secs(90);

    pub fn new(conn: ConnectionManager, names: Namespace) -> Self {
        Self { conn, names, take: Script::new(TAKE), release: Script::new(RELEASE) }
    }

    fn key(&self, business: BusinessId) -> String {
        self.names.holds_key(business)
    }

    /// The times other calls hold at `business` now.
    pub async fn others(&self, business: BusinessId, call: &CallSid, now: DateTime<Utc>) -> anyhow::Result<Vec<Slot>> {
        let members: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(self.key(business))
            .arg(now.timestamp_millis())
            .arg("+inf")
            .query_async(&mut self.conn.clone())
            .await
            .context("reading the times other callers hold")?;
        Ok(members.iter().filter_map(|m| parse(m)).filter(|(_, c)| *c != call.as_str()).map(|(slot, _)| slot).collect())
    }

    /// Holds `slot` for `call` (renewing its hold, or moving it from another time) when fewer
    /// other calls hold overlapping times than `free` resources remain for it. `false`: others
    /// hold it.
    pub async fn take(
        &self,
        business: BusinessId,
        call: &CallSid,
        slot: Slot,
        free: usize,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let lapse = chrono::Duration::from_std(Self::LAPSE).unwrap_or_default();
        let taken: i64 = self
            .take
            .key(self.key(business))
            .arg(now.timestamp_millis())
            .arg((now + lapse).timestamp_millis())
            .arg(slot.starts_at.timestamp())
            .arg(slot.ends_at.timestamp())
            .arg(call.as_str())
            .arg(free)
            .arg(lapse.num_milliseconds())
            .invoke_async(&mut self.conn.clone())
            .await
            .context("holding a time")?;
        Ok(taken == 1)
    }

    /// Lets go of whatever `call` holds at `business`.
    pub async fn release(&self, business: BusinessId, call: &CallSid) -> anyhow::Result<()> {
        let _: i64 = self
            .release
            .key(self.key(business))
            .arg(call.as_str())
            .invoke_async(&mut self.conn.clone())
            .await
            .context("releasing a held time")?;
        Ok(())
    }
}

/// `start:end:CallSid` → the slot and the CallSid.
fn parse(member: &str) -> Option<(Slot, &str)> {
    let mut parts = member.splitn(3, ':');
    let start = parts.next()?.parse().ok()?;
    let end = parts.next()?.parse().ok()?;
    let call = parts.next()?;
    let at = |s: i64| Utc.timestamp_opt(s, 0).single();
    Some((Slot { starts_at: at(start)?, ends_at: at(end)? }, call))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_read_back_as_their_slot_and_call() {
        let (slot, call) = parse("1796140800:1796142600:CA0123").unwrap();
        assert_eq!(slot.starts_at.to_rfc3339(), "2026-12-01T16:00:00+00:00");
        assert_eq!((slot.ends_at - slot.starts_at).num_minutes(), 30);
        assert_eq!(call, "CA0123");
        assert!(parse("garbage").is_none());
    }
}
