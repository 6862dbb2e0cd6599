//! The booking pipeline: M booking jobs published as the api publishes them, taken by the
//! `bella worker` process, booked in PostgreSQL (and each one's text sent, simulated), then the
//! same count through the bare floor loop.
//!
//! The producer keeps at most `window` jobs outstanding (published and not finished): enough to
//! keep every worker slot busy, so the rate is the pipeline's capacity, while the queue stays
//! short, so the pickup latency is what a job waits in a busy system rather than the length of a
//! backlog the bench itself piled up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use adapters::Namespace;
use adapters::amqp::Publisher;
use adapters::redis::Pending;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use workflows::extract::PersonName;
use workflows::jobs::{BookAppointment, Job, JobKind};
use workflows::{BusinessId, CallSid, E164, Language};

use crate::publish::{Window, publish_all};
use crate::stats::Summary;

/// What one pipeline run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Throughput {
    pub jobs: usize,
    pub seconds: f64,
    pub jobs_per_second: f64,
    pub pickup: Summary,
}

impl Throughput {
    fn new(jobs: usize, elapsed: Duration, pickups: &[Duration]) -> Self {
        let seconds = elapsed.as_secs_f64();
        Self { jobs, seconds, jobs_per_second: jobs as f64 / seconds.max(1e-9), pickup: Summary::of(pickups) }
    }
}

/// Exactly-once, checked in the database after the run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Effects {
    pub appointments: i64,
    pub calls_with_two_appointments: i64,
    pub texts: i64,
    pub appointments_with_two_texts: i64,
    pub completed_runs: i64,
}

impl Effects {
    pub fn exactly_once(&self, jobs: usize) -> bool {
        let jobs = jobs as i64;
        self.appointments == jobs
            && self.calls_with_two_appointments == 0
            && self.texts == jobs
            && self.appointments_with_two_texts == 0
            && self.completed_runs == jobs
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PipelineReport {
    pub window: usize,
    pub bella: Throughput,
    pub floor: Throughput,
    /// Bella's throughput over the floor's.
    pub ratio: f64,
    pub effects: Effects,
}

pub(crate) struct Pipeline<'a> {
    pub pool: &'a PgPool,
    pub redis: &'a ConnectionManager,
    pub amqp: &'a adapters::amqp::Broker,
    pub names: &'a Namespace,
    pub business: BusinessId,
    pub window: usize,
    pub concurrency: u16,
}

impl Pipeline<'_> {
    pub(crate) async fn run(&self, count: usize) -> anyhow::Result<PipelineReport> {
        let bella = self.bella(count).await?;
        let effects = self.settle(count).await?;
        let progress = crate::progress::bar(count, "floor: publish, consume, INSERT, ack");
        let floor_queue = format!("{}.bench.floor", self.names);
        let floor = crate::floor::jobs(
            &self.amqp.connection(),
            self.pool,
            &floor_queue,
            count,
            self.window,
            self.concurrency,
            &progress,
        )
        .await?;
        progress.finish_and_clear();
        let floor = Throughput::new(count, floor.elapsed, &floor.pickups);
        let ratio = bella.jobs_per_second / floor.jobs_per_second.max(1e-9);
        Ok(PipelineReport { window: self.window, bella, floor, ratio, effects })
    }

