//! The grammar by example: what callers said and what it must read as, in both languages.

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
    for s in ["yes", "Marie Tremblay", "may I book an appointment", "four one six five five five", "I want to march in"]
    {
        assert_eq!(parse(s, Language::En, false), None, "{s}");
    }
}

/// A phone number being dictated is not a time, even where a piece of it sounds like one ("five
/// oh one"), and even when a time is expected; a time said beside it still counts.
#[test]
fn dictated_phone_numbers_are_not_times() {
    for s in [
        "six one three five five five oh one four two",
        "it's six one three, five five five, oh one four two",
        "613 555-0142",
        "quatre un huit cinq cinq cinq zéro un deux trois",
    ] {
        assert_eq!(parse(s, Language::En, true), None, "{s}");
        assert_eq!(parse(s, Language::Fr, true), None, "{s}");
    }
    assert_eq!(p("at 2 pm, my number is 416 555 0123").time, clock(2, 0, PM));
    assert_eq!(
        p("tomorrow at three, four one six five five five oh one two three"),
        TimeRequest { date: Some(DateSpec::Tomorrow), time: clock(3, 0, None) }
    );
    assert_eq!(parse("call me back at four one six five five five oh one two three", Language::En, true), None);
    // Fewer digits than a number: a time as before.
    assert_eq!(parse("twelve oh three", Language::En, true).and_then(|r| r.time), clock(12, 3, None));
}

/// The recogniser writes some numbers after "at" as the words they sound like.
#[test]
fn homophones_of_numbers_after_at() {
    assert_eq!(
        p("Monday at for thirty"),
        TimeRequest {
            date: Some(DateSpec::Weekday { day: Mon, which: WeekdayWhich::Coming }),
            time: clock(4, 30, None)
        }
    );
    assert_eq!(p("tomorrow at to PM").time, clock(2, 0, PM));
    assert_eq!(parse("at ate", Language::En, true).and_then(|r| r.time), clock(8, 0, None));
    // Not after "at": the words keep their meaning.
    assert_eq!(parse("I'd like to come for a cleaning", Language::En, false), None);
}

/// A number that counts something else is no time: better to ask than to book 1 PM for "in one
/// hour" or 2 PM for "I have 2 kids".
#[test]
fn numbers_that_count_something_else_are_not_times() {
    for s in ["in one hour", "around 2 hours from now", "I have 2 kids", "it takes 30 minutes", "for 45 minutes"] {
        assert_eq!(parse(s, Language::En, true), None, "{s}");
    }
    for s in ["dans deux mois", "j'ai 2 enfants", "dans un an"] {
        assert_eq!(parse(s, Language::Fr, true), None, "{s}");
    }
    assert_eq!(p("three weeks from now"), p("in three weeks"));
    assert_eq!(p("tomorrow at 2 for 30 minutes").time, clock(2, 0, None));
}

#[test]
fn a_french_weekday_with_a_number_is_a_day_of_the_month() {
    assert_eq!(fr("jeudi 17").date, fr("jeudi le 17").date);
    assert_eq!(fr("jeudi 17 à 10 h"), TimeRequest { date: fr("jeudi le 17").date, time: clock(10, 0, None) });
    assert_eq!(fr("jeudi à 15 h").date, Some(DateSpec::Weekday { day: Thu, which: WeekdayWhich::Coming }));
    assert_eq!(fr("jeudi 15 h").time, clock(15, 0, None));
}

/// Minutes as callers say them: past or to an hour, "half three", a clock without its colon.
#[test]
fn minutes_as_callers_say_them() {
    assert_eq!(p("20 minutes past 3 pm").time, clock(3, 20, PM));
    assert_eq!(p("twenty minutes past three").time, clock(3, 20, None));
    assert_eq!(p("ten minutes to five").time, clock(4, 50, None));
    assert_eq!(p("half three").time, clock(3, 30, None));
    assert_eq!(p("tomorrow at 1030").time, clock(10, 30, None));
    assert_eq!(p("at 730 in the evening").time, clock(7, 30, PM));
    assert_eq!(parse("half an hour", Language::En, true), None);
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
    assert_eq!(fr("vendredi en après-midi").date, Some(DateSpec::Weekday { day: Fri, which: WeekdayWhich::Coming }));
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
    // Hours from now are left out (Bella asks) rather than read as a clock time.
    assert_eq!(parse("in a couple of hours", Language::En, true), None);
    assert_eq!(parse("dans deux heures", Language::Fr, true), None);
    // Written dates: the one reading that is a date, or nothing; never a time.
    assert_eq!(p("2/15").date, Some(DateSpec::MonthDay { month: 2, day: 15 }));
    assert_eq!(fr("le 17/02").date, Some(DateSpec::MonthDay { month: 2, day: 17 }));
    assert_eq!(parse("3/4", Language::En, true), None);
}

/// Quebec French: "lundi en huit" is a week after the coming Monday, "mardi en quinze" two weeks
/// after the coming Tuesday; the number is no hour. Small idioms of the hour too.
#[test]
fn quebec_weeks_and_hours() {
    assert_eq!(
        fr("lundi en huit à 10 h"),
        TimeRequest {
            date: Some(DateSpec::Weekday { day: Mon, which: WeekdayWhich::WeeksAfterComing { weeks: 1 } }),
            time: clock(10, 0, None)
        }
    );
    assert_eq!(
        fr("mardi en quinze").date,
        Some(DateSpec::Weekday { day: Tue, which: WeekdayWhich::WeeksAfterComing { weeks: 2 } })
    );
    assert_eq!(fr("mardi en quinze").time, None);
    assert_eq!(fr("onze heures trois quarts").time, clock(11, 45, None));
    assert_eq!(fr("à 3 h du mat").time, clock(3, 0, AM));
}
