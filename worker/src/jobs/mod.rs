//! The jobs, one module each. Every job is idempotent and says how; all of them record their
//! workflow run and steps through [`journal`].

pub mod book_appointment;
pub mod cancel_appointment;
pub mod journal;
pub mod notify;
pub mod repair_answer;
pub mod reschedule_appointment;
pub mod send_sms;

use sqlx::PgPool;
use workflows::jobs::{Job, JobOutcome};

use crate::failpoints::Failpoints;
use crate::llm::LanguageModel;
use send_sms::Sending;

/// What a job that ran leaves for the call that started it.
#[derive(Debug)]
pub enum Done {
    /// The outcome the waiting call reads (a booking, a move, a cancellation, a repaired answer).
    Answered(JobOutcome),
    /// Nobody waits on the line for it (a text).
    Unanswered,
}

/// Runs one job of any kind.
pub async fn run(
    job: &Job,
    pool: &PgPool,
    sending: &Sending,
    model: Option<&LanguageModel>,
    failpoints: &Failpoints,
) -> Result<Done, JobError> {
    match job {
        Job::BookAppointmentV1(j) => book_appointment::run(pool, j).await.map(Done::Answered),
        Job::RescheduleAppointmentV1(j) => reschedule_appointment::run(pool, j).await.map(Done::Answered),
        Job::CancelAppointmentV1(j) => cancel_appointment::run(pool, j).await.map(Done::Answered),
        Job::RepairAnswerV1(j) => repair_answer::run(pool, model, j).await.map(Done::Answered),
        Job::SendSmsV1(j) => send_sms::run(pool, sending, failpoints, j).await.map(|_| Done::Unanswered),
    }
}

/// How a failed job is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A dependency failed (database restarting, network, a 5xx): retried with exponential
    /// backoff and jitter, through the retry tiers.
    Retryable,
    /// The job can never succeed as it is: straight to the dead letters, with the reason.
    Permanent,
    /// The provider asked us to wait (HTTP 429 with Retry-After): retried no sooner than that.
    RetryAfter,
    /// The input is wrong in a way a person can fix (a misheard name): to the dead letters, where
    /// an operator edits and resumes it.
    NeedsRepair,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retryable => "retryable",
            Self::Permanent => "permanent",
            Self::RetryAfter => "retry_after",
            Self::NeedsRepair => "needs_repair",
        }
    }
}

/// A job that did not produce an outcome.
#[derive(Debug, thiserror::Error)]
#[error("{source:#}")]
pub struct JobError {
    pub class: ErrorClass,
    /// For [`ErrorClass::RetryAfter`]: how long the provider asked us to wait.
    pub retry_after: Option<std::time::Duration>,
    #[source]
    pub source: anyhow::Error,
}

impl JobError {
    pub fn retryable(source: impl Into<anyhow::Error>) -> Self {
        Self { class: ErrorClass::Retryable, retry_after: None, source: source.into() }
    }

    pub fn permanent(source: impl Into<anyhow::Error>) -> Self {
        Self { class: ErrorClass::Permanent, retry_after: None, source: source.into() }
    }

    pub fn needs_repair(source: impl Into<anyhow::Error>) -> Self {
        Self { class: ErrorClass::NeedsRepair, retry_after: None, source: source.into() }
    }

    pub fn retry_after(wait: std::time::Duration, source: impl Into<anyhow::Error>) -> Self {
        Self { class: ErrorClass::RetryAfter, retry_after: Some(wait), source: source.into() }
    }
}

impl From<sqlx::Error> for JobError {
    fn from(error: sqlx::Error) -> Self {
        Self::retryable(error)
    }
}
