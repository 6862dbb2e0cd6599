//! Opening hours: the spans a business is open each day of the week, as the conversation reads
//! them and as an operator types them (`mon-fri 09:00-17:00; sat 10:00-14:00`).

use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

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

    /// Every span of the week, Monday first.
    pub(super) fn all(&self) -> impl Iterator<Item = &OpenSpan> {
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
