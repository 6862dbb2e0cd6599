//! `/admin/api/tokens`: list, create and revoke admin tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use operations::{Actor, Outcome};
use serde::Deserialize;
use uuid::Uuid;

use super::{ReasonBody, Reply};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub name: String,
    pub role: operations::Role,
}

/// `POST /admin/api/tokens`: the token is in the answer, once.
#[utoipa::path(post, path = "/admin/api/tokens", tag = "access", request_body = TokenBody, responses((status = 201, description = "the token, shown this once", body = operations::tokens::Created), (status = 409, description = "a token of that name exists already", body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<TokenBody>,
) -> Result<(StatusCode, Json<operations::tokens::Created>), ApiError> {
    let created = operations::tokens::create(&state.pool, &actor, &body.name, body.role).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `POST /admin/api/tokens/{id}/revoke`: the token stops working at once, console sessions too.
#[utoipa::path(post, path = "/admin/api/tokens/{id}/revoke", tag = "access", params(("id" = Uuid, Path, description = "its id")), request_body = ReasonBody, responses((status = 200, body = Outcome), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<Uuid>,
    Json(body): Json<ReasonBody>,
) -> Reply<Outcome> {
    Ok(Json(operations::tokens::revoke(&state.pool, &actor, id, &body.reason).await?))
}

/// `GET /admin/api/tokens`
#[utoipa::path(get, path = "/admin/api/tokens", tag = "access", responses((status = 200, body = Vec<operations::tokens::TokenRow>)))]
pub async fn tokens(State(state): State<AppState>) -> Reply<Vec<operations::tokens::TokenRow>> {
    Ok(Json(operations::tokens::list(&state.pool).await?))
}
