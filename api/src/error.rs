//! The api's error policy.
//!
//! - Handlers return [`ApiError`]; each variant names its status code, and its message is written
//!   for the person who sent the request (which parameter to fix). Internal errors answer a bare
//!   500 and are logged once, here, with their whole cause chain; they never leak details.
//! - Twilio routes never answer 500: a failing dependency gets spoken TwiML that apologises and
//!   retries a bounded number of times (see `routes::voice`).
//! - `anyhow` with `.context()` inside the turn engine and adapters; `thiserror` at module
//!   boundaries where callers branch on the kind.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; the message says what to fix.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 500: logged, never described to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response(),
            Self::Unauthorized(message) => {
                (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], Json(json!({ "error": message })))
                    .into_response()
            }
            Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": "internal error" }))).into_response()
            }
        }
    }
}
