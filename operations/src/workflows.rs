//! Workflow runs: list, show the step journal, resume from the failed step (after editing a
//! field if need be), cancel.
//!
//! Resuming publishes the run's job again through the outbox, under a key of its own
//! (`resume:{audit_id}`), in the transaction that puts the run back to `retrying`. The worker then
//! finds the run unfinished and carries on: steps the journal records as succeeded are not done
//! again (the worker returns their recorded output), so only the failed step and those after it
//! run. A booking whose appointment was made but whose text failed is resumed at its text: the
//! text's ledger row goes back to `intended` (to the edited number, if one is given) and its
//! `send_sms` job is published again, while the booking itself is left alone.

use std::collections::BTreeMap;

use adapters::postgres::runs::control as runs;
use chrono::Utc;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;
use workflows::jobs::{Job, JobKind, SendSms};
use workflows::runs::RunStatus;
use workflows::{BusinessId, CallSid, E164};

use super::audit::{self, Entry};
use super::dead_letters::masked;
use super::{Actor, AdminError, Outcome};

pub use adapters::postgres::runs::control::{Filter, RunSummary, Step};

pub async fn list(pool: &PgPool, filter: &Filter, limit: i64) -> Result<Vec<RunSummary>, AdminError> {
    if let Some(status) = &filter.status
        && let Err(unknown) = status.parse::<RunStatus>()
    {
        return Err(AdminError::Invalid(unknown.to_string()));
    }
    if let Some(kind) = &filter.kind {
        super::queues::kinds(std::slice::from_ref(kind))?;
    }
    Ok(runs::list(pool, filter, limit).await?)
}

/// A run in full: its input (phone numbers masked), its steps, and what hangs off it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunSummary,
    pub input: Value,
    pub output: Option<Value>,
    pub steps: Vec<Step>,
    /// Its dead letters, oldest first.
    pub dead_letters: Vec<super::dead_letters::Summary>,
    /// Text messages it scheduled: kind, status, the number masked.
    pub texts: Vec<Value>,
}

pub async fn show(pool: &PgPool, id: Uuid) -> Result<RunDetail, AdminError> {
    let (run, input, output) =
        runs::show(pool, id).await?.ok_or_else(|| AdminError::NotFound(format!("no workflow run {id}")))?;
    let steps = runs::steps(pool, id).await?;
    let filter = super::dead_letters::Filter {
        job_key: Some(run.idempotency_key.clone()),
        status: Some("any".into()),
        ..Default::default()
    };
    let dead_letters = super::dead_letters::list(pool, &filter, 1_000).await?;
    let texts: Vec<Value> = sqlx::query_scalar(
        "select json_build_object('ledger_key', ledger_key, 'kind', kind, 'status', status, 'to',
                to_phone, 'error_code', error_code, 'attempts', attempts, 'updated_at', updated_at)
           from sms_messages where parent_run_id = $1 or ledger_key = $2 order by created_at",
    )
    .bind(id)
    .bind(&run.idempotency_key)
    .fetch_all(pool)
    .await?;
    Ok(RunDetail {
        run,
        input: masked(&input),
        output: output.as_ref().map(masked),
        steps: steps.into_iter().map(|s| Step { output: s.output.as_ref().map(masked), ..s }).collect(),
        dead_letters,
        texts: texts.iter().map(masked).collect(),
    })
}

/// Fields of a job that identify it: never edited.
const FIXED_FIELDS: [&str; 5] = ["type", "idempotency_key", "call_sid", "business_id", "attempt"];
/// What an operator may correct before a resume: what was misheard. A time is not among them:
/// the worker books any free time it is given, so a time typed here would skip the business's
/// hours, holidays and notice; a booking at another time is a new booking (or a move).
const EDITABLE_FIELDS: [&str; 3] = ["name", "phone", "language"];

