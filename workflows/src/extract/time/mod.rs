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
//! - `phrases`: idioms rewritten before the words are read;
//! - `lexicon`: the words of both languages, and `lex`, which turns an utterance into tokens
//!   (`lexicon/counts`: the numbers that are not times, read as nothing);
//! - `parser`: the token cursor the rules read through, each token used at most once;
//! - `date` and `clock`: the rules for a day and for a time of day, each a small function, tried
//!   in a documented order until one reads something.

mod clock;
mod date;
mod lexicon;
mod parser;
mod phrases;

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use std::borrow::Cow;

use crate::extract::numbers::digit_word;
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
    /// The week (Monday to Sunday) that holds a day: "the week after next", "the week of the
    /// 14th", "la semaine du 14 décembre".
    WeekOf {
        day: Box<DateSpec>,
    },
    /// "the 20th of next month", "le 20 du mois prochain".
    DayOfNextMonth {
        day: u32,
    },
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
    /// The Quebec "lundi en huit" (one week) and "mardi en quinze" (two): that many weeks after
    /// the coming one.
    WeeksAfterComing {
        weeks: u32,
    },
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
    let speech = written_dates(speech);
    let speech = without_dictated_numbers(&speech);
    let mut parser = Parser::new(lex(&speech, language));
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

/// Numeric dates as a recogniser may write them ("2/15", "17/02"), spelled out as a month and a
/// day when only one reading is a date (February 15 either way); "3/4", which could be March 4 or
/// April 3, is dropped rather than guessed. Never a time.
fn written_dates(speech: &str) -> Cow<'_, str> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if !speech.contains('/') {
        return Cow::Borrowed(speech);
    }
    let read = |word: &str| -> Option<String> {
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '/');
        let (a, b) = bare.split_once('/')?;
        let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
        let (month, day) = match (a, b) {
            (1..=12, 13..=31) => (a, b),
            (13..=31, 1..=12) => (b, a),
            _ => return Some(String::new()),
        };
        Some(format!("{} {day}", MONTHS[month as usize - 1]))
    };
    let words: Vec<String> = speech.split_whitespace().map(|w| read(w).unwrap_or_else(|| w.to_owned())).collect();
    Cow::Owned(words.join(" "))
}

/// Words after which a number is a time of day, not the start of a dictated number.
const TIME_PREPOSITIONS: [&str; 7] = ["at", "around", "by", "à", "vers", "avant", "après"];

/// Digits in a run of words that makes it a number being dictated, not a time.
const DICTATED_DIGITS: usize = 7;

/// The speech without the numbers dictated in it: a run of digit words and digit groups that
/// holds seven digits or more ("six one three five five five oh one four two", "416 555-0123")
/// is a phone number, and "five oh one" inside it is not 5:01 PM. The rest of the sentence is
/// read as before ("at 2 pm, my number is 416 555 0123").
fn without_dictated_numbers(speech: &str) -> Cow<'_, str> {
    let words: Vec<&str> = speech.split_whitespace().collect();
    let digits: Vec<Option<usize>> = words.iter().map(|word| digits_in(word)).collect();
    let mut kept = Vec::with_capacity(words.len());
    let mut dropped = false;
    let mut i = 0;
    while i < words.len() {
        if postal_code_half(words[i]) {
            dropped = true;
            i += 1;
            continue;
        }
        if digits[i].is_none() {
            kept.push(words[i]);
            i += 1;
            continue;
        }
        let end = (i..words.len()).find(|&j| digits[j].is_none()).unwrap_or(words.len());
        // "at three, four one six …": after a time's preposition, a run one word longer than a
        // number begins with the time. ("Call me at four one six …" is the number alone.)
        let total: usize = digits[i..end].iter().flatten().sum();
        let a_number = total == 10
            || total == 11 && matches!(words[i].trim_matches(',').to_lowercase().as_str(), "one" | "1" | "un");
        if i > 0 && TIME_PREPOSITIONS.contains(&words[i - 1].to_lowercase().as_str()) && !a_number {
            kept.push(words[i]);
            i += 1;
            continue;
        }
        if total >= DICTATED_DIGITS || dictated_digit_words(&words[i..end]) {
            dropped = true;
        } else {
            kept.extend_from_slice(&words[i..end]);
        }
        i = end;
    }
    if dropped { Cow::Owned(kept.join(" ")) } else { Cow::Borrowed(speech) }
}

/// Three digit words or more in a row ("six four seven", "cinq cinq cinq") are digits being
/// dictated, unless they are a clock with "oh" in the middle ("one oh five").
fn dictated_digit_words(run: &[&str]) -> bool {
    let words: Vec<String> =
        run.iter().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).collect();
    let single = |w: &str| digit_word(w).is_some() || w.len() == 1 && w.bytes().all(|b| b.is_ascii_digit());
    let digit_words = words.iter().filter(|w| single(w)).count();
    let a_clock = words.len() == 3 && matches!(words[1].as_str(), "oh" | "o" | "zero");
    digit_words >= 3 && digit_words == words.len() && !a_clock
}

/// Half of a Canadian postal code ("M5V", "2T6"), which would otherwise lend its digits to a time.
fn postal_code_half(word: &str) -> bool {
    let bare: Vec<char> = word.trim_matches(|c: char| !c.is_alphanumeric()).chars().collect();
    bare.len() == 3
        && (bare[0].is_ascii_alphabetic() && bare[1].is_ascii_digit() && bare[2].is_ascii_alphabetic()
            || bare[0].is_ascii_digit() && bare[1].is_ascii_alphabetic() && bare[2].is_ascii_digit())
}

/// The digits a word stands for in a dictated number: a digit group ("416", "555-0123") or a
/// digit word ("six", "oh", "neuf").
fn digits_in(word: &str) -> Option<usize> {
    let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
    if !bare.is_empty() && bare.chars().all(|c| c.is_ascii_digit() || c == '-') {
        return Some(bare.chars().filter(char::is_ascii_digit).count());
    }
    digit_word(&bare.to_lowercase()).map(|_| 1)
}

#[cfg(test)]
mod tests;
