//! Appointments: the list, one appointment with its texts and runs, cancelling it.

use adapters::postgres::appointments;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::html;
use operations::mask_phone_numbers;
use serde_json::Value;

use super::{Params, done, failed, internal, param, render, require_confirm, said};
use crate::AppState;
use crate::console::layout::{self, confirm, csrf, json, reason, when};
use crate::console::{FormData, Session};

fn local(at: DateTime<Utc>, zone: &str) -> String {
    match zone.parse::<Tz>() {
        Ok(tz) => at.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z").to_string(),
        Err(_) => when(&at),
    }
}

pub(crate) async fn appointments(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    let mut filter = appointments::Filter { limit: 200, ..Default::default() };
    if let Some(raw) = param(&params, "date") {
        let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") else {
            return layout::error_page(StatusCode::BAD_REQUEST, "date is a day: 2026-12-01");
        };
        filter.from_date = Some(date);
        filter.to_date = Some(date);
    } else {
        filter.from = Some(Utc::now() - chrono::Duration::days(1));
    }
    filter.status = param(&params, "status").filter(|s| matches!(*s, "booked" | "cancelled")).map(str::to_owned);
    filter.call_sid = param(&params, "call_sid").map(str::to_owned);
    let rows = match appointments::list(&state.pool, &filter).await {
        Ok(rows) => rows,
        Err(error) => return internal(&error),
    };
    let status = filter.status.as_deref().unwrap_or("");
    let body = html! {
        form.filters method="get" action="/admin/appointments" {
            label { "day " input type="date" name="date" value=[param(&params, "date")]; }
            select name="status" aria-label="Status" {
                option value="" { "any status" }
                @for s in ["booked", "cancelled"] { option value=(s) selected[status == s] { (s) } }
            }
            input type="text" name="call_sid" placeholder="CallSid" value=[filter.call_sid.as_deref()];
            button type="submit" { "Filter" }
        }
        p.hint { "Without a day: from yesterday on. Times are each business's local time." }
        table #appointments {
            thead { tr { th { "When" } th { "Name" } th { "Phone" } th { "Business" } th { "Status" } th { "Reference" } } }
            tbody { @for a in &rows {
                tr {
                    td { (local(a.starts_at, &a.time_zone)) }
                    td {
                        (a.name)
                        @if a.name_to_check { " " span.badge.warn title="Bella could not understand the name, even spelled: it is as heard" { "check the name" } }
                    }
                    td { (mask_phone_numbers(&a.phone)) }
                    td { (a.business_name) }
                    td { span.badge.(a.status) { (a.status) } }
                    td { a href={ "/admin/appointments/" (a.appointment_id) } { (a.reference) } }
                }
            } }
        }
        (layout::empty(rows.len(), "No appointments match."))
    };
    render(&state, &session, "/admin/appointments", "Appointments", &body).await
}

fn field<'a>(value: &'a Value, name: &str) -> &'a str {
    value.get(name).and_then(Value::as_str).unwrap_or("–")
}

pub(crate) async fn appointment(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let detail = match operations::calls::appointment(&state.pool, &id).await {
        Ok(detail) => detail,
        Err(error) => return failed(error),
    };
    let a = &detail.appointment;
    let zone = field(a, "time_zone");
    let at = |name| {
        a.get(name)
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or_else(|| "–".to_owned(), |t| local(t.with_timezone(&Utc), zone))
    };
    let body = html! {
        dl.facts {
            dt { "Status" } dd #status { span.badge.(field(a, "status")) { (field(a, "status")) } }
            dt { "Reference" } dd { (field(a, "reference")) }
            dt { "Name" } dd { (field(a, "name")) }
            dt { "Phone" } dd { (mask_phone_numbers(field(a, "phone"))) }
            dt { "Business" } dd { (field(a, "business")) }
            dt { "Starts" } dd { (at("starts_at")) } dt { "Ends" } dd { (at("ends_at")) }
            dt { "Language" } dd { (field(a, "language")) }
            dt { "Call" } dd { @if let Some(call) = a.get("call_sid").and_then(Value::as_str) { a href={ "/admin/calls/" (call) } { (call) } } @else { "–" } }
        }
        @if session.operator() && field(a, "status") == "booked" {
            form.inline method="post" action={ "/admin/appointments/" (id) "/cancel" } {
                (csrf(&session))
                (reason("why (the caller gets a text)"))
                button.danger type="submit" { "Cancel the appointment" }
                (confirm("I mean it"))
            }
        }
        h2 { "Texts" } (json(&Value::Array(detail.texts.clone())))
        h2 { "Workflow runs of its call" }
        ul { @for run in &detail.runs {
            li { a href={ "/admin/workflows/" (run.workflow_run_id) } { (run.kind) } " · " (run.status) " · " (when(&run.created_at)) }
        } }
    };
    render(&state, &session, "/admin/appointments", "Appointment", &body).await
}

pub(crate) async fn cancel_appointment(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let result = async {
        require_confirm(&form)?;
        let why = form.get("reason").unwrap_or_default();
        Ok(said(&operations::calls::cancel_appointment(&state.pool, &session.actor, &id, why).await?))
    }
    .await;
    done(&state, &session, &format!("/admin/appointments/{id}"), result).await
}
