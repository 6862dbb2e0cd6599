//! Appointments and calls: show and cancel an appointment, the recent calls, and a call's timeline.

use adapters::postgres::runs::control as runs;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;
use workflows::jobs::keys;
use workflows::jobs::{CancelAppointment, Job};
use workflows::{BusinessId, CallSid};

use super::audit::{self, Entry};
use super::dead_letters::masked;
use super::{Actor, AdminError, Outcome, mask_phone_numbers};

/// A call seen lately: its last turn and how many turns it had.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecentCall {
    pub call_sid: String,
    pub last_turn_at: DateTime<Utc>,
    pub turns: i64,
}

/// The calls with the latest turns, newest first.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<RecentCall>, AdminError> {
    let rows: Vec<(String, DateTime<Utc>, i64)> = sqlx::query_as(
        "select call_sid, max(at) as last, count(*) from call_turns
          group by call_sid order by last desc limit $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(call_sid, last_turn_at, turns)| RecentCall { call_sid, last_turn_at, turns }).collect())
}

/// An appointment with what happened to it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppointmentDetail {
    pub appointment: Value,
    /// Its text messages, numbers masked.
    pub texts: Vec<Value>,
    /// The runs that made, moved or cancelled it.
    pub runs: Vec<super::workflows::RunSummary>,
}

/// Finds an appointment by id or by the reference the caller quotes.
async fn find(pool: &PgPool, id_or_reference: &str) -> Result<(Uuid, Option<String>, Uuid, String), AdminError> {
    let id = id_or_reference.parse::<Uuid>().ok();
    let row: Option<(Uuid, Option<String>, Uuid, String)> = sqlx::query_as(
        "select appointment_id, call_sid, business_id, status from appointments
          where appointment_id = $1 or reference = upper($2)",
    )
    .bind(id)
    .bind(id_or_reference.trim())
    .fetch_optional(pool)
    .await?;
    row.ok_or_else(|| AdminError::NotFound(format!("no appointment with id or reference {id_or_reference:?}")))
}

pub async fn appointment(pool: &PgPool, id_or_reference: &str) -> Result<AppointmentDetail, AdminError> {
    let (id, call_sid, ..) = find(pool, id_or_reference).await?;
    let appointment: Value = sqlx::query_scalar(
        "select json_build_object('id', a.appointment_id, 'reference', a.reference, 'call_sid', a.call_sid,
                'business', b.name, 'business_id', a.business_id, 'name', a.name, 'name_to_check', a.name_to_check,
                'phone', a.phone,
                'starts_at', a.starts_at, 'ends_at', a.ends_at, 'time_zone', b.time_zone, 'status', a.status,
                'language', a.language, 'created_at', a.created_at, 'updated_at', a.updated_at)
           from appointments a join businesses b using (business_id) where a.appointment_id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await?;
    let texts: Vec<Value> = sqlx::query_scalar(
        "select json_build_object('ledger_key', ledger_key, 'kind', kind, 'status', status, 'to', to_phone,
                'error_code', error_code, 'updated_at', updated_at)
           from sms_messages where appointment_id = $1 order by created_at",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let runs = match &call_sid {
        Some(call) => {
            let filter = super::workflows::Filter { call_sid: Some(call.clone()), ..Default::default() };
            super::workflows::list(pool, &filter, 100).await?
        }
        None => Vec::new(),
    };
    Ok(AppointmentDetail { appointment, texts: texts.iter().map(masked).collect(), runs })
}

/// The CallSid an operator's cancellation runs under: the appointment's own call, or, for an
/// appointment no call made, one derived from the appointment's id.
fn call_of(appointment: Uuid, call_sid: Option<&str>) -> Result<CallSid, AdminError> {
    match call_sid.and_then(|c| CallSid::parse(c).ok()) {
        Some(call) => Ok(call),
        None => CallSid::parse(&format!("CA{}", appointment.simple())).map_err(|e| AdminError::Other(e.into())),
    }
}

