//! The clock rules: each reads one way of saying a time of day, and [`CLOCK_RULES`] says in
//! which order they are tried; then the part of the day ("in the afternoon"), which can stand
//! alone or settle a clock time's am or pm.

use super::lexicon::{Key, Tok};
use super::parser::Parser;
use super::{DayPart, Meridiem, TimeSpec};

/// A clock rule: reads one way of saying a time from the unused tokens, marks what it read and
/// returns the time. `None` leaves every token as it was, for the next rule.
type ClockRule = fn(&mut Parser) -> Option<TimeSpec>;

/// The clock rules, tried in this order; the first that reads a time wins.
///
/// 1. French clock times ("14 h 30", "trois heures et demie"), whose numbers the English rules
///    would misread.
/// 2. `2:30`, unambiguous.
/// 3. "half past two", "quarter to four", "ten to one", before the hour and minutes rule would
///    read "ten … one" as a time.
/// 4. "noon" and "midnight".
/// 5. "two thirty", "eleven forty-five".
/// 6. "3 pm", "three o'clock".
/// 7. "at 3", "around 10".
///
/// When Bella has just asked for the time, a lone hour ("two") is read last.
const CLOCK_RULES: &[ClockRule] = &[
    Parser::french_clock,
    Parser::colon_clock,
    Parser::minutes_past_or_to,
    Parser::noon,
    Parser::midnight,
    Parser::hour_and_minutes,
    Parser::hour_with_meridiem,
    Parser::at_hour,
];

fn clock(hour: u32, minute: u32, meridiem: Option<Meridiem>) -> TimeSpec {
    TimeSpec::Clock { hour, minute, meridiem }
}

impl Parser {
    /// The clock time the caller said, read by the first of the [`CLOCK_RULES`] that reads one.
    /// `expecting` says a bare number counts as an hour.
    pub(super) fn time(&mut self, expecting: bool) -> Option<TimeSpec> {
        CLOCK_RULES.iter().find_map(|rule| rule(self)).or_else(|| if expecting { self.lone_hour() } else { None })
    }

    /// Whether the utterance names a part of the day, used or not.
    pub(super) fn has_day_part(&self) -> bool {
        self.toks.iter().any(|t| {
            matches!(
                t,
                Tok::Key(
                    Key::Morning
                        | Key::Afternoon
                        | Key::Evening
                        | Key::Tonight
                        | Key::EarlyAfternoon
                        | Key::LateAfternoon
                )
            )
        })
    }

    fn meridiem_at(&self, i: usize) -> Option<Meridiem> {
        match self.get(i) {
            Some(Tok::Key(Key::Am)) => Some(Meridiem::Am),
            Some(Tok::Key(Key::Pm)) => Some(Meridiem::Pm),
            _ => None,
        }
    }

    /// Reads an optional am/pm at `i` and marks it.
    fn take_meridiem(&mut self, i: usize) -> Option<Meridiem> {
        let m = self.meridiem_at(i);
        if m.is_some() {
            self.mark(i..i + 1);
        }
        m
    }

    fn hour_at(&self, i: usize) -> Option<u32> {
        match self.get(i) {
            Some(Tok::Num(h)) if h <= 24 => Some(h),
            Some(Tok::Key(Key::Noon)) => Some(12),
            _ => None,
        }
    }

    /// "14 h 30", "quatorze heures trente", "deux heures et quart", "trois heures et demie",
    /// "quatre heures moins quart", "midi et demi".
    fn french_clock(&mut self) -> Option<TimeSpec> {
        use Key::*;
        for i in 0..self.len() {
            let (hour, after) = match (self.get(i), self.get(i + 1)) {
                (Some(Tok::Num(h)), Some(Tok::Key(Hours))) if h <= 24 => (h, i + 2),
                (Some(Tok::Key(Noon)), Some(Tok::Key(Et | Moins)) | Some(Tok::Num(_))) => (12, i + 1),
                (Some(Tok::Key(Midnight)), Some(Tok::Key(Et | Moins))) => (0, i + 1),
                _ => continue,
            };
            let (minutes, used) = match (self.get(after), self.get(after + 1)) {
                (Some(Tok::Key(Et)), Some(Tok::Key(Quarter))) => (15, 2),
                (Some(Tok::Key(Et)), Some(Tok::Key(Half))) => (30, 2),
                (Some(Tok::Key(Moins)), Some(Tok::Key(Quarter))) => (-15, 2),
                (Some(Tok::Key(Moins)), Some(Tok::Num(m))) if (1..=59).contains(&m) => (-(m as i32), 2),
                (Some(Tok::Num(m)), _) if m <= 59 => (m as i32, 1),
                _ => (0, 0),
            };
            if hour == 12 && used == 0 && self.get(i + 1) != Some(Tok::Key(Hours)) {
                continue;
            }
            self.mark(i..after + used);
            let (hour, minute) =
                if minutes < 0 { ((hour + 23) % 24, (60 + minutes) as u32) } else { (hour, minutes as u32) };
            // "moins quart" before 1 o'clock is 12:45, not 0:45.
            let hour = if hour == 0 && minutes < 0 { 12 } else { hour };
            return Some(clock(hour, minute, None));
        }
        None
    }

