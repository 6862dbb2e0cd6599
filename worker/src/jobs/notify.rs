//! Chaining a text message from the transaction of a booking, move or cancellation.
//!
//! The message is composed, written to the SMS ledger (`intended`), journaled as a step of the
//! run that made the change, and its `send_sms` job written to the outbox: all in the same
//! transaction as the change itself. So a text is scheduled exactly once per change, and never
//! for a change that rolled back.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;
use workflows::jobs::keys;
use workflows::jobs::{Job, SendSms};
use workflows::sms::{self, SmsKind};
use workflows::{AppointmentRef, BusinessId, CallSid, E164, Language};

use super::JobError;

/// What the message is about.
#[derive(Debug)]
pub struct Notice<'a> {
    pub kind: SmsKind,
    /// The key of the job that made the change.
    pub job_key: &'a str,
    pub run: Uuid,
    pub business: BusinessId,
    pub call_sid: &'a CallSid,
    pub appointment: Option<Uuid>,
    pub phone: &'a E164,
    pub language: Language,
    pub starts_at: DateTime<Utc>,
    pub reference: Option<&'a AppointmentRef>,
}

/// The ledger key of a message: one per change.
pub fn ledger_key(kind: SmsKind, job_key: &str) -> String {
    keys::text(kind, &job_key)
}

/// The step of the changing run that the message is.
pub fn step_name(kind: SmsKind) -> String {
    step_name_str(kind.as_str())
}

/// The same, from the kind's name as stored in the ledger.
pub fn step_name_str(kind: &str) -> String {
    format!("sms_{kind}")
}

pub async fn schedule(tx: &mut Transaction<'_, Postgres>, notice: Notice<'_>) -> Result<(), JobError> {
    let (business_name, zone): (String, String) =
        sqlx::query_as("select name, time_zone from businesses where business_id = $1")
            .bind(notice.business.as_uuid())
            .fetch_one(&mut **tx)
            .await?;
    let zone: Tz = zone.parse().map_err(|_| JobError::permanent(anyhow::anyhow!("unknown time zone {zone}")))?;
    let body = sms::body(
        notice.kind,
        notice.language,
        &business_name,
        notice.starts_at.with_timezone(&zone),
        notice.reference,
    );
    let key = ledger_key(notice.kind, notice.job_key);
    let inserted = sqlx::query(
        "insert into sms_messages
            (sms_message_id, ledger_key, parent_run_id, appointment_id, business_id, call_sid, kind, to_phone, body,
             language, status)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'intended')
         on conflict (ledger_key) do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(&key)
    .bind(notice.run)
    .bind(notice.appointment)
    .bind(notice.business.as_uuid())
    .bind(notice.call_sid.as_str())
    .bind(notice.kind.as_str())
    .bind(notice.phone.as_str())
    .bind(&body)
    .bind(notice.language.code())
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(());
    }
    adapters::postgres::runs::journal::plan_step(
        tx,
        notice.run,
        &step_name(notice.kind),
        2,
        serde_json::json!({ "ledger_key": key }),
    )
    .await?;
    let job = Job::SendSmsV1(SendSms {
        idempotency_key: key,
        call_sid: notice.call_sid.clone(),
        business_id: notice.business,
        requested_at: Utc::now(),
    });
    adapters::postgres::outbox::enqueue(tx, &job).await?;
    Ok(())
}
