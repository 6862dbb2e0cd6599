//! The SMS ledger and opt-outs, as the api's Twilio callbacks update them.

use sqlx::PgPool;
use workflows::E164;

/// How far a message has got; a status callback never moves a message backwards (Twilio's
/// callbacks can arrive out of order).
pub fn rank(status: &str) -> u8 {
    match status {
        "intended" => 0,
        "submitting" => 1,
        "submitted" | "accepted" | "scheduled" => 2,
        "queued" => 3,
        "sending" | "sent" => 4,
        "delivered" | "undelivered" | "failed" | "read" | "canceled" => 5,
        _ => 0,
    }
}

/// Our status for one of Twilio's.
pub fn ledger_status(twilio: &str) -> Option<&'static str> {
    Some(match twilio {
        "accepted" | "scheduled" => "submitted",
        "queued" => "queued",
        "sending" | "sent" => "sent",
        "delivered" | "read" => "delivered",
        "undelivered" => "undelivered",
        "failed" | "canceled" => "failed",
        _ => return None,
    })
}

/// Records a status callback. Returns whether a message was updated.
pub async fn record_status(
    pool: &PgPool,
    sid: &str,
    twilio_status: &str,
    error_code: Option<i32>,
) -> Result<bool, sqlx::Error> {
    let Some(status) = ledger_status(twilio_status) else { return Ok(false) };
    let current: Option<(String, String)> =
        sqlx::query_as("select status, to_phone from sms_messages where twilio_sid = $1")
            .bind(sid)
            .fetch_optional(pool)
            .await?;
    let Some((current, phone)) = current else { return Ok(false) };
    if rank(status) <= rank(&current) && !(rank(status) == 5 && current != status && rank(&current) < 5) {
        return Ok(false);
    }
    sqlx::query(
        "update sms_messages set status = $2, error_code = coalesce($3, error_code), updated_at = now() where twilio_sid = $1",
    )
    .bind(sid)
    .bind(status)
    .bind(error_code)
    .execute(pool)
    .await?;
    if error_code == Some(21610)
        && let Ok(phone) = E164::parse(&phone)
    {
        opt_out(pool, &phone, "21610").await?;
    }
    Ok(true)
}

/// No more texts to `phone`.
pub async fn opt_out(db: impl sqlx::PgExecutor<'_>, phone: &E164, keyword: &str) -> Result<(), sqlx::Error> {
    sqlx::query("insert into sms_opt_outs (phone, keyword) values ($1, $2) on conflict (phone) do nothing")
        .bind(phone.as_str())
        .bind(keyword)
        .execute(db)
        .await?;
    Ok(())
}

/// Texts to `phone` again (the caller replied START).
pub async fn opt_in(pool: &PgPool, phone: &E164) -> Result<(), sqlx::Error> {
    sqlx::query("delete from sms_opt_outs where phone = $1").bind(phone.as_str()).execute(pool).await?;
    Ok(())
}
