//! Collecting the booking: the name, the number and the time, taken from any answer in any
//! order; asking for what is still missing; and what to do with an answer the rules could not
//! use (a miss, or a language model's repair).

use super::Turn;
use super::slot::TimeOutcome;
use crate::dialogue::{
    Effect, Expect, Field, MAX_MISSES, MISHEARD_KEPT, MISSES_BEFORE_REPAIR, NAME_MISSES_BEFORE_SPELLING,
    NAME_REJECTIONS_BEFORE_SPELLING, Next, RepairRequest, Reply, SPOKEN_PHONE_ATTEMPTS, Stage, Task,
};
use crate::extract::{self, Answer, PersonName, spelling};
use crate::ids::Language;
use crate::jobs::keys;
use crate::jobs::{REPAIR_DEADLINE, RepairField};
use crate::phone::{E164, PhoneProblem};
use crate::text::words;

impl Turn<'_, '_> {
    /// Fills whatever the caller offered, in any order, then asks for what is still missing.
    pub(super) fn collect(mut self, speech: &str, digits: &str) -> Reply {
        let stage = self.session.stage.clone();
        let asking = match stage {
            Stage::Asking { field } => Some(field),
            _ => None,
        };
        if asking == Some(Field::LookupPhone) {
            return self.look_up(speech, digits);
        }
        if stage == Stage::WhatToChange
            && let Some(field) = mentioned_field(speech)
        {
            self.forget(field);
            self.session.misses = 0;
            return self.next_question();
        }

        let mut progress = self.take_name(asking, speech);
        match self.take_phone(asking, speech, digits) {
            Ok(taken) => progress |= taken,
            Err(problem) => return self.phone_problem(problem, !digits.is_empty()),
        }
        if stage == Stage::ConfirmCallerId {
            progress |= self.take_caller_id(speech, digits);
        }

        // Time.
        if let Some(request) = extract::time::parse(speech, self.session.language, asking == Some(Field::Time)) {
            match self.apply_time(&request) {
                TimeOutcome::Set | TimeOutcome::Partial => progress = true,
                TimeOutcome::Offered(reply) => return reply,
                TimeOutcome::Nothing => {}
            }
        }

        if stage == Stage::Greeting && !progress {
            // "I'd like to book an appointment", or anything else: start collecting.
            progress = true;
        }
        if stage == Stage::WhatToChange && !progress && extract::answer(speech, digits) == Answer::Yes {
            // "Actually it's fine": read back again.
            progress = true;
        }

        if !progress {
            return self.unusable(speech);
        }
        self.session.misses = 0;
        self.next_question()
    }

    /// The number an existing booking was made with: look it up, or say why it cannot be used.
    fn look_up(self, speech: &str, digits: &str) -> Reply {
        let source = if digits.is_empty() { speech } else { digits };
        let digits_heard = extract::spoken_digits(source);
        match E164::north_american(&digits_heard).or_else(|_| extract::callback_number(source)) {
            Ok(phone) => {
                self.session.misses = 0;
                self.with_effect(Next::Listen { expect: Expect::Open }, Effect::LookUp { phone })
            }
            Err(problem) => self.phone_problem(problem, !digits.is_empty()),
        }
    }

    /// Name: spelled when asked to spell; introduced anywhere; or the whole answer when asked.
    /// `true` when a name was taken.
    fn take_name(&mut self, asking: Option<Field>, speech: &str) -> bool {
        let name = match asking {
            Some(Field::SpelledName) => spelling::spelled_name(speech).or_else(|| extract::answered_name(speech)),
            Some(Field::Name) => extract::answered_name(speech).or_else(|| spelling::spelled_name(speech)),
            _ => extract::introduced_name(speech),
        };
        let Some(name) = name else { return false };
        let thanks = self.p().thanks_name(&name);
        self.say.push(thanks);
        self.session.draft.name = Some(name);
        true
    }

    /// Phone: when asked, or when the caller volunteers ten digits. `Ok(true)` when a number was
    /// taken; the problem with it when one was asked for and cannot be used.
    fn take_phone(&mut self, asking: Option<Field>, speech: &str, digits: &str) -> Result<bool, PhoneProblem> {
        let keyed = !digits.is_empty();
        let volunteered = extract::spoken_digits(speech).len() >= 10;
        if !(asking == Some(Field::Phone) || keyed && digits.len() >= 10 || volunteered) {
            return Ok(false);
        }
        let source = if keyed { digits } else { speech };
        match extract::callback_number(source) {
            Ok(number) => {
                self.session.draft.phone = Some(number);
                Ok(true)
            }
            Err(problem) if asking == Some(Field::Phone) => Err(problem),
            Err(_) => Ok(false),
        }
    }

