//! What an operator sees: Prometheus metrics after real calls and jobs, one trace per call across
//! the api and the worker, and traces exported over OTLP.

use std::time::Duration;

use adapters::trace_context::call_trace_id;
use bella::Roles;
use e2e::process::WorkerProcess;
use e2e::{open_day, spawn_app, spawn_roles};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use workflows::CallSid;
use workflows::jobs::JobKind;

async fn metrics(base_url: &str) -> String {
    let response = reqwest::get(format!("{base_url}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    response.text().await.unwrap()
}

/// The value of the first sample whose line starts with `prefix` (name and labels).
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_shows_in_the_metrics() {
    let app = spawn_app().await;
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    app.settled_texts(1).await;
    let text = metrics(&app.base_url).await;
    for step in ["load", "calendar", "decide", "effect", "save", "total"] {
        let line = format!("bella_turn_duration_seconds_count{{webhook=\"answer\",step=\"{step}\"}}");
        assert!(sample(&text, &line).is_some_and(|n| n >= 1.0), "no {line} in:\n{text}");
    }
    assert!(text.contains("bella_turn_duration_seconds_bucket{webhook=\"answer\",step=\"total\",le=\"0.005\"}"));
    let ok = sample(&text, "bella_webhooks_total{route=\"answer\",outcome=\"ok\"}").unwrap_or(0.0);
    assert!(ok >= 3.0, "{text}");
    let booked = sample(&text, "bella_jobs_total{kind=\"book_appointment\",outcome=\"completed\"}").unwrap_or(0.0);
    assert!(booked >= 1.0, "{text}");
    assert!(sample(&text, "bella_publish_confirm_seconds_count{kind=\"book_appointment\"}").is_some_and(|n| n >= 1.0));
    assert!(sample(&text, "bella_job_pickup_seconds_count{kind=\"book_appointment\"}").is_some_and(|n| n >= 1.0));
    assert!(sample(&text, "bella_sms_total{status=\"simulated\"}").is_some_and(|n| n >= 1.0), "{text}");
    // Gauges measured from the services at scrape time, for this app's own queues and tables.
    assert_eq!(sample(&text, "bella_queue_ready{kind=\"book_appointment\"}"), Some(0.0));
    assert_eq!(sample(&text, "bella_queue_consumers{kind=\"book_appointment\"}"), Some(1.0));
    assert_eq!(sample(&text, "bella_dead_letters{kind=\"send_sms\"}"), Some(0.0));
    assert_eq!(sample(&text, "bella_outbox_backlog"), Some(0.0));
    assert_eq!(sample(&text, "bella_oldest_unfinished_job_seconds{kind=\"book_appointment\"}"), Some(0.0));
    assert!(sample(&text, "bella_active_calls").is_some());
    // Described, for Prometheus and for people.
    assert!(text.contains("# HELP bella_turn_duration_seconds"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_nobody_consumes_ages_in_the_metrics() {
    // Only the api (and the relay): nothing consumes the booking.
    let app = spawn_roles(&[], Roles::API).await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say(&format!("this is Marie Tremblay, I'd like {} at 2 pm", e2e::spoken_day(open_day()))).await.unwrap();
    call.say("yes").await.unwrap();
    call.say("yes").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let text = metrics(&app.base_url).await;
    assert_eq!(sample(&text, "bella_queue_ready{kind=\"book_appointment\"}"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "bella_queue_consumers{kind=\"book_appointment\"}"), Some(0.0));
    let age = sample(&text, "bella_oldest_unfinished_job_seconds{kind=\"book_appointment\"}").unwrap();
    assert!(age >= 1.0, "the waiting booking is {age} s old");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_and_its_jobs_are_one_trace() {
    let app = spawn_app().await;
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    app.settled_texts(1).await;
    let runs: Vec<(String, String, Option<String>)> =
        sqlx::query_as("select kind, call_sid, trace_id from workflow_runs order by created_at")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let call = CallSid::parse(&runs[0].1).unwrap();
    let expected = call_trace_id(&call).to_string();
    // The booking got the trace from the turn through RabbitMQ; the text, through the outbox.
    assert_eq!(runs[0].0, "book_appointment");
    assert_eq!(runs[0].2.as_deref(), Some(expected.as_str()));
    assert_eq!(runs[1].0, "send_sms");
    assert_eq!(runs[1].2.as_deref(), Some(expected.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_serves_metrics_and_exports_traces() {
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&collector)
        .await;
    let app = spawn_roles(&[], Roles::API).await;
    let endpoint = collector.uri();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let api_port = app.base_url.rsplit(':').next().unwrap().to_owned();
    let worker = WorkerProcess::start(
        &app,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_SERVICE_NAME", "bella-worker-test"),
            // The api's port, taken: a worker listens on METRICS_PORT and leaves PORT alone,
            // so one environment serves both on one host.
            ("PORT", api_port.as_str()),
            ("METRICS_PORT", port.as_str()),
        ],
        JobKind::BookAppointment,
    )
    .await;
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    app.settled_texts(1).await;
    // A worker-only process answers /metrics on METRICS_PORT, with the jobs it ran.
    let text = metrics(&format!("http://127.0.0.1:{port}")).await;
    let booked = sample(&text, "bella_jobs_total{kind=\"book_appointment\",outcome=\"completed\"}");
    assert_eq!(booked, Some(1.0), "{text}");
    // Stopping flushes the batch of spans.
    assert!(worker.stop().await, "the worker stops cleanly on SIGTERM");
    let exported = collector.received_requests().await.unwrap_or_default();
    assert!(!exported.is_empty(), "no spans were exported");
    let request = &exported[0];
    assert_eq!(request.headers["content-type"], "application/x-protobuf");
    // The protobuf carries the service name and the call's trace id (raw bytes).
    let body = &request.body;
    assert!(body.windows(17).any(|w| w == b"bella-worker-test"), "no service name in the export");
}

/// `/metrics` can ask for a token, and a burst of scrapes measures the shared gauges once (each
/// measurement opens an AMQP channel and runs queries).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_ask_for_a_token_and_a_burst_of_scrapes_measures_once() {
    let app = e2e::spawn_with(&[("METRICS_TOKEN", "metrics-scraper-token-0123456789abcdef")]).await;
    let http = reqwest::Client::new();
    let url = format!("{}/metrics", app.base_url);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(http.get(&url).bearer_auth("wrong").send().await.unwrap().status(), 401);
    let scrape = || http.get(&url).bearer_auth("metrics-scraper-token-0123456789abcdef").send();
    let before = scrape().await.unwrap().text().await.unwrap();
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (http, url) = (http.clone(), url.clone());
        burst.spawn(async move { http.get(&url).bearer_auth("metrics-scraper-token-0123456789abcdef").send().await });
    }
    for response in burst.join_all().await {
        assert_eq!(response.unwrap().status(), 200);
    }
    let after = scrape().await.unwrap().text().await.unwrap();
    let collections = |text: &str| sample(text, "bella_gauge_collections_total").expect("the collections counter");
    // Other tests in this process may scrape their own apps meanwhile: a few, never forty.
    assert!(
        collections(&after) - collections(&before) <= 5.0,
        "{} measurements",
        collections(&after) - collections(&before)
    );
}
