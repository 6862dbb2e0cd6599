//! The console's pages. Each reads through [`operations`] and renders; each change calls the
//! same verb as `bella admin …` and `/admin/api/…`, then redirects back with what it did.

use std::collections::HashMap;
use std::time::Duration;

use ::workflows::jobs::JobKind;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use operations::{AdminError, Ops, Outcome};

use crate::AppState;
use crate::console::layout;
use crate::console::{Flash, FormData, Session, set_flash, take_flash};

type Params = Query<HashMap<String, String>>;

fn ops(state: &AppState) -> Ops {
    Ops::new(&state.services, state.config.namespace.clone())
}

/// A query parameter that is present and not blank.
fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Renders a page, with the message left by the last change.
async fn render(state: &AppState, session: &Session, current: &str, title: &str, body: &Markup) -> Response {
    let flash = take_flash(state, session).await;
    layout::page(session, flash.as_ref(), current, title, body)
}

/// A page that could not be read: 404 for what does not exist, 400 for a bad filter.
fn failed(error: AdminError) -> Response {
    match error {
        AdminError::NotFound(message) => layout::error_page(StatusCode::NOT_FOUND, &message),
        AdminError::Invalid(message) | AdminError::Conflict(message) => {
            layout::error_page(StatusCode::BAD_REQUEST, &message)
        }
        AdminError::Forbidden(message) => layout::error_page(StatusCode::FORBIDDEN, &message),
        AdminError::Database(error) => internal(&anyhow::Error::from(error)),
        AdminError::Other(error) => internal(&error),
    }
}

fn internal(error: &anyhow::Error) -> Response {
    tracing::error!(error = format!("{error:#}"), "console page failed");
    layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, "Something failed on our side; it is logged. Try again.")
}

/// After a change: the message for the next page, and a redirect (303) to `back`.
async fn done(state: &AppState, session: &Session, back: &str, result: Result<String, AdminError>) -> Response {
    let flash = match result {
        Ok(text) => Flash { ok: true, text },
        Err(AdminError::Database(error)) => {
            tracing::error!(error = %error, "console change failed");
            Flash { ok: false, text: "The change failed on our side (logged); nothing was changed.".into() }
        }
        Err(AdminError::Other(error)) => {
            tracing::error!(error = format!("{error:#}"), "console change failed");
            Flash { ok: false, text: "The change failed on our side (logged); nothing was changed.".into() }
        }
        Err(error) => Flash { ok: false, text: error.to_string() },
    };
    set_flash(state, session, &flash).await;
    Redirect::to(safe_back(back)).into_response()
}

/// Where to go back to after a change: a path of the console, or the console's home. Never a
/// value that cannot be a header (a CR or LF) or that leaves the console.
fn safe_back(back: &str) -> &str {
    let fine = back.starts_with("/admin")
        && !back.starts_with("//")
        && !back.chars().any(|c| c.is_control() || c == '\\')
        && axum::http::HeaderValue::from_str(back).is_ok();
    if fine { back } else { "/admin" }
}

fn said(outcome: &Outcome) -> String {
    let dry = if outcome.dry_run { "Dry run: " } else { "" };
    format!("{dry}{} (audit #{})", outcome.message, outcome.audit_id)
}

fn require_confirm(form: &FormData) -> Result<(), AdminError> {
    if form.checked("confirm") {
        Ok(())
    } else {
        Err(AdminError::Invalid("tick the confirmation box: this cannot be undone".into()))
    }
}

fn kind_options(selected: Option<&str>) -> Markup {
    html! {
        option value="" { "any kind" }
        @for kind in JobKind::ALL {
            option value=(kind.name()) selected[selected == Some(kind.name())] { (kind.name()) }
        }
    }
}

fn seconds(value: f64) -> String {
    if value <= 0.0 { "–".into() } else { humanish(Duration::from_secs_f64(value)) }
}

fn humanish(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

mod appointments;
mod audit;
mod businesses;
mod calls;
mod dead_letters;
mod queues;
mod tokens;
mod workflows;

pub(super) use appointments::{appointment, appointments, cancel_appointment};
pub(super) use audit::audit;
pub(super) use businesses::{business, businesses, create_business, edit_business, new_business};
pub(super) use calls::{call, calls};
pub(super) use dead_letters::{change_dead_letters, dead_letter, dead_letters};
pub(super) use queues::{change_queues, queues};
pub(super) use tokens::{change_tokens, tokens};
pub(super) use workflows::{cancel_workflow, resume_workflow, workflow, workflows};
