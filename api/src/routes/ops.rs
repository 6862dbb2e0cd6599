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
use crate::error::{ApiError, ErrorBody};

fn ops(state: &AppState) -> Ops {
    Ops::new(&state.services, state.config.namespace.clone())
}

type Reply<T> = Result<Json<T>, ApiError>;

/// `GET /admin/api/whoami`: the token's holder and role.
#[utoipa::path(get, path = "/admin/api/whoami", tag = "access", responses((status = 200, body = Actor), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody)))]
pub async fn whoami(Extension(actor): Extension<Actor>) -> Json<Actor> {
    Json(actor)
}

/// `GET /admin/api/queues`
#[utoipa::path(get, path = "/admin/api/queues", tag = "queues", responses((status = 200, body = Vec<admin::queues::QueueStats>), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody)))]
pub async fn queues(State(state): State<AppState>) -> Reply<Vec<admin::queues::QueueStats>> {
    Ok(Json(admin::queues::stats(&ops(&state)).await?))
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
#[utoipa::path(post, path = "/admin/api/queues/pause", tag = "queues", request_body = QueueChange, responses((status = 200, body = Outcome), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<QueueChange>,
) -> Reply<Outcome> {
    let kinds = admin::queues::kinds(&body.kinds)?;
    Ok(Json(admin::queues::pause(&ops(&state), &actor, &kinds, &body.reason).await?))
}

/// `POST /admin/api/queues/resume`
#[utoipa::path(post, path = "/admin/api/queues/resume", tag = "queues", request_body = QueueChange, responses((status = 200, body = Outcome), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<QueueChange>,
) -> Reply<Outcome> {
    let kinds = admin::queues::kinds(&body.kinds)?;
    Ok(Json(admin::queues::resume(&ops(&state), &actor, &kinds, &body.reason).await?))
}

/// `POST /admin/api/queues/drain`: pauses, waits for the jobs in flight, reports what is left.
#[utoipa::path(post, path = "/admin/api/queues/drain", tag = "queues", request_body = QueueChange, responses((status = 200, body = admin::queues::Drained), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody)))]
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
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
#[utoipa::path(get, path = "/admin/api/dead-letters", tag = "dead letters", params(DeadQuery), responses((status = 200, body = Vec<admin::dead_letters::Summary>), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody)))]
pub async fn dead_letters(
    State(state): State<AppState>,
    Query(query): Query<DeadQuery>,
) -> Reply<Vec<admin::dead_letters::Summary>> {
    let limit = query.limit.unwrap_or(100);
    Ok(Json(admin::dead_letters::list(&state.pool, &query.filter(Vec::new()), limit).await?))
}

/// `GET /admin/api/dead-letters/{id}`
#[utoipa::path(get, path = "/admin/api/dead-letters/{id}", tag = "dead letters", params(("id" = Uuid, Path, description = "its id")), responses((status = 200, body = admin::dead_letters::Detail), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn dead_letter(State(state): State<AppState>, Path(id): Path<Uuid>) -> Reply<admin::dead_letters::Detail> {
    Ok(Json(admin::dead_letters::show(&state.pool, id).await?))
}

/// A bulk change of dead letters: ids and/or filters (at least one, or `all`), and a reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
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
    /// Retry only: count what would be retried, change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Retries per second, at most (0 or absent: no limit).
    #[serde(default)]
    pub per_second: u32,
    /// Why (written to the audit log).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

