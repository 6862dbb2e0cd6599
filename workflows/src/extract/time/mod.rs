//! When the caller wants to come: a small grammar for spoken dates and times.
//!
//! Parsing produces a [`TimeRequest`], which still speaks the caller's terms ("Tuesday", "half past
//! two", "in the morning"); [`crate::schedule::interpret`] then resolves it against a reference
//! instant in the business's time zone and its opening hours. The split keeps this module free of
//! clocks and time zones: the system we replace resolved "tomorrow" on the server's UTC clock.
//!
//! Words are first turned into language-neutral tokens (numbers, weekdays, months, keywords), so
//! that a second language adds a lexicon rather than a second parser. The steps, one file each:
//!
//! - `lexicon`: the words of both languages, idioms rewritten, and `lex`, which turns an utterance
//!   into tokens;
//! - `parser`: the token cursor the rules read through, each token used at most once;
//! - `date` and `clock`: the rules for a day and for a time of day, each a small function, tried
//!   in a documented order until one reads something.

mod clock;
mod date;
mod lexicon;
mod parser;

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use crate::holidays::HolidayName;
use crate::ids::Language;
use lexicon::lex;
use parser::Parser;

/// A date and/or time as the caller expressed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRequest {
    pub date: Option<DateSpec>,
    pub time: Option<TimeSpec>,
}

/// A day, as the caller named it; [`crate::schedule::resolve_date`] finds it on the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DateSpec {
    Today,
    Tomorrow,
    AfterTomorrow,
    /// A weekday; see [`WeekdayWhich`] for what "next" means.
    Weekday {
        day: Weekday,
        which: WeekdayWhich,
    },
    InDays {
        days: u32,
    },
    /// "next week" with no day named.
    NextWeek,
    MonthDay {
        month: u32,
        day: u32,
    },
    /// "the 12th", or the Quebec "jeudi le 12" (which also names the weekday).
    DayOfMonth {
        day: u32,
        weekday: Option<Weekday>,
    },
    /// "Christmas", "la fête du Travail": the next time it comes.
    Holiday {
        name: HolidayName,
    },
}

/// Our policy for weekdays (documented in docs/understanding.md): a bare or "this"/"coming"
/// weekday is the next one after today; "next Tuesday" and "Tuesday next week" are the Tuesday of
/// next calendar week (weeks start on Monday). Bella always reads back the weekday *and* the date,
/// so a caller who meant otherwise hears it and corrects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeekdayWhich {
    Coming,
    NextWeek,
}

/// A time of day: a clock time ("half past two"), or a part of the day ("in the morning").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TimeSpec {
    Clock { hour: u32, minute: u32, meridiem: Option<Meridiem> },
    Part { part: DayPart },
}

/// "am" or "pm", when the caller said it (or a part of the day implied it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Meridiem {
    Am,
    Pm,
}

/// A part of the day; [`crate::schedule`] gives each its local hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayPart {
    Morning,
    Afternoon,
    /// "after lunch", "après le dîner", "en début d'après-midi".
    EarlyAfternoon,
    /// "end of day", "en fin d'après-midi", "en fin de journée".
    LateAfternoon,
    Evening,
}

/// Parses a date and/or time from speech in `language` (the other language's words are
/// understood too, as callers mix them). `expecting_time` says that Bella has just asked for
/// the time, so that a bare number ("two") counts as an hour.
pub fn parse(speech: &str, language: Language, expecting_time: bool) -> Option<TimeRequest> {
    let mut parser = Parser::new(lex(speech, language));
    let date = parser.date();
    let mut time = parser.time(expecting_time || date.is_some() || parser.has_day_part());
    let part = parser.day_part();
    match (&mut time, part) {
        (Some(TimeSpec::Clock { hour, meridiem, .. }), Some(part)) if meridiem.is_none() && *hour <= 12 => {
            *meridiem = Some(if part == DayPart::Morning { Meridiem::Am } else { Meridiem::Pm });
        }
        (None, Some(part)) => time = Some(TimeSpec::Part { part }),
        _ => {}
    }
    if let Some(TimeSpec::Clock { hour, minute, meridiem }) = &mut time {
        if *hour > 24 || *minute > 59 {
            time = None;
        } else if *hour > 12 {
            *meridiem = None;
        }
    }
    if date.is_none() && time.is_none() {
        return None;
    }
    Some(TimeRequest { date, time })
}

#[cfg(test)]
mod tests;