    /// The caller ID offered as the number, unless a number was just given: yes or no.
    /// `true` when the caller answered.
    fn take_caller_id(&mut self, speech: &str, digits: &str) -> bool {
        if self.session.draft.phone.is_some() {
            return false;
        }
        match extract::answer(speech, digits) {
            Answer::Yes => self.session.draft.phone = self.session.caller_id.clone(),
            Answer::No => self.session.draft.caller_id_declined = true,
            Answer::Unclear => return false,
        }
        true
    }

    /// An answer the rules could not use. The second in a row to a name or a time goes to the
    /// language model, when there is one; otherwise it is a plain miss.
    fn unusable(mut self, speech: &str) -> Reply {
        if self.session.misses == 0 {
            self.session.misheard.clear();
        }
        if !speech.is_empty() {
            self.session.misheard.push(speech.to_owned());
            let extra = self.session.misheard.len().saturating_sub(MISHEARD_KEPT);
            self.session.misheard.drain(..extra);
        }
        if let Stage::Asking { field: Field::Name | Field::SpelledName } = self.session.stage
            && let Some(heard) = extract::name_as_heard(speech)
        {
            self.session.name_heard = Some(heard);
        }
        let repairable = match self.session.stage {
            Stage::Asking { field: field @ (Field::Name | Field::SpelledName) } => Some((field, RepairField::Name)),
            Stage::Asking { field: field @ Field::Time } => Some((field, RepairField::Time)),
            _ => None,
        };
        let second_miss = self.session.misses + 1 == MISSES_BEFORE_REPAIR && MISSES_BEFORE_REPAIR < MAX_MISSES;
        match repairable {
            Some((field, repair)) if self.ctx.repair && second_miss && !self.session.misheard.is_empty() => {
                self.session.misses += 1;
                let key = keys::repair(&self.session.call_sid, self.session.turn);
                let until = self.ctx.now + chrono::Duration::from_std(REPAIR_DEADLINE).unwrap_or_default();
                self.session.stage = Stage::Repairing { field, key: key.clone(), until };
                let line = self.p().one_moment();
                self.say.push(line);
                let heard = std::mem::take(&mut self.session.misheard);
                let request =
                    RepairRequest { idempotency_key: key, field: repair, heard, language: self.session.language };
                self.with_effect(Next::AwaitJob, Effect::Repair(request))
            }
            _ => self.miss(),
        }
    }

    /// The language model's reading of a misheard answer, checked by the same rules as any
    /// answer. Nothing usable (or no answer in time): the question is asked again; the miss was
    /// already counted.
    pub(super) fn repaired(mut self, value: Option<String>) -> Reply {
        let Stage::Repairing { field, .. } = self.session.stage else { return self.ask_again() };
        self.session.stage = Stage::Asking { field };
        let outcome = value.and_then(|value| match field {
            Field::Name | Field::SpelledName => extract::answered_name(&value).map(|name| {
                let thanks = self.p().thanks_name(&name);
                self.say.push(thanks);
                self.session.draft.name = Some(name);
                TimeOutcome::Set
            }),
            // The model answers in English, in forms the English rules read.
            Field::Time => extract::time::parse(&value, Language::En, true).map(|request| self.apply_time(&request)),
            Field::Phone | Field::LookupPhone => None,
        });
        match outcome {
            Some(TimeOutcome::Set | TimeOutcome::Partial) => {
                self.session.misses = 0;
                self.next_question()
            }
            Some(TimeOutcome::Offered(reply)) => {
                self.session.misses = 0;
                reply
            }
            Some(TimeOutcome::Nothing) | None if field == Field::Name => self.name_missed(Field::Name),
            Some(TimeOutcome::Nothing) | None => {
                let line = self.p().not_understood();
                self.say.push(line);
                if field == Field::Time {
                    let example = self.p().ask_time_example();
                    self.say.push(example);
                }
                self.ask_again()
            }
        }
    }

