//! Business rules for booking: opening hours, holidays, notice, capacity, and the slot grid.
//!
//! Every function takes the reference instant (`now`) and the business's profile as values, and
//! every local time is computed in the business's IANA zone with chrono-tz, so daylight-saving
//! changes are handled and the server's own zone never matters.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::extract::time::{DateSpec, DayPart, Meridiem, TimeRequest, TimeSpec, WeekdayWhich};
use crate::ids::{BusinessId, Language};
use crate::phone::E164;

/// One opening span in a day, in local time: `09:00`–`17:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSpan {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

/// Opening spans for each day of the week, Monday first. A day with no span is closed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WeeklyHours {
    #[serde(default)]
    pub mon: Vec<OpenSpan>,
    #[serde(default)]
    pub tue: Vec<OpenSpan>,
    #[serde(default)]
    pub wed: Vec<OpenSpan>,
    #[serde(default)]
    pub thu: Vec<OpenSpan>,
    #[serde(default)]
    pub fri: Vec<OpenSpan>,
    #[serde(default)]
    pub sat: Vec<OpenSpan>,
    #[serde(default)]
    pub sun: Vec<OpenSpan>,
}

impl WeeklyHours {
    /// The same spans Monday to Friday, closed at the weekend.
    pub fn weekdays(open: NaiveTime, close: NaiveTime) -> Self {
        let day = vec![OpenSpan { open, close }];
        Self {
            mon: day.clone(),
            tue: day.clone(),
            wed: day.clone(),
            thu: day.clone(),
            fri: day,
            sat: vec![],
            sun: vec![],
        }
    }

    pub fn on(&self, day: Weekday) -> &[OpenSpan] {
        match day {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    fn on_mut(&mut self, day: Weekday) -> &mut Vec<OpenSpan> {
        match day {
            Weekday::Mon => &mut self.mon,
            Weekday::Tue => &mut self.tue,
            Weekday::Wed => &mut self.wed,
            Weekday::Thu => &mut self.thu,
            Weekday::Fri => &mut self.fri,
            Weekday::Sat => &mut self.sat,
            Weekday::Sun => &mut self.sun,
        }
    }

    /// Parses opening hours as an operator types them: groups separated by `;`, each a day or a
    /// range of days and one or more spans: `mon-fri 09:00-17:00; sat 10:00-14:00`,
    /// `mon-wed 9-12 13-17`. Days not named are closed; `closed` (what a week without hours
    /// displays as) is every day closed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut week = Self::default();
        if text.trim().eq_ignore_ascii_case("closed") {
            return Ok(week);
        }
        let day = |name: &str| -> Result<Weekday, String> {
            name.parse::<Weekday>().map_err(|_| format!("unknown day {name:?}: use mon, tue, wed, thu, fri, sat, sun"))
        };
        let clock = |t: &str| -> Result<NaiveTime, String> {
            let with_minutes = if t.contains(':') { t.to_owned() } else { format!("{t}:00") };
            NaiveTime::parse_from_str(&with_minutes, "%H:%M").map_err(|_| format!("bad time {t:?}: use 09:00 or 9"))
        };
        for group in text.split(';').map(str::trim).filter(|g| !g.is_empty()) {
            let mut parts = group.split_whitespace();
            let days = parts.next().ok_or_else(|| format!("empty group in {text:?}"))?;
            let (first, last) = match days.split_once('-') {
                Some((a, b)) => (day(a)?, day(b)?),
                None => (day(days)?, day(days)?),
            };
            let mut spans = Vec::new();
            for span in parts.flat_map(|p| p.split(',')).filter(|p| !p.is_empty()) {
                let (open, close) =
                    span.split_once('-').ok_or_else(|| format!("bad span {span:?}: use 09:00-17:00"))?;
                let (open, close) = (clock(open)?, clock(close)?);
                if open >= close {
                    return Err(format!("{span:?} closes before it opens"));
                }
                spans.push(OpenSpan { open, close });
            }
            if spans.is_empty() {
                return Err(format!("{group:?} names days but no hours"));
            }
            spans.sort_by_key(|s| s.open);
            if spans.windows(2).any(|w| w[1].open < w[0].close) {
                return Err(format!("{group:?} has overlapping spans"));
            }
            let mut d = first;
            loop {
                week.on_mut(d).clone_from(&spans);
                if d == last {
                    break;
                }
                d = d.succ();
            }
        }
        Ok(week)
    }

    fn all(&self) -> impl Iterator<Item = &OpenSpan> {
        [&self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun].into_iter().flatten()
    }
}

impl std::fmt::Display for WeeklyHours {
    /// The form [`WeeklyHours::parse`] reads: `mon-fri 09:00-17:00; sat 10:00-14:00`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let days = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for (i, day) in days.iter().enumerate() {
            if self.on(*day).is_empty() {
                continue;
            }
            match groups.last_mut() {
                Some((_, last)) if *last + 1 == i && self.on(days[*last]) == self.on(*day) => *last = i,
                _ => groups.push((i, i)),
            }
        }
        let text: Vec<String> = groups
            .iter()
            .map(|(a, b)| {
                let spans: Vec<String> = self
                    .on(days[*a])
                    .iter()
                    .map(|s| format!("{}-{}", s.open.format("%H:%M"), s.close.format("%H:%M")))
                    .collect();
                let range = if a == b { names[*a].to_owned() } else { format!("{}-{}", names[*a], names[*b]) };
                format!("{range} {}", spans.join(" "))
            })
            .collect();
        if text.is_empty() { f.write_str("closed") } else { f.write_str(&text.join("; ")) }
    }
}

