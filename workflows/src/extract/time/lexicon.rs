//! The words Bella knows for dates and times, in English and French, and [`lex`], which turns
//! an utterance into language-neutral tokens for the parser.
//!
//! Kept apart from the grammar so that a new word, idiom or language is a change here alone.

use chrono::Weekday;

mod counts;

use super::phrases::rewrite;
use crate::extract::numbers::{digit_word, number_at};
use crate::holidays::HolidayName;
use crate::ids::Language;
use crate::text::fold_accents;

/// One word (or a few, read together) as the grammar sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
    /// A cardinal number, from digits or words.
    Num(u32),
    /// `2:30`.
    Clock(u32, u32),
    Ordinal(u32),
    Weekday(Weekday),
    Month(u32),
    Holiday(HolidayName),
    Key(Key),
    Other,
}

/// A word with a fixed meaning in the grammar; both languages' words map to the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    Today,
    Tonight,
    Tomorrow,
    Day,
    Days,
    Week,
    Weeks,
    After,
    Next,
    This,
    Coming,
    /// "en huit" after a day: a week after it.
    WeekLater,
    /// "en quinze" after a day: two weeks after it.
    TwoWeeksLater,
    /// "the week of", "la semaine du": the week around the day that follows.
    WeekOf,
    /// "of next month", "du mois prochain", after a day of the month.
    NextMonth,
    In,
    A,
    The,
    Of,
    At,
    Am,
    Pm,
    Half,
    Quarter,
    Past,
    To,
    OClock,
    Noon,
    Midnight,
    Morning,
    Afternoon,
    Evening,
    Lunch,
    First,
    /// French `h`, `heure(s)`: "14 h 30", "deux heures".
    Hours,
    /// French `et`: "et quart", "et demie".
    Et,
    /// French `moins`: "moins quart".
    Moins,
    AfterTomorrow,
    Weekend,
    EarlyAfternoon,
    LateAfternoon,
}

/// The key a word stands for, in either language.
fn keyword(word: &str) -> Option<Key> {
    use Key::*;
    Some(match word {
        "today" => Today,
        "tonight" => Tonight,
        "tomorrow" | "tmrw" | "tomorow" => Tomorrow,
        "day" => Day,
        "days" => Days,
        "week" => Week,
        "weeks" => Weeks,
        "after" => After,
        "next" | "following" => Next,
        "this" => This,
        "coming" => Coming,
        "in" => In,
        "a" | "an" | "one" => A,
        "the" => The,
        "of" => Of,
        "at" | "around" | "about" | "for" | "by" => At,
        "am" => Am,
        "pm" => Pm,
        "half" => Half,
        "quarter" => Quarter,
        "past" => Past,
        "to" | "till" | "til" | "before" => To,
        "o'clock" | "oclock" => OClock,
        "noon" | "midday" | "lunchtime" => Noon,
        "midnight" => Midnight,
        "morning" | "mornings" => Morning,
        "afternoon" | "afternoons" => Afternoon,
        "evening" | "evenings" => Evening,
        "lunch" => Lunch,
        "first" => First,
        "weeklater" => WeekLater,
        "weekof" => WeekOf,
        "nextmonth" => NextMonth,
        "twoweekslater" => TwoWeeksLater,
        // French.
        "aujourd'hui" | "aujourdhui" => Today,
        "demain" => Tomorrow,
        "jour" => Day,
        "jours" => Days,
        "semaine" => Week,
        "semaines" => Weeks,
        "prochain" | "prochaine" | "suivant" | "suivante" => Next,
        "ce" | "cette" => This,
        "dans" => In,
        "le" | "la" | "les" => The,
        "de" | "du" | "des" => Of,
        "à" | "vers" | "pour" | "autour" => At,
        "demie" | "demi" => Half,
        "quart" => Quarter,
        "midi" => Noon,
        "minuit" => Midnight,
        "matin" | "matinée" | "matinee" => Morning,
        "soir" | "soirée" | "soiree" => Evening,
        "h" | "heure" | "heures" | "hr" | "hrs" => Hours,
        "et" => Et,
        "moins" => Moins,
        // Produced by `rewrite`.
        "aftertomorrow" => AfterTomorrow,
        "weekend" | "week-end" => Weekend,
        "earlyafternoon" => EarlyAfternoon,
        "lateafternoon" => LateAfternoon,
        _ => return None,
    })
}

