//! The operator verbs of [`operations`] as JSON under `/admin/api`, one file per group, behind
//! a bearer token ([`access`]). Reads need any token; changes need an operator's (a viewer gets
//! 403). Every change takes a `reason` and answers with what it did and the audit entry it wrote.
//!
//! The refusals every operation shares (400, 401, 429, and 403 for a change) are documented once,
//! in [`crate::openapi`]; a handler's annotation lists only what is its own.

pub mod access;
pub mod appointments;
pub mod audit;
pub mod businesses;
pub mod calls;
pub mod dead_letters;
pub mod queues;
pub mod tokens;
pub mod workflows;

use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use operations::Ops;
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;

/// The operator verbs' handles for this request.
fn ops(state: &AppState) -> Ops {
    Ops::new(&state.services, state.config.namespace.clone())
}

/// A handler's answer: JSON, or an error in the API's one shape.
type Reply<T> = Result<Json<T>, ApiError>;

/// A change that needs only a reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why (written to the audit log).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// The routes under `/admin/api`, with the token check, the NUL refusal and the one error shape.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/admin/api/whoami", get(access::whoami))
        .route("/admin/api/appointments", get(appointments::appointments))
        .route("/admin/api/appointments/{id}", get(appointments::appointment))
        .route("/admin/api/appointments/{id}/cancel", post(appointments::cancel_appointment))
        .route("/admin/api/calls/{call_sid}/timeline", get(calls::timeline))
        .route("/admin/api/queues", get(queues::queues))
        .route("/admin/api/queues/pause", post(queues::pause))
        .route("/admin/api/queues/resume", post(queues::resume))
        .route("/admin/api/queues/drain", post(queues::drain))
        .route("/admin/api/dead-letters", get(dead_letters::dead_letters))
        .route("/admin/api/dead-letters/retry", post(dead_letters::retry_dead_letters))
        .route("/admin/api/dead-letters/discard", post(dead_letters::discard_dead_letters))
        .route("/admin/api/dead-letters/purge", post(dead_letters::purge_dead_letters))
        .route("/admin/api/dead-letters/{id}", get(dead_letters::dead_letter))
        .route("/admin/api/workflows", get(workflows::workflows))
        .route("/admin/api/workflows/{id}", get(workflows::workflow))
        .route("/admin/api/workflows/{id}/resume", post(workflows::resume_workflow))
        .route("/admin/api/workflows/{id}/cancel", post(workflows::cancel_workflow))
        .route("/admin/api/audit", get(audit::audit))
        .route("/admin/api/tokens", get(tokens::tokens).post(tokens::create_token))
        .route("/admin/api/tokens/{id}/revoke", post(tokens::revoke_token))
        .route("/admin/api/openapi.json", get(crate::openapi::document))
        .route("/admin/api/businesses", get(businesses::businesses).post(businesses::create_business))
        .route("/admin/api/businesses/{id}", get(businesses::business).patch(businesses::edit_business))
        .route_layer(middleware::from_fn_with_state(state, access::require_token))
        .layer(middleware::from_fn(access::refuse_nul))
        .layer(middleware::from_fn(access::json_errors))
}