/// What the conversation needs to know about a business. Loaded from PostgreSQL by the api.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessProfile {
    pub id: BusinessId,
    pub name: String,
    pub time_zone: Tz,
    pub hours: WeeklyHours,
    /// Closed dates (statutory holidays and the business's own), in local time.
    pub holidays: Vec<NaiveDate>,
    pub appointment_minutes: u32,
    /// How many appointments can run at the same time (chairs, rooms).
    pub capacity: u32,
    /// The first is the greeting language.
    pub languages: Vec<Language>,
    pub transfer_number: Option<E164>,
    /// The earliest a caller can book, counted from the call.
    pub min_notice_minutes: u32,
    /// Where the business is, as it should be read out.
    #[serde(default)]
    pub address: Option<String>,
}

impl BusinessProfile {
    pub fn appointment_length(&self) -> Duration {
        Duration::minutes(i64::from(self.appointment_minutes.max(5)))
    }

    pub fn local(&self, at: DateTime<Utc>) -> DateTime<Tz> {
        at.with_timezone(&self.time_zone)
    }

    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        self.local(now).date_naive()
    }

    /// The instant of a local wall-clock time. In the spring-forward gap there is none; in the
    /// autumn overlap the earlier one is taken.
    pub fn instant(&self, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
        self.time_zone.from_local_datetime(&date.and_time(time)).earliest().map(|t| t.with_timezone(&Utc))
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains(&date)
    }

    pub fn is_open_on(&self, date: NaiveDate) -> bool {
        !self.is_holiday(date) && !self.hours.on(date.weekday()).is_empty()
    }
}

/// A booked or bookable time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Slot {
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.starts_at < other.ends_at && other.starts_at < self.ends_at
    }
}

/// Why a requested time cannot be booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unavailable {
    /// The time has already passed.
    Past,
    /// Sooner than the business's minimum notice.
    TooSoon,
    Holiday,
    /// The business does not open that day.
    ClosedDay,
    /// That day, but outside opening hours (or the appointment would run past closing).
    OutsideHours,
    /// Every chair or room is booked then.
    Taken,
}

/// Whether an appointment can start at `start`, given the business, the existing bookings
/// (`busy`, one entry per booked appointment) and the reference instant.
pub fn check(
    profile: &BusinessProfile,
    busy: &[Slot],
    now: DateTime<Utc>,
    start: DateTime<Utc>,
) -> Result<Slot, Unavailable> {
    let slot = Slot { starts_at: start, ends_at: start + profile.appointment_length() };
    if start <= now {
        return Err(Unavailable::Past);
    }
    if start < now + Duration::minutes(i64::from(profile.min_notice_minutes)) {
        return Err(Unavailable::TooSoon);
    }
    let local_start = profile.local(start);
    let date = local_start.date_naive();
    if profile.is_holiday(date) {
        return Err(Unavailable::Holiday);
    }
    let spans = profile.hours.on(date.weekday());
    if spans.is_empty() {
        return Err(Unavailable::ClosedDay);
    }
    let fits = spans.iter().any(|span| {
        let (Some(open), Some(close)) = (profile.instant(date, span.open), profile.instant(date, span.close)) else {
            return false;
        };
        open <= slot.starts_at && slot.ends_at <= close
    });
    if !fits {
        return Err(Unavailable::OutsideHours);
    }
    let overlapping = busy.iter().filter(|b| b.overlaps(&slot)).count();
    if overlapping >= profile.capacity.max(1) as usize {
        return Err(Unavailable::Taken);
    }
    Ok(slot)
}

