//! Calls: the recent calls, and one call's timeline.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::{Params, failed, param, render};
use crate::AppState;
use crate::console::Session;
use crate::console::layout::{self, json, when};

pub(crate) async fn calls(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    if let Some(sid) = param(&params, "call_sid") {
        let target: String = url::form_urlencoded::byte_serialize(sid.as_bytes()).collect();
        return Redirect::to(&format!("/admin/calls/{target}")).into_response();
    }
    let recent = match operations::calls::recent(&state.pool, 100).await {
        Ok(recent) => recent,
        Err(error) => return failed(error),
    };
    let body = html! {
        form.filters method="get" action="/admin/calls" {
            input type="text" name="call_sid" placeholder="CallSid (CA…)" required;
            button type="submit" { "Open the timeline" }
        }
        h2 { "Recent calls" }
        table #calls {
            thead { tr { th { "Call" } th { "Last turn" } th.n { "Turns" } } }
            tbody { @for call in &recent {
                tr {
                    td { a href={ "/admin/calls/" (call.call_sid) } { (call.call_sid) } }
                    td { (when(&call.last_turn_at)) } td.n { (call.turns) }
                }
            } }
        }
        (layout::empty(recent.len(), "No calls yet."))
    };
    render(&state, &session, "/admin/calls", "Calls", &body).await
}

pub(crate) async fn call(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(sid): Path<String>,
) -> Response {
    let events = match operations::calls::timeline(&state.pool, &sid).await {
        Ok(events) => events,
        Err(error) => return failed(error),
    };
    let body = html! {
        p { "Call " code { (sid) } ": turns (what was heard and said), jobs, effects and operator actions, oldest first. Phone numbers are masked." }
        table #timeline {
            thead { tr { th { "At" } th { "Source" } th { "What" } th { } } }
            tbody { @for e in &events {
                tr {
                    td { (when(&e.at)) } td { span.badge { (e.source) } } td { (e.summary) }
                    td { details { summary { "detail" } (json(&e.detail)) } }
                }
            } }
        }
        (layout::empty(events.len(), "Nothing is recorded for this call."))
    };
    render(&state, &session, "/admin/calls", "Call timeline", &body).await
}
