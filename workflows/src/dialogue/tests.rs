//! Whole conversations through the pure state machine.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::extract::PersonName;
use crate::ids::AppointmentRef;
use crate::schedule::BusinessProfile;
use crate::schedule::tests::{toronto_clinic, tuesday_evening};
use uuid::Uuid;

mod trying;

struct Call {
    session: Session,
    business: BusinessProfile,
    busy: Vec<Slot>,
    now: DateTime<Utc>,
    /// Whether a language model is configured.
    repair: bool,
}

const SID: &str = "CA0123456789abcdef0123456789abcdef";

impl Call {
    fn new(caller_id: Option<&str>) -> (Self, Reply) {
        let business = toronto_clinic();
        let now = tuesday_evening();
        let caller_id = caller_id.map(|n| E164::parse(n).unwrap());
        let session = Session::new(CallSid::parse(SID).unwrap(), &business, caller_id, CallerHistory::default(), now);
        let mut call = Self { session, business, busy: Vec::new(), now, repair: false };
        let reply = call.event(Event::CallStarted);
        (call, reply)
    }

    fn event(&mut self, event: Event<'_>) -> Reply {
        let calendar = Calendar::new(&self.busy);
        let ctx = Context { business: &self.business, now: self.now, busy: &calendar, repair: self.repair };
        let reply = handle(&mut self.session, event, &ctx);
        self.session.turn += 1;
        reply
    }

    fn say(&mut self, speech: &str) -> Reply {
        self.event(Event::Heard { speech, digits: "" })
    }

    fn press(&mut self, digits: &str) -> Reply {
        self.event(Event::Heard { speech: "", digits })
    }

    fn silence(&mut self) -> Reply {
        self.event(Event::Heard { speech: "", digits: "" })
    }
}

fn booking(reply: &Reply) -> BookingRequest {
    match &reply.effect {
        Some(Effect::Book(request)) => request.clone(),
        other => panic!("expected a booking, got {other:?}"),
    }
}

fn text(reply: &Reply) -> String {
    reply.say.join(" ")
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn booked(request: &BookingRequest) -> JobOutcome {
    JobOutcome::Booked {
        reference: AppointmentRef::for_booking_key("book:test"),
        starts_at: request.slot.starts_at,
        ends_at: request.slot.ends_at,
    }
}

#[test]
fn cooperative_caller_books() {
    let (mut call, greeting) = Call::new(Some("+14165550123"));
    assert!(text(&greeting).contains("How can I help"));
    let r = call.say("I'd like to book an appointment");
    assert!(text(&r).contains("your name"), "{}", text(&r));
    let r = call.say("Marie Tremblay");
    assert!(text(&r).contains("Thanks, Marie"));
    assert!(text(&r).contains("What day and time"));
    let r = call.say("tomorrow at 2 pm");
    assert!(text(&r).contains("Wednesday, November 25 at 2 PM is available"), "{}", text(&r));
    assert!(text(&r).contains("ending in 0 1 2 3"), "{}", text(&r));
    let r = call.say("yes");
    let read_back = text(&r);
    assert!(read_back.contains("Marie Tremblay"));
    assert!(read_back.contains("Wednesday, November 25 at 2 PM"));
    assert!(read_back.contains("4 1 6, 5 5 5, 0 1 2 3"));
    assert_eq!(r.next, Next::Listen { expect: Expect::YesNo });
    let r = call.say("yes please");
    let request = booking(&r);
    assert_eq!(r.next, Next::AwaitJob);
    assert_eq!(request.slot.starts_at, at("2026-11-25T19:00:00Z"));
    assert_eq!(request.phone.as_str(), "+14165550123");
    assert_eq!(request.name.as_str(), "Marie Tremblay");
    assert_eq!(request.idempotency_key, format!("book:{SID}#1"));
    let r = call.event(Event::JobSettled(booked(&request)));
    assert!(text(&r).contains("You're all set, Marie"));
    assert_eq!(r.next, Next::Hangup);
    assert!(call.session.is_over());
}

#[test]
fn one_sentence_fills_two_slots() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    let r = call.say("Hi, this is Marie Tremblay, I'd like Tuesday at two");
    assert_eq!(call.session.draft.name.as_ref().unwrap().as_str(), "Marie Tremblay");
    assert_eq!(call.session.draft.slot.unwrap().starts_at, at("2026-12-01T19:00:00Z"));
    assert_eq!(call.session.stage, Stage::ConfirmCallerId);
    assert!(text(&r).contains("ending in"));
}

