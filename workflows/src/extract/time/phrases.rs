//! Idioms rewritten before the words are read: phrases whose words mean something else on their
//! own ("après" + "midi"), holidays by name, and "three weeks from now" as "in three weeks".

use crate::text::{fold_accents, split_hyphens, words};

/// Phrases rewritten before lexing, longest first: idioms whose words mean something else on
/// their own ("après" + "midi"), and holidays by name. Matched on accent-folded words.
const PHRASES: &[(&str, &str)] = &[
    // French.
    ("du mois prochain", "nextmonth"),
    ("la semaine du", "weekof le"),
    ("a la premiere heure", "morning"),
    ("premiere heure", "morning"),
    ("sur l heure du diner", "a midi"),
    ("l heure du diner", "midi"),
    ("heure du diner", "midi"),
    ("apres l ouvrage", "evening"),
    ("la veille de noel", "le 24 decembre"),
    ("veille de noel", "24 decembre"),
    ("la veille du jour de l an", "le 31 decembre"),
    ("veille du jour de l an", "31 decembre"),
    ("le lendemain du jour de l an", "le 2 janvier"),
    ("lendemain du jour de l an", "2 janvier"),
    ("journee louis riel", "holiday:family_day"),
    ("la journee louis riel", "holiday:family_day"),
    ("a la fin de l apres midi", "lateafternoon"),
    ("fin de l apres midi", "lateafternoon"),
    ("en milieu de journee", "midi"),
    ("milieu de journee", "midi"),
    ("apres le travail", "evening"),
    ("apres la job", "evening"),
    ("et trois quarts", "45"),
    ("trois quarts", "45"),
    ("du mat", "du matin"),
    ("en fin de journee", "lateafternoon"),
    ("fin de journee", "lateafternoon"),
    ("en fin d apres midi", "lateafternoon"),
    ("fin d apres midi", "lateafternoon"),
    ("en fin apres midi", "lateafternoon"),
    ("en debut d apres midi", "earlyafternoon"),
    ("debut d apres midi", "earlyafternoon"),
    ("apres le diner", "earlyafternoon"),
    ("apres diner", "earlyafternoon"),
    ("apres le lunch", "earlyafternoon"),
    ("apres le souper", "evening"),
    ("cet apres midi", "today afternoon"),
    ("apres midi", "afternoon"),
    ("avant midi", "morning"),
    ("apres demain", "aftertomorrow"),
    ("a matin", "today morning"),
    ("ce matin", "today morning"),
    ("a soir", "tonight"),
    ("ce soir", "tonight"),
    ("qui vient", "coming"),
    ("fin de semaine", "weekend"),
    ("dans quinze jours", "in 14 days"),
    ("dans huit jours", "in 7 days"),
    ("moins le quart", "moins quart"),
    ("jour de l an", "holiday:new_year"),
    ("nouvel an", "holiday:new_year"),
    ("jour de la famille", "holiday:family_day"),
    ("vendredi saint", "holiday:good_friday"),
    ("lundi de paques", "holiday:easter_monday"),
    ("journee nationale des patriotes", "holiday:victoria_day"),
    ("fete de la reine", "holiday:victoria_day"),
    ("fete nationale", "holiday:saint_jean_baptiste"),
    ("saint jean baptiste", "holiday:saint_jean_baptiste"),
    ("la saint jean", "holiday:saint_jean_baptiste"),
    ("fete du canada", "holiday:canada_day"),
    ("fete du travail", "holiday:labour_day"),
    ("action de graces", "holiday:thanksgiving"),
    ("action de grace", "holiday:thanksgiving"),
    ("jour du souvenir", "holiday:remembrance_day"),
    ("lendemain de noel", "holiday:boxing_day"),
    ("noel", "holiday:christmas"),
    // English.
    ("of next month", "nextmonth"),
    ("of the next month", "nextmonth"),
    ("the week after next", "in 14 days weekof"),
    ("the week of", "weekof"),
    ("christmas eve", "december 24"),
    ("the day after christmas", "december 26"),
    ("day after christmas", "december 26"),
    ("new year's eve", "december 31"),
    ("new years eve", "december 31"),
    ("louis riel day", "holiday:family_day"),
    ("two weeks today", "in 14 days"),
    ("a week today", "in 7 days"),
    ("new year's day", "holiday:new_year"),
    ("new years day", "holiday:new_year"),
    ("new year's", "holiday:new_year"),
    ("family day", "holiday:family_day"),
    ("good friday", "holiday:good_friday"),
    ("easter monday", "holiday:easter_monday"),
    ("victoria day", "holiday:victoria_day"),
    ("canada day", "holiday:canada_day"),
    ("civic holiday", "holiday:civic_holiday"),
    ("labour day", "holiday:labour_day"),
    ("labor day", "holiday:labour_day"),
    ("truth and reconciliation day", "holiday:truth_and_reconciliation"),
    ("thanksgiving", "holiday:thanksgiving"),
    ("remembrance day", "holiday:remembrance_day"),
    ("christmas day", "holiday:christmas"),
    ("christmas", "holiday:christmas"),
    ("boxing day", "holiday:boxing_day"),
    ("this morning", "today morning"),
    ("this afternoon", "today afternoon"),
    ("this evening", "today evening"),
    ("after lunch", "earlyafternoon"),
    ("early afternoon", "earlyafternoon"),
    ("late afternoon", "lateafternoon"),
    ("end of day", "lateafternoon"),
    ("end of the day", "lateafternoon"),
    ("the weekend", "weekend"),
    ("in a couple of days", "in 2 days"),
    ("in a couple days", "in 2 days"),
    ("a week from today", "in 7 days"),
    ("in a fortnight", "in 14 days"),
    ("first thing", "morning"),
    ("at lunch", "at noon"),
    ("over lunch", "at noon"),
    ("at lunchtime", "at noon"),
    ("after work", "evening"),
    ("night", "evening"),
    // What the recogniser writes for a number said after "at": "Monday at for thirty" is 4:30,
    // "at to PM" is 2 PM, "at ate" is 8. (The phone extractor knows these words too.)
    ("at for", "at four"),
    ("at to", "at two"),
    ("at too", "at two"),
    ("at ate", "at eight"),
];

