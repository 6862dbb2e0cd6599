//! Workflow runs: the list, one run with its steps, resume and cancel.

use ::workflows::runs::RunStatus;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use maud::html;
use operations::mask_phone_numbers;
use serde_json::Value;
use uuid::Uuid;

use super::{Params, done, failed, kind_options, param, render, require_confirm, said};
use crate::AppState;
use crate::console::layout::{self, confirm, csrf, json, maybe, reason, short, when};
use crate::console::{FormData, Session};

pub(crate) async fn workflows(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    let mut dates = [None, None];
    for (slot, name) in dates.iter_mut().zip(["from", "to"]) {
        if let Some(raw) = param(&params, name) {
            match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
                Ok(date) => *slot = Some(date),
                Err(_) => return layout::error_page(StatusCode::BAD_REQUEST, &format!("{name} is a date: 2026-12-01")),
            }
        }
    }
    let filter = operations::workflows::Filter {
        status: param(&params, "status").map(str::to_owned),
        kind: param(&params, "kind").map(str::to_owned),
        business: None,
        call_sid: param(&params, "call_sid").map(str::to_owned),
        from: dates[0],
        to: dates[1],
    };
    workflows_page(&state, &session, &filter).await
}

async fn workflows_page(state: &AppState, session: &Session, filter: &operations::workflows::Filter) -> Response {
    let runs = match operations::workflows::list(&state.pool, filter, 200).await {
        Ok(runs) => runs,
        Err(error) => return failed(error),
    };
    let status = filter.status.as_deref().unwrap_or("");
    let body = html! {
        form.filters method="get" action="/admin/workflows" {
            select name="status" aria-label="Status" {
                option value="" { "any status" }
                @for s in RunStatus::ALL.map(RunStatus::as_str) { option value=(s) selected[status == s] { (s) } }
            }
            select name="kind" aria-label="Kind" { (kind_options(filter.kind.as_deref())) }
            input type="text" name="call_sid" placeholder="CallSid" value=[filter.call_sid.as_deref()];
            label { "from " input type="date" name="from" value=[filter.from.map(|d| d.to_string())]; }
            label { "to " input type="date" name="to" value=[filter.to.map(|d| d.to_string())]; }
            button type="submit" { "Filter" }
        }
        table #workflows {
            thead { tr { th { "Started" } th { "Kind" } th { "Status" } th.n { "Attempts" } th { "Error" } th { "Call" } } }
            tbody {
                @for run in &runs {
                    tr data-id=(run.workflow_run_id) {
                        td { a href={ "/admin/workflows/" (run.workflow_run_id) } { (when(&run.created_at)) } }
                        td { (run.kind) }
                        td { span.badge.(run.status) { (run.status) } }
                        td.n { (run.attempts) }
                        td.error { @if let Some(class) = &run.error_class { (class) " " } small { (short(&mask_phone_numbers(run.last_error.as_deref().unwrap_or("")), 70)) } }
                        td { @if let Some(call) = &run.call_sid { a href={ "/admin/calls/" (call) } { (short(call, 12)) } } }
                    }
                }
            }
        }
        (layout::empty(runs.len(), "No workflow runs match."))
    };
    render(state, session, "/admin/workflows", "Workflows", &body).await
}

/// The fields of a job an operator may correct before resuming, when the job has them.
const EDITABLE: [(&str, &str); 2] = [("name", "Caller's name"), ("phone", "Caller's phone (E.164; blank keeps it)")];

