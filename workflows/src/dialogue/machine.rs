//! The transitions of the call. See the module documentation of [`super`].

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use super::prompts::Prompts;
use super::{
    BookingRequest, Calendar, Context, Effect, Event, Existing, Expect, Field, MAX_JOB_ATTEMPTS, MAX_JOB_WAITS,
    MAX_MISSES, MAX_SILENCES, MAX_TURNS, MISHEARD_KEPT, MISSES_BEFORE_REPAIR, NAME_REJECTIONS_BEFORE_SPELLING, Next,
    RepairRequest, Reply, SPOKEN_PHONE_ATTEMPTS, Session, Stage, Task,
};
use chrono::Datelike as _;

use crate::extract::time::{DateSpec, TimeRequest, WeekdayWhich};
use crate::extract::{self, Answer, Intent, language, spelling};
use crate::ids::Language;
use crate::jobs::{BookAppointment, JobOutcome, REPAIR_DEADLINE, RepairField};
use crate::phone::{E164, PhoneProblem};
use crate::schedule::{self, Slot, Unavailable, Wanted};
use crate::speech;
use crate::text::words;

/// Advances the call by one event. See [`super`].
pub fn handle(session: &mut Session, event: Event<'_>, ctx: &Context<'_>) -> Reply {
    // While an appointment is being moved, its own time does not count as busy.
    let own = match &session.task {
        Task::Reschedule { target: Some(target) } => Some(target.slot),
        _ => None,
    };
    // The calendar is copied only when there is an own time to take out of it.
    let without_own: Vec<Slot>;
    let narrowed = match own.and_then(|own| ctx.busy.slots.iter().position(|b| *b == own)) {
        Some(i) => {
            let mut busy = ctx.busy.slots.to_vec();
            busy.remove(i);
            without_own = busy;
            Some(Calendar::new(&without_own))
        }
        None => None,
    };
    let inner = match &narrowed {
        Some(calendar) => Context { busy: calendar, ..*ctx },
        None => *ctx,
    };
    let turn = Turn { session, ctx: &inner, say: Vec::new() };
    let reply = match event {
        Event::CallStarted => turn.start(),
        Event::Heard { speech, digits } => turn.heard(speech.trim(), digits.trim()),
        Event::JobSettled(outcome) => turn.settled(outcome),
        Event::JobPending => turn.pending(),
        Event::Found(found) => turn.found(found),
    };
    if narrowed.as_ref().is_some_and(Calendar::was_consulted) {
        ctx.busy.consulted.set(true);
    }
    reply
}

/// One step of the machine: the session being changed, and what will be said.
struct Turn<'s, 'c> {
    session: &'s mut Session,
    ctx: &'s Context<'c>,
    say: Vec<String>,
}

/// The outcome of applying a time request to the draft.
enum TimeOutcome {
    /// The draft now has a bookable slot.
    Set,
    /// Part of a time was kept (a day or an hour); ask for the rest.
    Partial,
    /// Not bookable: alternatives were offered (or none found); the reply is ready.
    Offered(Reply),
    /// Nothing usable.
    Nothing,
}

impl Turn<'_, '_> {
    fn p(&self) -> Prompts {
        Prompts(self.session.language)
    }

    fn local(&self, at: DateTime<Utc>) -> DateTime<Tz> {
        self.ctx.business.local(at)
    }

    fn reply(self, next: Next) -> Reply {
        Reply { say: self.say, next, effect: None, language: self.session.language }
    }

    fn with_effect(self, next: Next, effect: Effect) -> Reply {
        Reply { say: self.say, next, effect: Some(effect), language: self.session.language }
    }

    fn listen(self, expect: Expect) -> Reply {
        self.reply(Next::Listen { expect })
    }

    fn end(mut self, line: String) -> Reply {
        self.session.stage = Stage::Ended;
        self.say.push(line);
        self.reply(Next::Hangup)
    }

