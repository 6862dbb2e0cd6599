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
    modifiers(&BearerToken, &Throttled),
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

/// Every operation may answer 429 to an address that presented too many refused tokens
/// (`api::throttle`): said once here rather than on every handler.
#[derive(Debug)]
struct Throttled;

impl Modify for Throttled {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let response = ResponseBuilder::new()
            .description("too many refused tokens from this address: try again after Retry-After seconds")
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build();
        for item in openapi.paths.paths.values_mut() {
            for operation in
                [&mut item.get, &mut item.post, &mut item.patch, &mut item.put, &mut item.delete].into_iter().flatten()
            {
                operation.responses.responses.insert("429".to_owned(), response.clone().into());
            }
        }
    }
}

/// `GET /admin/api/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
