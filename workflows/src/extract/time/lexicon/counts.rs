//! Numbers that are not times: what a number counts ("in one hour", "2 kids"), labels ("room
//! 12"), ages ("my daughter is 7"), ranks ("the 3rd floor") and codes ("M5V 2T6"). Each rule
//! reads its words as nothing, so that they never become a clock time: Bella asks instead.

use super::{Lexer, Tok, keyword, month, numeric_ordinal, ordinal_word, weekday};
use crate::extract::numbers::number_at;
use crate::ids::Language;

/// What a number may count without being a time of day or a date (see `Lexer::quantity`).
const QUANTITY_UNITS: &[&str] = &[
    "minute",
    "minutes",
    "min",
    "mins",
    "month",
    "months",
    "year",
    "years",
    "kid",
    "kids",
    "child",
    "children",
    "people",
    "person",
    "persons",
    "dollar",
    "dollars",
    "bucks",
    "percent",
    "mois",
    "an",
    "ans",
    "annee",
    "annees",
    "enfant",
    "enfants",
    "personne",
    "personnes",
    "piastre",
    "piastres",
    "digit",
    "digits",
    "chiffre",
    "chiffres",
    "appointments",
    "rendez-vous",
    "rendez",
    "rdv",
    "family",
    "famille",
    "group",
    "groupe",
    "fois",
    "baby",
    "babies",
    "bebe",
    "bebes",
];

/// Verbs after which an hour is a duration ("it takes an hour", "ça dure une heure et demie").
const DURATION_VERBS: &[&str] = &["takes", "take", "took", "lasts", "last", "dure", "durer", "prend", "prendre"];

/// Words after a number that make it a street address ("240 King Street", "1250 rue …").
const STREET_WORDS: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "boulevard",
    "blvd",
    "drive",
    "dr",
    "crescent",
    "cres",
    "lane",
    "court",
    "way",
    "place",
    "rue",
    "chemin",
    "boul",
    "rang",
    "route",
    "montee",
];

/// Words before a number that make it a label ("room 12", "extension 204", "le poste 204").
const LABELS: &[&str] = &[
    "room",
    "suite",
    "unit",
    "apartment",
    "apt",
    "extension",
    "ext",
    "number",
    "no",
    "code",
    "chambre",
    "bureau",
    "poste",
    "numero",
    "local",
    "appartement",
    "porte",
];

/// Groups whose size follows "of" or "de" ("a family of 4", "un groupe de 3").
const GROUPS: &[&str] = &["family", "group", "party", "famille", "groupe"];

/// People whose number, right after them, is an age ("my daughter is 7", "mon fils a 5 ans").
const PEOPLE: &[&str] = &[
    "daughter",
    "son",
    "kid",
    "child",
    "baby",
    "wife",
    "husband",
    "mother",
    "father",
    "mom",
    "dad",
    "he",
    "she",
    "he's",
    "she's",
    "fille",
    "fils",
    "enfant",
    "bebe",
    "femme",
    "mari",
    "mere",
    "pere",
    "kids",
    "children",
    "sons",
    "daughters",
    "boys",
    "girls",
    "enfants",
    "filles",
];

/// "there's 3 of us", "on est 4", "nous sommes 5", "we're 3": the size of a party.
fn a_party(before: &[&str], after: &[&str]) -> bool {
    matches!(after, ["of", "us" | "them", ..])
        || matches!(before, [.., "on" | "nous", "est" | "sommes" | "serait" | "serons"])
        || matches!(before, [.., "we're" | "were"] | [.., "we", "are" | "will"])
}

impl Lexer {
    /// A number that counts something other than a time of day ("in one hour", "dans deux mois",
    /// "I have 2 kids", "30 minutes"): neither the number nor its unit is read, so that it never
    /// becomes a clock time. Weeks and days are dates ("in two weeks"), and a French "heure" is a
    /// clock ("14 heures"): those are read as before.
    pub(super) fn quantity(&mut self, i: usize) -> Option<usize> {
        let used = match self.folded[i].as_str() {
            "a" | "an" | "one" | "un" | "une" => 1,
            _ => number_at(&self.words, i)?.1,
        };
        let unit = self.folded.get(i + used)?;
        // "ça dure une heure", "dans deux heures", "d'ici une heure": hours counted, not a clock.
        let before = i.checked_sub(1).map_or("", |j| self.folded[j].as_str());
        let a_duration = (DURATION_VERBS.contains(&before) || matches!(before, "dans" | "ici"))
            && matches!(unit.as_str(), "heure" | "heures");
        let counted = QUANTITY_UNITS.contains(&unit.as_str())
            || a_duration
            || self.language == Language::En && matches!(unit.as_str(), "hour" | "hours");
        // "twenty minutes past three" is a clock: the clock rules read it.
        let of_a_clock = matches!(
            self.folded.get(i + used + 1).map(String::as_str),
            Some("past" | "after" | "to" | "before" | "till" | "til")
        ) && number_at(&self.words, i + used + 2).is_some();
        // "3 fillings", "2 sessions": a number before a plural noun counts it, unless a time's
        // preposition comes first ("at 3 thanks").
        let after_preposition =
            i > 0 && matches!(self.folded[i - 1].as_str(), "at" | "around" | "by" | "a" | "vers" | "avant" | "apres");
        let a_number = !matches!(self.folded[i].as_str(), "a" | "an" | "un" | "une");
        let plural_noun = a_number
            && !after_preposition
            && number_at(std::slice::from_ref(unit), 0).is_none()
            && unit.len() >= 4
            && unit.ends_with('s')
            && unit.chars().all(char::is_alphabetic)
            && keyword(unit).is_none()
            && weekday(unit, self.language).is_none()
            && month(unit).is_none();
        if !(counted || plural_noun) || of_a_clock {
            return None;
        }
        for _ in 0..=used {
            self.toks.push(Tok::Other);
        }
        Some(used + 1)
    }

