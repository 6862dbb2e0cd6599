//! Whole calls, asserting what the caller heard and what ended in PostgreSQL.

use bella::simulator::End;
use e2e::{local_rfc3339, open_day, spawn_app, spoken_day};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooperative_caller_books_an_appointment() {
    let app = spawn_app().await;
    let day = open_day();
    let mut call = app.call("+14165550123");

    let greeting = call.dial().await.unwrap();
    assert!(greeting.text().contains("How can I help"), "{}", greeting.text());
    let heard = call.say("I'd like to book an appointment").await.unwrap();
    assert!(heard.text().contains("May I have your name"), "{}", heard.text());
    let heard = call.say("Marie Tremblay").await.unwrap();
    assert!(heard.text().contains("What day and time"), "{}", heard.text());
    let heard = call.say(&format!("{} at 2 pm", spoken_day(day))).await.unwrap();
    assert!(heard.text().contains("ending in 0 1 2 3"), "{}", heard.text());
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("4 1 6, 5 5 5, 0 1 2 3"), "{}", heard.text());
    assert!(heard.text().contains("Shall I book it?"));
    let heard = call.say("yes please").await.unwrap();
    assert!(heard.text().contains("You're all set, Marie"), "{}", heard.text());
    assert_eq!(heard.end, Some(End::Hangup));

    let rows = app.appointments().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["name"], "Marie Tremblay");
    assert_eq!(row["phone"], "+14165550123");
    assert_eq!(row["starts_at"], local_rfc3339(day, 14, 0));
    assert_eq!(row["ends_at"], local_rfc3339(day, 14, 30));
    assert_eq!(row["status"], "booked");
    assert_eq!(row["call_sid"], call.call_sid());
    // The reference Bella read out is the one stored.
    let reference = row["reference"].as_str().unwrap();
    let spelled: String = reference.chars().map(|c| format!("{c} ")).collect();
    assert!(heard.text().contains(spelled.trim()), "{} / {reference}", heard.text());

    // The call ends: its session is released.
    assert!(app.session_exists(call.call_sid()).await);
    assert_eq!(call.hang_up().await.unwrap(), 204);
    assert!(!app.session_exists(call.call_sid()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_and_time_in_one_sentence() {
    let app = spawn_app().await;
    let day = open_day();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    let heard = call.say(&format!("Hi, this is Marie Tremblay, I'd like {} at two", spoken_day(day))).await.unwrap();
    // Both slots were filled: Bella goes straight to the callback number.
    assert!(heard.text().contains("Thanks, Marie"), "{}", heard.text());
    assert!(heard.text().contains("at 2 PM is available"), "{}", heard.text());
    assert!(heard.text().contains("ending in"), "{}", heard.text());
    call.say("yes").await.unwrap();
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("You're all set"), "{}", heard.text());
    let rows = app.appointments().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "Marie Tremblay");
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 14, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withheld_caller_id_is_asked_for_a_number() {
    let app = spawn_app().await;
    let day = open_day();
    let mut call = app.call("anonymous");
    call.dial().await.unwrap();
    call.say("this is John Smith").await.unwrap();
    let heard = call.say(&format!("{} at 10 am", spoken_day(day))).await.unwrap();
    assert!(heard.text().contains("best phone number"), "{}", heard.text());
    assert!(!heard.text().contains("ending in"));
    let heard = call.say("six one three five five five zero one four two").await.unwrap();
    assert!(heard.text().contains("6 1 3, 5 5 5, 0 1 4 2"), "{}", heard.text());
    call.say("yes").await.unwrap();
    let rows = app.appointments().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["phone"], "+16135550142");
    assert_eq!(rows[0]["name"], "John Smith");
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 10, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dont_book_it_books_nothing() {
    let app = spawn_app().await;
    let day = open_day();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say(&format!("this is Marie Tremblay, {} at 3 pm", spoken_day(day))).await.unwrap();
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("Shall I book it?"));
    let heard = call.say("no, don't book it").await.unwrap();
    assert!(heard.text().contains("I haven't booked anything"), "{}", heard.text());
    let heard = call.say("goodbye").await.unwrap();
    assert!(heard.text().contains("nothing has been booked"), "{}", heard.text());
    assert_eq!(heard.end, Some(End::Hangup));
    call.hang_up().await.unwrap();
    assert!(app.appointments().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_caller_is_let_go_politely() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    let mut turns = 0;
    let mut last = None;
    while call.is_listening() {
        turns += 1;
        assert!(turns <= 5, "silence must end the call within a bounded number of turns");
        last = Some(call.silence().await.unwrap());
    }
    let last = last.unwrap();
    assert_eq!(turns, 3);
    assert!(last.text().contains("Goodbye"), "{}", last.text());
    assert_eq!(last.end, Some(End::Hangup));
    assert!(app.appointments().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_webhook_gets_the_same_answer_and_is_applied_once() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("I need an appointment").await.unwrap();
    let first = call.say("Marie Tremblay").await.unwrap();
    assert!(first.text().contains("What day and time"), "{}", first.text());
    let original = first.documents.last().unwrap().clone();
    // Twilio retries: the same request, the same I-Twilio-Idempotency-Token, twice in a row and
    // twice at once.
    for _ in 0..2 {
        let (status, body) = call.resend_last().await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(body, original);
    }
    let (a, b) = tokio::join!(call.resend_last(), call.resend_last());
    assert_eq!(a.unwrap().1, original);
    assert_eq!(b.unwrap().1, original);
    // Applied once: the call moves on from the name to the time, as if the retries never were.
    let heard = call.say(&format!("{} at 11 am", spoken_day(open_day()))).await.unwrap();
    assert!(heard.text().contains("ending in"), "{}", heard.text());
    call.say("yes").await.unwrap();
    call.say("yes").await.unwrap();
    assert_eq!(app.appointments().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_callers_confirming_the_same_slot_get_one_booking() {
    let app = spawn_app().await;
    let day = open_day();
    let mut first = app.call("+14165550101");
    let mut second = app.call("+14165550102");
    // Redis loses the holds before each caller asks (a restart): both hear 2 PM is free and reach
    // the read-back; PostgreSQL still lets only one of them book it.
    for (call, name) in [(&mut first, "Ann Lee"), (&mut second, "Bob Roy")] {
        app.forget_holds().await;
        call.dial().await.unwrap();
        call.say(&format!("this is {name}, {} at 2 pm", spoken_day(day))).await.unwrap();
        let heard = call.say("yes").await.unwrap();
        assert!(heard.text().contains("Shall I book it?"), "{}", heard.text());
    }
    let (a, b) = tokio::join!(first.say("yes"), second.say("yes"));
    let (a, b) = (a.unwrap(), b.unwrap());
    let booked = [&a, &b].iter().filter(|h| h.text().contains("You're all set")).count();
    let refused: Vec<_> =
        [(&a, &mut first), (&b, &mut second)].into_iter().filter(|(h, _)| h.text().contains("just taken")).collect();
    assert_eq!(booked, 1, "{} / {}", a.text(), b.text());
    assert_eq!(refused.len(), 1, "{} / {}", a.text(), b.text());
    let rows = app.appointments().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 14, 0));

    // The other caller is offered other times, and can book one of them.
    let (heard, loser) = refused.into_iter().next().unwrap();
    assert!(heard.text().contains("The nearest times I have are"), "{}", heard.text());
    assert!(loser.is_listening());
    let heard = loser.say("the first one").await.unwrap();
    assert!(heard.text().contains("Shall I book it?"), "{}", heard.text());
    let heard = loser.say("yes").await.unwrap();
    assert!(heard.text().contains("You're all set"), "{}", heard.text());
    let rows = app.appointments().await;
    assert_eq!(rows.len(), 2);
    assert_ne!(rows[0]["starts_at"], rows[1]["starts_at"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_bella_between_two_turns_does_not_start_the_call_over() {
    let mut app = spawn_app().await;
    let day = open_day();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("I'd like to book please").await.unwrap();
    let heard = call.say("Marie Tremblay").await.unwrap();
    assert!(heard.text().contains("What day and time"), "{}", heard.text());

    app.restart().await;
    call.set_base(&app.base_url).unwrap();

    let heard = call.say(&format!("{} at 9:30 am", spoken_day(day))).await.unwrap();
    assert!(!heard.text().contains("How can I help"), "the call started over: {}", heard.text());
    assert!(heard.text().contains("ending in"), "{}", heard.text());
    call.say("yes").await.unwrap();
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("You're all set, Marie"), "{}", heard.text());
    let rows = app.appointments().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "Marie Tremblay");
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 9, 30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_days_and_past_times_are_never_booked() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("this is Marie Tremblay").await.unwrap();
    let heard = call.say("Saturday at 10 am").await.unwrap();
    assert!(heard.text().contains("closed on Saturdays"), "{}", heard.text());
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("ending in"), "{}", heard.text());
    call.say("yes").await.unwrap();
    call.say("yes").await.unwrap();
    let rows = app.appointments().await;
    assert_eq!(rows.len(), 1);
    let starts = chrono::DateTime::parse_from_rfc3339(rows[0]["starts_at"].as_str().unwrap()).unwrap();
    let local = starts.with_timezone(&e2e::ZONE);
    assert!(starts > chrono::Utc::now());
    assert!(!matches!(chrono::Datelike::weekday(&local), chrono::Weekday::Sat | chrono::Weekday::Sun));
    let hour = chrono::Timelike::hour(&local);
    assert!((9..17).contains(&hour), "{local}");
}

/// Redis fails over to a replica that had not received the last turn (replication is
/// asynchronous): it holds the session as it was one turn earlier. The caller, answering the
/// question Bella really asked, is understood from the PostgreSQL copy, not from the stale one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_replica_one_turn_behind_does_not_turn_the_call_back() {
    let app = spawn_app().await;
    let day = open_day();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say(&format!("Hi, this is Marie Tremblay, I'd like {} at two", spoken_day(day))).await.unwrap();
    // What the replica holds: the session as it was after Bella offered the caller ID.
    let behind = app.session_hash(call.call_sid()).await;
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("Shall I book it?"), "{}", heard.text());
    app.wait_for_session_copy(call.call_sid(), 3).await;
    // The failover: the last turn is lost from Redis.
    app.set_session_hash(call.call_sid(), &behind).await;
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("You're all set, Marie"), "{}", heard.text());
    let rows = app.appointments().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 14, 0));
    assert_eq!(rows[0]["phone"], "+14165550123");
}
