//! `repair_answer.v1`: ask a language model what a caller meant, within the job's deadline.
//!
//! The run is created (or found) and its one step, `ask_model`, opened in a first short
//! transaction; the model is asked with no transaction open; the answer, the model and the
//! latency are recorded in a second. A redelivery after a crash in between asks again, which is
//! harmless: asking changes nothing, and the dialogue re-validates whatever comes back.
//!
//! A repair never goes to the dead letters for the model's sake: no model, a model error or an
//! unreadable answer ends the run `failed` with the reason (the caller is asked again), and a
//! model too slow for the deadline ends it `expired`.

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;
use workflows::jobs::{JobKind, JobOutcome, RepairAnswer};
use workflows::repair;
use workflows::runs::RunStatus;

use super::journal::{self, StepEnd};
use super::{ErrorClass, JobError};
use crate::llm::{LanguageModel, ModelError};

pub const STEP_ASK_MODEL: &str = "ask_model";

pub async fn run(pool: &PgPool, model: Option<&LanguageModel>, job: &RepairAnswer) -> Result<JobOutcome, JobError> {
    let input = serde_json::to_value(job).map_err(JobError::retryable)?;
    let mut tx = pool.begin().await?;
    let run = match journal::start(
        &mut tx,
        JobKind::RepairAnswer,
        &job.idempotency_key,
        &job.call_sid,
        job.business_id,
        input,
    )
    .await?
    {
        journal::Started::Finished(output) => {
            tx.commit().await?;
            return journal::recorded_outcome(output);
        }
        journal::Started::Cancelled => {
            tx.commit().await?;
            return Ok(journal::cancelled());
        }
        journal::Started::New(id) | journal::Started::Unfinished(id) => id,
    };
    let step_input = json!({
        "field": job.field,
        "language": job.language,
        "model": model.map(LanguageModel::model),
    });
    journal::begin_step(&mut tx, run, STEP_ASK_MODEL, 1, step_input).await?;
    tx.commit().await?;

    let started = Instant::now();
    let answer = match model {
        Some(model) => {
            let deadline = JobKind::RepairAnswer.spec().deadline.unwrap_or(Duration::from_secs(5));
            let age = (chrono::Utc::now() - job.requested_at).to_std().unwrap_or_default();
            let within = deadline.saturating_sub(age);
            model.repair(&repair::prompt(job), within).await
        }
        None => Err(ModelError::Api("no language model is configured (OPENAI_API_KEY)".to_owned())),
    };
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if model.is_some() {
        metrics::histogram!(adapters::metrics::REPAIR_SECONDS).record(started.elapsed());
    }
    let model_name = model.map(LanguageModel::model);
    let (status, value, end) = match answer {
        Ok(value) => {
            let output = json!({ "model": model_name, "latency_ms": latency_ms, "value": value });
            (RunStatus::Completed, value, StepEnd { succeeded: true, error_class: None, error: None, output })
        }
        Err(error) => {
            let status = if matches!(error, ModelError::Timeout(_)) { RunStatus::Expired } else { RunStatus::Failed };
            let output = json!({ "model": model_name, "latency_ms": latency_ms, "value": null });
            let end = StepEnd {
                succeeded: false,
                error_class: Some(ErrorClass::Permanent),
                error: Some(error.to_string()),
                output,
            };
            (status, None, end)
        }
    };
    tracing::info!(
        model = model_name.unwrap_or("none"),
        latency_ms,
        repaired = value.is_some(),
        status = ?status,
        "repair answered"
    );
    let outcome = JobOutcome::Repaired { value };
    let mut tx = pool.begin().await?;
    journal::finish_step(&mut tx, run, STEP_ASK_MODEL, &end).await?;
    let run_end = StepEnd { output: serde_json::to_value(&outcome).map_err(JobError::retryable)?, ..end };
    journal::end_run(&mut tx, run, status, &run_end).await?;
    tx.commit().await?;
    Ok(outcome)
}