#[test]
fn withheld_caller_id_asks_for_a_number() {
    let (mut call, _) = Call::new(None);
    call.say("this is John Smith");
    let r = call.say("Thursday at 10 am");
    assert!(text(&r).contains("phone number"), "{}", text(&r));
    let r = call.say("four one six five five five zero one nine nine");
    assert!(text(&r).contains("4 1 6, 5 5 5, 0 1 9 9"), "{}", text(&r));
    let r = call.say("yes");
    assert_eq!(booking(&r).phone.as_str(), "+14165550199");
}

#[test]
fn keypad_number_and_toll_free_refusal() {
    let (mut call, _) = Call::new(None);
    call.say("my name is Ann Lee and I want Friday at 11");
    let r = call.press("8005551212");
    assert!(text(&r).contains("can't receive"), "{}", text(&r));
    let r = call.press("6135550142");
    assert!(text(&r).contains("6 1 3, 5 5 5, 0 1 4 2"), "{}", text(&r));
}

#[test]
fn no_at_the_read_back_never_books() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.say("this is Marie Tremblay, tomorrow at 2 pm");
    call.say("yes");
    let r = call.say("no, don't book it");
    assert!(r.effect.is_none());
    assert_eq!(call.session.stage, Stage::WhatToChange);
    assert!(text(&r).contains("haven't booked"));
    let r = call.say("goodbye");
    assert!(r.effect.is_none());
    assert_eq!(r.next, Next::Hangup);
}

#[test]
fn hedges_are_not_yes() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.say("this is Marie Tremblay, tomorrow at 2 pm");
    call.say("yes");
    for hedge in ["I'm not sure", "that is incorrect"] {
        let r = call.say(hedge);
        assert!(r.effect.is_none(), "{hedge} must not book");
        if call.session.stage == Stage::WhatToChange {
            call.say("actually it's fine");
        }
    }
}

#[test]
fn corrections_keep_the_rest() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.say("this is Marie Tremblay, tomorrow at 2 pm");
    call.say("yes");
    let r = call.say("no, Thursday");
    assert!(text(&r).contains("Thursday, November 26 at 2 PM"), "{}", text(&r));
    assert_eq!(call.session.stage, Stage::ReadBack);
    let r = call.say("the number is wrong");
    assert!(text(&r).contains("phone number"), "{}", text(&r));
    let r = call.say("six one three five five five zero one four two");
    assert!(text(&r).contains("6 1 3, 5 5 5, 0 1 4 2"));
    assert!(text(&r).contains("Marie Tremblay"));
}

#[test]
fn silence_ends_politely_and_boundedly() {
    let (mut call, _) = Call::new(None);
    let r = call.silence();
    assert!(text(&r).contains("didn't hear"));
    assert!(matches!(r.next, Next::Listen { .. }));
    call.silence();
    let r = call.silence();
    assert_eq!(r.next, Next::Hangup);
    assert!(text(&r).contains("Goodbye"));
}

#[test]
fn nonsense_is_bounded() {
    let (mut call, _) = Call::new(None);
    call.say("book please");
    let mut last = call.say("purple monkey dishwasher");
    // The name prompt never hangs up (asked again, spelled, then kept as heard); the time prompt
    // that follows does, after its misses: the call as a whole is bounded.
    for _ in 0..2 * MAX_MISSES + 2 {
        if last.next == Next::Hangup {
            break;
        }
        last = call.say("blah blah blah");
    }
    assert_eq!(last.next, Next::Hangup);
}

