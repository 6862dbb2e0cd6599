//! `/admin/api/audit`: the audit log.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::Reply;
use crate::AppState;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub limit: Option<i64>,
}

/// `GET /admin/api/audit`
#[utoipa::path(get, path = "/admin/api/audit", tag = "access", params(AuditQuery), responses((status = 200, body = Vec<operations::audit::AuditRow>)))]
pub async fn audit(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Reply<Vec<operations::audit::AuditRow>> {
    let filter = operations::audit::Filter {
        actor: query.actor,
        action: query.action,
        since: None,
        limit: query.limit.unwrap_or(50),
    };
    Ok(Json(operations::audit::list(&state.pool, &filter).await?))
}
