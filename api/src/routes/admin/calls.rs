//! `/admin/api/calls`: a call's timeline.

use axum::Json;
use axum::extract::{Path, State};

use super::Reply;
use crate::AppState;
use crate::error::ErrorBody;

/// `GET /admin/api/calls/{call_sid}/timeline`
#[utoipa::path(get, path = "/admin/api/calls/{call_sid}/timeline", tag = "calls", params(("call_sid" = String, Path, description = "the call's CallSid")), responses((status = 200, body = Vec<operations::calls::Event>), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn timeline(State(state): State<AppState>, Path(call): Path<String>) -> Reply<Vec<operations::calls::Event>> {
    Ok(Json(operations::calls::timeline(&state.pool, &call).await?))
}
