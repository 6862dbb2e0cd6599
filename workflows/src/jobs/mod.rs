//! The messages the api hands to the worker, and what comes back.
//!
//! Every job is idempotent by construction: it carries an idempotency key derived from the
//! CallSid and the intent, and the worker checks that key in the same PostgreSQL transaction as
//! the job's effect (see the worker crate). Payloads are serde-tagged with a version, so a
//! message written by an older release still decodes after a deploy.

pub mod keys;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::PersonName;
use crate::ids::{AppointmentRef, BusinessId, CallSid, Language};
use crate::phone::E164;

/// The kinds of job, each with its own queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    BookAppointment,
    RescheduleAppointment,
    CancelAppointment,
    SendSms,
    RepairAnswer,
}

impl JobKind {
    /// Every kind, in one list: topology and consumers are declared from it.
    pub const ALL: [JobKind; 5] = [
        JobKind::BookAppointment,
        JobKind::RescheduleAppointment,
        JobKind::CancelAppointment,
        JobKind::SendSms,
        JobKind::RepairAnswer,
    ];

    /// The kind's name: its routing key and the suffix of its queues.
    pub const fn name(self) -> &'static str {
        match self {
            Self::BookAppointment => "book_appointment",
            Self::RescheduleAppointment => "reschedule_appointment",
            Self::CancelAppointment => "cancel_appointment",
            Self::SendSms => "send_sms",
            Self::RepairAnswer => "repair_answer",
        }
    }

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// A text that names no job kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown job kind {0:?}: book_appointment, reschedule_appointment, cancel_appointment, send_sms or repair_answer"
)]
pub struct UnknownKind(pub String);

impl TryFrom<String> for JobKind {
    type Error = UnknownKind;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        Self::from_name(&name).ok_or(UnknownKind(name))
    }
}

/// How a kind of job is retried when it fails with a retryable error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Runs in all, the first included, before the job goes to the dead letters.
    pub max_attempts: u32,
    /// The delay before the second run; it doubles for each further run.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The delay after failed run number `attempt` (1 for the first run), before jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Whether another run is allowed after failed run number `attempt`.
    pub fn allows_another(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }
}

/// Everything the system knows about a kind of job, declared in one place ([`JobKind::spec`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSpec {
    pub kind: JobKind,
    /// The payload version written by this release (`book_appointment.v1`); older versions
    /// still decode.
    pub version: u32,
    pub retry: RetryPolicy,
    /// How long after it was requested the job is still worth doing; past it, the job goes to
    /// the dead letters instead of running (an LLM repair is useless once the caller has moved
    /// on). `None`: no deadline.
    pub deadline: Option<Duration>,
    /// What happens to a job found past its deadline.
    pub when_late: WhenLate,
    /// RabbitMQ priority, 0 to 9 (higher first).
    pub priority: u8,
}

/// What happens to a job found past its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenLate {
    /// To the dead letters with the reason: somebody should know it never ran (a text message).
    DeadLetter,
    /// Dropped, its run recorded as `expired`: nobody needs it any more (a repair the caller
    /// stopped waiting for, who was simply asked again).
    Expire,
}

impl JobKind {
    /// The spec of this kind: queue, version, retry policy, deadline.
    pub const fn spec(self) -> JobSpec {
        const SECOND: Duration = Duration::from_secs(1);
        match self {
            // A booking must not wait long: a few quick retries, then the dead letters, where an
            // operator can resume it.
            Self::BookAppointment | Self::RescheduleAppointment | Self::CancelAppointment => JobSpec {
                kind: self,
                version: 1,
                retry: RetryPolicy { max_attempts: 6, base_delay: SECOND, max_delay: Duration::from_secs(10 * 60) },
                deadline: None,
                when_late: WhenLate::DeadLetter,
                priority: 5,
            },
            // A text can wait: patient retries (Twilio outages, rate limits) over about a day.
            Self::SendSms => JobSpec {
                kind: self,
                version: 1,
                retry: RetryPolicy {
                    max_attempts: 12,
                    base_delay: Duration::from_secs(5),
                    max_delay: Duration::from_secs(3600),
                },
                deadline: Some(Duration::from_secs(24 * 3600)),
                when_late: WhenLate::DeadLetter,
                priority: 3,
            },
            // A repair is worth something only while the caller holds: one run, first in line,
            // and dropped once the caller has been asked again.
            Self::RepairAnswer => JobSpec {
                kind: self,
                version: 1,
                retry: RetryPolicy { max_attempts: 1, base_delay: SECOND, max_delay: SECOND },
                deadline: Some(REPAIR_DEADLINE),
                when_late: WhenLate::Expire,
                priority: 9,
            },
        }
    }
}

