//! A name spelled letter by letter, in English or French.
//!
//! "S M I T H", "ess em eye tee aitch", "zed", "double u"; in French "i grec" (Y), "double vé"
//! (W), "zède" (Z), accents said as words ("e accent aigu" → é, "c cédille" → ç), and examples
//! ("B comme Bernard", "B as in Bravo"). "Trait d'union", "tiret", "dash" and "hyphen" give a
//! hyphen; "apostrophe" an apostrophe; "espace" and "space" separate two words.

use crate::text::{fold_accents, words};

use super::PersonName;

/// The letter a spoken letter name stands for.
fn letter(word: &str) -> Option<char> {
    let folded = fold_accents(word);
    if folded.chars().count() == 1 {
        return folded.chars().next().filter(char::is_ascii_alphabetic);
    }
    Some(match folded.as_str() {
        "ay" | "eh" => 'a',
        "bee" | "be" => 'b',
        "see" | "cee" | "ce" | "sea" => 'c',
        "dee" | "de" => 'd',
        "ee" | "euh" => 'e',
        "eff" | "ef" | "effe" => 'f',
        "gee" | "ge" => 'g',
        "aitch" | "haitch" | "ache" | "hache" => 'h',
        "eye" | "ai" => 'i',
        "jay" | "ji" | "gi" => 'j',
        "kay" | "ka" | "ca" => 'k',
        "el" | "ell" | "elle" => 'l',
        "em" | "emme" => 'm',
        "en" | "enne" => 'n',
        "oh" | "eau" => 'o',
        "pee" | "pe" => 'p',
        "cue" | "queue" | "ku" | "qu" => 'q',
        "ar" | "are" | "erre" | "ere" => 'r',
        "ess" | "es" | "esse" => 's',
        "tee" | "tea" | "te" => 't',
        "you" | "yu" => 'u',
        "vee" | "ve" => 'v',
        "ex" | "ix" | "ixe" | "iks" => 'x',
        "why" | "wye" | "igrec" => 'y',
        "zed" | "zee" | "zede" => 'z',
        _ => return None,
    })
}

/// Words that carry no letter and can be skipped between letters.
const FILLER: &[&str] = &[
    "um",
    "uh",
    "euh",
    "it's",
    "its",
    "that's",
    "c'est",
    "is",
    "then",
    "and",
    "et",
    "puis",
    "ensuite",
    "capital",
    "majuscule",
    "letter",
    "lettre",
    "spelled",
    "spelt",
    "épelé",
    "epele",
    "ça",
    "ca",
    "s'écrit",
    "s'ecrit",
    "my",
    "name",
    "mon",
    "nom",
    "le",
    "la",
];

