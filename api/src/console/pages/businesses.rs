//! Businesses: the list, the new-business form, one business and its settings.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::NaiveDate;
use maud::{Markup, html};
use operations::AdminError;

use super::{done, failed, render, said};
use crate::AppState;
use crate::console::layout::{csrf, maybe, reason};
use crate::console::{FormData, Session};

pub(crate) async fn businesses(State(state): State<AppState>, Extension(session): Extension<Session>) -> Response {
    let all = match operations::businesses::list(&state.pool).await {
        Ok(all) => all,
        Err(error) => return failed(error),
    };
    let body = html! {
        @if session.operator() { p { a.button href="/admin/businesses/new" { "New business" } } }
        table #businesses {
            thead { tr { th { "Name" } th { "Number" } th { "Time zone" } th { "Hours" } th { "Languages" } } }
            tbody { @for b in &all {
                tr {
                    td { a href={ "/admin/businesses/" (b.id) } { (b.name) } @if b.is_default { " " span.badge { "default" } } }
                    td { (maybe(b.phone_number.as_deref())) } td { (b.time_zone) } td { (b.hours) } td { (b.languages.join(", ")) }
                }
            } }
        }
    };
    render(&state, &session, "/admin/businesses", "Businesses", &body).await
}

fn business_form(session: &Session, action: &str, b: Option<&operations::businesses::BusinessView>) -> Markup {
    let v = |f: fn(&operations::businesses::BusinessView) -> String| b.map(f).unwrap_or_default();
    let disabled = !session.operator();
    // What the form showed, sent back with it: only the fields the operator edits are saved.
    let shown: Vec<(&str, String)> = b
        .map(|b| {
            vec![
                ("name", b.name.clone()),
                ("phone_number", b.phone_number.clone().unwrap_or_default()),
                ("time_zone", b.time_zone.clone()),
                ("province", b.province.clone()),
                ("hours", b.hours.clone()),
                ("appointment_minutes", b.appointment_minutes.to_string()),
                ("resources", b.resources.to_string()),
                ("min_notice_minutes", b.min_notice_minutes.to_string()),
                ("languages", b.languages.join(",")),
                ("transfer_number", b.transfer_number.clone().unwrap_or_default()),
                ("address", b.address.clone().unwrap_or_default()),
                ("own_holidays", b.own_holidays.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
                ("is_default", if b.is_default { "yes".into() } else { String::new() }),
            ]
        })
        .unwrap_or_default();
    html! {
        form.stacked #business method="post" action=(action) {
            (csrf(session))
            @for (name, value) in &shown { input type="hidden" name={ "orig." (name) } value=(value); }
            label { "Name" } input type="text" name="name" required value=(v(|b| b.name.clone())) disabled[disabled];
            label { "Number callers dial (E.164)" } input type="text" name="phone_number" placeholder="+15145550100" value=(v(|b| b.phone_number.clone().unwrap_or_default())) disabled[disabled];
            label { "Time zone" } input type="text" name="time_zone" placeholder="America/Toronto" value=(v(|b| b.time_zone.clone())) disabled[disabled];
            label { "Province (statutory holidays)" } input type="text" name="province" placeholder="ON" maxlength="2" value=(v(|b| b.province.clone())) disabled[disabled];
            label { "Opening hours" } input type="text" name="hours" placeholder="mon-fri 09:00-17:00; sat 10:00-14:00" value=(v(|b| b.hours.clone())) disabled[disabled];
            label { "Minutes per appointment" } input type="number" name="appointment_minutes" min="5" max="480" placeholder="30" value=(v(|b| b.appointment_minutes.to_string())) disabled[disabled];
            label { "Appointments at once (resources)" } input type="number" name="resources" min="1" max="100" placeholder="1" value=(v(|b| b.resources.to_string())) disabled[disabled];
            label { "Minimum notice (minutes)" } input type="number" name="min_notice_minutes" min="0" placeholder="0" value=(v(|b| b.min_notice_minutes.to_string())) disabled[disabled];
            label { "Languages (greeting's first)" } input type="text" name="languages" placeholder="en or fr,en" value=(v(|b| b.languages.join(","))) disabled[disabled];
            label { "Transfer number (blank: none)" } input type="text" name="transfer_number" value=(v(|b| b.transfer_number.clone().unwrap_or_default())) disabled[disabled];
            label { "Address Bella reads out" } input type="text" name="address" value=(v(|b| b.address.clone().unwrap_or_default())) disabled[disabled];
            label { "Own closed days (YYYY-MM-DD, comma-separated)" } input type="text" name="own_holidays" value=(v(|b| b.own_holidays.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))) disabled[disabled];
            label.check { input type="checkbox" name="is_default" value="yes" checked[b.is_some_and(|b| b.is_default)] disabled[disabled]; " answers calls to numbers no business claims (default)" }
            @if session.operator() {
                label { "Reason" } (reason("why (goes to the audit log)"))
                button type="submit" { @if b.is_some() { "Save" } @else { "Create" } }
            }
        }
    }
}

