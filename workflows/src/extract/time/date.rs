//! The date rules: each reads one way of naming a day, and [`DATE_RULES`] says in which order
//! they are tried.

use chrono::Weekday;

use super::lexicon::{Key, Tok};
use super::parser::Parser;
use super::{DateSpec, WeekdayWhich};

/// A date rule: reads one way of naming a day from the unused tokens, marks what it read and
/// returns the day. `None` leaves every token as it was, for the next rule.
type DateRule = fn(&mut Parser) -> Option<DateSpec>;

/// The date rules, tried in this order; the first that reads a day wins.
///
/// 1. "the day after tomorrow", before "tomorrow" takes its last word.
/// 2. The words that name a day by themselves: a holiday, "après-demain", "today", "tomorrow",
///    "tonight", "the weekend".
/// 3. "next week", which takes a weekday with it ("Thursday next week"), before the weekday alone.
/// 4. "in three days", "in two weeks".
/// 5. A month and a day ("March 3rd", "the 3rd of March"), before the ordinal alone.
/// 6. A weekday, with "this", "coming" or "next", and the day of the month that may follow.
/// 7. A day of the month alone: "le 12", then "the 12th".
const DATE_RULES: &[DateRule] = &[
    Parser::day_after_tomorrow,
    Parser::holiday,
    Parser::day_word,
    Parser::tonight,
    Parser::weekend,
    Parser::next_week,
    Parser::in_days,
    Parser::month_day,
    Parser::weekday,
    Parser::article_day,
    Parser::ordinal_day,
];

/// Words that name a day by themselves, looked for in this order.
const DAY_WORDS: [(Key, DateSpec); 3] =
    [(Key::AfterTomorrow, DateSpec::AfterTomorrow), (Key::Today, DateSpec::Today), (Key::Tomorrow, DateSpec::Tomorrow)];

impl Parser {
    /// The day the caller named, read by the first of the [`DATE_RULES`] that reads one; "the
    /// week of" it makes it that day's week.
    pub(super) fn date(&mut self) -> Option<DateSpec> {
        let week_of = self.find(|t| t == Tok::Key(Key::WeekOf));
        if let Some(i) = week_of {
            self.mark(i..i + 1);
        }
        let day = DATE_RULES.iter().find_map(|rule| rule(self))?;
        Some(match week_of {
            Some(_) => DateSpec::WeekOf { day: Box::new(day) },
            None => day,
        })
    }

    /// "of next month" after a day of the month: that day, next month.
    fn in_next_month(&mut self, at: usize, day: u32) -> Option<DateSpec> {
        if !self.is_key(at, Key::NextMonth) {
            return None;
        }
        self.mark(at..at + 1);
        Some(DateSpec::DayOfNextMonth { day })
    }

    /// "the day after tomorrow"
    fn day_after_tomorrow(&mut self) -> Option<DateSpec> {
        let i = (0..self.len().saturating_sub(2)).find(|&i| {
            self.is_key(i, Key::Day) && self.is_key(i + 1, Key::After) && self.is_key(i + 2, Key::Tomorrow)
        })?;
        self.mark(i..i + 3);
        Some(DateSpec::AfterTomorrow)
    }

    /// "Christmas", "la fête du Travail".
    fn holiday(&mut self) -> Option<DateSpec> {
        let (i, name) = self.find_map(|t| match t {
            Tok::Holiday(name) => Some(name),
            _ => None,
        })?;
        self.mark(i..i + 1);
        Some(DateSpec::Holiday { name })
    }

    /// "après-demain", "today", "tomorrow": see [`DAY_WORDS`].
    fn day_word(&mut self) -> Option<DateSpec> {
        DAY_WORDS.iter().find_map(|(key, day)| {
            let i = self.find(|t| t == Tok::Key(*key))?;
            self.mark(i..i + 1);
            Some(day.clone())
        })
    }

    /// "tonight" is today. The word is left for the clock rules, which read it as the evening.
    fn tonight(&mut self) -> Option<DateSpec> {
        self.find(|t| t == Tok::Key(Key::Tonight)).map(|_| DateSpec::Today)
    }

    /// The weekend: Saturday, which the business may well be closed on.
    fn weekend(&mut self) -> Option<DateSpec> {
        let i = self.find(|t| t == Tok::Key(Key::Weekend))?;
        self.mark(i..i + 1);
        Some(DateSpec::Weekday { day: Weekday::Sat, which: WeekdayWhich::Coming })
    }

    /// "next week", "la semaine prochaine", with the weekday named anywhere around it.
    fn next_week(&mut self) -> Option<DateSpec> {
        let (next, week) = (Key::Next, Key::Week);
        let i = (0..self.len().saturating_sub(1)).find(|&i| {
            (self.is_key(i, next) && self.is_key(i + 1, week)) || (self.is_key(i, week) && self.is_key(i + 1, next))
        })?;
        self.mark(i..i + 2);
        match self.find_map(weekday_tok) {
            Some((j, day)) => {
                self.mark(j..j + 1);
                Some(DateSpec::Weekday { day, which: WeekdayWhich::NextWeek })
            }
            None => Some(DateSpec::NextWeek),
        }
    }

