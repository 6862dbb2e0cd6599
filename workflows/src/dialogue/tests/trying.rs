//! Callers who are trying: names Bella hears as words, names never understood, answers to a
//! confirmation that are neither yes nor no, a language the line does not serve. Bella never
//! hangs up on them.

use super::*;

/// At the name prompt, first names that are also words are names: "Will Young" is read back, not
/// asked for three times ("will" is a verb elsewhere), and "Ben Martin" keeps its Ben (a Quebec
/// filler elsewhere).
#[test]
fn names_that_are_also_words_are_taken_at_the_name_prompt() {
    for (said, name) in [("Will Young", "Will Young"), ("Ben Martin", "Ben Martin"), ("Sue Friday", "Sue Friday")] {
        let (mut call, _) = Call::new(Some("+14165550123"));
        call.say("I'd like to book an appointment");
        assert_eq!(call.session.stage, Stage::Asking { field: Field::Name }, "{said}");
        call.say(said);
        assert_eq!(call.session.draft.name.as_ref().map(PersonName::as_str), Some(name), "{said}");
    }
}

/// Every detail collected, a caller whose answers to "Shall I book it?" are not understood is not
/// hung up on (the business has no one to transfer to): the keypad is offered, and 1 books.
#[test]
fn unclear_answers_at_the_read_back_get_the_keypad_not_a_goodbye() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.say("this is Marie Tremblay, tomorrow at 2 pm");
    let r = call.say("yes");
    assert!(text(&r).contains("Shall I book it"), "{}", text(&r));
    for said in ["hmm", "what was that", "the weather is nice", "banana"] {
        let r = call.say(said);
        assert_ne!(r.next, Next::Hangup, "{said}: {}", text(&r));
        assert_eq!(call.session.stage, Stage::ReadBack, "{said}");
    }
    let r = call.say("pardon");
    assert!(text(&r).contains("press 1 for yes"), "{}", text(&r));
    let r = call.press("1");
    assert!(matches!(r.effect, Some(Effect::Book(_))), "{:?}", r.effect);
}

/// A name never understood: asked again, then asked spelled, then kept as heard for a person to
/// check; the caller books and is never hung up on at the name prompt.
#[test]
fn a_name_never_understood_is_spelled_then_kept_as_heard() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.say("I'd like to book an appointment");
    let r = call.say("and her pre cold are");
    assert!(text(&r).contains("May I have your name"), "{}", text(&r));
    let r = call.say("it is on her pre cold are");
    assert!(text(&r).contains("spell it for me"), "{}", text(&r));
    assert_eq!(r.next, Next::Listen { expect: Expect::Spelling });
    let r = call.say("and tar pre eat");
    assert_ne!(r.next, Next::Hangup);
    assert!(text(&r).contains("someone from our team will check it"), "{}", text(&r));
    assert!(text(&r).contains("What day and time"), "{}", text(&r));
    assert_eq!(call.session.draft.name_as_heard.as_ref().map(PersonName::as_str), Some("Tar Pre Eat"));
    call.say("Thursday at 10 am");
    let r = call.say("yes");
    assert!(text(&r).contains("under your name as I heard it"), "{}", text(&r));
    let r = call.say("yes");
    let request = booking(&r);
    assert_eq!(request.name.as_str(), "Tar Pre Eat");
    assert!(request.name_to_check);
    let r = call.event(Event::JobSettled(booked(&request)));
    assert!(text(&r).starts_with("You're all set. Your appointment"), "{}", text(&r));
}

/// The same caller at a business with someone to take the call is transferred instead.
#[test]
fn a_name_never_understood_goes_to_a_person_when_there_is_one() {
    let (mut call, _) = Call::with(quebec_clinic(), None, CallerHistory::default());
    call.press("2");
    call.say("book please");
    call.say("and her pre cold are");
    let r = call.say("it is on her pre cold are");
    assert_eq!(r.next, Next::Listen { expect: Expect::Spelling });
    let r = call.say("and tar pre eat");
    assert_eq!(r.next, Next::Transfer { to: E164::parse("+15145550111").unwrap() });
}

/// A French caller of an English-only line hears one sentence in French (with the way to a person
/// when there is one), in the French voice, then the call goes on in English.
#[test]
fn a_french_caller_of_an_english_line_is_told_in_french_once() {
    let (mut call, greeting) = Call::new(Some("+14165550123"));
    assert_eq!(call.business.languages, [Language::En]);
    assert!(!text(&greeting).contains("bonjour"), "{}", text(&greeting));
    let r = call.say("Bonjour, je voudrais un rendez-vous");
    let aside = r.aside.clone().expect("an aside in French");
    assert_eq!(aside.language, Language::Fr);
    assert_eq!(aside.text, "Désolée, ce service est offert en anglais seulement. Je continue en anglais.");
    assert_eq!(r.language, Language::En);
    assert!(text(&r).contains("May I have your name"), "{}", text(&r));
    let r = call.say("Marie Tremblay");
    assert!(r.aside.is_none());
    assert!(text(&r).contains("Thanks, Marie"), "{}", text(&r));

    let mut business = quebec_clinic();
    business.languages = vec![Language::En];
    let (mut call, _) = Call::with(business, None, CallerHistory::default());
    let r = call.say("Bonjour, je voudrais prendre un rendez-vous demain à 14 h");
    let aside = r.aside.clone().expect("an aside in French");
    assert!(aside.text.contains("Pour parler à quelqu'un, faites le 0."), "{}", aside.text);
    assert_eq!(r.language, Language::En);
}
