//! A callback number from what the caller said or keyed.
//!
//! Recognisers render the same digits many ways: `"416 555 0123"`, `"four one six five five five
//! oh one two three"`, `"four sixteen, five five five, zero one twenty three"`, `"double five"`,
//! `"quatre un six"`. The utterance is read as runs of number words (a word that is not a number
//! ends a run), and the number is the last stretch of consecutive pieces that makes ten digits
//! (or eleven with the leading 1) and is a valid North American number. So a caller who corrects
//! themselves ("905-555-8888, actually make that 905-555-9999") gets the number they settled on,
//! and digits from elsewhere in the sentence ("…tomorrow at 2") are left out.

use super::numbers::{digit_word, number_at};
use crate::phone::{E164, PhoneProblem};
use crate::text::{fold_accents, split_hyphens, words};

/// Words that sound like digits, counted as digits only next to other digits
/// ("four one six for five…", but not "my number for texting").
fn homophone(word: &str) -> Option<u32> {
    match word {
        "to" | "too" => Some(2),
        "for" | "fore" => Some(4),
        "won" => Some(1),
        "ate" => Some(8),
        _ => None,
    }
}

/// Hesitations that do not interrupt a number ("three oh six, uh, five five five").
const FILLERS: &[&str] = &["uh", "um", "euh", "er", "erm", "hmm", "ah", "eh", "ben", "bah"];

/// The utterance as runs of digit pieces; each piece is what one number word (or numeral) said.
///
/// Punctuation from the recogniser separates groups ("quatre cinquante, cinq cinq cinq"): a tens
/// word is not joined to a unit across it, though the run of digits goes on.
fn runs(input: &str) -> Vec<Vec<String>> {
    // International numbers other than North American ones are not callback numbers here.
    if input
        .split('+')
        .skip(1)
        .any(|rest| rest.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit() && c != '1'))
    {
        return Vec::new();
    }
    let mut runs: Vec<Vec<String>> = vec![Vec::new()];
    for segment in input.split([',', '.', ';', ':', '!', '?']) {
        let words: Vec<String> = split_hyphens(&words(segment)).iter().map(|w| fold_accents(w)).collect();
        read_segment(&words, &mut runs);
    }
    runs.retain(|r| !r.is_empty());
    runs
}

fn read_segment(words: &[String], runs: &mut Vec<Vec<String>>) {
    let is_digits = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    let is_number = |i: usize| words.get(i).is_some_and(|w| is_digits(w) || number_at(words, i).is_some());
    // Homophones are digits next to numbers, or next to homophones that are ("for won too five"):
    // one sweep carries that rightwards along a chain of homophones, one leftwards (linear, even
    // for a transcript of thousands of homophones).
    let mut digitish: Vec<bool> = (0..words.len()).map(is_number).collect();
    let sounds_like_digit: Vec<bool> = words.iter().map(|w| homophone(w).is_some()).collect();
    for i in 1..words.len() {
        if sounds_like_digit[i] && digitish[i - 1] {
            digitish[i] = true;
        }
    }
    for i in (0..words.len().saturating_sub(1)).rev() {
        if sounds_like_digit[i] && digitish[i + 1] {
            digitish[i] = true;
        }
    }
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let mut piece = None;
        let mut used = 1;
        let hundred = |w: Option<&String>| w.is_some_and(|w| matches!(w.as_str(), "hundred" | "cent" | "cents"));
        if is_digits(word) {
            piece = Some(word.to_owned());
        } else if let (Some(d), true) = (digit_word(word), hundred(words.get(i + 1))) {
            // "five hundred fourteen", "cinq cent quatorze": one three-digit group.
            // Only a tens or teen number joins ("five hundred fourteen"); a lone digit after it
            // starts the next group ("eight hundred, five five five").
            let (rest, n) = number_at(words, i + 2).filter(|(v, _)| (10..100).contains(v)).unwrap_or((0, 0));
            piece = Some(format!("{}", d * 100 + rest));
            used = 2 + n;
        } else if let (Some(times), Some(d)) = (
            match word {
                "double" => Some(2),
                "triple" => Some(3),
                _ => None,
            },
            words.get(i + 1).and_then(|w| digit_word(w)),
        ) {
            piece = Some(d.to_string().repeat(times));
            used = 2;
        } else if word == "quatre" && matches!(words.get(i + 1).map(String::as_str), Some("vingt" | "vingts")) {
            // "quatre-vingt-dix-neuf" is ninety-nine, never four then something.
            if let Some((value, n)) = number_at(words, i) {
                piece = Some(format!("{value:02}"));
                used = n;
            }
        } else if let Some(d) = digit_word(word) {
            // A lone digit word is one digit, even before a tens word ("four twenty"): numbers
            // are dictated digit by digit or in pairs, never as "4 20" meaning 420.
            piece = Some(d.to_string());
        } else if let Some((value, n)) = number_at(words, i) {
            piece = Some(format!("{value:02}"));
            used = n;
        } else if digitish[i] {
            piece = homophone(word).map(|d| d.to_string());
        } else if FILLERS.contains(&word) {
            i += 1;
            continue;
        }
        match (piece, runs.last_mut()) {
            (Some(p), Some(run)) => run.push(p),
            (None, Some(run)) if !run.is_empty() => runs.push(Vec::new()),
            _ => {}
        }
        i += used;
    }
}

