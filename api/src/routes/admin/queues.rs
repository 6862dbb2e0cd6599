//! `/admin/api/queues`: depth and rates per job kind; pause, resume and drain.

use std::time::Duration;

use axum::extract::State;
use axum::{Extension, Json};
use operations::{Actor, Outcome};
use serde::Deserialize;

use super::{Reply, ops};
use crate::AppState;

/// `GET /admin/api/queues`
#[utoipa::path(get, path = "/admin/api/queues", tag = "queues", responses((status = 200, body = Vec<operations::queues::QueueStats>)))]
pub async fn queues(State(state): State<AppState>) -> Reply<Vec<operations::queues::QueueStats>> {
    Ok(Json(operations::queues::stats(&ops(&state)).await?))
}

/// Kinds and a reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueChange {
    /// Job kinds; empty or absent means every kind.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Why (written to the audit log).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// For a drain: how long to wait for jobs in flight (at most 50 s; default 20).
    pub timeout_seconds: Option<u64>,
}

/// `POST /admin/api/queues/pause`
#[utoipa::path(post, path = "/admin/api/queues/pause", tag = "queues", request_body = QueueChange, responses((status = 200, body = Outcome)))]
pub async fn pause(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<QueueChange>,
) -> Reply<Outcome> {
    let kinds = operations::queues::kinds(&body.kinds)?;
    Ok(Json(operations::queues::pause(&ops(&state), &actor, &kinds, &body.reason).await?))
}

/// `POST /admin/api/queues/resume`
#[utoipa::path(post, path = "/admin/api/queues/resume", tag = "queues", request_body = QueueChange, responses((status = 200, body = Outcome)))]
pub async fn resume(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<QueueChange>,
) -> Reply<Outcome> {
    let kinds = operations::queues::kinds(&body.kinds)?;
    Ok(Json(operations::queues::resume(&ops(&state), &actor, &kinds, &body.reason).await?))
}

/// `POST /admin/api/queues/drain`: pauses, waits for the jobs in flight, reports what is left.
#[utoipa::path(post, path = "/admin/api/queues/drain", tag = "queues", request_body = QueueChange, responses((status = 200, body = operations::queues::Drained)))]
pub async fn drain(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<QueueChange>,
) -> Reply<operations::queues::Drained> {
    let kinds = operations::queues::kinds(&body.kinds)?;
    let limit = Duration::from_secs(body.timeout_seconds.unwrap_or(20).min(50));
    Ok(Json(operations::queues::drain(&ops(&state), &actor, &kinds, &body.reason, limit, |_| {}).await?))
}
