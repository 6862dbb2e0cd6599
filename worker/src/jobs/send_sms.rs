//! `send_sms.v1`: send the text recorded in the SMS ledger.
//!
//! The ledger row moves `intended` → `submitting` → `submitted` (then `delivered`… from Twilio's
//! status callbacks). `submitting` is written and committed *before* the create request, so a
//! worker killed during the request, or a request that timed out, leaves a row that says a
//! message may exist: the next attempt looks it up on Twilio and records it, and sends only if
//! Twilio has none. Permanent refusals (21211, 21610, 21614, 30003, 30006) are recorded as
//! `failed` and not retried; an opted-out number, or no Twilio credentials, ends the job without
//! sending (`opted_out`, `simulated`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;
use workflows::E164;
use workflows::jobs::{JobKind, SendSms};

use super::journal::{self, RunOf, StepEnd};
use super::{ErrorClass, JobError};
use crate::failpoints::Failpoints;
use crate::sms::{PERMANENT_CODES, SmsError, SmsGateway};

pub const STEP_SEND: &str = "send";

#[derive(Debug, sqlx::FromRow)]
struct Ledger {
    sms_message_id: Uuid,
    parent_run_id: Option<Uuid>,
    kind: String,
    business_id: Uuid,
    to_phone: String,
    body: String,
    status: String,
    submitted_at: Option<DateTime<Utc>>,
}

/// Where to send from and how: a gateway (or none, to simulate) and a sender number.
#[derive(Debug, Clone, Default)]
pub struct Sending {
    pub gateway: Option<Arc<dyn SmsGateway>>,
    /// The sender when the business has no number of its own (`TWILIO_SMS_FROM`).
    pub fallback_from: Option<E164>,
}

/// Runs the job, and counts its result (the ledger's final status) in the `SMS` metric.
pub async fn run(pool: &PgPool, sending: &Sending, failpoints: &Failpoints, job: &SendSms) -> Result<String, JobError> {
    let status = send(pool, sending, failpoints, job).await?;
    tracing::info!(sms.status = status, "text message job done");
    metrics::counter!(adapters::metrics::SMS, "status" => status.clone()).increment(1);
    Ok(status)
}

/// Sends the text once; the result is the ledger's final status.
async fn send(pool: &PgPool, sending: &Sending, failpoints: &Failpoints, job: &SendSms) -> Result<String, JobError> {
    let input = serde_json::to_value(job).map_err(JobError::retryable)?;
    let run = RunOf {
        kind: JobKind::SendSms,
        key: &job.idempotency_key,
        call_sid: &job.call_sid,
        business: job.business_id,
        input,
    };
    let mut tx = pool.begin().await?;
    let run_id = match journal::start(&mut tx, run.kind, run.key, run.call_sid, run.business, run.input.clone()).await?
    {
        journal::Started::Finished(_) => {
            tx.commit().await?;
            return Ok("already sent".to_owned());
        }
        journal::Started::Cancelled => {
            tx.commit().await?;
            return Ok("cancelled".to_owned());
        }
        journal::Started::New(id) | journal::Started::Unfinished(id) => id,
    };
    journal::begin_step(&mut tx, run_id, STEP_SEND, 1, run.input.clone()).await?;
    tx.commit().await?;

    // One delivery at a time per message: two deliveries of this job (a redelivery while the
    // first still runs, or a job the relay published twice) must not both find the row
    // `intended` and both send. The lock is the connection's: a worker that dies releases it.
    let mut conn = pool.acquire().await?;
    let locked: bool = sqlx::query_scalar("select pg_try_advisory_lock(hashtextextended($1, 0))")
        .bind(&job.idempotency_key)
        .fetch_one(&mut *conn)
        .await?;
    if !locked {
        return Err(JobError::retryable(anyhow::anyhow!("another delivery is sending this text right now")));
    }
    let delivered = async {
        let ledger: Ledger = sqlx::query_as(
            "select sms_message_id, parent_run_id, kind, business_id, to_phone, body, status, submitted_at
               from sms_messages where ledger_key = $1",
        )
        .bind(&job.idempotency_key)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| JobError::permanent(anyhow::anyhow!("no SMS ledger row {}", job.idempotency_key)))?;
        let status = deliver(&mut conn, sending, failpoints, &ledger).await?;
        Ok::<_, JobError>((ledger, status))
    }
    .await;
    let unlocked = sqlx::query("select pg_advisory_unlock(hashtextextended($1, 0))")
        .bind(&job.idempotency_key)
        .execute(&mut *conn)
        .await;
    match unlocked {
        Ok(_) => drop(conn),
        // Closing the connection releases the lock for certain.
        Err(_) => {
            let _ = conn.close().await;
        }
    }
    let (ledger, status) = delivered?;
    let failed = matches!(status.as_str(), "failed");
    let end = StepEnd {
        succeeded: !failed,
        error_class: failed.then_some(ErrorClass::Permanent),
        error: failed.then(|| "Twilio refused the message permanently".to_owned()),
        output: json!({ "status": status }),
    };
    let mut tx = pool.begin().await?;
    journal::finish_step(&mut tx, run_id, STEP_SEND, &end).await?;
    journal::finish_run(&mut tx, run_id, &end).await?;
    if let Some(parent) = ledger.parent_run_id {
        journal::finish_step(&mut tx, parent, &super::notify::step_name_str(&ledger.kind), &end).await?;
    }
    tx.commit().await?;
    Ok(status)
}

async fn set_status(conn: &mut PgConnection, id: Uuid, status: &str) -> Result<(), JobError> {
    sqlx::query("update sms_messages set status = $2, updated_at = now() where sms_message_id = $1")
        .bind(id)
        .bind(status)
        .execute(conn)
        .await?;
    Ok(())
}

