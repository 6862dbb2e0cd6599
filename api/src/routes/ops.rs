//! The operator verbs of [`adapters::admin`] as JSON under `/admin/api`. Reads need any token;
//! changes need an operator's (a viewer gets 403). Every change takes a `reason` and answers
//! with what it did and the audit entry it wrote.

use std::collections::BTreeMap;
use std::time::Duration;

use adapters::admin::{self, Actor, Ops, Outcome};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::AppState;
use crate::error::ApiError;

fn ops(state: &AppState) -> Ops {
    Ops::new(&state.services, state.config.namespace.clone())
}

type Reply<T> = Result<Json<T>, ApiError>;

/// `GET /admin/api/whoami`: the token's holder and role.
pub async fn whoami(Extension(actor): Extension<Actor>) -> Json<Actor> {
    Json(actor)
}

/// `GET /admin/api/queues`
pub async fn queues(State(state): State<AppState>) -> Reply<Vec<admin::queues::QueueStats>> {
    Ok(Json(admin::queues::stats(&ops(&state)).await?))
}

/// Kinds and a reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueChange {
    /// Job kinds; empty or absent means every kind.
    #[serde(default)]
    pub kinds: Vec<String>,
    pub reason: String,
    /// For a drain: how long to wait for jobs in flight (at most 50 s; default 20).
    pub timeout_seconds: Option<u64>,
}

/// `POST /admin/api/queues/pause`
pub async fn pause(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<QueueChange>,
) -> Reply<Outcome> {
    let kinds = admin::queues::kinds(&body.kinds)?;
    Ok(Json(admin::queues::pause(&ops(&state), &actor, &kinds, &body.reason).await?))
}

/// `POST /admin/api/queues/resume`
pub async fn resume(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<QueueChange>,
) -> Reply<Outcome> {
    let kinds = admin::queues::kinds(&body.kinds)?;
    Ok(Json(admin::queues::resume(&ops(&state), &actor, &kinds, &body.reason).await?))
}

/// `POST /admin/api/queues/drain`: pauses, waits for the jobs in flight, reports what is left.
pub async fn drain(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<QueueChange>,
) -> Reply<admin::queues::Drained> {
    let kinds = admin::queues::kinds(&body.kinds)?;
    let limit = Duration::from_secs(body.timeout_seconds.unwrap_or(20).min(50));
    Ok(Json(admin::queues::drain(&ops(&state), &actor, &kinds, &body.reason, limit, |_| {}).await?))
}

/// Filters of the dead letters, from the query string or a JSON body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadQuery {
    pub kind: Option<String>,
    pub error_class: Option<String>,
    pub call_sid: Option<String>,
    pub business: Option<Uuid>,
    pub older_than_seconds: Option<u64>,
    pub newer_than_seconds: Option<u64>,
    pub status: Option<String>,
    pub limit: Option<i64>,
}

impl DeadQuery {
    fn filter(&self, ids: Vec<Uuid>) -> admin::dead_letters::Filter {
        admin::dead_letters::Filter {
            ids,
            kind: self.kind.clone(),
            error_class: self.error_class.clone(),
            call_sid: self.call_sid.clone(),
            business: self.business,
            older_than_seconds: self.older_than_seconds,
            newer_than_seconds: self.newer_than_seconds,
            status: self.status.clone(),
            job_key: None,
        }
    }
}

/// `GET /admin/api/dead-letters`
pub async fn dead_letters(
    State(state): State<AppState>,
    Query(query): Query<DeadQuery>,
) -> Reply<Vec<admin::dead_letters::Summary>> {
    let limit = query.limit.unwrap_or(100);
    Ok(Json(admin::dead_letters::list(&state.pool, &query.filter(Vec::new()), limit).await?))
}

/// `GET /admin/api/dead-letters/{id}`
pub async fn dead_letter(State(state): State<AppState>, Path(id): Path<Uuid>) -> Reply<admin::dead_letters::Detail> {
    Ok(Json(admin::dead_letters::show(&state.pool, id).await?))
}

/// A bulk change of dead letters: ids and/or filters (at least one, or `all`), and a reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadChange {
    #[serde(default)]
    pub ids: Vec<Uuid>,
    pub kind: Option<String>,
    pub error_class: Option<String>,
    pub call_sid: Option<String>,
    pub business: Option<Uuid>,
    pub older_than_seconds: Option<u64>,
    pub newer_than_seconds: Option<u64>,
    pub status: Option<String>,
    /// Apply to every dead letter when no id or filter is given.
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub dry_run: bool,
    /// Retries per second, at most (0 or absent: no limit).
    #[serde(default)]
    pub per_second: u32,
    pub reason: String,
}

impl DeadChange {
    fn filter(&self) -> Result<admin::dead_letters::Filter, ApiError> {
        let f = self;
        let narrowed = !self.ids.is_empty()
            || f.kind.is_some()
            || f.error_class.is_some()
            || f.call_sid.is_some()
            || f.business.is_some()
            || f.older_than_seconds.is_some()
            || f.newer_than_seconds.is_some();
        if !narrowed && !self.all {
            return Err(ApiError::BadRequest(
                "name ids or a filter (kind, error_class, call_sid, business, older_than_seconds), or set all".into(),
            ));
        }
        Ok(admin::dead_letters::Filter {
            ids: self.ids.clone(),
            kind: f.kind.clone(),
            error_class: f.error_class.clone(),
            call_sid: f.call_sid.clone(),
            business: f.business,
            older_than_seconds: f.older_than_seconds,
            newer_than_seconds: f.newer_than_seconds,
            status: f.status.clone(),
            job_key: None,
        })
    }
}