/// Cancels an appointment: a `cancel_appointment` job (through the outbox) frees the slot and
/// texts the caller, as when a caller cancels. Cancelling twice changes nothing.
pub async fn cancel_appointment(
    pool: &PgPool,
    actor: &Actor,
    id_or_reference: &str,
    why: &str,
) -> Result<Outcome, AdminError> {
    actor.require_operator()?;
    let why = super::reason(why)?;
    let (id, call_sid, business, status) = find(pool, id_or_reference).await?;
    let mut tx = pool.begin().await?;
    let key = keys::operator_cancel(id);
    let job = Job::CancelAppointmentV1(CancelAppointment {
        idempotency_key: key.clone(),
        call_sid: call_of(id, call_sid.as_deref())?,
        business_id: BusinessId::from_uuid(business),
        appointment_id: id,
        requested_at: Utc::now(),
        deferred: true,
    });
    let written = status == "booked" && adapters::postgres::outbox::enqueue(&mut tx, &job).await?;
    let (affected, result) = match (status.as_str(), written) {
        ("booked", true) => (1, "cancellation queued; the caller will get a text".to_owned()),
        ("booked", false) => (0, "cancellation already queued".to_owned()),
        _ => (0, format!("already {status}")),
    };
    let entry = Entry {
        actor,
        action: "appointments.cancel",
        target: json!({ "appointment_id": id, "call_sid": call_sid }),
        reason: &why,
        dry_run: false,
        affected,
        result: &result,
    };
    let outcome = audit::outcome(&mut *tx, &entry).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// One thing that happened during or after a call.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub at: DateTime<Utc>,
    /// `turn`, `job`, `appointment`, `text`, `dead_letter`, `operator`.
    pub source: String,
    /// One line for a person.
    pub summary: String,
    pub detail: Value,
}

/// What Bella said in a TwiML reply: the text of its `<Say>` elements.
pub fn spoken(twiml: &str) -> String {
    let mut said = Vec::new();
    let mut rest = twiml;
    while let Some(start) = rest.find("<Say") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</Say>") else { break };
        said.push(unescape(&body[..close]));
        rest = &body[close..];
    }
    said.join(" ")
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

#[derive(sqlx::FromRow)]
struct TurnRow {
    turn: i32,
    at: DateTime<Utc>,
    heard: Option<String>,
    digits: Option<String>,
    stage: String,
    reply: String,
}

#[derive(sqlx::FromRow)]
struct AppointmentRow {
    created_at: DateTime<Utc>,
    reference: String,
    status: String,
    starts_at: DateTime<Utc>,
    appointment_id: Uuid,
}

/// A call's timeline: its turns (what was heard and said), the jobs it started, what they made,
/// the texts sent and what operators did about it, in time order. Phone numbers are masked.
pub async fn timeline(pool: &PgPool, call_sid: &str) -> Result<Vec<Event>, AdminError> {
    let call = CallSid::parse(call_sid.trim()).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let call = call.as_str();
    let mut events = turn_events(pool, call).await?;
    events.extend(job_events(pool, call).await?);
    events.extend(appointment_events(pool, call).await?);
    events.extend(text_events(pool, call).await?);
    events.extend(dead_letter_events(pool, call).await?);
    events.extend(operator_events(pool, call).await?);
    if events.is_empty() {
        return Err(AdminError::NotFound(format!("nothing is recorded for call {call}")));
    }
    events.sort_by_key(|e| e.at);
    Ok(events)
}

/// Each turn: what was heard (or keyed) and what Bella said.
async fn turn_events(pool: &PgPool, call: &str) -> Result<Vec<Event>, AdminError> {
    let mut events = Vec::new();
    let turns: Vec<TurnRow> = sqlx::query_as(
        "select turn, at, heard, digits, stage, reply from call_turns where call_sid = $1 order by turn",
    )
    .bind(call)
    .fetch_all(pool)
    .await?;
    for TurnRow { turn, at, heard, digits, stage, reply } in turns {
        let heard = heard.filter(|h| !h.is_empty()).map(|h| mask_phone_numbers(&h));
        let digits = digits.filter(|d| !d.is_empty()).map(|d| mask_phone_numbers(&d));
        let said = mask_phone_numbers(&spoken(&reply));
        let summary = match (&heard, &digits) {
            (Some(h), _) => format!("turn {turn}: heard \u{201c}{h}\u{201d}"),
            (None, Some(d)) => format!("turn {turn}: keys {d}"),
            (None, None) => format!("turn {turn}"),
        };
        events.push(Event {
            at,
            source: "turn".into(),
            summary,
            detail: json!({ "turn": turn, "heard": heard, "digits": digits, "said": said, "stage": stage }),
        });
    }
    Ok(events)
}