/// Splits hyphens and elisions (`l'après-midi` → `l`, `après`, `midi`), then rewrites
/// [`PHRASES`], comparing accent-folded words.
pub(super) fn rewrite(input: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for word in split_hyphens(&words(input)) {
        match ["l'", "d'", "qu'"].iter().find_map(|p| word.strip_prefix(p)) {
            Some(rest) if !rest.is_empty() => {
                pieces.push(word[..word.len() - rest.len() - 1].to_owned());
                pieces.push(rest.to_owned());
            }
            _ => pieces.push(word),
        }
    }
    let words = pieces;
    let folded: Vec<String> = words.iter().map(|w| fold_accents(w)).collect();
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    'outer: while i < words.len() {
        for (phrase, replacement) in PHRASES {
            let needle: Vec<&str> = phrase.split(' ').collect();
            let fits = i + needle.len() <= words.len();
            if fits && needle.iter().enumerate().all(|(k, n)| folded[i + k] == *n) {
                out.extend(replacement.split(' ').map(str::to_owned));
                i += needle.len();
                continue 'outer;
            }
        }
        // "three weeks from now", "two days from today": "in three weeks".
        let later = |k: usize| folded.get(i + k).map(String::as_str);
        if matches!(later(1), Some("week" | "weeks" | "day" | "days"))
            && later(2) == Some("from")
            && matches!(later(3), Some("now" | "today"))
        {
            out.extend(["in".to_owned(), words[i].clone(), words[i + 1].clone()]);
            i += 4;
            continue;
        }
        // "a week from Friday", "two weeks from Monday": the Quebec "vendredi en huit", "lundi
        // en quinze" (that many weeks after the coming one).
        let weeks = match (folded[i].as_str(), later(1)) {
            ("a" | "one", Some("week")) => Some("weeklater"),
            ("two", Some("weeks")) => Some("twoweekslater"),
            _ => None,
        };
        if let Some(weeks) = weeks
            && later(2) == Some("from")
            && later(3).is_some_and(is_weekday)
        {
            out.extend([words[i + 3].clone(), weeks.to_owned()]);
            i += 4;
            continue;
        }
        // "Monday's good": the weekday.
        if let Some(day) = folded[i].strip_suffix("'s").filter(|d| is_weekday(d)) {
            out.push(day.to_owned());
            i += 1;
            continue;
        }
        out.push(words[i].clone());
        i += 1;
    }
    out
}

fn is_weekday(word: &str) -> bool {
    matches!(word, "monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday" | "sunday")
}