#[test]
fn closed_day_offers_nearest_and_yes_takes_the_first() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.say("this is Marie Tremblay");
    let r = call.say("Saturday at 10");
    assert!(text(&r).contains("closed on Saturdays"), "{}", text(&r));
    assert!(text(&r).contains("Friday, November 27 at 4:30 PM or Monday, November 30 at 9 AM"), "{}", text(&r));
    let r = call.say("the later one");
    assert!(text(&r).contains("ending in"), "{}", text(&r));
    assert_eq!(call.session.draft.slot.unwrap().starts_at, at("2026-11-30T14:00:00Z"));
}

#[test]
fn past_and_after_hours_times_are_refused() {
    let (mut call, _) = Call::new(None);
    call.say("this is Marie Tremblay");
    let r = call.say("today at 3 pm");
    assert!(text(&r).contains("already passed"), "{}", text(&r));
    let r = call.say("no");
    assert!(text(&r).contains("other day"));
    let r = call.say("tomorrow at 8 pm");
    assert!(text(&r).contains("outside our opening hours"), "{}", text(&r));

    // "This morning at 9", said in the evening: passed, and the caller is not booked into the past.
    let (mut call, _) = Call::new(None);
    call.say("this is Marie Tremblay");
    let r = call.say("this morning at 9");
    assert!(text(&r).contains("Tuesday, November 24 at 9 AM has already passed"), "{}", text(&r));
    assert!(call.session.draft.slot.is_none());
}

#[test]
fn taken_slot_after_yes_offers_others_and_never_the_same() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.say("this is Marie Tremblay, tomorrow at 2 pm");
    call.say("yes");
    let r = call.say("yes");
    let first = booking(&r);
    let r = call.event(Event::JobSettled(JobOutcome::SlotTaken));
    assert!(text(&r).contains("just taken"), "{}", text(&r));
    let Stage::Offering { options } = &call.session.stage else { panic!("expected an offer") };
    assert!(options.iter().all(|o| !o.overlaps(&first.slot)));
    call.say("the first one");
    let r = call.say("yes");
    let second = booking(&r);
    assert_eq!(second.attempt, 2);
    assert_ne!(second.slot, first.slot);
}

#[test]
fn pending_booking_is_bounded() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.say("this is Marie Tremblay, tomorrow at 2 pm");
    call.say("yes");
    call.say("yes");
    let mut r = call.event(Event::JobPending);
    assert!(text(&r).contains("One moment"));
    for _ in 0..MAX_JOB_WAITS {
        r = call.event(Event::JobPending);
    }
    assert_eq!(r.next, Next::Hangup);
    assert!(text(&r).contains("will be confirmed"));
}

#[test]
fn booked_slots_are_not_offered() {
    let (mut call, _) = Call::new(None);
    let start = at("2026-11-25T19:00:00Z");
    call.busy.push(Slot { starts_at: start, ends_at: start + Duration::minutes(30) });
    call.say("this is Marie Tremblay");
    let r = call.say("tomorrow at 2 pm");
    assert!(text(&r).contains("already booked"), "{}", text(&r));
    assert!(text(&r).contains("1:30 PM or Wednesday, November 25 at 2:30 PM"), "{}", text(&r));
    let r = call.say("2:30");
    assert!(text(&r).contains("phone"), "{}", text(&r));
    assert_eq!(call.session.draft.slot.unwrap().starts_at, start + Duration::minutes(30));
}

#[test]
fn the_turn_count_is_bounded() {
    let (mut call, _) = Call::new(None);
    call.session.turn = MAX_TURNS;
    assert_eq!(call.say("hello").next, Next::Hangup);
}

