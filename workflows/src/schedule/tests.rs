//! The business rules against a Toronto clinic open 9 to 5 on weekdays; its profile and a
//! reference evening are shared with the conversation's tests.

use super::*;
use crate::extract::time::{Meridiem, parse};
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
