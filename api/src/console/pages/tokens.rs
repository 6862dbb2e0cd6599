//! Admin tokens: the list, create and revoke.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use maud::html;
use operations::AdminError;
use uuid::Uuid;

use super::{done, internal, render, said};
use crate::AppState;
use crate::console::layout::{csrf, reason, when};
use crate::console::{FormData, Session};

pub(crate) async fn tokens(State(state): State<AppState>, Extension(session): Extension<Session>) -> Response {
    tokens_page(&state, &session, None).await
}

async fn tokens_page(state: &AppState, session: &Session, created: Option<&operations::tokens::Created>) -> Response {
    let all = match operations::tokens::list(&state.pool).await {
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

pub(crate) async fn change_tokens(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    match form.get("verb") {
        Some("create") => {
            let role = form.get("role").unwrap_or_default().parse::<operations::Role>().map_err(AdminError::Invalid);
            let name = form.get("name").unwrap_or_default();
            let created = match role {
                Ok(role) => operations::tokens::create(&state.pool, &session.actor, name, role).await,
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
                Ok(said(&operations::tokens::revoke(&state.pool, &session.actor, id, why).await?))
            }
            .await;
            done(&state, &session, "/admin/tokens", result).await
        }
        _ => done(&state, &session, "/admin/tokens", Err(AdminError::Invalid("choose create or revoke".into()))).await,
    }
}
