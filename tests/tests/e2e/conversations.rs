//! Issue 4's calls: both languages, corrections, spelling, the keypad, availability, transfers,
//! and managing existing bookings. Each asserts what the caller heard and what PostgreSQL holds.

use bella::simulator::End;
use e2e::{QUEBEC_NUMBER, QUEBEC_TRANSFER, jour, local_rfc3339, open_day, open_day_after, spawn_app, spoken_day};
use workflows::holidays::{Province, statutory};

// --- French and language -----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_french_caller_books_in_french() {
    let app = spawn_app().await;
    let business = app.quebec_salon().await;
    let day = open_day();
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    let greeting = call.dial().await.unwrap();
    assert!(greeting.text().starts_with("Bonjour, hello! Merci d'avoir appelé Salon Élégance."), "{}", greeting.text());
    assert!(greeting.documents[0].contains(r#"language="fr-CA""#));
    let heard = call
        .say(&format!("Bonjour, c'est Hélène Côté, j'aimerais un rendez-vous {} à 14 h 30", jour(day)))
        .await
        .unwrap();
    assert!(heard.text().contains("Merci, Hélène"), "{}", heard.text());
    assert!(heard.text().contains("à 14 h 30, c'est disponible"), "{}", heard.text());
    let heard = call.say("oui").await.unwrap();
    assert!(heard.text().contains("Je confirme"), "{}", heard.text());
    assert!(heard.text().contains("5 1 4, 5 5 5, 0 1 2 3"));
    let heard = call.say("oui, c'est ça").await.unwrap();
    assert!(heard.text().contains("C'est réservé, Hélène"), "{}", heard.text());
    let rows = app.appointments_where(&format!("business={business}")).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "Hélène Côté");
    assert_eq!(rows[0]["language"], "fr");
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 14, 30));
    assert_eq!(rows[0]["business"], "Salon Élégance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_english_caller_on_a_french_line_is_answered_in_english() {
    let app = spawn_app().await;
    app.quebec_salon().await;
    let day = open_day();
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    let heard = call.say("Hi, I'd like to book an appointment please").await.unwrap();
    assert!(heard.text().contains("May I have your name"), "{}", heard.text());
    assert!(heard.documents[0].contains(r#"language="en-CA""#));
    call.say("Paul Smith").await.unwrap();
    call.say(&format!("{} at 11 am", spoken_day(day))).await.unwrap();
    call.say("yes").await.unwrap();
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("You're all set, Paul"), "{}", heard.text());
    let rows = app.appointments_where("").await;
    assert_eq!(rows[0]["language"], "en");
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 11, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caller_switches_language_mid_call() {
    let app = spawn_app().await;
    app.quebec_salon().await;
    let day = open_day();
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    let heard = call.say("Je voudrais prendre un rendez-vous").await.unwrap();
    assert!(heard.text().contains("votre nom"), "{}", heard.text());
    let heard = call.say("Sorry, can we do this in English please?").await.unwrap();
    assert!(heard.text().contains("let's continue in English"), "{}", heard.text());
    assert!(heard.text().contains("May I have your name"), "{}", heard.text());
    call.say("Nadia Roy").await.unwrap();
    call.say(&format!("{} at 3 pm", spoken_day(day))).await.unwrap();
    call.say("yes").await.unwrap();
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("You're all set, Nadia"), "{}", heard.text());
    assert_eq!(app.appointments_where("").await[0]["language"], "en");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_on_the_keypad_switches_language() {
    let app = spawn_app().await;
    app.quebec_salon().await;
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    let heard = call.press("2").await.unwrap();
    assert!(heard.text().contains("How can I help"), "{}", heard.text());
    assert!(heard.documents[0].contains("Polly.Joanna-Neural"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_french_number_said_in_pairs() {
    let app = spawn_app().await;
    app.quebec_salon().await;
    let day = open_day();
    let mut call = app.call_to("anonymous", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    call.say(&format!("c'est Luc Gagnon, {} à 10 h", jour(day))).await.unwrap();
    let heard = call.say("cinq un quatre, cinq cinquante-cinq, zéro un quatre-vingt-dix-neuf").await.unwrap();
    assert!(heard.text().contains("5 1 4, 5 5 5, 0 1 9 9"), "{}", heard.text());
    call.say("oui").await.unwrap();
    assert_eq!(app.appointments_where("").await[0]["phone"], "+15145550199");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_mercredi_moves_the_day_and_keeps_the_time() {
    let app = spawn_app().await;
    app.quebec_salon().await;
    let tuesday = {
        let mut d = open_day_after(2);
        while chrono::Datelike::weekday(&d) != chrono::Weekday::Tue {
            d = d.succ_opt().unwrap();
        }
        d
    };
    let wednesday = tuesday.succ_opt().unwrap();
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    call.say(&format!("je m'appelle Anne Roy, {} à 9 h 30", jour(tuesday))).await.unwrap();
    call.say("oui").await.unwrap();
    let heard = call.say("non, mercredi").await.unwrap();
    assert!(heard.text().contains("mercredi"), "{}", heard.text());
    assert!(heard.text().contains("Je confirme"), "{}", heard.text());
    call.say("oui").await.unwrap();
    assert_eq!(app.appointments_where("").await[0]["starts_at"], local_rfc3339(wednesday, 9, 30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_french_name_spelled_with_accents() {
    let app = spawn_app().await;
    app.quebec_salon().await;
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    call.say(&format!("c'est Marc Cotte, {} à 11 h", jour(open_day()))).await.unwrap();
    call.say("oui").await.unwrap();
    call.say("non, le nom n'est pas bon").await.unwrap();
    call.say("Marc Cotte").await.unwrap();
    let heard = call.say("non, le nom est mauvais").await.unwrap();
    assert!(heard.text().contains("épeler"), "{}", heard.text());
    let heard = call.say("C O T E accent aigu").await.unwrap();
    assert!(heard.text().contains("pour Coté"), "{}", heard.text());
    call.say("oui").await.unwrap();
    assert_eq!(app.appointments_where("").await[0]["name"], "Coté");
}

// --- English details -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_spelled_after_two_rejections() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say(&format!("this is John Smyth, {} at 10 am", spoken_day(open_day()))).await.unwrap();
    call.say("yes").await.unwrap();
    call.say("no, the name is wrong").await.unwrap();
    call.say("John Smyth").await.unwrap();
    let heard = call.say("no, wrong name").await.unwrap();
    assert!(heard.text().contains("spell your name"), "{}", heard.text());
    let heard = call.say("S M I T H").await.unwrap();
    assert!(heard.text().contains("an appointment for Smith"), "{}", heard.text());
    call.say("yes").await.unwrap();
    assert_eq!(app.appointments_where("").await[0]["name"], "Smith");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keypad_after_a_failed_spoken_number() {
    let app = spawn_app().await;
    let mut call = app.call("anonymous");
    call.dial().await.unwrap();
    call.say(&format!("this is Ann Lee, {} at 1 pm", spoken_day(open_day()))).await.unwrap();
    let heard = call.say("four one six five five").await.unwrap();
    assert!(heard.text().contains("keypad"), "{}", heard.text());
    let heard = call.press("6475550188").await.unwrap();
    assert!(heard.text().contains("6 4 7, 5 5 5, 0 1 8 8"), "{}", heard.text());
    call.say("yes").await.unwrap();
    assert_eq!(app.appointments_where("").await[0]["phone"], "+16475550188");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toll_free_callback_is_refused() {
    let app = spawn_app().await;
    let mut call = app.call("anonymous");
    call.dial().await.unwrap();
    call.say(&format!("this is Ann Lee, {} at 1 pm", spoken_day(open_day()))).await.unwrap();
    let heard = call.say("one eight hundred five five five one two one two").await.unwrap();
    assert!(heard.text().contains("can't receive our text"), "{}", heard.text());
    call.say("four one six five five five zero one two three").await.unwrap();
    call.say("yes").await.unwrap();
    assert_eq!(app.appointments_where("").await[0]["phone"], "+14165550123");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrections_of_the_time_and_the_number_keep_the_rest() {
    let app = spawn_app().await;
    let day = open_day();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say(&format!("this is Marie Tremblay, {} at 10 am", spoken_day(day))).await.unwrap();
    call.say("yes").await.unwrap();
    let heard = call.say("no, make it 3 pm").await.unwrap();
    assert!(heard.text().contains("at 3 PM"), "{}", heard.text());
    let heard = call.say("the number is wrong").await.unwrap();
    assert!(heard.text().contains("phone number"), "{}", heard.text());
    let heard = call.say("six four seven five five five zero one seven seven").await.unwrap();
    assert!(
        heard.text().contains("Marie Tremblay") && heard.text().contains("6 4 7, 5 5 5, 0 1 7 7"),
        "{}",
        heard.text()
    );
    call.say("yes").await.unwrap();
    let rows = app.appointments_where("").await;
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 15, 0));
    assert_eq!(rows[0]["phone"], "+16475550177");
    assert_eq!(rows[0]["name"], "Marie Tremblay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_time_offers_the_nearest_two_and_the_first_one_books() {
    let app = spawn_app().await;
    let day = open_day();
    app.book_by_phone("+14165550101", "Ann Lee", day, "2 pm").await;
    let mut call = app.call("+14165550102");
    call.dial().await.unwrap();
    let heard = call.say(&format!("this is Bob Roy, {} at 2 pm", spoken_day(day))).await.unwrap();
    assert!(heard.text().contains("is already booked"), "{}", heard.text());
    assert!(heard.text().contains("at 1:30 PM or") && heard.text().contains("at 2:30 PM"), "{}", heard.text());
    let heard = call.say("the first one").await.unwrap();
    assert!(heard.text().contains("ending in"), "{}", heard.text());
    call.say("yes").await.unwrap();
    call.say("yes").await.unwrap();
    let rows = app.appointments_where("").await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 13, 30));
    assert_eq!(rows[0]["name"], "Bob Roy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offered_time_picked_by_saying_it() {
    let app = spawn_app().await;
    let day = open_day();
    app.book_by_phone("+14165550101", "Ann Lee", day, "2 pm").await;
    let mut call = app.call("+14165550102");
    call.dial().await.unwrap();
    call.say(&format!("this is Bob Roy, {} at 2 pm", spoken_day(day))).await.unwrap();
    call.say("2:30").await.unwrap();
    call.say("yes").await.unwrap();
    call.say("yes").await.unwrap();
    let rows = app.appointments_where("").await;
    assert!(rows.iter().any(|r| r["name"] == "Bob Roy" && r["starts_at"] == local_rfc3339(day, 14, 30)), "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statutory_holiday_is_closed() {
    let app = spawn_app().await;
    let today = chrono::Utc::now().with_timezone(&e2e::ZONE).date_naive();
    let year = chrono::Datelike::year(&today);
    let (holiday, name) = [year, year + 1]
        .iter()
        .flat_map(|y| statutory(Province::ON, *y))
        .find(|(d, _)| {
            *d > today + chrono::Duration::days(1)
                && !matches!(chrono::Datelike::weekday(d), chrono::Weekday::Sat | chrono::Weekday::Sun)
        })
        .unwrap();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("this is Ann Lee").await.unwrap();
    let heard = call.say(&format!("{} at 10 am", spoken_day(holiday))).await.unwrap();
    assert!(heard.text().contains("for the holiday"), "{} ({})", heard.text(), name.english());
    assert!(heard.text().contains("The nearest times I have are"), "{}", heard.text());
    call.say("yes").await.unwrap();
    call.say("yes").await.unwrap();
    call.say("yes").await.unwrap();
    let rows = app.appointments_where("").await;
    assert_eq!(rows.len(), 1);
    assert!(!rows[0]["starts_at"].as_str().unwrap().starts_with(&holiday.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_that_has_passed_is_refused() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("this is Ann Lee").await.unwrap();
    let heard = call.say("today at 12:05 am").await.unwrap();
    assert!(heard.text().contains("has already passed"), "{}", heard.text());
    assert!(app.appointments_where("").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_hours_is_refused_with_alternatives() {
    let app = spawn_app().await;
    let day = open_day();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("this is Ann Lee").await.unwrap();
    let heard = call.say(&format!("{} at 8 pm", spoken_day(day))).await.unwrap();
    assert!(heard.text().contains("outside our opening hours"), "{}", heard.text());
    let heard = call.say("the later one").await.unwrap();
    assert!(heard.text().contains("ending in"), "{}", heard.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_of_the_day_books_its_first_opening() {
    let app = spawn_app().await;
    let day = open_day();
    app.book_by_phone("+14165550101", "Ann Lee", day, "9 am").await;
    let mut call = app.call("+14165550102");
    call.dial().await.unwrap();
    let heard = call.say(&format!("this is Bob Roy, {} in the morning", spoken_day(day))).await.unwrap();
    assert!(heard.text().contains("The first opening is") && heard.text().contains("9:30 AM"), "{}", heard.text());
    call.say("yes").await.unwrap();
    call.say("yes").await.unwrap();
    let mine = app.appointments_where("").await.into_iter().find(|r| r["name"] == "Bob Roy").unwrap();
    assert_eq!(mine["starts_at"], local_rfc3339(day, 9, 30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keypad_confirms() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say(&format!("this is Ann Lee, {} at 4 pm", spoken_day(open_day()))).await.unwrap();
    call.press("1").await.unwrap();
    let heard = call.press("1").await.unwrap();
    assert!(heard.text().contains("You're all set"), "{}", heard.text());
    assert_eq!(app.appointments_where("").await.len(), 1);
}

// --- People and questions ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_a_person_transfers_the_call() {
    let app = spawn_app().await;
    app.quebec_salon().await;
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    let heard = call.say("je veux parler à une personne").await.unwrap();
    assert_eq!(heard.end, Some(End::Transfer(QUEBEC_TRANSFER.to_owned())));
    assert!(heard.text().contains("je transfère votre appel"), "{}", heard.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confusion_ends_with_a_person() {
    let app = spawn_app().await;
    app.quebec_salon().await;
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    call.say("je voudrais un rendez-vous").await.unwrap();
    call.say("Luc Gagnon").await.unwrap();
    call.say("patate").await.unwrap();
    call.say("banane").await.unwrap();
    let heard = call.say("n'importe quoi").await.unwrap();
    assert_eq!(heard.end, Some(End::Transfer(QUEBEC_TRANSFER.to_owned())), "{}", heard.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confusion_without_a_transfer_number_ends_politely() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("I'd like an appointment").await.unwrap();
    call.say("Ann Lee").await.unwrap();
    call.say("purple").await.unwrap();
    call.say("banana split").await.unwrap();
    let heard = call.say("whatever").await.unwrap();
    assert_eq!(heard.end, Some(End::Hangup));
    assert!(heard.text().contains("Goodbye"), "{}", heard.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_hours_and_address() {
    let app = spawn_app().await;
    app.quebec_salon().await;
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    let heard = call.say("À quelle heure vous fermez?").await.unwrap();
    assert!(heard.text().contains("Nous sommes ouverts du lundi au vendredi, de 9 h à 17 h"), "{}", heard.text());
    assert!(heard.text().contains("123, rue Saint-Denis"), "{}", heard.text());
    let heard = call.say("non merci, au revoir").await.unwrap();
    assert_eq!(heard.end, Some(End::Hangup));
    assert!(app.appointments_where("").await.is_empty());
}

// --- Existing bookings --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_caller_is_greeted_by_name_and_not_asked_again() {
    let app = spawn_app().await;
    let day = open_day();
    app.book_by_phone("+14165550123", "Marie Tremblay", day, "10 am").await;
    let mut call = app.call("+14165550123");
    let greeting = call.dial().await.unwrap();
    assert!(greeting.text().contains("Welcome back, Marie"), "{}", greeting.text());
    let heard = call.say(&format!("I'd like another appointment {} at 11 am", spoken_day(day))).await.unwrap();
    assert!(heard.text().contains("Let me confirm: an appointment for Marie Tremblay"), "{}", heard.text());
    call.say("yes").await.unwrap();
    let rows = app.appointments_where("").await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["name"] == "Marie Tremblay" && r["phone"] == "+14165550123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescheduling_moves_the_appointment_and_frees_the_old_time() {
    let app = spawn_app().await;
    let day = open_day();
    let later = open_day_after(4);
    let reference = app.book_by_phone("+14165550123", "Marie Tremblay", day, "10 am").await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    let heard = call.say("I need to reschedule my appointment").await.unwrap();
    assert!(
        heard.text().contains("I see your appointment on") && heard.text().contains("at 10 AM"),
        "{}",
        heard.text()
    );
    let heard = call.say(&format!("{} at 2 pm", spoken_day(later))).await.unwrap();
    assert!(heard.text().contains("move your appointment from"), "{}", heard.text());
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("Your appointment is now on"), "{}", heard.text());
    let rows = app.appointments_where("").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["reference"], reference.as_str());
    assert_eq!(rows[0]["starts_at"], local_rfc3339(later, 14, 0));
    // The old time is free again: another caller can book it.
    app.book_by_phone("+14165550199", "Bob Roy", day, "10 am").await;
    assert_eq!(app.appointments_where("status=booked").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_from_the_caller_id() {
    let app = spawn_app().await;
    let day = open_day();
    app.book_by_phone("+14165550123", "Marie Tremblay", day, "10 am").await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    let heard = call.say("I'd like to cancel my appointment").await.unwrap();
    assert!(heard.text().contains("Shall I cancel your appointment on"), "{}", heard.text());
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("is cancelled"), "{}", heard.text());
    let rows = app.appointments_where("").await;
    assert_eq!(rows[0]["status"], "cancelled");
    assert!(app.appointments_where("status=booked").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_with_a_number_given_and_a_choice_of_two() {
    let app = spawn_app().await;
    let (first, second) = (open_day(), open_day_after(5));
    app.book_by_phone("+14165550123", "Marie Tremblay", first, "10 am").await;
    app.book_by_phone("+14165550123", "Marie Tremblay", second, "3 pm").await;
    let mut call = app.call("anonymous");
    call.dial().await.unwrap();
    let heard = call.say("I want to cancel my appointment").await.unwrap();
    assert!(heard.text().contains("What phone number was the appointment booked with"), "{}", heard.text());
    let heard = call.say("four one six five five five zero one two three").await.unwrap();
    assert!(heard.text().contains("Which one"), "{}", heard.text());
    let heard = call.say("the second one").await.unwrap();
    assert!(heard.text().contains("at 3 PM"), "{}", heard.text());
    call.say("yes").await.unwrap();
    let rows = app.appointments_where("").await;
    let by_time = |at: String| rows.iter().find(|r| r["starts_at"] == at.as_str()).unwrap()["status"].clone();
    assert_eq!(by_time(local_rfc3339(first, 10, 0)), "booked");
    assert_eq!(by_time(local_rfc3339(second, 15, 0)), "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_to_cancel_offers_a_new_booking() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    let heard = call.say("cancel my appointment").await.unwrap();
    assert!(heard.text().contains("couldn't find an upcoming appointment"), "{}", heard.text());
    let heard = call.say("four one six five five five zero one two three").await.unwrap();
    assert!(heard.text().contains("book a new one"), "{}", heard.text());
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("your name"), "{}", heard.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annuler_en_francais() {
    let app = spawn_app().await;
    let business = app.quebec_salon().await;
    let day = open_day();
    let mut first = app.call_to("+15145550123", QUEBEC_NUMBER);
    first.dial().await.unwrap();
    first.say(&format!("c'est Luc Gagnon, {} à 10 h", jour(day))).await.unwrap();
    first.say("oui").await.unwrap();
    first.say("oui").await.unwrap();
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    let greeting = call.dial().await.unwrap();
    assert!(greeting.text().contains("Rebonjour, Luc"), "{}", greeting.text());
    let heard = call.say("Je voudrais annuler mon rendez-vous").await.unwrap();
    assert!(heard.text().contains("Voulez-vous que j'annule votre rendez-vous du"), "{}", heard.text());
    let heard = call.say("oui").await.unwrap();
    assert!(heard.text().contains("est annulé"), "{}", heard.text());
    assert_eq!(app.appointments_where(&format!("business={business}")).await[0]["status"], "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_number_dialled_chooses_the_business() {
    let app = spawn_app().await;
    let salon = app.quebec_salon().await;
    let day = open_day();
    app.book_by_phone("+14165550123", "Ann Lee", day, "10 am").await;
    let mut call = app.call_to("+15145550188", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    call.say(&format!("c'est Luc Gagnon, {} à 10 h", jour(day))).await.unwrap();
    call.say("oui").await.unwrap();
    call.say("oui").await.unwrap();
    // The same time at two businesses: two bookings, one each.
    let rows = app.appointments_where("").await;
    assert_eq!(rows.len(), 2);
    assert_eq!(app.appointments_where(&format!("business={salon}")).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_chairs_take_two_bookings_at_once() {
    let app = spawn_app().await;
    let business = app
        .business("Barbier Deux Chaises", |p| {
            p.phone_number = Some(workflows::E164::parse("+14165550177").unwrap());
            p.resources = 2;
        })
        .await;
    let day = open_day();
    let mut calls = Vec::new();
    for (from, name) in [("+14165550101", "Ann Lee"), ("+14165550102", "Bob Roy"), ("+14165550103", "Cy Young")] {
        let mut call = app.call_to(from, "+14165550177");
        call.dial().await.unwrap();
        call.say(&format!("this is {name}, {} at 2 pm", spoken_day(day))).await.unwrap();
        call.say("yes").await.unwrap();
        calls.push(call);
    }
    for call in &mut calls {
        call.say("yes").await.unwrap();
    }
    let rows = app.appointments_where(&format!("business={business}&status=booked")).await;
    let at_two = rows.iter().filter(|r| r["starts_at"] == local_rfc3339(day, 14, 0).as_str()).count();
    assert_eq!(at_two, 2, "two chairs hold two appointments at 2 PM, never three: {rows:?}");
}