/// A weekday's name. The English abbreviations count only in English: "mon" is French for "my".
fn weekday(word: &str, language: Language) -> Option<Weekday> {
    use Weekday::*;
    if language == Language::En {
        match word {
            "mon" => return Some(Mon),
            "tue" | "tues" => return Some(Tue),
            "wed" => return Some(Wed),
            "thu" | "thur" | "thurs" => return Some(Thu),
            "fri" => return Some(Fri),
            "sat" => return Some(Sat),
            "sun" => return Some(Sun),
            _ => {}
        }
    }
    Some(match word {
        "monday" | "mondays" => Mon,
        "tuesday" | "tuesdays" => Tue,
        "wednesday" | "wednesdays" => Wed,
        "thursday" | "thursdays" => Thu,
        "friday" | "fridays" => Fri,
        "saturday" | "saturdays" => Sat,
        "sunday" | "sundays" => Sun,
        "lundi" => Mon,
        "mardi" => Tue,
        "mercredi" => Wed,
        "jeudi" => Thu,
        "vendredi" => Fri,
        "samedi" => Sat,
        "dimanche" => Sun,
        _ => return None,
    })
}

/// Month names; "may" and "march" are also verbs, so they count only next to a day number.
fn month(word: &str) -> Option<(u32, bool)> {
    Some(match word {
        "january" | "jan" => (1, false),
        "february" | "feb" => (2, false),
        "march" => (3, true),
        "april" | "apr" => (4, false),
        "may" => (5, true),
        "june" | "jun" => (6, false),
        "july" | "jul" => (7, false),
        "august" | "aug" => (8, false),
        "september" | "sept" | "sep" => (9, false),
        "october" | "oct" => (10, false),
        "november" | "nov" => (11, false),
        "december" | "dec" => (12, false),
        "janvier" => (1, false),
        "fevrier" => (2, false),
        "mars" => (3, false),
        "avril" => (4, false),
        "mai" => (5, false),
        "juin" => (6, false),
        "juillet" => (7, false),
        "aout" => (8, false),
        "septembre" => (9, false),
        "octobre" => (10, false),
        "novembre" => (11, false),
        "decembre" => (12, false),
        _ => return None,
    })
}

/// An ordinal said as a word: "third", "premier".
fn ordinal_word(word: &str) -> Option<u32> {
    Some(match word {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "sixth" => 6,
        "seventh" => 7,
        "eighth" => 8,
        "ninth" => 9,
        "tenth" => 10,
        "eleventh" => 11,
        "twelfth" => 12,
        "thirteenth" => 13,
        "fourteenth" => 14,
        "fifteenth" => 15,
        "sixteenth" => 16,
        "seventeenth" => 17,
        "eighteenth" => 18,
        "nineteenth" => 19,
        "twentieth" => 20,
        "thirtieth" => 30,
        "premier" | "première" | "premiere" => 1,
        _ => return None,
    })
}

