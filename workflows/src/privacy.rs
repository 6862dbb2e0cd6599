//! Phone numbers masked in text that is shown to operators, logged or kept: transcripts of what a
//! caller said and what Bella said back, payloads, stored errors, a provider's error messages.
//!
//! A number appears in many forms: digits with any separators (`416-555-0123`, `(416) 555.0123`,
//! `4 1 6, 5 5 5, 0 1 2 3` as Bella reads it back), E.164 (`+14165550123`, or `%2B14165550123` in
//! a URL), keypad input (`4165550123#`), and words in English and French (`four one six five five
//! five oh one two three`, `double five`, `quatre un six cinq cinq cinq zéro un deux trois`,
//! `four sixteen, five fifty-five`). The text is read as runs of digit-bearing pieces (numerals,
//! digit words, tens and teens, `double`/`triple`), which separators (spaces, punctuation, `%20`,
//! fillers like `uh`) do not interrupt; anything else ends a run. A run that holds enough digits
//! to be a phone number keeps only its last four digits in clear:
//! `* * * * * * zero one two three`, `+1******0123`.
//!
//! How many is enough: ten for a run of numerals only, so that a date (`2026-12-01`, eight) or a
//! time is left alone, and seven for a run with words in it, which is how callers say a number
//! without its area code. Numerals glued to letters (`CA1234…`, a UUID) are identifiers, not
//! numbers.

use crate::extract::numbers::{digit_word, teen_word, tens_word};
use crate::text::fold_accents;

/// Digits that make a run of numerals a phone number.
const NUMERALS_THRESHOLD: usize = 10;
/// Digits that make a run with number words a phone number.
const WORDS_THRESHOLD: usize = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Part of a number: how many digits it stands for (`double` stands for none by itself).
    Digits(usize),
    /// `double`, `triple`, `deux fois`: the next digit word counts this many times.
    Repeat(usize),
    /// Between the pieces of one number: spaces, punctuation, `%20`, fillers.
    Separator,
    /// `+` or `%2B` before a number: its first digit (the country code) stays in clear.
    Plus,
    /// Anything else: ends a run.
    Other,
}

#[derive(Debug)]
struct Token {
    start: usize,
    end: usize,
    kind: Kind,
    /// A numeral (as opposed to a number word).
    numeral: bool,
}

/// Hesitations that do not interrupt a number ("four one six, uh, five five five").
const FILLERS: &[&str] = &["uh", "um", "euh", "er", "erm", "hmm", "ah", "et", "and"];

fn word_kind(word: &str) -> Kind {
    let folded = fold_accents(&word.to_lowercase());
    if digit_word(&folded).is_some() {
        return Kind::Digits(1);
    }
    if teen_word(&folded).is_some() || tens_word(&folded).is_some() || matches!(folded.as_str(), "vingts") {
        return Kind::Digits(2);
    }
    match folded.as_str() {
        "hundred" | "cent" | "cents" => Kind::Digits(2),
        "double" => Kind::Repeat(2),
        "triple" => Kind::Repeat(3),
        filler if FILLERS.contains(&filler) => Kind::Separator,
        _ => Kind::Other,
    }
}

