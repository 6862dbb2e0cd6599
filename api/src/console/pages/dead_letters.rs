//! The dead letters: list, filter, retry, replay and purge; one dead letter's detail.

use std::collections::HashMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use operations::{AdminError, mask_phone_numbers};
use serde_json::Value;
use uuid::Uuid;

use super::{Params, done, failed, kind_options, param, render, require_confirm, safe_back, said};
use crate::AppState;
use crate::console::layout::{self, confirm, csrf, json, maybe, reason, short, when};
use crate::console::{FormData, Session};

fn dead_filter(params: &HashMap<String, String>) -> operations::dead_letters::Filter {
    operations::dead_letters::Filter {
        kind: param(params, "kind").map(str::to_owned),
        error_class: param(params, "error_class").map(str::to_owned),
        call_sid: param(params, "call_sid").map(str::to_owned),
        status: Some(param(params, "status").unwrap_or("dead").to_owned()),
        ..Default::default()
    }
}

pub(crate) async fn dead_letters(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    let filter = dead_filter(&params);
    let rows = match operations::dead_letters::list(&state.pool, &filter, 200).await {
        Ok(rows) => rows,
        Err(error) => return failed(error),
    };
    let status = filter.status.as_deref().unwrap_or("dead");
    let body = html! {
        form.filters method="get" action="/admin/dead-letters" {
            select name="kind" aria-label="Kind" { (kind_options(filter.kind.as_deref())) }
            input type="text" name="error_class" placeholder="error class" value=[filter.error_class.as_deref()];
            input type="text" name="call_sid" placeholder="CallSid" value=[filter.call_sid.as_deref()];
            select name="status" aria-label="Status" {
                @for s in ["dead", "retried", "discarded", "any"] { option value=(s) selected[status == s] { (s) } }
            }
            button type="submit" { "Filter" }
        }
        form #bulk method="post" action="/admin/dead-letters" {
            (csrf(&session))
            @for (name, value) in [("kind", &filter.kind), ("error_class", &filter.error_class), ("call_sid", &filter.call_sid)] {
                @if let Some(value) = value { input type="hidden" name={ "filter." (name) } value=(value); }
            }
            table #dead-letters {
                thead { tr {
                    th { } th { "Dead since" } th { "Kind" } th { "Error" } th { "Last error" } th.n { "Attempts" }
                    th { "Call" } th { "Status" }
                } }
                tbody {
                    @for d in &rows {
                        tr data-id=(d.dead_letter_id) {
                            td { @if d.status == "dead" {
                                input type="checkbox" name="id" value=(d.dead_letter_id) aria-label="select";
                            } }
                            td { a href={ "/admin/dead-letters/" (d.dead_letter_id) } { (when(&d.dead_at)) } }
                            td { (d.kind) }
                            td { (maybe(d.error_class.as_deref())) }
                            td.error { (short(&mask_phone_numbers(d.last_error.as_deref().unwrap_or("")), 90)) }
                            td.n { (d.attempts) }
                            td { @if let Some(call) = &d.call_sid { a href={ "/admin/calls/" (call) } { (short(call, 12)) } } }
                            td { span.badge.(d.status) { (d.status) } @if let Some(by) = &d.resolved_by { " " small { "by " (by) } } }
                        }
                    }
                }
            }
            (layout::empty(rows.len(), "No dead letters match."))
            @if session.operator() && status == "dead" && !rows.is_empty() {
                fieldset.actions {
                    legend { "Selected dead letters (or every one matching the filter)" }
                    label { input type="checkbox" name="matching" value="yes"; " every dead letter matching the filter" }
                    (reason("why (goes to the audit log)"))
                    label { input type="checkbox" name="dry_run" value="yes"; " dry run (count only)" }
                    label { "at most " input.small type="number" name="per_second" min="0" max="1000" value="0"; " per second (0: no limit)" }
                    button type="submit" name="verb" value="retry" { "Retry" }
                    button.danger type="submit" name="verb" value="discard" { "Discard" }
                    (confirm("I mean it (needed to discard)"))
                }
            }
        }
    };
    render(&state, &session, "/admin/dead-letters", "Dead letters", &body).await
}

