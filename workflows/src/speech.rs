//! How Bella says dates, times, phone numbers and references, in English and French.
//!
//! Text here goes to Twilio's `<Say>`: digits are separated so they are read one by one, times
//! follow each language's habit ("2:30 PM", "14 h 30"), and a date always carries its weekday.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Weekday};
use chrono_tz::Tz;

use crate::ids::Language;
use crate::phone::E164;

pub fn weekday_name(lang: Language, day: Weekday) -> &'static str {
    let (en, fr) = match day {
        Weekday::Mon => ("Monday", "lundi"),
        Weekday::Tue => ("Tuesday", "mardi"),
        Weekday::Wed => ("Wednesday", "mercredi"),
        Weekday::Thu => ("Thursday", "jeudi"),
        Weekday::Fri => ("Friday", "vendredi"),
        Weekday::Sat => ("Saturday", "samedi"),
        Weekday::Sun => ("Sunday", "dimanche"),
    };
    match lang {
        Language::En => en,
        Language::Fr => fr,
    }
}

fn month_name(lang: Language, month: u32) -> &'static str {
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let index = (month.clamp(1, 12) - 1) as usize;
    match lang {
        Language::En => EN[index],
        Language::Fr => FR[index],
    }
}

/// "Tuesday, December 1" / "mardi 1er décembre".
pub fn date(lang: Language, date: NaiveDate) -> String {
    let weekday = weekday_name(lang, date.weekday());
    let month = month_name(lang, date.month());
    match lang {
        Language::En => format!("{weekday}, {month} {}", date.day()),
        Language::Fr if date.day() == 1 => format!("{weekday} 1er {month}"),
        Language::Fr => format!("{weekday} {} {month}", date.day()),
    }
}

/// "2 PM", "2:30 PM", "noon" / "14 h", "14 h 30", "midi".
pub fn time(lang: Language, time: NaiveTime) -> String {
    let (h, m) = (time.hour(), time.minute());
    match lang {
        Language::En => {
            if (h, m) == (12, 0) {
                return "noon".to_owned();
            }
            let suffix = if h < 12 { "AM" } else { "PM" };
            let h12 = match h % 12 {
                0 => 12,
                other => other,
            };
            if m == 0 { format!("{h12} {suffix}") } else { format!("{h12}:{m:02} {suffix}") }
        }
        Language::Fr => {
            if (h, m) == (12, 0) {
                return "midi".to_owned();
            }
            if m == 0 { format!("{h} h") } else { format!("{h} h {m:02}") }
        }
    }
}

/// "Tuesday, December 1 at 2 PM" / "mardi 1er décembre à 14 h".
pub fn date_time(lang: Language, at: DateTime<Tz>) -> String {
    let connector = match lang {
        Language::En => "at",
        Language::Fr => "à",
    };
    format!("{} {connector} {}", date(lang, at.date_naive()), time(lang, at.time()))
}

/// Opening hours as a sentence: "Monday to Friday, 9 AM to 5 PM, and Saturday, 10 AM to 2 PM" /
/// "du lundi au vendredi, de 9 h à 17 h, et le samedi, de 10 h à 14 h". Days with the same hours
/// are grouped when they follow each other.
pub fn hours(lang: Language, week: &crate::schedule::WeeklyHours) -> String {
    use Weekday::*;
    let days = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
    let mut groups: Vec<(Weekday, Weekday, &[crate::schedule::OpenSpan])> = Vec::new();
    for day in days {
        let spans = week.on(day);
        if spans.is_empty() {
            continue;
        }
        match groups.last_mut() {
            Some((_, last, same)) if *same == spans && last.succ() == day => *last = day,
            _ => groups.push((day, day, spans)),
        }
    }
    let spans_text = |spans: &[crate::schedule::OpenSpan]| {
        let parts: Vec<String> = spans
            .iter()
            .map(|s| match lang {
                Language::En => format!("{} to {}", time(lang, s.open), time(lang, s.close)),
                Language::Fr => format!("de {} à {}", time(lang, s.open), time(lang, s.close)),
            })
            .collect();
        let and = if lang == Language::En { " and " } else { " et " };
        parts.join(and)
    };
    let parts: Vec<String> = groups
        .iter()
        .map(|(first, last, spans)| {
            let (a, b) = (weekday_name(lang, *first), weekday_name(lang, *last));
            let days = match (lang, first == last) {
                (Language::En, true) => a.to_owned(),
                (Language::En, false) => format!("{a} to {b}"),
                (Language::Fr, true) => format!("le {a}"),
                (Language::Fr, false) => format!("du {a} au {b}"),
            };
            format!("{days}, {}", spans_text(spans))
        })
        .collect();
    let and = if lang == Language::En { "and" } else { "et" };
    match parts.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{}, {and} {last}", init.join(", ")),
    }
}

/// "4 1 6, 5 5 5, 0 1 2 3": grouped 3-3-4, each digit read on its own.
pub fn phone(number: &E164) -> String {
    number
        .groups()
        .iter()
        .map(|group| group.chars().map(String::from).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "A or B" / "A ou B"; "A, B or C".
pub fn either(lang: Language, items: &[String]) -> String {
    let or = match lang {
        Language::En => "or",
        Language::Fr => "ou",
    };
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {or} {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn english() {
        let at = chrono_tz::America::Toronto.with_ymd_and_hms(2026, 12, 1, 14, 30, 0).unwrap();
        assert_eq!(date_time(Language::En, at), "Tuesday, December 1 at 2:30 PM");
        assert_eq!(time(Language::En, NaiveTime::from_hms_opt(9, 0, 0).unwrap()), "9 AM");
        assert_eq!(time(Language::En, NaiveTime::from_hms_opt(12, 0, 0).unwrap()), "noon");
    }

    #[test]
    fn french() {
        let at = chrono_tz::America::Toronto.with_ymd_and_hms(2026, 12, 1, 14, 30, 0).unwrap();
        assert_eq!(date_time(Language::Fr, at), "mardi 1er décembre à 14 h 30");
        let at = chrono_tz::America::Toronto.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
        assert_eq!(date_time(Language::Fr, at), "jeudi 3 décembre à 9 h");
    }

    #[test]
    fn phone_digits() {
        let n = E164::parse("+14165550123").unwrap();
        assert_eq!(phone(&n), "4 1 6, 5 5 5, 0 1 2 3");
    }

    #[test]
    fn opening_hours() {
        let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        let mut week = crate::schedule::WeeklyHours::weekdays(hm(9), hm(17));
        week.sat = vec![crate::schedule::OpenSpan { open: hm(10), close: hm(14) }];
        assert_eq!(hours(Language::En, &week), "Monday to Friday, 9 AM to 5 PM, and Saturday, 10 AM to 2 PM");
        assert_eq!(hours(Language::Fr, &week), "du lundi au vendredi, de 9 h à 17 h, et le samedi, de 10 h à 14 h");
    }

    #[test]
    fn lists() {
        let items = vec!["A".to_owned(), "B".to_owned()];
        assert_eq!(either(Language::En, &items), "A or B");
        assert_eq!(either(Language::Fr, &items), "A ou B");
    }
}
