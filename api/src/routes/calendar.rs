//! `GET /calendar/{business}.ics?token=…`: the business's appointments as an iCalendar feed that
//! any calendar app can subscribe to (see [`operations::calendar_feed`]). An unknown business, a
//! business without a feed and a wrong token all get the same 404: the URL reveals nothing.
//!
//! The router is merged after the request trace layer, so that the token in the query string never
//! reaches a log line.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use workflows::BusinessId;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/calendar/{file}", get(feed))
}

async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no such calendar\n").into_response();
    let Some(business) = file.strip_suffix(".ics").and_then(|id| id.parse::<uuid::Uuid>().ok()) else {
        return not_found();
    };
    let Some(token) = query.get("token").filter(|t| !t.is_empty()) else { return not_found() };
    let now = Utc::now();
    match operations::calendar_feed::read(&state.pool, BusinessId::from_uuid(business), token, now).await {
        Ok(Some((name, zone, events))) => {
            let zone = zone.parse().unwrap_or(chrono_tz::America::Toronto);
            let body = operations::calendar_feed::render(&name, zone, &events, now);
            (
                [
                    (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                    (header::CACHE_CONTROL, "private, max-age=60"),
                    (header::CONTENT_DISPOSITION, "inline; filename=\"appointments.ics\""),
                ],
                body,
            )
                .into_response()
        }
        Ok(None) => not_found(),
        Err(error) => {
            tracing::warn!(%error, "could not read a calendar feed");
            (StatusCode::SERVICE_UNAVAILABLE, "try again shortly\n").into_response()
        }
    }
}