fn tokens(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().unwrap_or(' ');
        let start = i;
        if let Some(code) = rest.strip_prefix('%').and_then(|r| r.get(..2)) {
            if code.eq_ignore_ascii_case("2B") {
                out.push(Token { start, end: i + 3, kind: Kind::Plus, numeral: false });
                i += 3;
                continue;
            }
            if code == "20" {
                out.push(Token { start, end: i + 3, kind: Kind::Separator, numeral: false });
                i += 3;
                continue;
            }
        }
        if c.is_ascii_digit() {
            while i < text.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Token { start, end: i, kind: Kind::Digits(i - start), numeral: true });
        } else if c.is_alphabetic() {
            let mut end = i;
            for (offset, ch) in rest.char_indices() {
                if !ch.is_alphabetic() {
                    break;
                }
                end = i + offset + ch.len_utf8();
            }
            out.push(Token { start, end, kind: word_kind(&text[start..end]), numeral: false });
            i = end;
        } else {
            let kind = match c {
                '+' => Kind::Plus,
                ' ' | '\t' | '\n' | '\r' | '-' | '.' | ',' | '(' | ')' | '/' | '…' | '\u{a0}' => Kind::Separator,
                _ => Kind::Other,
            };
            out.push(Token { start, end: i + c.len_utf8(), kind, numeral: false });
            i += c.len_utf8();
        }
    }
    // Numerals and words glued together are identifiers (`CA1234…`, `4K7Q`, a hex id), and
    // hexadecimal groups joined by dashes are UUIDs: neither is a number.
    for k in 0..out.len() {
        let glued = |j: Option<usize>| {
            j.and_then(|j| out.get(j)).is_some_and(|t: &Token| {
                let first = text[t.start..].chars().next().unwrap_or(' ');
                first.is_alphanumeric()
            })
        };
        if out[k].numeral && (glued(k.checked_sub(1)) || glued(Some(k + 1))) {
            out[k].kind = Kind::Other;
        }
    }
    mark_uuids(text, &mut out);
    out
}

/// Numerals inside a UUID (`8-4-4-4-12` hexadecimal digits) are not a number, even when every
/// group happens to be made of digits.
fn mark_uuids(text: &str, tokens: &mut [Token]) {
    let hex_or_dash = |c: char| c.is_ascii_hexdigit() || c == '-';
    let mut k = 0;
    while k < tokens.len() {
        let from = tokens[k].start;
        let mut j = k;
        while j < tokens.len() && text[tokens[j].start..tokens[j].end].chars().all(hex_or_dash) {
            j += 1;
        }
        if j > k {
            let candidate = &text[from..tokens[j - 1].end];
            if candidate.len() == 36 && candidate.split('-').map(str::len).eq([8, 4, 4, 4, 12]) {
                for token in &mut tokens[k..j] {
                    token.kind = Kind::Other;
                }
            }
            k = j;
        } else {
            k += 1;
        }
    }
}

