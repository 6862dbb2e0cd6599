//! The transitions of the call. See the module documentation of [`super`].
//!
//! [`handle`] wraps one event in a [`Turn`] and dispatches it on the stage. This file holds what
//! every stage shares (speaking, listening, silences, misses, asking again, a transfer) and the
//! greeting; the rest is one file per concern:
//!
//! - `existing`: finding the caller's appointment, to move or cancel it;
//! - `collect`: taking the name, the number and the time from any answer, and asking for what is
//!   missing; a language model's repair of a misheard answer;
//! - `slot`: the time, checked against the business's rules, and alternatives offered;
//! - `confirm`: the read-back, the booking job and its outcome.

mod collect;
mod confirm;
mod existing;
mod slot;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::prompts::Prompts;
use super::{
    Aside, Calendar, Context, Effect, Event, Expect, Field, MAX_MISSES, MAX_SILENCES, MAX_TURNS, Next, Reply, Session,
    Stage, Task,
};

use crate::extract::{self, Answer, Intent, language};
use crate::ids::Language;
use crate::schedule::Slot;
use crate::speech;

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
    let turn = Turn { session, ctx: &inner, say: Vec::new(), aside: None };
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
    aside: Option<Aside>,
}

impl Turn<'_, '_> {
    fn p(&self) -> Prompts {
        Prompts(self.session.language)
    }

    fn local(&self, at: DateTime<Utc>) -> DateTime<Tz> {
        self.ctx.business.local(at)
    }

    fn reply(self, next: Next) -> Reply {
        Reply { say: self.say, next, effect: None, language: self.session.language, aside: self.aside }
    }

    fn with_effect(self, next: Next, effect: Effect) -> Reply {
        Reply { say: self.say, next, effect: Some(effect), language: self.session.language, aside: self.aside }
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

        self.tell_unserved_language(speech);
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

    /// A caller speaking a language the business does not serve hears once, in their language,
    /// that the line serves the business's (and how to reach a person, when there is one); the
    /// call carries on in the business's language.
    fn tell_unserved_language(&mut self, speech: &str) {
        if self.session.told_unserved_language || self.session.stage != Stage::Greeting {
            return;
        }
        let spoken = language::requested(speech).or_else(|| language::detect(speech));
        let Some(spoken) = spoken.filter(|l| !self.ctx.business.languages.contains(l)) else { return };
        self.session.told_unserved_language = true;
        let text = Prompts(spoken).line_serves(self.session.language, self.ctx.business.transfer_number.is_some());
        self.aside = Some(Aside { language: spoken, text });
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
        if let Stage::Asking { field: field @ (Field::Name | Field::SpelledName) } = self.session.stage {
            return self.name_missed(field);
        }
        // A caller answering a yes-or-no question, every detail collected, is not hung up on: the
        // keypad is offered and the question asked again (the call is still bounded by MAX_TURNS).
        let yes_or_no = matches!(self.session.stage, Stage::ReadBack | Stage::ConfirmCancel);
        if self.session.misses >= MAX_MISSES {
            match self.ctx.business.transfer_number.clone() {
                Some(to) => {
                    self.session.stage = Stage::Ended;
                    let line = self.p().transfer_after_trouble();
                    self.say.push(line);
                    return self.reply(Next::Transfer { to });
                }
                None if yes_or_no => {}
                None => {
                    let line = self.p().goodbye_confused();
                    return self.end(line);
                }
            }
        }
        let line =
            if yes_or_no && self.session.misses >= 2 { self.p().keypad_yes_no() } else { self.p().not_understood() };
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
}