    /// A name not understood (the miss already counted): asked again, then asked spelled, then
    /// taken as heard for a person to check, or the call transferred when the business has a
    /// number for it. A caller answering is never hung up on at the name prompt.
    pub(super) fn name_missed(mut self, field: Field) -> Reply {
        if field == Field::Name && self.session.misses < NAME_MISSES_BEFORE_SPELLING {
            let line = self.p().not_understood();
            self.say.push(line);
            return self.next_question();
        }
        if field == Field::Name {
            self.session.stage = Stage::Asking { field: Field::SpelledName };
            let line = self.p().ask_spelling_after_trouble();
            self.say.push(line);
            return self.listen(Expect::Spelling);
        }
        if let Some(to) = self.ctx.business.transfer_number.clone() {
            self.session.stage = Stage::Ended;
            let line = self.p().transfer_after_trouble();
            self.say.push(line);
            return self.reply(Next::Transfer { to });
        }
        let heard = self.session.name_heard.take().or_else(|| PersonName::from_words(&[self.p().unknown_caller()]));
        self.session.draft.name_as_heard = heard;
        self.session.misses = 0;
        let line = self.p().name_kept_as_heard();
        self.say.push(line);
        self.next_question()
    }

    pub(super) fn forget(&mut self, field: Field) {
        let draft = &mut self.session.draft;
        match field {
            Field::Name | Field::SpelledName => {
                draft.name = None;
                draft.name_as_heard = None;
                self.session.name_rejections += 1;
            }
            Field::Time => {
                draft.slot = None;
                draft.day = None;
                draft.time = None;
            }
            Field::Phone | Field::LookupPhone => {
                draft.phone = None;
                draft.caller_id_declined = true;
            }
        }
    }

    /// A number that cannot be used: say why, and after a spoken attempt, ask for the keypad.
    fn phone_problem(mut self, problem: PhoneProblem, keyed: bool) -> Reply {
        self.session.phone_attempts += 1;
        if self.session.misses + 1 >= MAX_MISSES {
            return self.miss();
        }
        self.session.misses += 1;
        let use_keypad = !matches!(problem, PhoneProblem::TollFree | PhoneProblem::PremiumRate)
            && (keyed || self.session.phone_attempts >= SPOKEN_PHONE_ATTEMPTS);
        if use_keypad {
            let line = self.p().ask_phone_keypad();
            self.say.push(line);
            return self.listen(Expect::PhoneKeypad);
        }
        let line = self.p().phone_problem(problem);
        self.say.push(line);
        self.listen(Expect::Phone)
    }

    /// Asks for the first missing piece, or reads everything back.
    pub(super) fn next_question(mut self) -> Reply {
        let p = self.p();
        let rescheduling = matches!(self.session.task, Task::Reschedule { target: Some(_) });
        let draft = &self.session.draft;
        if draft.name.is_none() && draft.name_as_heard.is_none() && !rescheduling {
            if self.session.name_rejections >= NAME_REJECTIONS_BEFORE_SPELLING {
                self.session.stage = Stage::Asking { field: Field::SpelledName };
                self.say.push(p.ask_spelling());
                return self.listen(Expect::Spelling);
            }
            self.session.stage = Stage::Asking { field: Field::Name };
            self.say.push(p.ask_name());
            return self.listen(Expect::Name);
        }
        if draft.slot.is_none() {
            let question = match (draft.day, draft.time) {
                (Some(day), _) => p.ask_time_on(day),
                (None, Some(time)) => p.ask_day_for(time),
                (None, None) if rescheduling => p.ask_new_time(),
                (None, None) => p.ask_time(),
            };
            self.session.stage = Stage::Asking { field: Field::Time };
            self.say.push(question);
            return self.listen(Expect::Time);
        }
        if draft.phone.is_none() && !rescheduling {
            let usable_caller_id =
                self.session.caller_id.clone().filter(|n| n.callback_problem().is_none() && !draft.caller_id_declined);
            return match usable_caller_id {
                Some(number) => {
                    self.session.stage = Stage::ConfirmCallerId;
                    self.say.push(p.offer_caller_id(&number));
                    self.listen(Expect::YesNo)
                }
                None => {
                    self.session.stage = Stage::Asking { field: Field::Phone };
                    if self.session.phone_attempts >= SPOKEN_PHONE_ATTEMPTS {
                        self.say.push(p.ask_phone_keypad());
                        return self.listen(Expect::PhoneKeypad);
                    }
                    self.say.push(p.ask_phone());
                    self.listen(Expect::Phone)
                }
            };
        }
        self.read_back()
    }
}

/// "the name", "the number is wrong", "the time": which field the caller wants to change.
pub(super) fn mentioned_field(speech: &str) -> Option<Field> {
    let words = words(speech);
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    if has(&["name", "spelling", "spelled", "nom"]) {
        Some(Field::Name)
    } else if has(&["number", "phone", "numéro", "numero", "téléphone", "telephone", "cell"]) {
        Some(Field::Phone)
    } else if has(&["time", "day", "date", "when", "hour", "heure", "jour", "moment"]) {
        Some(Field::Time)
    } else {
        None
    }
}
