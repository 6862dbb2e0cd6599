//! From the caller's words to the calendar: a [`TimeRequest`] resolved against the business's
//! hours and the reference instant, in the business's zone; and the week arithmetic that
//! "Tuesday", "next Tuesday" and "no, Wednesday" need.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::{BusinessProfile, OpenSpan, SEARCH_DAYS};
use crate::extract::time::{DateSpec, DayPart, Meridiem, TimeRequest, TimeSpec, WeekdayWhich};

/// A [`TimeRequest`] resolved against the business and the reference instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Wanted {
    /// An exact local time.
    At { date: NaiveDate, time: NaiveTime },
    /// Any time between two local times on one of the days from `first` to `last`.
    Between { first: NaiveDate, last: NaiveDate, from: NaiveTime, to: NaiveTime },
    /// A day, no time yet.
    Day { date: NaiveDate },
    /// A time, no day yet.
    Time { hour: u32, minute: u32, meridiem: Option<Meridiem> },
}

/// Resolves the caller's words to dates and times. `known_day` is a day the caller gave earlier
/// in the call ("Tuesday" … "at three").
pub fn interpret(
    request: &TimeRequest,
    profile: &BusinessProfile,
    now: DateTime<Utc>,
    known_day: Option<NaiveDate>,
) -> Option<Wanted> {
    let today = profile.today(now);
    let date = match &request.date {
        Some(spec) => Some(resolve_date(spec, today)?),
        None => known_day,
    };
    if matches!(request.date, Some(DateSpec::NextWeek | DateSpec::WeekOf { .. })) {
        let monday = date?;
        let (from, to) = match request.time {
            Some(TimeSpec::Part { part }) => part_range(part),
            _ => (NaiveTime::MIN, NaiveTime::from_hms_opt(23, 59, 0)?),
        };
        return Some(Wanted::Between { first: monday, last: monday + Duration::days(6), from, to });
    }
    match (date, request.time) {
        (Some(date), Some(TimeSpec::Clock { hour, minute, meridiem })) => {
            let time = clock_time(profile, Some(date), hour, minute, meridiem)?;
            Some(Wanted::At { date, time })
        }
        (Some(date), Some(TimeSpec::Part { part })) => {
            let (from, to) = part_range(part);
            Some(Wanted::Between { first: date, last: date, from, to })
        }
        (Some(date), None) => Some(Wanted::Day { date }),
        (None, Some(TimeSpec::Clock { hour, minute, meridiem })) => Some(Wanted::Time { hour, minute, meridiem }),
        (None, Some(TimeSpec::Part { part })) => {
            let (from, to) = part_range(part);
            // "in the morning" alone: the first such opening from today on.
            Some(Wanted::Between { first: today, last: today + Duration::days(SEARCH_DAYS), from, to })
        }
        (None, None) => None,
    }
}