/// An ordinal written with digits: "3rd", "1er", "2e".
fn numeric_ordinal(word: &str) -> Option<u32> {
    let digits_end = word.find(|c: char| !c.is_ascii_digit())?;
    let (digits, suffix) = word.split_at(digits_end);
    if digits.is_empty() || !matches!(suffix, "st" | "nd" | "rd" | "th" | "er" | "re" | "e" | "ième" | "ieme") {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

/// A holiday that [`rewrite`](super::phrases::rewrite) put in place of its name: `holiday:christmas`.
fn holiday_token(word: &str) -> Option<HolidayName> {
    let name = word.strip_prefix("holiday:")?;
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// The words of an utterance, as [`lex`] reads them, with the tokens read so far.
struct Lexer {
    words: Vec<String>,
    /// The same words, accent-folded, for the tables that compare without accents.
    folded: Vec<String>,
    language: Language,
    toks: Vec<Tok>,
}

/// A word rule: reads the word at `i` (perhaps with the next), pushes its token and says how
/// many words it used; `None` leaves the word to the next rule.
type WordRule = fn(&mut Lexer, usize) -> Option<usize>;

/// The word rules, tried in this order; a word no rule reads is a [`Key`] or [`Tok::Other`].
///
/// Holidays and clock times first, as they are unambiguous; "sept" before the months (seven
/// in French); ordinals before weekdays and months; "first" and "second" before the ordinal
/// words, since only the article or a month makes them ordinals; "oh" before the numbers it
/// joins ("eleven oh five"); "one" last among the numbers, since it can stand for "a".
const WORD_RULES: &[WordRule] = &[
    Lexer::holiday,
    Lexer::address,
    Lexer::minutes_past,
    Lexer::half_hour,
    Lexer::compact_clock,
    Lexer::quantity,
    Lexer::labelled_number,
    Lexer::ranked,
    Lexer::code,
    Lexer::french_sept,
    Lexer::french_day_of_month,
    Lexer::french_weeks_later,
    Lexer::clock,
    Lexer::numeric_ordinal,
    Lexer::tens_and_ordinal,
    Lexer::weekday,
    Lexer::month,
    Lexer::first_or_second,
    Lexer::ordinal_word,
    Lexer::oh_minutes,
    Lexer::number,
    Lexer::one,
];

/// Turns an utterance into tokens: idioms rewritten (see [`rewrite`]), then each word read by
/// the first of the [`WORD_RULES`] that knows it.
pub(super) fn lex(input: &str, language: Language) -> Vec<Tok> {
    let words = rewrite(input);
    let folded = words.iter().map(|w| fold_accents(w)).collect();
    let mut lexer = Lexer { toks: Vec::with_capacity(words.len()), words, folded, language };
    let mut i = 0;
    while i < lexer.words.len() {
        i += match WORD_RULES.iter().find_map(|rule| rule(&mut lexer, i)) {
            Some(used) => used,
            None => lexer.push(keyword(&lexer.words[i]).map_or(Tok::Other, Tok::Key), 1),
        };
    }
    lexer.toks
}

impl Lexer {
    /// Pushes `tok`, read from `used` words.
    fn push(&mut self, tok: Tok, used: usize) -> usize {
        self.toks.push(tok);
        used
    }

    fn word(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(String::as_str)
    }

    /// "holiday:christmas", as [`rewrite`] left it.
    fn holiday(&mut self, i: usize) -> Option<usize> {
        let name = holiday_token(&self.words[i])?;
        Some(self.push(Tok::Holiday(name), 1))
    }

    /// "sept" is seven in French and September in English.
    fn french_sept(&mut self, i: usize) -> Option<usize> {
        (self.language == Language::Fr && self.folded[i] == "sept").then(|| self.push(Tok::Num(7), 1))
    }

    /// "twenty minutes past three", "10 minutes to 5": a clock, minutes and all.
    fn minutes_past(&mut self, i: usize) -> Option<usize> {
        let (minutes, used) = number_at(&self.words, i).filter(|(n, _)| (1..60).contains(n))?;
        if !matches!(self.folded.get(i + used).map(String::as_str), Some("minute" | "minutes" | "min" | "mins")) {
            return None;
        }
        let before = match self.folded.get(i + used + 1).map(String::as_str) {
            Some("past" | "after") => false,
            Some("to" | "before" | "till" | "til") => true,
            _ => return None,
        };
        let (hour, hour_used) = number_at(&self.words, i + used + 2).filter(|(h, _)| (1..=24).contains(h))?;
        let clock = if before {
            Tok::Clock(if hour == 1 { 12 } else { hour - 1 }, 60 - minutes)
        } else {
            Tok::Clock(hour, minutes)
        };
        Some(self.push(clock, used + 2 + hour_used))
    }

    /// "half three" is half past three (3:30), as many Canadians say it.
    fn half_hour(&mut self, i: usize) -> Option<usize> {
        if self.folded[i] != "half" {
            return None;
        }
        let (hour, used) = number_at(&self.words, i + 1).filter(|(h, _)| (1..=12).contains(h))?;
        if matches!(self.folded.get(i + 1 + used).map(String::as_str), Some("hour" | "hours")) {
            return None;
        }
        Some(self.push(Tok::Clock(hour, 30), 1 + used))
    }

    /// "at 1030", "at 730": a clock written without its colon, after a time's preposition.
    fn compact_clock(&mut self, i: usize) -> Option<usize> {
        let after_preposition = i > 0 && matches!(self.folded[i - 1].as_str(), "at" | "around" | "by" | "a" | "vers");
        let word = self.words[i].as_str();
        if !after_preposition || !(3..=4).contains(&word.len()) || !word.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let value: u32 = word.parse().ok()?;
        let (hour, minute) = (value / 100, value % 100);
        ((1..=23).contains(&hour) && minute < 60).then(|| self.push(Tok::Clock(hour, minute), 1))
    }

    /// "jeudi 15" is Thursday the 15th in French (the time would be "jeudi à 15 h" or "jeudi 15
    /// h"): a number from 1 to 31 right after a weekday, not followed by an hour word.
    fn french_day_of_month(&mut self, i: usize) -> Option<usize> {
        if self.language != Language::Fr || !matches!(self.toks.last(), Some(Tok::Weekday(_))) {
            return None;
        }
        let (n, used) = number_at(&self.words, i).filter(|(n, _)| (1..=31).contains(n))?;
        let next = self.folded.get(i + used).map(String::as_str);
        if matches!(next, Some("h" | "heure" | "heures" | "hr" | "hrs" | "et" | "moins")) {
            return None;
        }
        Some(self.push(Tok::Ordinal(n), used))
    }

    /// "lundi en huit", "mardi en quinze": the day a week (two weeks) after the coming one.
    fn french_weeks_later(&mut self, i: usize) -> Option<usize> {
        if self.language != Language::Fr || self.folded[i] != "en" || !matches!(self.toks.last(), Some(Tok::Weekday(_)))
        {
            return None;
        }
        let key = match self.folded.get(i + 1).map(String::as_str) {
            Some("huit") => Key::WeekLater,
            Some("quinze") => Key::TwoWeeksLater,
            _ => return None,
        };
        Some(self.push(Tok::Key(key), 2))
    }

    /// `2:30`.
    fn clock(&mut self, i: usize) -> Option<usize> {
        let (h, m) = self.words[i].split_once(':')?;
        let (Ok(h), Ok(m)) = (h.parse(), m.parse()) else { return None };
        Some(self.push(Tok::Clock(h, m), 1))
    }

    /// "3rd", "1er".
    fn numeric_ordinal(&mut self, i: usize) -> Option<usize> {
        let d = numeric_ordinal(&self.words[i])?;
        Some(self.push(Tok::Ordinal(d), 1))
    }

    /// "twenty first": a tens word followed by an ordinal unit.
    fn tens_and_ordinal(&mut self, i: usize) -> Option<usize> {
        let (tens, _) = number_at(&self.words, i).filter(|(n, used)| n % 10 == 0 && *n >= 20 && *used == 1)?;
        let unit = self.word(i + 1).and_then(ordinal_word).filter(|unit| *unit < 10)?;
        Some(self.push(Tok::Ordinal(tens + unit), 2))
    }

    fn weekday(&mut self, i: usize) -> Option<usize> {
        let d = weekday(&self.folded[i], self.language)?;
        Some(self.push(Tok::Weekday(d), 1))
    }

    /// A month name; "may" and "march" only near a day number ("March 3rd", "the 3rd of March").
    fn month(&mut self, i: usize) -> Option<usize> {
        let (m, ambiguous) = month(&self.folded[i])?;
        let near_number = |j: Option<usize>| {
            j.and_then(|j| self.word(j))
                .is_some_and(|w| numeric_ordinal(w).is_some() || ordinal_word(w).is_some() || w.parse::<u32>().is_ok())
        };
        let after_of = i.checked_sub(1).is_some_and(|j| self.words[j] == "of");
        let dated = near_number(Some(i + 1))
            || near_number(i.checked_sub(1))
            || near_number(Some(i + 2))
            || (after_of && near_number(i.checked_sub(2)));
        (!ambiguous || dated).then(|| self.push(Tok::Month(m), 1))
    }

    /// Both are ordinals only after "the" or a month ("the first", "March second"); otherwise
    /// "first thing in the morning", "just a second".
    fn first_or_second(&mut self, i: usize) -> Option<usize> {
        let word = self.word(i).filter(|w| *w == "first" || *w == "second")?;
        // "first of March" (without "the") is a date too.
        let of_a_month =
            self.word(i + 1) == Some("of") && self.word(i + 2).is_some_and(|w| month(&fold_accents(w)).is_some());
        let after_the = of_a_month || matches!(self.toks.last(), Some(Tok::Key(Key::The) | Tok::Month(_)));
        let tok = match (after_the, word) {
            (true, "first") => Tok::Ordinal(1),
            (true, _) => Tok::Ordinal(2),
            (false, "first") => Tok::Key(Key::First),
            (false, _) => Tok::Other,
        };
        Some(self.push(tok, 1))
    }

    /// "third", "premier".
    fn ordinal_word(&mut self, i: usize) -> Option<usize> {
        let d = ordinal_word(&self.words[i])?;
        Some(self.push(Tok::Ordinal(d), 1))
    }

    /// "eleven oh five": minutes 01-09 after an hour, which becomes a clock time.
    fn oh_minutes(&mut self, i: usize) -> Option<usize> {
        if self.words[i] != "oh" {
            return None;
        }
        let d = self.word(i + 1).and_then(digit_word).filter(|d| *d > 0)?;
        let Some(Tok::Num(h)) = self.toks.last().copied().filter(|t| matches!(t, Tok::Num(h) if *h <= 23)) else {
            return None;
        };
        self.toks.pop();
        Some(self.push(Tok::Clock(h, d), 2))
    }

    /// A number in digits or words ("twenty-five", "2"), except "a", "an" and "one".
    fn number(&mut self, i: usize) -> Option<usize> {
        if matches!(self.word(i), Some("a" | "an" | "one")) {
            return None;
        }
        let (n, used) = number_at(&self.words, i)?;
        Some(self.push(Tok::Num(n), used))
    }

    /// "one" is a number ("at one") unless it stands for "a" ("in one week").
    fn one(&mut self, i: usize) -> Option<usize> {
        if self.words[i] != "one" {
            return None;
        }
        let next_is_unit = matches!(self.word(i + 1), Some("week" | "day"));
        Some(self.push(if next_is_unit { Tok::Key(Key::A) } else { Tok::Num(1) }, 1))
    }
}
