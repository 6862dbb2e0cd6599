//! Business rules for booking: opening hours, holidays, notice, capacity, and the slot grid.
//!
//! Every function takes the reference instant (`now`) and the business's profile as values, and
//! every local time is computed in the business's IANA zone with chrono-tz, so daylight-saving
//! changes are handled and the server's own zone never matters.
//!
//! The opening hours are in `hours`; resolving the caller's words to days and times (and the
//! week arithmetic that needs) in `resolve`; what can be booked, and what else to offer, here.

mod hours;
mod resolve;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::ids::{BusinessId, Language};
use crate::phone::E164;

pub use hours::{OpenSpan, WeeklyHours};
pub use resolve::{Wanted, clock_time, interpret, resolve_date, weekday_in_week_of};

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
    let date = profile.local(start).date_naive();
    check_day(profile, now, date)?;
    let fits = profile.hours.on(date.weekday()).iter().any(|span| {
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

/// Whether the business takes appointments on `date` at all, whatever the time: not a day
/// already gone, not a holiday, a day it opens. The day-level part of [`check`], for a caller
/// who has named a day but not yet a time.
pub fn check_day(profile: &BusinessProfile, now: DateTime<Utc>, date: NaiveDate) -> Result<(), Unavailable> {
    if date < profile.today(now) {
        return Err(Unavailable::Past);
    }
    if profile.is_holiday(date) {
        return Err(Unavailable::Holiday);
    }
    if profile.hours.on(date.weekday()).is_empty() {
        return Err(Unavailable::ClosedDay);
    }
    Ok(())
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

#[cfg(test)]
pub(crate) mod tests;