/// The workflow runs of the call's jobs.
async fn job_events(pool: &PgPool, call: &str) -> Result<Vec<Event>, AdminError> {
    let mut events = Vec::new();
    let filter = super::workflows::Filter { call_sid: Some(call.to_owned()), ..Default::default() };
    for run in super::workflows::list(pool, &filter, 1_000).await? {
        let mut summary = format!("{} job {}", run.kind, run.status);
        if let Some(error) = &run.last_error {
            summary.push_str(&format!(": {}", mask_phone_numbers(error)));
        }
        events.push(Event { at: run.created_at, source: "job".into(), summary, detail: masked(&json!(run)) });
    }
    Ok(events)
}

/// The appointments the call made.
async fn appointment_events(pool: &PgPool, call: &str) -> Result<Vec<Event>, AdminError> {
    let mut events = Vec::new();
    let appointments: Vec<AppointmentRow> = sqlx::query_as(
        "select created_at, reference, status, starts_at, appointment_id from appointments where call_sid = $1",
    )
    .bind(call)
    .fetch_all(pool)
    .await?;
    for AppointmentRow { created_at: at, reference, status, starts_at, appointment_id: id } in appointments {
        events.push(Event {
            at,
            source: "appointment".into(),
            summary: format!("appointment {reference} ({status})"),
            detail: json!({ "appointment_id": id, "reference": reference, "status": status, "starts_at": starts_at }),
        });
    }
    Ok(events)
}

/// The texts sent about the call.
async fn text_events(pool: &PgPool, call: &str) -> Result<Vec<Event>, AdminError> {
    let mut events = Vec::new();
    let texts: Vec<(DateTime<Utc>, String, String, String)> = sqlx::query_as(
        "select created_at, kind, status, to_phone from sms_messages where call_sid = $1 order by created_at",
    )
    .bind(call)
    .fetch_all(pool)
    .await?;
    for (at, kind, status, to) in texts {
        let to = mask_phone_numbers(&to);
        events.push(Event {
            at,
            source: "text".into(),
            summary: format!("{kind} text to {to}: {status}"),
            detail: json!({ "kind": kind, "status": status, "to": to }),
        });
    }
    Ok(events)
}

/// Its jobs' dead letters.
async fn dead_letter_events(pool: &PgPool, call: &str) -> Result<Vec<Event>, AdminError> {
    let mut events = Vec::new();
    let filter = super::dead_letters::Filter {
        call_sid: Some(call.to_owned()),
        status: Some("any".into()),
        ..Default::default()
    };
    for letter in super::dead_letters::list(pool, &filter, 1_000).await? {
        events.push(Event {
            at: letter.dead_at,
            source: "dead_letter".into(),
            summary: format!("{} dead-lettered ({})", letter.kind, letter.status),
            detail: masked(&json!(letter)),
        });
    }
    Ok(events)
}

/// What operators did about the call, its runs or its dead letters.
async fn operator_events(pool: &PgPool, call: &str) -> Result<Vec<Event>, AdminError> {
    let mut events = Vec::new();
    let actions: Vec<(DateTime<Utc>, String, String, String, String)> = sqlx::query_as(
        "select at, actor, action, reason, result from audit_log
          where target->>'call_sid' = $1
             or target->'filter'->>'call_sid' = $1
             or (target->>'workflow_run_id')::uuid = any($2)
          order by audit_id",
    )
    .bind(call)
    .bind(runs::ids_of_call(pool, call).await?)
    .fetch_all(pool)
    .await?;
    for (at, actor, action, reason, result) in actions {
        events.push(Event {
            at,
            source: "operator".into(),
            summary: format!("{actor}: {action}: {result}"),
            detail: json!({ "actor": actor, "action": action, "reason": reason, "result": result }),
        });
    }
    Ok(events)
}
