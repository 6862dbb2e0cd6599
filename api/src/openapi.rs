//! The admin API's OpenAPI document, generated from the handlers' annotations and the types they
//! take and give (utoipa), served at `GET /admin/api/openapi.json`. `scripts/fuzz-admin-api` feeds
//! it to schemathesis against a running Bella.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{admin, ops};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Bella admin API",
        description = "Operators' verbs: queues, dead letters, workflows, appointments, calls, businesses, tokens and the audit log. \
            Every route needs `Authorization: Bearer <token>` (a token from `bella admin token create`, or ADMIN_TOKEN); \
            changes need an operator's token, take a `reason`, and are written to the audit log.",
    ),
    paths(
        ops::whoami, ops::queues, ops::pause, ops::resume, ops::drain,
        ops::dead_letters, ops::dead_letter, ops::retry_dead_letters, ops::discard_dead_letters, ops::purge_dead_letters,
        ops::workflows, ops::workflow, ops::resume_workflow, ops::cancel_workflow,
        admin::appointments, ops::appointment, ops::cancel_appointment, ops::timeline,
        ops::businesses, ops::business, ops::create_business, ops::edit_business,
        ops::tokens, ops::create_token, ops::revoke_token, ops::audit,
    ),
    modifiers(&BearerToken),
    security(("token" = [])),
)]
pub struct ApiDoc;

#[derive(Debug)]
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("an admin token")).build(),
            ),
        );
    }
}

/// `GET /admin/api/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
