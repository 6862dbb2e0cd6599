//! Durable jobs: every error class, every retry tier, dead letters with reasons, the outbox.

use std::time::{Duration, Instant};

use e2e::{booking_job, call_sid, spawn_app, spawn_with};
use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, ShortString};
use workflows::jobs::{Job, JobKind, JobOutcome, RETRY_TIERS, tier_label};

const WAIT: Duration = Duration::from_secs(20);

async fn run_status(app: &e2e::TestApp, key: &str) -> (String, i32, Option<String>, Option<String>) {
    sqlx::query_as("select status, attempts, error_class, last_error from workflow_runs where idempotency_key = $1")
        .bind(key)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retryable_failure_comes_back_after_its_tier() {
    let app = spawn_with(&[("BELLA_FAILPOINTS", "before:book_appointment=retryable*1")]).await;
    let job = booking_job(&call_sid(1), 1, 3);
    let started = Instant::now();
    app.publish(&Job::BookAppointmentV1(job.clone())).await;
    let outcome = app.outcome(&job.idempotency_key, WAIT).await;
    assert!(matches!(outcome, Some(JobOutcome::Booked { .. })), "{outcome:?}");
    assert!(started.elapsed() >= Duration::from_secs(1), "the first retry tier waits a second");
    let (status, attempts, class, _) = run_status(&app, &job.idempotency_key).await;
    assert_eq!((status.as_str(), attempts), ("completed", 2));
    assert_eq!(class.as_deref(), Some("retryable"), "the run keeps the class of its last failure");
    assert_eq!(app.scalar::<i64>("select count(*) from appointments").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_waits_at_least_as_asked() {
    let app = spawn_with(&[("BELLA_FAILPOINTS", "before:book_appointment=retry_after:3*1")]).await;
    let job = booking_job(&call_sid(2), 1, 3);
    let started = Instant::now();
    app.publish(&Job::BookAppointmentV1(job.clone())).await;
    let outcome = app.outcome(&job.idempotency_key, WAIT).await;
    assert!(matches!(outcome, Some(JobOutcome::Booked { .. })), "{outcome:?}");
    assert!(started.elapsed() >= Duration::from_secs(3), "waited {:?}", started.elapsed());
    assert_eq!(run_status(&app, &job.idempotency_key).await.1, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_retryable_failure_not_a_dead_worker() {
    let app = spawn_with(&[("BELLA_FAILPOINTS", "before:book_appointment=panic*1")]).await;
    let job = booking_job(&call_sid(3), 1, 3);
    app.publish(&Job::BookAppointmentV1(job.clone())).await;
    let outcome = app.outcome(&job.idempotency_key, WAIT).await;
    assert!(matches!(outcome, Some(JobOutcome::Booked { .. })), "{outcome:?}");
    // The worker still takes new jobs.
    let next = booking_job(&call_sid(4), 1, 4);
    app.publish(&Job::BookAppointmentV1(next.clone())).await;
    assert!(app.outcome(&next.idempotency_key, WAIT).await.is_some());
}

async fn dead_lettered(app: &e2e::TestApp, key: &str) -> std::collections::BTreeMap<String, String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let letters = app.dead_letters(JobKind::BookAppointment).await;
        if let Some((headers, _)) = letters.into_iter().next() {
            let (status, ..) = run_status(app, key).await;
            assert_eq!(status, "dead_lettered");
            return headers;
        }
        assert!(Instant::now() < deadline, "nothing reached the dead letters");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_goes_to_the_dead_letters_with_its_reason() {
    let app = spawn_with(&[("BELLA_FAILPOINTS", "before:book_appointment=permanent")]).await;
    let job = booking_job(&call_sid(5), 1, 3);
    app.publish(&Job::BookAppointmentV1(job.clone())).await;
    let headers = dead_lettered(&app, &job.idempotency_key).await;
    assert_eq!(headers["x-bella-error-class"], "permanent");
    assert!(headers["x-bella-error"].contains("failpoint"), "{headers:?}");
    let (_, attempts, class, error) = run_status(&app, &job.idempotency_key).await;
    assert_eq!((attempts, class.as_deref()), (1, Some("permanent")));
    assert!(error.unwrap().contains("failpoint"));
    assert_eq!(app.scalar::<i64>("select count(*) from appointments").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn needs_repair_waits_in_the_dead_letters_for_an_operator() {
    let app = spawn_with(&[("BELLA_FAILPOINTS", "before:book_appointment=needs_repair")]).await;
    let job = booking_job(&call_sid(6), 1, 3);
    app.publish(&Job::BookAppointmentV1(job.clone())).await;
    let headers = dead_lettered(&app, &job.idempotency_key).await;
    assert_eq!(headers["x-bella-error-class"], "needs_repair");
    assert_eq!(run_status(&app, &job.idempotency_key).await.2.as_deref(), Some("needs_repair"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_go_to_the_dead_letters() {
    let app = spawn_with(&[("BELLA_FAILPOINTS", "before:book_appointment=retryable")]).await;
    let job = booking_job(&call_sid(7), 1, 3);
    let max = JobKind::BookAppointment.spec().retry.max_attempts;
    // A delivery that is already the last allowed run.
    let mut headers = FieldTable::default();
    headers.insert(ShortString::from("x-bella-attempt"), AMQPValue::LongLongInt(i64::from(max)));
    let amqp = app.amqp().await;
    let publisher = adapters::amqp::Publisher::new(&amqp, app.config.namespace.clone()).await.unwrap();
    let payload = serde_json::to_vec(&Job::BookAppointmentV1(job.clone())).unwrap();
    let exchange = app.config.namespace.jobs_exchange();
    publisher
        .send(&exchange, "book_appointment", &payload, BasicProperties::default().with_headers(headers), WAIT)
        .await
        .unwrap();
    let headers = dead_lettered(&app, &job.idempotency_key).await;
    assert_eq!(headers["x-bella-error-class"], "retryable");
    assert!(headers["x-bella-error"].starts_with(&format!("retries exhausted after {max} runs")), "{headers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_goes_to_the_dead_letters() {
    let app = spawn_app().await;
    let amqp = app.amqp().await;
    let publisher = adapters::amqp::Publisher::new(&amqp, app.config.namespace.clone()).await.unwrap();
    let exchange = app.config.namespace.jobs_exchange();
    publisher.send(&exchange, "book_appointment", b"{not json", BasicProperties::default(), WAIT).await.unwrap();
    let deadline = Instant::now() + WAIT;
    let letters = loop {
        let letters = app.dead_letters(JobKind::BookAppointment).await;
        if !letters.is_empty() || Instant::now() > deadline {
            break letters;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(letters.len(), 1);
    assert!(letters[0].0["x-bella-error"].starts_with("undecodable"), "{:?}", letters[0].0);
    assert_eq!(letters[0].1, b"{not json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_retry_tier_leads_back_to_the_work_queue() {
    let app = spawn_app().await;
    let amqp = app.amqp().await;
    let publisher = adapters::amqp::Publisher::new(&amqp, app.config.namespace.clone()).await.unwrap();
    let exchange = app.config.namespace.retry_exchange();
    let mut keys = Vec::new();
    for (n, tier) in RETRY_TIERS.iter().enumerate() {
        let mut job = booking_job(&call_sid(100 + n as u32), 1, 3);
        // One slot each, half an hour apart.
        job.starts_at += chrono::Duration::minutes(30 * n as i64);
        job.ends_at += chrono::Duration::minutes(30 * n as i64);
        let payload = serde_json::to_vec(&Job::BookAppointmentV1(job.clone())).unwrap();
        // The tier's routing, with a short expiration instead of the tier's full wait.
        let properties = BasicProperties::default().with_expiration("50".into());
        let routing = format!("book_appointment.{}", tier_label(*tier));
        publisher.send(&exchange, &routing, &payload, properties, WAIT).await.unwrap();
        keys.push(job.idempotency_key);
    }
    for key in keys {
        let outcome = app.outcome(&key, WAIT).await;
        assert!(matches!(outcome, Some(JobOutcome::Booked { .. })), "{key}: {outcome:?}");
    }
    assert_eq!(app.scalar::<i64>("select count(*) from appointments").await, RETRY_TIERS.len() as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_relay_publishes_saved_jobs() {
    let app = spawn_app().await;
    let job = booking_job(&call_sid(8), 1, 3);
    let mut conn = app.pool.acquire().await.unwrap();
    assert!(adapters::postgres::outbox::enqueue(&mut conn, &Job::BookAppointmentV1(job.clone())).await.unwrap());
    // The same job twice is one row.
    assert!(!adapters::postgres::outbox::enqueue(&mut conn, &Job::BookAppointmentV1(job.clone())).await.unwrap());
    let outcome = app.outcome(&job.idempotency_key, WAIT).await;
    assert!(matches!(outcome, Some(JobOutcome::Booked { .. })), "{outcome:?}");
    let published: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select published_at from outbox").fetch_one(&app.pool).await.unwrap();
    assert!(published.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_cannot_route_sends_the_job_to_the_outbox_and_the_caller_is_told() {
    let app = spawn_app().await;
    let day = e2e::open_day();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say(&format!("this is Marie Tremblay, {} at 10 am", e2e::spoken_day(day))).await.unwrap();
    call.say("yes").await.unwrap();
    // The jobs exchange disappears: the broker refuses every publish.
    let amqp = app.amqp().await;
    let channel = amqp.create_channel().await.unwrap();
    channel.exchange_delete(app.config.namespace.jobs_exchange().into(), Default::default()).await.unwrap();
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("your request is saved"), "{}", heard.text());
    assert!(heard.text().contains("text message"), "{}", heard.text());
    assert_eq!(app.scalar::<i64>("select count(*) from outbox where published_at is null").await, 1);
    assert!(app.appointments().await.is_empty());
    // The broker is back: the relay publishes the job and the worker books it.
    let channel = amqp.create_channel().await.unwrap();
    adapters::amqp::topology::declare(&channel, &app.config.namespace).await.unwrap();
    let deadline = Instant::now() + WAIT;
    while app.appointments().await.is_empty() {
        assert!(Instant::now() < deadline, "the relay never published the saved job");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rows = app.appointments().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "Marie Tremblay");
    assert_eq!(rows[0]["starts_at"], e2e::local_rfc3339(day, 10, 0));
}