    /// The business's other language, if it has one.
    fn other_language(&self) -> Option<Language> {
        self.ctx.business.languages.iter().copied().find(|l| *l != self.session.language)
    }

    fn start(mut self) -> Reply {
        self.session.stage = Stage::Greeting;
        let returning = self.session.history.name.clone();
        let greeting = self.p().greeting(&self.ctx.business.name, returning.as_ref(), self.other_language());
        self.say.push(greeting);
        self.listen(Expect::Open)
    }

    fn heard(mut self, speech: &str, digits: &str) -> Reply {
        if self.session.is_over() {
            return self.reply(Next::Hangup);
        }
        if self.session.turn >= MAX_TURNS {
            let line = self.p().goodbye_too_long();
            return self.end(line);
        }
        if let Stage::Waiting { .. } = self.session.stage {
            // The caller spoke while a job was in flight: keep waiting for it.
            return self.pending();
        }
        if let Stage::Repairing { field, .. } = self.session.stage {
            // The caller spoke again while the repair ran: their new words win.
            self.session.stage = Stage::Asking { field };
        }
        if speech.is_empty() && digits.is_empty() {
            return self.silence();
        }
        self.session.silences = 0;

        if let Some((language, announce)) = self.language_switch(speech, digits) {
            self.session.language = language;
            if announce {
                let line = self.p().switched();
                self.say.push(line);
                self.session.misses = 0;
                return self.ask_again();
            }
        }

        match extract::intent(speech, digits) {
            Some(Intent::Human) => return self.transfer(),
            Some(Intent::Goodbye) => {
                let line = if self.session.draft.slot.is_some() && self.session.task == Task::Book {
                    self.p().goodbye_nothing_booked()
                } else {
                    self.p().goodbye()
                };
                return self.end(line);
            }
            _ => {}
        }

        match self.session.stage.clone() {
            Stage::Greeting => self.greeting_answer(speech, digits),
            Stage::Offering { options } => self.offering(speech, digits, &options),
            Stage::ReadBack => self.read_back_answer(speech, digits),
            Stage::ChooseExisting { options } => self.choose_existing(speech, digits, &options),
            Stage::ConfirmCancel => self.confirm_cancel_answer(speech, digits),
            Stage::OfferNewBooking => match extract::answer(speech, digits) {
                Answer::Yes => {
                    self.session.task = Task::Book;
                    self.session.misses = 0;
                    self.next_question()
                }
                Answer::No => {
                    let line = self.p().goodbye();
                    self.end(line)
                }
                Answer::Unclear => self.collect(speech, digits),
            },
            Stage::Asking { .. } | Stage::ConfirmCallerId | Stage::WhatToChange => self.collect(speech, digits),
            Stage::Waiting { .. } | Stage::Repairing { .. } | Stage::Ended => self.reply(Next::Hangup),
        }
    }

    /// An explicit request ("in English please", "en français"), 2 on the keypad at the greeting,
    /// or a first answer clearly in the other language. `true` when Bella should say so and ask
    /// again; `false` when the utterance should simply be understood in the new language.
    fn language_switch(&self, speech: &str, digits: &str) -> Option<(Language, bool)> {
        let supported = |l: Language| self.ctx.business.languages.contains(&l) && l != self.session.language;
        if let Some(requested) = language::requested(speech).filter(|l| supported(*l)) {
            return Some((requested, true));
        }
        if self.session.stage == Stage::Greeting {
            if digits == "2" {
                return self.other_language().map(|l| (l, true));
            }
            if let Some(detected) = language::detect(speech).filter(|l| supported(*l)) {
                return Some((detected, false));
            }
        }
        None
    }

    fn silence(mut self) -> Reply {
        self.session.silences += 1;
        if self.session.silences >= MAX_SILENCES {
            let line = self.p().goodbye_silent();
            return self.end(line);
        }
        let line = self.p().silence(self.session.silences);
        self.say.push(line);
        self.ask_again()
    }

