//! `cancel_appointment.v1`: cancel an appointment.
//!
//! Idempotent by the run's key, and by the change itself: cancelling an appointment that is
//! already cancelled changes nothing and reports it cancelled.

use sqlx::{PgPool, Postgres, Transaction};
use workflows::AppointmentRef;
use workflows::jobs::{CancelAppointment, JobKind, JobOutcome};

use super::notify::{self, Notice};
use super::{JobError, journal};
use uuid::Uuid;
use workflows::E164;
use workflows::sms::SmsKind;

pub const STEP_CANCEL: &str = "cancel";

pub async fn run(pool: &PgPool, job: &CancelAppointment) -> Result<JobOutcome, JobError> {
    let input = serde_json::to_value(job).map_err(JobError::retryable)?;
    journal::one_step(
        pool,
        journal::RunOf {
            kind: JobKind::CancelAppointment,
            key: &job.idempotency_key,
            call_sid: &job.call_sid,
            business: job.business_id,
            input,
        },
        STEP_CANCEL,
        async |tx, run| cancel(tx, job, run).await,
    )
    .await
}

async fn cancel(
    tx: &mut Transaction<'_, Postgres>,
    job: &CancelAppointment,
    run: Uuid,
) -> Result<JobOutcome, JobError> {
    // Cancelling a cancelled appointment leaves it untouched, and is reported as cancelled.
    let row: Option<(String, String, String, chrono::DateTime<chrono::Utc>, bool)> = sqlx::query_as(
        "update appointments a
            set status = 'cancelled',
                updated_at = case when a.status = 'booked' then now() else a.updated_at end,
                sequence = a.sequence + case when a.status = 'booked' then 1 else 0 end
           from (select appointment_id, status = 'booked' as was_booked from appointments
                  where appointment_id = $1 and business_id = $2 for update) before
          where a.appointment_id = before.appointment_id
          returning a.reference, a.phone, a.language, a.starts_at, before.was_booked",
    )
    .bind(job.appointment_id)
    .bind(job.business_id.as_uuid())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((reference, phone, language, starts_at, was_booked)) = row else { return Ok(JobOutcome::NotFound) };
    let reference = AppointmentRef::parse(&reference).map_err(JobError::permanent)?;
    if was_booked {
        let phone = E164::parse(&phone).map_err(|e| JobError::permanent(anyhow::anyhow!("{e}")))?;
        let notice = Notice {
            kind: SmsKind::Cancelled,
            job_key: &job.idempotency_key,
            run,
            business: job.business_id,
            call_sid: &job.call_sid,
            appointment: Some(job.appointment_id),
            phone: &phone,
            language: language.parse().unwrap_or_default(),
            starts_at,
            reference: Some(&reference),
        };
        notify::schedule(tx, notice).await?;
    }
    Ok(JobOutcome::Cancelled { reference })
}
