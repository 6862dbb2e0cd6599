//! Text normalisation shared by the extractors.
//!
//! Twilio's recogniser returns text such as `"Tuesday at 2:30 p.m., please."` or
//! `"Four one six, five five five…"`. The extractors work on lowercase words: punctuation becomes
//! a word boundary, except an apostrophe or hyphen inside a word (`o'connor`, `jean-françois`) and
//! a colon between digits (`2:30`). Accents are kept: French needs them.

/// Lowercases and splits `input` into words, as described in the module documentation.
pub fn words(input: &str) -> Vec<String> {
    let lowered = input.to_lowercase().replace(['’', '`', 'ʼ'], "'");
    let lowered = expand_meridiem(&lowered);
    let chars: Vec<char> = lowered.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let keep = c.is_alphanumeric()
            || ((c == '\'' || c == '-')
                && prev.is_some_and(char::is_alphanumeric)
                && next.is_some_and(char::is_alphanumeric))
            || (c == ':' && prev.is_some_and(|p| p.is_ascii_digit()) && next.is_some_and(|n| n.is_ascii_digit()));
        if keep {
            current.push(c);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.into_iter().flat_map(split_digit_suffix).collect()
}

/// `a.m.` and `p.m.` lose their dots before punctuation is stripped.
fn expand_meridiem(s: &str) -> String {
    s.replace("a.m.", " am ").replace("p.m.", " pm ").replace("a.m", " am ").replace("p.m", " pm ")
}

/// `3pm` becomes `3 pm`, `2:30pm` becomes `2:30 pm`, `14h30` becomes `14 h 30`; ordinals such as
/// `3rd` stay whole.
fn split_digit_suffix(word: String) -> Vec<String> {
    let first_alpha = word.find(|c: char| c.is_alphabetic());
    let starts_digit = word.starts_with(|c: char| c.is_ascii_digit());
    match first_alpha {
        Some(i) if starts_digit && i > 0 => {
            let (num, rest) = word.split_at(i);
            if matches!(rest, "st" | "nd" | "rd" | "th" | "er" | "re" | "e" | "ième" | "ieme") {
                return vec![word];
            }
            let mut parts = vec![num.to_owned()];
            // "14h30": the letters may be followed by more digits.
            if let Some(j) = rest.find(|c: char| c.is_ascii_digit()) {
                let (letters, digits) = rest.split_at(j);
                parts.push(letters.to_owned());
                parts.push(digits.to_owned());
            } else {
                parts.push(rest.to_owned());
            }
            parts
        }
        _ => vec![word],
    }
}

/// Splits hyphenated words into their parts (`twenty-five` → `twenty`, `five`).
pub fn split_hyphens(words: &[String]) -> Vec<String> {
    words.iter().flat_map(|w| w.split('-').filter(|p| !p.is_empty()).map(str::to_owned)).collect()
}

/// Whether `words` contains `phrase` (itself a space-separated run of words) as consecutive words.
pub fn contains_phrase(words: &[String], phrase: &str) -> bool {
    find_phrase(words, phrase).is_some()
}

/// The index of the first word of `phrase` in `words`.
pub fn find_phrase(words: &[String], phrase: &str) -> Option<usize> {
    let needle: Vec<&str> = phrase.split(' ').collect();
    if needle.is_empty() || needle.len() > words.len() {
        return None;
    }
    (0..=words.len() - needle.len()).find(|&i| needle.iter().enumerate().all(|(k, n)| words[i + k] == *n))
}

/// Removes accents from a lowercase word, for lookups that must not depend on how the
/// recogniser spelled it (`zéro`, `zero`).
pub fn fold_accents(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        words(s)
    }

    #[test]
    fn splits_punctuation_and_keeps_inner_marks() {
        assert_eq!(w("Hi, this is Marie O'Connor."), ["hi", "this", "is", "marie", "o'connor"]);
        assert_eq!(w("Jean-François"), ["jean-françois"]);
        assert_eq!(w("at 2:30 p.m."), ["at", "2:30", "pm"]);
        assert_eq!(w("3pm"), ["3", "pm"]);
        assert_eq!(w("14h30"), ["14", "h", "30"]);
        assert_eq!(w("March 3rd"), ["march", "3rd"]);
        assert_eq!(w("416-555-0123"), ["416-555-0123"]);
        assert_eq!(w("  - , "), Vec::<String>::new());
        assert_eq!(w("It’s me"), ["it's", "me"]);
    }

    #[test]
    fn phrases() {
        let ws = w("no don't book it");
        assert!(contains_phrase(&ws, "don't book"));
        assert!(!contains_phrase(&ws, "book don't"));
        assert_eq!(find_phrase(&ws, "book it"), Some(2));
    }
}