// --- Issue 4: bilingual calls, existing bookings, ladders -------------------------------------

fn existing(start: &str, name: &str) -> Existing {
    let starts_at = at(start);
    Existing {
        id: Uuid::new_v4(),
        reference: AppointmentRef::for_booking_key(start),
        slot: Slot { starts_at, ends_at: starts_at + Duration::minutes(30) },
        name: PersonName::parse(name).unwrap(),
    }
}

impl Call {
    fn with(business: BusinessProfile, caller_id: Option<&str>, history: CallerHistory) -> (Self, Reply) {
        let now = tuesday_evening();
        let caller_id = caller_id.map(|n| E164::parse(n).unwrap());
        let session = Session::new(CallSid::parse(SID).unwrap(), &business, caller_id, history, now);
        let mut call = Self { session, business, busy: Vec::new(), now, repair: false };
        let reply = call.event(Event::CallStarted);
        (call, reply)
    }
}

fn quebec_clinic() -> BusinessProfile {
    let mut business = toronto_clinic();
    business.languages = vec![Language::Fr, Language::En];
    business.transfer_number = Some(E164::parse("+15145550111").unwrap());
    business
}

#[test]
fn a_quebec_line_greets_in_french_first_and_books_in_french() {
    let (mut call, greeting) = Call::with(quebec_clinic(), Some("+15145550123"), CallerHistory::default());
    assert!(text(&greeting).starts_with("Bonjour, hello!"), "{}", text(&greeting));
    assert!(text(&greeting).contains("For service in English, press 2"));
    assert_eq!(greeting.language, Language::Fr);
    let r = call.say("Bonjour, c'est Hélène Côté, je voudrais un rendez-vous mardi qui vient à 14 h 30");
    assert!(text(&r).contains("Merci, Hélène"), "{}", text(&r));
    assert!(text(&r).contains("mardi 1er décembre à 14 h 30"), "{}", text(&r));
    let r = call.say("oui");
    assert!(text(&r).contains("Je confirme"), "{}", text(&r));
    assert!(text(&r).contains("5 1 4, 5 5 5, 0 1 2 3"));
    let r = call.say("oui, c'est ça");
    let request = booking(&r);
    assert_eq!(request.language, Language::Fr);
    assert_eq!(request.slot.starts_at, at("2026-12-01T19:30:00Z"));
    let r = call.event(Event::JobSettled(booked(&request)));
    assert!(text(&r).contains("C'est réservé, Hélène"), "{}", text(&r));
}

#[test]
fn the_language_follows_the_caller() {
    // An English caller on a French-first line: understood and answered in English.
    let (mut call, _) = Call::with(quebec_clinic(), None, CallerHistory::default());
    let r = call.say("Hi, I'd like to book an appointment please");
    assert_eq!(r.language, Language::En);
    assert!(text(&r).contains("May I have your name"), "{}", text(&r));
    // And back to French on request, mid-call, with the question asked again.
    let r = call.say("en français s'il vous plaît");
    assert_eq!(r.language, Language::Fr);
    assert!(text(&r).contains("continuons en français"));
    assert!(text(&r).contains("votre nom"), "{}", text(&r));
    // The keypad at the greeting.
    let (mut call, _) = Call::with(quebec_clinic(), None, CallerHistory::default());
    let r = call.press("2");
    assert_eq!(r.language, Language::En);
    assert!(text(&r).contains("How can I help"), "{}", text(&r));
}

#[test]
fn a_returning_caller_is_greeted_by_name_and_not_asked_again() {
    let history = CallerHistory { name: Some(PersonName::parse("Marie Tremblay").unwrap()), upcoming: vec![] };
    let (mut call, greeting) = Call::with(toronto_clinic(), Some("+14165550123"), history);
    assert!(text(&greeting).contains("Welcome back, Marie"), "{}", text(&greeting));
    let r = call.say("I'd like to book for Thursday at 10 am");
    // Name and number are known: straight to the read-back.
    assert!(text(&r).contains("Let me confirm: an appointment for Marie Tremblay"), "{}", text(&r));
    assert!(text(&r).contains("4 1 6, 5 5 5, 0 1 2 3"));
}

