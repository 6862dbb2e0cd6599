//! The booking job on its own: exactly one effect however often it runs.

use adapters::amqp::Publisher;
use chrono::{Duration, Utc};
use e2e::spawn_app;
use workflows::jobs::{BookAppointment, Job, JobOutcome};
use workflows::{BusinessId, CallSid, E164, Language};

fn job(call: &str, attempt: u32, starts_in_days: i64) -> BookAppointment {
    let call_sid = CallSid::parse(call).unwrap();
    let starts_at = (Utc::now() + Duration::days(starts_in_days)).date_naive().and_hms_opt(15, 0, 0).unwrap().and_utc();
    BookAppointment {
        idempotency_key: workflows::jobs::keys::book(&call_sid, attempt),
        call_sid,
        attempt,
        business_id: BusinessId::from_uuid(adapters::postgres::businesses::DEFAULT_BUSINESS_ID.as_uuid()),
        name: workflows::extract::PersonName::parse("Ann Lee").unwrap(),
        name_to_check: false,
        phone: E164::parse("+14165550123").unwrap(),
        starts_at,
        ends_at: starts_at + Duration::minutes(30),
        language: Language::En,
        requested_at: Utc::now(),
        deferred: false,
    }
}

async fn count(app: &e2e::TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_a_job_twice_books_once_and_reports_the_same_outcome() {
    let app = spawn_app().await;
    let first = job("CA11111111111111111111111111111111", 1, 3);
    let a = worker::jobs::book_appointment::run(&app.pool, &first).await.unwrap();
    let b = worker::jobs::book_appointment::run(&app.pool, &first).await.unwrap();
    assert!(matches!(a, JobOutcome::Booked { .. }));
    assert_eq!(a, b);
    assert_eq!(count(&app, "select count(*) from appointments").await, 1);
    assert_eq!(count(&app, "select count(*) from workflow_runs where kind = 'book_appointment'").await, 1);
    // One confirmation text scheduled, however often the job ran.
    assert_eq!(count(&app, "select count(*) from sms_messages").await, 1);
    assert_eq!(count(&app, "select count(*) from outbox where kind = 'send_sms'").await, 1);
    let (status, attempts): (String, i32) =
        sqlx::query_as("select status, attempts from workflow_steps where step = 'reserve_slot'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempts), ("succeeded", 1));

    // A second attempt of the same call never books a second appointment.
    let second_attempt = job("CA11111111111111111111111111111111", 2, 4);
    let c = worker::jobs::book_appointment::run(&app.pool, &second_attempt).await.unwrap();
    assert_eq!(c, a);
    assert_eq!(count(&app, "select count(*) from appointments").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_jobs_from_two_calls_book_one_and_refuse_the_other() {
    let app = spawn_app().await;
    let a = job("CA22222222222222222222222222222222", 1, 3);
    let b = job("CA33333333333333333333333333333333", 1, 3);
    let (ra, rb) = tokio::join!(
        worker::jobs::book_appointment::run(&app.pool, &a),
        worker::jobs::book_appointment::run(&app.pool, &b)
    );
    let outcomes = [ra.unwrap(), rb.unwrap()];
    assert_eq!(outcomes.iter().filter(|o| matches!(o, JobOutcome::Booked { .. })).count(), 1);
    assert_eq!(outcomes.iter().filter(|o| **o == JobOutcome::SlotTaken).count(), 1);
    assert_eq!(count(&app, "select count(*) from appointments").await, 1);
    let failed: (String, String, Option<String>) = sqlx::query_as(
        "select r.status, s.error_class, s.last_error from workflow_runs r join workflow_steps s using (workflow_run_id) where r.status = 'failed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(failed.0, "failed");
    assert_eq!(failed.1, "permanent");
    assert!(failed.2.unwrap().starts_with("slot_taken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_message_delivered_twice_books_once() {
    let app = spawn_app().await;
    let amqp = std::sync::Arc::new(adapters::amqp::connect(&app.config.amqp_url, "test").await.unwrap());
    let publisher = Publisher::new(&amqp, app.config.namespace.clone()).await.unwrap();
    let booking = job("CA44444444444444444444444444444444", 1, 5);
    let message = Job::BookAppointmentV1(booking.clone());
    publisher.publish(&message, std::time::Duration::from_secs(2)).await.unwrap();
    publisher.publish(&message, std::time::Duration::from_secs(2)).await.unwrap();
    let redis = adapters::redis::connect(&app.config.redis_url).await.unwrap();
    let board = adapters::redis::ResultBoard::new(redis, app.config.namespace.clone());
    let mut outcome = None;
    for _ in 0..100 {
        outcome = board.get(&booking.idempotency_key).await.unwrap();
        if outcome.is_some() && count(&app, "select count(*) from workflow_steps where attempts >= 1").await >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(matches!(outcome, Some(JobOutcome::Booked { .. })), "{outcome:?}");
    // Give the second delivery time to be processed too, then check it changed nothing.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(count(&app, "select count(*) from appointments").await, 1);
    assert_eq!(count(&app, "select count(*) from workflow_runs where kind = 'book_appointment'").await, 1);
    assert_eq!(count(&app, "select count(*) from sms_messages").await, 1);
    amqp.close(200, "OK".into()).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_for_a_past_time_is_rejected() {
    let app = spawn_app().await;
    let past = job("CA55555555555555555555555555555555", 1, -1);
    let outcome = worker::jobs::book_appointment::run(&app.pool, &past).await.unwrap();
    assert!(matches!(outcome, JobOutcome::Rejected { .. }));
    assert_eq!(count(&app, "select count(*) from appointments").await, 0);
}
