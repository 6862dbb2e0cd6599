//! Issue 15's callers: names that are also words, a name never understood, times as the
//! recogniser writes them, Quebec idioms, a restated intent at a confirmation, and French callers
//! of a bilingual and of an English-only line. Each asserts what the caller heard and what
//! PostgreSQL holds.

use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use e2e::{QUEBEC_NUMBER, QUEBEC_TRANSFER, ZONE, local_rfc3339, open_day, spawn_app, spoken_day};
use workflows::holidays::{Province, statutory};
use workflows::{E164, Language};

fn closed(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
        || statutory(Province::ON, day.year()).iter().any(|(holiday, _)| *holiday == day)
}

/// The coming `weekday` (never today), as Bella reads a bare weekday.
fn coming(weekday: Weekday) -> NaiveDate {
    let today = Utc::now().with_timezone(&ZONE).date_naive();
    (1..=7).map(|n| today + Duration::days(n)).find(|d| d.weekday() == weekday).expect("within a week")
}

/// The start of every booked appointment, as the admin API writes it, earliest first.
async fn booked_starts(app: &e2e::TestApp) -> Vec<String> {
    let mut starts: Vec<String> = app
        .appointments_where("status=booked")
        .await
        .iter()
        .map(|r| r["starts_at"].as_str().unwrap().to_owned())
        .collect();
    starts.sort();
    starts
}

/// Books through a whole call to the default business, answering the name prompt with `name`.
async fn book_answering_the_name(name: &str) -> serde_json::Value {
    let app = spawn_app().await;
    let day = open_day();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    let heard = call.say("I'd like to book an appointment").await.unwrap();
    assert!(heard.text().contains("May I have your name"), "{}", heard.text());
    let heard = call.say(name).await.unwrap();
    let first = name.split(' ').next().unwrap();
    assert!(heard.text().contains(&format!("Thanks, {first}.")), "{name}: {}", heard.text());
    call.say(&format!("{} at 11 am", spoken_day(day))).await.unwrap();
    call.say("yes").await.unwrap();
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains(&format!("You're all set, {first}")), "{}", heard.text());
    let rows = app.appointments_where(&format!("call_sid={}", call.call_sid())).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 11, 0));
    rows[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_young_books_under_his_name() {
    let row = book_answering_the_name("Will Young").await;
    assert_eq!(row["name"], "Will Young");
    assert_eq!(row["name_to_check"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ben_martin_keeps_his_ben() {
    let row = book_answering_the_name("Ben Martin").await;
    assert_eq!(row["name"], "Ben Martin");
}

/// A name never understood is asked again, then spelled, then kept as heard: the caller books,
/// the appointment is marked for a person to check, and no one is hung up on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_never_understood_is_booked_for_a_person_to_check() {
    let app = spawn_app().await;
    let day = open_day();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("I'd like to book an appointment").await.unwrap();
    let heard = call.say("and her pre cold are").await.unwrap();
    assert!(heard.text().contains("May I have your name"), "{}", heard.text());
    let heard = call.say("it is on her pre cold are").await.unwrap();
    assert!(heard.text().contains("Could you spell it for me"), "{}", heard.text());
    let heard = call.say("and tar pre eat").await.unwrap();
    assert_eq!(heard.end, None, "{}", heard.text());
    assert!(heard.text().contains("someone from our team will check it"), "{}", heard.text());
    call.say(&format!("{} at 2 pm", spoken_day(day))).await.unwrap();
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("under your name as I heard it"), "{}", heard.text());
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("You're all set."), "{}", heard.text());
    let rows = app.appointments_where(&format!("call_sid={}", call.call_sid())).await;
    assert_eq!(rows[0]["name"], "Tar Pre Eat");
    assert_eq!(rows[0]["name_to_check"], true);
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 14, 0));
}

