//! The console's pages. Each reads through [`adapters::admin`] and renders; each change calls the
//! same verb as `bella admin …` and `/admin/api/…`, then redirects back with what it did.

use std::collections::HashMap;
use std::time::Duration;

use adapters::admin::{self, AdminError, Ops, Outcome, mask_phone_numbers};
use adapters::postgres::appointments;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde_json::Value;
use uuid::Uuid;
use workflows::jobs::JobKind;

use super::layout::{self, confirm, csrf, json, maybe, reason, short, when};
use super::{Flash, FormData, Session, set_flash, take_flash};
use crate::AppState;

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

// ---------------------------------------------------------------------------------------------
// Queues

pub async fn queues(State(state): State<AppState>, Extension(session): Extension<Session>) -> Response {
    let stats = match admin::queues::stats(&ops(&state)).await {
        Ok(stats) => stats,
        Err(error) => return failed(error),
    };
    let body = html! {
        table #queues {
            thead { tr {
                th { "Kind" } th { "State" } th.n { "Ready" } th.n { "In flight" } th.n { "Retrying" }
                th.n { "Dead" } th.n { "Consumers" } th { "Oldest" } th.n { "Done/min" } th.n { "Failed/min" }
                @if session.operator() { th { "Change" } }
            } }
            tbody {
                @for q in &stats {
                    tr data-kind=(q.kind) {
                        td { (q.kind) }
                        td {
                            @if q.paused {
                                span.badge.paused { "paused" }
                                @if let Some(why) = &q.pause_reason { " " small { (why) } }
                            } @else { span.badge.running { "consuming" } }
                        }
                        td.n { (q.ready) } td.n { (q.unacked) } td.n { (q.retrying) }
                        td.n { a href={ "/admin/dead-letters?kind=" (q.kind) } { (q.dead) } }
                        td.n { (q.consumers) } td { (seconds(q.oldest_seconds)) }
                        td.n { (format!("{:.1}", q.completed_per_minute)) } td.n { (format!("{:.1}", q.failed_per_minute)) }
                        @if session.operator() {
                            td { form.inline method="post" action="/admin/queues" {
                                (csrf(&session))
                                input type="hidden" name="kind" value=(q.kind);
                                (reason("reason"))
                                @if q.paused {
                                    button type="submit" name="verb" value="resume" { "Resume" }
                                } @else {
                                    button type="submit" name="verb" value="pause" { "Pause" }
                                    button type="submit" name="verb" value="drain" { "Drain" }
                                }
                            } }
                        }
                    }
                }
            }
        }
        @if session.operator() {
            h2 { "Every kind" }
            form.inline #all-queues method="post" action="/admin/queues" {
                (csrf(&session))
                (reason("why (goes to the audit log)"))
                button type="submit" name="verb" value="pause" { "Pause all" }
                button type="submit" name="verb" value="drain" { "Drain all" }
                button type="submit" name="verb" value="resume" { "Resume all" }
            }
            p.hint {
                "Drain pauses the kinds, waits up to 20 s for the jobs in flight to finish, and reports what is left. "
                "Paused kinds stay paused across restarts until resumed."
            }
        }
    };
    render(&state, &session, "/admin/queues", "Queues", &body).await
}

pub async fn change_queues(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let result = async {
        let names: Vec<String> = form.text("kind").into_iter().collect();
        let kinds = admin::queues::kinds(&names)?;
        let why = form.get("reason").unwrap_or_default();
        let ops = ops(&state);
        match form.get("verb") {
            Some("pause") => Ok(said(&admin::queues::pause(&ops, &session.actor, &kinds, why).await?)),
            Some("resume") => Ok(said(&admin::queues::resume(&ops, &session.actor, &kinds, why).await?)),
            Some("drain") => {
                let drained =
                    admin::queues::drain(&ops, &session.actor, &kinds, why, Duration::from_secs(20), |_| {}).await?;
                let ready: u64 = drained.left.iter().map(|q| q.ready).sum();
                let state = if drained.complete {
                    "drained: nothing in flight".to_owned()
                } else {
                    format!("still {} in flight after 20 s", drained.in_flight)
                };
                Ok(format!("{state}; {ready} waiting in the queue (audit #{})", drained.outcome.audit_id))
            }
            _ => Err(AdminError::Invalid("choose pause, resume or drain".into())),
        }
    }
    .await;
    done(&state, &session, "/admin/queues", result).await
}