/// Masks every phone number in `text` to its last four digits (see the module documentation).
pub fn mask_numbers(text: &str) -> String {
    let tokens = tokens(text);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut k = 0;
    while k < tokens.len() {
        if !matches!(tokens[k].kind, Kind::Digits(_) | Kind::Repeat(_) | Kind::Plus) {
            k += 1;
            continue;
        }
        // The run: digit-bearing tokens and the separators between them.
        let first = k;
        let mut last = k;
        let mut j = k;
        while j < tokens.len() && !matches!(tokens[j].kind, Kind::Other) {
            if matches!(tokens[j].kind, Kind::Digits(_) | Kind::Repeat(_)) {
                last = j;
            }
            // A `+` starts a number; in the middle of one it ends the run.
            if j > first && tokens[j].kind == Kind::Plus {
                break;
            }
            j += 1;
        }
        // Digits each piece stands for, `double five` being two.
        let mut counts = vec![0usize; last + 1 - first];
        let mut repeat = 1;
        let mut words = false;
        for (n, token) in tokens[first..=last].iter().enumerate() {
            match token.kind {
                Kind::Digits(d) => {
                    counts[n] = if d == 1 && !token.numeral { repeat } else { d };
                    repeat = 1;
                    words |= !token.numeral;
                }
                Kind::Repeat(times) => {
                    repeat = times;
                    words = true;
                }
                _ => {}
            }
        }
        let digits: usize = counts.iter().sum();
        let threshold = if words { WORDS_THRESHOLD } else { NUMERALS_THRESHOLD };
        if digits >= threshold {
            let plus = tokens[first].kind == Kind::Plus;
            out.push_str(&text[copied..tokens[first].start]);
            // Digits left to reach the last four, counted from the end.
            let mut remaining = digits;
            for (n, token) in tokens[first..=last].iter().enumerate() {
                let piece = &text[token.start..token.end];
                match token.kind {
                    Kind::Digits(_) if token.numeral => {
                        for (d, ch) in piece.chars().enumerate() {
                            let keep = remaining <= 4 || (plus && n == 1 && d == 0);
                            out.push(if keep { ch } else { '*' });
                            remaining -= 1;
                        }
                    }
                    // A word is kept when every digit it stands for is among the last four.
                    Kind::Digits(_) | Kind::Repeat(_) => {
                        out.push_str(if remaining <= 4 { piece } else { "*" });
                        remaining -= counts[n].min(remaining);
                    }
                    _ => out.push_str(piece),
                }
            }
            copied = tokens[last].end;
        }
        k = j.max(k + 1);
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::mask_numbers;

    #[test]
    fn numerals_with_any_separators() {
        assert_eq!(mask_numbers(r#"{"phone":"+14165550123"}"#), r#"{"phone":"+1******0123"}"#);
        assert_eq!(mask_numbers("call 416-555-0123 now"), "call ***-***-0123 now");
        assert_eq!(mask_numbers("(416) 555.0123"), "(***) ***.0123");
        assert_eq!(mask_numbers("416/555/0123"), "***/***/0123");
        // Bella's read-back.
        assert_eq!(mask_numbers("we'll text 4 1 6, 5 5 5, 0 1 2 3."), "we'll text * * *, * * *, 0 1 2 3.");
        // Keypad input.
        assert_eq!(mask_numbers("4165550123#"), "******0123#");
        // In a URL, as an HTTP client's error quotes it.
        assert_eq!(
            mask_numbers("POST https://api.twilio.com/Messages.json?To=%2B14165550123&From=%2B15145550100"),
            "POST https://api.twilio.com/Messages.json?To=%2B1******0123&From=%2B1******0100"
        );
        assert_eq!(mask_numbers("416%20555%200123"), "***%20***%200123");
    }

    #[test]
    fn numbers_said_in_words() {
        assert_eq!(mask_numbers("four one six five five five zero one nine nine"), "* * * * * * zero one nine nine");
        assert_eq!(
            mask_numbers("It's four one six, five five five, oh one nine nine please"),
            "It's * * *, * * *, oh one nine nine please"
        );
        assert_eq!(mask_numbers("four one six double five five oh one nine nine"), "* * * * * * oh one nine nine");
        assert_eq!(mask_numbers("quatre un six cinq cinq cinq zéro un neuf neuf"), "* * * * * * zéro un neuf neuf");
        assert_eq!(mask_numbers("Quatre-un-six, cinq-cinq-cinq, zéro-un-neuf-neuf"), "*-*-*, *-*-*, zéro-un-neuf-neuf");
        // Tens and teens: "four sixteen, five fifty five, oh one ninety nine".
        let masked = mask_numbers("four sixteen, five fifty five, oh one ninety nine");
        assert!(!masked.contains("sixteen") && !masked.contains("fifty"), "{masked}");
        // A local number without its area code, and a mix of words and numerals.
        assert_eq!(mask_numbers("five five five zero one nine nine"), "* * * zero one nine nine");
        assert_eq!(mask_numbers("416 five five five 0199"), "*** * * * 0199");
        // Hesitations do not hide a number.
        assert_eq!(mask_numbers("four one six uh five five five oh one nine nine"), "* * * uh * * * oh one nine nine");
    }

    #[test]
    fn what_is_not_a_phone_number_is_left_alone() {
        for plain in [
            "at 14:30 on 2026-12-01T15:00:00Z, ref 4K7Q, call CA12345678901234567890abcdef",
            "attempt 3 of 6",
            r#"{"business_id":"00000000-0000-4000-8000-000000000001"}"#,
            "Tuesday December 8 at two thirty",
            "one moment please, for two people at four",
            "I'd like to book for Tuesday at 2 pm, the 15th",
            "mardi le quinze à quatorze heures trente",
            "twenty twenty six",
        ] {
            assert_eq!(mask_numbers(plain), plain);
        }
    }

    #[test]
    fn two_numbers_in_a_row_are_both_masked() {
        assert_eq!(mask_numbers("416 555 0123 416 555 0124"), "*** *** **** *** *** 0124");
        assert!(!mask_numbers("416-555-0123 2026-12-01").contains("555"));
        let masked = mask_numbers("+14165550123 then +15145550100");
        assert_eq!(masked, "+1******0123 then +1******0100");
    }
}