/// At a line with someone to take the call, the same caller is transferred instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_never_understood_is_transferred_when_someone_can_take_it() {
    let app = spawn_app().await;
    app.quebec_salon().await;
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    call.say("Hi, I'd like to book an appointment please").await.unwrap();
    call.say("and her pre cold are").await.unwrap();
    call.say("it is on her pre cold are").await.unwrap();
    let heard = call.say("and tar pre eat").await.unwrap();
    assert_eq!(heard.end, Some(bella::simulator::End::Transfer(QUEBEC_TRANSFER.to_owned())), "{}", heard.text());
    assert!(app.appointments_where("").await.is_empty());
}

/// "at for thirty" is how the recogniser writes "at four thirty".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monday_at_for_thirty_is_half_past_four() {
    let app = spawn_app().await;
    let monday = coming(Weekday::Mon);
    let (day, said) = if closed(monday) {
        let day = open_day();
        (day, format!("{} at for thirty", spoken_day(day)))
    } else {
        (monday, "Monday at for thirty".to_owned())
    };
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("this is Ann Lee, I'd like to book an appointment").await.unwrap();
    let heard = call.say(&said).await.unwrap();
    assert!(heard.text().contains("at 4:30 PM"), "{said}: {}", heard.text());
    call.say("yes").await.unwrap();
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("You're all set, Ann"), "{}", heard.text());
    let rows = app.appointments_where(&format!("call_sid={}", call.call_sid())).await;
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 16, 30));
}

/// "lundi en huit": a week after the coming Monday, in French, on the default line (which
/// speaks both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lundi_en_huit_a_10_h() {
    let app = spawn_app().await;
    let (jour, weekday) = [("lundi", Weekday::Mon), ("mardi", Weekday::Tue), ("mercredi", Weekday::Wed)]
        .into_iter()
        .find(|(_, w)| !closed(coming(*w) + Duration::days(7)))
        .expect("an open day");
    let day = coming(weekday) + Duration::days(7);
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    let heard = call
        .say(&format!("Bonjour, c'est Luc Gagnon, je voudrais un rendez-vous {jour} en huit à 10 h"))
        .await
        .unwrap();
    assert!(heard.text().contains("à 10 h, c'est disponible"), "{}", heard.text());
    assert!(heard.documents[0].contains(r#"language="fr-CA""#), "{}", heard.documents[0]);
    call.say("oui").await.unwrap();
    let heard = call.say("oui").await.unwrap();
    assert!(heard.text().contains("C'est réservé, Luc"), "{}", heard.text());
    let rows = app.appointments_where(&format!("call_sid={}", call.call_sid())).await;
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 10, 0));
    assert_eq!(rows[0]["language"], "fr");
}

/// "I need to cancel my appointment" in answer to "Shall I cancel…?" is a yes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_restated_at_the_confirmation_cancels() {
    let app = spawn_app().await;
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "10 am").await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    let heard = call.say("I'd like to cancel my appointment").await.unwrap();
    assert!(heard.text().contains("Shall I cancel your appointment on"), "{}", heard.text());
    let heard = call.say("I need to cancel my appointment").await.unwrap();
    assert!(heard.text().contains("is cancelled"), "{}", heard.text());
    let rows = app.appointments_where("").await;
    assert_eq!(rows[0]["status"], "cancelled");
}

