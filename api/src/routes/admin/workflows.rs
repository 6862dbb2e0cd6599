//! `/admin/api/workflows`: list, show, resume and cancel workflow runs.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use chrono::NaiveDate;
use operations::{Actor, Outcome};
use serde::Deserialize;
use uuid::Uuid;

use super::{ReasonBody, Reply};
use crate::AppState;
use crate::error::ErrorBody;

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
#[utoipa::path(get, path = "/admin/api/workflows", tag = "workflows", params(WorkflowQuery), responses((status = 200, body = Vec<operations::workflows::RunSummary>)))]
pub async fn workflows(
    State(state): State<AppState>,
    Query(query): Query<WorkflowQuery>,
) -> Reply<Vec<operations::workflows::RunSummary>> {
    let filter = operations::workflows::Filter {
        status: query.status,
        kind: query.kind,
        business: query.business,
        call_sid: query.call_sid,
        from: query.from,
        to: query.to,
    };
    Ok(Json(operations::workflows::list(&state.pool, &filter, query.limit.unwrap_or(50)).await?))
}

/// `GET /admin/api/workflows/{id}`
#[utoipa::path(get, path = "/admin/api/workflows/{id}", tag = "workflows", params(("id" = Uuid, Path, description = "its id")), responses((status = 200, body = operations::workflows::RunDetail), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn workflow(State(state): State<AppState>, Path(id): Path<Uuid>) -> Reply<operations::workflows::RunDetail> {
    Ok(Json(operations::workflows::show(&state.pool, id).await?))
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
#[utoipa::path(post, path = "/admin/api/workflows/{id}/resume", tag = "workflows", params(("id" = Uuid, Path, description = "its id")), request_body = ResumeBody, responses((status = 200, body = Outcome), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "not in a state this applies to", body = ErrorBody)))]
pub async fn resume_workflow(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<Uuid>,
    Json(body): Json<ResumeBody>,
) -> Reply<Outcome> {
    Ok(Json(operations::workflows::resume(&state.pool, &actor, id, &body.set, &body.reason).await?))
}

/// `POST /admin/api/workflows/{id}/cancel`
#[utoipa::path(post, path = "/admin/api/workflows/{id}/cancel", tag = "workflows", params(("id" = Uuid, Path, description = "its id")), request_body = ReasonBody, responses((status = 200, body = Outcome), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "not in a state this applies to", body = ErrorBody)))]
pub async fn cancel_workflow(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<Uuid>,
    Json(body): Json<ReasonBody>,
) -> Reply<Outcome> {
    Ok(Json(operations::workflows::cancel(&state.pool, &actor, id, &body.reason).await?))
}
