//! Canadian statutory holidays by province, computed from their rules.
//!
//! Sources: research/voice_anchors.md 5.5 and canada-holidays.ca. When a holiday that always
//! falls on a fixed date (New Year's Day, Canada Day, Christmas, Boxing Day) lands on a weekend,
//! the following weekday is observed instead, as most employers and provinces do. A business can
//! add its own closures on top (`businesses.holidays`).

use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Province {
    AB,
    BC,
    MB,
    NB,
    NL,
    NS,
    NT,
    NU,
    ON,
    PE,
    QC,
    SK,
    YT,
}

impl FromStr for Province {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use Province::*;
        Ok(match s.to_ascii_uppercase().as_str() {
            "AB" => AB,
            "BC" => BC,
            "MB" => MB,
            "NB" => NB,
            "NL" => NL,
            "NS" => NS,
            "NT" => NT,
            "NU" => NU,
            "ON" => ON,
            "PE" => PE,
            "QC" => QC,
            "SK" => SK,
            "YT" => YT,
            other => {
                return Err(format!("unknown province {other:?}: use a two-letter code such as ON or QC"));
            }
        })
    }
}

impl Province {
    pub const fn code(self) -> &'static str {
        use Province::*;
        match self {
            AB => "AB",
            BC => "BC",
            MB => "MB",
            NB => "NB",
            NL => "NL",
            NS => "NS",
            NT => "NT",
            NU => "NU",
            ON => "ON",
            PE => "PE",
            QC => "QC",
            SK => "SK",
            YT => "YT",
        }
    }
}

/// The holidays a caller may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayName {
    NewYear,
    FamilyDay,
    GoodFriday,
    EasterMonday,
    VictoriaDay,
    SaintJeanBaptiste,
    CanadaDay,
    CivicHoliday,
    LabourDay,
    TruthAndReconciliation,
    Thanksgiving,
    RemembranceDay,
    Christmas,
    BoxingDay,
}

impl HolidayName {
    pub fn english(self) -> &'static str {
        use HolidayName::*;
        match self {
            NewYear => "New Year's Day",
            FamilyDay => "Family Day",
            GoodFriday => "Good Friday",
            EasterMonday => "Easter Monday",
            VictoriaDay => "Victoria Day",
            SaintJeanBaptiste => "Saint-Jean-Baptiste Day",
            CanadaDay => "Canada Day",
            CivicHoliday => "the Civic Holiday",
            LabourDay => "Labour Day",
            TruthAndReconciliation => "the National Day for Truth and Reconciliation",
            Thanksgiving => "Thanksgiving",
            RemembranceDay => "Remembrance Day",
            Christmas => "Christmas Day",
            BoxingDay => "Boxing Day",
        }
    }

    pub fn french(self) -> &'static str {
        use HolidayName::*;
        match self {
            NewYear => "le jour de l'An",
            FamilyDay => "le jour de la Famille",
            GoodFriday => "le Vendredi saint",
            EasterMonday => "le lundi de Pâques",
            VictoriaDay => "la Journée nationale des patriotes",
            SaintJeanBaptiste => "la Fête nationale",
            CanadaDay => "la fête du Canada",
            CivicHoliday => "le congé civique",
            LabourDay => "la fête du Travail",
            TruthAndReconciliation => "la Journée nationale de la vérité et de la réconciliation",
            Thanksgiving => "l'Action de grâce",
            RemembranceDay => "le jour du Souvenir",
            Christmas => "Noël",
            BoxingDay => "le lendemain de Noël",
        }
    }

    /// The day the holiday falls on in `year` (before any weekend substitution).
    pub fn date(self, year: i32) -> Option<NaiveDate> {
        use HolidayName::*;
        let ymd = |m, d| NaiveDate::from_ymd_opt(year, m, d);
        match self {
            NewYear => ymd(1, 1),
            FamilyDay => nth_weekday(year, 2, Weekday::Mon, 3),
            GoodFriday => easter(year).map(|e| e - Duration::days(2)),
            EasterMonday => easter(year).map(|e| e + Duration::days(1)),
            // The Monday before May 25.
            VictoriaDay => ymd(5, 24).map(|d| d - Duration::days(i64::from(d.weekday().num_days_from_monday()))),
            SaintJeanBaptiste => ymd(6, 24),
            CanadaDay => ymd(7, 1),
            CivicHoliday => nth_weekday(year, 8, Weekday::Mon, 1),
            LabourDay => nth_weekday(year, 9, Weekday::Mon, 1),
            TruthAndReconciliation => ymd(9, 30),
            Thanksgiving => nth_weekday(year, 10, Weekday::Mon, 2),
            RemembranceDay => ymd(11, 11),
            Christmas => ymd(12, 25),
            BoxingDay => ymd(12, 26),
        }
    }

    /// The next date of this holiday on or after `from`.
    pub fn next_on_or_after(self, from: NaiveDate) -> Option<NaiveDate> {
        [from.year(), from.year() + 1].into_iter().filter_map(|y| self.date(y)).find(|d| *d >= from)
    }
}

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n as u8)
}

