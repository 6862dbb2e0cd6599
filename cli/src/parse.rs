//! `bella parse`: run one extractor on one utterance and print JSON.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use uuid::Uuid;
use workflows::extract::{self, Answer, time};
use workflows::schedule::{self, BusinessProfile, Wanted, WeeklyHours};
use workflows::{BusinessId, Language};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Phone,
    Name,
    Time,
    Yesno,
    Intent,
}

/// A business with the default profile (Mon-Fri 09:00-17:00, 30 minutes) in `zone`: the context
/// in which bare hours and parts of the day are read.
fn reference_business(zone: Tz, language: Language) -> BusinessProfile {
    let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
    BusinessProfile {
        id: BusinessId::from_uuid(Uuid::nil()),
        name: "reference".into(),
        time_zone: zone,
        hours: WeeklyHours::weekdays(hm(9), hm(17)),
        holidays: Vec::new(),
        appointment_minutes: 30,
        capacity: 1,
        languages: vec![language],
        transfer_number: None,
        min_notice_minutes: 0,
        address: None,
    }
}

pub fn run(kind: Kind, text: &str, language: Language, now: DateTime<Utc>, zone: Tz) -> Value {
    match kind {
        Kind::Phone => {
            let digits = extract::spoken_digits(text);
            match extract::callback_number(text) {
                Ok(number) => json!({ "e164": number.as_str(), "digits": digits }),
                Err(problem) => json!({ "e164": null, "digits": digits, "problem": problem }),
            }
        }
        Kind::Name => {
            json!({ "name": extract::answered_name(text).map(|n| n.as_str().to_owned()) })
        }
        Kind::Yesno => json!({
            "answer": match extract::answer(text, "") {
                Answer::Yes => "yes",
                Answer::No => "no",
                Answer::Unclear => "unclear",
            }
        }),
        Kind::Intent => json!({ "intent": extract::intent(text, "") }),
        Kind::Time => {
            let business = reference_business(zone, language);
            let request = time::parse(text, language, true);
            let wanted = request.as_ref().and_then(|r| schedule::interpret(r, &business, now, None));
            let local = |date, time| business.instant(date, time).map(|at| at.with_timezone(&zone).to_rfc3339());
            match wanted {
                Some(Wanted::At { date, time }) => {
                    json!({ "starts_at": local(date, time), "kind": "at" })
                }
                Some(Wanted::Between { first, last, from, to }) => json!({
                    "starts_at": null,
                    "kind": "between",
                    "first_date": first,
                    "last_date": last,
                    "from": from.format("%H:%M").to_string(),
                    "to": to.format("%H:%M").to_string(),
                }),
                Some(Wanted::Day { date }) => {
                    json!({ "starts_at": null, "kind": "day", "date": date })
                }
                Some(Wanted::Time { hour, minute, meridiem }) => {
                    let today = business.today(now);
                    let time = schedule::clock_time(&business, Some(today), hour, minute, meridiem);
                    json!({
                        "starts_at": null,
                        "kind": "time",
                        "time": time.map(|t| t.format("%H:%M").to_string()),
                    })
                }
                None => json!({ "starts_at": null, "request": request }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_from_words() {
        let now = Utc::now();
        let out = run(
            Kind::Phone,
            "four one six five five five zero one two three",
            Language::En,
            now,
            chrono_tz::America::Toronto,
        );
        assert_eq!(out["e164"], "+14165550123");
    }

    #[test]
    fn time_in_the_business_zone() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T22:30:00Z").unwrap().with_timezone(&Utc);
        let out = run(Kind::Time, "tomorrow at 2", Language::En, now, chrono_tz::America::Toronto);
        assert_eq!(out["starts_at"], "2026-11-25T14:00:00-05:00");
        let out = run(Kind::Time, "tomorrow at 2", Language::En, now, chrono_tz::America::Vancouver);
        assert_eq!(out["starts_at"], "2026-11-25T14:00:00-08:00");
    }
}
