//! `/admin/api/appointments`: the list (times in each business's zone), one appointment, cancelling it.

use std::collections::HashMap;

use ::workflows::BusinessId;
use adapters::postgres::appointments::Filter;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use operations::{Actor, Outcome};
use serde::Serialize;
use uuid::Uuid;

use super::{ReasonBody, Reply};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// `GET /admin/api/appointments/{id or reference}`
#[utoipa::path(get, path = "/admin/api/appointments/{id}", tag = "appointments", params(("id" = String, Path, description = "the appointment's id or reference")), responses((status = 200, body = operations::calls::AppointmentDetail), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn appointment(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Reply<operations::calls::AppointmentDetail> {
    Ok(Json(operations::calls::appointment(&state.pool, &id).await?))
}

/// `POST /admin/api/appointments/{id or reference}/cancel`
#[utoipa::path(post, path = "/admin/api/appointments/{id}/cancel", tag = "appointments", params(("id" = String, Path, description = "the appointment's id or reference")), request_body = ReasonBody, responses((status = 200, body = Outcome), (status = 404, description = "not found", body = ErrorBody)))]
pub async fn cancel_appointment(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<ReasonBody>,
) -> Reply<Outcome> {
    Ok(Json(operations::calls::cancel_appointment(&state.pool, &actor, &id, &body.reason).await?))
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
    /// The name is as Bella heard it, not understood even spelled: a person checks it.
    pub name_to_check: bool,
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
    responses((status = 200, body = Vec<AppointmentJson>)))]
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
    let rows = adapters::postgres::appointments::list(&state.pool, &filter).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| AppointmentJson {
                id: row.appointment_id,
                reference: row.reference,
                call_sid: row.call_sid,
                business: row.business_name,
                business_id: row.business_id,
                name: row.name,
                name_to_check: row.name_to_check,
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
