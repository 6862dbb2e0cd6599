//! Which language the caller speaks, from their words, and explicit requests to switch.

use crate::ids::Language;
use crate::text::{contains_phrase, fold_accents, words};

const FRENCH: &[&str] = &[
    "je",
    "j'ai",
    "j'aimerais",
    "j'voudrais",
    "voudrais",
    "aimerais",
    "veux",
    "rendez-vous",
    "oui",
    "non",
    "bonjour",
    "allo",
    "allô",
    "demain",
    "merci",
    "s'il",
    "plaît",
    "plait",
    "c'est",
    "est",
    "le",
    "la",
    "les",
    "des",
    "pour",
    "avec",
    "mon",
    "ma",
    "mes",
    "un",
    "une",
    "nom",
    "numéro",
    "numero",
    "heure",
    "heures",
    "matin",
    "après-midi",
    "soir",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "appelle",
    "prendre",
    "réserver",
    "reserver",
    "annuler",
    "déplacer",
    "deplacer",
    "ouais",
    "bien",
    "ça",
    "qui",
    "vient",
    "prochain",
    "prochaine",
    "semaine",
    "midi",
    "et",
    "quart",
    "demie",
    "moins",
];
const ENGLISH: &[&str] = &[
    "i",
    "i'd",
    "i'm",
    "would",
    "like",
    "want",
    "need",
    "appointment",
    "yes",
    "no",
    "hello",
    "hi",
    "tomorrow",
    "please",
    "the",
    "my",
    "to",
    "for",
    "book",
    "booking",
    "name",
    "is",
    "it's",
    "this",
    "next",
    "morning",
    "afternoon",
    "evening",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "at",
    "pm",
    "am",
    "yeah",
    "okay",
    "thanks",
    "thank",
    "you",
    "can",
    "could",
    "schedule",
    "cancel",
    "reschedule",
    "number",
    "and",
    "of",
    "half",
    "past",
    "quarter",
];

/// The language of an utterance, when its words say so clearly.
pub fn detect(speech: &str) -> Option<Language> {
    let words = words(speech);
    let french =
        words.iter().filter(|w| FRENCH.contains(&w.as_str()) || w.chars().any(|c| "éèêàâçùûîôœ".contains(c))).count();
    let english = words.iter().filter(|w| ENGLISH.contains(&w.as_str())).count();
    match (french, english) {
        (f, e) if f >= 1 && f > 2 * e => Some(Language::Fr),
        (f, e) if e >= 1 && e > 2 * f => Some(Language::En),
        _ => None,
    }
}

/// "In English please", "parlez-vous français?", "en français": a request to switch.
pub fn requested(speech: &str) -> Option<Language> {
    let words = words(speech);
    let folded: Vec<String> = words.iter().map(|w| fold_accents(w)).collect();
    let has = |w: &str| folded.iter().any(|f| f == w);
    let asks_french = has("francais") || has("french") || contains_phrase(&words, "parlez-vous");
    let asks_english = has("english") || has("anglais");
    match (asks_french, asks_english) {
        (true, false) => Some(Language::Fr),
        (false, true) => Some(Language::En),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_clear_cases_only() {
        assert_eq!(detect("Bonjour, j'aimerais prendre un rendez-vous"), Some(Language::Fr));
        assert_eq!(detect("Hi, I'd like to book an appointment"), Some(Language::En));
        assert_eq!(detect("mardi qui vient à 14 h 30"), Some(Language::Fr));
        assert_eq!(detect("Marie Tremblay"), None);
        assert_eq!(detect("oui"), Some(Language::Fr));
        assert_eq!(detect("okay"), Some(Language::En));
    }

    #[test]
    fn switch_requests() {
        assert_eq!(requested("can we do this in English please"), Some(Language::En));
        assert_eq!(requested("parlez-vous français?"), Some(Language::Fr));
        assert_eq!(requested("en français s'il vous plaît"), Some(Language::Fr));
        assert_eq!(requested("I'd like an appointment"), None);
    }
}
