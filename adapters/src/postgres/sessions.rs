//! The PostgreSQL copy of call sessions (`call_sessions`).
//!
//! Redis holds the live session and settles concurrent webhooks with its compare-and-set; it keeps
//! nothing on disk. After each turn the api also writes the session here, so that a Redis restart
//! does not make a caller start over: a turn that finds no session in Redis recovers this copy.

use std::time::Duration;

use sqlx::PgPool;
use workflows::CallSid;
use workflows::dialogue::Session;

/// What a turn heard, for the call's timeline (`call_turns`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Received<'a> {
    pub speech: &'a str,
    pub digits: &'a str,
    /// The dialogue's stage after the turn.
    pub stage: &'a str,
}

/// Keeps a copy of `session` and of the TwiML answered for `turn`, and records the turn for the
/// call's timeline. A copy of a later turn is never replaced by an earlier one.
///
/// Committed without waiting for the disk (`synchronous_commit = off`, for this transaction
/// only): the copy is the fallback for a Redis restart, and a PostgreSQL crash losing the last
/// fraction of a second of copies costs at most a repeated question, while waiting for the WAL
/// flush on every turn would put a disk write in every caller's wait.
pub async fn keep(
    pool: &PgPool,
    session: &Session,
    turn: u32,
    reply: &str,
    heard: Received<'_>,
) -> Result<(), sqlx::Error> {
    let data = serde_json::to_value(session).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut tx = pool.begin().await?;
    sqlx::query("set local synchronous_commit = off").execute(&mut *tx).await?;
    sqlx::query(
        "insert into call_sessions (call_sid, turn, session, reply_turn, reply)
         values ($1, $2, $3, $4, $5)
         on conflict (call_sid) do update
            set turn = excluded.turn, session = excluded.session, reply_turn = excluded.reply_turn,
                reply = excluded.reply, updated_at = now()
          where call_sessions.turn <= excluded.turn",
    )
    .bind(session.call_sid.as_str())
    .bind(i32::try_from(session.turn).unwrap_or(i32::MAX))
    .bind(data)
    .bind(i32::try_from(turn).unwrap_or(i32::MAX))
    .bind(reply)
    .execute(&mut *tx)
    .await?;
    // The timeline keeps what was said with every phone number masked: operators need to see
    // how a call went, not to read callers' numbers (the session's own copy above keeps the
    // TwiML whole: it is replayed to Twilio).
    let mask = workflows::privacy::mask_numbers;
    sqlx::query(
        "insert into call_turns (call_sid, turn, heard, digits, stage, reply) values ($1, $2, $3, $4, $5, $6)
         on conflict (call_sid, turn) do nothing",
    )
    .bind(session.call_sid.as_str())
    .bind(i32::try_from(turn).unwrap_or(i32::MAX))
    .bind((!heard.speech.is_empty()).then(|| mask(heard.speech)))
    .bind((!heard.digits.is_empty()).then(|| mask(heard.digits)))
    .bind(heard.stage)
    .bind(mask(reply))
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The copy of a call's session, if one was written within `ttl` (an older one is a call that
/// would have expired in Redis too).
pub async fn recover(pool: &PgPool, call: &CallSid, ttl: Duration) -> anyhow::Result<Option<Session>> {
    let data: Option<serde_json::Value> = sqlx::query_scalar(
        "select session from call_sessions
          where call_sid = $1 and updated_at > now() - make_interval(secs => $2)",
    )
    .bind(call.as_str())
    .bind(ttl.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    Ok(data.map(serde_json::from_value).transpose()?)
}

/// The TwiML answered for `turn`, if it is the latest kept.
pub async fn reply(pool: &PgPool, call: &CallSid, turn: u32) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select reply from call_sessions where call_sid = $1 and reply_turn = $2")
        .bind(call.as_str())
        .bind(i32::try_from(turn).unwrap_or(i32::MAX))
        .fetch_optional(pool)
        .await
}

/// Forgets an ended call's copy; every few hundred calls, also [`sweep`]s.
pub async fn forget(pool: &PgPool, call: &CallSid, timeline_retention: Duration) -> Result<u64, sqlx::Error> {
    static ENDED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let mut forgotten = sqlx::query("delete from call_sessions where call_sid = $1")
        .bind(call.as_str())
        .execute(pool)
        .await?
        .rows_affected();
    if ENDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed).is_multiple_of(SWEEP_EVERY) {
        forgotten += sweep(pool, timeline_retention).await?;
    }
    Ok(forgotten)
}

/// Removes the session copies older than a day (calls whose end was never reported) and the
/// timelines older than `timeline_retention` (`BELLA_TIMELINE_DAYS`).
pub async fn sweep(pool: &PgPool, timeline_retention: Duration) -> Result<u64, sqlx::Error> {
    let copies = sqlx::query("delete from call_sessions where updated_at < now() - interval '1 day'")
        .execute(pool)
        .await?
        .rows_affected();
    sqlx::query("delete from call_turns where at < now() - make_interval(secs => $1)")
        .bind(timeline_retention.as_secs_f64())
        .execute(pool)
        .await?;
    Ok(copies)
}

/// Ended calls between two sweeps of abandoned copies.
const SWEEP_EVERY: u32 = 500;
