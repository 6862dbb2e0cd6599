//! The queues page: depth, consumers and rates per job kind; pause, resume and drain.

use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use maud::html;
use operations::AdminError;

use super::{done, failed, ops, render, said, seconds};
use crate::AppState;
use crate::console::layout::{csrf, reason};
use crate::console::{FormData, Session};

pub(crate) async fn queues(State(state): State<AppState>, Extension(session): Extension<Session>) -> Response {
    let stats = match operations::queues::stats(&ops(&state)).await {
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

pub(crate) async fn change_queues(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let result = async {
        let names: Vec<String> = form.text("kind").into_iter().collect();
        let kinds = operations::queues::kinds(&names)?;
        let why = form.get("reason").unwrap_or_default();
        let ops = ops(&state);
        match form.get("verb") {
            Some("pause") => Ok(said(&operations::queues::pause(&ops, &session.actor, &kinds, why).await?)),
            Some("resume") => Ok(said(&operations::queues::resume(&ops, &session.actor, &kinds, why).await?)),
            Some("drain") => {
                let drained =
                    operations::queues::drain(&ops, &session.actor, &kinds, why, Duration::from_secs(20), |_| {})
                        .await?;
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