/// A message left `submitting` by an earlier attempt: a create request may have reached Twilio,
/// so look before sending again. Its status if Twilio has it.
async fn reconcile(conn: &mut PgConnection, sending: &Sending, ledger: &Ledger) -> Result<Option<String>, JobError> {
    let Some(gateway) = &sending.gateway else { return Ok(None) };
    let to = E164::parse(&ledger.to_phone).map_err(|e| JobError::permanent(anyhow::anyhow!("{e}")))?;
    let since = ledger.submitted_at.unwrap_or_else(Utc::now);
    match gateway.find(&to, since, &ledger.body).await {
        Ok(Some(found)) => {
            tracing::info!(sms.sid = %found.sid, "an earlier attempt had sent the message; recorded it");
            submitted(conn, ledger.sms_message_id, &found.sid, &found.status).await.map(Some)
        }
        Ok(None) => Ok(None),
        Err(error) => Err(JobError::retryable(anyhow::anyhow!("cannot reconcile the message: {error}"))),
    }
}

/// Twilio refused the message: recorded `failed` (and the number opted out, for 21610) when it
/// never will take it; otherwise back to `intended`, for an operator.
async fn refused(
    conn: &mut PgConnection,
    ledger: &Ledger,
    to: &E164,
    code: i32,
    message: &str,
) -> Result<String, JobError> {
    if PERMANENT_CODES.contains(&code) {
        sqlx::query(
            "update sms_messages set status = 'failed', error_code = $2, error_message = $3, updated_at = now()
              where sms_message_id = $1",
        )
        .bind(ledger.sms_message_id)
        .bind(code)
        .bind(message)
        .execute(&mut *conn)
        .await?;
        if code == 21610 {
            adapters::postgres::sms::opt_out(&mut *conn, to, "21610").await?;
        }
        tracing::warn!(code, "Twilio refused the message permanently; recorded");
        return Ok("failed".to_owned());
    }
    set_status(conn, ledger.sms_message_id, "intended").await?;
    Err(JobError::permanent(anyhow::anyhow!("Twilio refused the message ({code}): {message}")))
}

/// Sends the message at most once; returns its ledger status.
async fn deliver(
    conn: &mut PgConnection,
    sending: &Sending,
    failpoints: &Failpoints,
    ledger: &Ledger,
) -> Result<String, JobError> {
    match ledger.status.as_str() {
        "intended" => {}
        "submitting" => {
            if let Some(status) = reconcile(conn, sending, ledger).await? {
                return Ok(status);
            }
        }
        done => return Ok(done.to_owned()),
    }
    let to = E164::parse(&ledger.to_phone).map_err(|e| JobError::permanent(anyhow::anyhow!("bad number: {e}")))?;
    let opted_out: bool = sqlx::query_scalar("select exists(select 1 from sms_opt_outs where phone = $1)")
        .bind(to.as_str())
        .fetch_one(&mut *conn)
        .await?;
    if opted_out {
        set_status(conn, ledger.sms_message_id, "opted_out").await?;
        return Ok("opted_out".to_owned());
    }
    let Some(gateway) = &sending.gateway else {
        tracing::info!(sms.to = %to.masked(), "no Twilio credentials: message recorded as simulated");
        set_status(conn, ledger.sms_message_id, "simulated").await?;
        return Ok("simulated".to_owned());
    };
    let own: Option<String> = sqlx::query_scalar("select phone_number from businesses where business_id = $1")
        .bind(ledger.business_id)
        .fetch_one(&mut *conn)
        .await?;
    let from = own.and_then(|n| E164::parse(&n).ok()).or_else(|| sending.fallback_from.clone()).ok_or_else(|| {
        JobError::permanent(anyhow::anyhow!("no sender: give the business its Twilio number, or set TWILIO_SMS_FROM"))
    })?;

    // Tests pause here to make two deliveries overlap.
    failpoints.check("claim:send_sms").await?;
    // Committed before the request: from here on, a message may exist.
    sqlx::query(
        "update sms_messages set status = 'submitting', submitted_at = now(), attempts = attempts + 1, updated_at = now()
          where sms_message_id = $1",
    )
    .bind(ledger.sms_message_id)
    .execute(&mut *conn)
    .await?;
    match gateway.send(&to, &from, &ledger.body).await {
        Ok(sent) => {
            // Tests kill the worker here: Twilio has the message, the ledger still says submitting.
            failpoints.check("sent:send_sms").await?;
            submitted(conn, ledger.sms_message_id, &sent.sid, &sent.status).await
        }
        Err(SmsError::Rejected { code, message }) => refused(conn, ledger, &to, code, &message).await,
        Err(SmsError::RetryAfter(wait)) => {
            set_status(conn, ledger.sms_message_id, "intended").await?;
            Err(JobError::retry_after(wait, anyhow::anyhow!("Twilio asked to wait {} s", wait.as_secs())))
        }
        Err(SmsError::NotSent(error)) => {
            set_status(conn, ledger.sms_message_id, "intended").await?;
            Err(JobError::retryable(anyhow::anyhow!("not sent: {error}")))
        }
        // Left `submitting`: the next attempt reconciles.
        Err(SmsError::Ambiguous(error)) => Err(JobError::retryable(anyhow::anyhow!("may have been sent: {error}"))),
    }
}

async fn submitted(conn: &mut PgConnection, id: Uuid, sid: &str, twilio_status: &str) -> Result<String, JobError> {
    let status = adapters::postgres::sms::ledger_status(twilio_status).unwrap_or("submitted");
    sqlx::query("update sms_messages set status = $2, twilio_sid = $3, updated_at = now() where sms_message_id = $1")
        .bind(id)
        .bind(status)
        .bind(sid)
        .execute(conn)
        .await?;
    Ok(status.to_owned())
}
