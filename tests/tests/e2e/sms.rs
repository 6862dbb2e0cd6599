//! Text messages: one per change, sent at most once, in the caller's language, with every
//! Twilio answer handled (faked on a local HTTP server, so the real client runs).

use std::time::{Duration, Instant};

use e2e::fake_twilio::{Answer, SMS_FROM};
use e2e::{QUEBEC_NUMBER, booking_job, call_sid, jour, open_day, open_day_after, spawn_app, spawn_with_twilio};
use workflows::jobs::Job;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_sends_one_confirmation_and_records_its_delivery() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    let day = open_day();
    let reference = app.book_by_phone("+14165550123", "Marie Tremblay", day, "2 pm").await;
    let texts = app.settled_texts(1).await;
    assert_eq!(texts.len(), 1);
    let (kind, to, status, body, sid) = &texts[0];
    assert_eq!((kind.as_str(), to.as_str(), status.as_str()), ("confirmation", "+14165550123", "queued"));
    assert!(body.starts_with("Bella Demo Clinic: your appointment is confirmed for"), "{body}");
    assert!(body.contains("at 2 PM") && body.contains(&reference), "{body}");
    let created = twilio.created();
    assert_eq!(created.len(), 1);
    assert_eq!((created[0].to.as_str(), created[0].from.as_str()), ("+14165550123", SMS_FROM));
    assert_eq!(&created[0].body, body);
    assert_eq!(sid.as_deref(), Some(created[0].sid.as_str()));
    // The booking's run journals the message as its second step.
    let step: (String, i32) = sqlx::query_as(
        "select s.status, s.position from workflow_steps s join workflow_runs r using (workflow_run_id)
          where r.kind = 'book_appointment' and s.step = 'sms_confirmation'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(step, ("succeeded".to_owned(), 2));
    // Twilio reports delivery, out of order: the ledger only moves forward.
    let (code, _) =
        app.twilio_post("/twilio/sms-status", &[("MessageSid", &created[0].sid), ("MessageStatus", "delivered")]).await;
    assert_eq!(code, 204);
    app.twilio_post("/twilio/sms-status", &[("MessageSid", &created[0].sid), ("MessageStatus", "sent")]).await;
    assert_eq!(app.texts().await[0].2, "delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_the_text_is_simulated() {
    let app = spawn_app().await;
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    let texts = app.settled_texts(1).await;
    assert_eq!(texts[0].2, "simulated");
    assert!(texts[0].3.contains("confirmed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_is_recorded_and_not_retried() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    twilio.script([Answer::Refuse(21211)]);
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    let texts = app.settled_texts(1).await;
    assert_eq!(texts[0].2, "failed");
    let code: Option<i32> =
        sqlx::query_scalar("select error_code from sms_messages").fetch_one(&app.pool).await.unwrap();
    assert_eq!(code, Some(21211));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(twilio.create_requests(), 1);
    assert!(twilio.created().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opted_out_number_gets_no_more_texts() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    twilio.script([Answer::Refuse(21610)]);
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    app.settled_texts(1).await;
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "3 pm").await;
    let texts = app.settled_texts(2).await;
    assert_eq!((texts[0].2.as_str(), texts[1].2.as_str()), ("failed", "opted_out"));
    assert_eq!(twilio.create_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_arret_are_honoured_and_start_restarts() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    let (code, twiml) = app.twilio_post("/twilio/sms", &[("From", "+15145550123"), ("Body", "ARRÊT")]).await;
    assert_eq!(code, 200);
    assert!(twiml.contains("Vous ne recevrez plus de textos"), "{twiml}");
    let (code, _) = app.twilio_post("/twilio/sms", &[("From", "+14165550123"), ("Body", "STOP")]).await;
    assert_eq!(code, 200);
    app.book_by_phone("+15145550123", "Luc Gagnon", open_day(), "10 am").await;
    app.book_by_phone("+14165550123", "Ann Lee", open_day(), "11 am").await;
    let texts = app.settled_texts(2).await;
    assert!(texts.iter().all(|t| t.2 == "opted_out"), "{texts:?}");
    assert_eq!(twilio.create_requests(), 0);
    app.twilio_post("/twilio/sms", &[("From", "+14165550123"), ("Body", "START")]).await;
    app.book_by_phone("+14165550123", "Ann Lee", open_day_after(3), "11 am").await;
    let texts = app.settled_texts(3).await;
    assert_eq!(texts[2].2, "queued");
    assert_eq!(twilio.created().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    twilio.script([Answer::TooMany { retry_after: 2 }]);
    let started = Instant::now();
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    let texts = app.settled_texts(1).await;
    assert_eq!(texts[0].2, "queued");
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!((twilio.create_requests(), twilio.created().len()), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_failure_is_reconciled_not_sent_twice() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    // Twilio creates the message but answers 500: Bella cannot know it was sent.
    twilio.script([Answer::FailAfterCreating]);
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    let texts = app.settled_texts(1).await;
    assert_eq!(twilio.create_requests(), 1, "looked up, never sent again");
    assert_eq!(twilio.created().len(), 1);
    assert_eq!(texts[0].4.as_deref(), Some(twilio.created()[0].sid.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_before_creating_is_sent_again_once() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    twilio.script([Answer::FailBeforeCreating]);
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    app.settled_texts(1).await;
    assert_eq!((twilio.create_requests(), twilio.created().len()), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_french_booking_gets_a_french_text_from_the_business_number() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    app.quebec_salon().await;
    let day = open_day();
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    call.say(&format!("c'est Luc Gagnon, {} à 10 h", jour(day))).await.unwrap();
    call.say("oui").await.unwrap();
    call.say("oui").await.unwrap();
    let texts = app.settled_texts(1).await;
    assert!(texts[0].3.starts_with("Salon Élégance : votre rendez-vous est confirmé le"), "{}", texts[0].3);
    assert!(texts[0].3.contains("à 10 h"), "{}", texts[0].3);
    assert_eq!(twilio.created()[0].from, QUEBEC_NUMBER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_and_cancelling_each_send_their_text() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "10 am").await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("I need to reschedule my appointment").await.unwrap();
    call.say(&format!("{} at 2 pm", e2e::spoken_day(open_day_after(4)))).await.unwrap();
    call.say("yes").await.unwrap();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("cancel my appointment").await.unwrap();
    call.say("yes").await.unwrap();
    let texts = app.settled_texts(3).await;
    let kinds: Vec<&str> = texts.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(kinds, ["confirmation", "rescheduled", "cancelled"]);
    assert!(texts[1].3.contains("has moved to") && texts[1].3.contains("at 2 PM"), "{}", texts[1].3);
    assert!(texts[2].3.contains("is cancelled"), "{}", texts[2].3);
    assert_eq!(twilio.created().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_booking_that_cannot_be_made_is_told_by_text() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    // The slot goes to another caller while this booking waits in the outbox.
    let taken = booking_job(&call_sid(1), 1, 3);
    app.publish(&Job::BookAppointmentV1(taken.clone())).await;
    app.outcome(&taken.idempotency_key, Duration::from_secs(20)).await.unwrap();
    let mut late = booking_job(&call_sid(2), 1, 3);
    late.deferred = true;
    let mut conn = app.pool.acquire().await.unwrap();
    adapters::postgres::outbox::enqueue(&mut conn, &Job::BookAppointmentV1(late.clone())).await.unwrap();
    let texts = app.settled_texts(2).await;
    let not_booked = texts.iter().find(|t| t.0 == "not_booked").expect("a not_booked text");
    assert!(not_booked.3.contains("could not book"), "{}", not_booked.3);
    assert_eq!(twilio.created().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deliveries_of_one_text_at_once_send_it_once() {
    // Each delivery pauses a second after reading the ledger: without a lock, both would read
    // `intended` and both would send.
    let (app, twilio) = spawn_with_twilio(&[("BELLA_FAILPOINTS", "claim:send_sms=delay:1000")]).await;
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    let payload: serde_json::Value =
        sqlx::query_scalar("select payload from outbox where kind = 'send_sms'").fetch_one(&app.pool).await.unwrap();
    let job: Job = serde_json::from_value(payload).unwrap();
    app.publish(&job).await;
    let texts = app.settled_texts(1).await;
    assert_eq!(texts[0].2, "queued");
    // Past both pauses: a second delivery that was let through would have sent by now.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(twilio.create_requests(), 1);
    assert_eq!(twilio.created().len(), 1);
}

/// A text's job comes back after it was sent and acknowledged nowhere (its worker, or the
/// broker node holding the delivery, died before the acknowledgement): the new delivery finds
/// the run completed and stops there. It is neither sent again nor bounced through the retry
/// tiers into the dead letters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_delivered_again_after_it_was_sent_stops_quietly() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    app.settled_texts(1).await;
    let payload: serde_json::Value =
        app.scalar("select payload from outbox where kind = 'send_sms' and published_at is not null").await;
    let job: Job = serde_json::from_value(payload).unwrap();
    app.publish(&job).await;
    // The second delivery is taken and settled (nothing ready, nothing held by a worker).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, queues) = app.admin_get("/admin/api/queues", None).await;
        let sms = queues.as_array().unwrap().iter().find(|k| k["kind"] == "send_sms").unwrap().clone();
        if sms["ready"] == 0 && sms["unacked"] == 0 && sms["completed_per_minute"].as_f64().unwrap_or(0.0) > 0.0 {
            break;
        }
        assert!(Instant::now() < deadline, "the second delivery was never taken: {sms}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Then watch the retry tiers and the dead letters for three seconds: the first tier sends a
    // failed delivery back within about a second, so a bounce would be seen there.
    let names = &app.config.namespace;
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let mut waiting = app.queue_depth(&names.dead_letter_queue(workflows::jobs::JobKind::SendSms)).await;
        for tier in workflows::jobs::RETRY_TIERS {
            waiting += app.queue_depth(&names.retry_queue(&workflows::jobs::tier_label(tier))).await;
        }
        assert_eq!(waiting, 0, "the second delivery of a sent text was retried or dead-lettered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(twilio.created().len(), 1, "the text was sent once");
    let run: (String, Option<String>) =
        sqlx::query_as("select status, last_error from workflow_runs where kind = 'send_sms'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(run, ("completed".to_owned(), None));
}

/// Twilio fails in the ways that quote a caller's number: a 500 after creating the message (so the
/// next attempt looks it up, by recipient, in the URL), a lookup whose answer is not JSON (the HTTP
/// client's error names that URL: `…?To=%2B1416…`), a refusal whose message quotes the number.
/// The worker's log, the runs' last errors, the dead letter and the ledger keep only the last four
/// digits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_numbers_never_reach_logs_or_stored_errors_when_twilio_fails() {
    use e2e::fake_twilio::{ACCOUNT_SID, FakeTwilio};
    use workflows::jobs::JobKind;
    let twilio = FakeTwilio::start().await;
    let uri = twilio.uri();
    let vars = [("TWILIO_ACCOUNT_SID", ACCOUNT_SID), ("TWILIO_API_BASE", uri.as_str()), ("TWILIO_SMS_FROM", SMS_FROM)];
    let app = e2e::spawn_roles(&vars, bella::Roles::API).await;
    let log = std::env::temp_dir().join(format!("bella-sms-log-{}.jsonl", uuid::Uuid::new_v4().simple()));
    let worker = e2e::process::WorkerProcess::start_logged(&app, &[], JobKind::SendSms, &log).await;

    twilio.script([Answer::FailAfterCreating, Answer::RefuseQuoting(21408)]);
    twilio.garble_lookups(1);
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    // The scripted answers go to the texts in the order Twilio is asked: the second booking waits
    // until the first text's create request has come, so that the 500 is the first text's.
    let deadline = Instant::now() + Duration::from_secs(30);
    while twilio.create_requests() == 0 {
        assert!(Instant::now() < deadline, "the first text was never sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.book_by_phone("+16475550188", "Kevin Nguyen", open_day_after(3), "3 pm").await;
    // The first text: created, then found by a lookup at the third attempt (after the 5 s and
    // the 30 s retry tiers).
    let deadline = Instant::now() + Duration::from_secs(100);
    loop {
        let texts = app.texts().await;
        let first = texts.iter().find(|t| t.1 == "+14165550123").map(|t| t.2.clone());
        let runs: i64 = app.scalar("select count(*) from workflow_runs where kind = 'send_sms' and status in ('completed', 'dead_lettered')").await;
        if first.as_deref().is_some_and(|s| s != "intended" && s != "submitting") && runs == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the texts never settled: {texts:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(worker.stop().await);

    let whole = ["4165550123", "416555", "4 1 6, 5 5 5", "6475550188", "647555"];
    let logged = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    for number in whole {
        assert!(!logged.contains(number), "{number} in the worker's log:\n{logged}");
    }
    // The failures were logged, with the last four digits.
    assert!(logged.contains("unreadable lookup"), "{logged}");
    assert!(logged.contains("******0188") || logged.contains("*0188"), "{logged}");

    let errors: Vec<Option<String>> =
        sqlx::query_scalar("select last_error from workflow_runs").fetch_all(&app.pool).await.unwrap();
    let errors = format!("{errors:?}");
    assert!(errors.contains("0188"), "the refusal is on record: {errors}");
    let dead = app.dead_letters(JobKind::SendSms).await;
    let ledger: Vec<Option<String>> =
        sqlx::query_scalar("select error_message from sms_messages").fetch_all(&app.pool).await.unwrap();
    for number in whole {
        assert!(!errors.contains(number), "{number} in a run's last error: {errors}");
        assert!(!format!("{dead:?}").contains(number), "{number} in a dead letter: {dead:?}");
        assert!(!format!("{ledger:?}").contains(number), "{number} in the ledger: {ledger:?}");
    }
}

/// The lookup after an ambiguous send reads every page of Twilio's list: a busy sender's other
/// texts to the same number push the one looked for to the second page, and a lookup that read
/// only the first would send it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_on_the_second_page_of_twilios_list_is_found_not_resent() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    twilio.script([Answer::FailAfterCreating]);
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while twilio.created().is_empty() {
        assert!(Instant::now() < deadline, "the text was never created");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // 150 newer texts to the same number, before the retry looks it up.
    twilio.seed("+14165550123", 150);
    let texts = app.settled_texts(1).await;
    let ours: Vec<_> = twilio.created().into_iter().filter(|m| !m.body.starts_with("Reminder")).collect();
    assert_eq!(ours.len(), 1, "the text was sent again");
    assert_eq!(twilio.create_requests(), 1);
    // The ledger found and recorded the message Twilio had.
    assert_eq!(texts[0].4.as_deref(), Some(ours[0].sid.as_str()), "{texts:?}");
}
