//! `book_appointment.v1`: write the appointment for a call.
//!
//! Idempotent by construction, in one transaction:
//! - the workflow run is unique by the job's idempotency key (`book:{CallSid}#{attempt}`): a
//!   redelivered message finds its run completed and returns the recorded outcome;
//! - the appointment is unique by its booking key (`book:{CallSid}`): a call never books twice,
//!   even across attempts;
//! - the exclusion constraint `appointments_no_overlap` makes overlapping bookings on one resource
//!   impossible: when every resource is taken at that time, the outcome is `SlotTaken`.

use chrono::Utc;
use sqlx::{Acquire, PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;
use workflows::AppointmentRef;
use workflows::jobs::keys;
use workflows::jobs::{BookAppointment, JobKind, JobOutcome};

use super::notify::{self, Notice};
use super::{JobError, journal};
use workflows::sms::SmsKind;

pub const STEP_RESERVE: &str = "reserve_slot";

/// Runs the job and returns its outcome, recorded in the workflow journal.
pub async fn run(pool: &PgPool, job: &BookAppointment) -> Result<JobOutcome, JobError> {
    let input = serde_json::to_value(job).map_err(JobError::retryable)?;
    journal::one_step(
        pool,
        journal::RunOf {
            kind: JobKind::BookAppointment,
            key: &job.idempotency_key,
            call_sid: &job.call_sid,
            business: job.business_id,
            input,
        },
        STEP_RESERVE,
        async |tx, run| {
            let outcome = reserve(tx, job).await?;
            notify_after(tx, job, run, &outcome).await?;
            Ok(outcome)
        },
    )
    .await
}

/// Schedules the text for this outcome: a confirmation when booked; when a booking saved after
/// the call could not be made, a message saying so (the caller was told to expect a text).
async fn notify_after(
    tx: &mut Transaction<'_, Postgres>,
    job: &BookAppointment,
    run: Uuid,
    outcome: &JobOutcome,
) -> Result<(), JobError> {
    let (kind, reference) = match outcome {
        JobOutcome::Booked { reference, .. } => (SmsKind::Confirmation, Some(reference)),
        JobOutcome::SlotTaken | JobOutcome::Rejected { .. } if job.deferred => (SmsKind::NotBooked, None),
        _ => return Ok(()),
    };
    let appointment: Option<Uuid> = match reference {
        Some(reference) => {
            sqlx::query_scalar("select appointment_id from appointments where reference = $1")
                .bind(reference.as_str())
                .fetch_optional(&mut **tx)
                .await?
        }
        None => None,
    };
    notify::schedule(
        tx,
        Notice {
            kind,
            job_key: &job.idempotency_key,
            run,
            business: job.business_id,
            call_sid: &job.call_sid,
            appointment,
            phone: &job.phone,
            language: job.language,
            starts_at: job.starts_at,
            reference,
        },
    )
    .await
}

/// Books the first resource free at that time.
async fn reserve(tx: &mut Transaction<'_, Postgres>, job: &BookAppointment) -> Result<JobOutcome, JobError> {
    if job.starts_at <= Utc::now() {
        return Ok(JobOutcome::Rejected { reason: "the time has passed".to_owned() });
    }
    let resources: Vec<Uuid> =
        sqlx::query_scalar("select resource_id from resources where business_id = $1 order by name, resource_id")
            .bind(job.business_id.as_uuid())
            .fetch_all(&mut **tx)
            .await?;
    if resources.is_empty() {
        return Ok(JobOutcome::Rejected { reason: format!("business {} has no resource to book", job.business_id) });
    }
    let booking_key = keys::booking(&job.call_sid);
    for resource in resources {
        match insert(tx, job, resource, &booking_key).await {
            Ok(reference) => {
                return Ok(JobOutcome::Booked { reference, starts_at: job.starts_at, ends_at: job.ends_at });
            }
            Err(error) => match error.as_database_error().and_then(|e| e.constraint()) {
                // This resource is busy then: try the next one.
                Some("appointments_no_overlap") => continue,
                // The call has booked already (an earlier attempt): that booking is the outcome.
                Some("appointments_booking_key_unique") => return existing(tx, &booking_key).await,
                _ => return Err(error.into()),
            },
        }
    }
    Ok(JobOutcome::SlotTaken)
}

async fn insert(
    conn: &mut PgConnection,
    job: &BookAppointment,
    resource: Uuid,
    booking_key: &str,
) -> Result<AppointmentRef, sqlx::Error> {
    // The reference is derived from the booking key, so a retry computes the same one; on the
    // rare collision with another call's reference, a suffix derives the next candidate.
    let mut reference = AppointmentRef::for_booking_key(booking_key);
    for salt in 1..=3 {
        let mut savepoint = conn.begin().await?;
        let result = sqlx::query(
            "insert into appointments
                (appointment_id, reference, business_id, resource_id, call_sid, booking_key, name, phone,
                 starts_at, ends_at, status, language, name_to_check)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'booked', $11, $12)",
        )
        .bind(Uuid::now_v7())
        .bind(reference.as_str())
        .bind(job.business_id.as_uuid())
        .bind(resource)
        .bind(job.call_sid.as_str())
        .bind(booking_key)
        .bind(job.name.as_str())
        .bind(job.phone.as_str())
        .bind(job.starts_at)
        .bind(job.ends_at)
        .bind(job.language.code())
        .bind(job.name_to_check)
        .execute(&mut *savepoint)
        .await;
        match result {
            Ok(_) => {
                savepoint.commit().await?;
                return Ok(reference);
            }
            Err(error)
                if error.as_database_error().and_then(|e| e.constraint()) == Some("appointments_reference_key") =>
            {
                savepoint.rollback().await?;
                reference = AppointmentRef::for_booking_key(&format!("{booking_key}/{salt}"));
            }
            Err(error) => {
                savepoint.rollback().await?;
                return Err(error);
            }
        }
    }
    Err(sqlx::Error::Protocol("could not find a free appointment reference".into()))
}

async fn existing(tx: &mut Transaction<'_, Postgres>, booking_key: &str) -> Result<JobOutcome, JobError> {
    let (reference, starts_at, ends_at): (String, chrono::DateTime<Utc>, chrono::DateTime<Utc>) =
        sqlx::query_as("select reference, starts_at, ends_at from appointments where booking_key = $1")
            .bind(booking_key)
            .fetch_one(&mut **tx)
            .await?;
    let reference = AppointmentRef::parse(&reference).map_err(JobError::permanent)?;
    Ok(JobOutcome::Booked { reference, starts_at, ends_at })
}
