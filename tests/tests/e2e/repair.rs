//! LLM repair: an answer the rules cannot understand twice goes to a language model (faked on a
//! local HTTP server, so the real async-openai client runs), whose answer the same rules check;
//! past the deadline, or without a key, the caller is simply asked again.

use std::time::{Duration, Instant};

use chrono::Utc;
use e2e::fake_openai::{API_KEY, MODEL};
use e2e::{QUEBEC_NUMBER, call_sid, local_rfc3339, open_day, spawn_app, spawn_with_model};
use workflows::jobs::{Job, JobKind, REPAIR_DEADLINE, RepairAnswer, RepairField};
use workflows::{BusinessId, CallSid, Language};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_misheard_twice_is_repaired_and_the_call_books_it() {
    let (app, model) = spawn_with_model(Some("Antarpreet Kauldhar")).await;
    let day = open_day();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("I'd like to book an appointment").await.unwrap();
    let heard = call.say("and her pre cold are").await.unwrap();
    assert!(heard.text().contains("Sorry"), "{}", heard.text());
    assert!(model.requests().is_empty(), "the first miss is asked again without the model");
    let heard = call.say("it is on her pre cold are").await.unwrap();
    // The hold, a redirect, and the answer once the model has spoken.
    assert!(heard.text().starts_with("One moment, please. Thanks, Antarpreet."), "{}", heard.text());
    assert!(heard.documents[0].contains("<Redirect"), "{}", heard.documents[0]);
    assert!(heard.text().contains("What day and time"), "{}", heard.text());
    call.say(&format!("{} at 10 am", e2e::spoken_day(day))).await.unwrap();
    call.say("yes").await.unwrap();
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("You're all set, Antarpreet"), "{}", heard.text());
    let rows = app.appointments_where(&format!("call_sid={}", call.call_sid())).await;
    assert_eq!(rows[0]["name"], "Antarpreet Kauldhar");
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 10, 0));

    // What the model was asked: both answers, a strict schema, our key and model.
    let requests = model.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request["_authorization"], format!("Bearer {API_KEY}"));
    assert_eq!(request["model"], MODEL);
    assert_eq!(request["response_format"]["type"], "json_schema");
    assert_eq!(request["response_format"]["json_schema"]["strict"], true);
    let user = request["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("\"and her pre cold are\"") && user.contains("\"it is on her pre cold are\""), "{user}");
    // What the run recorded: the value, the model and its latency.
    let repairs = app.ended_repairs(1).await;
    let (status, output, _) = &repairs[0];
    assert_eq!(status, "completed");
    assert_eq!(output["value"], "Antarpreet Kauldhar");
    assert_eq!(output["model"], MODEL);
    assert!(output["latency_ms"].as_u64().is_some(), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_french_time_is_repaired_and_checked_against_the_hours() {
    let day = open_day();
    let (app, model) = spawn_with_model(Some(&format!("{} at 14:30", day.format("%B %-d")))).await;
    app.quebec_salon().await;
    let mut call = app.call_to("+15145550123", QUEBEC_NUMBER);
    call.dial().await.unwrap();
    call.say("Bonjour, c'est Hélène Côté, je voudrais un rendez-vous").await.unwrap();
    call.say("euh le chose là").await.unwrap();
    let heard = call.say("ben quand ça adonne").await.unwrap();
    assert!(heard.text().starts_with("Un instant, s'il vous plaît."), "{}", heard.text());
    assert!(heard.text().contains("à 14 h 30, c'est disponible"), "{}", heard.text());
    let system = model.requests()[0]["messages"][0]["content"].as_str().unwrap().to_owned();
    assert!(system.contains("Canadian French"), "{system}");
    call.say("oui").await.unwrap();
    let heard = call.say("oui").await.unwrap();
    assert!(heard.text().contains("C'est réservé, Hélène"), "{}", heard.text());
    let rows = app.appointments_where(&format!("call_sid={}", call.call_sid())).await;
    assert_eq!(rows[0]["starts_at"], local_rfc3339(day, 14, 30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_the_rules_refuse_is_not_believed() {
    let (app, _model) = spawn_with_model(Some("I cannot tell what the caller said")).await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("I'd like to book an appointment").await.unwrap();
    call.say("and her pre cold are").await.unwrap();
    let heard = call.say("it is on her pre cold are").await.unwrap();
    assert!(heard.text().starts_with("One moment, please. Sorry"), "{}", heard.text());
    assert!(heard.text().contains("your name"), "{}", heard.text());
    let repairs = app.ended_repairs(1).await;
    assert_eq!(repairs[0].0, "completed");
    assert_eq!(repairs[0].1["value"], "I cannot tell what the caller said");
    assert!(app.appointments().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_slower_than_the_deadline_is_not_waited_for() {
    let (app, model) = spawn_with_model(Some("Antarpreet Kauldhar")).await;
    model.slow(REPAIR_DEADLINE + Duration::from_secs(5));
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("I'd like to book an appointment").await.unwrap();
    call.say("and her pre cold are").await.unwrap();
    let asked = Instant::now();
    let heard = call.say("it is on her pre cold are").await.unwrap();
    let waited = asked.elapsed();
    assert!(heard.text().starts_with("One moment, please. Sorry"), "{}", heard.text());
    assert!(heard.text().contains("your name"), "{}", heard.text());
    // The caller waited for the deadline, not for the model.
    assert!(waited < REPAIR_DEADLINE + Duration::from_secs(2), "waited {waited:?}");
    let repairs = app.ended_repairs(1).await;
    let (status, output, error) = &repairs[0];
    assert_eq!(status, "expired");
    assert_eq!(output["model"], MODEL);
    assert!(error.as_deref().unwrap_or_default().contains("no answer within"), "{error:?}");
    // The call goes on.
    let heard = call.say("Marie Tremblay").await.unwrap();
    assert!(heard.text().contains("Thanks, Marie"), "{}", heard.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_model_is_recorded_and_the_caller_asked_again() {
    let (app, model) = spawn_with_model(Some("Antarpreet Kauldhar")).await;
    model.failing(503);
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("I'd like to book an appointment").await.unwrap();
    call.say("and her pre cold are").await.unwrap();
    let heard = call.say("it is on her pre cold are").await.unwrap();
    assert!(heard.text().starts_with("One moment, please. Sorry"), "{}", heard.text());
    let repairs = app.ended_repairs(1).await;
    assert_eq!(repairs[0].0, "failed");
    assert!(repairs[0].2.as_deref().unwrap_or_default().contains("model API failed"), "{:?}", repairs[0].2);
    // Not a job for the dead letters: nobody could use it after the call.
    assert!(app.dead_letters(JobKind::RepairAnswer).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_the_caller_is_simply_asked_again() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say("I'd like to book an appointment").await.unwrap();
    call.say("and her pre cold are").await.unwrap();
    let heard = call.say("it is on her pre cold are").await.unwrap();
    assert!(heard.text().starts_with("Sorry"), "{}", heard.text());
    assert!(!heard.text().contains("One moment"), "{}", heard.text());
    assert!(app.repairs().await.is_empty());
    let heard = call.say("Marie Tremblay").await.unwrap();
    assert!(heard.text().contains("Thanks, Marie"), "{}", heard.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_found_past_its_deadline_expires_without_asking_the_model() {
    let (app, model) = spawn_with_model(Some("Antarpreet Kauldhar")).await;
    let business: uuid::Uuid = app.scalar("select business_id from businesses limit 1").await;
    let business = BusinessId::from_uuid(business);
    let sid = call_sid(1);
    let key = format!("repair:{sid}#3");
    let job = Job::RepairAnswerV1(RepairAnswer {
        idempotency_key: key.clone(),
        call_sid: CallSid::parse(&sid).unwrap(),
        business_id: business,
        field: RepairField::Name,
        language: Language::En,
        heard: vec!["and her pre cold are".into()],
        today: Utc::now().date_naive(),
        requested_at: Utc::now() - chrono::Duration::seconds(60),
    });
    app.publish(&job).await;
    let repairs = app.ended_repairs(1).await;
    assert_eq!(repairs[0].0, "expired");
    assert!(repairs[0].2.as_deref().unwrap_or_default().contains("deadline passed"), "{:?}", repairs[0].2);
    assert!(model.requests().is_empty());
    assert!(app.dead_letters(JobKind::RepairAnswer).await.is_empty());
}