    /// A number labelled as something else ("room 12", "extension 204") or an age right after a
    /// person ("my daughter is 7"): neither is read.
    pub(super) fn labelled_number(&mut self, i: usize) -> Option<usize> {
        let (_, used) = number_at(&self.words, i)?;
        let before = |k: usize| i.checked_sub(k).map(|j| self.folded[j].as_str());
        let labelled = before(1).is_some_and(|w| LABELS.contains(&w))
            || matches!(before(1), Some("of" | "de")) && before(2).is_some_and(|w| GROUPS.contains(&w));
        let an_age = before(1).is_some_and(|w| PEOPLE.contains(&w))
            || matches!(before(1), Some("is" | "a" | "est" | "are" | "ont" | "sont"))
                && before(2).is_some_and(|w| PEOPLE.contains(&w));
        let folded: Vec<&str> = self.folded.iter().map(String::as_str).collect();
        let party = a_party(&folded[..i], &folded[i + used..]);
        if !labelled && !an_age && !party {
            return None;
        }
        // "my kids are 4 and 7": the ages that follow go with the first.
        let mut read = used;
        while matches!(folded.get(i + read), Some(&("and" | "et")))
            && let Some((_, more)) = number_at(&self.words, i + read + 1)
        {
            read += 1 + more;
        }
        for _ in 0..read {
            self.toks.push(Tok::Other);
        }
        Some(read)
    }

    /// A street address ("I live at 240 King Street", "le 1250 rue Sainte-Catherine"): read
    /// before the clock rules, which would take "240" for 2:40.
    pub(super) fn address(&mut self, i: usize) -> Option<usize> {
        let (_, used) = number_at(&self.words, i)?;
        let folded: Vec<&str> = self.folded.iter().map(String::as_str).collect();
        // "at 10 on King Street" is still a time: a street after a time's preposition is where.
        let after_preposition = i > 0 && matches!(folded[i - 1], "at" | "around" | "by" | "a" | "vers" | "avant");
        let street_follows =
            !after_preposition && (0..3).any(|k| folded.get(i + used + k).is_some_and(|w| STREET_WORDS.contains(w)));
        let lives_at =
            matches!(folded[..i], [.., "live" | "lives" | "located" | "habite" | "reste", "at" | "a" | "au"]);
        if !street_follows && !lives_at {
            return None;
        }
        Some(self.push(Tok::Other, used))
    }

    /// "the 3rd floor", "la 2e fois": an ordinal that ranks something other than a day.
    pub(super) fn ranked(&mut self, i: usize) -> Option<usize> {
        let word = self.folded[i].as_str();
        numeric_ordinal(word).or_else(|| ordinal_word(word))?;
        let next = self.folded.get(i + 1).map(String::as_str)?;
        let ranks = ["floor", "etage", "time", "fois", "grade", "place", "row", "rangee", "visit", "visite"];
        if !ranks.contains(&next) {
            return None;
        }
        self.toks.push(Tok::Other);
        Some(self.push(Tok::Other, 2))
    }

    /// A code that mixes letters and digits ("M5V 2T6", "H2X"): a postal code, never a time.
    pub(super) fn code(&mut self, i: usize) -> Option<usize> {
        let word = self.folded[i].as_str();
        let letters = word.chars().filter(char::is_ascii_alphabetic).count();
        let digits = word.chars().filter(char::is_ascii_digit).count();
        let a_clock_or_ordinal = numeric_ordinal(word).is_some()
            || word.ends_with("am")
            || word.ends_with("pm")
            || word.contains('h') && word.chars().next().is_some_and(|c| c.is_ascii_digit());
        (letters > 0 && digits > 0 && word.len() <= 4 && !a_clock_or_ordinal).then(|| self.push(Tok::Other, 1))
    }
}
