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

/// The body of every error answer: what went wrong, for the person who sent the request.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; the message says what to fix.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403: valid credentials without the role the request needs.
    #[error("{0}")]
    Forbidden(String),
    /// 404: nothing with that id.
    #[error("{0}")]
    NotFound(String),
    /// 409: the thing is not in a state the request applies to.
    #[error("{0}")]
    Conflict(String),
    /// 429: too many refused tokens from this address; try again after the wait.
    #[error("too many refused tokens from this address; try again in {} s", .0.as_secs())]
    TooManyRequests(std::time::Duration),
    /// 500: logged, never described to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response(),
            Self::Forbidden(message) => (StatusCode::FORBIDDEN, Json(json!({ "error": message }))).into_response(),
            Self::NotFound(message) => (StatusCode::NOT_FOUND, Json(json!({ "error": message }))).into_response(),
            Self::Conflict(message) => (StatusCode::CONFLICT, Json(json!({ "error": message }))).into_response(),
            Self::TooManyRequests(wait) => (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, wait.as_secs().to_string())],
                Json(json!({ "error": Self::TooManyRequests(wait).to_string() })),
            )
                .into_response(),
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

impl From<operations::AdminError> for ApiError {
    fn from(error: operations::AdminError) -> Self {
        use operations::AdminError as E;
        match error {
            E::Invalid(message) => Self::BadRequest(message),
            E::NotFound(message) => Self::NotFound(message),
            E::Conflict(message) => Self::Conflict(message),
            E::Forbidden(message) => Self::Forbidden(message),
            E::Database(error) => error.into(),
            E::Other(error) => Self::Internal(error),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    /// PostgreSQL's data exceptions (SQLSTATE class 22: a NUL character in a text, a date or an
    /// interval out of range) come from what the client sent: 400. Anything else is ours: 500.
    fn from(error: sqlx::Error) -> Self {
        let code = error.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
        match code {
            Some(code) if code.starts_with("22") => {
                let problem = match code.as_str() {
                    "22021" | "22P05" => "a text contains a character PostgreSQL cannot store (NUL)",
                    "22008" | "22007" => "a date or time is out of range",
                    "22015" | "22003" => "a number or duration is out of range",
                    _ => "a value is out of range or malformed",
                };
                Self::BadRequest(format!("{problem}; fix the request and try again"))
            }
            _ => Self::Internal(error.into()),
        }
    }
}
