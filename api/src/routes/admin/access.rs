//! Who may call the admin API: the bearer token checked on every request (401, and the
//! address throttled after too many refusals), a viewer's change refused (403) and audited, and
//! the framework's own refusals turned into the API's one error shape.

use adapters::config::token_matches;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use operations::{Actor, Role};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// `GET /admin/api/whoami`: the token's holder and role.
#[utoipa::path(get, path = "/admin/api/whoami", tag = "access", responses((status = 200, body = Actor)))]
pub async fn whoami(Extension(actor): Extension<Actor>) -> Json<Actor> {
    Json(actor)
}

/// Refuses, with 401, any request without a valid bearer token: `ADMIN_TOKEN`, or a token made
/// by `bella admin token create`. The token's holder goes into the request as an [`Actor`] for
/// the handlers (roles) and the audit log.
pub async fn require_token(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let client = crate::throttle::client(&state, request.headers(), request.extensions());
    if let Some(wait) = crate::throttle::throttled(&state, client).await {
        return ApiError::TooManyRequests(wait).into_response();
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_owned);
    let Some(token) = presented else {
        return ApiError::Unauthorized("missing bearer token: send Authorization: Bearer <token>").into_response();
    };
    match actor_for(&state, &token).await {
        Ok(Some(actor)) => {
            // A viewer's change is refused here, for every verb, and on record.
            let changes = !matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD);
            if changes && actor.role == Role::Viewer {
                let action = format!("{} {}", request.method(), request.uri().path());
                if let Err(error) = operations::audit::refused(
                    &state.pool,
                    &actor,
                    &action,
                    serde_json::json!({ "path": request.uri().path() }),
                )
                .await
                {
                    tracing::warn!(%error, "could not record a refused change in the audit log");
                }
                return ApiError::Forbidden(format!(
                    "{} is a viewer: this needs an operator token (bella admin token create --role operator)",
                    actor.name
                ))
                .into_response();
            }
            request.extensions_mut().insert(actor);
            next.run(request).await
        }
        Ok(None) => {
            crate::throttle::refused(&state, client, "admin API bearer token").await;
            ApiError::Unauthorized("invalid bearer token").into_response()
        }
        Err(error) => ApiError::Internal(error.into()).into_response(),
    }
}

/// The holder of `token`: the `ADMIN_TOKEN` operator, or a token from the database.
pub async fn actor_for(state: &AppState, token: &str) -> Result<Option<Actor>, sqlx::Error> {
    if let Some(expected) = &state.config.admin_token
        && token_matches(expected, token)
    {
        return Ok(Some(Actor { name: "token:admin-token".into(), role: Role::Operator }));
    }
    if token.is_empty() {
        return Ok(None);
    }
    operations::tokens::authenticate(&state.pool, token).await
}

/// Refuses, with 400, a request whose path or query carries a NUL character (`%00`): no
/// identifier or filter contains one, and PostgreSQL cannot compare against one.
pub async fn refuse_nul(request: Request, next: Next) -> Response {
    let raw = request.uri().path_and_query().map_or("", |pq| pq.as_str());
    if raw.contains("%00") || raw.contains('\0') {
        return ApiError::BadRequest("a NUL character (%00) is not allowed in a path or query".into()).into_response();
    }
    next.run(request).await
}

/// Turns the framework's own refusals of a request (a body that is not JSON, a missing
/// `Content-Type`, a field of the wrong type, a path id that is not a UUID, an unknown query
/// parameter: 400, 415 or 422 in plain text) into the admin API's one error shape, a 400 with
/// `{"error": "..."}`, so that clients and the OpenAPI document deal with one kind of error.
/// Other refusals (405, 413) keep their status in the same shape.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() || is_json {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&bytes).trim().to_owned();
    let message = if message.is_empty() { status.canonical_reason().unwrap_or("refused").to_owned() } else { message };
    match status.as_u16() {
        // Bodies and paths the extractors could not read: the request is malformed.
        400 | 415 | 422 => ApiError::BadRequest(message).into_response(),
        // Anything else (405, 413) keeps its status, in the same JSON shape.
        _ => (status, Json(ErrorBody { error: message })).into_response(),
    }
}
