//! `/admin/api/businesses`: list, show, create and edit businesses.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use operations::Actor;
use serde::Deserialize;

use super::Reply;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// `GET /admin/api/businesses`
#[utoipa::path(get, path = "/admin/api/businesses", tag = "businesses", responses((status = 200, body = Vec<operations::businesses::BusinessView>)))]
pub async fn businesses(State(state): State<AppState>) -> Reply<Vec<operations::businesses::BusinessView>> {
    Ok(Json(operations::businesses::list(&state.pool).await?))
}

/// `GET /admin/api/businesses/{id, number or "default"}`
#[utoipa::path(get, path = "/admin/api/businesses/{id}", tag = "businesses", params(("id" = String, Path, description = "an id, its number (E.164), or `default`")), responses((status = 200, body = operations::businesses::BusinessView), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn business(
    State(state): State<AppState>,
    Path(which): Path<String>,
) -> Reply<operations::businesses::BusinessView> {
    let business = operations::businesses::find(&state.pool, &which).await?;
    Ok(Json(operations::businesses::BusinessView::from(&business)))
}

/// A business's fields to set, and why.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessChange {
    pub set: operations::businesses::Changes,
    /// Why (written to the audit log).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// `POST /admin/api/businesses`: 201 with the new business's id.
#[utoipa::path(post, path = "/admin/api/businesses", tag = "businesses", request_body = BusinessChange, responses((status = 201, body = operations::businesses::Saved), (status = 409, description = "not in a state this applies to", body = ErrorBody)))]
pub async fn create_business(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<BusinessChange>,
) -> Result<(StatusCode, Json<operations::businesses::Saved>), ApiError> {
    let saved = operations::businesses::create(&state.pool, &actor, &body.set, &body.reason).await?;
    state.businesses.invalidate();
    Ok((StatusCode::CREATED, Json(saved)))
}

/// `PATCH /admin/api/businesses/{id, number or "default"}`: only the fields given change.
#[utoipa::path(patch, path = "/admin/api/businesses/{id}", tag = "businesses", params(("id" = String, Path, description = "an id, its number (E.164), or `default`")), request_body = BusinessChange, responses((status = 200, body = operations::businesses::Saved), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "not in a state this applies to", body = ErrorBody)))]
pub async fn edit_business(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(which): Path<String>,
    Json(body): Json<BusinessChange>,
) -> Reply<operations::businesses::Saved> {
    let saved = operations::businesses::edit(&state.pool, &actor, &which, &body.set, &body.reason).await?;
    state.businesses.invalidate();
    Ok(Json(saved))
}
