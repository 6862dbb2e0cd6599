//! TwiML for each [`Reply`]: what the caller hears, and what Twilio does next.
//!
//! Every `<Gather>` listens for speech and keys at once, posts even on silence
//! (`actionOnEmptyResult`) so the state machine owns the reprompt ladder, and is followed by a
//! `<Redirect>` to the same action as a safety net. All text is XML-escaped.

use workflows::Language;
use workflows::dialogue::{Expect, Next, Reply};

/// Where the next request of a call goes; `turn` is the turn it will answer.
pub fn turn_url(turn: u32) -> String {
    format!("/twilio/voice/turn?t={turn}")
}

/// Where a call comes back for the result of a job it waits on (a booking, a move, a
/// cancellation, a repair).
pub fn result_url(turn: u32) -> String {
    format!("/twilio/voice/result?t={turn}")
}

/// The voice and recogniser settings of a language. Polly has no Canadian English voice, so
/// English uses a neural US voice while the recogniser listens for Canadian English.
struct Voice {
    say_voice: &'static str,
    say_language: &'static str,
    listen_language: &'static str,
}

fn voice(language: Language) -> Voice {
    match language {
        Language::En => {
            Voice { say_voice: "Polly.Joanna-Neural", say_language: "en-US", listen_language: Language::En.bcp47() }
        }
        Language::Fr => Voice {
            say_voice: "Polly.Gabrielle-Neural",
            say_language: Language::Fr.bcp47(),
            listen_language: Language::Fr.bcp47(),
        },
    }
}

/// Escapes text for an XML element or attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn say(out: &mut String, language: Language, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let v = voice(language);
    out.push_str(&format!(
        r#"<Say voice="{}" language="{}">{}</Say>"#,
        v.say_voice,
        v.say_language,
        escape(&lines.join(" "))
    ));
}

/// The reply's aside in its own voice, then its lines in the reply's language.
fn speak(out: &mut String, reply: &Reply) {
    if let Some(aside) = &reply.aside {
        say(out, aside.language, std::slice::from_ref(&aside.text));
    }
    say(out, reply.language, &reply.say);
}

fn hints(expect: Expect, language: Language) -> &'static str {
    match (expect, language) {
        (Expect::Time, Language::En) => {
            "today, tomorrow, Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, morning, afternoon, evening, noon, AM, PM, half past, quarter past, quarter to"
        }
        (Expect::Time, Language::Fr) => {
            "aujourd'hui, demain, lundi, mardi, mercredi, jeudi, vendredi, samedi, matin, avant-midi, après-midi, soir, midi, heures, et demie, et quart, moins quart, qui vient"
        }
        (Expect::YesNo | Expect::Choice, Language::En) => "yes, no, the first one, the second one",
        (Expect::YesNo | Expect::Choice, Language::Fr) => "oui, non, le premier, le deuxième",
        (Expect::Phone | Expect::PhoneKeypad, Language::En) => "oh, double, triple",
        (Expect::Phone | Expect::PhoneKeypad, Language::Fr) => "zéro, double",
        (Expect::Spelling, Language::En) => "zed, double u, as in, apostrophe, hyphen, space",
        (Expect::Spelling, Language::Fr) => {
            "i grec, double vé, zède, accent aigu, accent grave, cédille, trait d'union, comme"
        }
        (Expect::Name | Expect::Open, _) => "",
    }
}

