//! The caller's name.
//!
//! A name comes either after an introduction ("my name is", "this is", "it's", "je m'appelle",
//! "c'est") anywhere in an utterance, or as the whole answer when Bella has just asked for it.
//! Words that cannot be part of a name end it ("this is Marie *and* I'd like…"), and answers that
//! are not names ("yes", "cancel", "I need to reschedule", "tomorrow at 3") never become one.

mod words;

use std::fmt;

use serde::{Deserialize, Serialize};

use self::words::{
    AFTER_NAME, FILLERS, INTRODUCTIONS, NAMES_THAT_ARE_WORDS, NOT_NAMES, SENTENCE_WORDS, STOP_WORDS, TAGS, TIME_WORDS,
    TITLES,
};
use super::numbers::number_at;
use crate::text::{find_phrase, fold_accents, words};

/// A person's name, capitalised for reading back and for the appointment record.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    /// Builds a name from words already known to be one, fixing their capitalisation.
    pub fn from_words<S: AsRef<str>>(words: &[S]) -> Option<Self> {
        // "Nguyen Van An": after a Vietnamese family name, "Van" is a middle name, not the Dutch
        // particle of "Vincent van Gogh".
        let vietnamese = words
            .first()
            .is_some_and(|w| VIETNAMESE_FAMILY_NAMES.contains(&fold_accents(&w.as_ref().to_lowercase()).as_str()));
        let parts: Vec<String> = words
            .iter()
            .enumerate()
            .map(|(i, w)| capitalise(&w.as_ref().to_lowercase(), i == 0 || vietnamese))
            .filter(|w| !w.is_empty())
            .collect();
        if parts.is_empty() {
            return None;
        }
        Some(Self(parts.join(" ")))
    }

    /// Accepts a name typed by an operator or stored earlier, with light validation.
    pub fn parse(value: &str) -> Option<Self> {
        let words: Vec<&str> = value.split_whitespace().collect();
        let valid = !words.is_empty()
            && words.len() <= 6
            && value.chars().all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.'));
        if valid { Some(Self(words.join(" "))) } else { None }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first given name, for a friendly "Thanks, Marie".
    pub fn first(&self) -> &str {
        self.0.split(' ').next().unwrap_or(&self.0)
    }

    /// `M. T.`: safe for logs.
    pub fn masked(&self) -> String {
        self.0.split(' ').filter_map(|w| w.chars().next()).map(|c| format!("{c}.")).collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({})", self.masked())
    }
}

const MAX_NAME_WORDS: usize = 4;

/// A name introduced anywhere in `speech` ("Hi, this is Marie Tremblay, I'd like…", "Kevin
/// Nguyen here").
pub fn introduced_name(speech: &str) -> Option<PersonName> {
    let words = words(speech);
    for intro in INTRODUCTIONS {
        let mut from = 0;
        while let Some(rel) = find_phrase(&words[from..], intro) {
            let start = from + rel + intro.split(' ').count();
            if let Some(name) = name_run(&words[start..]) {
                return Some(name);
            }
            from += rel + 1;
        }
    }
    for after in AFTER_NAME {
        if let Some(end) = find_phrase(&words, after) {
            // The name words just before: back to a greeting, a filler or the start.
            let start = words[..end]
                .iter()
                .rposition(|w| !is_name_word(w) || STOP_WORDS.contains(&w.as_str()) || FILLERS.contains(&w.as_str()))
                .map_or(0, |i| i + 1);
            if start < end
                && end - start <= MAX_NAME_WORDS + 1
                && let Some(name) = name_run(&words[start..end])
            {
                return Some(name);
            }
        }
    }
    None
}

/// A name given as the whole answer to "may I have your name?".
pub fn answered_name(speech: &str) -> Option<PersonName> {
    if let Some(name) = introduced_name(speech) {
        return Some(without_tags(name));
    }
    let words = words(speech);
    let start = words
        .iter()
        .enumerate()
        .take_while(|(i, w)| FILLERS.contains(&w.as_str()) && !starts_a_name(&words, *i))
        .count();
    let rest = without_trailing_tags(&words[start..]);
    if let Some(name) = name_as_answered(rest) {
        return Some(name);
    }
    if rest.is_empty() || rest.len() > MAX_NAME_WORDS + 1 {
        return None;
    }
    // Every word must be name-like (titles aside): a bare answer with other words in it is not a
    // name.
    let untitled = strip_titles(rest);
    if untitled.is_empty() || untitled.len() > MAX_NAME_WORDS {
        return None;
    }
    if untitled.iter().any(|w| !is_name_word(w) || STOP_WORDS.contains(&w.as_str())) {
        return None;
    }
    name_run(rest)
}

