//! The admin HTTP API, under `/admin/api`, behind a bearer token.

use std::collections::HashMap;

use adapters::admin::{self, Actor, Role};
use adapters::config::token_matches;
use adapters::postgres::appointments::{self, Filter};
use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use uuid::Uuid;
use workflows::BusinessId;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

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
                if let Err(error) = admin::audit::refused(
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
    admin::tokens::authenticate(&state.pool, token).await
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

/// One appointment as the admin API shows it: phone in E.164, times in RFC 3339 with the
/// business's UTC offset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppointmentJson {
    pub id: Uuid,
    pub reference: String,
    pub call_sid: Option<String>,
    pub business: String,
    pub business_id: Uuid,
    pub name: String,
    pub phone: String,
    pub starts_at: String,
    pub ends_at: String,
    pub status: String,
    pub language: String,
}

fn local_rfc3339(at: DateTime<Utc>, zone: &str) -> String {
    match zone.parse::<Tz>() {
        Ok(tz) => at.with_timezone(&tz).to_rfc3339(),
        Err(_) => at.to_rfc3339(),
    }
}

const DEFAULT_LIMIT: i64 = 500;
const MAX_LIMIT: i64 = 5_000;

/// `GET /admin/api/appointments?call_sid=&from=&to=&status=&business=&limit=`
///
/// `from` and `to` take an RFC 3339 instant, or a date (`2026-12-01`) read in each business's
/// own zone; `to` is exclusive for an instant and inclusive for a date.
#[utoipa::path(get, path = "/admin/api/appointments", tag = "appointments",
    params(
        ("call_sid" = Option<String>, Query, description = "the call that booked it"),
        ("from" = Option<String>, Query, description = "an RFC 3339 instant, or a date read in each business's zone"),
        ("to" = Option<String>, Query, description = "exclusive for an instant, inclusive for a date"),
        ("status" = Option<String>, Query, description = "booked or cancelled"),
        ("business" = Option<Uuid>, Query, description = "a business id"),
        ("limit" = Option<i64>, Query, description = "1 to 5000; 500 by default"),
    ),
    responses((status = 200, body = Vec<AppointmentJson>), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody)))]
pub async fn appointments(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Vec<AppointmentJson>>, ApiError> {
    let mut filter = Filter { limit: DEFAULT_LIMIT, ..Filter::default() };
    for (name, value) in &query {
        match name.as_str() {
            "call_sid" => filter.call_sid = Some(value.clone()),
            "status" => {
                if !matches!(value.as_str(), "booked" | "cancelled") {
                    return Err(ApiError::BadRequest(format!("status must be booked or cancelled, not {value:?}")));
                }
                filter.status = Some(value.clone());
            }
            "business" => {
                let id = value.parse::<Uuid>().map_err(|_| {
                    ApiError::BadRequest(format!("business must be a business id (UUID), not {value:?}"))
                })?;
                filter.business = Some(BusinessId::from_uuid(id));
            }
            "from" => match instant_or_date("from", value)? {
                When::Instant(at) => filter.from = Some(at),
                When::Date(date) => filter.from_date = Some(date),
            },
            "to" => match instant_or_date("to", value)? {
                When::Instant(at) => filter.to = Some(at),
                When::Date(date) => filter.to_date = Some(date),
            },
            "limit" => {
                filter.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| ApiError::BadRequest(format!("limit must be a number from 1 to {MAX_LIMIT}")))?;
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter {other:?}; use call_sid, from, to, status, business or limit"
                )));
            }
        }
    }
    let rows = appointments::list(&state.pool, &filter).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| AppointmentJson {
                id: row.appointment_id,
                reference: row.reference,
                call_sid: row.call_sid,
                business: row.business_name,
                business_id: row.business_id,
                name: row.name,
                phone: row.phone,
                starts_at: local_rfc3339(row.starts_at, &row.time_zone),
                ends_at: local_rfc3339(row.ends_at, &row.time_zone),
                status: row.status,
                language: row.language,
            })
            .collect(),
    ))
}

enum When {
    Instant(DateTime<Utc>),
    Date(NaiveDate),
}

fn instant_or_date(name: &str, value: &str) -> Result<When, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(When::Instant(at.with_timezone(&Utc)));
    }
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(When::Date(date));
    }
    Err(ApiError::BadRequest(format!(
        "{name} must be an RFC 3339 instant (2026-12-01T09:00:00-05:00) or a date (2026-12-01), not {value:?}"
    )))
}
