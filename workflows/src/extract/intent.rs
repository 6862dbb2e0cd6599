//! What the caller wants to do.

use serde::{Deserialize, Serialize};

use crate::text::{contains_phrase, fold_accents, words};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Book,
    Reschedule,
    Cancel,
    /// A person: "agent", "representative", "une personne", or 0 on the keypad.
    Human,
    Hours,
    Goodbye,
}

const HUMAN: &[&str] = &[
    "agent",
    "representative",
    "operator",
    "receptionist",
    "human",
    "a person",
    "real person",
    "talk to someone",
    "speak to someone",
    "speak with someone",
    "talk to somebody",
    "une personne",
    "un humain",
    "parler à quelqu'un",
    "parler a quelqu'un",
    "réceptionniste",
    "receptionniste",
    "préposé",
    "prepose",
    "préposée",
    "agente",
    "vraie personne",
    "real human",
    "live person",
    "réception",
    "reception",
    "front desk",
    "passez-moi quelqu'un",
];
const GOODBYE: &[&str] = &[
    "goodbye",
    "good bye",
    "bye",
    "bye-bye",
    "that's all",
    "that is all",
    "hang up",
    "no thanks",
    "no thank you",
    "au revoir",
    "bonne journée",
    "c'est tout",
    "merci bye",
];
const BOOK: &[&str] = &[
    "book",
    "booking",
    "appointment",
    "schedule",
    "make an appointment",
    "reserve",
    "reservation",
    "rendez-vous",
    "rendez vous",
    "rdv",
    "réserver",
    "reserver",
    "prendre",
    "see the",
    "come in",
    "come by",
    "get in",
    "available",
    "availability",
    "opening",
    "openings",
    "passer",
    "de la place",
    "disponible",
    "disponibilité",
    "disponibilite",
    "une place",
    "set something up",
    "set up an",
];
const RESCHEDULE: &[&str] = &[
    "reschedule",
    "move my",
    "move it",
    "change my",
    "change it",
    "change the time",
    "change the date",
    "change the day",
    "push back",
    "push it",
    "different time for my",
    "another day",
    "another time",
    "different day",
    "different time",
    "déplacer",
    "deplacer",
    "changer mon",
    "changer l'heure",
    "changer la date",
    "changer le jour",
    "reporter",
    "remettre",
    "devancer",
    "avancer",
    "décaler",
    "decaler",
    "décale",
    "decale",
    "bump my",
    "bump it",
];
const CANCEL: &[&str] = &[
    "cancel",
    "cancellation",
    "cancelling",
    "canceling",
    "call off",
    "annuler",
    "annule",
    "annulez",
    "annulation",
    "canceller",
    "canceler",
    "cancelle",
    "cancelé",
];
const HOURS: &[&str] = &[
    "hours",
    "open",
    "close",
    "closing",
    "located",
    "location",
    "address",
    "where are you",
    "heures d'ouverture",
    "ouvert",
    "ouverts",
    "ouverte",
    "ouvrez",
    "fermé",
    "ferme",
    "fermez",
    "fermer",
    "adresse",
    "situé",
    "situés",
    "situe",
    "situes",
    "où êtes-vous",
    "vous êtes où",
];

/// The caller's intent, if the utterance states one. Keypad 0 asks for a person.
pub fn intent(speech: &str, digits: &str) -> Option<Intent> {
    if digits.trim() == "0" {
        return Some(Intent::Human);
    }
    let words = words(speech);
    // "l'annuler", "d'annuler": single words are also matched without their elided pronoun.
    let bare: Vec<&str> = words
        .iter()
        .map(|w| ["l'", "d'", "m'", "j'", "s'"].iter().find_map(|p| w.strip_prefix(p)).unwrap_or(w))
        .collect();
    let any = |list: &[&str]| {
        list.iter().any(|p| {
            if p.contains(' ') {
                contains_phrase(&words, p)
            } else {
                let p = fold_accents(p);
                words.iter().zip(&bare).any(|(w, b)| fold_accents(w) == p || fold_accents(b) == p)
            }
        })
    };
    if any(HUMAN) {
        Some(Intent::Human)
    } else if any(CANCEL) {
        Some(Intent::Cancel)
    } else if any(RESCHEDULE) {
        Some(Intent::Reschedule)
    } else if any(BOOK) {
        Some(Intent::Book)
    } else if any(GOODBYE) {
        Some(Intent::Goodbye)
    } else if any(HOURS) {
        Some(Intent::Hours)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents() {
        assert_eq!(intent("I'd like to book an appointment", ""), Some(Intent::Book));
        assert_eq!(intent("I need to reschedule", ""), Some(Intent::Reschedule));
        assert_eq!(intent("cancel my appointment please", ""), Some(Intent::Cancel));
        assert_eq!(intent("can I talk to an agent", ""), Some(Intent::Human));
        assert_eq!(intent("une personne s'il vous plaît", ""), Some(Intent::Human));
        assert_eq!(intent("", "0"), Some(Intent::Human));
        assert_eq!(intent("no thanks, goodbye", ""), Some(Intent::Goodbye));
        assert_eq!(intent("je voudrais prendre un rendez-vous", ""), Some(Intent::Book));
        assert_eq!(intent("Marie Tremblay", ""), None);
        assert_eq!(intent("je pourrai pas y aller, j'aimerais l'annuler", ""), Some(Intent::Cancel));
        assert_eq!(intent("can we bump my appointment to friday", ""), Some(Intent::Reschedule));
    }
}