/// How long after the caller's answer an LLM repair is still useful. The caller hears "one
/// moment" and then silence while it runs, so it must be short.
pub const REPAIR_DEADLINE: Duration = Duration::from_secs(5);

/// The delays of the retry queues: a failed job waits in the first tier at least as long as its
/// delay, then goes back to its work queue. Tiers keep long waits from blocking short ones.
pub const RETRY_TIERS: [Duration; 6] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(60 * 60),
];

/// The retry tier for a delay: the shortest that is at least as long, else the longest.
pub fn retry_tier(delay: Duration) -> Duration {
    RETRY_TIERS.iter().copied().find(|t| *t >= delay).unwrap_or(RETRY_TIERS[RETRY_TIERS.len() - 1])
}

/// A tier's name in queue names and routing keys: `1s`, `30s`, `2m`, `1h`.
pub fn tier_label(tier: Duration) -> String {
    let secs = tier.as_secs();
    match secs {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// A job, as published to RabbitMQ (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Job {
    #[serde(rename = "book_appointment.v1")]
    BookAppointmentV1(BookAppointment),
    #[serde(rename = "reschedule_appointment.v1")]
    RescheduleAppointmentV1(RescheduleAppointment),
    #[serde(rename = "cancel_appointment.v1")]
    CancelAppointmentV1(CancelAppointment),
    #[serde(rename = "send_sms.v1")]
    SendSmsV1(SendSms),
    #[serde(rename = "repair_answer.v1")]
    RepairAnswerV1(RepairAnswer),
}

impl Job {
    pub fn kind(&self) -> JobKind {
        match self {
            Self::BookAppointmentV1(_) => JobKind::BookAppointment,
            Self::RescheduleAppointmentV1(_) => JobKind::RescheduleAppointment,
            Self::CancelAppointmentV1(_) => JobKind::CancelAppointment,
            Self::SendSmsV1(_) => JobKind::SendSms,
            Self::RepairAnswerV1(_) => JobKind::RepairAnswer,
        }
    }

    pub fn idempotency_key(&self) -> &str {
        match self {
            Self::BookAppointmentV1(job) => &job.idempotency_key,
            Self::RescheduleAppointmentV1(job) => &job.idempotency_key,
            Self::CancelAppointmentV1(job) => &job.idempotency_key,
            Self::SendSmsV1(job) => &job.idempotency_key,
            Self::RepairAnswerV1(job) => &job.idempotency_key,
        }
    }

    /// Marks the job as published after the call: the caller is no longer on the line.
    pub fn defer(&mut self) {
        match self {
            Self::BookAppointmentV1(job) => job.deferred = true,
            Self::RescheduleAppointmentV1(job) => job.deferred = true,
            Self::CancelAppointmentV1(job) => job.deferred = true,
            Self::SendSmsV1(_) | Self::RepairAnswerV1(_) => {}
        }
    }

    pub fn call_sid(&self) -> &CallSid {
        match self {
            Self::BookAppointmentV1(job) => &job.call_sid,
            Self::RescheduleAppointmentV1(job) => &job.call_sid,
            Self::CancelAppointmentV1(job) => &job.call_sid,
            Self::SendSmsV1(job) => &job.call_sid,
            Self::RepairAnswerV1(job) => &job.call_sid,
        }
    }

    pub fn business_id(&self) -> BusinessId {
        match self {
            Self::BookAppointmentV1(job) => job.business_id,
            Self::RescheduleAppointmentV1(job) => job.business_id,
            Self::CancelAppointmentV1(job) => job.business_id,
            Self::SendSmsV1(job) => job.business_id,
            Self::RepairAnswerV1(job) => job.business_id,
        }
    }

    pub fn requested_at(&self) -> DateTime<Utc> {
        match self {
            Self::BookAppointmentV1(job) => job.requested_at,
            Self::RescheduleAppointmentV1(job) => job.requested_at,
            Self::CancelAppointmentV1(job) => job.requested_at,
            Self::SendSmsV1(job) => job.requested_at,
            Self::RepairAnswerV1(job) => job.requested_at,
        }
    }
}

/// Send the text message recorded in the SMS ledger under `idempotency_key`. Twilio's create
/// call is not idempotent, so the ledger is: a message is created at most once, and an
/// ambiguous failure is reconciled by looking the message up, never by sending again blindly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendSms {
    /// The ledger key: `{kind}:{key of the job that made the change}`.
    pub idempotency_key: String,
    pub call_sid: CallSid,
    pub business_id: BusinessId,
    pub requested_at: DateTime<Utc>,
}