#[test]
fn hours_and_address_then_a_booking() {
    let mut business = toronto_clinic();
    business.address = Some("123 Queen Street West".into());
    let (mut call, _) = Call::with(business, None, CallerHistory::default());
    let r = call.say("what are your hours?");
    assert!(text(&r).contains("We're open Monday to Friday, 9 AM to 5 PM"), "{}", text(&r));
    assert!(text(&r).contains("123 Queen Street West"));
    assert!(text(&r).contains("anything else"));
    let r = call.say("yes I'd like to book an appointment");
    assert!(text(&r).contains("your name"), "{}", text(&r));
}

#[test]
fn confusion_is_handed_to_a_person() {
    let (mut call, _) = Call::with(quebec_clinic(), None, CallerHistory::default());
    call.press("2");
    call.say("book please");
    call.say("Ann Lee");
    call.say("purple");
    call.say("banana split");
    let r = call.say("whatever you think");
    assert_eq!(r.next, Next::Transfer { to: E164::parse("+15145550111").unwrap() });
    assert!(text(&r).contains("transfer you"), "{}", text(&r));
}

#[test]
fn an_agent_can_be_asked_for_at_any_time() {
    let (mut call, _) = Call::with(quebec_clinic(), None, CallerHistory::default());
    call.say("je voudrais un rendez-vous");
    let r = call.say("je veux parler à une personne");
    assert!(matches!(r.next, Next::Transfer { .. }));
    let (mut call, _) = Call::with(quebec_clinic(), None, CallerHistory::default());
    call.say("je voudrais un rendez-vous");
    assert!(matches!(call.press("0").next, Next::Transfer { .. }));
}

#[test]
fn the_keypad_takes_over_after_a_failed_spoken_number() {
    let (mut call, _) = Call::new(None);
    call.say("this is Ann Lee, Thursday at 10 am");
    let r = call.say("four one six five five");
    assert_eq!(r.next, Next::Listen { expect: Expect::PhoneKeypad });
    assert!(text(&r).contains("keypad"), "{}", text(&r));
    let r = call.press("6135550142");
    assert!(text(&r).contains("6 1 3, 5 5 5, 0 1 4 2"), "{}", text(&r));
}

#[test]
fn a_name_rejected_twice_is_spelled() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.say("this is John Smyth, Thursday at 10 am");
    call.say("yes");
    let r = call.say("no, the name is wrong");
    assert!(text(&r).contains("your name"), "{}", text(&r));
    call.say("John Smyth");
    let r = call.say("no, the name is wrong");
    assert!(text(&r).contains("spell your name"), "{}", text(&r));
    assert_eq!(r.next, Next::Listen { expect: Expect::Spelling });
    let r = call.say("S M I T H");
    assert!(text(&r).contains("an appointment for Smith"), "{}", text(&r));
}