/// A fresh install's default business answers French in French.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_line_answers_french_in_french() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    let greeting = call.dial().await.unwrap();
    assert!(greeting.text().starts_with("Hello, bonjour!"), "{}", greeting.text());
    let heard = call.say("Bonjour, je voudrais un rendez-vous").await.unwrap();
    assert!(heard.text().contains("votre nom"), "{}", heard.text());
    assert!(heard.documents[0].contains(r#"language="fr-CA""#), "{}", heard.documents[0]);
}

/// A French caller of an English-only line hears one sentence in French, in the French voice,
/// with the way to a person; then the call goes on in English.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_french_caller_of_an_english_line_is_told_in_french() {
    let app = spawn_app().await;
    app.business("Toronto Dental", |p| {
        p.phone_number = Some(E164::parse("+14165550199").unwrap());
        p.languages = vec![Language::En];
        p.transfer_number = Some(E164::parse("+14165550100").unwrap());
    })
    .await;
    let mut call = app.call_to("+15145550123", "+14165550199");
    call.dial().await.unwrap();
    let heard = call.say("Bonjour, je voudrais un rendez-vous").await.unwrap();
    let document = &heard.documents[0];
    assert!(
        document.contains(r#"<Say voice="Polly.Gabrielle-Neural" language="fr-CA">Désolée, ce service est offert en anglais seulement. Pour parler à quelqu&apos;un, faites le 0. Je continue en anglais.</Say>"#),
        "{document}"
    );
    assert!(heard.text().contains("May I have your name"), "{}", heard.text());
    assert!(document.contains(r#"language="en-CA""#), "{document}");
    let heard = call.say("Luc Gagnon").await.unwrap();
    assert!(heard.text().contains("Thanks, Luc"), "{}", heard.text());
    assert!(!heard.text().contains("anglais"), "said once: {}", heard.text());
}

/// While a caller confirms "2 PM is available", the time is theirs: a second caller asking for it
/// is offered the nearest others at once, and the first books without "that was just taken".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_being_confirmed_is_held_for_its_caller() {
    let app = spawn_app().await;
    let day = open_day();
    let mut first = app.call("+14165550123");
    first.dial().await.unwrap();
    let heard = first.say(&format!("this is Ann Lee, I'd like {} at 2 pm", spoken_day(day))).await.unwrap();
    assert!(heard.text().contains("at 2 PM is available"), "{}", heard.text());

    let mut second = app.call("+14165550177");
    second.dial().await.unwrap();
    let heard = second.say(&format!("this is Bob Ray, I'd like {} at 2 pm", spoken_day(day))).await.unwrap();
    assert!(heard.text().contains("at 2 PM is already booked"), "{}", heard.text());
    assert!(heard.text().contains("1:30 PM") && heard.text().contains("2:30 PM"), "{}", heard.text());

    let heard = first.say("yes").await.unwrap();
    assert!(heard.text().contains("Shall I book it?"), "{}", heard.text());
    let heard = first.say("yes").await.unwrap();
    assert!(heard.text().contains("You're all set, Ann"), "{}", heard.text());

    let mut heard = second.say("yes").await.unwrap();
    if heard.text().contains("ending in") {
        heard = second.say("yes").await.unwrap();
    }
    assert!(heard.text().contains("Shall I book it?"), "{}", heard.text());
    let heard = second.say("yes").await.unwrap();
    assert!(heard.text().contains("You're all set, Bob"), "{}", heard.text());
    let starts = booked_starts(&app).await;
    assert_eq!(starts, [local_rfc3339(day, 13, 30), local_rfc3339(day, 14, 0)]);
}

/// Six callers at once ask one business with one chair for the same time, and each says yes to
/// what Bella offers: every one books a different time, none hears "just taken by another
/// caller" after their yes, and none is told a time is unavailable more than once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_asking_for_the_same_time_are_bounced_at_most_once() {
    let app = spawn_app().await;
    let day = open_day();
    let mut callers = tokio::task::JoinSet::new();
    for n in 0..6 {
        let mut call = app.call(&format!("+1416555017{n}"));
        let asked = format!("this is Ann Lee, I'd like {} at 2 pm", spoken_day(day));
        callers.spawn(async move {
            call.dial().await.unwrap();
            let mut heard = vec![call.say(&asked).await.unwrap().text()];
            while !heard.last().unwrap().contains("You're all set") && heard.len() < 8 {
                heard.push(call.say("yes").await.unwrap().text());
            }
            heard
        });
    }
    let conversations = callers.join_all().await;
    for said in &conversations {
        let all = said.join(" | ");
        assert!(all.contains("You're all set"), "{all}");
        assert!(!all.contains("was just taken"), "{all}");
        assert!(all.matches("is already booked").count() <= 1, "{all}");
    }
    let mut starts = booked_starts(&app).await;
    starts.dedup();
    assert_eq!(starts.len(), 6, "{starts:?}");
}