pub(crate) async fn change_dead_letters(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let back = form
        .text("back")
        .filter(|b| b.starts_with("/admin/dead-letters") && safe_back(b) == b.as_str())
        .unwrap_or("/admin/dead-letters".into());
    let result = async {
        let ids: Vec<Uuid> = form
            .all("id")
            .iter()
            .map(|id| id.parse().map_err(|_| AdminError::Invalid(format!("{id:?} is not a dead letter id"))))
            .collect::<Result<_, _>>()?;
        let filter = if form.checked("matching") {
            let prefixed = form.prefixed("filter.");
            let get = |name: &str| prefixed.get(name).cloned().filter(|v| !v.is_empty());
            let filter = operations::dead_letters::Filter {
                kind: get("kind"),
                error_class: get("error_class"),
                call_sid: get("call_sid"),
                ..Default::default()
            };
            let everything = filter.kind.is_none() && filter.error_class.is_none() && filter.call_sid.is_none();
            if everything && !form.checked("dry_run") && !form.checked("confirm") {
                return Err(AdminError::Invalid(
                    "no filter is set, so this is every dead letter: tick the confirmation box, or filter first".into(),
                ));
            }
            filter
        } else if ids.is_empty() {
            return Err(AdminError::Invalid(
                "tick the dead letters to change, or \"every dead letter matching the filter\"".into(),
            ));
        } else {
            operations::dead_letters::Filter { ids, ..Default::default() }
        };
        let why = form.get("reason").unwrap_or_default();
        match form.get("verb") {
            Some("retry") => {
                let options = operations::dead_letters::RetryOptions {
                    dry_run: form.checked("dry_run"),
                    per_second: form.number("per_second", "per second")?.unwrap_or(0),
                };
                let outcome =
                    operations::dead_letters::retry(&state.pool, &session.actor, &filter, why, options, |_, _| {})
                        .await?;
                Ok(said(&outcome))
            }
            Some("discard") => {
                if form.checked("dry_run") {
                    return Err(AdminError::Invalid(
                        "a dry run counts retries only: untick it to discard (nothing was discarded)".into(),
                    ));
                }
                require_confirm(&form)?;
                Ok(said(&operations::dead_letters::discard(&state.pool, &session.actor, &filter, why).await?))
            }
            _ => Err(AdminError::Invalid("choose retry or discard".into())),
        }
    }
    .await;
    done(&state, &session, &back, result).await
}

pub(crate) async fn dead_letter(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return layout::error_page(StatusCode::NOT_FOUND, "No such dead letter: its id is a UUID.");
    };
    let detail = match operations::dead_letters::show(&state.pool, id).await {
        Ok(detail) => detail,
        Err(error) => return failed(error),
    };
    let d = &detail.summary;
    let here = format!("/admin/dead-letters/{id}");
    let body = html! {
        dl.facts {
            dt { "Status" } dd #status { span.badge.(d.status) { (d.status) } @if let Some(r) = &d.resolution { " " (r) } }
            dt { "Kind" } dd { (d.kind) }
            dt { "Dead since" } dd { (when(&d.dead_at)) }
            dt { "Attempts" } dd { (d.attempts) }
            dt { "Error class" } dd { (maybe(d.error_class.as_deref())) }
            dt { "Last error" } dd.error { (mask_phone_numbers(d.last_error.as_deref().unwrap_or("–"))) }
            dt { "Job" } dd { code { (maybe(d.job_key.as_deref())) } }
            dt { "Call" } dd { @if let Some(call) = &d.call_sid { a href={ "/admin/calls/" (call) } { (call) } } @else { "–" } }
            @if let Some(at) = &d.resolved_at { dt { "Resolved" } dd { (when(at)) " by " (maybe(d.resolved_by.as_deref())) } }
        }
        @if session.operator() && d.status == "dead" {
            form.inline method="post" action="/admin/dead-letters" {
                (csrf(&session))
                input type="hidden" name="id" value=(id);
                input type="hidden" name="back" value=(here);
                (reason("why (goes to the audit log)"))
                button #retry type="submit" name="verb" value="retry" { "Retry" }
                button.danger type="submit" name="verb" value="discard" { "Discard" }
                (confirm("I mean it (needed to discard)"))
            }
        }
        @if let Some(run) = &detail.run {
            h2 { "Workflow run" }
            @if let Some(run_id) = run.get("workflow_run_id").and_then(Value::as_str) {
                p { a href={ "/admin/workflows/" (run_id) } { "Open the run" } }
            }
            (json(run))
        }
        h2 { "Payload (phone numbers masked)" } (json(&detail.payload))
        h2 { "Headers" } (json(&detail.headers))
        @if !detail.history.is_empty() {
            h2 { "Earlier dead-letterings of this job" }
            ul { @for h in &detail.history { li { (when(&h.dead_at)) " · " (h.status) " · " (maybe(h.error_class.as_deref())) } } }
        }
    };
    render(&state, &session, "/admin/dead-letters", "Dead letter", &body).await
}