/// The start times of the slot grid on `date`: each opening span from its opening time, one
/// appointment length apart, while the whole appointment fits.
fn grid(profile: &BusinessProfile, date: NaiveDate) -> Vec<DateTime<Utc>> {
    if !profile.is_open_on(date) {
        return Vec::new();
    }
    let step = profile.appointment_length();
    let mut starts = Vec::new();
    for span in profile.hours.on(date.weekday()) {
        let (Some(open), Some(close)) = (profile.instant(date, span.open), profile.instant(date, span.close)) else {
            continue;
        };
        let mut t = open;
        while t + step <= close {
            starts.push(t);
            t += step;
        }
    }
    starts
}

/// How far from the requested time Bella looks for alternatives.
const SEARCH_DAYS: i64 = 21;

/// Up to `count` bookable slots nearest to `around`, in chronological order, skipping `exclude`
/// (slots this call has already been told are taken).
pub fn nearest(
    profile: &BusinessProfile,
    busy: &[Slot],
    exclude: &[Slot],
    now: DateTime<Utc>,
    around: DateTime<Utc>,
    count: usize,
) -> Vec<Slot> {
    let centre = profile.local(around).date_naive();
    let today = profile.today(now);
    let mut candidates: Vec<Slot> = (-SEARCH_DAYS..=SEARCH_DAYS)
        .filter_map(|offset| centre.checked_add_signed(Duration::days(offset)))
        .filter(|date| *date >= today)
        .flat_map(|date| grid(profile, date))
        .filter_map(|start| check(profile, busy, now, start).ok())
        .filter(|slot| !exclude.iter().any(|e| e.overlaps(slot)))
        .collect();
    // One on each side of the requested time when both exist ("Saturday is closed: Friday at
    // 4:30 or Monday at 9"), then the nearest others; on a tie, the later one.
    candidates.sort_by_key(|slot| ((slot.starts_at - around).num_seconds().abs(), std::cmp::Reverse(slot.starts_at)));
    let after = candidates.iter().find(|s| s.starts_at >= around).copied();
    let before = candidates.iter().find(|s| s.starts_at < around).copied();
    let mut chosen: Vec<Slot> = after.into_iter().chain(before).take(count).collect();
    for slot in candidates {
        if chosen.len() >= count {
            break;
        }
        if !chosen.contains(&slot) {
            chosen.push(slot);
        }
    }
    chosen.sort();
    chosen
}

