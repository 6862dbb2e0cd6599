//! Prometheus metrics: every name in one place, the process-wide recorder, and the gauges read
//! from the services when `/metrics` is scraped.
//!
//! Counters and histograms are recorded where things happen (`metrics::counter!` and friends, with
//! the names below); gauges that describe shared state (queue depths, the outbox backlog, active
//! calls, the oldest unfinished job) are measured at scrape time by [`collect`], each with a
//! bounded wait, so they are the same whichever process is scraped. The README's Operations
//! section lists them all.

use std::sync::OnceLock;
use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use workflows::jobs::JobKind;

use crate::{Namespace, Services};

pub const TURN_SECONDS: &str = "bella_turn_duration_seconds";
pub const WEBHOOKS: &str = "bella_webhooks_total";
pub const PUBLISH_CONFIRM_SECONDS: &str = "bella_publish_confirm_seconds";
pub const PUBLISH_FAILURES: &str = "bella_publish_failures_total";
pub const JOBS: &str = "bella_jobs_total";
pub const JOB_FAILURES: &str = "bella_job_failures_total";
pub const JOB_SECONDS: &str = "bella_job_duration_seconds";
pub const JOB_PICKUP_SECONDS: &str = "bella_job_pickup_seconds";
pub const JOBS_IN_FLIGHT: &str = "bella_jobs_in_flight";
pub const REPAIRS: &str = "bella_repairs_total";
pub const SLOT_HOLDS: &str = "bella_slot_holds_total";
pub const REPAIR_SECONDS: &str = "bella_repair_model_seconds";
pub const SMS: &str = "bella_sms_total";
pub const OUTBOX_PUBLISHED: &str = "bella_outbox_published_total";
pub const QUEUE_READY: &str = "bella_queue_ready";
pub const QUEUE_CONSUMERS: &str = "bella_queue_consumers";
pub const DEAD_LETTERS: &str = "bella_dead_letters";
pub const RETRYING: &str = "bella_jobs_retrying";
pub const OLDEST_JOB_SECONDS: &str = "bella_oldest_unfinished_job_seconds";
pub const OUTBOX_BACKLOG: &str = "bella_outbox_backlog";
pub const OUTBOX_OLDEST_SECONDS: &str = "bella_outbox_oldest_seconds";
pub const ACTIVE_CALLS: &str = "bella_active_calls";
pub const SESSION_RECOVERIES: &str = "bella_session_recoveries_total";
pub const BROKER_RECONNECTS: &str = "bella_broker_reconnects_total";
pub const GAUGE_COLLECTIONS: &str = "bella_gauge_collections_total";

/// Latency buckets, in seconds: fine below 10 ms where turns live, coarse up to a minute.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use (several apps in one test process share it).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder = match builder.set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS) {
            Ok(builder) => builder,
            Err(_) => PrometheusBuilder::new(),
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        describe();
        handle
    })
}

fn describe() {
    describe_histogram!(
        TURN_SECONDS,
        Unit::Seconds,
        "Time to answer a webhook, by webhook and step (step=total for the whole turn)."
    );
    describe_counter!(
        GAUGE_COLLECTIONS,
        "Times this process measured the shared gauges for a scrape (at most every 5 s, however often it is scraped)."
    );
    describe_counter!(
        BROKER_RECONNECTS,
        "Connections to RabbitMQ lost (result=lost) and opened again (result=reconnected), to the same node or another of the cluster."
    );
    describe_counter!(
        SESSION_RECOVERIES,
        "Call sessions taken from their PostgreSQL copy, by reason: missing (Redis lost it) or behind (Redis failed over to a replica that lacked the last turns)."
    );
    describe_counter!(
        WEBHOOKS,
        "Twilio webhooks answered, by route and outcome (ok, replayed, trouble, bad_request, forbidden)."
    );
    describe_histogram!(
        PUBLISH_CONFIRM_SECONDS,
        Unit::Seconds,
        "Time from publishing a job to the broker's confirm, by kind."
    );
    describe_counter!(PUBLISH_FAILURES, "Jobs the broker did not confirm (then saved in the outbox), by kind.");
    describe_counter!(
        JOBS,
        "Job deliveries settled, by kind and outcome (completed, retried, dead_lettered, expired)."
    );
    describe_counter!(JOB_FAILURES, "Failed job runs, by kind and error class.");
    describe_histogram!(JOB_SECONDS, Unit::Seconds, "Time to run a job, by kind.");
    describe_histogram!(
        JOB_PICKUP_SECONDS,
        Unit::Seconds,
        "Time from publishing a job to a worker starting it, by kind."
    );
    describe_gauge!(JOBS_IN_FLIGHT, "Jobs this process is running now, by kind.");
    describe_counter!(REPAIRS, "LLM repairs, by result (asked, not_published, answered, unanswered, late).");
    describe_counter!(
        SLOT_HOLDS,
        "Times held for a caller about to book, by result (held, lost to another caller, error, released)."
    );
    describe_histogram!(REPAIR_SECONDS, Unit::Seconds, "Time the language model took to answer a repair.");
    describe_counter!(
        SMS,
        "Text message jobs ended, by ledger status (queued, sent, simulated, opted_out, failed...)."
    );
    describe_counter!(OUTBOX_PUBLISHED, "Jobs the outbox relay published.");
    describe_gauge!(QUEUE_READY, "Messages waiting in a kind's work queue.");
    describe_gauge!(QUEUE_CONSUMERS, "Consumers of a kind's work queue.");
    describe_gauge!(DEAD_LETTERS, "Dead letters of a kind waiting for an operator.");
    describe_gauge!(RETRYING, "Workflow runs waiting in a retry tier, by kind.");
    describe_gauge!(OLDEST_JOB_SECONDS, Unit::Seconds, "Age of the oldest job published and not finished, by kind.");
    describe_gauge!(OUTBOX_BACKLOG, "Jobs in the outbox not yet published.");
    describe_gauge!(OUTBOX_OLDEST_SECONDS, Unit::Seconds, "Age of the oldest unpublished outbox job.");
    describe_gauge!(ACTIVE_CALLS, "Calls with a turn in the last fifteen minutes and no end reported.");
}

