//! The end of a booking: the read-back (with any correction said in the same breath), the
//! explicit yes that publishes the job, and what Bella says when the job settles.

use super::Turn;
use super::collect::mentioned_field;
use super::slot::TimeOutcome;
use crate::dialogue::{
    BookingRequest, Effect, Existing, Expect, Field, MAX_JOB_ATTEMPTS, MAX_JOB_WAITS, Next, Reply, Stage, Task,
};
use crate::extract::{self, Answer};
use crate::jobs::JobOutcome;
use crate::jobs::keys;
use crate::text::words;

impl Turn<'_, '_> {
    pub(super) fn read_back(mut self) -> Reply {
        let draft = &self.session.draft;
        let line = match (&self.session.task, &draft.name, draft.slot, &draft.phone) {
            (Task::Reschedule { target: Some(target) }, _, Some(slot), _) => {
                self.p().read_back_move(self.local(target.slot.starts_at), self.local(slot.starts_at))
            }
            (_, Some(name), Some(slot), Some(phone)) => self.p().read_back(name, self.local(slot.starts_at), phone),
            (_, None, Some(slot), Some(phone)) if draft.name_as_heard.is_some() => {
                self.p().read_back_name_as_heard(self.local(slot.starts_at), phone)
            }
            _ => return self.next_question(),
        };
        self.session.stage = Stage::ReadBack;
        self.say.push(line);
        self.listen(Expect::YesNo)
    }

    /// The caller answers the read-back.
    pub(super) fn read_back_answer(mut self, speech: &str, digits: &str) -> Reply {
        let answer = extract::answer(speech, digits);
        let before = self.session.draft.clone();

        // A correction in the same breath ("no, Wednesday", "no, my name is Anne") is applied
        // without starting over; a yes that carries a change is read back again, not booked.
        if answer != Answer::Yes || words(speech).len() > 3 {
            if let Some(name) = extract::introduced_name(speech)
                && Some(&name) != self.session.draft.name.as_ref()
            {
                self.session.name_rejections += 1;
                self.session.draft.name = Some(name);
            }
            if let Some(request) = extract::time::parse(speech, self.session.language, false)
                && let TimeOutcome::Offered(reply) = self.apply_time(&request)
            {
                return reply;
            }
            if extract::spoken_digits(speech).len() >= 10
                && let Ok(number) = extract::callback_number(speech)
            {
                self.session.draft.phone = Some(number);
            }
        }
        let changed = self.session.draft != before;
        if changed {
            self.session.misses = 0;
            return self.next_question();
        }
        match answer {
            Answer::Yes => self.commit(),
            Answer::No => {
                if let Some(field) = mentioned_field(speech) {
                    self.forget(field);
                    self.session.misses = 0;
                    return self.next_question();
                }
                if matches!(self.session.task, Task::Reschedule { .. }) {
                    self.forget(Field::Time);
                    self.session.misses = 0;
                    return self.next_question();
                }
                self.session.stage = Stage::WhatToChange;
                self.session.misses = 0;
                let line = self.p().what_to_change();
                self.say.push(line);
                self.listen(Expect::Open)
            }
            Answer::Unclear => self.miss(),
        }
    }

    /// The explicit yes: publish the booking (or the move).
    fn commit(self) -> Reply {
        let draft = self.session.draft.clone();
        let Some(slot) = draft.slot else { return self.next_question() };
        self.session.job_attempts += 1;
        self.session.job_waits = 0;
        let attempt = self.session.job_attempts;
        if let Some(Existing { id, .. }) = self.target().cloned() {
            let key = keys::reschedule(&self.session.call_sid, attempt);
            self.session.stage = Stage::Waiting { key: key.clone() };
            return self
                .with_effect(Next::AwaitJob, Effect::Reschedule { idempotency_key: key, appointment_id: id, slot });
        }
        let name_to_check = draft.name.is_none();
        let (Some(name), Some(phone)) = (draft.name.or(draft.name_as_heard), draft.phone) else {
            self.session.job_attempts -= 1;
            return self.next_question();
        };
        let key = keys::book(&self.session.call_sid, attempt);
        self.session.stage = Stage::Waiting { key: key.clone() };
        let request = BookingRequest {
            idempotency_key: key,
            attempt,
            name,
            name_to_check,
            phone,
            slot,
            language: self.session.language,
        };
        self.with_effect(Next::AwaitJob, Effect::Book(request))
    }

    pub(super) fn settled(mut self, outcome: JobOutcome) -> Reply {
        let p = self.p();
        match outcome {
            JobOutcome::Booked { reference, starts_at, .. } => {
                let draft = &self.session.draft;
                let line = match (&draft.name, &draft.name_as_heard) {
                    (Some(name), _) => p.booked(Some(name), self.local(starts_at), &reference),
                    (None, Some(_)) => p.booked(None, self.local(starts_at), &reference),
                    (None, None) => p.booking_pending_final(),
                };
                self.end(line)
            }
            JobOutcome::Rescheduled { reference, starts_at, .. } => {
                let line = p.moved(self.local(starts_at), &reference);
                self.end(line)
            }
            JobOutcome::Cancelled { .. } => {
                let when = self.target().map_or(self.ctx.now, |t| t.slot.starts_at);
                let line = p.cancelled(self.local(when));
                self.end(line)
            }
            JobOutcome::NotFound => {
                self.session.task = Task::Book;
                self.session.draft.slot = None;
                self.session.stage = Stage::OfferNewBooking;
                self.say.push(p.appointment_gone());
                self.say.push(p.ask_book_new());
                self.listen(Expect::YesNo)
            }
            JobOutcome::SlotTaken => {
                let taken = self.session.draft.slot.take();
                let around = taken.map_or(self.ctx.now, |s| s.starts_at);
                if let Some(slot) = taken {
                    self.session.draft.taken.push(slot);
                    self.say.push(p.slot_taken(self.local(slot.starts_at)));
                }
                if self.session.job_attempts >= MAX_JOB_ATTEMPTS {
                    return self.end(p.booking_failed());
                }
                self.offer_near(around)
            }
            JobOutcome::Rejected { .. } => self.end(p.booking_failed()),
            JobOutcome::Queued => {
                let line = p.queued();
                self.end(line)
            }
            JobOutcome::Repaired { value } => self.repaired(value),
            JobOutcome::NotSubmitted => {
                if self.session.job_attempts >= MAX_JOB_ATTEMPTS {
                    return self.end(p.booking_failed());
                }
                self.session.stage = if matches!(self.session.task, Task::Cancel { .. }) {
                    Stage::ConfirmCancel
                } else {
                    Stage::ReadBack
                };
                self.say.push(p.booking_unreachable());
                self.listen(Expect::YesNo)
            }
        }
    }

    pub(super) fn pending(mut self) -> Reply {
        if let Stage::Repairing { .. } = self.session.stage {
            // The repair missed its deadline: ask again rather than keep the caller waiting.
            return self.repaired(None);
        }
        self.session.job_waits += 1;
        if self.session.job_waits > MAX_JOB_WAITS {
            let line = self.p().booking_pending_final();
            return self.end(line);
        }
        let line = if self.session.job_waits == 1 { self.p().booking_wait() } else { self.p().still_confirming() };
        self.say.push(line);
        self.reply(Next::AwaitJob)
    }
}