    /// `2:30`, `2:30 pm`.
    fn colon_clock(&mut self) -> Option<TimeSpec> {
        let (i, (h, m)) = self.find_map(|t| match t {
            Tok::Clock(h, m) => Some((h, m)),
            _ => None,
        })?;
        self.mark(i..i + 1);
        let mer = self.take_meridiem(i + 1);
        Some(clock(h, m, mer))
    }

    /// "half past two", "quarter past two", "quarter to four", "twenty past two", "ten to four".
    fn minutes_past_or_to(&mut self) -> Option<TimeSpec> {
        let (i, minutes, hour, past) = (0..self.len().saturating_sub(2)).find_map(|i| {
            let minutes = match self.get(i) {
                Some(Tok::Key(Key::Half)) => 30,
                Some(Tok::Key(Key::Quarter)) => 15,
                Some(Tok::Num(m)) if (1..=59).contains(&m) => m,
                _ => return None,
            };
            let past = match self.get(i + 1) {
                Some(Tok::Key(Key::Past | Key::After)) => true,
                Some(Tok::Key(Key::To | Key::Of)) => false,
                _ => return None,
            };
            let hour = self.hour_at(i + 2)?;
            // "half to four" is not a time.
            (minutes != 30 || past).then_some((i, minutes, hour, past))
        })?;
        self.mark(i..i + 3);
        let mer = self.take_meridiem(i + 3);
        let (hour, minute) = if past { (hour, minutes) } else { ((hour + 23) % 24, 60 - minutes) };
        let hour = if hour == 0 && !past { 12 } else { hour };
        Some(clock(hour, minute, mer))
    }

    fn noon(&mut self) -> Option<TimeSpec> {
        let i = self.find(|t| t == Tok::Key(Key::Noon))?;
        self.mark(i..i + 1);
        Some(clock(12, 0, Some(Meridiem::Pm)))
    }

    fn midnight(&mut self) -> Option<TimeSpec> {
        let i = self.find(|t| t == Tok::Key(Key::Midnight))?;
        self.mark(i..i + 1);
        Some(clock(0, 0, Some(Meridiem::Am)))
    }

    /// "two thirty", "two thirty pm", "eleven forty-five", "2 30".
    fn hour_and_minutes(&mut self) -> Option<TimeSpec> {
        let (i, h, m) = (0..self.len().saturating_sub(1)).find_map(|i| match (self.get(i), self.get(i + 1)) {
            (Some(Tok::Num(h)), Some(Tok::Num(m))) if (1..=23).contains(&h) && (10..=59).contains(&m) => {
                Some((i, h, m))
            }
            _ => None,
        })?;
        self.mark(i..i + 2);
        let mer = self.take_meridiem(i + 2);
        Some(clock(h, m, mer))
    }

    /// "3 pm", "three o'clock", "15 o'clock".
    fn hour_with_meridiem(&mut self) -> Option<TimeSpec> {
        for i in 0..self.len().saturating_sub(1) {
            let Some(Tok::Num(h)) = self.get(i) else { continue };
            let oclock = self.is_key(i + 1, Key::OClock);
            if !((1..=12).contains(&h) || ((13..=23).contains(&h) && oclock)) {
                continue;
            }
            if let Some(mer) = self.meridiem_at(i + 1) {
                self.mark(i..i + 2);
                return Some(clock(h, 0, Some(mer)));
            }
            if oclock {
                self.mark(i..i + 2);
                let mer = self.take_meridiem(i + 2);
                return Some(clock(h, 0, mer));
            }
        }
        None
    }

    /// "at 3", "around 10".
    fn at_hour(&mut self) -> Option<TimeSpec> {
        let (i, h) = (0..self.len().saturating_sub(1)).find_map(|i| match self.get(i + 1) {
            Some(Tok::Num(h)) if self.is_key(i, Key::At) && h <= 23 => Some((i, h)),
            _ => None,
        })?;
        self.mark(i..i + 2);
        Some(clock(h, 0, None))
    }

    /// A lone hour, when Bella has just asked for the time: "two".
    fn lone_hour(&mut self) -> Option<TimeSpec> {
        let (i, h) = self.find_map(|t| match t {
            Tok::Num(h) if (1..=23).contains(&h) => Some(h),
            _ => None,
        })?;
        self.mark(i..i + 1);
        Some(clock(h, 0, None))
    }

    /// "in the morning", "after lunch", "tonight": a part of the day, on its own or qualifying
    /// a clock time ("two in the afternoon").
    pub(super) fn day_part(&mut self) -> Option<DayPart> {
        use Key::*;
        let (i, part) = (0..self.len()).find_map(|i| {
            let part = match self.get(i)? {
                Tok::Key(Morning) => DayPart::Morning,
                Tok::Key(Afternoon) => DayPart::Afternoon,
                Tok::Key(Evening | Tonight) => DayPart::Evening,
                Tok::Key(EarlyAfternoon) => DayPart::EarlyAfternoon,
                Tok::Key(LateAfternoon) => DayPart::LateAfternoon,
                Tok::Key(Lunch) if self.prev_is_key(i, After) => DayPart::Afternoon,
                Tok::Key(First) if self.toks.get(i + 1) == Some(&Tok::Other) => DayPart::Morning,
                _ => return None,
            };
            Some((i, part))
        })?;
        self.mark(i..i + 1);
        Some(part)
    }
}