    fn miss(mut self) -> Reply {
        self.session.misses += 1;
        if self.session.misses >= MAX_MISSES {
            return match self.ctx.business.transfer_number.clone() {
                Some(to) => {
                    self.session.stage = Stage::Ended;
                    let line = self.p().transfer_after_trouble();
                    self.say.push(line);
                    self.reply(Next::Transfer { to })
                }
                None => {
                    let line = self.p().goodbye_confused();
                    self.end(line)
                }
            };
        }
        let line = self.p().not_understood();
        self.say.push(line);
        if matches!(self.session.stage, Stage::Asking { field: Field::Time }) {
            let example = self.p().ask_time_example();
            self.say.push(example);
        }
        self.ask_again()
    }

    /// Repeats the question of the current stage.
    fn ask_again(mut self) -> Reply {
        match self.session.stage.clone() {
            Stage::Greeting => {
                let line = self.p().how_can_i_help();
                self.say.push(line);
                self.listen(Expect::Open)
            }
            Stage::Asking { field: Field::LookupPhone } => {
                let line = self.p().ask_lookup_phone();
                self.say.push(line);
                self.listen(Expect::Phone)
            }
            Stage::Asking { .. } | Stage::ConfirmCallerId => self.next_question(),
            Stage::Offering { options } => {
                let times: Vec<_> = options.iter().map(|s| self.local(s.starts_at)).collect();
                let line = self.p().offer(&times);
                self.say.push(line);
                self.listen(Expect::Choice)
            }
            Stage::ReadBack => {
                let line = self.p().read_back_reprompt();
                self.say.push(line);
                self.listen(Expect::YesNo)
            }
            Stage::WhatToChange => {
                let line = self.p().what_to_change();
                self.say.push(line);
                self.listen(Expect::Open)
            }
            Stage::ChooseExisting { options } => {
                let times: Vec<_> = options.iter().map(|e| self.local(e.slot.starts_at)).collect();
                let line = self.p().choose_existing(&times);
                self.say.push(line);
                self.listen(Expect::Choice)
            }
            Stage::ConfirmCancel => self.proceed_with_target(),
            Stage::OfferNewBooking => {
                let line = self.p().ask_book_new();
                self.say.push(line);
                self.listen(Expect::YesNo)
            }
            Stage::Waiting { .. } => self.pending(),
            Stage::Repairing { field, .. } => {
                self.session.stage = Stage::Asking { field };
                self.next_question()
            }
            Stage::Ended => self.reply(Next::Hangup),
        }
    }

    fn transfer(mut self) -> Reply {
        match self.ctx.business.transfer_number.clone() {
            Some(to) => {
                self.session.stage = Stage::Ended;
                let line = self.p().transferring();
                self.say.push(line);
                self.reply(Next::Transfer { to })
            }
            None => {
                let line = self.p().nobody_available();
                self.say.push(line);
                self.ask_again()
            }
        }
    }

    /// The first answer: what the caller wants.
    fn greeting_answer(mut self, speech: &str, digits: &str) -> Reply {
        match extract::intent(speech, digits) {
            Some(Intent::Reschedule) => self.start_change(Task::Reschedule { target: None }),
            Some(Intent::Cancel) => self.start_change(Task::Cancel { target: None }),
            Some(Intent::Hours) => {
                let hours = speech::hours(self.session.language, &self.ctx.business.hours);
                let line = self.p().hours(&hours, self.ctx.business.address.as_deref());
                let more = self.p().anything_else();
                self.say.push(line);
                self.say.push(more);
                self.session.misses = 0;
                self.listen(Expect::Open)
            }
            _ => self.collect(speech, digits),
        }
    }

