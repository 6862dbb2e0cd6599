//! The conversation: a state machine driven by the caller's turns.
//!
//! [`handle`] takes the call's [`Session`], one [`Event`] (the call started, the caller spoke or
//! keyed something, a job settled, a lookup answered) and a [`Context`] (the business, the
//! reference instant and the bookings already taken), updates the session and returns a
//! [`Reply`]: what to say, what to listen for next, and any [`Effect`] the api must carry out
//! (publish a job, look up the caller's bookings). It performs no I/O: the api performs the
//! effect and comes back with its result as another event, so every path of a call can be
//! unit-tested in microseconds.

mod machine;
pub mod prompts;
mod work;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::PersonName;
use crate::ids::{AppointmentRef, BusinessId, CallSid, Language};
use crate::jobs::{JobOutcome, RepairField};
use crate::phone::E164;
use crate::schedule::{BusinessProfile, Slot};

pub use machine::handle;
pub use work::Work;

/// Silences in a row before Bella says goodbye.
pub const MAX_SILENCES: u8 = 3;
/// Misunderstood answers in a row before Bella hands over to a person (or says goodbye).
pub const MAX_MISSES: u8 = 3;
/// Turns in one call before Bella ends it, whatever happens: no loop is unbounded.
pub const MAX_TURNS: u32 = 60;
/// Times the api may come back for a job result before telling the caller it is pending.
pub const MAX_JOB_WAITS: u8 = 3;
/// Jobs in one call (after a slot was taken, or the broker was unreachable).
pub const MAX_JOB_ATTEMPTS: u32 = 4;
/// Spoken attempts at a phone number before Bella asks for the keypad.
pub const SPOKEN_PHONE_ATTEMPTS: u8 = 1;
/// Misunderstood answers in a row after which Bella asks a language model (when one is
/// configured) what the caller meant, before asking again.
pub const MISSES_BEFORE_REPAIR: u8 = 2;
/// Utterances kept for a repair: the answers the rules could not use, latest last.
pub const MISHEARD_KEPT: usize = 2;
/// Times the caller may reject the name before Bella asks them to spell it.
pub const NAME_REJECTIONS_BEFORE_SPELLING: u8 = 2;
/// Answers to "May I have your name?" not understood before Bella asks for it spelled; a spelling
/// not understood either is taken as heard, for a person to check (or the call is transferred).
pub const NAME_MISSES_BEFORE_SPELLING: u8 = 2;

/// An appointment the caller already has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Existing {
    pub id: Uuid,
    pub reference: AppointmentRef,
    pub slot: Slot,
    pub name: PersonName,
}

/// What Bella knows about the caller from earlier calls to this business.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallerHistory {
    /// The name of their latest booking.
    pub name: Option<PersonName>,
    /// Their upcoming appointments, soonest first.
    pub upcoming: Vec<Existing>,
}

/// What the caller came to do.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "task")]
pub enum Task {
    #[default]
    Book,
    /// Move an appointment; `target` is `None` until Bella knows which.
    Reschedule {
        target: Option<Existing>,
    },
    Cancel {
        target: Option<Existing>,
    },
}

/// Everything Bella remembers about a call between two turns. Stored in Redis by the api.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub call_sid: CallSid,
    pub business_id: BusinessId,
    pub language: Language,
    /// The caller ID, when Twilio gave a valid number.
    pub caller_id: Option<E164>,
    /// Replies given so far; each Gather action carries it, so a late or repeated webhook is
    /// recognised.
    pub turn: u32,
    pub stage: Stage,
    pub task: Task,
    pub draft: Draft,
    pub history: CallerHistory,
    pub silences: u8,
    pub misses: u8,
    /// Spoken phone numbers that could not be used; then the keypad.
    pub phone_attempts: u8,
    /// Times the caller said the name was wrong; then spelling.
    pub name_rejections: u8,
    /// Jobs published in this call (each has its own idempotency key).
    pub job_attempts: u32,
    pub job_waits: u8,
    /// The latest answers the rules could not use, for an LLM repair.
    #[serde(default)]
    pub misheard: Vec<String>,
    /// Whether the caller was told, in their language, that the line does not serve it.
    #[serde(default)]
    pub told_unserved_language: bool,
    /// The latest answer at the name prompt that was not understood, as heard.
    #[serde(default)]
    pub name_heard: Option<PersonName>,
    pub started_at: DateTime<Utc>,
}