/// Applies `edits` (field → new value, as typed) to a job's JSON, checking each value.
pub fn edit(input: &Value, edits: &BTreeMap<String, String>) -> Result<Value, AdminError> {
    let mut job = input.clone();
    let Some(fields) = job.as_object_mut() else {
        return Err(AdminError::Conflict("this run's input is not a job: it cannot be edited".into()));
    };
    for (field, raw) in edits {
        if FIXED_FIELDS.contains(&field.as_str()) {
            return Err(AdminError::Invalid(format!("{field} identifies the job and cannot be edited")));
        }
        if !EDITABLE_FIELDS.contains(&field.as_str()) && fields.contains_key(field) {
            return Err(AdminError::Invalid(format!(
                "{field} cannot be changed on a resume: only {} can (a different time is a new booking or a move, \
                 checked against the business's hours)",
                EDITABLE_FIELDS.join(", ")
            )));
        }
        if !fields.contains_key(field) {
            let mut known: Vec<&String> = fields.keys().filter(|k| !FIXED_FIELDS.contains(&k.as_str())).collect();
            known.sort();
            let known: Vec<&str> = known.iter().map(|k| k.as_str()).collect();
            return Err(AdminError::Invalid(format!("this job has no field {field:?}; it has {}", known.join(", "))));
        }
        let value = match field.as_str() {
            "name" => json!(
                workflows::extract::PersonName::parse(raw)
                    .ok_or_else(|| AdminError::Invalid(format!("name {raw:?} is not a person's name")))?
                    .as_str()
            ),
            "phone" => json!(
                E164::parse(raw)
                    .map_err(|e| AdminError::Invalid(format!("phone {raw:?} is not a phone number: {e}")))?
                    .as_str()
            ),
            "language" => match raw.trim() {
                "en" | "fr" => json!(raw.trim()),
                other => return Err(AdminError::Invalid(format!("language {other:?} is not en or fr"))),
            },
            _ => return Err(AdminError::Invalid(format!("{field} cannot be changed on a resume"))),
        };
        fields.insert(field.clone(), value);
    }
    // The edited job must still be a job this release can run.
    serde_json::from_value::<Job>(job.clone())
        .map_err(|e| AdminError::Invalid(format!("the edited job is not valid: {e}")))?;
    Ok(job)
}

use runs::Locked as RunRow;