/// The digits the caller said, in order, as a string of ASCII digits.
pub fn spoken_digits(input: &str) -> String {
    runs(input).concat().concat()
}

/// Ten- and eleven-digit stretches checked, at most, before a transcript is declared to hold no
/// callback number: a caller who corrects themselves twice says three numbers.
const MAX_CANDIDATES: usize = 48;

/// A callback number from speech or keypad digits, refused when it cannot receive a text.
pub fn callback_number(input: &str) -> Result<E164, PhoneProblem> {
    let runs = runs(input);
    let total: usize = runs.iter().flatten().map(String::len).sum();
    if total == 0 {
        return Err(PhoneProblem::NoDigits);
    }
    let mut first_problem = None;
    // Latest candidates first: a correction comes after what it corrects. Only so many are
    // checked: a caller says a number or two, and each check parses a number.
    let mut checked = 0;
    for run in runs.iter().rev() {
        for end in (1..=run.len()).rev() {
            for start in (0..end).rev() {
                if checked >= MAX_CANDIDATES {
                    return Err(first_problem.unwrap_or(PhoneProblem::Invalid));
                }
                let digits: String = run[start..end].concat();
                let len = digits.len();
                if len > 11 {
                    break;
                }
                if len < 10 || (len == 11 && !digits.starts_with('1')) {
                    continue;
                }
                checked += 1;
                match E164::north_american(&digits).and_then(|n| n.callback_problem().map_or(Ok(n), Err)) {
                    Ok(number) => return Ok(number),
                    Err(problem) => {
                        first_problem.get_or_insert(problem);
                    }
                }
            }
        }
    }
    Err(first_problem.unwrap_or(if total < 10 { PhoneProblem::TooShort } else { PhoneProblem::Invalid }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_from_words() {
        assert_eq!(spoken_digits("four one six five five five zero one two three"), "4165550123");
        assert_eq!(spoken_digits("416 555 0123"), "4165550123");
        assert_eq!(spoken_digits("416-555-0123"), "4165550123");
        assert_eq!(spoken_digits("four one six, double five five, oh one two three"), "4165550123");
        assert_eq!(spoken_digits("my number is 1 416 555 0123 thanks"), "14165550123");
        assert_eq!(spoken_digits("four sixteen five fifty-five zero one twenty-three"), "4165550123");
        assert_eq!(spoken_digits("triple five"), "555");
        assert_eq!(spoken_digits("quatre un six cinq cinq cinq zéro un deux trois"), "4165550123");
        assert_eq!(spoken_digits("one eight hundred"), "1800");
        assert_eq!(spoken_digits("one eight hundred five five five one two one two"), "18005551212");
        assert_eq!(spoken_digits("cinq cent quatorze"), "514");
        assert_eq!(spoken_digits("my number for texting"), "");
    }

    #[test]
    fn callback_numbers() {
        let n = callback_number("four one six five five five zero one two three").unwrap();
        assert_eq!(n.as_str(), "+14165550123");
        assert_eq!(callback_number("1 800 555 1212"), Err(PhoneProblem::TollFree));
        assert_eq!(callback_number("four one six nine one one one two three four"), Err(PhoneProblem::ServiceCode));
        assert_eq!(callback_number("I don't know"), Err(PhoneProblem::NoDigits));
        assert_eq!(callback_number("four one six"), Err(PhoneProblem::TooShort));
        assert_eq!(callback_number("555 5838"), Err(PhoneProblem::TooShort));
    }

    #[test]
    fn a_huge_transcript_is_read_in_linear_time() {
        // 64 KB of homophones and then a digit, as a hostile signed webhook might carry.
        let hostile = format!("{}5", "won ".repeat(16 * 1024));
        let started = std::time::Instant::now();
        let _ = callback_number(&hostile);
        let _ = spoken_digits(&hostile);
        // Quadratic, this took seconds; linear, a few milliseconds (a generous bound for debug
        // builds on a machine busy with other tests).
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
        // A real correction is still read.
        let corrected = "416 555 0101 no wait 416 555 0102 sorry I mean 416 555 0103";
        assert_eq!(callback_number(corrected).unwrap().as_str(), "+14165550103");
    }

    #[test]
    fn the_old_systems_failures() {
        let e164 = |s: &str| callback_number(s).map(|n| n.as_str().to_owned());
        assert_eq!(e164("905-555-8888, actually make that 905-555-9999").as_deref(), Ok("+19055559999"));
        assert_eq!(e164("2. 204, 555 5838.").as_deref(), Ok("+12045555838"));
        assert_eq!(e164("John Smith 416-555-1234 tomorrow at 2 PM").as_deref(), Ok("+14165551234"));
        assert_eq!(e164("for won six five five five zero one two three").as_deref(), Ok("+14165550123"));
        assert_eq!(e164("+14165551234").as_deref(), Ok("+14165551234"));
    }
}