/// Renders `reply` in its language; `turn` is the number of the turn the caller's next answer
/// will be.
pub fn render(reply: &Reply, turn: u32) -> String {
    let language = reply.language;
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
    match &reply.next {
        Next::Listen { expect } => {
            let v = voice(language);
            let action = turn_url(turn);
            let (timeout, num_digits) = match expect {
                Expect::YesNo | Expect::Choice => (5, Some(1)),
                Expect::Phone | Expect::PhoneKeypad => (8, None),
                _ => (5, None),
            };
            out.push_str(&format!(
                r#"<Gather input="speech dtmf" action="{}" method="POST" actionOnEmptyResult="true" language="{}" speechTimeout="auto" timeout="{timeout}" profanityFilter="false""#,
                escape(&action),
                v.listen_language,
            ));
            if let Some(n) = num_digits {
                out.push_str(&format!(r#" numDigits="{n}""#));
            }
            let hints = hints(*expect, language);
            if !hints.is_empty() {
                out.push_str(&format!(r#" hints="{}""#, escape(hints)));
            }
            out.push('>');
            speak(&mut out, reply);
            out.push_str("</Gather>");
            out.push_str(&format!(r#"<Redirect method="POST">{}</Redirect>"#, escape(&action)));
        }
        Next::AwaitJob => {
            speak(&mut out, reply);
            out.push_str(&format!(r#"<Redirect method="POST">{}</Redirect>"#, escape(&result_url(turn))));
        }
        Next::Transfer { to } => {
            speak(&mut out, reply);
            out.push_str(&format!("<Dial>{}</Dial>", escape(to.as_str())));
        }
        Next::Hangup => {
            speak(&mut out, reply);
            out.push_str("<Hangup/>");
        }
    }
    out.push_str("</Response>");
    out
}

/// A short apology while something Bella depends on is failing; Twilio comes back to `retry`.
pub fn trouble(language: Language, retry: Option<&str>) -> String {
    let line = match (language, retry.is_some()) {
        (Language::En, true) => "Sorry, I'm having a little trouble. One moment please.",
        (Language::Fr, true) => "Désolée, j'ai un petit problème. Un instant, s'il vous plaît.",
        (Language::En, false) => "Sorry, I'm having trouble right now. Please call us back in a few minutes. Goodbye.",
        (Language::Fr, false) => {
            "Désolée, j'ai un problème en ce moment. Veuillez nous rappeler dans quelques minutes. Au revoir."
        }
    };
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
    say(&mut out, language, &[line.to_owned()]);
    match retry {
        Some(url) => out.push_str(&format!(r#"<Pause length="2"/><Redirect method="POST">{}</Redirect>"#, escape(url))),
        None => out.push_str("<Hangup/>"),
    }
    out.push_str("</Response>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(next: Next, say: &str) -> Reply {
        Reply { say: vec![say.to_owned()], next, effect: None, language: Language::En, aside: None }
    }

    #[test]
    fn gather_listens_for_speech_and_keys_and_redirects() {
        let xml = render(&reply(Next::Listen { expect: Expect::Name }, "May I have your name?"), 3);
        assert!(xml.contains(r#"<Gather input="speech dtmf" action="/twilio/voice/turn?t=3" method="POST" actionOnEmptyResult="true" language="en-CA""#));
        assert!(
            xml.contains(r#"<Say voice="Polly.Joanna-Neural" language="en-US">May I have your name?</Say></Gather>"#)
        );
        assert!(xml.ends_with(r#"<Redirect method="POST">/twilio/voice/turn?t=3</Redirect></Response>"#));
    }

    #[test]
    fn text_is_escaped() {
        let xml = render(&reply(Next::Hangup, "Thanks for calling Smith & Sons <Hair>"), 1);
        assert!(xml.contains("Smith &amp; Sons &lt;Hair&gt;"));
        assert!(xml.ends_with("<Hangup/></Response>"));
    }

    #[test]
    fn an_aside_is_spoken_first_in_its_own_voice() {
        let aside = workflows::dialogue::Aside {
            language: Language::Fr,
            text: "Désolée, ce service est offert en anglais seulement.".into(),
        };
        let english =
            Reply { aside: Some(aside), ..reply(Next::Listen { expect: Expect::Name }, "May I have your name?") };
        let xml = render(&english, 2);
        assert!(xml.contains(
            r#"<Say voice="Polly.Gabrielle-Neural" language="fr-CA">Désolée, ce service est offert en anglais seulement.</Say><Say voice="Polly.Joanna-Neural" language="en-US">May I have your name?</Say></Gather>"#
        ), "{xml}");
        assert!(xml.contains(r#"language="en-CA""#), "the recogniser listens in the call's language: {xml}");
    }

    #[test]
    fn french_uses_a_canadian_voice() {
        let french = Reply { language: Language::Fr, ..reply(Next::Listen { expect: Expect::Time }, "Quel jour?") };
        let xml = render(&french, 1);
        assert!(xml.contains(r#"language="fr-CA""#));
        assert!(xml.contains("Polly.Gabrielle-Neural"));
    }
}
