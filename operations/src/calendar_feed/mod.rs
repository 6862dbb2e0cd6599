//! A business's calendar feed: `GET /calendar/{business}.ics?token=…`, which any calendar app can
//! subscribe to. The token is the feed's only secret: made here, shown once, kept as a SHA-256,
//! replaced by the next one made and gone when revoked.

mod ics;

pub use ics::render;

use chrono::{DateTime, Duration, Utc};
use rand::Rng as _;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;
use workflows::BusinessId;

use super::audit::{self, Entry};
use super::tokens::sha256_hex;
use super::{Actor, AdminError};

/// The prefix of every feed token: recognisable in a secret scanner.
pub const PREFIX: &str = "bellacal_";

/// Cancelled appointments stay in the feed, marked cancelled, for this long after the change, so
/// that a subscribed calendar learns of the cancellation instead of only losing the event.
pub const CANCELLED_KEPT: Duration = Duration::days(30);

/// A feed token just made, with where the feed is.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    /// `/calendar/{business}.ics?token=…`: the path and query to put after the public URL.
    pub path: String,
    pub audit_id: i64,
}

/// Makes a new feed token for `business`; the previous one, if any, stops working.
pub async fn issue(pool: &PgPool, actor: &Actor, business: BusinessId, reason: &str) -> Result<Issued, AdminError> {
    actor.require_operator()?;
    let secret: [u8; 24] = rand::rng().random();
    let token = format!("{PREFIX}{}", secret.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let audit_id = change(pool, actor, business, Some(&sha256_hex(&token)), "calendar_feed.issue", reason).await?;
    let path = format!("/calendar/{business}.ics?token={token}");
    Ok(Issued { token, path, audit_id })
}

/// Stops `business`'s feed: subscribed calendars get 404 from now on.
pub async fn revoke(pool: &PgPool, actor: &Actor, business: BusinessId, reason: &str) -> Result<i64, AdminError> {
    actor.require_operator()?;
    change(pool, actor, business, None, "calendar_feed.revoke", reason).await
}

async fn change(
    pool: &PgPool,
    actor: &Actor,
    business: BusinessId,
    token_sha256: Option<&str>,
    action: &str,
    reason: &str,
) -> Result<i64, AdminError> {
    let reason = super::reason(reason)?;
    let mut tx = pool.begin().await?;
    let updated = sqlx::query("update businesses set calendar_feed_sha256 = $2 where business_id = $1")
        .bind(business.as_uuid())
        .bind(token_sha256)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if updated == 0 {
        return Err(AdminError::NotFound(format!("no business {business}")));
    }
    let entry = Entry {
        actor,
        action,
        target: json!({ "business": business }),
        reason: &reason,
        dry_run: false,
        affected: updated,
        result: "done",
    };
    let audit_id = audit::record(&mut *tx, &entry).await?;
    tx.commit().await?;
    Ok(audit_id)
}

/// One appointment as the feed shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedEvent {
    pub appointment_id: Uuid,
    pub reference: String,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
    pub sequence: i32,
    pub updated_at: DateTime<Utc>,
}

/// The business's feed when `token` opens it: its name, zone and appointments (upcoming ones,
/// those of the last day, and those cancelled within [`CANCELLED_KEPT`]). `None` for an unknown
/// business, no feed, or a wrong token, alike.
pub async fn read(
    pool: &PgPool,
    business: BusinessId,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, String, Vec<FeedEvent>)>, sqlx::Error> {
    let found: Option<(String, String)> =
        sqlx::query_as("select name, time_zone from businesses where business_id = $1 and calendar_feed_sha256 = $2")
            .bind(business.as_uuid())
            .bind(sha256_hex(token))
            .fetch_optional(pool)
            .await?;
    let Some((name, zone)) = found else { return Ok(None) };
    let events = sqlx::query_as(
        "select appointment_id, reference, name, starts_at, ends_at, status, sequence, updated_at
           from appointments
          where business_id = $1 and starts_at >= $2
            and (status = 'booked' or updated_at >= $3)
          order by starts_at
          limit 5000",
    )
    .bind(business.as_uuid())
    .bind(now - Duration::days(1))
    .bind(now - CANCELLED_KEPT)
    .fetch_all(pool)
    .await?;
    Ok(Some((name, zone, events)))
}