    async fn bella(&self, count: usize) -> anyhow::Result<Throughput> {
        let publisher = Publisher::new(self.amqp, self.names.clone())
            .await
            .context("opening a publishing channel")?
            .with_pending(Pending::new(self.redis.clone(), self.names.clone()));
        // The worker removes each finished job from the pending set; its size is what is
        // outstanding. Read it in the background rather than once per publish.
        let outstanding = Arc::new(AtomicUsize::new(0));
        let stop = tokio_util::sync::CancellationToken::new();
        let watcher = tokio::spawn(watch_pending(
            self.redis.clone(),
            self.names.pending_key(JobKind::BookAppointment),
            outstanding.clone(),
            stop.clone(),
        ));
        let progress = crate::progress::bar(count, "bella: booking jobs through the worker");
        let start = Utc::now() + chrono::Duration::days(1);
        let started = Instant::now();
        let read = |_: usize| outstanding.load(Ordering::Relaxed);
        let published = publish_all(count, Window { size: self.window, outstanding: &read }, &progress, async |n| {
            let job = Job::BookAppointmentV1(booking(n, self.business, start)?);
            publisher.publish(&job, Duration::from_secs(10)).await?;
            Ok(())
        })
        .await;
        // Wait for the last ones.
        let deadline = Instant::now() + Duration::from_secs(120);
        let result = async {
            published?;
            loop {
                let done = completed(self.pool, self.business).await?;
                progress.set_position(done as u64);
                if done >= count as i64 {
                    return anyhow::Ok(());
                }
                anyhow::ensure!(Instant::now() < deadline, "only {done} of {count} booking jobs finished");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        .await;
        stop.cancel();
        let _ = watcher.await;
        progress.finish_and_clear();
        result?;
        tracing::debug!(elapsed = ?started.elapsed(), "bella pipeline done");
        let (seconds, pickups) = timings(self.pool, self.business).await?;
        Ok(Throughput::new(count, Duration::from_secs_f64(seconds), &pickups))
    }

    /// Waits for every text to be settled, then counts the effects.
    async fn settle(&self, count: usize) -> anyhow::Result<Effects> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let unsettled: i64 =
                sqlx::query_scalar("select count(*) from sms_messages where status in ('intended', 'submitting')")
                    .fetch_one(self.pool)
                    .await?;
            if unsettled == 0 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (appointments, calls_with_two_appointments): (i64, i64) = sqlx::query_as(
            "select count(*), count(*) - count(distinct call_sid) from appointments where business_id = $1",
        )
        .bind(self.business.as_uuid())
        .fetch_one(self.pool)
        .await?;
        let (texts, appointments_with_two_texts): (i64, i64) = sqlx::query_as(
            "select count(*), count(*) - count(distinct appointment_id) from sms_messages
              where kind = 'confirmation' and status not in ('intended', 'submitting') and business_id = $1",
        )
        .bind(self.business.as_uuid())
        .fetch_one(self.pool)
        .await?;
        let completed_runs = completed(self.pool, self.business).await?;
        let effects =
            Effects { appointments, calls_with_two_appointments, texts, appointments_with_two_texts, completed_runs };
        if !effects.exactly_once(count) {
            tracing::warn!(?effects, "the pipeline's effects are not exactly once");
        }
        Ok(effects)
    }
}

/// Booking job `n`: its own call, and its own ten minutes, days ahead.
fn booking(n: usize, business: BusinessId, start: DateTime<Utc>) -> anyhow::Result<BookAppointment> {
    let call_sid = CallSid::parse(&format!("CA{:032x}", 0xbe9c_0000_0000_u64 + n as u64))?;
    let starts_at = start + chrono::Duration::minutes(10 * n as i64);
    Ok(BookAppointment {
        idempotency_key: workflows::jobs::keys::book(&call_sid, 1),
        call_sid,
        attempt: 1,
        business_id: business,
        name: PersonName::parse("Ann Lee").context("name")?,
        name_to_check: false,
        phone: E164::parse(&format!("+1416555{:04}", 100 + n % 100))?,
        starts_at,
        ends_at: starts_at + chrono::Duration::minutes(10),
        language: Language::En,
        // The publish time: a run's start minus this is its pickup latency.
        requested_at: Utc::now(),
        deferred: false,
    })
}

async fn completed(pool: &PgPool, business: BusinessId) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "select count(*) from workflow_runs
          where kind = 'book_appointment' and status = 'completed' and business_id = $1",
    )
    .bind(business.as_uuid())
    .fetch_one(pool)
    .await?)
}

/// The run's length (first publish to last completion) and each job's pickup latency (publish to
/// the start of its workflow run), from the database's clock and the publisher's (one machine).
async fn timings(pool: &PgPool, business: BusinessId) -> anyhow::Result<(f64, Vec<Duration>)> {
    let pickups: Vec<f64> = sqlx::query_scalar(
        "select extract(epoch from created_at - (input->>'requested_at')::timestamptz)::float8
           from workflow_runs where kind = 'book_appointment' and business_id = $1",
    )
    .bind(business.as_uuid())
    .fetch_all(pool)
    .await?;
    let seconds: f64 = sqlx::query_scalar(
        "select extract(epoch from max(updated_at) - min((input->>'requested_at')::timestamptz))::float8
           from workflow_runs where kind = 'book_appointment' and business_id = $1",
    )
    .bind(business.as_uuid())
    .fetch_one(pool)
    .await?;
    Ok((seconds, pickups.into_iter().map(|s| Duration::from_secs_f64(s.max(0.0))).collect()))
}

async fn watch_pending(
    mut redis: ConnectionManager,
    key: String,
    outstanding: Arc<AtomicUsize>,
    stop: tokio_util::sync::CancellationToken,
) {
    while !stop.is_cancelled() {
        let size: redis::RedisResult<usize> = redis::cmd("ZCARD").arg(&key).query_async(&mut redis).await;
        if let Ok(size) = size {
            outstanding.store(size, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
