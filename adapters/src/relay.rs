//! The outbox relay: publishes the jobs waiting in the outbox, as soon as they are written
//! (woken by `LISTEN bella_outbox`) and at least every few seconds (in case a notification is
//! missed, or the broker was down).
//!
//! A job is marked published only after the broker confirmed it. A relay that dies between the
//! confirm and the mark publishes the job again on its next pass: consumers are idempotent, so a
//! duplicate message changes nothing. Several relays can run at once (`FOR UPDATE SKIP LOCKED`).

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use crate::amqp::Publisher;
use crate::postgres::outbox;

/// How often the relay looks without being woken.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);
const BATCH: i64 = 100;
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs until `shutdown`.
pub async fn run(pool: PgPool, publisher: Publisher, shutdown: CancellationToken) {
    let mut listener = None;
    loop {
        if listener.is_none() {
            listener = match PgListener::connect_with(&pool).await {
                Ok(mut l) => match l.listen("bella_outbox").await {
                    Ok(()) => Some(l),
                    Err(error) => {
                        tracing::warn!(%error, "outbox relay cannot LISTEN; polling");
                        None
                    }
                },
                Err(error) => {
                    tracing::warn!(%error, "outbox relay cannot LISTEN; polling");
                    None
                }
            };
        }
        let more = match relay_batch(&pool, &publisher).await {
            Ok(published) => published == BATCH as usize,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "outbox relay pass failed");
                false
            }
        };
        if more {
            continue;
        }
        let woken = async {
            match listener.as_mut() {
                Some(l) => l.recv().await.map(|_| ()),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            result = woken => {
                if result.is_err() {
                    listener = None;
                }
            }
            () = tokio::time::sleep(POLL_INTERVAL) => {}
        }
    }
}

/// One pass: publishes the due jobs, in order, stopping at the first failure (the broker is
/// most likely down; the rest wait for the next pass). Returns how many were published.
pub async fn relay_batch(pool: &PgPool, publisher: &Publisher) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let pending = outbox::claim(&mut tx, BATCH).await?;
    let mut published = 0;
    for job in &pending {
        let payload = serde_json::to_vec(&job.payload)?;
        let decoded: Result<workflows::jobs::Job, _> = serde_json::from_value(job.payload.clone());
        let mut properties = match &decoded {
            Ok(decoded) => crate::amqp::job_properties(decoded),
            Err(_) => lapin::BasicProperties::default().with_delivery_mode(2),
        };
        // The job joins the trace of whatever wrote it to the outbox.
        if let Some(trace) = &job.trace_context {
            let mut headers = properties.headers().clone().unwrap_or_default();
            crate::trace_context::insert(&mut headers, trace.0.clone());
            properties = properties.with_headers(headers);
        }
        // Pending before it is sent (a worker may finish it before the confirm arrives); a job
        // that stays in the outbox is still pending.
        if let Ok(decoded) = &decoded {
            publisher.record_pending(decoded).await;
        }
        let exchange = publisher.names().jobs_exchange();
        match publisher.send(&exchange, &job.routing_key, &payload, properties, PUBLISH_TIMEOUT).await {
            Ok(()) => {
                outbox::mark_published(&mut tx, job.outbox_id).await?;
                published += 1;
                metrics::counter!(crate::metrics::OUTBOX_PUBLISHED).increment(1);
            }
            Err(error) => {
                let wait = Duration::from_secs(2u64.saturating_pow(job.attempts.clamp(0, 6) as u32));
                let retry_at = chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                outbox::mark_failed(&mut tx, job.outbox_id, &error.to_string(), retry_at).await?;
                tracing::warn!(job.kind = %job.kind, %error, "outbox relay could not publish; will retry");
                break;
            }
        }
    }
    tx.commit().await?;
    if published > 0 {
        tracing::info!(published, "outbox relay published jobs");
    }
    Ok(published)
}
