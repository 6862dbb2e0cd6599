//! `/admin/api/dead-letters`: list, show, retry, discard and purge.

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use operations::{Actor, Outcome};
use serde::Deserialize;
use uuid::Uuid;

use super::Reply;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};

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
    fn filter(&self, ids: Vec<Uuid>) -> operations::dead_letters::Filter {
        operations::dead_letters::Filter {
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
#[utoipa::path(get, path = "/admin/api/dead-letters", tag = "dead letters", params(DeadQuery), responses((status = 200, body = Vec<operations::dead_letters::Summary>)))]
pub async fn dead_letters(
    State(state): State<AppState>,
    Query(query): Query<DeadQuery>,
) -> Reply<Vec<operations::dead_letters::Summary>> {
    let limit = query.limit.unwrap_or(100);
    Ok(Json(operations::dead_letters::list(&state.pool, &query.filter(Vec::new()), limit).await?))
}

/// `GET /admin/api/dead-letters/{id}`
#[utoipa::path(get, path = "/admin/api/dead-letters/{id}", tag = "dead letters", params(("id" = Uuid, Path, description = "its id")), responses((status = 200, body = operations::dead_letters::Detail), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn dead_letter(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Reply<operations::dead_letters::Detail> {
    Ok(Json(operations::dead_letters::show(&state.pool, id).await?))
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

    fn filter(&self) -> Result<operations::dead_letters::Filter, ApiError> {
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
        Ok(operations::dead_letters::Filter {
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
#[utoipa::path(post, path = "/admin/api/dead-letters/retry", tag = "dead letters", request_body = DeadChange, responses((status = 200, body = Outcome)))]
pub async fn retry_dead_letters(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<DeadChange>,
) -> Reply<Outcome> {
    let options = operations::dead_letters::RetryOptions { dry_run: body.dry_run, per_second: body.per_second };
    let filter = body.filter()?;
    Ok(Json(operations::dead_letters::retry(&state.pool, &actor, &filter, &body.reason, options, |_, _| {}).await?))
}

/// `POST /admin/api/dead-letters/discard`
#[utoipa::path(post, path = "/admin/api/dead-letters/discard", tag = "dead letters", request_body = DeadChange, responses((status = 200, body = Outcome)))]
pub async fn discard_dead_letters(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<DeadChange>,
) -> Reply<Outcome> {
    body.no_dry_run("discard")?;
    let filter = body.filter()?;
    Ok(Json(operations::dead_letters::discard(&state.pool, &actor, &filter, &body.reason).await?))
}

/// `POST /admin/api/dead-letters/purge`
#[utoipa::path(post, path = "/admin/api/dead-letters/purge", tag = "dead letters", request_body = DeadChange, responses((status = 200, body = Outcome)))]
pub async fn purge_dead_letters(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<DeadChange>,
) -> Reply<Outcome> {
    body.no_dry_run("purge")?;
    let filter = body.filter()?;
    Ok(Json(operations::dead_letters::purge(&state.pool, &actor, &filter, &body.reason).await?))
}