/// The form's fields as [`operations::businesses::Changes`]: every field is sent, so all are set.
fn business_changes(form: &FormData) -> Result<operations::businesses::Changes, AdminError> {
    let holidays = match form.get("own_holidays") {
        None => None,
        Some(raw) => Some(
            raw.split([',', ' ', ';'])
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(|d| {
                    NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                        AdminError::Invalid(format!("own closed days: {d:?} is not a date like 2026-12-24"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(operations::businesses::Changes {
        name: form.text("name"),
        phone_number: form.get("phone_number").map(str::to_owned),
        time_zone: form.text("time_zone"),
        province: form.text("province"),
        hours: form.text("hours"),
        appointment_minutes: form.number("appointment_minutes", "minutes per appointment")?,
        resources: form.number("resources", "appointments at once")?,
        min_notice_minutes: form.number("min_notice_minutes", "minimum notice")?,
        languages: form.text("languages"),
        transfer_number: form.get("transfer_number").map(str::to_owned),
        address: form.get("address").map(str::to_owned),
        own_holidays: holidays,
        // Unticking does not remove the default: making another business the default does.
        is_default: form.checked("is_default").then_some(true),
    })
}

pub(crate) async fn new_business(State(state): State<AppState>, Extension(session): Extension<Session>) -> Response {
    let body = business_form(&session, "/admin/businesses", None);
    render(&state, &session, "/admin/businesses", "New business", &body).await
}

pub(crate) async fn create_business(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let result = async {
        let changes = business_changes(&form)?;
        let why = form.get("reason").unwrap_or_default();
        operations::businesses::create(&state.pool, &session.actor, &changes, why).await
    }
    .await;
    match result {
        Ok(saved) => {
            state.businesses.invalidate();
            let back = format!("/admin/businesses/{}", saved.id);
            done(&state, &session, &back, Ok(format!("Business created (audit #{})", saved.outcome.audit_id))).await
        }
        Err(error) => done(&state, &session, "/admin/businesses/new", Err(error)).await,
    }
}

pub(crate) async fn business(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let business = match operations::businesses::find(&state.pool, &id).await {
        Ok(business) => operations::businesses::BusinessView::from(&business),
        Err(error) => return failed(error),
    };
    let body = business_form(&session, &format!("/admin/businesses/{}", business.id), Some(&business));
    render(&state, &session, "/admin/businesses", &business.name, &body).await
}

pub(crate) async fn edit_business(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body).edited();
    let result = async {
        let changes = business_changes(&form)?;
        let why = form.get("reason").unwrap_or_default();
        let saved = operations::businesses::edit(&state.pool, &session.actor, &id, &changes, why).await?;
        state.businesses.invalidate();
        Ok(said(&saved.outcome))
    }
    .await;
    done(&state, &session, &format!("/admin/businesses/{id}"), result).await
}
