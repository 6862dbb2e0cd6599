//! The audit log: every operator action, filtered by who and what.

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;

use super::{Params, internal, param, render};
use crate::AppState;
use crate::console::Session;
use crate::console::layout::{self, json, when};

pub(crate) async fn audit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    let filter = operations::audit::Filter {
        actor: param(&params, "actor").map(str::to_owned),
        action: param(&params, "action").map(str::to_owned),
        since: None,
        limit: 200,
    };
    let rows = match operations::audit::list(&state.pool, &filter).await {
        Ok(rows) => rows,
        Err(error) => return internal(&error.into()),
    };
    let body = html! {
        form.filters method="get" action="/admin/audit" {
            input type="text" name="actor" placeholder="actor" value=[filter.actor.as_deref()];
            input type="text" name="action" placeholder="action (queues.pause, …)" value=[filter.action.as_deref()];
            button type="submit" { "Filter" }
        }
        table #audit {
            thead { tr { th.n { "#" } th { "At" } th { "Who" } th { "Action" } th { "Reason" } th.n { "Affected" } th { "Result" } th { "On" } } }
            tbody { @for r in &rows {
                tr data-action=(r.action) {
                    td.n { (r.audit_id) } td { (when(&r.at)) } td { (r.actor) " " small { (r.role) } }
                    td { (r.action) @if r.dry_run { " " span.badge { "dry run" } } }
                    td { (r.reason) } td.n { (r.affected) } td { (r.result) }
                    td { details { summary { "target" } (json(&r.target)) } }
                }
            } }
        }
        (layout::empty(rows.len(), "No operator action yet."))
    };
    render(&state, &session, "/admin/audit", "Audit log", &body).await
}