impl Session {
    /// A new call. A returning caller's name and number are taken as known: Bella greets them by
    /// name and does not ask again (the read-back still shows both).
    pub fn new(
        call_sid: CallSid,
        business: &BusinessProfile,
        caller_id: Option<E164>,
        history: CallerHistory,
        now: DateTime<Utc>,
    ) -> Self {
        let mut draft = Draft::default();
        if let Some(name) = &history.name {
            draft.name = Some(name.clone());
            draft.phone = caller_id.clone().filter(|n| n.callback_problem().is_none());
        }
        Self {
            call_sid,
            business_id: business.id,
            language: business.languages.first().copied().unwrap_or_default(),
            caller_id,
            turn: 0,
            stage: Stage::Greeting,
            task: Task::Book,
            draft,
            history,
            silences: 0,
            misses: 0,
            phone_attempts: 0,
            name_rejections: 0,
            job_attempts: 0,
            job_waits: 0,
            misheard: Vec::new(),
            name_heard: None,
            told_unserved_language: false,
            started_at: now,
        }
    }

    pub fn is_over(&self) -> bool {
        self.stage == Stage::Ended
    }
}

/// Where the conversation stands: what Bella last asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "stage")]
pub enum Stage {
    /// Greeted the caller (or answered a question) and asked how to help.
    Greeting,
    /// Asked for one field.
    Asking {
        field: Field,
    },
    /// Asked whether the caller ID can be the callback number.
    ConfirmCallerId,
    /// Offered alternative times.
    Offering {
        options: Vec<Slot>,
    },
    /// Read everything back and asked "shall I book it?" (or "shall I move it?").
    ReadBack,
    /// The caller said no to the read-back: asked what to change.
    WhatToChange,
    /// Asked which of the caller's appointments they mean.
    ChooseExisting {
        options: Vec<Existing>,
    },
    /// Asked "shall I cancel it?".
    ConfirmCancel,
    /// No appointment was found: asked whether to book a new one.
    OfferNewBooking,
    /// Published a job and waiting for the worker's result.
    Waiting {
        key: String,
    },
    /// Asked a language model what the caller meant by their answer to `field`; its result is
    /// awaited until `until`, then the question is asked again.
    Repairing {
        field: Field,
        key: String,
        until: DateTime<Utc>,
    },
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    /// The name, letter by letter.
    SpelledName,
    Time,
    Phone,
    /// The number an existing booking was made with.
    LookupPhone,
}

/// The appointment as it is being put together.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Draft {
    pub name: Option<PersonName>,
    /// The name as Bella heard it, taken when it could not be understood even spelled: booked
    /// marked for a person to check. `name`, once understood, wins.
    #[serde(default)]
    pub name_as_heard: Option<PersonName>,
    pub slot: Option<Slot>,
    /// A day given without a time ("Tuesday").
    pub day: Option<NaiveDate>,
    /// A time given without a day ("at three"), in local time.
    pub time: Option<NaiveTime>,
    pub phone: Option<E164>,
    pub caller_id_declined: bool,
    /// Slots this call was told are taken, never offered again.
    pub taken: Vec<Slot>,
}

/// What happened since the last reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    CallStarted,
    /// The caller's answer; both empty means silence.
    Heard {
        speech: &'a str,
        digits: &'a str,
    },
    /// The worker's result for the job this call published.
    JobSettled(JobOutcome),
    /// The api waited its bounded time and the worker has not answered yet.
    JobPending,
    /// The result of [`Effect::LookUp`]: the upcoming appointments booked with that number.
    Found(Vec<Existing>),
}