/// A day from the caller's words, relative to today in the business's zone.
pub fn resolve_date(spec: &DateSpec, today: NaiveDate) -> Option<NaiveDate> {
    let days = |n: i64| today.checked_add_signed(Duration::days(n));
    match *spec {
        DateSpec::WeekOf { ref day } => weekday_in_week_of(resolve_date(day, today)?, Weekday::Mon),
        DateSpec::DayOfNextMonth { day } => {
            today.with_day(1)?.checked_add_months(chrono::Months::new(1))?.with_day(day)
        }
        DateSpec::Today => Some(today),
        DateSpec::Tomorrow => days(1),
        DateSpec::AfterTomorrow => days(2),
        DateSpec::InDays { days: n } => days(i64::from(n)),
        DateSpec::Weekday { day, which: WeekdayWhich::Coming } => {
            let ahead =
                (7 + i64::from(day.num_days_from_monday()) - i64::from(today.weekday().num_days_from_monday())) % 7;
            days(if ahead == 0 { 7 } else { ahead })
        }
        DateSpec::Weekday { day, which: WeekdayWhich::NextWeek } => weekday_in_week_of(days(7)?, day),
        DateSpec::Weekday { day, which: WeekdayWhich::WeeksAfterComing { weeks } } => {
            let coming = resolve_date(&DateSpec::Weekday { day, which: WeekdayWhich::Coming }, today)?;
            coming.checked_add_signed(Duration::weeks(i64::from(weeks)))
        }
        DateSpec::NextWeek => weekday_in_week_of(days(7)?, Weekday::Mon),
        DateSpec::MonthDay { month, day } => {
            let this_year = NaiveDate::from_ymd_opt(today.year(), month, day);
            match this_year {
                Some(d) if d >= today => Some(d),
                _ => NaiveDate::from_ymd_opt(today.year() + 1, month, day),
            }
        }
        DateSpec::Holiday { name } => name.next_on_or_after(today),
        DateSpec::DayOfMonth { day, weekday } => {
            let candidates = (0..12).filter_map(|k| {
                let first = today.with_day(1)?;
                let month = first.checked_add_months(chrono::Months::new(k))?;
                month.with_day(day).filter(|d| *d >= today)
            });
            let mut first_fit = None;
            for (k, date) in candidates.enumerate() {
                if first_fit.is_none() {
                    first_fit = Some(date);
                }
                match weekday {
                    Some(w) if date.weekday() == w => return Some(date),
                    Some(_) if k < 2 => continue,
                    _ => return first_fit,
                }
            }
            first_fit
        }
    }
}

/// The `day` of the calendar week that `date` falls in; weeks start on Monday, as in
/// [`WeekdayWhich`].
pub fn weekday_in_week_of(date: NaiveDate, day: Weekday) -> Option<NaiveDate> {
    let offset = i64::from(day.num_days_from_monday()) - i64::from(date.weekday().num_days_from_monday());
    date.checked_add_signed(Duration::days(offset))
}

/// Local time ranges for parts of the day.
fn part_range(part: DayPart) -> (NaiveTime, NaiveTime) {
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
    match part {
        DayPart::Morning => (hm(0, 0), hm(12, 0)),
        DayPart::Afternoon => (hm(12, 0), hm(17, 0)),
        DayPart::EarlyAfternoon => (hm(12, 0), hm(14, 0)),
        DayPart::LateAfternoon => (hm(15, 0), hm(23, 59)),
        DayPart::Evening => (hm(17, 0), hm(23, 59)),
    }
}

/// A clock time, with a bare hour read in business context: "at 3" is 3 pm at a business open
/// 9 to 5. When both readings fall within opening hours, 1 to 7 are afternoon and 8 to 11 are
/// morning; 12 is noon.
pub fn clock_time(
    profile: &BusinessProfile,
    date: Option<NaiveDate>,
    hour: u32,
    minute: u32,
    meridiem: Option<Meridiem>,
) -> Option<NaiveTime> {
    let hour = match (meridiem, hour) {
        (_, h) if h > 12 => h % 24,
        (Some(Meridiem::Am), 12) => 0,
        (Some(Meridiem::Am), h) => h,
        (Some(Meridiem::Pm), 12) => 12,
        (Some(Meridiem::Pm), h) => h + 12,
        (None, 0) => 0,
        (None, 12) => 12,
        (None, h) => {
            let am = NaiveTime::from_hms_opt(h, minute, 0)?;
            let pm = NaiveTime::from_hms_opt(h + 12, minute, 0)?;
            let length = profile.appointment_length();
            let within = |t: NaiveTime| {
                let spans: Vec<&OpenSpan> = match date {
                    Some(d) => profile.hours.on(d.weekday()).iter().collect(),
                    None => profile.hours.all().collect(),
                };
                spans.iter().any(|s| s.open <= t && t + length <= s.close)
            };
            match (within(am), within(pm)) {
                (true, false) => h,
                (false, true) => h + 12,
                _ if h <= 7 => h + 12,
                _ => h,
            }
        }
    };
    NaiveTime::from_hms_opt(hour, minute, 0)
}
