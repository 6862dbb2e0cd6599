//! When the caller wants to come: a small grammar for spoken dates and times.
//!
//! Parsing produces a [`TimeRequest`], which still speaks the caller's terms ("Tuesday", "half past
//! two", "in the morning"); [`crate::schedule::interpret`] then resolves it against a reference
//! instant in the business's time zone and its opening hours. The split keeps this module free of
//! clocks and time zones: the system we replace resolved "tomorrow" on the server's UTC clock.
//!
//! Words are first turned into language-neutral tokens (numbers, weekdays, months, keywords), so
//! that a second language adds a lexicon rather than a second parser.

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use super::numbers::{digit_word, number_at};
use crate::holidays::HolidayName;
use crate::ids::Language;
use crate::text::{fold_accents, split_hyphens, words};

/// A date and/or time as the caller expressed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRequest {
    pub date: Option<DateSpec>,
    pub time: Option<TimeSpec>,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TimeSpec {
    Clock { hour: u32, minute: u32, meridiem: Option<Meridiem> },
    Part { part: DayPart },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Meridiem {
    Am,
    Pm,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
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

fn numeric_ordinal(word: &str) -> Option<u32> {
    let digits_end = word.find(|c: char| !c.is_ascii_digit())?;
    let (digits, suffix) = word.split_at(digits_end);
    if digits.is_empty() || !matches!(suffix, "st" | "nd" | "rd" | "th" | "er" | "re" | "e" | "ième" | "ieme") {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

/// Phrases rewritten before lexing, longest first: idioms whose words mean something else on
/// their own ("après" + "midi"), and holidays by name. Matched on accent-folded words.
const PHRASES: &[(&str, &str)] = &[
    // French.
    ("en fin de journee", "lateafternoon"),
    ("fin de journee", "lateafternoon"),
    ("en fin d apres midi", "lateafternoon"),
    ("fin d apres midi", "lateafternoon"),
    ("en fin apres midi", "lateafternoon"),
    ("en debut d apres midi", "earlyafternoon"),
    ("debut d apres midi", "earlyafternoon"),
    ("apres le diner", "earlyafternoon"),
    ("apres diner", "earlyafternoon"),
    ("apres le lunch", "earlyafternoon"),
    ("apres le souper", "evening"),
    ("cet apres midi", "today afternoon"),
    ("apres midi", "afternoon"),
    ("avant midi", "morning"),
    ("apres demain", "aftertomorrow"),
    ("a matin", "today morning"),
    ("ce matin", "today morning"),
    ("a soir", "tonight"),
    ("ce soir", "tonight"),
    ("qui vient", "coming"),
    ("fin de semaine", "weekend"),
    ("dans quinze jours", "in 14 days"),
    ("dans huit jours", "in 7 days"),
    ("moins le quart", "moins quart"),
    ("jour de l an", "holiday:new_year"),
    ("nouvel an", "holiday:new_year"),
    ("jour de la famille", "holiday:family_day"),
    ("vendredi saint", "holiday:good_friday"),
    ("lundi de paques", "holiday:easter_monday"),
    ("journee nationale des patriotes", "holiday:victoria_day"),
    ("fete de la reine", "holiday:victoria_day"),
    ("fete nationale", "holiday:saint_jean_baptiste"),
    ("saint jean baptiste", "holiday:saint_jean_baptiste"),
    ("la saint jean", "holiday:saint_jean_baptiste"),
    ("fete du canada", "holiday:canada_day"),
    ("fete du travail", "holiday:labour_day"),
    ("action de graces", "holiday:thanksgiving"),
    ("action de grace", "holiday:thanksgiving"),
    ("jour du souvenir", "holiday:remembrance_day"),
    ("lendemain de noel", "holiday:boxing_day"),
    ("noel", "holiday:christmas"),
    // English.
    ("new year's day", "holiday:new_year"),
    ("new years day", "holiday:new_year"),
    ("new year's", "holiday:new_year"),
    ("family day", "holiday:family_day"),
    ("good friday", "holiday:good_friday"),
    ("easter monday", "holiday:easter_monday"),
    ("victoria day", "holiday:victoria_day"),
    ("canada day", "holiday:canada_day"),
    ("civic holiday", "holiday:civic_holiday"),
    ("labour day", "holiday:labour_day"),
    ("labor day", "holiday:labour_day"),
    ("truth and reconciliation day", "holiday:truth_and_reconciliation"),
    ("thanksgiving", "holiday:thanksgiving"),
    ("remembrance day", "holiday:remembrance_day"),
    ("christmas day", "holiday:christmas"),
    ("christmas", "holiday:christmas"),
    ("boxing day", "holiday:boxing_day"),
    ("this morning", "today morning"),
    ("this afternoon", "today afternoon"),
    ("this evening", "today evening"),
    ("after lunch", "earlyafternoon"),
    ("early afternoon", "earlyafternoon"),
    ("late afternoon", "lateafternoon"),
    ("end of day", "lateafternoon"),
    ("end of the day", "lateafternoon"),
    ("the weekend", "weekend"),
    ("in a couple of days", "in 2 days"),
    ("in a couple days", "in 2 days"),
    ("a week from today", "in 7 days"),
    ("in a fortnight", "in 14 days"),
    ("first thing", "morning"),
];

/// Splits hyphens and elisions (`l'après-midi` → `l`, `après`, `midi`), then rewrites
/// [`PHRASES`], comparing accent-folded words.
fn rewrite(input: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for word in split_hyphens(&words(input)) {
        match ["l'", "d'", "qu'"].iter().find_map(|p| word.strip_prefix(p)) {
            Some(rest) if !rest.is_empty() => {
                pieces.push(word[..word.len() - rest.len() - 1].to_owned());
                pieces.push(rest.to_owned());
            }
            _ => pieces.push(word),
        }
    }
    let words = pieces;
    let folded: Vec<String> = words.iter().map(|w| fold_accents(w)).collect();
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    'outer: while i < words.len() {
        for (phrase, replacement) in PHRASES {
            let needle: Vec<&str> = phrase.split(' ').collect();
            let fits = i + needle.len() <= words.len();
            if fits && needle.iter().enumerate().all(|(k, n)| folded[i + k] == *n) {
                out.extend(replacement.split(' ').map(str::to_owned));
                i += needle.len();
                continue 'outer;
            }
        }
        out.push(words[i].clone());
        i += 1;
    }
    out
}

fn holiday_token(word: &str) -> Option<HolidayName> {
    let name = word.strip_prefix("holiday:")?;
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

fn lex(input: &str, language: Language) -> Vec<Tok> {
    let words = rewrite(input);
    let mut toks = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let folded = fold_accents(word);
        if let Some(name) = holiday_token(word) {
            toks.push(Tok::Holiday(name));
            i += 1;
            continue;
        }
        // "sept" is seven in French and September in English.
        if language == Language::Fr && folded == "sept" {
            toks.push(Tok::Num(7));
            i += 1;
            continue;
        }
        if let Some((h, m)) = word.split_once(':')
            && let (Ok(h), Ok(m)) = (h.parse(), m.parse())
        {
            toks.push(Tok::Clock(h, m));
            i += 1;
            continue;
        }
        if let Some(d) = numeric_ordinal(word) {
            toks.push(Tok::Ordinal(d));
            i += 1;
            continue;
        }
        // "twenty first": a tens word followed by an ordinal unit.
        if let (Some((tens, 1)), Some(unit)) = (
            number_at(&words, i).filter(|(n, _)| n % 10 == 0 && *n >= 20),
            words.get(i + 1).and_then(|w| ordinal_word(w)),
        ) && unit < 10
        {
            toks.push(Tok::Ordinal(tens + unit));
            i += 2;
            continue;
        }
        if let Some(d) = weekday(&folded, language) {
            toks.push(Tok::Weekday(d));
            i += 1;
            continue;
        }
        if let Some((m, ambiguous)) = month(&folded) {
            let near_number = |j: Option<usize>| {
                j.and_then(|j| words.get(j)).is_some_and(|w| {
                    numeric_ordinal(w).is_some() || ordinal_word(w).is_some() || w.parse::<u32>().is_ok()
                })
            };
            let after_of = i.checked_sub(1).is_some_and(|j| words[j] == "of");
            let dated = near_number(Some(i + 1))
                || near_number(i.checked_sub(1))
                || near_number(Some(i + 2))
                || (after_of && near_number(i.checked_sub(2)));
            if !ambiguous || dated {
                toks.push(Tok::Month(m));
                i += 1;
                continue;
            }
        }
        if word == "first" || word == "second" {
            // Both are ordinals only after "the" or a month ("the first", "March second");
            // otherwise "first thing in the morning", "just a second".
            let after_the = matches!(toks.last(), Some(Tok::Key(Key::The) | Tok::Month(_)));
            toks.push(match (after_the, word) {
                (true, "first") => Tok::Ordinal(1),
                (true, _) => Tok::Ordinal(2),
                (false, "first") => Tok::Key(Key::First),
                (false, _) => Tok::Other,
            });
            i += 1;
            continue;
        }
        if let Some(d) = ordinal_word(word) {
            toks.push(Tok::Ordinal(d));
            i += 1;
            continue;
        }
        // "eleven oh five": minutes 01-09 after an hour.
        if word == "oh"
            && let Some(d) = words.get(i + 1).and_then(|w| digit_word(w)).filter(|d| *d > 0)
            && let Some(Tok::Num(h)) = toks.last().copied().filter(|t| matches!(t, Tok::Num(h) if *h <= 23))
        {
            toks.pop();
            toks.push(Tok::Clock(h, d));
            i += 2;
            continue;
        }
        if word != "a"
            && word != "an"
            && word != "one"
            && let Some((n, used)) = number_at(&words, i)
        {
            toks.push(Tok::Num(n));
            i += used;
            continue;
        }
        if word == "one" {
            // "one" is a number ("at one") unless it stands for "a" ("in one week").
            let next_is_unit = matches!(words.get(i + 1).map(String::as_str), Some("week" | "day"));
            toks.push(if next_is_unit { Tok::Key(Key::A) } else { Tok::Num(1) });
            i += 1;
            continue;
        }
        toks.push(keyword(word).map_or(Tok::Other, Tok::Key));
        i += 1;
    }
    toks
}

struct Parser {
    toks: Vec<Tok>,
    used: Vec<bool>,
}

impl Parser {
    fn new(toks: Vec<Tok>) -> Self {
        let mut used = vec![false; toks.len()];
        // Numbers in a row that look like a phone number being dictated (four or more, or three
        // with a group of three or four digits: "514 555 0123") are never a time.
        let mut run_start = 0;
        for i in 0..=toks.len() {
            let is_num = toks.get(i).is_some_and(|t| matches!(t, Tok::Num(_)));
            if !is_num {
                let run = &toks[run_start..i];
                let long_group = run.iter().any(|t| matches!(t, Tok::Num(n) if *n >= 100));
                if run.len() >= 4 || (run.len() >= 2 && long_group) {
                    used[run_start..i].iter_mut().for_each(|u| *u = true);
                }
                run_start = i + 1;
            }
        }
        Self { toks, used }
    }

    fn has_day_part(&self) -> bool {
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

    fn get(&self, i: usize) -> Option<Tok> {
        self.toks.get(i).copied().filter(|_| !self.used[i])
    }

    fn is_key(&self, i: usize, key: Key) -> bool {
        self.get(i) == Some(Tok::Key(key))
    }

    fn prev_is_key(&self, i: usize, key: Key) -> bool {
        i.checked_sub(1).is_some_and(|j| self.is_key(j, key))
    }

    fn mark(&mut self, range: std::ops::Range<usize>) {
        for i in range {
            if i < self.used.len() {
                self.used[i] = true;
            }
        }
    }

    fn find(&self, pred: impl Fn(Tok) -> bool) -> Option<usize> {
        (0..self.toks.len()).find(|&i| self.get(i).is_some_and(&pred))
    }

    fn date(&mut self) -> Option<DateSpec> {
        use Key::*;
        let n = self.toks.len();
        // "the day after tomorrow"
        for i in 0..n.saturating_sub(2) {
            if self.is_key(i, Day) && self.is_key(i + 1, After) && self.is_key(i + 2, Tomorrow) {
                self.mark(i..i + 3);
                return Some(DateSpec::AfterTomorrow);
            }
        }
        if let Some(i) = self.find(|t| matches!(t, Tok::Holiday(_))) {
            let Some(Tok::Holiday(name)) = self.get(i) else { unreachable_tok() };
            self.mark(i..i + 1);
            return Some(DateSpec::Holiday { name });
        }
        if let Some(i) = self.find(|t| t == Tok::Key(AfterTomorrow)) {
            self.mark(i..i + 1);
            return Some(DateSpec::AfterTomorrow);
        }
        if let Some(i) = self.find(|t| t == Tok::Key(Today)) {
            self.mark(i..i + 1);
            return Some(DateSpec::Today);
        }
        if let Some(i) = self.find(|t| t == Tok::Key(Tomorrow)) {
            self.mark(i..i + 1);
            return Some(DateSpec::Tomorrow);
        }
        if let Some(i) = self.find(|t| t == Tok::Key(Tonight)) {
            // Marked by `time`, which also reads it as the evening.
            let _ = i;
            return Some(DateSpec::Today);
        }
        if let Some(i) = self.find(|t| t == Tok::Key(Weekend)) {
            // The weekend: Saturday, which the business may well be closed on.
            self.mark(i..i + 1);
            return Some(DateSpec::Weekday { day: Weekday::Sat, which: WeekdayWhich::Coming });
        }
        // "next week", "la semaine prochaine"
        let next_week = (0..n.saturating_sub(1)).find(|&i| {
            (self.is_key(i, Next) && self.is_key(i + 1, Week)) || (self.is_key(i, Week) && self.is_key(i + 1, Next))
        });
        if let Some(i) = next_week {
            self.mark(i..i + 2);
            if let Some(j) = self.find(|t| matches!(t, Tok::Weekday(_))) {
                let Some(Tok::Weekday(day)) = self.get(j) else { unreachable_tok() };
                self.mark(j..j + 1);
                return Some(DateSpec::Weekday { day, which: WeekdayWhich::NextWeek });
            }
            return Some(DateSpec::NextWeek);
        }
        // "in three days", "in two weeks", "in a week"
        for i in 0..n.saturating_sub(2) {
            if !self.is_key(i, In) {
                continue;
            }
            let count = match self.get(i + 1) {
                Some(Tok::Num(k)) => Some(k),
                Some(Tok::Key(A)) => Some(1),
                _ => None,
            };
            if let Some(count) = count {
                let unit = match self.get(i + 2) {
                    Some(Tok::Key(Day | Days)) => Some(1),
                    Some(Tok::Key(Week | Weeks)) => Some(7),
                    _ => None,
                };
                if let Some(unit) = unit
                    && count <= 52
                {
                    self.mark(i..i + 3);
                    return Some(DateSpec::InDays { days: count * unit });
                }
            }
        }
        // Month and day: "March 3rd", "March the 3rd", "the 3rd of March", "3 March".
        if let Some(i) = self.find(|t| matches!(t, Tok::Month(_))) {
            let Some(Tok::Month(month)) = self.get(i) else { unreachable_tok() };
            let after = if self.is_key(i + 1, The) { i + 2 } else { i + 1 };
            if let Some(Tok::Ordinal(day) | Tok::Num(day)) = self.get(after)
                && (1..=31).contains(&day)
                && !self.is_key(after + 1, Am)
                && !self.is_key(after + 1, Pm)
            {
                self.mark(i..after + 1);
                return Some(DateSpec::MonthDay { month, day });
            }
            let before = if self.prev_is_key(i, Of) { i.checked_sub(2) } else { i.checked_sub(1) };
            if let Some(b) = before
                && let Some(Tok::Ordinal(day) | Tok::Num(day)) = self.get(b)
                && (1..=31).contains(&day)
            {
                let start = if self.prev_is_key(b, The) { b - 1 } else { b };
                self.mark(start..i + 1);
                return Some(DateSpec::MonthDay { month, day });
            }
        }
        // A weekday, perhaps with "this", "coming" or "next", perhaps followed by "the 12th".
        if let Some(i) = self.find(|t| matches!(t, Tok::Weekday(_))) {
            let Some(Tok::Weekday(day)) = self.get(i) else { unreachable_tok() };
            let mut start = i;
            let mut which = WeekdayWhich::Coming;
            if self.prev_is_key(start, Coming) {
                start -= 1;
            }
            if self.prev_is_key(start, This) {
                start -= 1;
            } else if self.prev_is_key(start, Next) {
                start -= 1;
                which = WeekdayWhich::NextWeek;
            }
            let mut end = i + 1;
            // "mardi prochain", "Tuesday next": "next" after the day means the same.
            if self.is_key(end, Next) {
                which = WeekdayWhich::NextWeek;
                end += 1;
            } else if self.is_key(end, Coming) {
                end += 1;
            }
            let mut day_of_month = None;
            let after = if self.is_key(end, The) { end + 1 } else { end };
            match self.get(after) {
                Some(Tok::Ordinal(d)) => day_of_month = Some((d, after + 1)),
                Some(Tok::Num(d)) if after > end && (1..=31).contains(&d) => {
                    day_of_month = Some((d, after + 1));
                }
                _ => {}
            }
            if let Some((d, e)) = day_of_month {
                end = e;
                self.mark(start..end);
                return Some(DateSpec::DayOfMonth { day: d, weekday: Some(day) });
            }
            // "Tuesday next week" is handled above; "next Tuesday" here.
            self.mark(start..end);
            return Some(DateSpec::Weekday { day, which });
        }
        // "le 12": the French article before a plain number is a day of the month, unless an
        // hour follows ("le 12 h", "the 3 pm").
        for i in 0..n.saturating_sub(1) {
            if let (true, Some(Tok::Num(day))) = (self.is_key(i, The), self.get(i + 1))
                && (1..=31).contains(&day)
                && !matches!(self.get(i + 2), Some(Tok::Key(Hours | Am | Pm | OClock)))
            {
                self.mark(i..i + 2);
                return Some(DateSpec::DayOfMonth { day, weekday: None });
            }
        }
        // "the 12th"
        if let Some(i) = self.find(|t| matches!(t, Tok::Ordinal(_))) {
            let Some(Tok::Ordinal(day)) = self.get(i) else { unreachable_tok() };
            let start = if self.prev_is_key(i, The) { i - 1 } else { i };
            if start < i || self.toks.len() == 1 {
                self.mark(start..i + 1);
                return Some(DateSpec::DayOfMonth { day, weekday: None });
            }
        }
        None
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

    fn time(&mut self, expecting: bool) -> Option<TimeSpec> {
        use Key::*;
        let n = self.toks.len();
        let clock = |hour: u32, minute: u32, meridiem| TimeSpec::Clock { hour, minute, meridiem };
        if let Some(found) = self.french_clock() {
            return Some(found);
        }
        // 2:30 [pm]
        if let Some(i) = self.find(|t| matches!(t, Tok::Clock(..))) {
            let Some(Tok::Clock(h, m)) = self.get(i) else { unreachable_tok() };
            self.mark(i..i + 1);
            let mer = self.take_meridiem(i + 1);
            return Some(clock(h, m, mer));
        }
        // half past two, quarter past two, quarter to four, twenty past two, ten to four
        for i in 0..n.saturating_sub(2) {
            let minutes = match self.get(i) {
                Some(Tok::Key(Half)) => Some(30),
                Some(Tok::Key(Quarter)) => Some(15),
                Some(Tok::Num(m)) if (1..=59).contains(&m) => Some(m),
                _ => None,
            };
            let Some(minutes) = minutes else { continue };
            let direction = match self.get(i + 1) {
                Some(Tok::Key(Past | After)) => 1,
                Some(Tok::Key(To | Of)) => -1,
                _ => continue,
            };
            let Some(hour) = self.hour_at(i + 2) else {
                continue;
            };
            if minutes == 30 && direction < 0 {
                continue;
            }
            self.mark(i..i + 3);
            let mer = self.take_meridiem(i + 3);
            let (hour, minute) = if direction > 0 { (hour, minutes) } else { ((hour + 23) % 24, 60 - minutes) };
            let hour = if hour == 0 && direction < 0 { 12 } else { hour };
            return Some(clock(hour, minute, mer));
        }
        if let Some(i) = self.find(|t| t == Tok::Key(Noon)) {
            self.mark(i..i + 1);
            return Some(clock(12, 0, Some(Meridiem::Pm)));
        }
        if let Some(i) = self.find(|t| t == Tok::Key(Midnight)) {
            self.mark(i..i + 1);
            return Some(clock(0, 0, Some(Meridiem::Am)));
        }
        // two thirty [pm], eleven forty-five, 2 30
        for i in 0..n.saturating_sub(1) {
            if let (Some(Tok::Num(h)), Some(Tok::Num(m))) = (self.get(i), self.get(i + 1))
                && (1..=23).contains(&h)
                && (10..=59).contains(&m)
            {
                self.mark(i..i + 2);
                let mer = self.take_meridiem(i + 2);
                return Some(clock(h, m, mer));
            }
        }
        // 3 pm, three o'clock
        for i in 0..n.saturating_sub(1) {
            if let Some(Tok::Num(h)) = self.get(i)
                && ((1..=12).contains(&h) || ((13..=23).contains(&h) && self.is_key(i + 1, OClock)))
            {
                if let Some(mer) = self.meridiem_at(i + 1) {
                    self.mark(i..i + 2);
                    return Some(clock(h, 0, Some(mer)));
                }
                if self.is_key(i + 1, OClock) {
                    self.mark(i..i + 2);
                    let mer = self.take_meridiem(i + 2);
                    return Some(clock(h, 0, mer));
                }
            }
        }
        // at 3, around 10
        for i in 0..n.saturating_sub(1) {
            if self.is_key(i, At)
                && let Some(Tok::Num(h)) = self.get(i + 1)
                && h <= 23
            {
                self.mark(i..i + 2);
                return Some(clock(h, 0, None));
            }
        }
        // A lone hour when Bella has just asked for the time: "two".
        if expecting {
            let lone = (0..n).find(|&i| matches!(self.get(i), Some(Tok::Num(h)) if (1..=23).contains(&h)));
            if let Some(i) = lone {
                let Some(Tok::Num(h)) = self.get(i) else { unreachable_tok() };
                self.mark(i..i + 1);
                return Some(clock(h, 0, None));
            }
        }
        None
    }

    /// "14 h 30", "quatorze heures trente", "deux heures et quart", "trois heures et demie",
    /// "quatre heures moins quart", "midi et demi".
    fn french_clock(&mut self) -> Option<TimeSpec> {
        use Key::*;
        let clock = |hour: u32, minute: u32| TimeSpec::Clock { hour, minute, meridiem: None };
        for i in 0..self.toks.len() {
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
            return Some(clock(hour, minute));
        }
        None
    }

    /// "in the morning", "after lunch", "tonight": a part of the day, on its own or qualifying
    /// a clock time ("two in the afternoon").
    fn day_part(&mut self) -> Option<DayPart> {
        use Key::*;
        for i in 0..self.toks.len() {
            let part = match self.get(i) {
                Some(Tok::Key(Morning)) => Some(DayPart::Morning),
                Some(Tok::Key(Afternoon)) => Some(DayPart::Afternoon),
                Some(Tok::Key(Evening | Tonight)) => Some(DayPart::Evening),
                Some(Tok::Key(EarlyAfternoon)) => Some(DayPart::EarlyAfternoon),
                Some(Tok::Key(LateAfternoon)) => Some(DayPart::LateAfternoon),
                Some(Tok::Key(Lunch)) if self.prev_is_key(i, After) => Some(DayPart::Afternoon),
                Some(Tok::Key(First)) if self.toks.get(i + 1) == Some(&Tok::Other) => Some(DayPart::Morning),
                _ => None,
            };
            if let Some(part) = part {
                self.mark(i..i + 1);
                return Some(part);
            }
        }
        None
    }
}

#[track_caller]
fn unreachable_tok() -> ! {
    unreachable!("the token was matched just before")
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
mod tests {
    use super::*;
    use chrono::Weekday::*;

    fn clock(hour: u32, minute: u32, meridiem: Option<Meridiem>) -> Option<TimeSpec> {
        Some(TimeSpec::Clock { hour, minute, meridiem })
    }
    fn p(s: &str) -> TimeRequest {
        parse(s, Language::En, false).unwrap_or_else(|| panic!("no time in {s:?}"))
    }
    const PM: Option<Meridiem> = Some(Meridiem::Pm);
    const AM: Option<Meridiem> = Some(Meridiem::Am);

    #[test]
    fn the_old_systems_failures() {
        assert_eq!(p("tomorrow at two PM"), TimeRequest { date: Some(DateSpec::Tomorrow), time: clock(2, 0, PM) });
        assert_eq!(p("tomorrow at 2"), TimeRequest { date: Some(DateSpec::Tomorrow), time: clock(2, 0, None) });
        assert_eq!(
            p("next Tuesday at 3"),
            TimeRequest {
                date: Some(DateSpec::Weekday { day: Tue, which: WeekdayWhich::NextWeek }),
                time: clock(3, 0, None)
            }
        );
        assert_eq!(p("half past two").time, clock(2, 30, None));
        assert_eq!(p("tomorrow morning").time, Some(TimeSpec::Part { part: DayPart::Morning }));
        assert_eq!(
            p("next week on Wednesday at 11 a.m."),
            TimeRequest {
                date: Some(DateSpec::Weekday { day: Wed, which: WeekdayWhich::NextWeek }),
                time: clock(11, 0, AM)
            }
        );
    }

    #[test]
    fn clock_times() {
        assert_eq!(p("at 2:30 pm").time, clock(2, 30, PM));
        assert_eq!(p("two thirty").time, clock(2, 30, None));
        assert_eq!(p("quarter to four").time, clock(3, 45, None));
        assert_eq!(p("quarter past ten in the morning").time, clock(10, 15, AM));
        assert_eq!(p("ten to one").time, clock(12, 50, None));
        assert_eq!(p("3pm").time, clock(3, 0, PM));
        assert_eq!(p("three o'clock").time, clock(3, 0, None));
        assert_eq!(p("noon").time, clock(12, 0, PM));
        assert_eq!(p("at 14").time, clock(14, 0, None));
        assert_eq!(p("two in the afternoon").time, clock(2, 0, PM));
        assert_eq!(p("eleven oh five").time, clock(11, 5, None));
        assert_eq!(parse("two", Language::En, true).unwrap().time, clock(2, 0, None));
        assert_eq!(parse("two", Language::En, false), None);
    }

    #[test]
    fn dates() {
        assert_eq!(p("today").date, Some(DateSpec::Today));
        assert_eq!(p("the day after tomorrow").date, Some(DateSpec::AfterTomorrow));
        assert_eq!(p("Tuesday at two").date, Some(DateSpec::Weekday { day: Tue, which: WeekdayWhich::Coming }));
        assert_eq!(p("this coming Friday").date, Some(DateSpec::Weekday { day: Fri, which: WeekdayWhich::Coming }));
        assert_eq!(p("Thursday next week").date, Some(DateSpec::Weekday { day: Thu, which: WeekdayWhich::NextWeek }));
        assert_eq!(p("in two weeks").date, Some(DateSpec::InDays { days: 14 }));
        assert_eq!(p("in 3 days").date, Some(DateSpec::InDays { days: 3 }));
        assert_eq!(p("in a week").date, Some(DateSpec::InDays { days: 7 }));
        assert_eq!(p("March 3rd at 11").date, Some(DateSpec::MonthDay { month: 3, day: 3 }));
        assert_eq!(p("March 3rd at 11").time, clock(11, 0, None));
        assert_eq!(p("the 3rd of March").date, Some(DateSpec::MonthDay { month: 3, day: 3 }));
        assert_eq!(p("december twenty first").date, Some(DateSpec::MonthDay { month: 12, day: 21 }));
        assert_eq!(p("the 12th").date, Some(DateSpec::DayOfMonth { day: 12, weekday: None }));
        assert_eq!(p("Thursday the 12th").date, Some(DateSpec::DayOfMonth { day: 12, weekday: Some(Thu) }));
        assert_eq!(p("next week").date, Some(DateSpec::NextWeek));
        assert_eq!(p("tonight").time, Some(TimeSpec::Part { part: DayPart::Evening }));
    }

    #[test]
    fn one_sentence_callers() {
        let r = p("Hi, this is Marie Tremblay, I'd like Tuesday at two");
        assert_eq!(r.date, Some(DateSpec::Weekday { day: Tue, which: WeekdayWhich::Coming }));
        assert_eq!(r.time, clock(2, 0, None));
    }

    #[test]
    fn not_times() {
        for s in
            ["yes", "Marie Tremblay", "may I book an appointment", "four one six five five five", "I want to march in"]
        {
            assert_eq!(parse(s, Language::En, false), None, "{s}");
        }
    }

    fn fr(s: &str) -> TimeRequest {
        parse(s, Language::Fr, false).unwrap_or_else(|| panic!("no time in {s:?}"))
    }

    #[test]
    fn french_dates() {
        assert_eq!(fr("demain à 14 h"), TimeRequest { date: Some(DateSpec::Tomorrow), time: clock(14, 0, None) });
        assert_eq!(fr("après-demain").date, Some(DateSpec::AfterTomorrow));
        assert_eq!(fr("aujourd'hui").date, Some(DateSpec::Today));
        assert_eq!(fr("mardi qui vient").date, Some(DateSpec::Weekday { day: Tue, which: WeekdayWhich::Coming }));
        assert_eq!(fr("ce mardi").date, Some(DateSpec::Weekday { day: Tue, which: WeekdayWhich::Coming }));
        assert_eq!(fr("lundi prochain").date, Some(DateSpec::Weekday { day: Mon, which: WeekdayWhich::NextWeek }));
        assert_eq!(
            fr("jeudi la semaine prochaine").date,
            Some(DateSpec::Weekday { day: Thu, which: WeekdayWhich::NextWeek })
        );
        assert_eq!(
            fr("la semaine prochaine jeudi").date,
            Some(DateSpec::Weekday { day: Thu, which: WeekdayWhich::NextWeek })
        );
        assert_eq!(fr("la semaine prochaine").date, Some(DateSpec::NextWeek));
        assert_eq!(fr("dans deux semaines").date, Some(DateSpec::InDays { days: 14 }));
        assert_eq!(fr("dans quinze jours").date, Some(DateSpec::InDays { days: 14 }));
        assert_eq!(fr("dans 3 jours").date, Some(DateSpec::InDays { days: 3 }));
        assert_eq!(fr("le 3 mars").date, Some(DateSpec::MonthDay { month: 3, day: 3 }));
        assert_eq!(fr("le premier décembre").date, Some(DateSpec::MonthDay { month: 12, day: 1 }));
        assert_eq!(fr("le 1er décembre").date, Some(DateSpec::MonthDay { month: 12, day: 1 }));
        assert_eq!(fr("le sept mars").date, Some(DateSpec::MonthDay { month: 3, day: 7 }));
        assert_eq!(fr("jeudi le 12").date, Some(DateSpec::DayOfMonth { day: 12, weekday: Some(Thu) }));
        assert_eq!(fr("le 12").date, Some(DateSpec::DayOfMonth { day: 12, weekday: None }));
        assert_eq!(fr("la fin de semaine").date, Some(DateSpec::Weekday { day: Sat, which: WeekdayWhich::Coming }));
        assert_eq!(fr("à soir").date, Some(DateSpec::Today));
        assert_eq!(fr("à soir").time, Some(TimeSpec::Part { part: DayPart::Evening }));
    }

    #[test]
    fn french_clocks() {
        let r = fr("mardi qui vient à 14 h 30");
        assert_eq!(r.date, Some(DateSpec::Weekday { day: Tue, which: WeekdayWhich::Coming }));
        assert_eq!(r.time, clock(14, 30, None));
        assert_eq!(fr("à 14h30").time, clock(14, 30, None));
        assert_eq!(fr("quatorze heures trente").time, clock(14, 30, None));
        assert_eq!(fr("quatorze heures").time, clock(14, 0, None));
        assert_eq!(fr("deux heures et quart").time, clock(2, 15, None));
        assert_eq!(fr("trois heures et demie de l'après-midi").time, clock(3, 30, PM));
        assert_eq!(fr("quatre heures moins quart").time, clock(3, 45, None));
        assert_eq!(fr("quatre heures moins le quart").time, clock(3, 45, None));
        assert_eq!(fr("dix heures moins dix").time, clock(9, 50, None));
        assert_eq!(fr("neuf heures du matin").time, clock(9, 0, AM));
        assert_eq!(fr("midi").time, clock(12, 0, PM));
        assert_eq!(fr("midi et demi").time, clock(12, 30, None));
        assert_eq!(fr("vers 10 h").time, clock(10, 0, None));
    }

    #[test]
    fn french_parts_of_day() {
        assert_eq!(fr("en avant-midi").time, Some(TimeSpec::Part { part: DayPart::Morning }));
        assert_eq!(fr("l'après-midi").time, Some(TimeSpec::Part { part: DayPart::Afternoon }));
        assert_eq!(fr("après le dîner").time, Some(TimeSpec::Part { part: DayPart::EarlyAfternoon }));
        assert_eq!(fr("en début d'après-midi").time, Some(TimeSpec::Part { part: DayPart::EarlyAfternoon }));
        assert_eq!(fr("en fin de journée").time, Some(TimeSpec::Part { part: DayPart::LateAfternoon }));
        assert_eq!(fr("en soirée").time, Some(TimeSpec::Part { part: DayPart::Evening }));
        assert_eq!(fr("mardi matin").time, Some(TimeSpec::Part { part: DayPart::Morning }));
        assert_eq!(
            fr("vendredi en après-midi").date,
            Some(DateSpec::Weekday { day: Fri, which: WeekdayWhich::Coming })
        );
    }

    #[test]
    fn holidays_by_name() {
        use crate::holidays::HolidayName;
        let r = p("Christmas Day at 10 AM");
        assert_eq!(r.date, Some(DateSpec::Holiday { name: HolidayName::Christmas }));
        assert_eq!(r.time, clock(10, 0, AM));
        assert_eq!(fr("à Noël").date, Some(DateSpec::Holiday { name: HolidayName::Christmas }));
        assert_eq!(fr("le lendemain de Noël").date, Some(DateSpec::Holiday { name: HolidayName::BoxingDay }));
        assert_eq!(fr("la fête du Travail").date, Some(DateSpec::Holiday { name: HolidayName::LabourDay }));
    }

    #[test]
    fn english_idioms() {
        assert_eq!(p("Tuesday next").date, Some(DateSpec::Weekday { day: Tue, which: WeekdayWhich::NextWeek }));
        assert_eq!(p("this afternoon").date, Some(DateSpec::Today));
        assert_eq!(p("this afternoon").time, Some(TimeSpec::Part { part: DayPart::Afternoon }));
        assert_eq!(p("Friday after lunch").time, Some(TimeSpec::Part { part: DayPart::EarlyAfternoon }));
        assert_eq!(p("end of day tomorrow").time, Some(TimeSpec::Part { part: DayPart::LateAfternoon }));
        assert_eq!(p("first thing Monday").time, Some(TimeSpec::Part { part: DayPart::Morning }));
        assert_eq!(p("in a couple of days").date, Some(DateSpec::InDays { days: 2 }));
    }
}
