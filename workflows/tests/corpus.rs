//! The understanding corpus: `workflows/corpus/*.tsv`, hundreds of utterances in English and
//! French with their expected readings, each run through the extractor the call uses.
//!
//! Prints the accuracy per kind and language, and the share of the time cases that hold no time
//! but were read as one (invented times: worse than asking again). Fails when a case that is not marked as a known gap
//! fails (a regression), or when any kind in either language falls below 98%. A known gap names
//! its reason in the last column; one that starts passing is reported so the mark can go.

// A test reports by printing its table and fails by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;
use workflows::extract::{self, Answer, spelling, time};
use workflows::schedule::{self, BusinessProfile, Wanted, WeeklyHours};
use workflows::{BusinessId, Language};

const THRESHOLD: f64 = 0.98;

struct Case {
    kind: &'static str,
    line: usize,
    lang: Language,
    text: String,
    expect: String,
    gap: Option<String>,
    /// Extra columns: name mode; time now and zone.
    extra: Vec<String>,
}

fn load(kind: &'static str, columns: &[&str]) -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(format!("{kind}.tsv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut cases = Vec::new();
    let mut header_seen = false;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if !header_seen {
            assert_eq!(fields, columns, "{}: unexpected header", path.display());
            header_seen = true;
            continue;
        }
        assert!(
            fields.len() == columns.len() || fields.len() == columns.len() - 1,
            "{}:{}: expected {} columns, found {}",
            path.display(),
            index + 1,
            columns.len(),
            fields.len()
        );
        let get = |name: &str| {
            fields.get(columns.iter().position(|c| *c == name).unwrap_or(usize::MAX)).map(|s| s.trim().to_owned())
        };
        let lang = match get("lang").as_deref() {
            Some("fr") => Language::Fr,
            Some("en") => Language::En,
            other => panic!("{}:{}: bad language {other:?}", path.display(), index + 1),
        };
        let extra = columns
            .iter()
            .filter(|c| !matches!(**c, "lang" | "text" | "expect" | "gap"))
            .map(|c| get(c).unwrap_or_default())
            .collect();
        cases.push(Case {
            kind,
            line: index + 1,
            lang,
            text: get("text").unwrap_or_default(),
            expect: get("expect").unwrap_or_default(),
            gap: get("gap").filter(|g| !g.is_empty()),
            extra,
        });
    }
    cases
}

fn keypad(text: &str) -> (&str, &str) {
    match text.strip_prefix('#') {
        Some(digits) => ("", digits),
        None => (text, ""),
    }
}

fn phone(case: &Case) -> String {
    let (speech, digits) = keypad(&case.text);
    let source = if digits.is_empty() { speech } else { digits };
    extract::callback_number(source).map_or_else(|_| "-".to_owned(), |n| n.as_str().to_owned())
}

fn name(case: &Case) -> String {
    let found = match case.extra[0].as_str() {
        "answer" => extract::answered_name(&case.text),
        "sentence" => extract::introduced_name(&case.text),
        "spelled" => spelling::spelled_name(&case.text).or_else(|| extract::answered_name(&case.text)),
        other => panic!("name.tsv:{}: unknown mode {other:?}", case.line),
    };
    found.map_or_else(|| "-".to_owned(), |n| n.as_str().to_owned())
}

