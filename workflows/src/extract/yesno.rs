//! Yes or no, by whole words, with negation and hedges.
//!
//! The system we replace matched substrings, so "no, don't book it" contained "book" and booked,
//! "that is incorrect" contained "correct", and "noise" meant no. Here an answer is a yes only
//! when it holds a yes word and nothing that negates or hedges it.

use serde::{Deserialize, Serialize};

use crate::text::{contains_phrase, fold_accents, words};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
    /// A hedge ("I'm not sure", "maybe") or nothing recognisable: ask again.
    Unclear,
}

const YES_WORDS: &[&str] = &[
    "yes",
    "yeah",
    "yea",
    "yep",
    "yup",
    "ya",
    "sure",
    "correct",
    "right",
    "ok",
    "okay",
    "absolutely",
    "definitely",
    "perfect",
    "great",
    "fine",
    "affirmative",
    "exactly",
    "certainly",
    "confirm",
    "confirmed",
    "oui",
    "ouais",
    "exact",
    "exactement",
    "parfait",
    "daccord",
    "certain",
    "certainement",
    "bien",
    "super",
    "oui-oui",
    "uh-huh",
    "mm-hmm",
    "mhm",
    "absolument",
    "yessir",
];
const YES_PHRASES: &[&str] = &[
    "go ahead",
    "sounds good",
    "that works",
    "book it",
    "please do",
    "that's it",
    "that is it",
    "c'est ça",
    "c'est ca",
    "c'est bon",
    "c'est correct",
    "d'accord",
    "ça marche",
    "ca marche",
    "allez-y",
    "vas-y",
    "no problem",
    "pas de problème",
    "pas de probleme",
    "c'est beau",
    "ça me va",
    "ca me va",
    "ça va",
    "c'est parfait",
    "go for it",
    "works for me",
    "me convient",
];
/// Refusals that a hedge word would otherwise make unclear ("no, wait") or that hold no
/// negation word ("laissez faire", Quebec for "never mind").
const REFUSAL_PHRASES: &[&str] = &[
    "no wait",
    "no hold on",
    "non attendez",
    "non attends",
    "not really",
    "pas vraiment",
    "doesn't work",
    "does not work",
    "won't work",
    "marche pas",
    "laissez faire",
    "laisse faire",
    "laissez tomber",
    "laisse tomber",
    "forget it",
    "never mind",
];
const NO_WORDS: &[&str] = &[
    "no",
    "nope",
    "nah",
    "not",
    "don't",
    "dont",
    "incorrect",
    "wrong",
    "never",
    "negative",
    "cancel",
    "stop",
    "non",
    "pas",
    "faux",
    "erreur",
    "annule",
    "annuler",
    "isn't",
    "isnt",
    "wasn't",
    "nothing",
];
const HEDGE_PHRASES: &[&str] = &[
    "not sure",
    "i don't know",
    "i dont know",
    "don't know",
    "maybe",
    "perhaps",
    "i guess",
    "not really sure",
    "pas vraiment sûr",
    "pas vraiment sur",
    "kind of",
    "sort of",
    "je ne sais pas",
    "je sais pas",
    "sais pas",
    "peut-être",
    "peut être",
    "pas sûr",
    "pas sur",
    "pas sûre",
    "pas sure",
    "pas certain",
    "pas certaine",
    "let me think",
    "hold on",
    "one second",
    "wait",
    "just a second",
    "attendez",
    "attends",
    "une seconde",
    "un instant",
    "une minute",
];

/// Reads a yes/no answer from speech, or from the keypad (1 yes, 2 no).
pub fn answer(speech: &str, digits: &str) -> Answer {
    match digits.trim() {
        "1" => return Answer::Yes,
        "2" => return Answer::No,
        _ => {}
    }
    let words = words(speech);
    if words.is_empty() {
        return Answer::Unclear;
    }
    let folded: Vec<String> = words.iter().map(|w| fold_accents(w).replace('\'', "")).collect();
    let has_word = |list: &[&str]| {
        words.iter().zip(&folded).any(|(w, f)| list.contains(&w.as_str()) || list.contains(&f.as_str()))
    };
    let has_phrase = |list: &[&str]| list.iter().any(|p| contains_phrase(&words, p));

    // "no problem" and "pas de problème" are agreement despite their negation word.
    let agreeing_negation = has_phrase(&["no problem", "pas de problème", "pas de probleme"]);
    let unsure = has_phrase(HEDGE_PHRASES);
    if has_phrase(REFUSAL_PHRASES) && !(unsure && has_word(&["sure", "sûr", "sur", "sûre"])) {
        return Answer::No;
    }
    if unsure {
        return Answer::Unclear;
    }
    let negated = has_word(NO_WORDS) && !agreeing_negation;
    if negated {
        return Answer::No;
    }
    if has_word(YES_WORDS) || has_phrase(YES_PHRASES) {
        return Answer::Yes;
    }
    Answer::Unclear
}

#[cfg(test)]
mod tests {
    use super::*;
    use Answer::*;

    #[test]
    fn defects_of_the_old_system_are_fixed() {
        assert_eq!(answer("no, don't book it", ""), No);
        assert_eq!(answer("No don't book it", ""), No);
        assert_eq!(answer("I'm not sure", ""), Unclear);
        assert_eq!(answer("that is incorrect", ""), No);
        assert_eq!(answer("not right", ""), No);
        assert_eq!(answer("noise", ""), Unclear);
        assert_eq!(answer("Yep", ""), Yes);
        assert_eq!(answer("correct", ""), Yes);
        assert_eq!(answer("okay", ""), Yes);
    }

    #[test]
    fn plain_answers() {
        assert_eq!(answer("yes please", ""), Yes);
        assert_eq!(answer("Yes, book it.", ""), Yes);
        assert_eq!(answer("sure", ""), Yes);
        assert_eq!(answer("sounds good", ""), Yes);
        assert_eq!(answer("no", ""), No);
        assert_eq!(answer("nope", ""), No);
        assert_eq!(answer("no problem", ""), Yes);
        assert_eq!(answer("", "1"), Yes);
        assert_eq!(answer("", "2"), No);
        assert_eq!(answer("", ""), Unclear);
        assert_eq!(answer("purple", ""), Unclear);
        assert_eq!(answer("maybe", ""), Unclear);
    }

    #[test]
    fn french_answers() {
        assert_eq!(answer("oui", ""), Yes);
        assert_eq!(answer("c'est ça", ""), Yes);
        assert_eq!(answer("exact", ""), Yes);
        assert_eq!(answer("non", ""), No);
        assert_eq!(answer("non, ce n'est pas ça", ""), No);
        assert_eq!(answer("je ne sais pas", ""), Unclear);
        assert_eq!(answer("laissez faire", ""), No);
        assert_eq!(answer("ça me convient", ""), Yes);
    }

    #[test]
    fn refusals_that_pause_are_no() {
        assert_eq!(answer("no wait", ""), No);
        assert_eq!(answer("not really", ""), No);
        assert_eq!(answer("not really sure", ""), Unclear);
        assert_eq!(answer("that doesn't work", ""), No);
        assert_eq!(answer("wait", ""), Unclear);
        assert_eq!(answer("go for it", ""), Yes);
    }
}
