//! The floors Bella is compared with: the least any service could do for the same work.
//!
//! - A turn's floor: an axum endpoint that reads the form, does one Redis GET and one SET on a
//!   key of the call, and returns a fixed TwiML document (`bella-bench floor`, run as a process
//!   of its own like `bella api`).
//! - A job's floor: a bare lapin loop: publish with confirms and the mandatory flag to a quorum
//!   queue, consume with the worker's prefetch and concurrency, one INSERT, ack.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Confirmation, Connection};
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::publish::{Window, publish_all};

const TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="speech dtmf" action="/floor?t=1" method="POST" speechTimeout="auto" language="en-CA"><Say voice="Polly.Joanna">What name should I put the appointment under?</Say></Gather><Redirect method="POST">/floor?t=1</Redirect></Response>"#;

/// Serves the turn floor on `port` until the process is stopped.
pub async fn serve(port: u16, redis_url: &str, namespace: &str) -> anyhow::Result<()> {
    let redis = adapters::redis::connect(redis_url).await?;
    let state = Arc::new((redis, namespace.to_owned()));
    let app = Router::new().route("/floor", post(turn)).route("/healthz", get(|| async { "ok" })).with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn turn(
    State(state): State<Arc<(ConnectionManager, String)>>,
    Form(params): Form<HashMap<String, String>>,
) -> axum::response::Response {
    let (redis, namespace) = &*state;
    let key = format!("{namespace}:floor:{}", params.get("CallSid").map_or("", String::as_str));
    let mut redis = redis.clone();
    let read: redis::RedisResult<Option<String>> = redis::cmd("GET").arg(&key).query_async(&mut redis).await;
    let write: redis::RedisResult<()> =
        redis::cmd("SET").arg(&key).arg("turn").arg("EX").arg(900).query_async(&mut redis).await;
    match read.and(write) {
        Ok(()) => ([("content-type", "text/xml")], TWIML).into_response(),
        Err(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// What the job floor measured.
#[derive(Debug)]
pub struct FloorRun {
    pub elapsed: Duration,
    pub pickups: Vec<Duration>,
}

/// Publishes `count` messages through a bare publish/consume/INSERT/ack loop and waits for all.
pub async fn jobs(
    amqp: &Arc<Connection>,
    pool: &PgPool,
    queue: &str,
    count: usize,
    window: usize,
    concurrency: u16,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<FloorRun> {
    sqlx::query("create table if not exists bench_floor (id bigint primary key, published_at timestamptz not null, picked_at timestamptz not null default now())")
        .execute(pool)
        .await?;
    sqlx::query("truncate bench_floor").execute(pool).await?;
    // The same kind of queue as Bella's work queues: durable and quorum.
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    let setup = amqp.create_channel().await?;
    setup.queue_declare(queue.into(), QueueDeclareOptions { durable: true, ..Default::default() }, arguments).await?;

    let done = Arc::new(AtomicUsize::new(0));
    let consumer = tokio::spawn(consume(amqp.clone(), pool.clone(), queue.to_owned(), concurrency, done.clone()));

    let publisher = amqp.create_channel().await?;
    publisher.confirm_select(ConfirmSelectOptions::default()).await?;
    let started = Instant::now();
    let queue_name = queue.to_owned();
    let outstanding = {
        let done = done.clone();
        move |published: usize| published.saturating_sub(done.load(Ordering::Relaxed))
    };
    publish_all(count, Window { size: window, outstanding: &outstanding }, progress, async |n| {
        let payload = serde_json::to_vec(&(n as i64, Utc::now()))?;
        let options = BasicPublishOptions { mandatory: true, ..Default::default() };
        let properties = BasicProperties::default().with_delivery_mode(2);
        let confirm = publisher
            .basic_publish("".into(), queue_name.as_str().into(), options, &payload, properties)
            .await?
            .await?;
        anyhow::ensure!(matches!(confirm, Confirmation::Ack(None)), "the broker did not confirm: {confirm:?}");
        Ok(())
    })
    .await?;
    let deadline = Instant::now() + Duration::from_secs(120) + Duration::from_millis(20 * count as u64);
    while done.load(Ordering::Relaxed) < count {
        progress.set_position(done.load(Ordering::Relaxed) as u64);
        anyhow::ensure!(Instant::now() < deadline, "the floor consumer stalled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    consumer.abort();
    let pickups: Vec<f64> =
        sqlx::query_scalar("select extract(epoch from picked_at - published_at)::float8 from bench_floor")
            .fetch_all(pool)
            .await?;
    setup.queue_delete(queue.into(), QueueDeleteOptions::default()).await?;
    sqlx::query("drop table bench_floor").execute(pool).await?;
    Ok(FloorRun { elapsed, pickups: pickups.into_iter().map(|s| Duration::from_secs_f64(s.max(0.0))).collect() })
}

async fn consume(
    amqp: Arc<Connection>,
    pool: PgPool,
    queue: String,
    concurrency: u16,
    done: Arc<AtomicUsize>,
) -> anyhow::Result<()> {
    let channel = amqp.create_channel().await?;
    channel.basic_qos(concurrency, BasicQosOptions::default()).await?;
    let mut deliveries = channel
        .basic_consume(
            queue.as_str().into(),
            "bench-floor".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let permits = Arc::new(Semaphore::new(usize::from(concurrency)));
    while let Some(delivery) = deliveries.next().await {
        let delivery = delivery?;
        let permit = permits.clone().acquire_owned().await?;
        let (pool, done) = (pool.clone(), done.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let inserted = async {
                let (id, published_at): (i64, DateTime<Utc>) = serde_json::from_slice(&delivery.data)?;
                sqlx::query("insert into bench_floor (id, published_at) values ($1, $2) on conflict do nothing")
                    .bind(id)
                    .bind(published_at)
                    .execute(&pool)
                    .await?;
                delivery.ack(BasicAckOptions::default()).await.context("ack")?;
                anyhow::Ok(())
            };
            if inserted.await.is_ok() {
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    Ok(())
}