#[test]
fn reschedule_from_the_caller_id() {
    let old = existing("2026-11-26T15:00:00Z", "Marie Tremblay");
    let history = CallerHistory { name: Some(old.name.clone()), upcoming: vec![old.clone()] };
    let (mut call, _) = Call::with(toronto_clinic(), Some("+14165550123"), history);
    call.busy.push(old.slot);
    let r = call.say("I need to reschedule my appointment");
    assert!(text(&r).contains("I see your appointment on Thursday, November 26 at 10 AM"), "{}", text(&r));
    assert!(text(&r).contains("What new day and time"), "{}", text(&r));
    // 10:15 overlaps the appointment's own time, which is being freed: it is available.
    let r = call.say("Thursday at 10:15");
    assert!(
        text(&r)
            .contains("move your appointment from Thursday, November 26 at 10 AM to Thursday, November 26 at 10:15 AM"),
        "{}",
        text(&r)
    );
    let r = call.say("yes");
    match &r.effect {
        Some(Effect::Reschedule { idempotency_key, appointment_id, slot }) => {
            assert_eq!(*appointment_id, old.id);
            assert_eq!(slot.starts_at, at("2026-11-26T15:15:00Z"));
            assert_eq!(idempotency_key, &format!("reschedule:{SID}#1"));
        }
        other => panic!("expected a reschedule, got {other:?}"),
    }
    let r = call.event(Event::JobSettled(JobOutcome::Rescheduled {
        reference: old.reference,
        starts_at: at("2026-11-26T15:15:00Z"),
        ends_at: at("2026-11-26T15:45:00Z"),
    }));
    assert!(text(&r).contains("Your appointment is now on Thursday, November 26 at 10:15 AM"), "{}", text(&r));
    assert_eq!(r.next, Next::Hangup);
}

#[test]
fn cancel_with_a_number_given_by_the_caller() {
    let (mut call, _) = Call::new(None);
    let r = call.say("I want to cancel my appointment");
    assert!(text(&r).contains("What phone number was the appointment booked with"), "{}", text(&r));
    let r = call.say("four one six five five five zero one two three");
    assert_eq!(r.effect, Some(Effect::LookUp { phone: E164::parse("+14165550123").unwrap() }));
    let two =
        vec![existing("2026-11-26T15:00:00Z", "Marie Tremblay"), existing("2026-12-03T19:00:00Z", "Marie Tremblay")];
    let r = call.event(Event::Found(two.clone()));
    assert!(text(&r).contains("Which one"), "{}", text(&r));
    let r = call.say("the second one");
    assert!(text(&r).contains("Shall I cancel your appointment on Thursday, December 3 at 2 PM"), "{}", text(&r));
    let r = call.say("yes");
    assert_eq!(
        r.effect,
        Some(Effect::Cancel { idempotency_key: format!("cancel:{SID}#1"), appointment_id: two[1].id })
    );
    let r = call.event(Event::JobSettled(JobOutcome::Cancelled { reference: two[1].reference.clone() }));
    assert!(text(&r).contains("is cancelled"), "{}", text(&r));
}

#[test]
fn nothing_to_cancel_offers_a_new_booking() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    let r = call.say("annuler mon rendez-vous");
    assert!(text(&r).contains("couldn't find an upcoming appointment"), "{}", text(&r));
    call.say("four one six five five five zero one two three");
    let r = call.event(Event::Found(vec![]));
    assert!(text(&r).contains("book a new one"), "{}", text(&r));
    let r = call.say("no thanks");
    assert_eq!(r.next, Next::Hangup);
}

#[test]
fn keeping_an_appointment_books_nothing() {
    let old = existing("2026-11-26T15:00:00Z", "Marie Tremblay");
    let history = CallerHistory { name: Some(old.name.clone()), upcoming: vec![old] };
    let (mut call, _) = Call::with(toronto_clinic(), Some("+14165550123"), history);
    call.say("cancel my appointment");
    let r = call.say("no, keep it");
    assert!(r.effect.is_none());
    assert!(text(&r).contains("I haven't cancelled it"), "{}", text(&r));
}

#[test]
fn holidays_are_closed() {
    let (mut call, _) = Call::new(None);
    call.say("this is Ann Lee");
    let r = call.say("Christmas Day at 10 am");
    assert!(text(&r).contains("closed on Friday, December 25 for the holiday"), "{}", text(&r));
}

fn repair(reply: &Reply) -> RepairRequest {
    match &reply.effect {
        Some(Effect::Repair(request)) => request.clone(),
        other => panic!("expected a repair, got {other:?}"),
    }
}

fn repaired(value: Option<&str>) -> Event<'static> {
    Event::JobSettled(JobOutcome::Repaired { value: value.map(str::to_owned) })
}