async fn lock_run(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> Result<RunRow, AdminError> {
    let row = runs::lock(tx, id).await?;
    row.ok_or_else(|| AdminError::NotFound(format!("no workflow run {id}")))
}

/// What resuming a run does, decided from the run, its first failed step and the edits alone
/// ([`plan`]); [`resume`] carries it out in the run's transaction.
#[derive(Debug)]
enum Plan {
    /// Nothing to do, and why (recorded as affecting nothing).
    Unchanged(&'static str),
    /// A text to send again (`ledger_key`), from the run's failed text step `step` if it is a
    /// text step of another job rather than a text job itself.
    Text { ledger_key: String, step: Option<String> },
    /// The job again, as edited, from its failed step (or the start).
    Rerun { input: Value, job: Job, from: String },
}

/// Decides a resume. Refuses edits to a run that is going, edits a text step cannot take, and a
/// job this release cannot decode.
fn plan(
    id: Uuid,
    run: &RunRow,
    failed_step: Option<(String, Option<Value>)>,
    edits: &BTreeMap<String, String>,
) -> Result<Plan, AdminError> {
    if run.status.is_going() {
        if edits.is_empty() {
            return Ok(Plan::Unchanged("already running: nothing to resume"));
        }
        return Err(AdminError::Conflict(format!(
            "run {id} is {}: wait for it to end (or cancel it) before editing it",
            run.status
        )));
    }
    if run.kind == JobKind::SendSms {
        return Ok(Plan::Text { ledger_key: run.key.clone(), step: None });
    }
    if let Some((step, input)) = failed_step.as_ref().filter(|(step, _)| step.starts_with("sms_")) {
        if edits.keys().any(|k| k != "phone") {
            return Err(AdminError::Invalid(format!(
                "run {id} failed at its text ({step}); only the phone number can be edited there"
            )));
        }
        let ledger_key = input
            .as_ref()
            .and_then(|i| i.get("ledger_key"))
            .and_then(Value::as_str)
            .ok_or_else(|| AdminError::Conflict(format!("step {step} does not name its text message")))?;
        return Ok(Plan::Text { ledger_key: ledger_key.to_owned(), step: Some(step.clone()) });
    }
    if run.status == RunStatus::Completed {
        return Ok(Plan::Unchanged("nothing failed: nothing to resume"));
    }
    let input = if edits.is_empty() { run.input.clone() } else { edit(&run.input, edits)? };
    let job: Job = serde_json::from_value(input.clone())
        .map_err(|e| AdminError::Conflict(format!("run {id}'s job cannot be decoded by this release: {e}")))?;
    let from = failed_step.map_or_else(|| "the start".to_owned(), |(step, _)| step);
    Ok(Plan::Rerun { input, job, from })
}

/// Resumes a run from its failed step, after applying `edits` to its job. Resuming a run that is
/// already going again, or that has nothing left to do, changes nothing.
pub async fn resume(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    edits: &BTreeMap<String, String>,
    why: &str,
) -> Result<Outcome, AdminError> {
    actor.require_operator()?;
    let why = super::reason(why)?;
    let mut tx = pool.begin().await?;
    let run = lock_run(&mut tx, id).await?;
    let target = json!({ "workflow_run_id": id, "kind": run.kind, "edits": edits.keys().collect::<Vec<_>>() });
    let failed_step = runs::first_failed_step(&mut tx, id).await?;
    let result = match plan(id, &run, failed_step, edits)? {
        Plan::Unchanged(message) => {
            let outcome = record_resume(&mut tx, actor, &target, &why, 0, message).await?;
            tx.commit().await?;
            return Ok(outcome);
        }
        Plan::Text { ledger_key, step } => {
            let result = resume_text(&mut tx, &ledger_key, run.call_sid.as_deref(), run.business, edits).await?;
            if let Some(step) = step.filter(|_| result.is_some()) {
                runs::restart_step(&mut tx, id, &step).await?;
            }
            result
        }
        Plan::Rerun { input, job, from } => {
            rerun(&mut tx, id, &run.key, &input, actor, &why).await?;
            Some((job, format!("resumed from {from}")))
        }
    };
    let Some((job, message)) = result else {
        let outcome = record_resume(&mut tx, actor, &target, &why, 0, "nothing failed: nothing to resume").await?;
        tx.commit().await?;
        return Ok(outcome);
    };
    let message = if edits.is_empty() {
        message
    } else {
        format!("{message} after editing {}", edits.keys().cloned().collect::<Vec<_>>().join(", "))
    };
    let outcome = record_resume(&mut tx, actor, &target, &why, 1, &message).await?;
    adapters::postgres::outbox::enqueue_as(&mut tx, &format!("resume:{}", outcome.audit_id), &job).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// A run going again with `input`; its dead letters resolved as retried.
async fn rerun(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    key: &str,
    input: &Value,
    actor: &Actor,
    why: &str,
) -> Result<(), sqlx::Error> {
    runs::rerun(tx, id, input).await?;
    sqlx::query(
        "update dead_letters set status = 'retried', resolved_at = now(), resolved_by = $2, resolution = $3
          where job_key = $1 and status = 'dead'",
    )
    .bind(key)
    .bind(&actor.name)
    .bind(format!("workflow resumed: {why}"))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn record_resume(
    tx: &mut Transaction<'_, Postgres>,
    actor: &Actor,
    target: &Value,
    why: &str,
    affected: u64,
    result: &str,
) -> Result<Outcome, sqlx::Error> {
    let entry = Entry {
        actor,
        action: "workflows.resume",
        target: target.clone(),
        reason: why,
        dry_run: false,
        affected,
        result,
    };
    audit::outcome(&mut **tx, &entry).await
}

/// Puts a failed text back to `intended` and returns its job; `None` when it has nothing to
/// resume (sent, or never failed).
async fn resume_text(
    tx: &mut Transaction<'_, Postgres>,
    ledger_key: &str,
    call_sid: Option<&str>,
    business: Option<Uuid>,
    edits: &BTreeMap<String, String>,
) -> Result<Option<(Job, String)>, AdminError> {
    if let Some(field) = edits.keys().find(|k| k.as_str() != "phone") {
        return Err(AdminError::Invalid(format!("a text message's {field} cannot be edited; only phone")));
    }
    let phone = edits
        .get("phone")
        .map(|raw| E164::parse(raw).map_err(|e| AdminError::Invalid(format!("phone {raw:?}: {e}"))))
        .transpose()?;
    let row: Option<(String, Option<String>, Uuid)> =
        sqlx::query_as("select status, call_sid, business_id from sms_messages where ledger_key = $1 for update")
            .bind(ledger_key)
            .fetch_optional(&mut **tx)
            .await?;
    let Some((status, text_call, text_business)) = row else {
        return Err(AdminError::NotFound(format!("no text message {ledger_key}")));
    };
    match status.as_str() {
        "failed" | "undelivered" | "intended" => {}
        "opted_out" => {
            return Err(AdminError::Conflict("the caller has opted out of texts (STOP): it will not be sent".into()));
        }
        "submitting" => {
            return Err(AdminError::Conflict(
                "the text may have reached Twilio: its worker reconciles it first; try again later".into(),
            ));
        }
        _ => return Ok(None),
    }
    sqlx::query(
        "update sms_messages
            set status = 'intended', error_code = null, error_message = null, twilio_sid = null,
                to_phone = coalesce($2, to_phone), updated_at = now()
          where ledger_key = $1",
    )
    .bind(ledger_key)
    .bind(phone.as_ref().map(E164::as_str))
    .execute(&mut **tx)
    .await?;
    runs::retry_unless_running(tx, ledger_key).await?;
    let call = text_call.as_deref().or(call_sid).unwrap_or_default();
    let call_sid = CallSid::parse(call)
        .map_err(|e| AdminError::Conflict(format!("the text's call {call:?} is not a CallSid: {e}")))?;
    let job = Job::SendSmsV1(SendSms {
        idempotency_key: ledger_key.to_owned(),
        call_sid,
        business_id: BusinessId::from_uuid(business.unwrap_or(text_business)),
        requested_at: Utc::now(),
    });
    Ok(Some((job, "resumed from its text message".to_owned())))
}

/// Cancels a run that has not completed: the worker leaves it alone from then on, and its dead
/// letters are discarded. Cancelling a cancelled run changes nothing.
pub async fn cancel(pool: &PgPool, actor: &Actor, id: Uuid, why: &str) -> Result<Outcome, AdminError> {
    actor.require_operator()?;
    let why = super::reason(why)?;
    let mut tx = pool.begin().await?;
    let run = lock_run(&mut tx, id).await?;
    let affected = match run.status {
        RunStatus::Cancelled => 0,
        RunStatus::Completed => {
            return Err(AdminError::Conflict(format!(
                "run {id} completed: cancel what it made instead (bella admin appointments cancel)"
            )));
        }
        _ => {
            runs::cancel(&mut tx, id, &format!("cancelled by {}: {why}", actor.name)).await?;
            sqlx::query(
                "update dead_letters set status = 'discarded', resolved_at = now(), resolved_by = $2, resolution = $3
                  where job_key = $1 and status = 'dead'",
            )
            .bind(&run.key)
            .bind(&actor.name)
            .bind(format!("workflow cancelled: {why}"))
            .execute(&mut *tx)
            .await?;
            1
        }
    };
    let result = if affected == 1 { format!("cancelled (was {})", run.status) } else { "already cancelled".into() };
    let entry = Entry {
        actor,
        action: "workflows.cancel",
        target: json!({ "workflow_run_id": id, "kind": run.kind }),
        reason: &why,
        dry_run: false,
        affected,
        result: &result,
    };
    let outcome = audit::outcome(&mut *tx, &entry).await?;
    tx.commit().await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: &str, status: &str) -> RunRow {
        RunRow {
            kind: JobKind::from_name(kind).unwrap(),
            key: format!("{kind}:CA1#1"),
            status: status.parse().unwrap(),
            input: json!({}),
            call_sid: Some("CA1".into()),
            business: None,
        }
    }

    fn edits(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_run_that_is_going_is_left_alone_and_not_edited() {
        let id = Uuid::nil();
        let plan = plan(id, &run("book_appointment", "retrying"), None, &edits(&[])).unwrap();
        assert!(matches!(plan, Plan::Unchanged("already running: nothing to resume")), "{plan:?}");
        let refused = plan_error(plan_for("running", &[("name", "Ann")]));
        assert!(refused.contains("wait for it to end"), "{refused}");
    }

    #[test]
    fn a_failed_text_step_takes_only_a_new_phone_number() {
        let step = Some(("sms_confirmation".to_owned(), Some(json!({ "ledger_key": "sms:CA1" }))));
        let run = run("book_appointment", "failed");
        let refused = plan(Uuid::nil(), &run, step.clone(), &edits(&[("name", "Ann")])).unwrap_err().to_string();
        assert!(refused.contains("only the phone number"), "{refused}");
        let planned = plan(Uuid::nil(), &run, step, &edits(&[("phone", "+14165550100")])).unwrap();
        assert!(
            matches!(&planned, Plan::Text { ledger_key, step: Some(step) } if ledger_key == "sms:CA1" && step == "sms_confirmation"),
            "{planned:?}"
        );
    }

    #[test]
    fn a_completed_run_has_nothing_to_resume() {
        let plan = plan(Uuid::nil(), &run("book_appointment", "completed"), None, &edits(&[])).unwrap();
        assert!(matches!(plan, Plan::Unchanged("nothing failed: nothing to resume")), "{plan:?}");
    }

    fn plan_for(status: &str, pairs: &[(&str, &str)]) -> Result<Plan, AdminError> {
        plan(Uuid::nil(), &run("book_appointment", status), None, &edits(pairs))
    }

    fn plan_error(result: Result<Plan, AdminError>) -> String {
        result.unwrap_err().to_string()
    }
}