/// `POST /admin/api/dead-letters/retry`
pub async fn retry_dead_letters(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<DeadChange>,
) -> Reply<Outcome> {
    let options = admin::dead_letters::RetryOptions { dry_run: body.dry_run, per_second: body.per_second };
    let filter = body.filter()?;
    Ok(Json(admin::dead_letters::retry(&state.pool, &actor, &filter, &body.reason, options, |_, _| {}).await?))
}

/// `POST /admin/api/dead-letters/discard`
pub async fn discard_dead_letters(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<DeadChange>,
) -> Reply<Outcome> {
    let filter = body.filter()?;
    Ok(Json(admin::dead_letters::discard(&state.pool, &actor, &filter, &body.reason).await?))
}

/// `POST /admin/api/dead-letters/purge`
pub async fn purge_dead_letters(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<DeadChange>,
) -> Reply<Outcome> {
    let filter = body.filter()?;
    Ok(Json(admin::dead_letters::purge(&state.pool, &actor, &filter, &body.reason).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowQuery {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub business: Option<Uuid>,
    pub call_sid: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub limit: Option<i64>,
}

/// `GET /admin/api/workflows`
pub async fn workflows(
    State(state): State<AppState>,
    Query(query): Query<WorkflowQuery>,
) -> Reply<Vec<admin::workflows::RunSummary>> {
    let filter = admin::workflows::Filter {
        status: query.status,
        kind: query.kind,
        business: query.business,
        call_sid: query.call_sid,
        from: query.from,
        to: query.to,
    };
    Ok(Json(admin::workflows::list(&state.pool, &filter, query.limit.unwrap_or(50)).await?))
}

/// `GET /admin/api/workflows/{id}`
pub async fn workflow(State(state): State<AppState>, Path(id): Path<Uuid>) -> Reply<admin::workflows::RunDetail> {
    Ok(Json(admin::workflows::show(&state.pool, id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeBody {
    /// Fields of the job to change before resuming: `{"name": "Marie Tremblay"}`.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    pub reason: String,
}

/// `POST /admin/api/workflows/{id}/resume`
pub async fn resume_workflow(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<Uuid>,
    Json(body): Json<ResumeBody>,
) -> Reply<Outcome> {
    Ok(Json(admin::workflows::resume(&state.pool, &actor, id, &body.set, &body.reason).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

/// `POST /admin/api/workflows/{id}/cancel`
pub async fn cancel_workflow(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<Uuid>,
    Json(body): Json<ReasonBody>,
) -> Reply<Outcome> {
    Ok(Json(admin::workflows::cancel(&state.pool, &actor, id, &body.reason).await?))
}

/// `GET /admin/api/appointments/{id or reference}`
pub async fn appointment(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Reply<admin::calls::AppointmentDetail> {
    Ok(Json(admin::calls::appointment(&state.pool, &id).await?))
}

/// `POST /admin/api/appointments/{id or reference}/cancel`
pub async fn cancel_appointment(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<ReasonBody>,
) -> Reply<Outcome> {
    Ok(Json(admin::calls::cancel_appointment(&state.pool, &actor, &id, &body.reason).await?))
}

/// `GET /admin/api/calls/{call_sid}/timeline`
pub async fn timeline(State(state): State<AppState>, Path(call): Path<String>) -> Reply<Vec<admin::calls::Event>> {
    Ok(Json(admin::calls::timeline(&state.pool, &call).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub limit: Option<i64>,
}

/// `GET /admin/api/audit`
pub async fn audit(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Reply<Vec<admin::audit::AuditRow>> {
    let filter = admin::audit::Filter {
        actor: query.actor,
        action: query.action,
        since: None,
        limit: query.limit.unwrap_or(50),
    };
    Ok(Json(admin::audit::list(&state.pool, &filter).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub name: String,
    pub role: admin::Role,
}

/// `POST /admin/api/tokens`: the token is in the answer, once.
pub async fn create_token(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<TokenBody>,
) -> Result<(StatusCode, Json<admin::tokens::Created>), ApiError> {
    let created = admin::tokens::create(&state.pool, &actor, &body.name, body.role).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /admin/api/tokens`
pub async fn tokens(State(state): State<AppState>) -> Reply<Vec<admin::tokens::TokenRow>> {
    Ok(Json(admin::tokens::list(&state.pool).await?))
}

/// `GET /admin/api/businesses`
pub async fn businesses(State(state): State<AppState>) -> Reply<Vec<admin::businesses::BusinessView>> {
    Ok(Json(admin::businesses::list(&state.pool).await?))
}

/// `GET /admin/api/businesses/{id, number or "default"}`
pub async fn business(
    State(state): State<AppState>,
    Path(which): Path<String>,
) -> Reply<admin::businesses::BusinessView> {
    let business = admin::businesses::find(&state.pool, &which).await?;
    Ok(Json(admin::businesses::BusinessView::from(&business)))
}

/// A business's fields to set, and why.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessChange {
    pub set: admin::businesses::Changes,
    pub reason: String,
}

/// `POST /admin/api/businesses`: 201 with the new business's id.
pub async fn create_business(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<BusinessChange>,
) -> Result<(StatusCode, Json<admin::businesses::Saved>), ApiError> {
    let saved = admin::businesses::create(&state.pool, &actor, &body.set, &body.reason).await?;
    state.businesses.invalidate();
    Ok((StatusCode::CREATED, Json(saved)))
}

/// `PATCH /admin/api/businesses/{id, number or "default"}`: only the fields given change.
pub async fn edit_business(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(which): Path<String>,
    Json(body): Json<BusinessChange>,
) -> Reply<admin::businesses::Saved> {
    let saved = admin::businesses::edit(&state.pool, &actor, &which, &body.set, &body.reason).await?;
    state.businesses.invalidate();
    Ok(Json(saved))
}