#[test]
fn a_name_misheard_twice_goes_to_the_model_and_is_checked_by_the_rules() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.repair = true;
    call.say("book please");
    let r = call.say("and her pre cold are");
    assert!(text(&r).contains("Sorry"), "{}", text(&r));
    assert!(r.effect.is_none(), "the first miss is asked again, without the model");
    let r = call.say("it is on her pre cold are");
    let request = repair(&r);
    assert_eq!(request.field, RepairField::Name);
    assert_eq!(request.heard, ["and her pre cold are", "it is on her pre cold are"]);
    assert_eq!(request.idempotency_key, format!("repair:{SID}#3"));
    assert_eq!(request.language, Language::En);
    assert_eq!(text(&r), "One moment, please.");
    assert_eq!(r.next, Next::AwaitJob);
    assert!(matches!(call.session.stage, Stage::Repairing { field: Field::Name, .. }));

    let r = call.event(repaired(Some("Antarpreet Kauldhar")));
    assert!(text(&r).contains("Thanks, Antarpreet"), "{}", text(&r));
    assert!(text(&r).contains("What day and time"), "{}", text(&r));
    assert_eq!(call.session.draft.name.as_ref().unwrap().as_str(), "Antarpreet Kauldhar");
    assert_eq!(call.session.misses, 0);
    assert!(call.session.misheard.is_empty());
}

#[test]
fn a_repair_the_rules_refuse_or_that_comes_too_late_asks_again_and_counts_as_a_miss() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.repair = true;
    call.say("book please");
    call.say("and her pre cold are");
    repair(&call.say("it is on her pre cold are"));
    // A model that answers with a sentence, not a name, is not believed.
    let r = call.event(repaired(Some("I am not able to tell what the caller said")));
    assert!(text(&r).contains("Sorry"), "{}", text(&r));
    assert!(text(&r).contains("spell it"), "{}", text(&r));
    assert_eq!(call.session.stage, Stage::Asking { field: Field::SpelledName });
    assert!(call.session.draft.name.is_none());
    // The third miss asks no model again: the name is kept as heard, and the call goes on.
    let r = call.say("hmm let me think about that");
    assert!(r.effect.is_none());
    assert!(text(&r).contains("as I heard it"), "{}", text(&r));
    assert!(text(&r).contains("What day and time"), "{}", text(&r));

    let (mut call, _) = Call::new(Some("+14165550123"));
    call.repair = true;
    call.say("this is Marie Tremblay");
    call.say("the uh whenever");
    let request = repair(&call.say("when ever works for you"));
    assert_eq!(request.field, RepairField::Time);
    let r = call.event(Event::JobPending);
    assert!(text(&r).contains("What day and time"), "{}", text(&r));
    assert_eq!(call.session.stage, Stage::Asking { field: Field::Time });
    // A result that arrives after the caller was asked again changes nothing.
    let r = call.say("tomorrow at 2 pm");
    assert!(text(&r).contains("Wednesday, November 25 at 2 PM is available"), "{}", text(&r));
}

#[test]
fn a_repaired_time_goes_through_the_business_rules() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.repair = true;
    call.say("this is Marie Tremblay");
    call.say("the uh whenever");
    repair(&call.say("when ever works for you"));
    let r = call.event(repaired(Some("next tuesday at 14:30")));
    assert!(text(&r).contains("Tuesday, December 1 at 2:30 PM is available"), "{}", text(&r));
    assert_eq!(call.session.draft.slot.unwrap().starts_at, at("2026-12-01T19:30:00Z"));

    // A closed day from the model is refused like a closed day from the caller.
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.repair = true;
    call.say("this is Marie Tremblay");
    call.say("the uh whenever");
    repair(&call.say("when ever works for you"));
    let r = call.event(repaired(Some("sunday at 10:00")));
    assert!(matches!(call.session.stage, Stage::Offering { .. }), "{}", text(&r));
    assert!(call.session.draft.slot.is_none());
}

