//! Rescheduling and cancelling: finding which of the caller's appointments they mean, from their
//! caller ID or a number they give, and confirming a cancellation.

use super::Turn;
use crate::dialogue::{Effect, Existing, Expect, Field, Next, Reply, Stage, Task};
use crate::extract::{self, Answer, Intent};
use crate::jobs::keys;
use crate::schedule::Slot;

impl Turn<'_, '_> {
    /// Reschedule or cancel: find the appointment, from the caller ID or a number they give.
    pub(super) fn start_change(mut self, task: Task) -> Reply {
        self.session.task = task;
        self.session.misses = 0;
        let upcoming = self.session.history.upcoming.clone();
        if upcoming.is_empty() {
            if self.session.caller_id.is_some() {
                let line = self.p().not_found_for_caller_id();
                self.say.push(line);
            }
            self.session.stage = Stage::Asking { field: Field::LookupPhone };
            let line = self.p().ask_lookup_phone();
            self.say.push(line);
            return self.listen(Expect::Phone);
        }
        self.offer_existing(upcoming)
    }

    /// The lookup answered.
    pub(super) fn found(mut self, found: Vec<Existing>) -> Reply {
        self.session.history.upcoming.clone_from(&found);
        if found.is_empty() {
            self.session.stage = Stage::OfferNewBooking;
            self.session.task = Task::Book;
            let line = self.p().not_found_offer_new();
            self.say.push(line);
            return self.listen(Expect::YesNo);
        }
        self.offer_existing(found)
    }

    fn offer_existing(mut self, mut options: Vec<Existing>) -> Reply {
        options.truncate(3);
        if options.len() == 1 {
            let target = options.remove(0);
            let line = self.p().found_one(self.local(target.slot.starts_at));
            self.say.push(line);
            self.set_target(target);
            return self.proceed_with_target();
        }
        let times: Vec<_> = options.iter().map(|e| self.local(e.slot.starts_at)).collect();
        let line = self.p().choose_existing(&times);
        self.say.push(line);
        self.session.stage = Stage::ChooseExisting { options };
        self.listen(Expect::Choice)
    }

    fn set_target(&mut self, target: Existing) {
        self.session.draft.name = Some(target.name.clone());
        self.session.task = match &self.session.task {
            Task::Cancel { .. } => Task::Cancel { target: Some(target) },
            _ => Task::Reschedule { target: Some(target) },
        };
    }

    pub(super) fn target(&self) -> Option<&Existing> {
        match &self.session.task {
            Task::Reschedule { target } | Task::Cancel { target } => target.as_ref(),
            Task::Book => None,
        }
    }

    pub(super) fn proceed_with_target(mut self) -> Reply {
        match self.session.task.clone() {
            Task::Cancel { target: Some(target) } => {
                self.session.stage = Stage::ConfirmCancel;
                let line = self.p().confirm_cancel(self.local(target.slot.starts_at));
                self.say.push(line);
                self.listen(Expect::YesNo)
            }
            _ => {
                self.session.draft.slot = None;
                self.session.stage = Stage::Asking { field: Field::Time };
                let line = self.p().ask_new_time();
                self.say.push(line);
                self.listen(Expect::Time)
            }
        }
    }

    pub(super) fn choose_existing(mut self, speech: &str, digits: &str, options: &[Existing]) -> Reply {
        let slots: Vec<Slot> = options.iter().map(|e| e.slot).collect();
        match self.choice(speech, digits, &slots) {
            Some(index) => {
                self.session.misses = 0;
                self.set_target(options[index].clone());
                self.proceed_with_target()
            }
            None => self.miss(),
        }
    }

    pub(super) fn confirm_cancel_answer(mut self, speech: &str, digits: &str) -> Reply {
        // "Cancel it", "I need to cancel my appointment": at this question the request restated is
        // a yes (the yes/no reader hears "cancel" as a no, which it is at a booking's read-back),
        // unless it is refused ("don't cancel it").
        let restated = extract::intent(speech, digits) == Some(Intent::Cancel) && !refuses(speech);
        let answer = if restated { Answer::Yes } else { extract::answer(speech, digits) };
        match answer {
            Answer::Yes => {
                let Some(target) = self.target().cloned() else { return self.next_question() };
                self.session.job_attempts += 1;
                self.session.job_waits = 0;
                let key = keys::cancel(&self.session.call_sid, self.session.job_attempts);
                self.session.stage = Stage::Waiting { key: key.clone() };
                self.with_effect(Next::AwaitJob, Effect::Cancel { idempotency_key: key, appointment_id: target.id })
            }
            Answer::No => {
                self.session.task = Task::Book;
                self.session.stage = Stage::Greeting;
                self.session.misses = 0;
                let kept = self.p().kept();
                let more = self.p().anything_else();
                self.say.push(kept);
                self.say.push(more);
                self.listen(Expect::Open)
            }
            Answer::Unclear => self.miss(),
        }
    }
}

/// Words that refuse what the sentence names ("don't cancel it", "n'annulez pas", "keep it").
fn refuses(speech: &str) -> bool {
    const REFUSING: &[&str] =
        &["don't", "dont", "do not", "not", "never", "no", "non", "pas", "jamais", "keep", "garde", "gardez", "garder"];
    let words = crate::text::words(speech);
    REFUSING.iter().any(|r| if r.contains(' ') { words.join(" ").contains(r) } else { words.iter().any(|w| w == r) })
}
