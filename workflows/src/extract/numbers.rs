//! Numbers said as words, in English and Canadian French, from zero to ninety-nine.
//!
//! Canadian French counts `soixante-dix`, `quatre-vingts` and `quatre-vingt-dix` (no `septante`
//! or `nonante`). Words arrive already split at hyphens.

use crate::text::fold_accents;

/// A single digit said as a word: `oh`, `zéro`, `four`, `quatre`.
pub(crate) fn digit_word(word: &str) -> Option<u32> {
    Some(match fold_accents(word).as_str() {
        "zero" | "oh" | "o" => 0,
        "one" | "un" | "une" => 1,
        "two" | "deux" => 2,
        "three" | "trois" => 3,
        "four" | "quatre" => 4,
        "five" | "cinq" => 5,
        "six" => 6,
        "seven" | "sept" => 7,
        "eight" | "huit" => 8,
        "nine" | "neuf" => 9,
        _ => return None,
    })
}

pub(crate) fn teen_word(word: &str) -> Option<u32> {
    Some(match fold_accents(word).as_str() {
        "ten" | "dix" => 10,
        "eleven" | "onze" => 11,
        "twelve" | "douze" => 12,
        "thirteen" | "treize" => 13,
        "fourteen" | "quatorze" => 14,
        "fifteen" | "quinze" => 15,
        "sixteen" | "seize" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    })
}

pub(crate) fn tens_word(word: &str) -> Option<u32> {
    Some(match fold_accents(word).as_str() {
        "twenty" | "vingt" => 20,
        "thirty" | "trente" => 30,
        "forty" | "fourty" | "quarante" => 40,
        "fifty" | "cinquante" => 50,
        "sixty" | "soixante" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    })
}

/// Parses a number from `words[start..]`: digits (`30`) or words up to ninety-nine
/// (`forty five`, `vingt et un`, `soixante dix sept`, `quatre vingt douze`).
/// Returns the value and how many words it used.
pub(crate) fn number_at(words: &[String], start: usize) -> Option<(u32, usize)> {
    let word = words.get(start)?;
    if !word.is_empty() && word.len() <= 4 && word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse().ok().map(|n| (n, 1));
    }
    let next = |k: usize| words.get(start + k).map(String::as_str);
    // French 80-99: "quatre vingt(s)" [+ unit or teen].
    if fold_accents(word) == "quatre" && matches!(next(1), Some("vingt" | "vingts")) {
        let (rest, used) = french_tail(words, start + 2, true);
        return Some((80 + rest, 2 + used));
    }
    if let Some(teen) = teen_word(word) {
        // French 17-19: "dix sept", "dix huit", "dix neuf".
        if teen == 10
            && let Some(unit) = next(1).and_then(digit_word).filter(|u| (7..=9).contains(u))
        {
            return Some((10 + unit, 2));
        }
        return Some((teen, 1));
    }
    if let Some(tens) = tens_word(word) {
        if tens == 60 && fold_accents(word) == "soixante" {
            // 61-79: "soixante et un", "soixante dix", "soixante et onze", "soixante douze".
            let (rest, used) = french_tail(words, start + 1, true);
            return Some((60 + rest, 1 + used));
        }
        let (rest, used) = french_tail(words, start + 1, false);
        return Some((tens + rest, 1 + used));
    }
    digit_word(word).map(|d| (d, 1))
}

/// The unit after a tens word: `five` in `forty five`, `et un` in `vingt et un`, and with
/// `allow_teens` the `dix`..`dix-neuf` after `soixante` and `quatre-vingt`.
fn french_tail(words: &[String], at: usize, allow_teens: bool) -> (u32, usize) {
    let mut at = at;
    let mut used = 0;
    if words.get(at).map(String::as_str) == Some("et") {
        at += 1;
        used += 1;
    }
    let Some(word) = words.get(at) else {
        return (0, 0);
    };
    if allow_teens && let Some(teen) = teen_word(word) {
        if teen == 10
            && let Some(unit) = words.get(at + 1).and_then(|w| digit_word(w)).filter(|u| (7..=9).contains(u))
        {
            return (10 + unit, used + 2);
        }
        if teen <= 16 {
            return (teen, used + 1);
        }
    }
    match digit_word(word) {
        // "oh" is zero only when it stands alone, never "forty oh".
        Some(unit) if unit > 0 => (unit, used + 1),
        // A dangling "et" is not part of the number.
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{split_hyphens, words};

    fn n(s: &str) -> Option<(u32, usize)> {
        number_at(&split_hyphens(&words(s)), 0)
    }

    #[test]
    fn english() {
        assert_eq!(n("five"), Some((5, 1)));
        assert_eq!(n("fifteen"), Some((15, 1)));
        assert_eq!(n("forty five"), Some((45, 2)));
        assert_eq!(n("forty-five"), Some((45, 2)));
        assert_eq!(n("thirty"), Some((30, 1)));
        assert_eq!(n("oh"), Some((0, 1)));
        assert_eq!(n("30"), Some((30, 1)));
        assert_eq!(n("hello"), None);
    }

    #[test]
    fn french() {
        assert_eq!(n("dix-sept"), Some((17, 2)));
        assert_eq!(n("vingt et un"), Some((21, 3)));
        assert_eq!(n("vingt-deux"), Some((22, 2)));
        assert_eq!(n("soixante-dix"), Some((70, 2)));
        assert_eq!(n("soixante et onze"), Some((71, 3)));
        assert_eq!(n("soixante-dix-neuf"), Some((79, 3)));
        assert_eq!(n("quatre-vingts"), Some((80, 2)));
        assert_eq!(n("quatre-vingt-un"), Some((81, 3)));
        assert_eq!(n("quatre-vingt-dix"), Some((90, 3)));
        assert_eq!(n("quatre-vingt-dix-neuf"), Some((99, 4)));
        assert_eq!(n("cinquante-cinq"), Some((55, 2)));
        assert_eq!(n("zéro"), Some((0, 1)));
    }
}