#[test]
fn without_a_model_or_for_a_yes_no_nothing_is_repaired() {
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.say("book please");
    call.say("and her pre cold are");
    let r = call.say("it is on her pre cold are");
    assert!(r.effect.is_none());
    assert!(text(&r).contains("Sorry"), "{}", text(&r));

    // "Shall I book it?" is never answered by a model.
    let (mut call, _) = Call::new(Some("+14165550123"));
    call.repair = true;
    call.say("this is Marie Tremblay, tomorrow at 2 pm");
    call.say("yes");
    assert_eq!(call.session.stage, Stage::ReadBack);
    let r = call.say("purple monkey");
    assert!(r.effect.is_none());
    let r = call.say("dishwasher");
    assert!(r.effect.is_none());
    let r = call.say("kitchen sink");
    assert!(r.effect.is_none());
    // Three misses book nothing and ask no model; the caller is offered the keypad, not hung up on
    // (issue 15: a caller answering with every detail collected is never hung up on).
    assert_ne!(r.next, Next::Hangup, "{}", text(&r));
    assert!(text(&r).contains("press 1 for yes"), "{}", text(&r));
}

/// At the phone prompt, a number said with "oh" is the number: "five oh one" in it is not 5:01 PM,
/// and the time chosen before stays.
#[test]
fn a_number_with_oh_at_the_phone_prompt_keeps_the_time() {
    let (mut call, _) = Call::new(None);
    call.say("this is Ann Lee, Thursday at 2 pm");
    let r = call.say("six one three five five five oh one four two");
    assert_eq!(call.session.draft.phone, Some(E164::parse("+16135550142").unwrap()));
    let said = text(&r);
    assert!(said.contains("Thursday, November 26 at 2 PM"), "{said}");
    assert!(!said.contains("5:01"), "{said}");
}

/// At "Shall I cancel…?", the caller restating the request is a yes ("cancel it", "yes, cancel
/// it", "I need to cancel my appointment", "oui, annulez-le"); a refusal keeps it ("don't cancel
/// it", "no", "non, gardez-le").
#[test]
fn a_restated_cancel_is_a_yes_and_a_refusal_keeps_it() {
    let ready = |language: &str| {
        let (mut call, _) = Call::new(None);
        if language == "fr" {
            call.session.language = Language::Fr;
        }
        call.say(if language == "fr" { "je veux annuler mon rendez-vous" } else { "I want to cancel my appointment" });
        call.say("four one six five five five zero one two three");
        let one = vec![existing("2026-12-03T19:00:00Z", "Marie Tremblay")];
        call.event(Event::Found(one.clone()));
        assert_eq!(call.session.stage, Stage::ConfirmCancel, "{language}");
        (call, one[0].id)
    };
    for said in ["cancel it", "yes, cancel it", "I need to cancel my appointment", "yeah go ahead and cancel"] {
        let (mut call, id) = ready("en");
        let r = call.say(said);
        assert_eq!(
            r.effect,
            Some(Effect::Cancel { idempotency_key: format!("cancel:{SID}#1"), appointment_id: id }),
            "{said}"
        );
    }
    for said in ["don't cancel it", "no", "please do not cancel", "no, keep it"] {
        let (mut call, _) = ready("en");
        let r = call.say(said);
        assert_eq!(r.effect, None, "{said}");
        assert_ne!(call.session.stage, Stage::ConfirmCancel, "{said}: asked again instead of keeping it");
    }
    let (mut call, id) = ready("fr");
    let r = call.say("oui, annulez-le");
    assert_eq!(r.effect, Some(Effect::Cancel { idempotency_key: format!("cancel:{SID}#1"), appointment_id: id }));
    let (mut call, _) = ready("fr");
    assert_eq!(call.say("non, gardez-le").effect, None);
}