impl DeadChange {
    /// Discard and purge have no dry run: refuse one rather than do it for real.
    fn no_dry_run(&self, verb: &str) -> Result<(), ApiError> {
        if self.dry_run {
            return Err(ApiError::BadRequest(format!(
                "dry_run applies to retry only; {verb} has none (list the dead letters to see what it would touch)"
            )));
        }
        Ok(())
    }

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
#[utoipa::path(post, path = "/admin/api/dead-letters/retry", tag = "dead letters", request_body = DeadChange, responses((status = 200, body = Outcome), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody)))]
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
#[utoipa::path(post, path = "/admin/api/dead-letters/discard", tag = "dead letters", request_body = DeadChange, responses((status = 200, body = Outcome), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody)))]
pub async fn discard_dead_letters(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<DeadChange>,
) -> Reply<Outcome> {
    body.no_dry_run("discard")?;
    let filter = body.filter()?;
    Ok(Json(admin::dead_letters::discard(&state.pool, &actor, &filter, &body.reason).await?))
}

/// `POST /admin/api/dead-letters/purge`
#[utoipa::path(post, path = "/admin/api/dead-letters/purge", tag = "dead letters", request_body = DeadChange, responses((status = 200, body = Outcome), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody)))]
pub async fn purge_dead_letters(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<DeadChange>,
) -> Reply<Outcome> {
    body.no_dry_run("purge")?;
    let filter = body.filter()?;
    Ok(Json(admin::dead_letters::purge(&state.pool, &actor, &filter, &body.reason).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
#[utoipa::path(get, path = "/admin/api/workflows", tag = "workflows", params(WorkflowQuery), responses((status = 200, body = Vec<admin::workflows::RunSummary>), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody)))]
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
#[utoipa::path(get, path = "/admin/api/workflows/{id}", tag = "workflows", params(("id" = Uuid, Path, description = "its id")), responses((status = 200, body = admin::workflows::RunDetail), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn workflow(State(state): State<AppState>, Path(id): Path<Uuid>) -> Reply<admin::workflows::RunDetail> {
    Ok(Json(admin::workflows::show(&state.pool, id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeBody {
    /// Fields of the job to change before resuming: `{"name": "Marie Tremblay"}`.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Why (written to the audit log).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// `POST /admin/api/workflows/{id}/resume`
#[utoipa::path(post, path = "/admin/api/workflows/{id}/resume", tag = "workflows", params(("id" = Uuid, Path, description = "its id")), request_body = ResumeBody, responses((status = 200, body = Outcome), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "not in a state this applies to", body = ErrorBody)))]
pub async fn resume_workflow(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<Uuid>,
    Json(body): Json<ResumeBody>,
) -> Reply<Outcome> {
    Ok(Json(admin::workflows::resume(&state.pool, &actor, id, &body.set, &body.reason).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why (written to the audit log).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// `POST /admin/api/workflows/{id}/cancel`
#[utoipa::path(post, path = "/admin/api/workflows/{id}/cancel", tag = "workflows", params(("id" = Uuid, Path, description = "its id")), request_body = ReasonBody, responses((status = 200, body = Outcome), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "not in a state this applies to", body = ErrorBody)))]
pub async fn cancel_workflow(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<Uuid>,
    Json(body): Json<ReasonBody>,
) -> Reply<Outcome> {
    Ok(Json(admin::workflows::cancel(&state.pool, &actor, id, &body.reason).await?))
}

/// `GET /admin/api/appointments/{id or reference}`
#[utoipa::path(get, path = "/admin/api/appointments/{id}", tag = "appointments", params(("id" = String, Path, description = "the appointment's id or reference")), responses((status = 200, body = admin::calls::AppointmentDetail), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn appointment(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Reply<admin::calls::AppointmentDetail> {
    Ok(Json(admin::calls::appointment(&state.pool, &id).await?))
}

/// `POST /admin/api/appointments/{id or reference}/cancel`
#[utoipa::path(post, path = "/admin/api/appointments/{id}/cancel", tag = "appointments", params(("id" = String, Path, description = "the appointment's id or reference")), request_body = ReasonBody, responses((status = 200, body = Outcome), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn cancel_appointment(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<ReasonBody>,
) -> Reply<Outcome> {
    Ok(Json(admin::calls::cancel_appointment(&state.pool, &actor, &id, &body.reason).await?))
}

/// `GET /admin/api/calls/{call_sid}/timeline`
#[utoipa::path(get, path = "/admin/api/calls/{call_sid}/timeline", tag = "calls", params(("call_sid" = String, Path, description = "the call's CallSid")), responses((status = 200, body = Vec<admin::calls::Event>), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn timeline(State(state): State<AppState>, Path(call): Path<String>) -> Reply<Vec<admin::calls::Event>> {
    Ok(Json(admin::calls::timeline(&state.pool, &call).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub limit: Option<i64>,
}

/// `GET /admin/api/audit`
#[utoipa::path(get, path = "/admin/api/audit", tag = "access", params(AuditQuery), responses((status = 200, body = Vec<admin::audit::AuditRow>), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody)))]
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub name: String,
    pub role: admin::Role,
}

/// `POST /admin/api/tokens`: the token is in the answer, once.
#[utoipa::path(post, path = "/admin/api/tokens", tag = "access", request_body = TokenBody, responses((status = 201, description = "the token, shown this once", body = admin::tokens::Created), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody), (status = 409, description = "a token of that name exists already", body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<TokenBody>,
) -> Result<(StatusCode, Json<admin::tokens::Created>), ApiError> {
    let created = admin::tokens::create(&state.pool, &actor, &body.name, body.role).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `POST /admin/api/tokens/{id}/revoke`: the token stops working at once, console sessions too.
#[utoipa::path(post, path = "/admin/api/tokens/{id}/revoke", tag = "access", params(("id" = Uuid, Path, description = "its id")), request_body = ReasonBody, responses((status = 200, body = Outcome), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<Uuid>,
    Json(body): Json<ReasonBody>,
) -> Reply<Outcome> {
    Ok(Json(admin::tokens::revoke(&state.pool, &actor, id, &body.reason).await?))
}

/// `GET /admin/api/tokens`
#[utoipa::path(get, path = "/admin/api/tokens", tag = "access", responses((status = 200, body = Vec<admin::tokens::TokenRow>), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody)))]
pub async fn tokens(State(state): State<AppState>) -> Reply<Vec<admin::tokens::TokenRow>> {
    Ok(Json(admin::tokens::list(&state.pool).await?))
}

/// `GET /admin/api/businesses`
#[utoipa::path(get, path = "/admin/api/businesses", tag = "businesses", responses((status = 200, body = Vec<admin::businesses::BusinessView>), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody)))]
pub async fn businesses(State(state): State<AppState>) -> Reply<Vec<admin::businesses::BusinessView>> {
    Ok(Json(admin::businesses::list(&state.pool).await?))
}

/// `GET /admin/api/businesses/{id, number or "default"}`
#[utoipa::path(get, path = "/admin/api/businesses/{id}", tag = "businesses", params(("id" = String, Path, description = "an id, its number (E.164), or `default`")), responses((status = 200, body = admin::businesses::BusinessView), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn business(
    State(state): State<AppState>,
    Path(which): Path<String>,
) -> Reply<admin::businesses::BusinessView> {
    let business = admin::businesses::find(&state.pool, &which).await?;
    Ok(Json(admin::businesses::BusinessView::from(&business)))
}

/// A business's fields to set, and why.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessChange {
    pub set: admin::businesses::Changes,
    /// Why (written to the audit log).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// `POST /admin/api/businesses`: 201 with the new business's id.
#[utoipa::path(post, path = "/admin/api/businesses", tag = "businesses", request_body = BusinessChange, responses((status = 201, body = admin::businesses::Saved), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody), (status = 409, description = "not in a state this applies to", body = ErrorBody)))]
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
#[utoipa::path(patch, path = "/admin/api/businesses/{id}", tag = "businesses", params(("id" = String, Path, description = "an id, its number (E.164), or `default`")), request_body = BusinessChange, responses((status = 200, body = admin::businesses::Saved), (status = 401, description = "no valid token", body = ErrorBody), (status = 400, description = "a bad field, named in the message", body = ErrorBody), (status = 403, description = "a viewer's token", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "not in a state this applies to", body = ErrorBody)))]
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