// ---------------------------------------------------------------------------------------------
// Dead letters

fn dead_filter(params: &HashMap<String, String>) -> admin::dead_letters::Filter {
    admin::dead_letters::Filter {
        kind: param(params, "kind").map(str::to_owned),
        error_class: param(params, "error_class").map(str::to_owned),
        call_sid: param(params, "call_sid").map(str::to_owned),
        status: Some(param(params, "status").unwrap_or("dead").to_owned()),
        ..Default::default()
    }
}

pub async fn dead_letters(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    let filter = dead_filter(&params);
    let rows = match admin::dead_letters::list(&state.pool, &filter, 200).await {
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

pub async fn change_dead_letters(
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
            let filter = admin::dead_letters::Filter {
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
            admin::dead_letters::Filter { ids, ..Default::default() }
        };
        let why = form.get("reason").unwrap_or_default();
        match form.get("verb") {
            Some("retry") => {
                let options = admin::dead_letters::RetryOptions {
                    dry_run: form.checked("dry_run"),
                    per_second: form.number("per_second", "per second")?.unwrap_or(0),
                };
                let outcome =
                    admin::dead_letters::retry(&state.pool, &session.actor, &filter, why, options, |_, _| {}).await?;
                Ok(said(&outcome))
            }
            Some("discard") => {
                if form.checked("dry_run") {
                    return Err(AdminError::Invalid(
                        "a dry run counts retries only: untick it to discard (nothing was discarded)".into(),
                    ));
                }
                require_confirm(&form)?;
                Ok(said(&admin::dead_letters::discard(&state.pool, &session.actor, &filter, why).await?))
            }
            _ => Err(AdminError::Invalid("choose retry or discard".into())),
        }
    }
    .await;
    done(&state, &session, &back, result).await
}

pub async fn dead_letter(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return layout::error_page(StatusCode::NOT_FOUND, "No such dead letter: its id is a UUID.");
    };
    let detail = match admin::dead_letters::show(&state.pool, id).await {
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

// ---------------------------------------------------------------------------------------------
// Workflows

pub async fn workflows(
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
    let filter = admin::workflows::Filter {
        status: param(&params, "status").map(str::to_owned),
        kind: param(&params, "kind").map(str::to_owned),
        business: None,
        call_sid: param(&params, "call_sid").map(str::to_owned),
        from: dates[0],
        to: dates[1],
    };
    workflows_page(&state, &session, &filter).await
}

async fn workflows_page(state: &AppState, session: &Session, filter: &admin::workflows::Filter) -> Response {
    let runs = match admin::workflows::list(&state.pool, filter, 200).await {
        Ok(runs) => runs,
        Err(error) => return failed(error),
    };
    let status = filter.status.as_deref().unwrap_or("");
    let body = html! {
        form.filters method="get" action="/admin/workflows" {
            select name="status" aria-label="Status" {
                option value="" { "any status" }
                @for s in ["running", "retrying", "completed", "failed", "dead_lettered", "cancelled", "expired"] { option value=(s) selected[status == s] { (s) } }
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

pub async fn workflow(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return layout::error_page(StatusCode::NOT_FOUND, "No such workflow run: its id is a UUID.");
    };
    let detail = match admin::workflows::show(&state.pool, id).await {
        Ok(detail) => detail,
        Err(error) => return failed(error),
    };
    let run = &detail.run;
    let resumable = matches!(run.status.as_str(), "failed" | "dead_lettered" | "cancelled" | "expired");
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
            @if !matches!(run.status.as_str(), "completed" | "cancelled") {
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

pub async fn resume_workflow(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let back = format!("/admin/workflows/{id}");
    let result = async {
        let current = admin::workflows::show(&state.pool, id).await?.input;
        // Only the fields changed: the form shows the current name, and a blank phone keeps it.
        let set = form
            .prefixed("set.")
            .into_iter()
            .map(|(field, value)| (field, value.trim().to_owned()))
            .filter(|(field, value)| !value.is_empty() && current.get(field).and_then(Value::as_str) != Some(value))
            .collect();
        let why = form.get("reason").unwrap_or_default();
        Ok(said(&admin::workflows::resume(&state.pool, &session.actor, id, &set, why).await?))
    }
    .await;
    done(&state, &session, &back, result).await
}

pub async fn cancel_workflow(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let result = async {
        require_confirm(&form)?;
        let why = form.get("reason").unwrap_or_default();
        Ok(said(&admin::workflows::cancel(&state.pool, &session.actor, id, why).await?))
    }
    .await;
    done(&state, &session, &format!("/admin/workflows/{id}"), result).await
}

// ---------------------------------------------------------------------------------------------
// Appointments and calls

fn local(at: DateTime<Utc>, zone: &str) -> String {
    match zone.parse::<Tz>() {
        Ok(tz) => at.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z").to_string(),
        Err(_) => when(&at),
    }
}

pub async fn appointments(
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
                    td { (a.name) }
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

pub async fn appointment(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let detail = match admin::calls::appointment(&state.pool, &id).await {
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

pub async fn cancel_appointment(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let result = async {
        require_confirm(&form)?;
        let why = form.get("reason").unwrap_or_default();
        Ok(said(&admin::calls::cancel_appointment(&state.pool, &session.actor, &id, why).await?))
    }
    .await;
    done(&state, &session, &format!("/admin/appointments/{id}"), result).await
}

pub async fn calls(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    if let Some(sid) = param(&params, "call_sid") {
        let target: String = url::form_urlencoded::byte_serialize(sid.as_bytes()).collect();
        return Redirect::to(&format!("/admin/calls/{target}")).into_response();
    }
    let recent: Result<Vec<(String, DateTime<Utc>, i64)>, sqlx::Error> = sqlx::query_as(
        "select call_sid, max(at) as last, count(*) from call_turns
          group by call_sid order by last desc limit 100",
    )
    .fetch_all(&state.pool)
    .await;
    let recent = match recent {
        Ok(recent) => recent,
        Err(error) => return internal(&error.into()),
    };
    let body = html! {
        form.filters method="get" action="/admin/calls" {
            input type="text" name="call_sid" placeholder="CallSid (CA…)" required;
            button type="submit" { "Open the timeline" }
        }
        h2 { "Recent calls" }
        table #calls {
            thead { tr { th { "Call" } th { "Last turn" } th.n { "Turns" } } }
            tbody { @for (call, last, turns) in &recent {
                tr { td { a href={ "/admin/calls/" (call) } { (call) } } td { (when(last)) } td.n { (turns) } }
            } }
        }
        (layout::empty(recent.len(), "No calls yet."))
    };
    render(&state, &session, "/admin/calls", "Calls", &body).await
}

pub async fn call(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(sid): Path<String>,
) -> Response {
    let events = match admin::calls::timeline(&state.pool, &sid).await {
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

// ---------------------------------------------------------------------------------------------
// Businesses

pub async fn businesses(State(state): State<AppState>, Extension(session): Extension<Session>) -> Response {
    let all = match admin::businesses::list(&state.pool).await {
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

fn business_form(session: &Session, action: &str, b: Option<&admin::businesses::BusinessView>) -> Markup {
    let v = |f: fn(&admin::businesses::BusinessView) -> String| b.map(f).unwrap_or_default();
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

/// The form's fields as [`admin::businesses::Changes`]: every field is sent, so all are set.
fn business_changes(form: &FormData) -> Result<admin::businesses::Changes, AdminError> {
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
    Ok(admin::businesses::Changes {
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

pub async fn new_business(State(state): State<AppState>, Extension(session): Extension<Session>) -> Response {
    let body = business_form(&session, "/admin/businesses", None);
    render(&state, &session, "/admin/businesses", "New business", &body).await
}

pub async fn create_business(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let result = async {
        let changes = business_changes(&form)?;
        let why = form.get("reason").unwrap_or_default();
        admin::businesses::create(&state.pool, &session.actor, &changes, why).await
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

pub async fn business(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let business = match admin::businesses::find(&state.pool, &id).await {
        Ok(business) => admin::businesses::BusinessView::from(&business),
        Err(error) => return failed(error),
    };
    let body = business_form(&session, &format!("/admin/businesses/{}", business.id), Some(&business));
    render(&state, &session, "/admin/businesses", &business.name, &body).await
}

pub async fn edit_business(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body).edited();
    let result = async {
        let changes = business_changes(&form)?;
        let why = form.get("reason").unwrap_or_default();
        let saved = admin::businesses::edit(&state.pool, &session.actor, &id, &changes, why).await?;
        state.businesses.invalidate();
        Ok(said(&saved.outcome))
    }
    .await;
    done(&state, &session, &format!("/admin/businesses/{id}"), result).await
}

// ---------------------------------------------------------------------------------------------
// Tokens and audit

pub async fn tokens(State(state): State<AppState>, Extension(session): Extension<Session>) -> Response {
    tokens_page(&state, &session, None).await
}

async fn tokens_page(state: &AppState, session: &Session, created: Option<&admin::tokens::Created>) -> Response {
    let all = match admin::tokens::list(&state.pool).await {
        Ok(all) => all,
        Err(error) => return internal(&error.into()),
    };
    let body = html! {
        @if let Some(created) = created {
            div.flash.ok #new-token {
                p { "Token for " strong { (created.name) } " (" (created.role.as_str()) "). Copy it now: it is not shown again." }
                pre { (created.token) }
            }
        }
        table #tokens {
            thead { tr { th { "Name" } th { "Role" } th { "Created" } th { "By" } th { "Last used" } th { "State" } @if session.operator() { th { } } } }
            tbody { @for t in &all {
                tr {
                    td { (t.name) } td { (t.role) } td { (when(&t.created_at)) } td { (t.created_by) }
                    td { @if let Some(at) = &t.last_used_at { (when(at)) } @else { "never" } }
                    td { @if let Some(at) = &t.revoked_at { "revoked " (when(at)) } @else { "live" } }
                    @if session.operator() { td { @if t.revoked_at.is_none() {
                        form.inline method="post" action="/admin/tokens" {
                            (csrf(session))
                            input type="hidden" name="id" value=(t.admin_token_id);
                            (reason("why revoke"))
                            button.danger type="submit" name="verb" value="revoke" { "Revoke" }
                        }
                    } } }
                }
            } }
        }
        p.hint { "The ADMIN_TOKEN of the environment is not listed: it is an operator as long as it is set." }
        @if session.operator() {
            h2 { "New token" }
            form.inline method="post" action="/admin/tokens" {
                (csrf(session))
                input type="text" name="name" required placeholder="who holds it" aria-label="Name";
                select name="role" aria-label="Role" { option value="viewer" { "viewer" } option value="operator" { "operator" } }
                button type="submit" name="verb" value="create" { "Create" }
            }
        }
    };
    render(state, session, "/admin/tokens", "Tokens", &body).await
}

pub async fn change_tokens(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    match form.get("verb") {
        Some("create") => {
            let role = form.get("role").unwrap_or_default().parse::<admin::Role>().map_err(AdminError::Invalid);
            let name = form.get("name").unwrap_or_default();
            let created = match role {
                Ok(role) => admin::tokens::create(&state.pool, &session.actor, name, role).await,
                Err(error) => Err(error),
            };
            match created {
                // Shown on this page, once: never kept for a later page.
                Ok(created) => tokens_page(&state, &session, Some(&created)).await,
                Err(error) => done(&state, &session, "/admin/tokens", Err(error)).await,
            }
        }
        Some("revoke") => {
            let result = async {
                let id = form
                    .get("id")
                    .and_then(|id| id.parse::<Uuid>().ok())
                    .ok_or_else(|| AdminError::Invalid("which token? (id missing)".into()))?;
                let why = form.get("reason").unwrap_or_default();
                Ok(said(&admin::tokens::revoke(&state.pool, &session.actor, id, why).await?))
            }
            .await;
            done(&state, &session, "/admin/tokens", result).await
        }
        _ => done(&state, &session, "/admin/tokens", Err(AdminError::Invalid("choose create or revoke".into()))).await,
    }
}

pub async fn audit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    let filter = admin::audit::Filter {
        actor: param(&params, "actor").map(str::to_owned),
        action: param(&params, "action").map(str::to_owned),
        since: None,
        limit: 200,
    };
    let rows = match admin::audit::list(&state.pool, &filter).await {
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
