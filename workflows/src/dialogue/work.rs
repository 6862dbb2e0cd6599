//! From the machine's words to the api's work: the job an [`Effect`] asks for, built here so that
//! the api only publishes it; a turn's reply joined with what was said after its effect; a stage's
//! name for logs and the call timeline; the end of a turn.

use chrono::{DateTime, Utc};

use super::{Effect, Field, Reply, Session, Stage};
use crate::jobs::{BookAppointment, CancelAppointment, Job, RepairAnswer, RescheduleAppointment};
use crate::phone::E164;
use crate::schedule::BusinessProfile;

/// What the api does to carry out an [`Effect`].
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// Look up the caller's upcoming appointments, then hand the machine [`super::Event::Found`].
    LookUp { phone: E164 },
    /// Publish the job and wait briefly for its result, then hand the machine
    /// [`super::Event::JobSettled`] (or [`super::Event::JobPending`]).
    Job(Job),
    /// Publish the repair and answer at once with the hold: the redirect waits for its result.
    Repair(Job),
}

impl Effect {
    /// The work this effect asks for, in `session`'s call to `business`, at `now`.
    pub fn work(self, session: &Session, business: &BusinessProfile, now: DateTime<Utc>) -> Work {
        let call_sid = session.call_sid.clone();
        let business_id = business.id;
        match self {
            Effect::LookUp { phone } => Work::LookUp { phone },
            Effect::Repair(request) => Work::Repair(Job::RepairAnswerV1(RepairAnswer {
                idempotency_key: request.idempotency_key,
                call_sid,
                business_id,
                field: request.field,
                language: request.language,
                heard: request.heard,
                today: business.today(now),
                requested_at: now,
            })),
            Effect::Book(request) => Work::Job(Job::BookAppointmentV1(BookAppointment {
                idempotency_key: request.idempotency_key,
                call_sid,
                attempt: request.attempt,
                business_id,
                name: request.name,
                name_to_check: request.name_to_check,
                phone: request.phone,
                starts_at: request.slot.starts_at,
                ends_at: request.slot.ends_at,
                language: request.language,
                requested_at: now,
                deferred: false,
            })),
            Effect::Reschedule { idempotency_key, appointment_id, slot } => {
                Work::Job(Job::RescheduleAppointmentV1(RescheduleAppointment {
                    idempotency_key,
                    call_sid,
                    business_id,
                    appointment_id,
                    starts_at: slot.starts_at,
                    ends_at: slot.ends_at,
                    requested_at: now,
                    deferred: false,
                }))
            }
            Effect::Cancel { idempotency_key, appointment_id } => {
                Work::Job(Job::CancelAppointmentV1(CancelAppointment {
                    idempotency_key,
                    call_sid,
                    business_id,
                    appointment_id,
                    requested_at: now,
                    deferred: false,
                }))
            }
        }
    }
}

impl Reply {
    /// This reply's words, then `follow`'s: what the machine said once this reply's effect was
    /// carried out. The call goes on as `follow` says.
    #[must_use]
    pub fn then(self, follow: Reply) -> Reply {
        Reply { say: [self.say, follow.say].concat(), aside: self.aside.or(follow.aside), ..follow }
    }
}

impl Session {
    /// Ends the turn being answered: the next webhook is the next turn. Returns the turn that
    /// ended (its answer is stored under that number, for replays).
    pub fn end_turn(&mut self) -> u32 {
        let ended = self.turn;
        self.turn = ended + 1;
        ended
    }
}

impl Stage {
    /// The stage's name, for logs, metrics and the call's timeline.
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Greeting => "greeting",
            Stage::Asking { field: Field::Name } => "asking_name",
            Stage::Asking { field: Field::SpelledName } => "asking_spelling",
            Stage::Asking { field: Field::Time } => "asking_time",
            Stage::Asking { field: Field::Phone } => "asking_phone",
            Stage::Asking { field: Field::LookupPhone } => "asking_lookup_phone",
            Stage::ConfirmCallerId => "confirm_caller_id",
            Stage::Offering { .. } => "offering",
            Stage::ReadBack => "read_back",
            Stage::WhatToChange => "what_to_change",
            Stage::ChooseExisting { .. } => "choose_existing",
            Stage::ConfirmCancel => "confirm_cancel",
            Stage::OfferNewBooking => "offer_new_booking",
            Stage::Waiting { .. } => "waiting",
            Stage::Repairing { .. } => "repairing",
            Stage::Ended => "ended",
        }
    }
}
