//! The appointment's time: a request applied to the draft and checked against the business's
//! rules ([`crate::schedule`]), the nearest free times offered when it cannot be booked, and the
//! caller's choice among them.

use chrono::{DateTime, Datelike as _, NaiveDate, NaiveTime, Utc};

use super::Turn;
use crate::dialogue::{Expect, Field, Next, Reply, Stage};
use crate::extract::time::{DateSpec, Meridiem, TimeRequest, WeekdayWhich};
use crate::extract::{self, Answer};
use crate::schedule::{self, Slot, Unavailable, Wanted};
use crate::text::words;

/// The outcome of applying a time request to the draft.
pub(super) enum TimeOutcome {
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
    /// Applies a date/time request to the draft, checking it against the business's rules.
    pub(super) fn apply_time(&mut self, request: &TimeRequest) -> TimeOutcome {
        let anchored = self.in_chosen_week(request);
        let request = anchored.as_ref().unwrap_or(request);
        let business = self.ctx.business;
        let Some(wanted) = schedule::interpret(request, business, self.ctx.now, self.session.draft.day) else {
            return TimeOutcome::Nothing;
        };
        match wanted {
            Wanted::At { date, time } => match business.instant(date, time) {
                Some(start) => self.try_slot(start),
                None => TimeOutcome::Nothing,
            },
            Wanted::Between { first, last, from, to } => self.first_opening(first, last, from, to),
            Wanted::Day { date } => self.apply_day(date),
            Wanted::Time { hour, minute, meridiem } => self.apply_clock(hour, minute, meridiem),
        }
    }

    /// "No, Wednesday" after hearing "Tuesday, December 1": the Wednesday of that week, as a
    /// date, when it is still ahead; `None` when the request is not such a correction.
    fn in_chosen_week(&self, request: &TimeRequest) -> Option<TimeRequest> {
        let Some(DateSpec::Weekday { day, which: WeekdayWhich::Coming }) = request.date else { return None };
        let chosen = self.local(self.session.draft.slot?.starts_at).date_naive();
        let today = self.ctx.business.today(self.ctx.now);
        let date = schedule::weekday_in_week_of(chosen, day).filter(|date| *date > today)?;
        Some(TimeRequest {
            date: Some(DateSpec::MonthDay { month: date.month(), day: date.day() }),
            time: request.time,
        })
    }

    /// "Tuesday morning", "next week": the first free slot between `from` and `to` on the days
    /// from `first` to `last`, or the nearest others when there is none.
    fn first_opening(&mut self, first: NaiveDate, last: NaiveDate, from: NaiveTime, to: NaiveTime) -> TimeOutcome {
        let business = self.ctx.business;
        let dates = first.iter_days().take_while(|d| *d <= last);
        let found = schedule::first_between(
            business,
            self.ctx.busy.slots(),
            &self.session.draft.taken,
            self.ctx.now,
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
                let around = business.instant(first, from).unwrap_or(self.ctx.now);
                let line = self.p().nothing_free_then();
                self.say.push(line);
                TimeOutcome::Offered(self.offer_near(around))
            }
        }
    }

    /// A day without a time: kept for the time to come, unless the business takes no
    /// appointments that day ([`schedule::check_day`]), when the nearest free times are offered.
    fn apply_day(&mut self, date: NaiveDate) -> TimeOutcome {
        let business = self.ctx.business;
        let first_open = business.hours.on(date.weekday()).first().map(|s| s.open);
        let around = business.instant(date, first_open.unwrap_or(NaiveTime::MIN)).unwrap_or(self.ctx.now);
        if let Err(problem) = schedule::check_day(business, self.ctx.now, date) {
            let line = self.p().unavailable(problem, self.local(around));
            self.say.push(line);
            return TimeOutcome::Offered(self.offer_near(around));
        }
        self.session.draft.day = Some(date);
        // "No, Wednesday": a new day keeps the time already chosen.
        let kept_time = self.session.draft.slot.map(|s| self.local(s.starts_at).time());
        match self.session.draft.time.or(kept_time).and_then(|time| business.instant(date, time)) {
            Some(start) => self.try_slot(start),
            None => TimeOutcome::Partial,
        }
    }

    /// A time without a day: on the day already chosen ("No, at three"), or today when today
    /// works; otherwise kept while Bella asks which day.
    fn apply_clock(&mut self, hour: u32, minute: u32, meridiem: Option<Meridiem>) -> TimeOutcome {
        let business = self.ctx.business;
        let now = self.ctx.now;
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
        if let Some(start) = business.instant(today, time)
            && schedule::check(business, self.ctx.busy.slots(), now, start).is_ok()
            && !self.is_taken(start)
        {
            return self.try_slot(start);
        }
        self.session.draft.time = Some(time);
        TimeOutcome::Partial
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
    pub(super) fn offer_near(&mut self, around: DateTime<Utc>) -> Reply {
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
            return Reply {
                say,
                next: Next::Listen { expect: Expect::Time },
                effect: None,
                language,
                aside: self.aside.take(),
            };
        }
        let times: Vec<_> = options.iter().map(|s| self.local(s.starts_at)).collect();
        say.push(self.p().offer(&times));
        self.session.stage = Stage::Offering { options };
        Reply { say, next: Next::Listen { expect: Expect::Choice }, effect: None, language, aside: self.aside.take() }
    }

    /// The caller answers an offer of alternative times.
    pub(super) fn offering(mut self, speech: &str, digits: &str, options: &[Slot]) -> Reply {
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
    pub(super) fn choice(&self, speech: &str, digits: &str, options: &[Slot]) -> Option<usize> {
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
}
