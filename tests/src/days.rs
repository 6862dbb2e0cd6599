//! Days and times as the tests say and write them: open days in Toronto, a day as a French
//! caller says it, a local time as the admin API writes it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

pub use bella::simulator::spoken_day;

pub const ZONE: Tz = chrono_tz::America::Toronto;

/// A weekday at least `ahead` days from now (Toronto), not a statutory holiday in Ontario or
/// Quebec, for times that are open and in the future.
pub fn open_day_after(ahead: i64) -> NaiveDate {
    use workflows::holidays::{Province, statutory};
    let mut day = Utc::now().with_timezone(&ZONE).date_naive() + Duration::days(ahead);
    let closed = |d: NaiveDate| {
        [Province::ON, Province::QC].iter().any(|p| statutory(*p, d.year()).iter().any(|(h, _)| *h == d))
    };
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) || closed(day) {
        day += Duration::days(1);
    }
    day
}

/// A weekday at least two days from now; see [`open_day_after`].
pub fn open_day() -> NaiveDate {
    open_day_after(2)
}

/// How a French caller says `day`: "mardi le 1er décembre".
pub fn jour(day: NaiveDate) -> String {
    let weekday = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
        [day.weekday().num_days_from_monday() as usize];
    let month = [
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
    ][day.month0() as usize];
    let number = if day.day() == 1 { "1er".to_owned() } else { day.day().to_string() };
    format!("{weekday} le {number} {month}")
}

/// `day` at `hour`:`minute` in Toronto, as the admin API writes it (RFC 3339 with the offset).
pub fn local_rfc3339(day: NaiveDate, hour: u32, minute: u32) -> String {
    let at: DateTime<Tz> =
        ZONE.from_local_datetime(&day.and_hms_opt(hour, minute, 0).expect("valid time")).earliest().expect("exists");
    at.to_rfc3339()
}