/// What the caller said at the name prompt, kept as heard when it could not be understood even
/// spelled: its name-like words (fillers and tags dropped, at most four), for a person to check.
/// `None` when nothing in it looks like a word of a name.
pub fn name_as_heard(speech: &str) -> Option<PersonName> {
    let words = words(speech);
    let kept: Vec<&String> = without_trailing_tags(&words)
        .iter()
        .filter(|w| is_name_word(w) && !FILLERS.contains(&w.as_str()) && !STOP_WORDS.contains(&w.as_str()))
        .take(MAX_NAME_WORDS)
        .collect();
    PersonName::from_words(&kept)
}

/// Whether the word at `i` starts a name rather than filling ("Ben Martin" at the name prompt).
fn starts_a_name(words: &[String], i: usize) -> bool {
    NAMES_THAT_ARE_WORDS.contains(&words[i].as_str())
        && words.get(i + 1).is_some_and(|next| {
            is_name_word(next) && !SENTENCE_WORDS.contains(&next.as_str()) && !FILLERS.contains(&next.as_str())
        })
}

/// `words` without the tags said after a name.
fn without_trailing_tags(words: &[String]) -> &[String] {
    let tags = words.iter().rev().take_while(|w| TAGS.contains(&w.as_str())).count();
    &words[..words.len() - tags]
}

/// A name introduced with a tag after it ("it's Mike Thompson eh"): the tag dropped.
fn without_tags(name: PersonName) -> PersonName {
    let words: Vec<String> = name.as_str().split(' ').map(str::to_lowercase).collect();
    let kept = without_trailing_tags(&words);
    if kept.len() == words.len() || kept.is_empty() {
        return name;
    }
    PersonName::from_words(&kept.iter().collect::<Vec<_>>()).unwrap_or(name)
}

/// The whole answer to "May I have your name?" as the name, when it is two to four name words
/// and nothing makes it a sentence: weekday, month or time words after the first are then part
/// of the name ("Sue Friday", "Eve Morning", "Nguyen Van An"); the read-back confirms it.
fn name_as_answered(words: &[String]) -> Option<PersonName> {
    let words = strip_titles(words);
    if !(2..=MAX_NAME_WORDS).contains(&words.len()) || !words.iter().all(|w| is_name_word(w)) {
        return None;
    }
    let first = words[0].as_str();
    let first_is_a_name = NAMES_THAT_ARE_WORDS.contains(&first)
        || !(STOP_WORDS.contains(&first) || NOT_NAMES.contains(&first) || FILLERS.contains(&first));
    let rest_fits = words[1..]
        .iter()
        .all(|w| !SENTENCE_WORDS.contains(&w.as_str()) && !NOT_NAMES.contains(&w.as_str()) || is_time_word(w));
    if !first_is_a_name || !rest_fits || TIME_WORDS.contains(&first) {
        return None;
    }
    PersonName::from_words(&words.iter().collect::<Vec<_>>())
}

fn is_time_word(word: &str) -> bool {
    TIME_WORDS.contains(&word)
}

/// `words` without leading titles ("Dr.", "Madame").
fn strip_titles(words: &[String]) -> &[String] {
    let titles = words.iter().take_while(|w| TITLES.contains(&w.trim_end_matches('.'))).count();
    // A title alone ("Mr. Singh" keeps Singh; "Madame" alone is not a name).
    &words[titles.min(words.len())..]
}

/// The longest run of name words at the start of `words`, if it makes a plausible name.
fn name_run(words: &[String]) -> Option<PersonName> {
    let words = strip_titles(words);
    // "it's just Grace": fillers before the name are not part of it ("Ben Martin" keeps his Ben).
    let fillers = words
        .iter()
        .enumerate()
        .take_while(|(i, w)| FILLERS.contains(&w.as_str()) && !starts_a_name(words, *i))
        .count();
    let words = &words[fillers..];
    // "it's Will Henderson": a given name that is also a word starts the run.
    let given = !words.is_empty() && starts_a_name(words, 0);
    let run: Vec<&String> = words
        .iter()
        .enumerate()
        .take_while(|(i, w)| is_name_word(w) && (!STOP_WORDS.contains(&w.as_str()) || *i == 0 && given))
        .map(|(_, w)| w)
        .take(MAX_NAME_WORDS)
        .collect();
    if run.is_empty() || run.iter().all(|w| NOT_NAMES.contains(&w.as_str())) {
        return None;
    }
    // "I am not sure", "my name is not important": a negation is never the start of a name.
    if ["not", "never", "no", "pas", "don't"].contains(&run[0].as_str()) {
        return None;
    }
    if run.iter().any(|w| NOT_NAMES.contains(&w.as_str())) && run.len() == 1 {
        return None;
    }
    PersonName::from_words(&run)
}

