//! Idempotency keys, one constructor per kind of job, and nowhere else. A key names one effect
//! asked for once: two deliveries of a job, or two webhooks of a turn, carry the same key and
//! make the effect once. PostgreSQL enforces it: `workflow_runs.idempotency_key` is unique (one
//! run per key), and so is `appointments.booking_key` (one appointment per call, whatever the
//! attempt), `sms_messages.ledger_key` (one text per change).

use std::fmt::Display;

use uuid::Uuid;

use crate::ids::CallSid;
use crate::sms::SmsKind;

/// The call's appointment: at most one per call, whatever the attempt.
pub fn booking(call: &CallSid) -> String {
    format!("book:{call}")
}

/// One booking attempt of a call (an attempt whose slot was taken is followed by another).
pub fn book(call: &CallSid, attempt: u32) -> String {
    format!("book:{call}#{attempt}")
}

/// One attempt of a call to move its appointment.
pub fn reschedule(call: &CallSid, attempt: u32) -> String {
    format!("reschedule:{call}#{attempt}")
}

/// One attempt of a call to cancel its appointment.
pub fn cancel(call: &CallSid, attempt: u32) -> String {
    format!("cancel:{call}#{attempt}")
}

/// An operator's cancellation of an appointment: once, however often it is asked.
pub fn operator_cancel(appointment: Uuid) -> String {
    format!("cancel:admin:{appointment}")
}

/// The repair of the answer heard at `turn` of a call.
pub fn repair(call: &CallSid, turn: u32) -> String {
    format!("repair:{call}#{turn}")
}

/// The text of `kind` that the job with key `job` sends: one per change.
pub fn text(kind: SmsKind, job: &impl Display) -> String {
    format!("{}:{job}", kind.as_str())
}