/// Easter Sunday (Gregorian calendar; the anonymous algorithm).
pub fn easter(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The statutory holidays of `province`.
pub fn statutory_names(province: Province) -> Vec<HolidayName> {
    use HolidayName::*;
    use Province::*;
    let mut names = vec![NewYear, GoodFriday, CanadaDay, LabourDay, Christmas];
    if matches!(province, AB | BC | NB | ON | SK | MB | PE | NS) {
        // Family Day, Louis Riel Day (MB), Islander Day (PE), Heritage Day (NS).
        names.push(FamilyDay);
    }
    if !matches!(province, NB | NL | NS | PE) {
        names.push(VictoriaDay);
    }
    if province == QC {
        names.push(SaintJeanBaptiste);
    }
    if matches!(province, BC | NB | NT | NU | SK) {
        names.push(CivicHoliday);
    }
    if matches!(province, BC | MB | NT | NU | PE | YT) {
        names.push(TruthAndReconciliation);
    }
    if !matches!(province, NB | NL | NS | PE) {
        names.push(Thanksgiving);
    }
    if matches!(province, AB | BC | NB | NL | NT | NU | PE | SK | YT) {
        names.push(RemembranceDay);
    }
    if province == ON {
        names.push(BoxingDay);
    }
    names
}

/// The closed dates of `province` in `year`, with weekend substitutes for fixed-date holidays.
pub fn statutory(province: Province, year: i32) -> Vec<(NaiveDate, HolidayName)> {
    let names = statutory_names(province);
    let mut days: Vec<(NaiveDate, HolidayName)> = Vec::new();
    for name in names.iter().copied() {
        let Some(date) = name.date(year) else {
            continue;
        };
        days.push((date, name));
        let fixed = matches!(
            name,
            HolidayName::NewYear | HolidayName::CanadaDay | HolidayName::Christmas | HolidayName::BoxingDay
        );
        if fixed && matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            // The next weekday not already a holiday (Christmas on Saturday: Monday for
            // Christmas, Tuesday for Boxing Day).
            let mut substitute = date + Duration::days(1);
            while matches!(substitute.weekday(), Weekday::Sat | Weekday::Sun)
                || days.iter().any(|(d, _)| *d == substitute)
                || names.iter().any(|n| n.date(year) == Some(substitute))
            {
                substitute += Duration::days(1);
            }
            days.push((substitute, name));
        }
    }
    days.sort();
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_dates() {
        assert_eq!(easter(2026), Some(d(2026, 4, 5)));
        assert_eq!(easter(2027), Some(d(2027, 3, 28)));
        assert_eq!(easter(2024), Some(d(2024, 3, 31)));
    }

    #[test]
    fn ontario_2026() {
        let days: Vec<NaiveDate> = statutory(Province::ON, 2026).into_iter().map(|(d, _)| d).collect();
        assert_eq!(
            days,
            [
                d(2026, 1, 1),
                d(2026, 2, 16),
                d(2026, 4, 3),
                d(2026, 5, 18),
                d(2026, 7, 1),
                d(2026, 9, 7),
                d(2026, 10, 12),
                d(2026, 12, 25),
                d(2026, 12, 26),
                d(2026, 12, 28),
            ]
        );
    }

    #[test]
    fn quebec_has_its_own() {
        let names: Vec<HolidayName> = statutory(Province::QC, 2027).into_iter().map(|(_, n)| n).collect();
        assert!(names.contains(&HolidayName::SaintJeanBaptiste));
        assert!(!names.contains(&HolidayName::FamilyDay));
        assert!(!names.contains(&HolidayName::BoxingDay));
    }

    #[test]
    fn canada_day_on_a_sunday_is_observed_monday() {
        // 2029-07-01 is a Sunday.
        let days: Vec<NaiveDate> = statutory(Province::BC, 2029).into_iter().map(|(d, _)| d).collect();
        assert!(days.contains(&d(2029, 7, 2)));
    }
}