fn is_name_word(word: &str) -> bool {
    let is_number = number_at(std::slice::from_ref(&word.to_owned()), 0).is_some();
    // French elided pronouns and verbs end a name ("…Girard, j'appelle pour…"); names such as
    // D'Amours or L'Heureux keep theirs.
    let elided_verb = ["j'", "c'", "n'", "s'", "qu'", "m'", "t'"].iter().any(|p| word.starts_with(p));
    !is_number
        && !elided_verb
        && word.chars().any(char::is_alphabetic)
        && word.chars().all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        && word.chars().count() <= 30
}

const LOWER_PARTICLES: &[&str] = &["de", "du", "des", "van", "von", "da", "di", "del", "der"];

/// The commonest Vietnamese family names, said first.
const VIETNAMESE_FAMILY_NAMES: &[&str] = &[
    "nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "do", "ho", "ngo", "duong",
    "ly", "truong", "dinh", "lam", "mai",
];

/// `o'connor` → `O'Connor`, `macdonald` → `MacDonald`, `jean-françois` → `Jean-François`.
fn capitalise(word: &str, first: bool) -> String {
    if !first && LOWER_PARTICLES.contains(&word) {
        return word.to_owned();
    }
    word.split('-').map(capitalise_part).collect::<Vec<_>>().join("-")
}

fn capitalise_part(part: &str) -> String {
    if let Some((head, tail)) = part.split_once('\'')
        && head.chars().count() == 1
        && !tail.is_empty()
    {
        return format!("{}'{}", upper_first(head), upper_first(tail));
    }
    for prefix in ["mc", "mac"] {
        if let Some(rest) = part.strip_prefix(prefix) {
            let next = rest.chars().next();
            let consonant = next.is_some_and(|c| !"aeiouyh".contains(fold_accents(&c.to_string()).as_str()));
            let long_enough = rest.chars().count() >= if prefix == "mc" { 2 } else { 4 };
            if consonant && long_enough {
                return format!("{}{}", upper_first(prefix), upper_first(rest));
            }
        }
    }
    upper_first(part)
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intro(s: &str) -> Option<String> {
        introduced_name(s).map(|n| n.as_str().to_owned())
    }
    fn bare(s: &str) -> Option<String> {
        answered_name(s).map(|n| n.as_str().to_owned())
    }

    #[test]
    fn kept_as_heard() {
        let heard = |s: &str| name_as_heard(s).map(|n| n.as_str().to_owned());
        assert_eq!(heard("uh xochitl quetzalli eh").as_deref(), Some("Xochitl Quetzalli"));
        assert_eq!(heard("um 42").as_deref(), None);
        assert_eq!(heard("").as_deref(), None);
    }

    #[test]
    fn introductions() {
        assert_eq!(intro("Hi, this is Marie Tremblay, I'd like Tuesday at two").as_deref(), Some("Marie Tremblay"));
        assert_eq!(intro("my name is noah brown").as_deref(), Some("Noah Brown"));
        assert_eq!(intro("It's John Smith and I need an appointment").as_deref(), Some("John Smith"));
        assert_eq!(intro("je m'appelle Jean-François Côté").as_deref(), Some("Jean-François Côté"));
        assert_eq!(intro("I'm calling to book an appointment"), None);
        assert_eq!(intro("this is for tomorrow"), None);
        assert_eq!(intro("it's fine"), None);
    }

    #[test]
    fn bare_answers() {
        assert_eq!(bare("Marie Tremblay").as_deref(), Some("Marie Tremblay"));
        assert_eq!(bare("um, Philip Chen").as_deref(), Some("Philip Chen"));
        assert_eq!(bare("o'connor").as_deref(), Some("O'Connor"));
        assert_eq!(bare("Sarah MacDonald").as_deref(), Some("Sarah MacDonald"));
        assert_eq!(bare("yes"), None);
        assert_eq!(bare("cancel"), None);
        assert_eq!(bare("I need to reschedule"), None);
        assert_eq!(bare("tomorrow at 3"), None);
        assert_eq!(bare(""), None);
        assert_eq!(bare("four one six five five five"), None);
        assert_eq!(bare("four one"), None);
    }

    #[test]
    fn capitalisation() {
        assert_eq!(capitalise("mcdonald", true), "McDonald");
        assert_eq!(capitalise("machado", true), "Machado");
        assert_eq!(capitalise("macias", true), "Macias");
        assert_eq!(capitalise("d'arcy", true), "D'Arcy");
        assert_eq!(capitalise("élise", true), "Élise");
        assert_eq!(capitalise("de", false), "de");
    }

    #[test]
    fn masked_for_logs() {
        assert_eq!(PersonName::parse("Marie Tremblay").unwrap().masked(), "M. T.");
    }
}