/// Ask a language model what the caller meant, after the rules failed to understand an answer
/// twice. The model's answer is only a candidate: the dialogue re-validates it with the same
/// rules. Idempotent by its key (`repair:{CallSid}#{turn}`); asking twice would change nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairAnswer {
    pub idempotency_key: String,
    pub call_sid: CallSid,
    pub business_id: BusinessId,
    /// What Bella asked for.
    pub field: RepairField,
    pub language: Language,
    /// What the recogniser heard, oldest first (the answers the rules could not use).
    pub heard: Vec<String>,
    /// The business's date today, for the model's context.
    pub today: NaiveDate,
    pub requested_at: DateTime<Utc>,
}

/// The answers an LLM may repair. Phone numbers are not among them: a model that guesses digits
/// invents numbers (the system we replace added area codes); the keypad repairs those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairField {
    Name,
    Time,
}

/// Move an existing appointment to another time in one transaction, so that the old time is
/// freed only when the new one is booked. Idempotent by the workflow run's key
/// (`reschedule:{CallSid}#{n}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RescheduleAppointment {
    pub idempotency_key: String,
    pub call_sid: CallSid,
    pub business_id: BusinessId,
    pub appointment_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub requested_at: DateTime<Utc>,
    /// Published after the call ended (through the outbox): the caller is not waiting on the
    /// line, so a failure is told by text message.
    #[serde(default)]
    pub deferred: bool,
}

/// Cancel an existing appointment. Idempotent by the workflow run's key (`cancel:{CallSid}#{n}`)
/// and by the change itself: cancelling a cancelled appointment changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelAppointment {
    pub idempotency_key: String,
    pub call_sid: CallSid,
    pub business_id: BusinessId,
    pub appointment_id: Uuid,
    pub requested_at: DateTime<Utc>,
    /// Published after the call ended (through the outbox): the caller is not waiting on the
    /// line, so a failure is told by text message.
    #[serde(default)]
    pub deferred: bool,
}

/// Book one appointment for a call.
///
/// Idempotent twice over: the workflow run is unique by `idempotency_key` (one per attempt in the
/// call), and the appointment is unique by [`BookAppointment::booking_key`] (one per call), so
/// neither a redelivered message nor a retried webhook can book twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookAppointment {
    pub idempotency_key: String,
    pub call_sid: CallSid,
    /// 1 for the caller's first "yes"; higher after a slot was taken and another was chosen.
    pub attempt: u32,
    pub business_id: BusinessId,
    pub name: PersonName,
    /// The name is as Bella heard it, not understood even spelled: the appointment is marked for
    /// a person to check it.
    #[serde(default)]
    pub name_to_check: bool,
    pub phone: E164,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub language: Language,
    pub requested_at: DateTime<Utc>,
    /// Published after the call ended (through the outbox): the caller is not waiting on the
    /// line, so a failure is told by text message.
    #[serde(default)]
    pub deferred: bool,
}