/// The letters of a spelled name, or `None` when the answer is not spelling.
pub fn spelled(speech: &str) -> Option<String> {
    let words: Vec<String> = words(speech).iter().flat_map(|w| split_hyphenated(w)).collect();
    let mut out = String::new();
    let mut letters = 0;
    let mut other = 0;
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        let after = words.get(i + 2).map(String::as_str);
        // "B comme Bernard", "B as in Bravo": the letter, then an example word to skip.
        let example = match (next, after) {
            (Some("comme" | "like"), Some(_)) => 2,
            (Some("as"), Some("in")) if words.get(i + 3).is_some() => 3,
            _ => 0,
        };
        if let Some((used, added)) = letters_and_marks(word, next, &mut out) {
            letters += added;
            i += used;
            continue;
        }
        if let Some(c) = letter(word) {
            out.push(c);
            letters += 1;
            i += 1 + example;
            continue;
        }
        if !FILLER.contains(&word) {
            other += 1;
        }
        i += 1;
    }
    // Spelling is mostly letters: "I said Smith" is not spelling.
    if letters < 2 || other * 3 > letters {
        return None;
    }
    Some(out.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Two-word letters ("double u", "i grec", a doubled letter) and the marks that are not letters
/// (hyphen, apostrophe, space, an accent on the letter before), written to `out`. Returns the
/// words used and the letters added, or `None` when `word` is neither.
fn letters_and_marks(word: &str, next: Option<&str>, out: &mut String) -> Option<(usize, usize)> {
    match (fold_accents(word).as_str(), next.map(fold_accents).as_deref()) {
        ("double", Some("u" | "you" | "v" | "ve" | "vee")) => {
            out.push('w');
            Some((2, 1))
        }
        ("i", Some("grec")) => {
            out.push('y');
            Some((2, 1))
        }
        ("trait", Some("d'union" | "union")) => {
            out.push('-');
            Some((2, 0))
        }
        ("accent", Some(kind)) => {
            if let Some(last) = out.pop() {
                out.push(accented(last, kind));
            }
            Some((2, 0))
        }
        ("cedille", _) => {
            if out.ends_with('c') {
                out.pop();
                out.push('ç');
            }
            Some((1, 0))
        }
        ("double", Some(_)) => {
            let c = next.and_then(letter)?;
            out.push(c);
            out.push(c);
            Some((2, 2))
        }
        ("tiret" | "dash" | "hyphen", _) => {
            out.push('-');
            Some((1, 0))
        }
        ("apostrophe", _) => {
            out.push('\'');
            Some((1, 0))
        }
        ("espace" | "space", _) => {
            out.push(' ');
            Some((1, 0))
        }
        _ => None,
    }
}

fn split_hyphenated(word: &str) -> Vec<String> {
    // "S-M-I-T-H" arrives as one word; a real hyphen inside a name is spelled as a word.
    if word.contains('-') && word.split('-').all(|p| p.chars().count() == 1) {
        word.split('-').map(str::to_owned).collect()
    } else {
        vec![word.to_owned()]
    }
}

fn accented(letter: char, kind: &str) -> char {
    match (letter, kind) {
        ('e', "aigu") => 'é',
        ('e', "grave") => 'è',
        ('e', "circonflexe") => 'ê',
        ('a', "grave") => 'à',
        ('a', "circonflexe") => 'â',
        ('i', "circonflexe") => 'î',
        ('o', "circonflexe") => 'ô',
        ('u', "grave") => 'ù',
        ('u', "circonflexe") => 'û',
        ('e' | 'i' | 'u', "trema") => match letter {
            'e' => 'ë',
            'i' => 'ï',
            _ => 'ü',
        },
        (other, _) => other,
    }
}

/// A spelled name, capitalised: "S M I T H" → Smith.
pub fn spelled_name(speech: &str) -> Option<PersonName> {
    let letters = spelled(speech)?;
    let words: Vec<&str> = letters.split(' ').filter(|w| !w.is_empty()).collect();
    PersonName::from_words(&words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Option<String> {
        spelled_name(s).map(|n| n.as_str().to_owned())
    }

    #[test]
    fn english() {
        assert_eq!(name("S M I T H").as_deref(), Some("Smith"));
        assert_eq!(name("s. m. i. t. h.").as_deref(), Some("Smith"));
        assert_eq!(name("S-M-I-T-H").as_deref(), Some("Smith"));
        assert_eq!(name("zed E double L E R").as_deref(), Some("Zeller"));
        assert_eq!(name("double u A T T").as_deref(), Some("Watt"));
        assert_eq!(name("it's O apostrophe C O N N O R").as_deref(), Some("O'Connor"));
        assert_eq!(name("B as in Bravo R O W N").as_deref(), Some("Brown"));
        assert_eq!(name("I said Smith"), None);
        assert_eq!(name("yes"), None);
    }

    #[test]
    fn french() {
        assert_eq!(name("C O T E accent aigu").as_deref(), Some("Coté"));
        assert_eq!(name("B comme Bernard O U C H A R D").as_deref(), Some("Bouchard"));
        assert_eq!(name("L A V I i grec").as_deref(), Some("Laviy"));
        assert_eq!(name("J E A N trait d'union F R A N C cédille O I S").as_deref(), Some("Jean-François"));
        assert_eq!(name("zède A C H A R I E").as_deref(), Some("Zacharie"));
        assert_eq!(name("double vé I L S O N").as_deref(), Some("Wilson"));
    }
}
