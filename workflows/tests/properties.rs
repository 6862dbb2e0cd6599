//! Property tests on the extractors: no input makes them panic, and what Bella reads back is
//! understood again as the same value.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;
use workflows::extract::{self, spelling, time};
use workflows::schedule::{self, BusinessProfile, WeeklyHours};
use workflows::{BusinessId, E164, Language, speech};

fn business() -> BusinessProfile {
    let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
    BusinessProfile {
        id: BusinessId::from_uuid(Uuid::nil()),
        name: "props".into(),
        time_zone: chrono_tz::America::Toronto,
        hours: WeeklyHours::weekdays(hm(9), hm(17)),
        holidays: Vec::new(),
        appointment_minutes: 30,
        capacity: 1,
        languages: vec![Language::En, Language::Fr],
        transfer_number: None,
        min_notice_minutes: 0,
        address: None,
    }
}

/// Words the recogniser might send, mixed with arbitrary text.
fn utterance() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "tomorrow",
        "at",
        "two",
        "thirty",
        "pm",
        "quarter",
        "to",
        "next",
        "tuesday",
        "mardi",
        "qui",
        "vient",
        "14",
        "h",
        "et",
        "demie",
        "moins",
        "le",
        "quart",
        "oh",
        "double",
        "five",
        "cinquante-cinq",
        "quatre-vingt",
        "dix",
        "my",
        "name",
        "is",
        "c'est",
        "S",
        "zed",
        "i",
        "grec",
        "yes",
        "no",
        "don't",
        "book",
        "it",
        "416",
        "555",
        "0123",
        "-",
        ",",
        ".",
        "'",
        "é",
        "christmas",
        "noël",
        "the",
        "12th",
        "jeudi",
        "premier",
        "mars",
        "in",
        "weeks",
        "dans",
        "jours",
        "cent",
        "hundred",
        "+44",
        "#",
        "0",
        ":",
    ]);
    prop_oneof![
        prop::collection::vec(words, 0..14).prop_map(|w| w.join(" ")),
        any::<String>(),
        "[a-zA-Z0-9 ,.:'éèàç-]{0,80}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn extractors_never_panic(text in utterance(), french in any::<bool>(), expecting in any::<bool>(), offset in 0i64..400) {
        let language = if french { Language::Fr } else { Language::En };
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap() + chrono::Duration::days(offset);
        let _ = extract::callback_number(&text);
        let _ = extract::spoken_digits(&text);
        let _ = extract::answered_name(&text);
        let _ = extract::introduced_name(&text);
        let _ = spelling::spelled_name(&text);
        let _ = extract::answer(&text, &text);
        let _ = extract::intent(&text, &text);
        let _ = extract::language::detect(&text);
        if let Some(request) = time::parse(&text, language, expecting) {
            let _ = schedule::interpret(&request, &business(), now, None);
        }
    }

    #[test]
    fn a_number_read_back_is_understood_as_itself(area in 2u32..10, area_rest in 0u32..100, exchange in 200u32..1000, line in 0u32..10000) {
        let digits = format!("{area}{area_rest:02}{exchange:03}{line:04}");
        let Ok(number) = E164::north_american(&digits) else { return Ok(()) };
        if number.callback_problem().is_some() {
            return Ok(());
        }
        // What Bella says ("4 1 6, 5 5 5, 0 1 2 3"), heard back as words or digits.
        let spoken = speech::phone(&number);
        prop_assert_eq!(extract::callback_number(&spoken), Ok(number.clone()));
        let worded: String = spoken
            .chars()
            .map(|c| match c.to_digit(10) {
                Some(d) => ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][d as usize].to_owned() + " ",
                None => String::new(),
            })
            .collect();
        prop_assert_eq!(extract::callback_number(&worded), Ok(number));
    }

    #[test]
    fn a_time_read_back_is_understood_as_itself(day in 0i64..60, slot in 0u32..16, french in any::<bool>()) {
        let language = if french { Language::Fr } else { Language::En };
        let business = business();
        let now: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
        let date = business.today(now) + chrono::Duration::days(day + 1);
        let time = NaiveTime::from_hms_opt(9 + slot / 2, (slot % 2) * 30, 0).unwrap();
        let Some(at) = business.instant(date, time) else { return Ok(()) };
        // "Tuesday, December 1 at 2:30 PM" / "mardi 1er décembre à 14 h 30"
        let said = speech::date_time(language, business.local(at));
        let request = time::parse(&said, language, true);
        prop_assert!(request.is_some(), "not understood: {said}");
        let wanted = schedule::interpret(&request.unwrap(), &business, now, None);
        prop_assert_eq!(wanted, Some(schedule::Wanted::At { date, time }), "{}", said);
    }
}