/// Bound on each measurement made at scrape time.
const COLLECT_WAIT: Duration = Duration::from_secs(1);

/// How long measured gauges are served before they are measured again.
pub const GAUGES_FRESH: Duration = Duration::from_secs(5);

/// Measures the shared gauges; a service that does not answer in time leaves its gauges as they
/// were (and is logged).
pub async fn collect(services: &Services, names: &Namespace) {
    let queues = async {
        let channel = services.amqp.create_channel().await?;
        for kind in JobKind::ALL {
            let declared = channel
                .queue_declare(
                    names.queue(kind).into(),
                    QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() },
                    FieldTable::default(),
                )
                .await?;
            metrics::gauge!(QUEUE_READY, "kind" => kind.name()).set(f64::from(declared.message_count()));
            metrics::gauge!(QUEUE_CONSUMERS, "kind" => kind.name()).set(f64::from(declared.consumer_count()));
        }
        let _ = channel.close(200, "OK".into()).await;
        Ok::<_, lapin::Error>(())
    };
    if let Err(error) = crate::within(COLLECT_WAIT, "RabbitMQ", queues).await {
        tracing::warn!(%error, "could not measure the queues");
    }
    let database = async {
        let (backlog, oldest): (i64, Option<f64>) = sqlx::query_as(
            "select count(*), extract(epoch from now() - min(created_at))::float8
               from outbox where published_at is null",
        )
        .fetch_one(&services.pool)
        .await?;
        metrics::gauge!(OUTBOX_BACKLOG).set(backlog as f64);
        metrics::gauge!(OUTBOX_OLDEST_SECONDS).set(oldest.unwrap_or(0.0));
        let calls: i64 =
            sqlx::query_scalar("select count(*) from call_sessions where updated_at > now() - interval '15 minutes'")
                .fetch_one(&services.pool)
                .await?;
        metrics::gauge!(ACTIVE_CALLS).set(calls as f64);
        let retrying: Vec<(String, i64)> = crate::postgres::runs::control::retrying_by_kind(&services.pool).await?;
        // Dead letters are moved from their queues into PostgreSQL by the worker's keeper
        // within milliseconds: the table is where they wait for an operator.
        let dead: Vec<(String, i64)> =
            sqlx::query_as("select kind, count(*) from dead_letters where status = 'dead' group by kind")
                .fetch_all(&services.pool)
                .await?;
        for kind in JobKind::ALL {
            let n = retrying.iter().find(|(k, _)| k == kind.name()).map_or(0, |(_, n)| *n);
            metrics::gauge!(RETRYING, "kind" => kind.name()).set(n as f64);
            let n = dead.iter().find(|(k, _)| k == kind.name()).map_or(0, |(_, n)| *n);
            metrics::gauge!(DEAD_LETTERS, "kind" => kind.name()).set(n as f64);
        }
        Ok::<_, sqlx::Error>(())
    };
    if let Err(error) = crate::within(COLLECT_WAIT, "PostgreSQL", database).await {
        tracing::warn!(%error, "could not measure the outbox and calls");
    }
    let pending = crate::redis::Pending::new(services.redis.clone(), names.clone());
    for kind in JobKind::ALL {
        match tokio::time::timeout(
            COLLECT_WAIT,
            pending.oldest_age(kind, crate::postgres::runs::ended_in(&services.pool)),
        )
        .await
        {
            Ok(Ok(age)) => metrics::gauge!(OLDEST_JOB_SECONDS, "kind" => kind.name()).set(age.as_secs_f64()),
            Ok(Err(error)) => {
                tracing::warn!(error = format!("{error:#}"), "could not measure the oldest job");
                break;
            }
            Err(_) => {
                tracing::warn!("could not measure the oldest job: no answer within a second");
                break;
            }
        }
    }
}

/// The text exposition of every metric, after measuring the shared gauges.
pub async fn render(services: &Services, names: &Namespace) -> String {
    // One scrape at a time: the shared gauges are process-wide, and two apps in one process (the
    // tests) must not mix their measurements. The gauges are measured at most every
    // GAUGES_FRESH: a burst of scrapes (or someone scraping in a loop) costs one measurement,
    // not one AMQP channel and four queries each.
    static LAST: tokio::sync::Mutex<Option<(String, std::time::Instant)>> = tokio::sync::Mutex::const_new(None);
    let mut last = LAST.lock().await;
    let fresh = last.as_ref().is_some_and(|(of, at)| of == names.as_str() && at.elapsed() < GAUGES_FRESH);
    if !fresh {
        metrics::counter!(GAUGE_COLLECTIONS).increment(1);
        collect(services, names).await;
        *last = Some((names.as_str().to_owned(), std::time::Instant::now()));
    }
    let handle = handle();
    handle.run_upkeep();
    handle.render()
}