/// What became of a job the caller waits for, as the api tells the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum JobOutcome {
    Booked {
        reference: AppointmentRef,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
    /// The appointment now starts at `starts_at`; its old time is free.
    Rescheduled {
        reference: AppointmentRef,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
    Cancelled {
        reference: AppointmentRef,
    },
    /// The appointment to change is no longer booked.
    NotFound,
    /// Another booking holds the slot on every resource.
    SlotTaken,
    /// The job can never succeed (for example, the business was deleted).
    Rejected {
        reason: String,
    },
    /// The job could not be handed to the broker: nothing was booked.
    NotSubmitted,
    /// The broker could not confirm the job, so it was saved in the outbox: it will run when the
    /// broker is back, and the caller will get a text message.
    Queued,
    /// What the language model made of a misheard answer (`None`: it could not tell, or no
    /// model is configured, or it was too slow).
    Repaired {
        value: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_registered() {
        // The match is exhaustive: a new kind fails to compile here until it is listed below,
        // and the assertion fails until it is in `ALL`.
        for kind in [
            JobKind::BookAppointment,
            JobKind::RescheduleAppointment,
            JobKind::CancelAppointment,
            JobKind::SendSms,
            JobKind::RepairAnswer,
        ] {
            match kind {
                JobKind::BookAppointment
                | JobKind::RescheduleAppointment
                | JobKind::CancelAppointment
                | JobKind::SendSms
                | JobKind::RepairAnswer => {
                    assert!(JobKind::ALL.contains(&kind), "{kind:?} is missing from JobKind::ALL");
                    assert_eq!(kind.spec().kind, kind);
                }
            }
        }
    }

    #[test]
    fn retry_delays_double_up_to_a_ceiling() {
        let policy = JobKind::BookAppointment.spec().retry;
        assert_eq!(policy.delay(1), Duration::from_secs(1));
        assert_eq!(policy.delay(3), Duration::from_secs(4));
        assert_eq!(policy.delay(40), Duration::from_secs(600));
        assert!(policy.allows_another(5));
        assert!(!policy.allows_another(6));
        assert_eq!(retry_tier(Duration::from_secs(4)), Duration::from_secs(5));
        assert_eq!(retry_tier(Duration::from_secs(7200)), Duration::from_secs(3600));
        assert_eq!(tier_label(Duration::from_secs(120)), "2m");
        assert_eq!(tier_label(Duration::from_secs(30)), "30s");
    }

    #[test]
    fn jobs_are_tagged_with_their_version() {
        let sid = CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap();
        let job = Job::BookAppointmentV1(BookAppointment {
            idempotency_key: keys::book(&sid, 1),
            call_sid: sid.clone(),
            attempt: 1,
            business_id: BusinessId::from_uuid(Uuid::nil()),
            name: PersonName::parse("Marie Tremblay").unwrap(),
            name_to_check: false,
            phone: E164::parse("+14165550123").unwrap(),
            starts_at: DateTime::UNIX_EPOCH,
            ends_at: DateTime::UNIX_EPOCH,
            language: Language::Fr,
            requested_at: DateTime::UNIX_EPOCH,
            deferred: false,
        });
        let json = serde_json::to_value(&job).unwrap();
        assert_eq!(json["type"], "book_appointment.v1");
        assert_eq!(json["phone"], "+14165550123");
        assert_eq!(json["idempotency_key"], "book:CA0123456789abcdef0123456789abcdef#1");
        let back: Job = serde_json::from_value(json).unwrap();
        assert_eq!(back, job);
        assert_eq!(back.kind().name(), "book_appointment");
    }
}