pub(crate) async fn workflow(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return layout::error_page(StatusCode::NOT_FOUND, "No such workflow run: its id is a UUID.");
    };
    let detail = match operations::workflows::show(&state.pool, id).await {
        Ok(detail) => detail,
        Err(error) => return failed(error),
    };
    let run = &detail.run;
    let status = run.status.parse::<RunStatus>().ok();
    let resumable = status.is_some_and(RunStatus::is_resumable);
    let body = html! {
        dl.facts {
            dt { "Status" } dd #status { span.badge.(run.status) { (run.status) } }
            dt { "Kind" } dd { (run.kind) }
            dt { "Job" } dd { code { (run.idempotency_key) } }
            dt { "Attempts" } dd { (run.attempts) }
            @if run.error_class.is_some() || run.last_error.is_some() {
                dt { "Last error" } dd.error { (maybe(run.error_class.as_deref())) " " (mask_phone_numbers(run.last_error.as_deref().unwrap_or(""))) }
            }
            dt { "Call" } dd { @if let Some(call) = &run.call_sid { a href={ "/admin/calls/" (call) } { (call) } } @else { "–" } }
            dt { "Started" } dd { (when(&run.created_at)) } dt { "Updated" } dd { (when(&run.updated_at)) }
        }
        @if session.operator() {
            @if resumable {
                h2 { "Resume from the failed step" }
                form.stacked #resume method="post" action={ "/admin/workflows/" (id) "/resume" } {
                    (csrf(&session))
                    @for (field, label) in EDITABLE {
                        @if let Some(current) = detail.input.get(field).and_then(Value::as_str) {
                            label { (label) }
                            @if field == "phone" {
                                input type="text" name={ "set." (field) } placeholder=(current);
                            } @else {
                                input type="text" name={ "set." (field) } value=(current);
                            }
                        }
                    }
                    label { "Reason" } (reason("why (goes to the audit log)"))
                    button type="submit" { "Resume" }
                }
                p.hint { "Steps that already succeeded are skipped: a booking whose text failed is resumed at its text." }
            }
            @if !matches!(status, Some(RunStatus::Completed | RunStatus::Cancelled)) {
                form.inline method="post" action={ "/admin/workflows/" (id) "/cancel" } {
                    (csrf(&session))
                    (reason("why cancel"))
                    button.danger type="submit" { "Cancel the run" }
                    (confirm("I mean it"))
                }
            }
        }
        h2 { "Steps" }
        table #steps {
            thead { tr { th.n { "#" } th { "Step" } th { "Status" } th.n { "Attempts" } th { "Error" } th { "Started" } th { "Finished" } } }
            tbody { @for step in &detail.steps {
                tr data-step=(step.step) {
                    td.n { (step.position) } td { (step.step) } td { span.badge.(step.status) { (step.status) } }
                    td.n { (step.attempts) }
                    td.error { @if let Some(class) = &step.error_class { (class) " " } small { (short(&mask_phone_numbers(step.last_error.as_deref().unwrap_or("")), 80)) } }
                    td { (when(&step.started_at)) } td { @if let Some(at) = &step.finished_at { (when(at)) } }
                }
            } }
        }
        (layout::empty(detail.steps.len(), "No step has run yet."))
        h2 { "Job (phone numbers masked)" } (json(&detail.input))
        @if let Some(output) = &detail.output { h2 { "Result" } (json(output)) }
        @if !detail.dead_letters.is_empty() {
            h2 { "Dead letters" }
            ul { @for d in &detail.dead_letters {
                li { a href={ "/admin/dead-letters/" (d.dead_letter_id) } { (when(&d.dead_at)) } " · " (d.status) " · " (maybe(d.error_class.as_deref())) }
            } }
        }
        @if !detail.texts.is_empty() { h2 { "Texts" } (json(&Value::Array(detail.texts.clone()))) }
    };
    render(&state, &session, "/admin/workflows", "Workflow run", &body).await
}

pub(crate) async fn resume_workflow(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let back = format!("/admin/workflows/{id}");
    let result = async {
        let current = operations::workflows::show(&state.pool, id).await?.input;
        // Only the fields changed: the form shows the current name, and a blank phone keeps it.
        let set = form
            .prefixed("set.")
            .into_iter()
            .map(|(field, value)| (field, value.trim().to_owned()))
            .filter(|(field, value)| !value.is_empty() && current.get(field).and_then(Value::as_str) != Some(value))
            .collect();
        let why = form.get("reason").unwrap_or_default();
        Ok(said(&operations::workflows::resume(&state.pool, &session.actor, id, &set, why).await?))
    }
    .await;
    done(&state, &session, &back, result).await
}

pub(crate) async fn cancel_workflow(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let result = async {
        require_confirm(&form)?;
        let why = form.get("reason").unwrap_or_default();
        Ok(said(&operations::workflows::cancel(&state.pool, &session.actor, id, why).await?))
    }
    .await;
    done(&state, &session, &format!("/admin/workflows/{id}"), result).await
}