    /// "in three days", "in two weeks", "in a week".
    fn in_days(&mut self) -> Option<DateSpec> {
        let (i, days) = (0..self.len().saturating_sub(2)).find_map(|i| {
            if !self.is_key(i, Key::In) {
                return None;
            }
            let count = match self.get(i + 1) {
                Some(Tok::Num(k)) => k,
                Some(Tok::Key(Key::A)) => 1,
                _ => return None,
            };
            let unit = match self.get(i + 2) {
                Some(Tok::Key(Key::Day | Key::Days)) => 1,
                Some(Tok::Key(Key::Week | Key::Weeks)) => 7,
                _ => return None,
            };
            (count <= 52).then(|| (i, count * unit))
        })?;
        self.mark(i..i + 3);
        Some(DateSpec::InDays { days })
    }

    /// Month and day: "March 3rd", "March the 3rd", "the 3rd of March", "3 March".
    fn month_day(&mut self) -> Option<DateSpec> {
        let (i, month) = self.find_map(|t| match t {
            Tok::Month(month) => Some(month),
            _ => None,
        })?;
        let after = if self.is_key(i + 1, Key::The) { i + 2 } else { i + 1 };
        if let Some(Tok::Ordinal(day) | Tok::Num(day)) = self.get(after)
            && (1..=31).contains(&day)
            && !self.is_key(after + 1, Key::Am)
            && !self.is_key(after + 1, Key::Pm)
        {
            self.mark(i..after + 1);
            return Some(DateSpec::MonthDay { month, day });
        }
        let before = if self.prev_is_key(i, Key::Of) { i.checked_sub(2) } else { i.checked_sub(1) }?;
        let Some(Tok::Ordinal(day) | Tok::Num(day)) = self.get(before) else { return None };
        if !(1..=31).contains(&day) {
            return None;
        }
        let start = if self.prev_is_key(before, Key::The) { before - 1 } else { before };
        self.mark(start..i + 1);
        Some(DateSpec::MonthDay { month, day })
    }

    /// A weekday, perhaps with "this", "coming" or "next" ("next Tuesday", "mardi prochain",
    /// "Tuesday next"), perhaps followed by the day of the month ("Thursday the 12th").
    fn weekday(&mut self) -> Option<DateSpec> {
        let (i, day) = self.find_map(weekday_tok)?;
        let mut start = i;
        let mut which = WeekdayWhich::Coming;
        if self.prev_is_key(start, Key::Coming) {
            start -= 1;
        }
        if self.prev_is_key(start, Key::This) {
            start -= 1;
        } else if self.prev_is_key(start, Key::Next) {
            start -= 1;
            which = WeekdayWhich::NextWeek;
        }
        let mut end = i + 1;
        // "mardi prochain", "Tuesday next": "next" after the day means the same.
        if self.is_key(end, Key::Next) {
            which = WeekdayWhich::NextWeek;
            end += 1;
        } else if self.is_key(end, Key::Coming) {
            end += 1;
        } else if self.is_key(end, Key::WeekLater) || self.is_key(end, Key::TwoWeeksLater) {
            let weeks = if self.is_key(end, Key::WeekLater) { 1 } else { 2 };
            which = WeekdayWhich::WeeksAfterComing { weeks };
            end += 1;
        }
        let after = if self.is_key(end, Key::The) { end + 1 } else { end };
        let day_of_month = match self.get(after) {
            Some(Tok::Ordinal(d)) => Some(d),
            Some(Tok::Num(d)) if after > end && (1..=31).contains(&d) => Some(d),
            _ => None,
        };
        if let Some(d) = day_of_month {
            self.mark(start..after + 1);
            return Some(DateSpec::DayOfMonth { day: d, weekday: Some(day) });
        }
        self.mark(start..end);
        // "the 15th, is that a Tuesday?": a day of the month said elsewhere is the date, the
        // weekday a check on it.
        if which == WeekdayWhich::Coming
            && let Some((j, d)) = self.find_map(|t| match t {
                Tok::Ordinal(d) => Some(d),
                _ => None,
            })
        {
            self.mark(j..j + 1);
            return Some(DateSpec::DayOfMonth { day: d, weekday: Some(day) });
        }
        Some(DateSpec::Weekday { day, which })
    }

    /// "le 12": the French article before a plain number is a day of the month, unless an hour
    /// follows ("le 12 h", "the 3 pm").
    fn article_day(&mut self) -> Option<DateSpec> {
        let (i, day) =
            (0..self.len().saturating_sub(1)).find_map(|i| match (self.is_key(i, Key::The), self.get(i + 1)) {
                (true, Some(Tok::Num(day)))
                    if (1..=31).contains(&day)
                        && !matches!(self.get(i + 2), Some(Tok::Key(Key::Hours | Key::Am | Key::Pm | Key::OClock))) =>
                {
                    Some((i, day))
                }
                _ => None,
            })?;
        self.mark(i..i + 2);
        Some(self.in_next_month(i + 2, day).unwrap_or(DateSpec::DayOfMonth { day, weekday: None }))
    }

    /// "the 12th", or an ordinal said on its own.
    fn ordinal_day(&mut self) -> Option<DateSpec> {
        let (i, day) = self.find_map(|t| match t {
            Tok::Ordinal(day) => Some(day),
            _ => None,
        })?;
        let start = if self.prev_is_key(i, Key::The) { i - 1 } else { i };
        if start == i && self.len() != 1 {
            return None;
        }
        self.mark(start..i + 1);
        Some(self.in_next_month(i + 1, day).unwrap_or(DateSpec::DayOfMonth { day, weekday: None }))
    }
}

fn weekday_tok(t: Tok) -> Option<Weekday> {
    match t {
        Tok::Weekday(day) => Some(day),
        _ => None,
    }
}
