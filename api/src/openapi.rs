//! The admin API's OpenAPI document, generated from the handlers' annotations and the types they
//! take and give (utoipa), served at `GET /admin/api/openapi.json`. `scripts/fuzz-admin-api` feeds
//! it to schemathesis against a running Bella.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::admin::{access, appointments, audit, businesses, calls, dead_letters, queues, tokens, workflows};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Bella admin API",
        description = "Operators' verbs: queues, dead letters, workflows, appointments, calls, businesses, tokens and the audit log. \
            Every route needs `Authorization: Bearer <token>` (a token from `bella admin token create`, or ADMIN_TOKEN); \
            changes need an operator's token, take a `reason`, and are written to the audit log.",
    ),
    paths(
        access::whoami, queues::queues, queues::pause, queues::resume, queues::drain,
        dead_letters::dead_letters, dead_letters::dead_letter, dead_letters::retry_dead_letters,
        dead_letters::discard_dead_letters, dead_letters::purge_dead_letters,
        workflows::workflows, workflows::workflow, workflows::resume_workflow, workflows::cancel_workflow,
        appointments::appointments, appointments::appointment, appointments::cancel_appointment, calls::timeline,
        businesses::businesses, businesses::business, businesses::create_business, businesses::edit_business,
        tokens::tokens, tokens::create_token, tokens::revoke_token, audit::audit,
    ),
    modifiers(&BearerToken, &Refusals),
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

/// The refusals every operation shares, documented once here rather than on each handler: 400 (a
/// bad field or a malformed request, named in the message: `routes::admin::access::json_errors`),
/// 401 (no valid token), 429 (too many refused tokens from this address: `api::throttle`), and 403
/// for every change (a viewer's token, refused before any handler runs).
#[derive(Debug)]
struct Refusals;

impl Modify for Refusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, Response, ResponseBuilder};
        let error = |description: &str| -> Response {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build()
        };
        let every = [
            ("400", error("a bad field, named in the message")),
            ("401", error("no valid token")),
            ("429", error("too many refused tokens from this address: try again after Retry-After seconds")),
        ];
        let viewer = error("a viewer's token");
        for item in openapi.paths.paths.values_mut() {
            let reads = [&mut item.get].into_iter().flatten().map(|op| (op, false));
            let changes = [&mut item.post, &mut item.patch, &mut item.put, &mut item.delete]
                .into_iter()
                .flatten()
                .map(|op| (op, true));
            for (operation, change) in reads.chain(changes) {
                for (status, response) in &every {
                    operation.responses.responses.insert((*status).to_owned(), response.clone().into());
                }
                if change {
                    operation.responses.responses.insert("403".to_owned(), viewer.clone().into());
                }
            }
        }
    }
}

/// `GET /admin/api/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client reading the document learns every refusal it can meet, on every operation.
    #[test]
    fn every_operation_documents_the_shared_refusals() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut changes = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let responses = operation["responses"].as_object().unwrap();
                for status in ["400", "401", "429"] {
                    assert!(responses.contains_key(status), "{method} {path} does not document {status}");
                }
                if method != "get" {
                    changes += 1;
                    assert!(responses.contains_key("403"), "{method} {path} does not document a viewer's 403");
                }
            }
        }
        assert_eq!(changes, 13, "the admin API's changes");
    }
}