/// The first bookable slot on `dates` between two local times.
pub fn first_between(
    profile: &BusinessProfile,
    busy: &[Slot],
    exclude: &[Slot],
    now: DateTime<Utc>,
    dates: impl IntoIterator<Item = NaiveDate>,
    from: NaiveTime,
    to: NaiveTime,
) -> Option<Slot> {
    dates.into_iter().find_map(|date| {
        grid(profile, date)
            .into_iter()
            .filter(|start| {
                let local = profile.local(*start).time();
                local >= from && local < to
            })
            .filter_map(|start| check(profile, busy, now, start).ok())
            .find(|slot| !exclude.iter().any(|e| e.overlaps(slot)))
    })
}

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
    if request.date == Some(DateSpec::NextWeek) {
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
        DateSpec::Today => Some(today),
        DateSpec::Tomorrow => days(1),
        DateSpec::AfterTomorrow => days(2),
        DateSpec::InDays { days: n } => days(i64::from(n)),
        DateSpec::Weekday { day, which: WeekdayWhich::Coming } => {
            let ahead =
                (7 + i64::from(day.num_days_from_monday()) - i64::from(today.weekday().num_days_from_monday())) % 7;
            days(if ahead == 0 { 7 } else { ahead })
        }
        DateSpec::Weekday { day, which: WeekdayWhich::NextWeek } => {
            let next_monday = 7 - i64::from(today.weekday().num_days_from_monday());
            days(next_monday + i64::from(day.num_days_from_monday()))
        }
        DateSpec::NextWeek => days(7 - i64::from(today.weekday().num_days_from_monday())),
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::extract::time::parse;
    use uuid::Uuid;

    pub(crate) fn toronto_clinic() -> BusinessProfile {
        BusinessProfile {
            id: BusinessId::from_uuid(Uuid::nil()),
            name: "Clinique Test".into(),
            time_zone: chrono_tz::America::Toronto,
            hours: WeeklyHours::weekdays(
                NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            ),
            holidays: vec![NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()],
            appointment_minutes: 30,
            capacity: 1,
            languages: vec![Language::En],
            transfer_number: None,
            min_notice_minutes: 0,
            address: None,
        }
    }

    /// 2026-11-24 is a Tuesday. 22:30 UTC is 17:30 in Toronto, still the 24th there, while UTC
    /// is about to roll over: the evening hour at which the old system's "tomorrow" went wrong.
    pub(crate) fn tuesday_evening() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T22:30:00Z").unwrap().with_timezone(&Utc)
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn wanted(s: &str, now: DateTime<Utc>) -> Wanted {
        interpret(&parse(s, Language::En, true).unwrap(), &toronto_clinic(), now, None).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn tomorrow_is_in_the_business_zone() {
        // 01:30 UTC on the 25th is still the evening of the 24th in Toronto.
        let late = at("2026-11-25T01:30:00Z");
        assert_eq!(wanted("tomorrow at 2", late), Wanted::At { date: d(2026, 11, 25), time: t(14, 0) });
        assert_eq!(wanted("tomorrow at 2", tuesday_evening()), Wanted::At { date: d(2026, 11, 25), time: t(14, 0) });
    }

    #[test]
    fn weekday_policy() {
        let now = tuesday_evening();
        assert_eq!(wanted("Tuesday at 3", now), Wanted::At { date: d(2026, 12, 1), time: t(15, 0) });
        assert_eq!(wanted("Thursday at 10", now), Wanted::At { date: d(2026, 11, 26), time: t(10, 0) });
        assert_eq!(wanted("next Thursday at 10", now), Wanted::At { date: d(2026, 12, 3), time: t(10, 0) });
        assert_eq!(wanted("next Monday at 10", now), Wanted::At { date: d(2026, 11, 30), time: t(10, 0) });
        assert_eq!(wanted("in two weeks at 9", now), Wanted::At { date: d(2026, 12, 8), time: t(9, 0) });
        assert_eq!(wanted("March 3rd at 11", now), Wanted::At { date: d(2027, 3, 3), time: t(11, 0) });
        assert_eq!(wanted("the 3rd", now), Wanted::Day { date: d(2026, 12, 3) });
        assert_eq!(wanted("Thursday the 10th", now), Wanted::Day { date: d(2026, 12, 10) });
    }

    #[test]
    fn bare_hours_in_business_context() {
        let p = toronto_clinic();
        assert_eq!(clock_time(&p, None, 3, 0, None), Some(t(15, 0)));
        assert_eq!(clock_time(&p, None, 10, 0, None), Some(t(10, 0)));
        assert_eq!(clock_time(&p, None, 12, 30, None), Some(t(12, 30)));
        assert_eq!(clock_time(&p, None, 9, 0, Some(Meridiem::Pm)), Some(t(21, 0)));
        assert_eq!(clock_time(&p, None, 12, 0, Some(Meridiem::Am)), Some(t(0, 0)));
    }

    #[test]
    fn checks() {
        let p = toronto_clinic();
        let now = tuesday_evening();
        let ok = at("2026-11-25T19:00:00Z"); // Wednesday 14:00 Toronto
        assert!(check(&p, &[], now, ok).is_ok());
        assert_eq!(check(&p, &[], now, at("2026-11-24T14:00:00Z")), Err(Unavailable::Past));
        assert_eq!(check(&p, &[], now, at("2026-11-28T15:00:00Z")), Err(Unavailable::ClosedDay));
        assert_eq!(check(&p, &[], now, at("2026-12-25T15:00:00Z")), Err(Unavailable::Holiday));
        // 16:45 + 30 minutes runs past closing.
        assert_eq!(check(&p, &[], now, at("2026-11-25T21:45:00Z")), Err(Unavailable::OutsideHours));
        let busy = [Slot { starts_at: ok, ends_at: ok + Duration::minutes(30) }];
        assert_eq!(check(&p, &busy, now, ok), Err(Unavailable::Taken));
        assert_eq!(check(&p, &busy, now, ok + Duration::minutes(15)), Err(Unavailable::Taken));
        assert!(check(&p, &busy, now, ok + Duration::minutes(30)).is_ok());
        let mut two_chairs = p;
        two_chairs.capacity = 2;
        assert!(check(&two_chairs, &busy, now, ok).is_ok());
    }

    #[test]
    fn minimum_notice_is_respected() {
        let mut p = toronto_clinic();
        p.min_notice_minutes = 24 * 60;
        // Tuesday 10:00 Toronto; Wednesday 09:00 is 23 hours away, Wednesday 10:30 is 24.5.
        let now = at("2026-11-24T15:00:00Z");
        assert_eq!(check(&p, &[], now, at("2026-11-25T14:00:00Z")), Err(Unavailable::TooSoon));
        assert!(check(&p, &[], now, at("2026-11-25T15:30:00Z")).is_ok());
        let options = nearest(&p, &[], &[], now, at("2026-11-25T14:00:00Z"), 2);
        assert!(options.iter().all(|o| o.starts_at >= now + Duration::hours(24)));
    }

    #[test]
    fn alternatives_are_nearest_and_free() {
        let p = toronto_clinic();
        let now = tuesday_evening();
        let wanted = at("2026-11-25T19:00:00Z");
        let busy = [Slot { starts_at: wanted, ends_at: wanted + Duration::minutes(30) }];
        let options = nearest(&p, &busy, &[], now, wanted, 2);
        let starts: Vec<_> = options.iter().map(|s| p.local(s.starts_at).time()).collect();
        assert_eq!(starts, [t(13, 30), t(14, 30)]);
        // Saturday 10:00: the nearest are Friday afternoon and Monday morning.
        let saturday = at("2026-11-28T15:00:00Z");
        let options = nearest(&p, &[], &[], now, saturday, 2);
        let days: Vec<_> = options.iter().map(|s| p.local(s.starts_at).date_naive()).collect();
        assert_eq!(days, [d(2026, 11, 27), d(2026, 11, 30)]);
    }

    #[test]
    fn hours_as_operators_type_them() {
        let week = WeeklyHours::parse("mon-fri 09:00-17:00; sat 10-14").unwrap();
        assert_eq!(week, {
            let mut w = WeeklyHours::weekdays(t(9, 0), t(17, 0));
            w.sat = vec![OpenSpan { open: t(10, 0), close: t(14, 0) }];
            w
        });
        assert_eq!(week.to_string(), "mon-fri 09:00-17:00; sat 10:00-14:00");
        assert_eq!(WeeklyHours::parse(&week.to_string()).unwrap(), week);
        let split = WeeklyHours::parse("tue 9-12 13:30-17").unwrap();
        assert_eq!(split.tue.len(), 2);
        assert!(WeeklyHours::parse("mon 17-9").is_err());
        assert!(WeeklyHours::parse("funday 9-17").is_err());
        // A week without hours reads back as it displays.
        let closed = WeeklyHours::default();
        assert_eq!(closed.to_string(), "closed");
        assert_eq!(WeeklyHours::parse("closed").unwrap(), closed);
        assert!(WeeklyHours::parse("mon").is_err());
        assert!(WeeklyHours::parse("mon 9-12 11-13").is_err());
    }

    #[test]
    fn daylight_saving_is_respected() {
        let p = toronto_clinic();
        // 2027-03-15 is a Monday after the spring change: 9:00 EDT is 13:00 UTC.
        assert_eq!(p.instant(d(2027, 3, 15), t(9, 0)), Some(at("2027-03-15T13:00:00Z")));
        assert_eq!(p.instant(d(2026, 11, 30), t(9, 0)), Some(at("2026-11-30T14:00:00Z")));
    }
}