/// The reference business of `bella parse`: Monday to Friday, 09:00 to 17:00, 30 minutes.
fn business(zone: Tz) -> BusinessProfile {
    let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    BusinessProfile {
        id: BusinessId::from_uuid(Uuid::nil()),
        name: "corpus".into(),
        time_zone: zone,
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

fn part_name(from: NaiveTime, to: NaiveTime) -> &'static str {
    match (from.format("%H:%M").to_string().as_str(), to.format("%H:%M").to_string().as_str()) {
        ("00:00", "12:00") => "morning",
        ("12:00", "17:00") => "afternoon",
        ("12:00", "14:00") => "early_afternoon",
        ("15:00", "23:59") => "late_afternoon",
        ("17:00", "23:59") => "evening",
        _ => "unknown_part",
    }
}

fn time_reading(case: &Case) -> String {
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(&case.extra[0])
        .unwrap_or_else(|e| panic!("time.tsv:{}: bad now: {e}", case.line))
        .with_timezone(&Utc);
    let zone: Tz = case.extra[1].parse().unwrap_or_else(|_| panic!("time.tsv:{}: bad zone", case.line));
    let profile = business(zone);
    let today = profile.today(now);
    let Some(request) = time::parse(&case.text, case.lang, true) else { return "-".into() };
    match schedule::interpret(&request, &profile, now, None) {
        None => "-".into(),
        Some(Wanted::At { date, time }) => format!("at {}T{}", date, time.format("%H:%M")),
        Some(Wanted::Day { date }) => format!("day {date}"),
        Some(Wanted::Time { hour, minute, meridiem }) => {
            match schedule::clock_time(&profile, None, hour, minute, meridiem) {
                Some(t) => format!("time {}", t.format("%H:%M")),
                None => "-".into(),
            }
        }
        Some(Wanted::Between { first, last, from, to }) => {
            if last == first + Duration::days(6) && from == NaiveTime::MIN {
                format!("week {first}")
            } else if first == last {
                format!("part {first} {}", part_name(from, to))
            } else if first == today {
                format!("part - {}", part_name(from, to))
            } else {
                format!("between {first} {last} {} {}", from.format("%H:%M"), to.format("%H:%M"))
            }
        }
    }
}

fn yesno(case: &Case) -> String {
    let (speech, digits) = keypad(&case.text);
    match extract::answer(speech, digits) {
        Answer::Yes => "yes",
        Answer::No => "no",
        Answer::Unclear => "unclear",
    }
    .into()
}

fn intent(case: &Case) -> String {
    let (speech, digits) = keypad(&case.text);
    match extract::intent(speech, digits) {
        Some(i) => serde_json::to_value(i).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        None => "-".into(),
    }
}

/// Runs one case through its extractor and formats the reading like the `expect` column.
type Reader = fn(&Case) -> String;

#[test]
fn corpus() {
    let suites: Vec<(Vec<Case>, Reader)> = vec![
        (load("phone", &["lang", "text", "expect", "gap"]), phone),
        (load("name", &["lang", "mode", "text", "expect", "gap"]), name),
        (load("time", &["lang", "now", "tz", "text", "expect", "gap"]), time_reading),
        (load("yesno", &["lang", "text", "expect", "gap"]), yesno),
        (load("intent", &["lang", "text", "expect", "gap"]), intent),
    ];
    let mut tally: BTreeMap<(&str, &str), (usize, usize, usize)> = BTreeMap::new();
    let mut regressions = String::new();
    let mut healed = String::new();
    let mut total = 0;
    // The time cases whose right reading is no time at all, and those read as a time anyway.
    let (mut no_time, mut invented) = (0, 0);
    for (cases, run) in &suites {
        for case in cases {
            total += 1;
            let got = run(case);
            let ok = got == case.expect;
            if case.kind == "time" && case.expect == "-" {
                no_time += 1;
                if got != "-" {
                    invented += 1;
                }
            }
            let entry = tally.entry((case.kind, case.lang.code())).or_default();
            entry.1 += 1;
            if ok {
                entry.0 += 1;
            }
            match (&case.gap, ok) {
                (None, false) => {
                    let _ = writeln!(
                        regressions,
                        "  {}.tsv:{} [{}] {:?}: expected {:?}, got {:?}",
                        case.kind, case.line, case.lang, case.text, case.expect, got
                    );
                }
                (Some(reason), false) => {
                    entry.2 += 1;
                    let _ = reason;
                }
                (Some(_), true) => {
                    let _ = writeln!(
                        healed,
                        "  {}.tsv:{} {:?} now passes: remove its gap mark",
                        case.kind, case.line, case.text
                    );
                }
                (None, true) => {}
            }
        }
    }
    println!("understanding corpus: {total} cases");
    println!(
        "  must not guess: {no_time} utterances that hold no time, {invented} read as a time ({:.1}% invented)",
        if no_time == 0 { 0.0 } else { invented as f64 * 100.0 / no_time as f64 }
    );
    let mut below = Vec::new();
    for ((kind, lang), (passed, cases, gaps)) in &tally {
        let accuracy = *passed as f64 / *cases as f64;
        println!("  {kind:<7} {lang}  {passed:>4}/{cases:<4} {:>6.2}%  ({gaps} known gaps)", accuracy * 100.0);
        if accuracy < THRESHOLD {
            below.push(format!("{kind} {lang}"));
        }
    }
    if !healed.is_empty() {
        println!("known gaps that now pass:\n{healed}");
    }
    assert!(regressions.is_empty(), "cases that must pass failed:\n{regressions}");
    assert!(below.is_empty(), "below {}% accuracy: {}", THRESHOLD * 100.0, below.join(", "));
}
