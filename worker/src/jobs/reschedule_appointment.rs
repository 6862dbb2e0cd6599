//! `reschedule_appointment.v1`: move an appointment to another time.
//!
//! One transaction: the appointment row is locked, then updated in place to the new time (on
//! its resource, or the first other resource free then). The exclusion constraint checks the new
//! time against every other booking, so the old time is freed exactly when the new one is taken,
//! and a taken time leaves the appointment where it was. Idempotent by the run's key.

use chrono::{DateTime, Utc};
use sqlx::{Acquire, PgPool, Postgres, Transaction};
use uuid::Uuid;
use workflows::AppointmentRef;
use workflows::jobs::{JobKind, JobOutcome, RescheduleAppointment};

use super::notify::{self, Notice};
use super::{JobError, journal};
use workflows::E164;
use workflows::sms::SmsKind;

pub const STEP_MOVE: &str = "move_slot";

pub async fn run(pool: &PgPool, job: &RescheduleAppointment) -> Result<JobOutcome, JobError> {
    let input = serde_json::to_value(job).map_err(JobError::retryable)?;
    journal::one_step(
        pool,
        journal::RunOf {
            kind: JobKind::RescheduleAppointment,
            key: &job.idempotency_key,
            call_sid: &job.call_sid,
            business: job.business_id,
            input,
        },
        STEP_MOVE,
        async |tx, run| move_slot(tx, job, run).await,
    )
    .await
}

async fn move_slot(
    tx: &mut Transaction<'_, Postgres>,
    job: &RescheduleAppointment,
    run: Uuid,
) -> Result<JobOutcome, JobError> {
    let current: Option<(String, Uuid, String, DateTime<Utc>, String, String)> = sqlx::query_as(
        "select reference, resource_id, status, starts_at, phone, language from appointments
          where appointment_id = $1 and business_id = $2
          for update",
    )
    .bind(job.appointment_id)
    .bind(job.business_id.as_uuid())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((reference, resource, status, _, phone, language)) = current else { return Ok(JobOutcome::NotFound) };
    if status != "booked" {
        return Ok(JobOutcome::NotFound);
    }
    let reference = AppointmentRef::parse(&reference).map_err(JobError::permanent)?;
    if job.starts_at <= Utc::now() {
        return Ok(JobOutcome::Rejected { reason: "the time has passed".to_owned() });
    }
    // Its own resource first, then the others.
    let mut resources: Vec<Uuid> =
        sqlx::query_scalar("select resource_id from resources where business_id = $1 order by name, resource_id")
            .bind(job.business_id.as_uuid())
            .fetch_all(&mut **tx)
            .await?;
    resources.sort_by_key(|r| *r != resource);
    for candidate in resources {
        let mut savepoint = tx.begin().await?;
        let moved = sqlx::query(
            "update appointments set resource_id = $2, starts_at = $3, ends_at = $4, updated_at = now(),
                    sequence = sequence + case when (starts_at, ends_at) = ($3, $4) then 0 else 1 end
              where appointment_id = $1",
        )
        .bind(job.appointment_id)
        .bind(candidate)
        .bind(job.starts_at)
        .bind(job.ends_at)
        .execute(&mut *savepoint)
        .await;
        match moved {
            Ok(_) => {
                savepoint.commit().await?;
                let phone = E164::parse(&phone).map_err(|e| JobError::permanent(anyhow::anyhow!("{e}")))?;
                let notice = Notice {
                    kind: SmsKind::Rescheduled,
                    job_key: &job.idempotency_key,
                    run,
                    business: job.business_id,
                    call_sid: &job.call_sid,
                    appointment: Some(job.appointment_id),
                    phone: &phone,
                    language: language.parse().unwrap_or_default(),
                    starts_at: job.starts_at,
                    reference: Some(&reference),
                };
                notify::schedule(tx, notice).await?;
                return Ok(JobOutcome::Rescheduled { reference, starts_at: job.starts_at, ends_at: job.ends_at });
            }
            Err(error) if error.as_database_error().and_then(|e| e.constraint()) == Some("appointments_no_overlap") => {
                savepoint.rollback().await?;
            }
            Err(error) => {
                savepoint.rollback().await?;
                return Err(error.into());
            }
        }
    }
    Ok(JobOutcome::SlotTaken)
}