/// What the machine needs to know about the world.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub business: &'a BusinessProfile,
    pub now: DateTime<Utc>,
    /// Appointments already booked around the times being discussed.
    pub busy: &'a Calendar<'a>,
    /// Whether a language model can be asked to repair misheard answers.
    pub repair: bool,
}

/// The appointments already booked, as a turn sees them, and whether the turn looked at them.
///
/// Most turns (a greeting, a name, a yes) never look at the calendar, and reading it is the
/// costliest part of a turn. Since [`handle`] is pure, the api can run a turn against an
/// unloaded calendar first and, only when the turn [consulted](Calendar::was_consulted) it, load
/// the calendar and run the turn again from the same session: the second run is the real one.
#[derive(Debug, Default)]
pub struct Calendar<'a> {
    slots: &'a [Slot],
    consulted: std::cell::Cell<bool>,
}

impl<'a> Calendar<'a> {
    pub fn new(slots: &'a [Slot]) -> Self {
        Self { slots, consulted: std::cell::Cell::new(false) }
    }

    /// The booked slots; the turn is recorded as having consulted them.
    pub fn slots(&self) -> &'a [Slot] {
        self.consulted.set(true);
        self.slots
    }

    pub fn was_consulted(&self) -> bool {
        self.consulted.get()
    }
}

/// Bella's answer to one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// Sentences to speak, in order.
    pub say: Vec<String>,
    pub next: Next,
    /// Something the api must do before answering; it then calls [`handle`] with the result.
    pub effect: Option<Effect>,
    /// The language to speak and listen in (it may have just changed).
    pub language: Language,
    /// A sentence in another language, spoken first in that language's voice: a French caller of
    /// an English-only line is told so in French.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aside: Option<Aside>,
}

/// One sentence in a language other than the call's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aside {
    pub language: Language,
    pub text: String,
}

/// What the call does after speaking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "next")]
pub enum Next {
    /// Listen for the caller's answer.
    Listen {
        expect: Expect,
    },
    /// Come back shortly for a job's result.
    AwaitJob,
    /// Transfer the call to a person.
    Transfer {
        to: E164,
    },
    Hangup,
}

/// What kind of answer Bella is listening for, so the api can tune the recogniser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Open,
    Name,
    Spelling,
    Time,
    Phone,
    /// A phone number on the keypad.
    PhoneKeypad,
    YesNo,
    Choice,
}

/// An effect for the api.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "effect")]
pub enum Effect {
    /// Publish a booking job and wait briefly for its result.
    Book(BookingRequest),
    /// Publish a rescheduling job and wait briefly for its result.
    Reschedule { idempotency_key: String, appointment_id: Uuid, slot: Slot },
    /// Publish a cancelling job and wait briefly for its result.
    Cancel { idempotency_key: String, appointment_id: Uuid },
    /// Find the upcoming appointments booked with this number, then send [`Event::Found`].
    LookUp { phone: E164 },
    /// Publish an LLM repair job, and answer with the hold and a redirect that waits for it
    /// ([`Event::JobSettled`] with [`JobOutcome::Repaired`], or [`Event::JobPending`]).
    Repair(RepairRequest),
}

/// A misheard answer to repair: the api turns it into a [`crate::jobs::RepairAnswer`] job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairRequest {
    pub idempotency_key: String,
    pub field: RepairField,
    pub heard: Vec<String>,
    pub language: Language,
}

/// A booking to publish: the api turns it into a [`crate::jobs::BookAppointment`] job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingRequest {
    pub idempotency_key: String,
    pub attempt: u32,
    pub name: PersonName,
    /// The name is as heard, not understood: a person checks it.
    pub name_to_check: bool,
    pub phone: E164,
    pub slot: Slot,
    pub language: Language,
}

#[cfg(test)]
mod tests;