    /// Reschedule or cancel: find the appointment, from the caller ID or a number they give.
    fn start_change(mut self, task: Task) -> Reply {
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
    fn found(mut self, found: Vec<Existing>) -> Reply {
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

    fn target(&self) -> Option<&Existing> {
        match &self.session.task {
            Task::Reschedule { target } | Task::Cancel { target } => target.as_ref(),
            Task::Book => None,
        }
    }

    fn proceed_with_target(mut self) -> Reply {
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

    fn choose_existing(mut self, speech: &str, digits: &str, options: &[Existing]) -> Reply {
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

    fn confirm_cancel_answer(mut self, speech: &str, digits: &str) -> Reply {
        match extract::answer(speech, digits) {
            Answer::Yes => {
                let Some(target) = self.target().cloned() else { return self.next_question() };
                self.session.job_attempts += 1;
                self.session.job_waits = 0;
                let key = format!("cancel:{}#{}", self.session.call_sid, self.session.job_attempts);
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

    /// Fills whatever the caller offered, in any order, then asks for what is still missing.
    fn collect(mut self, speech: &str, digits: &str) -> Reply {
        let stage = self.session.stage.clone();
        let asking = match stage {
            Stage::Asking { field } => Some(field),
            _ => None,
        };
        let mut progress = false;

        if asking == Some(Field::LookupPhone) {
            let source = if digits.is_empty() { speech } else { digits };
            let digits_heard = extract::spoken_digits(source);
            return match E164::north_american(&digits_heard).or_else(|_| extract::callback_number(source)) {
                Ok(phone) => {
                    self.session.misses = 0;
                    self.with_effect(Next::Listen { expect: Expect::Open }, Effect::LookUp { phone })
                }
                Err(problem) => self.phone_problem(problem, !digits.is_empty()),
            };
        }

        if stage == Stage::WhatToChange
            && let Some(field) = mentioned_field(speech)
        {
            self.forget(field);
            self.session.misses = 0;
            return self.next_question();
        }

        // Name: spelled when asked to spell; introduced anywhere; or the whole answer.
        let name = match asking {
            Some(Field::SpelledName) => spelling::spelled_name(speech).or_else(|| extract::answered_name(speech)),
            Some(Field::Name) => extract::answered_name(speech).or_else(|| spelling::spelled_name(speech)),
            _ => extract::introduced_name(speech),
        };
        if let Some(name) = name {
            let thanks = self.p().thanks_name(&name);
            self.say.push(thanks);
            self.session.draft.name = Some(name);
            progress = true;
        }

        // Phone: when asked, or when the caller volunteers ten digits.
        let keyed = !digits.is_empty();
        let volunteered = extract::spoken_digits(speech).len() >= 10;
        if asking == Some(Field::Phone) || keyed && digits.len() >= 10 || volunteered {
            let source = if keyed { digits } else { speech };
            match extract::callback_number(source) {
                Ok(number) => {
                    self.session.draft.phone = Some(number);
                    progress = true;
                }
                Err(problem) if asking == Some(Field::Phone) => return self.phone_problem(problem, keyed),
                Err(_) => {}
            }
        }

        // Caller ID offered: yes or no.
        if stage == Stage::ConfirmCallerId && self.session.draft.phone.is_none() {
            match extract::answer(speech, digits) {
                Answer::Yes => {
                    self.session.draft.phone = self.session.caller_id.clone();
                    progress = true;
                }
                Answer::No => {
                    self.session.draft.caller_id_declined = true;
                    progress = true;
                }
                Answer::Unclear => {}
            }
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
        let repairable = match self.session.stage {
            Stage::Asking { field: field @ (Field::Name | Field::SpelledName) } => Some((field, RepairField::Name)),
            Stage::Asking { field: field @ Field::Time } => Some((field, RepairField::Time)),
            _ => None,
        };
        let second_miss = self.session.misses + 1 == MISSES_BEFORE_REPAIR && MISSES_BEFORE_REPAIR < MAX_MISSES;
        match repairable {
            Some((field, repair)) if self.ctx.repair && second_miss && !self.session.misheard.is_empty() => {
                self.session.misses += 1;
                let key = format!("repair:{}#{}", self.session.call_sid, self.session.turn);
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
    fn repaired(mut self, value: Option<String>) -> Reply {
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

    fn forget(&mut self, field: Field) {
        let draft = &mut self.session.draft;
        match field {
            Field::Name | Field::SpelledName => {
                draft.name = None;
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
    fn next_question(mut self) -> Reply {
        let p = self.p();
        let rescheduling = matches!(self.session.task, Task::Reschedule { target: Some(_) });
        let draft = &self.session.draft;
        if draft.name.is_none() && !rescheduling {
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

    fn read_back(mut self) -> Reply {
        let draft = &self.session.draft;
        let line = match (&self.session.task, &draft.name, draft.slot, &draft.phone) {
            (Task::Reschedule { target: Some(target) }, _, Some(slot), _) => {
                self.p().read_back_move(self.local(target.slot.starts_at), self.local(slot.starts_at))
            }
            (_, Some(name), Some(slot), Some(phone)) => self.p().read_back(name, self.local(slot.starts_at), phone),
            _ => return self.next_question(),
        };
        self.session.stage = Stage::ReadBack;
        self.say.push(line);
        self.listen(Expect::YesNo)
    }

    /// Applies a date/time request to the draft, checking it against the business's rules.
    fn apply_time(&mut self, request: &TimeRequest) -> TimeOutcome {
        let business = self.ctx.business;
        let now = self.ctx.now;
        let draft_day = self.session.draft.day;
        // "No, Wednesday" after hearing "Tuesday, December 1": the Wednesday of that week.
        let anchored;
        let request = match (&request.date, self.session.draft.slot) {
            (Some(DateSpec::Weekday { day, which: WeekdayWhich::Coming }), Some(slot)) => {
                let anchor = self.local(slot.starts_at).date_naive();
                let monday = anchor - chrono::Duration::days(i64::from(anchor.weekday().num_days_from_monday()));
                let date = monday + chrono::Duration::days(i64::from(day.num_days_from_monday()));
                if date > business.today(now) {
                    anchored = TimeRequest {
                        date: Some(DateSpec::MonthDay { month: date.month(), day: date.day() }),
                        time: request.time,
                    };
                    &anchored
                } else {
                    request
                }
            }
            _ => request,
        };
        let Some(wanted) = schedule::interpret(request, business, now, draft_day) else {
            return TimeOutcome::Nothing;
        };
        match wanted {
            Wanted::At { date, time } => {
                let Some(start) = business.instant(date, time) else {
                    return TimeOutcome::Nothing;
                };
                self.try_slot(start)
            }
            Wanted::Between { first, last, from, to } => {
                let dates = first.iter_days().take_while(|d| *d <= last);
                let found = schedule::first_between(
                    business,
                    self.ctx.busy.slots(),
                    &self.session.draft.taken,
                    now,
                    dates,
                    from,
                    to,
                );
                match found {
                    Some(slot) => {
                        let line = self.p().first_opening(self.local(slot.starts_at));
                        self.say.push(line);
                        self.set_slot(slot);
                        TimeOutcome::Set
                    }
                    None => {
                        let around = business.instant(first, from).unwrap_or(now);
                        let line = self.p().nothing_free_then();
                        self.say.push(line);
                        TimeOutcome::Offered(self.offer_near(around))
                    }
                }
            }
            Wanted::Day { date } => {
                let today = business.today(now);
                let first_open = business.hours.on(chrono::Datelike::weekday(&date)).first().map(|s| s.open);
                let around = business.instant(date, first_open.unwrap_or(NaiveTime::MIN)).unwrap_or(now);
                let problem = if date < today {
                    Some(Unavailable::Past)
                } else if business.is_holiday(date) {
                    Some(Unavailable::Holiday)
                } else if first_open.is_none() {
                    Some(Unavailable::ClosedDay)
                } else {
                    None
                };
                if let Some(problem) = problem {
                    let line = self.p().unavailable(problem, self.local(around));
                    self.say.push(line);
                    return TimeOutcome::Offered(self.offer_near(around));
                }
                self.session.draft.day = Some(date);
                // "No, Wednesday": a new day keeps the time already chosen.
                let kept_time = self.session.draft.slot.map(|s| self.local(s.starts_at).time());
                match self.session.draft.time.or(kept_time) {
                    Some(time) => match business.instant(date, time) {
                        Some(start) => self.try_slot(start),
                        None => TimeOutcome::Partial,
                    },
                    None => TimeOutcome::Partial,
                }
            }
            Wanted::Time { hour, minute, meridiem } => {
                // "No, at three": a new time keeps the day already chosen.
                if let Some(day) = self.session.draft.slot.map(|s| self.local(s.starts_at).date_naive()) {
                    let time = schedule::clock_time(business, Some(day), hour, minute, meridiem);
                    return match time.and_then(|t| business.instant(day, t)) {
                        Some(start) => self.try_slot(start),
                        None => TimeOutcome::Nothing,
                    };
                }
                let today = business.today(now);
                let Some(time) = schedule::clock_time(business, Some(today), hour, minute, meridiem) else {
                    return TimeOutcome::Nothing;
                };
                // A time alone means today, when today works; otherwise ask which day.
                if let Some(start) = business.instant(today, time)
                    && schedule::check(business, self.ctx.busy.slots(), now, start).is_ok()
                    && !self.is_taken(start)
                {
                    return self.try_slot(start);
                }
                self.session.draft.time = Some(time);
                TimeOutcome::Partial
            }
        }
    }

    fn is_taken(&self, start: DateTime<Utc>) -> bool {
        let slot = Slot { starts_at: start, ends_at: start + self.ctx.business.appointment_length() };
        self.session.draft.taken.iter().any(|t| t.overlaps(&slot))
    }

    fn try_slot(&mut self, start: DateTime<Utc>) -> TimeOutcome {
        let checked = schedule::check(self.ctx.business, self.ctx.busy.slots(), self.ctx.now, start)
            .and_then(|slot| if self.is_taken(start) { Err(Unavailable::Taken) } else { Ok(slot) });
        match checked {
            Ok(slot) => {
                let line = self.p().available(self.local(slot.starts_at));
                self.say.push(line);
                self.set_slot(slot);
                TimeOutcome::Set
            }
            Err(reason) => {
                let line = self.p().unavailable(reason, self.local(start));
                self.say.push(line);
                TimeOutcome::Offered(self.offer_near(start))
            }
        }
    }

    fn set_slot(&mut self, slot: Slot) {
        let draft = &mut self.session.draft;
        draft.slot = Some(slot);
        draft.day = None;
        draft.time = None;
    }

    /// Offers the nearest free times and waits for the caller's choice.
    fn offer_near(&mut self, around: DateTime<Utc>) -> Reply {
        let options = schedule::nearest(
            self.ctx.business,
            self.ctx.busy.slots(),
            &self.session.draft.taken,
            self.ctx.now,
            around,
            2,
        );
        self.session.draft.slot = None;
        let mut say = std::mem::take(&mut self.say);
        let language = self.session.language;
        if options.is_empty() {
            self.session.stage = Stage::Asking { field: Field::Time };
            self.session.draft.day = None;
            self.session.draft.time = None;
            say.push(self.p().no_options());
            return Reply { say, next: Next::Listen { expect: Expect::Time }, effect: None, language };
        }
        let times: Vec<_> = options.iter().map(|s| self.local(s.starts_at)).collect();
        say.push(self.p().offer(&times));
        self.session.stage = Stage::Offering { options };
        Reply { say, next: Next::Listen { expect: Expect::Choice }, effect: None, language }
    }

    /// The caller answers an offer of alternative times.
    fn offering(mut self, speech: &str, digits: &str, options: &[Slot]) -> Reply {
        if let Some(index) = self.choice(speech, digits, options) {
            self.set_slot(options[index]);
            self.session.misses = 0;
            return self.next_question();
        }
        if let Some(request) = extract::time::parse(speech, self.session.language, true) {
            match self.apply_time(&request) {
                TimeOutcome::Set | TimeOutcome::Partial => {
                    self.session.misses = 0;
                    return self.next_question();
                }
                TimeOutcome::Offered(reply) => return reply,
                TimeOutcome::Nothing => {}
            }
        }
        match extract::answer(speech, digits) {
            Answer::Yes => {
                self.set_slot(options[0]);
                self.session.misses = 0;
                self.next_question()
            }
            Answer::No => {
                self.session.stage = Stage::Asking { field: Field::Time };
                self.session.misses = 0;
                let line = self.p().ask_other_time();
                self.say.push(line);
                self.listen(Expect::Time)
            }
            Answer::Unclear => self.miss(),
        }
    }

    /// Which option the caller picked: "the first one", "the later one", "2:30", "Tuesday", or a
    /// key press (1 or 2) when there are two.
    fn choice(&self, speech: &str, digits: &str, options: &[Slot]) -> Option<usize> {
        if options.len() > 1 {
            match digits {
                "1" => return Some(0),
                "2" => return Some(1),
                _ => {}
            }
        }
        let words = words(speech);
        let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
        if has(&["first", "earlier", "earliest", "former", "premier", "première", "premiere"]) {
            return Some(0);
        }
        if options.len() > 1
            && has(&[
                "second",
                "later",
                "latest",
                "last",
                "latter",
                "deuxième",
                "deuxieme",
                "dernier",
                "dernière",
                "second",
                "seconde",
            ])
        {
            return Some(options.len() - 1);
        }
        let request = extract::time::parse(speech, self.session.language, true)?;
        let business = self.ctx.business;
        let wanted = schedule::interpret(&request, business, self.ctx.now, None)?;
        options.iter().position(|slot| {
            let local = self.local(slot.starts_at);
            match wanted {
                Wanted::At { date, time } => local.date_naive() == date && local.time() == time,
                Wanted::Time { hour, minute, meridiem } => {
                    schedule::clock_time(business, Some(local.date_naive()), hour, minute, meridiem)
                        == Some(local.time())
                }
                Wanted::Day { date } => local.date_naive() == date,
                Wanted::Between { .. } => false,
            }
        })
    }

    /// The caller answers the read-back.
    fn read_back_answer(mut self, speech: &str, digits: &str) -> Reply {
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
            let key = format!("reschedule:{}#{attempt}", self.session.call_sid);
            self.session.stage = Stage::Waiting { key: key.clone() };
            return self
                .with_effect(Next::AwaitJob, Effect::Reschedule { idempotency_key: key, appointment_id: id, slot });
        }
        let (Some(name), Some(phone)) = (draft.name, draft.phone) else {
            self.session.job_attempts -= 1;
            return self.next_question();
        };
        let key = BookAppointment::attempt_key(&self.session.call_sid, attempt);
        self.session.stage = Stage::Waiting { key: key.clone() };
        let request =
            BookingRequest { idempotency_key: key, attempt, name, phone, slot, language: self.session.language };
        self.with_effect(Next::AwaitJob, Effect::Book(request))
    }

    fn settled(mut self, outcome: JobOutcome) -> Reply {
        let p = self.p();
        match outcome {
            JobOutcome::Booked { reference, starts_at, .. } => {
                let line = match self.session.draft.name.clone() {
                    Some(name) => p.booked(&name, self.local(starts_at), &reference),
                    None => p.booking_pending_final(),
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

    fn pending(mut self) -> Reply {
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

/// "the name", "the number is wrong", "the time": which field the caller wants to change.
fn mentioned_field(speech: &str) -> Option<Field> {
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
