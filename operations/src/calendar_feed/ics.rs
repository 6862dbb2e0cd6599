//! The feed as RFC 5545 text: one VTIMEZONE for the business's zone (its observances computed
//! from the IANA rules chrono-tz carries, over the span the events cover), one VEVENT per
//! appointment with a stable UID, its SEQUENCE, and STATUS:CANCELLED once cancelled. Lines end
//! with CRLF and fold at 75 octets; text values are escaped.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, NaiveDateTime, Offset as _, TimeZone as _, Utc};
use chrono_tz::{OffsetComponents as _, OffsetName as _, Tz};

use super::FeedEvent;

/// The feed of `business` in `zone`, as of `now`.
pub fn render(business: &str, zone: Tz, events: &[FeedEvent], now: DateTime<Utc>) -> String {
    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line("PRODID:-//Bella//Appointments//EN");
    out.line("CALSCALE:GREGORIAN");
    out.line("METHOD:PUBLISH");
    out.line(&format!("X-WR-CALNAME:{}", escape(business)));
    out.line(&format!("X-WR-TIMEZONE:{zone}"));
    out.line("REFRESH-INTERVAL;VALUE=DURATION:PT15M");
    out.line("X-PUBLISHED-TTL:PT15M");
    let first = events.iter().map(|e| e.starts_at).min().unwrap_or(now).min(now) - Duration::days(1);
    // On the hour, so that the changes found fall on whole minutes.
    let first = Utc.timestamp_opt(first.timestamp() / 3600 * 3600, 0).single().unwrap_or(first);
    let last = events.iter().map(|e| e.ends_at).max().unwrap_or(now).max(now) + Duration::days(1);
    timezone(&mut out, zone, first, last);
    for event in events {
        let local = |at: DateTime<Utc>| at.with_timezone(&zone).format("%Y%m%dT%H%M%S").to_string();
        out.line("BEGIN:VEVENT");
        out.line(&format!("UID:{}@bella", event.appointment_id));
        out.line(&format!("DTSTAMP:{}", utc(event.updated_at)));
        out.line(&format!("LAST-MODIFIED:{}", utc(event.updated_at)));
        out.line(&format!("DTSTART;TZID={zone}:{}", local(event.starts_at)));
        out.line(&format!("DTEND;TZID={zone}:{}", local(event.ends_at)));
        out.line(&format!("SUMMARY:{}", escape(&format!("{} ({})", event.name, event.reference))));
        out.line(&format!("SEQUENCE:{}", event.sequence));
        out.line(if event.status == "cancelled" { "STATUS:CANCELLED" } else { "STATUS:CONFIRMED" });
        out.line("TRANSP:OPAQUE");
        out.line("END:VEVENT");
    }
    out.line("END:VCALENDAR");
    out.0
}

/// The VTIMEZONE of `zone` from `first` to `last`: the observance in force at `first`, then one
/// per change of offset.
fn timezone(out: &mut Lines, zone: Tz, first: DateTime<Utc>, last: DateTime<Utc>) {
    out.line("BEGIN:VTIMEZONE");
    out.line(&format!("TZID:{zone}"));
    observance(out, zone, first, first);
    let mut at = first;
    while at < last {
        let next = at + Duration::days(1);
        if offset_seconds(zone, at) != offset_seconds(zone, next) {
            // The change lies within this day: find its first minute.
            let (mut low, mut high) = (0_i64, 24 * 60);
            while high - low > 1 {
                let middle = (low + high) / 2;
                if offset_seconds(zone, at + Duration::minutes(middle)) == offset_seconds(zone, at) {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            let (before, after) = (at + Duration::minutes(low), at + Duration::minutes(high));
            observance(out, zone, before, after);
        }
        at = next;
    }
    out.line("END:VTIMEZONE");
}

/// One observance: the offset in force from `from` (an instant in the new offset), entered from
/// the offset in force at `was`.
fn observance(out: &mut Lines, zone: Tz, was: DateTime<Utc>, from: DateTime<Utc>) {
    let offset = zone.offset_from_utc_datetime(&from.naive_utc());
    let kind = if offset.dst_offset().is_zero() { "STANDARD" } else { "DAYLIGHT" };
    // DTSTART is the onset as the clock read it just before: in the previous offset.
    let onset: NaiveDateTime = from.naive_utc() + Duration::seconds(i64::from(offset_seconds(zone, was)));
    out.line(&format!("BEGIN:{kind}"));
    out.line(&format!("DTSTART:{}", onset.format("%Y%m%dT%H%M%S")));
    out.line(&format!("TZOFFSETFROM:{}", hhmm(offset_seconds(zone, was))));
    out.line(&format!("TZOFFSETTO:{}", hhmm(offset.fix().local_minus_utc())));
    if let Some(name) = offset.abbreviation() {
        out.line(&format!("TZNAME:{}", escape(name)));
    }
    out.line(&format!("END:{kind}"));
}

fn offset_seconds(zone: Tz, at: DateTime<Utc>) -> i32 {
    zone.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc()
}

/// `-0500`, `-0330`, `+0000`.
fn hhmm(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value: backslash, semicolon, comma and newline escaped (RFC 5545 3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Content lines, CRLF-terminated and folded at 75 octets without splitting a character.
#[derive(Default)]
struct Lines(String);

impl Lines {
    fn line(&mut self, line: &str) {
        let mut width = 0;
        for c in line.chars() {
            if width + c.len_utf8() > 75 {
                self.0.push_str("\r\n ");
                width = 1;
            }
            self.0.push(c);
            width += c.len_utf8();
        }
        let _ = write!(self.0, "\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toronto_changes_offset_on_the_first_sunday_of_november() {
        let mut out = Lines::default();
        let from = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
        timezone(&mut out, chrono_tz::America::Toronto, from, from + Duration::days(60));
        let text = out.0;
        assert!(
            text.contains("BEGIN:DAYLIGHT\r\nDTSTART:20260930T200000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0400"),
            "{text}"
        );
        assert!(
            text.contains(
                "BEGIN:STANDARD\r\nDTSTART:20261101T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST"
            ),
            "{text}"
        );
    }

    #[test]
    fn newfoundland_is_three_and_a_half_hours_behind() {
        assert_eq!(hhmm(-(3 * 3600 + 1800)), "-0330");
        assert_eq!(hhmm(0), "+0000");
    }

    #[test]
    fn long_lines_fold_between_characters_and_text_is_escaped() {
        let mut out = Lines::default();
        out.line(&format!("SUMMARY:{}", escape(&"Élodie Côté, née; \\ ".repeat(6))));
        for line in out.0.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
        }
        let unfolded = out.0.replace("\r\n ", "");
        assert!(unfolded.starts_with("SUMMARY:Élodie Côté\\, née\\; \\\\ Élodie"), "{unfolded}");
    }
}
